-- The console's register, SQLite flavour. Must stay equivalent to ../postgres/0004_register.sql
-- as seen through sqlx's Any driver: visitor categories with their time rules, the visitors,
-- the visitor a session was made for, workstation locations and retirement, the address of
-- whoever caused an event, and the settings staff edit from the console.

CREATE TABLE categories (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    nom              TEXT    NOT NULL,
    -- Time rules, in seconds; NULL: no limit.
    max_session_secs BIGINT,
    max_day_secs     BIGINT,
    max_week_secs    BIGINT,
    created_at       BIGINT  NOT NULL
);
CREATE UNIQUE INDEX categories_nom_lower ON categories (LOWER(nom));

CREATE TABLE visiteurs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    nom          TEXT    NOT NULL,
    carte        TEXT,
    email        TEXT,
    categorie_id BIGINT  REFERENCES categories (id),
    notes        TEXT,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
CREATE INDEX visiteurs_nom_lower ON visiteurs (LOWER(nom));

ALTER TABLE sessions ADD COLUMN visiteur_id BIGINT REFERENCES visiteurs (id);
CREATE INDEX sessions_visiteur_id ON sessions (visiteur_id);
CREATE INDEX sessions_started_at ON sessions (started_at);

-- Room or site, free text.
ALTER TABLE postes ADD COLUMN emplacement TEXT;
-- A retired workstation keeps its history but leaves the lists; its name is freed.
ALTER TABLE postes ADD COLUMN retired_at BIGINT;

-- The browser's address for staff actions of the console.
ALTER TABLE events ADD COLUMN ip TEXT;
CREATE INDEX events_at ON events (at);

-- Settings edited from the console; they override the configuration file's values.
CREATE TABLE settings (
    cle        TEXT    PRIMARY KEY,
    valeur     TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL,
    updated_by TEXT    NOT NULL
);
