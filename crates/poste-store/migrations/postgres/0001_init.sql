-- Initial schema, PostgreSQL flavour. Must stay equivalent to ../sqlite/0001_init.sql as seen
-- through sqlx's Any driver: BIGINT and TEXT only (no BOOLEAN), times in Unix ms.

CREATE TABLE postes (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    nom          TEXT   NOT NULL,
    ip           TEXT,
    mac          TEXT,
    version      TEXT,
    created_at   BIGINT NOT NULL,
    last_seen    BIGINT,
    hors_service BIGINT NOT NULL DEFAULT 0 CHECK (hors_service IN (0, 1))
);
CREATE UNIQUE INDEX postes_nom_lower ON postes (LOWER(nom));
CREATE INDEX postes_ip ON postes (ip);

CREATE TABLE sessions (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code          TEXT   NOT NULL UNIQUE,
    utilisateur   TEXT,
    poste_id      BIGINT REFERENCES postes (id),
    statut        TEXT   NOT NULL
        CHECK (statut IN ('en_attente', 'active', 'terminee', 'expiree', 'annulee')),
    initial_secs  BIGINT NOT NULL,
    added_secs    BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    valid_until   BIGINT NOT NULL,
    started_at    BIGINT,
    ended_at      BIGINT,
    end_reason    TEXT,
    warning_level BIGINT NOT NULL DEFAULT 0,
    created_by    TEXT   NOT NULL
);
CREATE INDEX sessions_statut ON sessions (statut);
CREATE INDEX sessions_created_at ON sessions (created_at);
CREATE INDEX sessions_poste_id ON sessions (poste_id);

CREATE TABLE api_tokens (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    nom        TEXT   NOT NULL,
    hash       TEXT   NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used  BIGINT,
    revoked_at BIGINT
);
-- One live token per name; revoked ones keep their name for the record.
CREATE UNIQUE INDEX api_tokens_live_nom ON api_tokens (nom) WHERE revoked_at IS NULL;

CREATE TABLE events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         BIGINT NOT NULL,
    kind       TEXT   NOT NULL,
    session_id BIGINT,
    poste_id   BIGINT,
    actor      TEXT   NOT NULL,
    detail     TEXT,
    origin     TEXT   NOT NULL
);
CREATE INDEX events_session_id ON events (session_id);
