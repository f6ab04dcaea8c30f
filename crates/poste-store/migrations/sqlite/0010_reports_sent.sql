-- Monthly reports mailed automatically (issue #17, item 4), SQLite flavour. Must stay
-- equivalent to ../postgres/0010_reports_sent.sql as seen through sqlx's Any driver. One row a
-- month, claimed by the instance about to send it: the primary key lets one claim win; a claim
-- not marked sent (a failure, a crash) may be taken again after a while, so a report is retried,
-- never sent twice by two instances at once.
CREATE TABLE reports_sent (
    month      TEXT    PRIMARY KEY,
    claimed_by TEXT    NOT NULL,
    claimed_at BIGINT  NOT NULL,
    sent_at    BIGINT,
    attempts   BIGINT  NOT NULL DEFAULT 1,
    last_error TEXT
);
