-- Settings of one public space (issue #18, item 1), PostgreSQL flavour. Must stay equivalent to
-- ../sqlite/0014_space_settings.sql as seen through sqlx's Any driver. A space without rows
-- here follows the settings common to the site (`settings`); a space with rows has its own
-- values for the keys it holds (hours, days, thresholds, codes, time zone, power schedule).
CREATE TABLE espace_reglages (
    espace_id  BIGINT NOT NULL REFERENCES espaces (id),
    cle        TEXT   NOT NULL,
    valeur     TEXT   NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT   NOT NULL,
    PRIMARY KEY (espace_id, cle)
);
