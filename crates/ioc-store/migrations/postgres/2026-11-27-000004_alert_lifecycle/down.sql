DROP INDEX dossiers_open_due;
DROP TABLE source_activity;
DROP TABLE alert_events;
DROP TABLE alerts;
CREATE TABLE alerts (
    id              BIGSERIAL PRIMARY KEY,
    rule            TEXT NOT NULL,
    unit_code       TEXT NOT NULL,
    dossier_id      BIGINT,
    severity        TEXT NOT NULL,
    active          BOOLEAN NOT NULL,
    details         TEXT NOT NULL,
    raised_at       TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    cleared_at      TIMESTAMP,
    acknowledged_by TEXT,
    acknowledged_at TIMESTAMP,
    ack_note        TEXT
);
CREATE UNIQUE INDEX alerts_one_active
    ON alerts (rule, unit_code, COALESCE(dossier_id, 0)) WHERE active;
