-- Alerts as the alerting service uses them: keyed by (rule, unit, source,
-- dossier code), since a dossier is known by (source, code); no alert was
-- written before this migration, so the table is replaced.
DROP TABLE alerts;
CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    rule            TEXT NOT NULL,
    unit_code       TEXT NOT NULL,
    source          TEXT NOT NULL DEFAULT '', -- source rules and dossier rules
    dossier_code    TEXT NOT NULL DEFAULT '', -- dossier rules
    severity        TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    active          BOOLEAN NOT NULL,
    details         TEXT NOT NULL, -- JSON: the values that raised it, as last seen
    raised_at       TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    cleared_at      TIMESTAMP,
    acknowledged_by TEXT,
    acknowledged_at TIMESTAMP,
    ack_note        TEXT
);
-- One active alert per (rule, unit, source, dossier): a condition that
-- persists updates its alert, never duplicates it.
CREATE UNIQUE INDEX alerts_one_active
    ON alerts (rule, unit_code, source, dossier_code) WHERE active;
CREATE INDEX alerts_unit_code ON alerts (unit_code);

-- Every transition of every alert, in order: who did what when. Nodes follow
-- it by seq to push alert events; webhooks use the seq as idempotency key.
CREATE TABLE alert_events (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id BIGINT NOT NULL REFERENCES alerts (id),
    kind     TEXT NOT NULL CHECK (kind IN ('raise', 'update', 'ack', 'clear')),
    at       TIMESTAMP NOT NULL,
    actor    TEXT NOT NULL, -- 'ioc' for automatic transitions, else the token's label
    severity TEXT NOT NULL,
    note     TEXT
);
CREATE INDEX alert_events_alert_id ON alert_events (alert_id);

-- When each source last had a change accepted, kept by the alerting service
-- (not by ingest, so that ingest takes no extra lock), for the silent-source
-- rule across restarts.
CREATE TABLE source_activity (
    source       TEXT PRIMARY KEY,
    last_seen_at TIMESTAMP NOT NULL
);

-- The overdue sweep reads pending dossiers with a due time; few of all.
CREATE INDEX dossiers_open_due ON dossiers (due_at)
    WHERE finished_at IS NULL AND stopped_at IS NULL AND due_at IS NOT NULL;
