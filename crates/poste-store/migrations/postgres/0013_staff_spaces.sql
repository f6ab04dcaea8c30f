-- The spaces each staff account works in (issue #18, item 1), PostgreSQL flavour. Must stay
-- equivalent to ../sqlite/0013_staff_spaces.sql as seen through sqlx's Any driver. An account
-- sees and acts on its spaces only: every space (`tous_espaces`), or those listed in
-- `staff_espaces`. Before spaces there was one: admins keep every space (the new ones too),
-- animateurs keep the default space.
ALTER TABLE staff ADD COLUMN tous_espaces BIGINT NOT NULL DEFAULT 0
    CHECK (tous_espaces IN (0, 1));
UPDATE staff SET tous_espaces = 1 WHERE role = 'admin';

CREATE TABLE staff_espaces (
    staff_id  BIGINT NOT NULL REFERENCES staff (id),
    espace_id BIGINT NOT NULL REFERENCES espaces (id),
    PRIMARY KEY (staff_id, espace_id)
);
INSERT INTO staff_espaces (staff_id, espace_id) SELECT id, 1 FROM staff WHERE role <> 'admin';
