-- SQLite serves one node: nothing to notify. Kept so that both backends
-- carry the same migration names.
SELECT 1;
