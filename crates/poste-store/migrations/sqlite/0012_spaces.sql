-- Public spaces (issue #18, item 1), SQLite flavour. Must stay equivalent to
-- ../postgres/0012_spaces.sql as seen through sqlx's Any driver. One server carries several
-- spaces (a médiathèque, a maison de quartier…); every workstation belongs to one, and a code is
-- valid in the space it was made for, or in every space (`espace_id` NULL).
--
-- What was there before becomes space 1, named after the name staff gave the site in the
-- console (else « Espace principal »): a single-space site sees no difference but the name.

CREATE TABLE espaces (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    nom        TEXT    NOT NULL,
    adresse    TEXT,
    created_at BIGINT  NOT NULL,
    -- A deleted space keeps its row for the history of its sessions; its name is freed.
    deleted_at BIGINT
);
CREATE UNIQUE INDEX espaces_live_nom ON espaces (LOWER(nom)) WHERE deleted_at IS NULL;

INSERT INTO espaces (id, nom, created_at)
VALUES (
    1,
    COALESCE(
        (SELECT TRIM(valeur) FROM settings WHERE cle = 'site_name' AND TRIM(valeur) <> ''),
        'Espace principal'
    ),
    CAST(strftime('%s', 'now') AS INTEGER) * 1000
);

-- SQLite refuses a REFERENCES clause with a non-NULL default on an added column: the store
-- checks the space instead (PostgreSQL has the foreign key).
ALTER TABLE postes ADD COLUMN espace_id BIGINT NOT NULL DEFAULT 1;
CREATE INDEX postes_espace_id ON postes (espace_id);

-- NULL: the code is valid in every space.
ALTER TABLE sessions ADD COLUMN espace_id BIGINT REFERENCES espaces (id);
UPDATE sessions SET espace_id = 1;
CREATE INDEX sessions_espace_id ON sessions (espace_id);
