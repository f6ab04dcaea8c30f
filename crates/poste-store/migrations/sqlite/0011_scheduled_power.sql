-- Workstations woken before the opening and powered off after the closing by the server itself
-- (issue #18, item 3), SQLite flavour. Must stay equivalent to
-- ../postgres/0011_scheduled_power.sql as seen through sqlx's Any driver. One row a day
-- and action, written by the instance that does it: the primary key lets one of several
-- instances on one PostgreSQL do it, once.
CREATE TABLE scheduled_power (
    day        TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    claimed_by TEXT    NOT NULL,
    claimed_at BIGINT  NOT NULL,
    PRIMARY KEY (day, action)
);
