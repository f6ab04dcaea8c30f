-- Workshop sessions (issue #18, item 4), SQLite flavour. Must stay equivalent to
-- ../postgres/0016_workshops.sql as seen through sqlx's Any driver.
-- A session staff opened on a workstation for a workshop carries the workshop's name
-- (« Atelier CV »), the same on every workstation of the room, for the statistics; NULL: a
-- visitor's session, started with its code.
ALTER TABLE sessions ADD COLUMN atelier TEXT;
