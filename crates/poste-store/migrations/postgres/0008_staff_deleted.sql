-- Deleted staff accounts (issue #17, item 7), PostgreSQL flavour. Must stay equivalent to
-- ../sqlite/0008_staff_deleted.sql as seen through sqlx's Any driver. A deleted account keeps
-- its row without its password: its login is never given to someone else, since the history
-- names who did what by login.
ALTER TABLE staff ADD COLUMN deleted_at BIGINT;
