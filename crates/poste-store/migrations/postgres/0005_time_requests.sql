-- Visitors' requests for more time, PostgreSQL flavour. Must stay equivalent to
-- ../sqlite/0005_time_requests.sql as seen through sqlx's Any driver. At most one request per
-- session waits for an answer at a time (a partial unique index), so two clicks make one.

CREATE TABLE time_requests (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id      BIGINT  NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    -- Minutes asked for; NULL: as much as staff see fit.
    minutes         BIGINT,
    -- en_attente, acceptee, refusee.
    statut          TEXT    NOT NULL,
    requested_at    BIGINT  NOT NULL,
    answered_at     BIGINT,
    granted_minutes BIGINT,
    answered_by     TEXT
);
CREATE UNIQUE INDEX time_requests_one_pending ON time_requests (session_id)
    WHERE statut = 'en_attente';
CREATE INDEX time_requests_statut ON time_requests (statut);
