-- Names compared without case through a key the server writes (decision 0015), PostgreSQL
-- flavour. Must stay equivalent to ../sqlite/0017_name_keys.sql as seen through sqlx's Any driver.
-- SQLite's LOWER folds ASCII only: « ÉCOLE » and « école » were two names there and one on
-- PostgreSQL. Each compared name now has a key column, `poste_store::fold` of the name (NFC,
-- then lower case on every letter), written by the store on every insert and rename and never
-- by SQL, so both backends hold the same bytes. The keys of the rows already there are filled
-- by the store at start-up (it refuses to start, naming them, while two names fold alike); the
-- unique indexes move to the keys (NULLs never collide, so they hold before the fill too).
ALTER TABLE postes ADD COLUMN nom_cle TEXT;
ALTER TABLE espaces ADD COLUMN nom_cle TEXT;
ALTER TABLE categories ADD COLUMN nom_cle TEXT;
ALTER TABLE visiteurs ADD COLUMN nom_cle TEXT;
ALTER TABLE visiteurs ADD COLUMN carte_cle TEXT;
ALTER TABLE visiteurs ADD COLUMN email_cle TEXT;
ALTER TABLE staff ADD COLUMN login_cle TEXT;
ALTER TABLE enrollment_codes ADD COLUMN poste_nom_cle TEXT;

DROP INDEX postes_nom_lower;
DROP INDEX espaces_live_nom;
DROP INDEX categories_nom_lower;
DROP INDEX visiteurs_nom_lower;
DROP INDEX visiteurs_carte_lower;
DROP INDEX staff_login_lower;

CREATE UNIQUE INDEX postes_nom_cle ON postes (nom_cle);
CREATE UNIQUE INDEX espaces_live_nom_cle ON espaces (nom_cle) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX categories_nom_cle ON categories (nom_cle);
CREATE INDEX visiteurs_nom_cle ON visiteurs (nom_cle);
CREATE UNIQUE INDEX visiteurs_carte_cle ON visiteurs (carte_cle);
CREATE UNIQUE INDEX staff_login_cle ON staff (login_cle);
