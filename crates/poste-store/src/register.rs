//! The console's register: visitor categories and their time rules, visitors (with the erasure
//! of their personal data on request), workstation details, the settings staff edit, the
//! history, the rows statistics are computed from, and the retention purge of the connection
//! register.

use sqlx::any::AnyRow;

use crate::error::{Result, StoreError};
use crate::events::EventSpec;
use crate::model::{
    Actor, CategoryRow, EventFilter, EventKind, EventView, Millis, NewCategory, NewVisitor,
    PosteRow, PurgeReport, SessionStatus, UsageRow, VisitorRow,
};
use crate::names::fold;
use crate::query::{Arg, Conditions};
use crate::rows::{event_from_row, get, poste_columns, poste_from_row};
use crate::store::Store;

macro_rules! category_columns {
    () => {
        "id, nom, max_session_secs, max_day_secs, max_week_secs"
    };
}

/// A visitor joined with the name of their category; the FROM clause is included.
macro_rules! visitor_select {
    () => {
        "SELECT v.id AS id, v.nom AS nom, v.carte AS carte, v.email AS email, \
         v.categorie_id AS categorie_id, c.nom AS categorie_nom, v.notes AS notes, \
         v.created_at AS created_at, v.updated_at AS updated_at \
         FROM visiteurs v LEFT JOIN categories c ON c.id = v.categorie_id"
    };
}

/// Most rows statistics are computed from in one call (a year of a busy space is far below).
const MAX_USAGE_ROWS: i64 = 500_000;

impl Store {
    // ----- categories -----------------------------------------------------------------------

    pub async fn list_categories(&self) -> Result<Vec<CategoryRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            category_columns!(),
            " FROM categories ORDER BY nom_cle, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(category_from_row).collect()
    }

    pub async fn category(&self, id: i64) -> Result<Option<CategoryRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            category_columns!(),
            " FROM categories WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(category_from_row).transpose()
    }

    /// Creates a category (`id` None) or replaces one. `AlreadyExists` if the name is taken
    /// (case-insensitive), `NotFound` for an unknown id. Event `CategoryChanged`.
    pub async fn save_category(
        &self,
        id: Option<i64>,
        category: &NewCategory,
        actor: &Actor,
        now: Millis,
    ) -> Result<CategoryRow> {
        let mut tx = self.writer.begin().await?;
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM categories WHERE nom_cle = $1 AND id <> $2")
                .bind(fold(&category.nom))
                .bind(id.unwrap_or(-1))
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Err(StoreError::AlreadyExists {
                what: "category",
                name: category.nom.clone(),
            });
        }
        let query = match id {
            None => sqlx::query(concat!(
                "INSERT INTO categories (nom, max_session_secs, max_day_secs, max_week_secs, \
                 created_at, nom_cle) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
                category_columns!()
            ))
            .bind(category.nom.clone())
            .bind(category.max_session_secs)
            .bind(category.max_day_secs)
            .bind(category.max_week_secs)
            .bind(now)
            .bind(fold(&category.nom)),
            Some(id) => sqlx::query(concat!(
                "UPDATE categories SET nom = $1, max_session_secs = $2, max_day_secs = $3, \
                 max_week_secs = $4, nom_cle = $6 WHERE id = $5 RETURNING ",
                category_columns!()
            ))
            .bind(category.nom.clone())
            .bind(category.max_session_secs)
            .bind(category.max_day_secs)
            .bind(category.max_week_secs)
            .bind(id)
            .bind(fold(&category.nom)),
        };
        let row = query
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("category", id.unwrap_or(-1)))?;
        let saved = category_from_row(&row)?;
        let event = EventSpec::by(EventKind::CategoryChanged, actor, Some(&saved.nom));
        self.insert_event(&mut tx, now, &event, None, None).await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// Deletes a category; its visitors are left without one. Event `CategoryChanged`.
    pub async fn delete_category(&self, id: i64, actor: &Actor, now: Millis) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("UPDATE visiteurs SET categorie_id = NULL WHERE categorie_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let name: Option<String> =
            sqlx::query_scalar("DELETE FROM categories WHERE id = $1 RETURNING nom")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(name) = name else {
            return Err(StoreError::not_found("category", id));
        };
        let event = EventSpec::by(
            EventKind::CategoryChanged,
            actor,
            Some(&format!("{name} (supprimée)")),
        );
        self.insert_event(&mut tx, now, &event, None, None).await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- visitors -------------------------------------------------------------------------

    pub async fn visitor(&self, id: i64) -> Result<Option<VisitorRow>> {
        let row = sqlx::query(concat!(visitor_select!(), " WHERE v.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(visitor_from_row).transpose()
    }

    /// Visitors whose name, card number or e-mail contains `text` (all when None), by name.
    pub async fn search_visitors(
        &self,
        text: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Vec<VisitorRow>> {
        let mut conditions = Conditions::default();
        if let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) {
            conditions.push_key_contains(
                "COALESCE(v.nom_cle, '') || ' ' || COALESCE(v.carte_cle, '') || ' ' || \
                 COALESCE(v.email_cle, '')",
                text,
            );
        }
        let rows = conditions
            .fetch_page(
                &self.pool,
                visitor_select!(),
                "v.nom_cle, v.id",
                limit,
                None,
            )
            .await?;
        rows.iter().map(visitor_from_row).collect()
    }

    /// Registers a visitor (`id` None) or updates one (`NotFound` for an unknown id;
    /// `AlreadyExists` if another visitor has the card number, compared case-insensitively). Events
    /// `VisitorCreated` / `VisitorUpdated`, whose detail never holds personal data.
    pub async fn save_visitor(
        &self,
        id: Option<i64>,
        visitor: &NewVisitor,
        actor: &Actor,
        now: Millis,
    ) -> Result<VisitorRow> {
        let mut tx = self.writer.begin().await?;
        if let Some(carte) = &visitor.carte {
            let taken: Option<i64> =
                sqlx::query_scalar("SELECT id FROM visiteurs WHERE carte_cle = $1 AND id <> $2")
                    .bind(fold(carte))
                    .bind(id.unwrap_or(-1))
                    .fetch_optional(&mut *tx)
                    .await?;
            if taken.is_some() {
                return Err(StoreError::AlreadyExists {
                    what: "visitor card",
                    name: carte.clone(),
                });
            }
        }
        let query = match id {
            None => sqlx::query(
                "INSERT INTO visiteurs (nom, carte, email, categorie_id, notes, created_at, \
                 updated_at, nom_cle, carte_cle, email_cle) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9) RETURNING id",
            ),
            Some(_) => sqlx::query(
                "UPDATE visiteurs SET nom = $1, carte = $2, email = $3, categorie_id = $4, \
                 notes = $5, updated_at = $6, nom_cle = $7, carte_cle = $8, email_cle = $9 \
                 WHERE id = $10 RETURNING id",
            ),
        };
        let query = query
            .bind(visitor.nom.clone())
            .bind(visitor.carte.clone())
            .bind(visitor.email.clone())
            .bind(visitor.categorie_id)
            .bind(visitor.notes.clone())
            .bind(now)
            .bind(fold(&visitor.nom))
            .bind(visitor.carte.as_deref().map(fold))
            .bind(visitor.email.as_deref().map(fold));
        let query = match id {
            Some(id) => query.bind(id),
            None => query,
        };
        let saved_id: i64 = query
            .fetch_optional(&mut *tx)
            .await
            .map_err(|err| match (&err, &visitor.carte) {
                // Two desks saving the same card at once (PostgreSQL): the index decides.
                (sqlx::Error::Database(db), Some(carte)) if db.is_unique_violation() => {
                    StoreError::AlreadyExists {
                        what: "visitor card",
                        name: carte.clone(),
                    }
                }
                _ => err.into(),
            })?
            .ok_or_else(|| StoreError::not_found("visitor", id.unwrap_or(-1)))
            .and_then(|row| get(&row, "id"))?;
        let kind = if id.is_some() {
            EventKind::VisitorUpdated
        } else {
            EventKind::VisitorCreated
        };
        let event = EventSpec::by(kind, actor, Some(&format!("visiteur {saved_id}")));
        self.insert_event(&mut tx, now, &event, None, None).await?;
        let row = sqlx::query(concat!(visitor_select!(), " WHERE v.id = $1"))
            .bind(saved_id)
            .fetch_one(&mut *tx)
            .await?;
        let saved = visitor_from_row(&row)?;
        tx.commit().await?;
        Ok(saved)
    }

    /// Erases a visitor's personal data on request (RGPD): the record is deleted, and their
    /// sessions lose the name and the link (they stay, anonymous, in the connection register).
    /// Returns how many sessions were anonymised. Event `VisitorErased` (no personal data).
    pub async fn erase_visitor(&self, id: i64, actor: &Actor, now: Millis) -> Result<u64> {
        let mut tx = self.writer.begin().await?;
        let sessions = sqlx::query(
            "UPDATE sessions SET utilisateur = NULL, visiteur_id = NULL WHERE visiteur_id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let deleted = sqlx::query("DELETE FROM visiteurs WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            return Err(StoreError::not_found("visitor", id));
        }
        let detail = format!("visiteur {id}, {sessions} session(s) anonymisée(s)");
        let event = EventSpec::by(EventKind::VisitorErased, actor, Some(&detail));
        self.insert_event(&mut tx, now, &event, None, None).await?;
        tx.commit().await?;
        Ok(sessions)
    }

    /// Seconds of sessions a visitor holds among those created since `since`: the time used
    /// for ended sessions, the whole time for running ones and for codes still usable.
    pub async fn visitor_usage_secs(&self, id: i64, since: Millis, now: Millis) -> Result<i64> {
        let rows = sqlx::query(
            "SELECT statut, initial_secs, added_secs, started_at, ended_at, valid_until \
             FROM sessions WHERE visiteur_id = $1 AND created_at >= $2 AND statut <> 'annulee'",
        )
        .bind(id)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        let mut total = 0i64;
        for row in &rows {
            let statut: String = get(row, "statut")?;
            let held = get::<i64>(row, "initial_secs")? + get::<i64>(row, "added_secs")?;
            let started: Option<Millis> = get(row, "started_at")?;
            let ended: Option<Millis> = get(row, "ended_at")?;
            let valid_until: Millis = get(row, "valid_until")?;
            total += match SessionStatus::parse(&statut) {
                Some(SessionStatus::Active) => held,
                Some(SessionStatus::EnAttente) if valid_until > now => held,
                Some(SessionStatus::Terminee | SessionStatus::Expiree) => match (started, ended) {
                    (Some(start), Some(end)) => ((end - start).max(0) / 1000).min(held),
                    _ => 0,
                },
                _ => 0,
            };
        }
        Ok(total)
    }

    // ----- workstations ---------------------------------------------------------------------

    /// Renames a workstation and sets its location. `AlreadyExists` if the name is taken,
    /// `NotFound` for an unknown (or retired) id. Event `PosteUpdated`.
    pub async fn update_poste(
        &self,
        id: i64,
        nom: &str,
        emplacement: Option<&str>,
        actor: &Actor,
        now: Millis,
    ) -> Result<PosteRow> {
        let mut tx = self.writer.begin().await?;
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM postes WHERE nom_cle = $1 AND id <> $2")
                .bind(fold(nom))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Err(StoreError::AlreadyExists {
                what: "poste",
                name: nom.to_owned(),
            });
        }
        let row = sqlx::query(concat!(
            "UPDATE postes SET nom = $2, emplacement = $3, nom_cle = $4 \
             WHERE id = $1 AND retired_at IS NULL RETURNING ",
            poste_columns!()
        ))
        .bind(id)
        .bind(nom.to_owned())
        .bind(emplacement.map(str::to_owned))
        .bind(fold(nom))
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("poste", id))?;
        let poste = poste_from_row(&row)?;
        let detail = format!(
            "{}{}",
            poste.nom,
            poste
                .emplacement
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        );
        let event = EventSpec::by(EventKind::PosteUpdated, actor, Some(&detail));
        self.insert_event(&mut tx, now, &event, None, Some(poste.id))
            .await?;
        tx.commit().await?;
        Ok(poste)
    }

    /// Retires a workstation: it leaves the lists, its name is freed (it becomes
    /// `NAME (retiré ID)`), its enrollment is revoked; its sessions stay in the history.
    /// Refused (`None`) while a session runs on it; `NotFound` for an unknown id. Event
    /// `PosteRetired`.
    pub async fn retire_poste(
        &self,
        id: i64,
        actor: &Actor,
        now: Millis,
    ) -> Result<Option<PosteRow>> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(concat!(
            "UPDATE postes SET nom = nom || ' (retiré ' || CAST(id AS TEXT) || ')', \
             nom_cle = nom_cle || ' (retiré ' || CAST(id AS TEXT) || ')', \
             retired_at = $2, enrollment = 'aucun', secret_hash = NULL, request_hash = NULL \
             WHERE id = $1 AND retired_at IS NULL AND NOT EXISTS \
             (SELECT 1 FROM sessions WHERE poste_id = $1 AND statut = 'active') RETURNING ",
            poste_columns!()
        ))
        .bind(id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT id FROM postes WHERE id = $1 AND retired_at IS NULL")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            return match exists {
                Some(_) => Ok(None),
                None => Err(StoreError::not_found("poste", id)),
            };
        };
        let poste = poste_from_row(&row)?;
        let event = EventSpec::by(EventKind::PosteRetired, actor, Some(&poste.nom));
        self.insert_event(&mut tx, now, &event, None, Some(poste.id))
            .await?;
        tx.commit().await?;
        Ok(Some(poste))
    }

    // ----- settings -------------------------------------------------------------------------

    /// Every setting edited from the console, as (key, value).
    pub async fn settings(&self) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT cle, valeur FROM settings ORDER BY cle")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((get(row, "cle")?, get(row, "valeur")?)))
            .collect()
    }

    /// Writes settings in one transaction. Event `SettingsChanged` (detail: the keys), which
    /// other instances follow to reload them.
    pub async fn set_settings(
        &self,
        values: &[(String, String)],
        actor: &Actor,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        for (key, value) in values {
            sqlx::query(
                "INSERT INTO settings (cle, valeur, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (cle) DO UPDATE SET valeur = excluded.valeur, \
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            )
            .bind(key.clone())
            .bind(value.clone())
            .bind(now)
            .bind(actor.label())
            .execute(&mut *tx)
            .await?;
        }
        let keys: Vec<&str> = values.iter().map(|(key, _)| key.as_str()).collect();
        let event = EventSpec::by(EventKind::SettingsChanged, actor, Some(&keys.join(", ")));
        self.insert_event(&mut tx, now, &event, None, None).await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- history, statistics, retention ---------------------------------------------------

    /// Events of the log, newest first, with the name of their workstation.
    pub async fn list_events(&self, filter: &EventFilter) -> Result<Vec<EventView>> {
        let mut conditions = Conditions::default();
        conditions.push_any(
            "e.kind = ?",
            filter
                .kinds
                .iter()
                .map(|kind| Arg::Text(kind.as_str().to_owned()))
                .collect(),
        );
        if let Some(from) = filter.from {
            conditions.push("e.at >= ?", Arg::Int(from));
        }
        if let Some(to) = filter.to {
            conditions.push("e.at < ?", Arg::Int(to));
        }
        if let Some(poste_id) = filter.poste_id {
            conditions.push("e.poste_id = ?", Arg::Int(poste_id));
        }
        if let Some(actor) = &filter.actor {
            conditions.push_contains("e.actor", actor);
        }
        if let Some(scope) = &filter.scope {
            conditions.push_scope(
                scope,
                "COALESCE(p.espace_id, \
                 (SELECT es.espace_id FROM sessions es WHERE es.id = e.session_id))",
                "e.poste_id IS NULL AND e.session_id IS NULL",
            );
        }
        let rows = conditions
            .fetch_page(
                &self.pool,
                "SELECT e.id AS id, e.at AS at, e.kind AS kind, e.session_id AS session_id, \
                 e.poste_id AS poste_id, e.actor AS actor, e.detail AS detail, \
                 e.origin AS origin, e.ip AS ip, p.nom AS poste_nom \
                 FROM events e LEFT JOIN postes p ON p.id = e.poste_id",
                "e.id DESC",
                filter.limit,
                filter.offset,
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(EventView {
                    event: event_from_row(row)?,
                    poste_nom: get(row, "poste_nom")?,
                })
            })
            .collect()
    }

    /// Sessions that started in `[from, to)`, with their workstation and category.
    pub async fn usage(&self, from: Millis, to: Millis) -> Result<Vec<UsageRow>> {
        let rows = sqlx::query(
            "SELECT s.id AS id, s.started_at AS started_at, s.ended_at AS ended_at, \
             s.initial_secs + s.added_secs AS total_secs, s.poste_id AS poste_id, \
             p.nom AS poste_nom, p.espace_id AS espace_id, s.visiteur_id AS visiteur_id, \
             c.nom AS categorie_nom, s.atelier AS atelier \
             FROM sessions s LEFT JOIN postes p ON p.id = s.poste_id \
             LEFT JOIN visiteurs v ON v.id = s.visiteur_id \
             LEFT JOIN categories c ON c.id = v.categorie_id \
             WHERE s.started_at >= $1 AND s.started_at < $2 ORDER BY s.started_at LIMIT $3",
        )
        .bind(from)
        .bind(to)
        .bind(MAX_USAGE_ROWS)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(UsageRow {
                    session_id: get(row, "id")?,
                    started_at: get(row, "started_at")?,
                    ended_at: get(row, "ended_at")?,
                    total_secs: get(row, "total_secs")?,
                    poste_id: get(row, "poste_id")?,
                    poste_nom: get(row, "poste_nom")?,
                    espace_id: get(row, "espace_id")?,
                    visiteur_id: get(row, "visiteur_id")?,
                    categorie_nom: get(row, "categorie_nom")?,
                    atelier: get(row, "atelier")?,
                })
            })
            .collect()
    }

    /// Deletes what is older than `cutoff` in the connection register: ended or cancelled
    /// sessions that ended (or, never started, were created) before it, unused codes that
    /// expired before it, and events before it. Running sessions are never touched. Event
    /// `RetentionPurge` when anything was deleted.
    pub async fn purge_before(&self, cutoff: Millis, now: Millis) -> Result<PurgeReport> {
        let mut tx = self.writer.begin().await?;
        let sessions = sqlx::query(
            "DELETE FROM sessions WHERE \
             (statut IN ('terminee', 'expiree', 'annulee') AND COALESCE(ended_at, created_at) < $1) \
             OR (statut = 'en_attente' AND valid_until < $1)",
        )
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let events = sqlx::query("DELETE FROM events WHERE at < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let report = PurgeReport { sessions, events };
        if sessions > 0 || events > 0 {
            let event = EventSpec::by(
                EventKind::RetentionPurge,
                &Actor::System,
                Some(&format!("{sessions} session(s), {events} événement(s)")),
            );
            self.insert_event(&mut tx, now, &event, None, None).await?;
        }
        tx.commit().await?;
        Ok(report)
    }
}

fn category_from_row(row: &AnyRow) -> Result<CategoryRow> {
    Ok(CategoryRow {
        id: get(row, "id")?,
        nom: get(row, "nom")?,
        max_session_secs: get(row, "max_session_secs")?,
        max_day_secs: get(row, "max_day_secs")?,
        max_week_secs: get(row, "max_week_secs")?,
    })
}

fn visitor_from_row(row: &AnyRow) -> Result<VisitorRow> {
    Ok(VisitorRow {
        id: get(row, "id")?,
        nom: get(row, "nom")?,
        carte: get(row, "carte")?,
        email: get(row, "email")?,
        categorie_id: get(row, "categorie_id")?,
        categorie_nom: get(row, "categorie_nom")?,
        notes: get(row, "notes")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}
