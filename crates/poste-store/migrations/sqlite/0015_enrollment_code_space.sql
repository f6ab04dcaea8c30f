-- The space an enrollment code is made for (issue #18, item 1), SQLite flavour. Must stay
-- equivalent to ../postgres/0015_enrollment_code_space.sql as seen through sqlx's Any driver.
-- A workstation that enrolls for the first time with such a code waits for its approval in
-- that space (seen by its staff); NULL: in the default space, as before.
ALTER TABLE enrollment_codes ADD COLUMN espace_id BIGINT REFERENCES espaces (id);
