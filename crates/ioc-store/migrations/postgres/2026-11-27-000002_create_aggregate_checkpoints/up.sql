-- Checkpoints of the in-memory aggregates of `ioc serve`, so that a restart
-- loads them and replays the change log after them instead of reading every
-- dossier. One row per fingerprint of the counting rules (catalog, units,
-- calendar); a checkpoint of other rules is never used.
CREATE TABLE aggregate_checkpoints (
    fingerprint TEXT PRIMARY KEY,
    follower    TEXT NOT NULL, -- JSON: change-log position and seqs applied above it
    state       TEXT NOT NULL, -- JSON: the counters
    created_at  TIMESTAMP NOT NULL
);
