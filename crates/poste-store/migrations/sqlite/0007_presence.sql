-- Which workstations are connected, as the whole site sees it (issue #15): each instance
-- publishes the workstations connected to it at every heartbeat, until a lease a few
-- heartbeats long; the others read every fresh row but their own. An instance killed without
-- a goodbye drops out when its row lapses. One row an instance: `postes` is its list of ids,
-- comma-separated. SQLite runs one instance and writes nothing here (same schema as PostgreSQL).
CREATE TABLE presence (
    origin TEXT   PRIMARY KEY,
    postes TEXT   NOT NULL,
    until  BIGINT NOT NULL
);
