-- The space a workstation's last enrollment request named (issue #18, item 1), SQLite
-- flavour. Must stay equivalent to ../postgres/0018_enrollment_requested_space.sql as seen
-- through sqlx's Any driver. The space its one-time code was made for, or else the one its
-- agent's configuration names (`espace`); NULL: the request named none. A workstation that
-- waits in one space and asks again naming another (IT corrected its configuration) keeps its
-- space, and the console proposes neither: staff see both and choose.
ALTER TABLE postes ADD COLUMN espace_demande BIGINT REFERENCES espaces (id);
