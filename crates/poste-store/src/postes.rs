//! Workstations (`postes`): creation, lookups, sightings, out of order, and what staff or a
//! workstation record about one (messages sent, incidents).

use std::collections::BTreeSet;

use sqlx::{AnyConnection, AssertSqlSafe};

use crate::error::{Result, StoreError};
use crate::events::EventSpec;
use crate::model::{Actor, EventKind, Millis, NewPoste, PosteRow, PosteSighting};
use crate::query::has_nul;
use crate::rows::{fetch_poste_by_name, insert_poste, poste_columns, poste_from_row};
use crate::store::Store;

impl Store {
    /// `AlreadyExists` if the name is taken (names compare case-insensitively). Event
    /// `PosteCreated`.
    pub async fn create_poste(
        &self,
        new: &NewPoste,
        actor: &Actor,
        now: Millis,
    ) -> Result<PosteRow> {
        let mut tx = self.writer.begin().await?;
        let row = insert_poste(&mut tx, &new.nom, &new.ip, &new.mac, &None, None, now)
            .await?
            .ok_or_else(|| StoreError::AlreadyExists {
                what: "poste",
                name: new.nom.clone(),
            })?;
        let event = EventSpec::by(EventKind::PosteCreated, actor, Some(&row.nom));
        self.insert_event(&mut tx, now, &event, None, Some(row.id))
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn poste(&self, id: i64) -> Result<Option<PosteRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            poste_columns!(),
            " FROM postes WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(poste_from_row).transpose()
    }

    /// Case-insensitive.
    pub async fn poste_by_name(&self, nom: &str) -> Result<Option<PosteRow>> {
        if has_nul(nom) {
            return Ok(None);
        }
        fetch_poste_by_name(&self.pool, nom).await
    }

    /// The workstation last seen with this IP, if any.
    pub async fn poste_by_ip(&self, ip: &str) -> Result<Option<PosteRow>> {
        if has_nul(ip) {
            return Ok(None);
        }
        let row = sqlx::query(concat!(
            "SELECT ",
            poste_columns!(),
            " FROM postes WHERE ip = $1 \
             ORDER BY COALESCE(last_seen, created_at) DESC, id DESC LIMIT 1"
        ))
        .bind(ip.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(poste_from_row).transpose()
    }

    /// A workstation made itself known: creates it if its name is new (event `PosteCreated`,
    /// actor = the poste), else updates ip/mac/version when given (None keeps the old value)
    /// and `last_seen`. No event for a mere sighting of a known workstation (they are frequent).
    pub async fn record_poste_seen(&self, seen: &PosteSighting, now: Millis) -> Result<PosteRow> {
        let mut tx = self.writer.begin().await?;
        // Update first (the common case, and a write as first statement, see
        // `Store::transition`); insert when unknown.
        let row = match update_poste_seen(&mut tx, seen, now).await? {
            Some(row) => row,
            None => {
                let inserted = insert_poste(
                    &mut tx,
                    &seen.nom,
                    &seen.ip,
                    &seen.mac,
                    &seen.version,
                    Some(now),
                    now,
                )
                .await?;
                match inserted {
                    Some(row) => {
                        let event = EventSpec::by(
                            EventKind::PosteCreated,
                            &Actor::Poste(row.nom.clone()),
                            Some(&row.nom),
                        );
                        self.insert_event(&mut tx, now, &event, None, Some(row.id))
                            .await?;
                        row
                    }
                    // Another writer created it in between (and has committed, since the
                    // insert waited for it): a mere sighting after all.
                    None => update_poste_seen(&mut tx, seen, now)
                        .await?
                        .ok_or_else(|| StoreError::NotFound {
                            what: "poste",
                            id: seen.nom.clone(),
                        })?,
                }
            }
        };
        tx.commit().await?;
        Ok(row)
    }

    /// Sets `last_seen` of every workstation in `ids` to `now`, in one transaction (the server
    /// gathers a minute of sightings: one commit for all, not one per workstation). No event.
    /// Returns how many rows changed (unknown ids are skipped).
    pub async fn touch_postes(&self, ids: &[i64], now: Millis) -> Result<u64> {
        const CHUNK: usize = 500;
        let mut tx = self.writer.begin().await?;
        let mut changed = 0;
        for chunk in ids.chunks(CHUNK) {
            // Only placeholders are generated; every value is bound.
            let placeholders: Vec<String> = (2..chunk.len() + 2).map(|n| format!("${n}")).collect();
            let sql = format!(
                "UPDATE postes SET last_seen = $1 WHERE id IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(now);
            for id in chunk {
                query = query.bind(*id);
            }
            changed += query.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Marks a workstation out of order (no code is accepted on it) or back in service. Event
    /// `PosteServiceChanged`. `NotFound` for an unknown id.
    pub async fn set_poste_out_of_order(
        &self,
        id: i64,
        out_of_order: bool,
        actor: &Actor,
        now: Millis,
    ) -> Result<PosteRow> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(concat!(
            "UPDATE postes SET hors_service = $2 WHERE id = $1 RETURNING ",
            poste_columns!()
        ))
        .bind(id)
        .bind(i64::from(out_of_order))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::NotFound {
                what: "poste",
                id: id.to_string(),
            });
        };
        let poste = poste_from_row(&row)?;
        let service = if out_of_order {
            "hors_service"
        } else {
            "en_service"
        };
        let event = EventSpec::by(EventKind::PosteServiceChanged, actor, Some(service));
        self.insert_event(&mut tx, now, &event, None, Some(poste.id))
            .await?;
        tx.commit().await?;
        Ok(poste)
    }

    /// Records in the event log that staff sent a message to a workstation (event
    /// `MessageSent`, detail: the message).
    pub async fn record_message(
        &self,
        poste_id: i64,
        message: &str,
        actor: &Actor,
        now: Millis,
    ) -> Result<()> {
        let event = EventSpec::by(EventKind::MessageSent, actor, Some(message));
        self.record_event(now, &event, None, Some(poste_id)).await
    }

    /// Records an incident a workstation reported (event `PosteIncident`, detail: the nature,
    /// then the workstation's French detail).
    pub async fn record_incident(
        &self,
        poste_id: Option<i64>,
        session_id: Option<i64>,
        detail: &str,
        actor: &Actor,
        now: Millis,
    ) -> Result<()> {
        let event = EventSpec::by(EventKind::PosteIncident, actor, Some(detail));
        self.record_event(now, &event, session_id, poste_id).await
    }

    /// All workstations in service or not, by name; retired ones are left out.
    pub async fn list_postes(&self) -> Result<Vec<PosteRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            poste_columns!(),
            " FROM postes WHERE retired_at IS NULL ORDER BY nom_cle, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(poste_from_row).collect()
    }

    /// The workstations of `ids` not retired, by name (the dashboard's tiles that changed).
    /// Ids that name none are left out.
    pub async fn postes_by_ids(&self, ids: &BTreeSet<i64>) -> Result<Vec<PosteRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Past this, one read of every workstation costs less than the binds.
        if ids.len() > MAX_BOUND_IDS {
            let mut postes = self.list_postes().await?;
            postes.retain(|poste| ids.contains(&poste.id));
            return Ok(postes);
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT {} FROM postes WHERE retired_at IS NULL AND id IN ({}) ORDER BY nom_cle, id",
            poste_columns!(),
            placeholders.join(", ")
        );
        // Only numbered placeholders are added to the text; the ids are bound.
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(poste_from_row).collect()
    }
}

/// The most ids [`Store::postes_by_ids`] binds in one query.
const MAX_BOUND_IDS: usize = 200;

async fn update_poste_seen(
    conn: &mut AnyConnection,
    seen: &PosteSighting,
    now: Millis,
) -> Result<Option<PosteRow>> {
    let row = sqlx::query(concat!(
        "UPDATE postes SET ip = COALESCE($2, ip), mac = COALESCE($3, mac), \
         version = COALESCE($4, version), last_seen = $5 \
         WHERE nom_cle = $1 RETURNING ",
        poste_columns!()
    ))
    .bind(crate::names::fold(&seen.nom))
    .bind(seen.ip.clone())
    .bind(seen.mac.clone())
    .bind(seen.version.clone())
    .bind(now)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(poste_from_row).transpose()
}
