-- SQLite has no NOTIFY: its single node polls its tokens (every 2 s). This
-- migration keeps the two trees' names equal.
SELECT 1;
