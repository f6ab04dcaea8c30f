//! Public spaces (`espaces`): a site's médiathèque, maison de quartier, mairie annexe… Each
//! workstation belongs to one, and each code is valid in one (or in every space). A space is
//! deleted only once it is empty, and the last one never is.

use sqlx::any::AnyRow;

use crate::error::{Result, SpaceRefusal, StoreError};
use crate::events::EventSpec;
use crate::model::{Actor, EventKind, Millis, NewSpace, PosteRow, SpaceRow};
use crate::names::fold;
use crate::rows::{get, poste_columns, poste_from_row};
use crate::store::Store;

/// Columns of a space row, for `SELECT … FROM espaces` and `RETURNING`.
macro_rules! space_columns {
    () => {
        "id, nom, adresse, created_at, deleted_at"
    };
}

impl Store {
    /// The spaces not deleted, the oldest first (the default space leads).
    pub async fn list_spaces(&self) -> Result<Vec<SpaceRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            space_columns!(),
            " FROM espaces WHERE deleted_at IS NULL ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(space_from_row).collect()
    }

    /// A space not deleted.
    pub async fn space(&self, id: i64) -> Result<Option<SpaceRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            space_columns!(),
            " FROM espaces WHERE id = $1 AND deleted_at IS NULL"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(space_from_row).transpose()
    }

    /// A space not deleted, by name (case-insensitive).
    pub async fn space_by_name(&self, nom: &str) -> Result<Option<SpaceRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            space_columns!(),
            " FROM espaces WHERE nom_cle = $1 AND deleted_at IS NULL"
        ))
        .bind(fold(nom))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(space_from_row).transpose()
    }

    /// Creates a space (`id` None) or renames and readdresses one. `AlreadyExists` if another
    /// space not deleted has the name (case-insensitive), `NotFound` for an unknown or deleted
    /// id. Event `SpaceChanged`.
    pub async fn save_space(
        &self,
        id: Option<i64>,
        space: &NewSpace,
        actor: &Actor,
        now: Millis,
    ) -> Result<SpaceRow> {
        let mut tx = self.writer.begin().await?;
        let taken: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM espaces WHERE nom_cle = $1 AND id <> $2 AND deleted_at IS NULL",
        )
        .bind(fold(&space.nom))
        .bind(id.unwrap_or(-1))
        .fetch_optional(&mut *tx)
        .await?;
        if taken.is_some() {
            return Err(StoreError::AlreadyExists {
                what: "espace",
                name: space.nom.clone(),
            });
        }
        let query = match id {
            None => sqlx::query(concat!(
                "INSERT INTO espaces (nom, adresse, created_at, nom_cle) VALUES ($1, $2, $3, $4) \
                 RETURNING ",
                space_columns!()
            ))
            .bind(space.nom.clone())
            .bind(space.adresse.clone())
            .bind(now)
            .bind(fold(&space.nom)),
            Some(id) => sqlx::query(concat!(
                "UPDATE espaces SET nom = $1, adresse = $2, nom_cle = $4 \
                 WHERE id = $3 AND deleted_at IS NULL RETURNING ",
                space_columns!()
            ))
            .bind(space.nom.clone())
            .bind(space.adresse.clone())
            .bind(id)
            .bind(fold(&space.nom)),
        };
        let row = query
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| not_found_space(id.unwrap_or(-1)))?;
        let saved = space_from_row(&row)?;
        let event = EventSpec::by(EventKind::SpaceChanged, actor, Some(&saved.nom));
        self.insert_event(&mut tx, now, &event, None, None).await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// Deletes an empty space: refused (`SpaceRefused`) while it has workstations that are not
    /// retired, or codes unused and still valid or running, or is the only space of an account,
    /// and when it is the last space.
    /// Its row stays for the history; its name is freed. Event `SpaceChanged`.
    pub async fn delete_space(&self, id: i64, actor: &Actor, now: Millis) -> Result<SpaceRow> {
        let mut tx = self.writer.begin().await?;
        // Written first, so that on SQLite the transaction holds the write lock before it reads
        // what it checks (no workstation can be moved in meanwhile).
        let row = sqlx::query(concat!(
            "UPDATE espaces SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL RETURNING ",
            space_columns!()
        ))
        .bind(id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| not_found_space(id))?;
        let deleted = space_from_row(&row)?;
        let refusal = async {
            let left: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM espaces WHERE deleted_at IS NULL")
                    .fetch_one(&mut *tx)
                    .await?;
            if left == 0 {
                return Ok::<_, StoreError>(Some(SpaceRefusal::LastSpace));
            }
            let postes: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM postes WHERE espace_id = $1 AND retired_at IS NULL",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            if postes > 0 {
                return Ok(Some(SpaceRefusal::HasWorkstations(postes.unsigned_abs())));
            }
            let sessions: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM sessions WHERE espace_id = $1 \
                 AND (statut = 'active' OR (statut = 'en_attente' AND valid_until > $2))",
            )
            .bind(id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            if sessions > 0 {
                return Ok(Some(SpaceRefusal::HasSessions(sessions.unsigned_abs())));
            }
            let staff: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM staff st WHERE st.deleted_at IS NULL AND st.tous_espaces = 0 \
                 AND EXISTS (SELECT 1 FROM staff_espaces se \
                             WHERE se.staff_id = st.id AND se.espace_id = $1) \
                 AND NOT EXISTS (SELECT 1 FROM staff_espaces se \
                                 JOIN espaces e ON e.id = se.espace_id \
                                 WHERE se.staff_id = st.id AND se.espace_id <> $1 \
                                 AND e.deleted_at IS NULL)",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            if staff > 0 {
                return Ok(Some(SpaceRefusal::OnlySpaceOfStaff(staff.unsigned_abs())));
            }
            Ok(None)
        }
        .await?;
        if let Some(refusal) = refusal {
            tx.rollback().await?;
            return Err(StoreError::SpaceRefused(refusal));
        }
        sqlx::query("DELETE FROM staff_espaces WHERE espace_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let detail = format!("{} (supprimé)", deleted.nom);
        let event = EventSpec::by(EventKind::SpaceChanged, actor, Some(&detail));
        self.insert_event(&mut tx, now, &event, None, None).await?;
        tx.commit().await?;
        Ok(deleted)
    }

    /// Moves a workstation to another space. Refused (`WorkstationBusy`) while a session runs
    /// on it or an unused code is bound to it for its current space; `NotFound` for an unknown
    /// or retired workstation, or an unknown or deleted space. Moving it where it is changes
    /// nothing and records nothing. Event `PosteUpdated` (`detail`: `name → space`).
    pub async fn move_poste(
        &self,
        poste_id: i64,
        espace_id: i64,
        actor: &Actor,
        now: Millis,
    ) -> Result<PosteRow> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(concat!(
            "UPDATE postes SET espace_id = $2 WHERE id = $1 AND retired_at IS NULL \
             AND espace_id <> $2 \
             AND EXISTS (SELECT 1 FROM espaces WHERE id = $2 AND deleted_at IS NULL) RETURNING ",
            poste_columns!()
        ))
        .bind(poste_id)
        .bind(espace_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            let current = sqlx::query(concat!(
                "SELECT ",
                poste_columns!(),
                " FROM postes WHERE id = $1 AND retired_at IS NULL"
            ))
            .bind(poste_id)
            .fetch_optional(&mut *tx)
            .await?;
            tx.rollback().await?;
            return match current.as_ref().map(poste_from_row).transpose()? {
                None => Err(StoreError::not_found("poste", poste_id)),
                Some(poste) if poste.espace_id == espace_id => Ok(poste),
                Some(_) => Err(not_found_space(espace_id)),
            };
        };
        let poste = poste_from_row(&row)?;
        let busy: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions WHERE poste_id = $1 AND (statut = 'active' \
             OR (statut = 'en_attente' AND espace_id IS NOT NULL AND espace_id <> $2))",
        )
        .bind(poste_id)
        .bind(espace_id)
        .fetch_one(&mut *tx)
        .await?;
        if busy > 0 {
            tx.rollback().await?;
            return Err(StoreError::SpaceRefused(SpaceRefusal::WorkstationBusy));
        }
        let space: String = sqlx::query_scalar("SELECT nom FROM espaces WHERE id = $1")
            .bind(espace_id)
            .fetch_one(&mut *tx)
            .await?;
        let detail = format!("{} → {space}", poste.nom);
        let event = EventSpec::by(EventKind::PosteUpdated, actor, Some(&detail));
        self.insert_event(&mut tx, now, &event, None, Some(poste.id))
            .await?;
        tx.commit().await?;
        Ok(poste)
    }
}

impl Store {
    /// Every space's own settings, as (space, key, value); a space with none follows the
    /// settings common to the site.
    pub async fn space_settings(&self) -> Result<Vec<(i64, String, String)>> {
        let rows = sqlx::query(
            "SELECT r.espace_id, r.cle, r.valeur FROM espace_reglages r \
             JOIN espaces e ON e.id = r.espace_id WHERE e.deleted_at IS NULL \
             ORDER BY r.espace_id, r.cle",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    get(row, "espace_id")?,
                    get(row, "cle")?,
                    get(row, "valeur")?,
                ))
            })
            .collect()
    }

    /// Replaces a space's own settings with `values`, in one transaction; no values: the
    /// space follows the common settings again. `NotFound` for an unknown or deleted space.
    /// Event `SettingsChanged` (detail: the space's name and the keys), which other instances
    /// follow to reload them.
    pub async fn set_space_settings(
        &self,
        espace_id: i64,
        values: &[(String, String)],
        actor: &Actor,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        // Written first: on SQLite the transaction then holds the write lock before it reads.
        sqlx::query("DELETE FROM espace_reglages WHERE espace_id = $1")
            .bind(espace_id)
            .execute(&mut *tx)
            .await?;
        let name: Option<String> =
            sqlx::query_scalar("SELECT nom FROM espaces WHERE id = $1 AND deleted_at IS NULL")
                .bind(espace_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(name) = name else {
            tx.rollback().await?;
            return Err(not_found_space(espace_id));
        };
        for (key, value) in values {
            sqlx::query(
                "INSERT INTO espace_reglages (espace_id, cle, valeur, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(espace_id)
            .bind(key.clone())
            .bind(value.clone())
            .bind(now)
            .bind(actor.label())
            .execute(&mut *tx)
            .await?;
        }
        let keys: Vec<&str> = values.iter().map(|(key, _)| key.as_str()).collect();
        let detail = if keys.is_empty() {
            format!("{name} : réglages communs")
        } else {
            format!("{name} : {}", keys.join(", "))
        };
        let event = EventSpec::by(EventKind::SettingsChanged, actor, Some(&detail));
        self.insert_event(&mut tx, now, &event, None, None).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn space_from_row(row: &AnyRow) -> Result<SpaceRow> {
    Ok(SpaceRow {
        id: get(row, "id")?,
        nom: get(row, "nom")?,
        adresse: get(row, "adresse")?,
        created_at: get(row, "created_at")?,
        deleted_at: get(row, "deleted_at")?,
    })
}

pub(crate) fn not_found_space(id: i64) -> StoreError {
    StoreError::not_found("espace", id)
}
