-- Reference data: the unit tree and the procedure catalog.
CREATE TABLE units (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL,
    parent_code TEXT REFERENCES units (code),
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX units_parent_code ON units (parent_code);

-- Earlier names of a unit, valid on local days [valid_from, valid_to).
CREATE TABLE unit_names (
    unit_code  TEXT NOT NULL REFERENCES units (code) ON DELETE CASCADE,
    valid_to   DATE NOT NULL,
    valid_from DATE,
    name       TEXT NOT NULL,
    PRIMARY KEY (unit_code, valid_to)
);

-- Codes of a unit in other systems (dvcqg, ma_dinh_danh, local).
CREATE TABLE unit_aliases (
    system    TEXT NOT NULL,
    alias     TEXT NOT NULL,
    unit_code TEXT NOT NULL REFERENCES units (code) ON DELETE CASCADE,
    PRIMARY KEY (system, alias)
);
CREATE INDEX unit_aliases_unit_code ON unit_aliases (unit_code);

CREATE TABLE procedures (
    code         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    field        TEXT NOT NULL,
    online_level TEXT NOT NULL CHECK (online_level IN ('none', 'partial', 'full')),
    levels       TEXT NOT NULL, -- unit levels that offer it, separated by ';'
    fee          BOOLEAN NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);

-- Current state of each dossier, keyed by (source, code). Times are UTC.
CREATE TABLE dossiers (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    source         TEXT NOT NULL,
    code           TEXT NOT NULL,
    unit_code      TEXT NOT NULL,
    procedure_code TEXT NOT NULL,
    channel        TEXT NOT NULL CHECK (channel IN ('direct', 'online', 'postal')),
    status         SMALLINT NOT NULL CHECK (status BETWEEN 1 AND 10),
    received_at    TIMESTAMP,
    due_at         TIMESTAMP,
    finished_at    TIMESTAMP,
    stopped_at     TIMESTAMP, -- when it entered status 7 or 8
    fee_required   BOOLEAN NOT NULL,
    paid_online    BOOLEAN NOT NULL,
    e_result       BOOLEAN NOT NULL,
    updated_at     TIMESTAMP NOT NULL, -- the source's time of this version
    UNIQUE (source, code)
);
CREATE INDEX dossiers_unit_code ON dossiers (unit_code);

-- Append-only log of accepted changes, old and new state as JSON.
CREATE TABLE dossier_changes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    dossier_id  BIGINT NOT NULL REFERENCES dossiers (id),
    old_state   TEXT,
    new_state   TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX dossier_changes_recorded_at ON dossier_changes (recorded_at);

-- Operator alerts with their lifecycle.
CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
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
-- One active alert per (rule, unit, dossier).
CREATE UNIQUE INDEX alerts_one_active
    ON alerts (rule, unit_code, COALESCE(dossier_id, 0)) WHERE active;

-- Bearer tokens; only the SHA-256 of a token is stored.
CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL CHECK (role IN ('ingest', 'viewer', 'operator', 'admin')),
    source     TEXT,
    units      TEXT NOT NULL DEFAULT '', -- unit subtrees it may write, separated by ','
    label      TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
