-- matthan metadata schema, version 1.
-- Portable SQL: runs unchanged on SQLite (modernc.org/sqlite) and PostgreSQL.
-- Conventions: ids are TEXT; times are BIGINT Unix milliseconds UTC (NULL =
-- not set); booleans are INTEGER 0/1; lists are TEXT, comma-separated.

CREATE TABLE agencies (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    ict        INTEGER NOT NULL DEFAULT 0 CHECK (ict IN (0, 1)),
    functions  TEXT NOT NULL DEFAULT '',
    created_ms BIGINT NOT NULL
);
-- One ICT department (R-7.2).
CREATE UNIQUE INDEX agencies_one_ict ON agencies (ict) WHERE ict = 1;

CREATE TABLE systems (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    tier            INTEGER NOT NULL CHECK (tier IN (1, 2, 3)),
    managing_agency TEXT NOT NULL REFERENCES agencies (id),
    operating_unit  TEXT REFERENCES agencies (id),
    created_ms      BIGINT NOT NULL
);

CREATE TABLE cameras (
    id                 TEXT PRIMARY KEY,
    system_id          TEXT NOT NULL REFERENCES systems (id),
    name               TEXT NOT NULL,
    lat                DOUBLE PRECISION NOT NULL DEFAULT 0,
    lon                DOUBLE PRECISION NOT NULL DEFAULT 0,
    address            TEXT NOT NULL DEFAULT '',
    installed_ms       BIGINT,
    approval_ref       TEXT NOT NULL DEFAULT '',
    first_connected_ms BIGINT,
    is_public          INTEGER NOT NULL DEFAULT 0 CHECK (is_public IN (0, 1)),
    state_secret       INTEGER NOT NULL DEFAULT 0 CHECK (state_secret IN (0, 1)),
    purposes           TEXT NOT NULL DEFAULT '',
    -- AES-256-GCM sealed stream URL and credentials (R-5.1), '' = none.
    secret_enc         TEXT NOT NULL DEFAULT '',
    created_ms         BIGINT NOT NULL,
    updated_ms         BIGINT NOT NULL,
    -- A state-secret camera is never public (R-1.1).
    CHECK (NOT (is_public = 1 AND state_secret = 1))
);
CREATE INDEX cameras_system ON cameras (system_id);

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    agency_id           TEXT NOT NULL REFERENCES agencies (id),
    username            TEXT NOT NULL UNIQUE,
    display_name        TEXT NOT NULL DEFAULT '',
    role                TEXT NOT NULL CHECK (role IN ('ict_admin', 'system_admin', 'operator', 'viewer', 'auditor')),
    password_hash       TEXT NOT NULL,
    failed_attempts     INTEGER NOT NULL DEFAULT 0,
    locked_until_ms     BIGINT,
    password_changed_ms BIGINT NOT NULL,
    must_change         INTEGER NOT NULL DEFAULT 0 CHECK (must_change IN (0, 1)),
    last_login_ms       BIGINT,
    disabled            INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_ms          BIGINT NOT NULL
);
CREATE INDEX users_agency ON users (agency_id);

CREATE TABLE grants (
    id               TEXT PRIMARY KEY,
    agency_id        TEXT NOT NULL REFERENCES agencies (id),
    camera_id        TEXT REFERENCES cameras (id),
    system_id        TEXT REFERENCES systems (id),
    capabilities     TEXT NOT NULL,
    purpose          TEXT NOT NULL,
    purpose_text     TEXT NOT NULL DEFAULT '',
    approval_ref     TEXT NOT NULL DEFAULT '',
    approval_date_ms BIGINT,
    expires_ms       BIGINT NOT NULL,
    revoked_ms       BIGINT,
    created_by       TEXT NOT NULL DEFAULT '',
    created_ms       BIGINT NOT NULL,
    -- Exactly one of camera and system.
    CHECK ((camera_id IS NULL) <> (system_id IS NULL))
);
CREATE INDEX grants_agency ON grants (agency_id);

CREATE TABLE incidents (
    id          TEXT PRIMARY KEY,
    camera_id   TEXT NOT NULL REFERENCES cameras (id),
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL CHECK (source IN ('auto', 'user')),
    reported_by TEXT NOT NULL DEFAULT '',
    opened_ms   BIGINT NOT NULL,
    deadline_ms BIGINT NOT NULL,
    closed_ms   BIGINT,
    resolution  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX incidents_camera ON incidents (camera_id, opened_ms);

CREATE TABLE sessions (
    -- SHA-256 of the bearer token, hex: the token itself is never stored.
    token_hash   TEXT PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (id),
    created_ms   BIGINT NOT NULL,
    expires_ms   BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    client       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

-- The audit log (api/audit): insert only, hash-chained.
CREATE TABLE audit_entries (
    seq          BIGINT PRIMARY KEY,
    at_ms        BIGINT NOT NULL,
    actor_user   TEXT NOT NULL,
    actor_name   TEXT NOT NULL,
    actor_agency TEXT NOT NULL,
    client       TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    requester    TEXT NOT NULL,
    action       TEXT NOT NULL,
    object       TEXT NOT NULL,
    before_json  TEXT NOT NULL,
    after_json   TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE INDEX audit_entries_actor ON audit_entries (actor_user, seq);
CREATE INDEX audit_entries_action ON audit_entries (action, seq);
CREATE INDEX audit_entries_object ON audit_entries (object, seq);
CREATE INDEX audit_entries_time ON audit_entries (at_ms);

-- The chain head: last sequence number and hash. One row.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
