-- Timer leases, SQLite flavour. Must stay equivalent to ../postgres/0006_instances.sql as seen
-- through sqlx's Any driver. SQLite runs one instance only, which owns every timer without
-- asking: the table exists so that both backends have the same schema, and stays empty.
CREATE TABLE timer_leases (
    session_id  INTEGER PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    owner       TEXT    NOT NULL,
    lease_until BIGINT  NOT NULL
);
CREATE INDEX timer_leases_owner ON timer_leases (owner);
