-- Workstation enrollment, SQLite flavour. Must stay equivalent to ../postgres/0002_enrollment.sql
-- as seen through sqlx's Any driver. Existing workstations start as 'aucun' (not enrolled).

ALTER TABLE postes ADD COLUMN enrollment TEXT NOT NULL DEFAULT 'aucun'
    CHECK (enrollment IN ('aucun', 'en_attente', 'approuve', 'enrole'));
-- SHA-256 (hex) of the workstation's secret, once enrolled.
ALTER TABLE postes ADD COLUMN secret_hash TEXT;
-- SHA-256 (hex) of the agent's request key while a request is pending or approved.
ALTER TABLE postes ADD COLUMN request_hash TEXT;

-- One-time enrollment codes, stored by their SHA-256 (hex).
CREATE TABLE enrollment_codes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    code_hash  TEXT    NOT NULL UNIQUE,
    -- Reserved for this workstation name (compared case-insensitively), or for any.
    poste_nom  TEXT,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    used_at    BIGINT
);
