-- Several poste-server instances on one PostgreSQL (docs/deployment/multi-instance.md).
--
-- Timer ownership: the instance that holds a session's lease fires its warnings and expiry;
-- it renews its leases by a heartbeat, and when one lapses (the instance died, or lost the
-- database) another instance claims it. The transitions themselves stay conditional updates
-- of `sessions`, so a lease decides who does the work, never whether it happens once.
CREATE TABLE timer_leases (
    session_id  BIGINT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    owner       TEXT   NOT NULL,
    lease_until BIGINT NOT NULL
);
CREATE INDEX timer_leases_owner ON timer_leases (owner);

-- Fan-out: every event row rings the other instances at commit (NOTIFY is transactional). The
-- payload is only the writer's origin, so an instance ignores its own rings; the event log
-- stays the truth, read after each ring and polled as the catch-up path. Identical payloads
-- in one transaction are folded into one notification by PostgreSQL.
CREATE FUNCTION poste_events_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('poste_events', NEW.origin);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION poste_events_notify();
