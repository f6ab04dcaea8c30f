-- Staff accounts of the web console and their login sessions, PostgreSQL flavour. Must stay
-- equivalent to ../sqlite/0003_staff.sql as seen through sqlx's Any driver.

CREATE TABLE staff (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login         TEXT    NOT NULL,
    nom           TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'animateur')),
    -- Argon2id PHC string; the password itself is never stored.
    password_hash TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    last_login    BIGINT,
    disabled_at   BIGINT
);
CREATE UNIQUE INDEX staff_login_lower ON staff (LOWER(login));

-- A logged-in browser. The cookie carries a random token; only its SHA-256 (hex) is stored.
-- `csrf_token` is the synchronizer token every form of that browser must send back.
CREATE TABLE staff_sessions (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash TEXT    NOT NULL UNIQUE,
    staff_id   BIGINT  NOT NULL REFERENCES staff (id),
    csrf_token TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    last_seen  BIGINT  NOT NULL,
    ip         TEXT
);
CREATE INDEX staff_sessions_staff_id ON staff_sessions (staff_id);

