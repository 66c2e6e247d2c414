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

-- Append-only log of accepted changes of dossiers (source, code): the state
-- before (old_*, all null for a new dossier) and after (new_*). Other nodes and
-- live screens follow it by seq.
CREATE TABLE dossier_changes (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at        TIMESTAMP NOT NULL,
    source             TEXT NOT NULL,
    code               TEXT NOT NULL,
    old_unit_code      TEXT,
    old_procedure_code TEXT,
    old_channel        TEXT,
    old_status         SMALLINT,
    old_received_at    TIMESTAMP,
    old_due_at         TIMESTAMP,
    old_finished_at    TIMESTAMP,
    old_stopped_at     TIMESTAMP,
    old_fee_required   BOOLEAN,
    old_paid_online    BOOLEAN,
    old_e_result       BOOLEAN,
    old_updated_at     TIMESTAMP,
    new_unit_code      TEXT NOT NULL,
    new_procedure_code TEXT NOT NULL,
    new_channel        TEXT NOT NULL,
    new_status         SMALLINT NOT NULL,
    new_received_at    TIMESTAMP,
    new_due_at         TIMESTAMP,
    new_finished_at    TIMESTAMP,
    new_stopped_at     TIMESTAMP,
    new_fee_required   BOOLEAN NOT NULL,
    new_paid_online    BOOLEAN NOT NULL,
    new_e_result       BOOLEAN NOT NULL,
    new_updated_at     TIMESTAMP NOT NULL
);
-- Pruning by age goes by seq (recorded_at grows with seq), so no index on recorded_at.

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

-- Progress of `ioc import` runs, written in the transaction of each chunk, so
-- that an interrupted run resumes where its last committed chunk ended.
CREATE TABLE import_checkpoints (
    source       TEXT NOT NULL,
    file_key     TEXT NOT NULL, -- file name, size and a hash of its first bytes
    records      BIGINT NOT NULL, -- records consumed so far (applied or rejected)
    accepted     BIGINT NOT NULL,
    duplicates   BIGINT NOT NULL,
    stale        BIGINT NOT NULL,
    rejected     BIGINT NOT NULL,
    reject_bytes BIGINT NOT NULL, -- length of the reject file at this point
    finished     BOOLEAN NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (source, file_key)
);
