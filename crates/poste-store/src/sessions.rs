//! Sessions and their access codes: creation, lists, and every transition of a session
//! (start, added time, end, expiry, cancellation, warnings), each a conditional update that
//! happens once.

use sqlx::any::AnyArguments;
use sqlx::{Any, AnyConnection};

use crate::error::{Result, StoreError};
use crate::events::EventSpec;
use crate::model::{
    Actor, DEFAULT_SPACE, EventKind, Millis, NewSession, NewWorkshop, SessionFilter, SessionRow,
    Warning,
};
use crate::query::{Arg, Conditions};
use crate::rows::{fetch_session, session_from_row, session_select};
use crate::spaces::not_found_space;
use crate::store::Store;

/// Consecutive code collisions tolerated for one session before giving up.
const MAX_CODE_COLLISIONS: u32 = 20;

/// A generated code was taken already: another may be tried, unless `MAX_CODE_COLLISIONS` in a
/// row were (`CodeSpaceExhausted`).
fn code_taken(collisions: &mut u32) -> Result<()> {
    *collisions += 1;
    if *collisions >= MAX_CODE_COLLISIONS {
        return Err(StoreError::CodeSpaceExhausted);
    }
    Ok(())
}

/// What a start records with it, decided by the caller's rules from the started row
/// ([`Store::start_session_with`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StartPlan {
    /// The session must end by then (the space's closing time): its time is cut to it.
    pub end_at_most: Option<Millis>,
    /// Warnings already passed at the start (1 or 2): they are not pushed.
    pub warning_level: i64,
    /// The threshold of that level (seconds before the end), for the event's detail.
    pub warning_before_end_secs: Option<i64>,
}

/// Cuts a running session's time so that it ends at `$2` if it would run past it.
const CAP_END: &str = "UPDATE sessions SET added_secs = (($2 - started_at) / 1000) - initial_secs \
     WHERE id = $1 AND statut = 'active' \
     AND started_at + (initial_secs + added_secs) * 1000 > $2";

/// Raises a running session's warning level to `$2` if it is lower.
const RAISE_LEVEL: &str = "UPDATE sessions SET warning_level = $2 \
     WHERE id = $1 AND statut = 'active' AND warning_level < $2";

/// A refused transition: the current row, or None when the session does not exist.
type Refused = Option<SessionRow>;

impl Store {
    /// Creates `count` sessions in one transaction. `generate_code` is called for each, again
    /// when the code is already taken by any session ever created (codes are unique for all
    /// time, so an old code is reported as used, never confused with a new one); after 20
    /// collisions in a row: `CodeSpaceExhausted`. One `SessionCreated` event per session.
    pub async fn create_sessions(
        &self,
        new: &NewSession,
        count: u32,
        generate_code: &mut (dyn FnMut() -> String + Send),
        actor: &Actor,
        now: Millis,
    ) -> Result<Vec<SessionRow>> {
        let created_by = actor.label();
        let mut tx = self.writer.begin().await?;
        if let Some(espace_id) = new.espace_id {
            let live: Option<i64> =
                sqlx::query_scalar("SELECT id FROM espaces WHERE id = $1 AND deleted_at IS NULL")
                    .bind(espace_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if live.is_none() {
                return Err(not_found_space(espace_id));
            }
        }
        let mut ids = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let mut collisions = 0;
            let id = loop {
                let code = generate_code();
                let inserted: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO sessions (code, utilisateur, poste_id, statut, initial_secs, \
                     added_secs, created_at, valid_until, warning_level, created_by, visiteur_id, \
                     espace_id) \
                     VALUES ($1, $2, $3, 'en_attente', $4, 0, $5, $6, 0, $7, $8, $9) \
                     ON CONFLICT (code) DO NOTHING RETURNING id",
                )
                .bind(code)
                .bind(new.utilisateur.clone())
                .bind(new.poste_id)
                .bind(new.duration_secs)
                .bind(now)
                .bind(new.valid_until)
                .bind(created_by.clone())
                .bind(new.visiteur_id)
                .bind(new.espace_id)
                .fetch_optional(&mut *tx)
                .await?;
                match inserted {
                    Some(id) => break id,
                    None => code_taken(&mut collisions)?,
                }
            };
            self.insert_event(
                &mut tx,
                now,
                &EventSpec::by(EventKind::SessionCreated, actor, None),
                Some(id),
                new.poste_id,
            )
            .await?;
            ids.push(id);
        }
        let mut rows = Vec::with_capacity(ids.len());
        for id in ids {
            rows.push(
                fetch_session(&mut *tx, id)
                    .await?
                    .ok_or_else(|| not_found_session(id))?,
            );
        }
        tx.commit().await?;
        Ok(rows)
    }

    pub async fn session(&self, id: i64) -> Result<Option<SessionRow>> {
        fetch_session(&self.pool, id).await
    }

    /// By normalised code.
    pub async fn session_by_code(&self, code: &str) -> Result<Option<SessionRow>> {
        let row = sqlx::query(concat!(session_select!(), " WHERE s.code = $1"))
            .bind(code.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    pub async fn list_sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionRow>> {
        let mut conditions = Conditions::default();
        if let Some(status) = filter.status {
            conditions.push("s.statut = ?", Arg::Text(status.as_str().to_owned()));
        }
        if let Some(poste_id) = filter.poste_id {
            conditions.push("s.poste_id = ?", Arg::Int(poste_id));
        }
        if let Some(visiteur_id) = filter.visiteur_id {
            conditions.push("s.visiteur_id = ?", Arg::Int(visiteur_id));
        }
        if let Some(from) = filter.created_from {
            conditions.push("s.created_at >= ?", Arg::Int(from));
        }
        if let Some(to) = filter.created_to {
            conditions.push("s.created_at < ?", Arg::Int(to));
        }
        if let Some(name) = &filter.utilisateur {
            conditions.push_contains("s.utilisateur", name);
        }
        if let Some(scope) = &filter.scope {
            conditions.push_scope(
                scope,
                "COALESCE(p.espace_id, s.espace_id)",
                "p.id IS NULL AND s.espace_id IS NULL",
            );
        }
        let rows = conditions
            .fetch_page(
                &self.pool,
                session_select!(),
                "s.created_at DESC, s.id DESC",
                filter.limit,
                filter.offset,
            )
            .await?;
        rows.iter().map(session_from_row).collect()
    }

    /// Every session whose status is `active`.
    pub async fn active_sessions(&self) -> Result<Vec<SessionRow>> {
        let rows = sqlx::query(concat!(
            session_select!(),
            " WHERE s.statut = 'active' ORDER BY s.id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(session_from_row).collect()
    }

    /// `en_attente` → `active` at `now`, on `poste_id`. Refused with `WrongState` (carrying the
    /// current row) unless the session is `en_attente`, `valid_until > now`, its bound
    /// workstation is `poste_id` or it is bound to none, and its code is valid in every space or
    /// in the workstation's ([`DEFAULT_SPACE`] for a start with no workstation). Sets `poste_id` when it was unbound.
    /// `NotFound` for an unknown id. Event `SessionStarted`.
    pub async fn start_session(
        &self,
        id: i64,
        poste_id: Option<i64>,
        actor: &Actor,
        now: Millis,
    ) -> Result<SessionRow> {
        self.start_session_with(id, poste_id, actor, now, |_| StartPlan::default())
            .await
    }

    /// The start of [`Store::start_session`], with what the caller's rules decide from the
    /// started row (`plan`) written in **the same transaction**: the end capped at `end_at_most`
    /// (event `TimeAdded`, detail `fermeture`) and the warning level already reached (event
    /// `WarningSent`). Either all of it is recorded, or nothing: a failure between the start
    /// and its cap leaves the session `en_attente`.
    pub async fn start_session_with(
        &self,
        id: i64,
        poste_id: Option<i64>,
        actor: &Actor,
        now: Millis,
        plan: impl FnOnce(&SessionRow) -> StartPlan + Send,
    ) -> Result<SessionRow> {
        let start = sqlx::query(
            "UPDATE sessions SET statut = 'active', started_at = $3, \
             poste_id = COALESCE(poste_id, $2) \
             WHERE id = $1 AND statut = 'en_attente' AND valid_until > $3 \
             AND (poste_id IS NULL OR poste_id = $2) \
             AND (espace_id IS NULL OR espace_id = \
                  COALESCE((SELECT p.espace_id FROM postes p WHERE p.id = $2), $4))",
        )
        .bind(id)
        .bind(poste_id)
        .bind(now)
        .bind(DEFAULT_SPACE);
        let mut tx = self.writer.begin().await?;
        let row = match update_session(&mut tx, id, start).await? {
            Ok(row) => row,
            Err(refused) => {
                tx.rollback().await?;
                return Err(refusal(id, refused));
            }
        };
        let event = EventSpec::by(EventKind::SessionStarted, actor, None);
        self.insert_event(&mut tx, now, &event, Some(id), row.poste_id)
            .await?;
        self.apply_plan(&mut tx, &row, plan(&row), now).await?;
        let row = fetch_session(&mut *tx, id)
            .await?
            .ok_or_else(|| not_found_session(id))?;
        tx.commit().await?;
        Ok(row)
    }

    /// What a start records with it ([`StartPlan`]), in the start's transaction.
    async fn apply_plan(
        &self,
        tx: &mut AnyConnection,
        row: &SessionRow,
        plan: StartPlan,
        now: Millis,
    ) -> Result<()> {
        let id = row.id;
        if let Some(end) = plan.end_at_most {
            let capped = sqlx::query(CAP_END)
                .bind(id)
                .bind(end)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if capped > 0 {
                let event = EventSpec::by(EventKind::TimeAdded, &Actor::System, Some("fermeture"));
                self.insert_event(&mut *tx, now, &event, Some(id), row.poste_id)
                    .await?;
            }
        }
        if plan.warning_level > 0 {
            let raised = sqlx::query(RAISE_LEVEL)
                .bind(id)
                .bind(plan.warning_level)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if raised > 0 {
                let warning = Warning {
                    level: plan.warning_level,
                    before_end_secs: plan.warning_before_end_secs,
                };
                let event = EventSpec::by(
                    EventKind::WarningSent,
                    &Actor::System,
                    Some(&warning.detail()),
                );
                self.insert_event(&mut *tx, now, &event, Some(id), row.poste_id)
                    .await?;
            }
        }
        Ok(())
    }

    /// Opens a workshop: on each of its workstations, in this order, a session of the
    /// workshop's name and duration, `active` from `now` (its code, unique as any, is never
    /// typed), in the workstation's space, with what `plan` decides from each started row (its
    /// space's closing time). One transaction: a workstation unknown or retired (`NotFound`)
    /// or already running a session (`WrongState`, carrying that session) refuses the whole
    /// workshop, nothing recorded. Events `SessionCreated` and `SessionStarted` (detail
    /// `atelier`) for each.
    pub async fn open_workshop(
        &self,
        workshop: &NewWorkshop,
        generate_code: &mut (dyn FnMut() -> String + Send),
        actor: &Actor,
        now: Millis,
        plan: impl Fn(&SessionRow) -> StartPlan + Send,
    ) -> Result<Vec<SessionRow>> {
        let created_by = actor.label();
        let mut tx = self.writer.begin().await?;
        let mut rows = Vec::with_capacity(workshop.postes.len());
        for &poste_id in &workshop.postes {
            let espace_id: Option<i64> = sqlx::query_scalar(
                "SELECT espace_id FROM postes WHERE id = $1 AND retired_at IS NULL",
            )
            .bind(poste_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(espace_id) = espace_id else {
                return Err(StoreError::not_found("poste", poste_id));
            };
            let busy = sqlx::query(concat!(
                session_select!(),
                " WHERE s.poste_id = $1 AND s.statut = 'active' ORDER BY s.id LIMIT 1"
            ))
            .bind(poste_id)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(busy) = busy {
                return Err(StoreError::WrongState(Box::new(session_from_row(&busy)?)));
            }
            let mut collisions = 0;
            let id = loop {
                let inserted: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO sessions (code, poste_id, statut, initial_secs, added_secs, \
                     created_at, valid_until, started_at, warning_level, created_by, espace_id, \
                     atelier) \
                     VALUES ($1, $2, 'active', $3, 0, $4, $4, $4, 0, $5, $6, $7) \
                     ON CONFLICT (code) DO NOTHING RETURNING id",
                )
                .bind(generate_code())
                .bind(poste_id)
                .bind(workshop.duration_secs)
                .bind(now)
                .bind(created_by.clone())
                .bind(espace_id)
                .bind(workshop.atelier.clone())
                .fetch_optional(&mut *tx)
                .await?;
                match inserted {
                    Some(id) => break id,
                    None => code_taken(&mut collisions)?,
                }
            };
            let created = EventSpec::by(EventKind::SessionCreated, actor, None);
            self.insert_event(&mut tx, now, &created, Some(id), Some(poste_id))
                .await?;
            let started = EventSpec::by(EventKind::SessionStarted, actor, Some("atelier"));
            self.insert_event(&mut tx, now, &started, Some(id), Some(poste_id))
                .await?;
            let row = fetch_session(&mut *tx, id)
                .await?
                .ok_or_else(|| not_found_session(id))?;
            self.apply_plan(&mut tx, &row, plan(&row), now).await?;
            rows.push(
                fetch_session(&mut *tx, id)
                    .await?
                    .ok_or_else(|| not_found_session(id))?,
            );
        }
        tx.commit().await?;
        Ok(rows)
    }

    /// Adds `secs` (> 0) to an `en_attente` or `active` session; `WrongState` otherwise. Resets
    /// `warning_level` to the thresholds already passed at the new deadline: the caller passes
    /// `warning_level_after`, computed from its thresholds. Event `TimeAdded` (detail `+secs`).
    pub async fn add_time(
        &self,
        id: i64,
        secs: i64,
        warning_level_after: i64,
        actor: &Actor,
        now: Millis,
    ) -> Result<SessionRow> {
        if secs <= 0 {
            // A caller bug, not a state of the session.
            return Err(StoreError::Database(sqlx::Error::InvalidArgument(format!(
                "add_time: secs must be positive, got {secs}"
            ))));
        }
        let update = sqlx::query(
            "UPDATE sessions SET added_secs = added_secs + $2, warning_level = $3 \
             WHERE id = $1 AND statut IN ('en_attente', 'active')",
        )
        .bind(id)
        .bind(secs)
        .bind(warning_level_after);
        let event = EventSpec::by(EventKind::TimeAdded, actor, Some(&format!("+{secs}")));
        self.transition(id, update, event, now)
            .await?
            .map_err(|refused| refusal(id, refused))
    }

    /// Ends an `active` session early (`Terminee`, with `reason`). `WrongState` if it is not
    /// active. Event `SessionEnded` (detail = reason).
    pub async fn end_session(
        &self,
        id: i64,
        reason: &str,
        actor: &Actor,
        now: Millis,
    ) -> Result<SessionRow> {
        let update = sqlx::query(
            "UPDATE sessions SET statut = 'terminee', ended_at = $3, end_reason = $2 \
             WHERE id = $1 AND statut = 'active'",
        )
        .bind(id)
        .bind(reason.to_owned())
        .bind(now);
        let event = EventSpec::by(EventKind::SessionEnded, actor, Some(reason));
        self.transition(id, update, event, now)
            .await?
            .map_err(|refused| refusal(id, refused))
    }

    /// `active` → `expiree` (reason `temps_expire`) if its deadline is at or before `now`.
    /// Returns `Ok(None)` when it is not active or not yet due (someone else ended it, or time
    /// was added): the caller then does nothing, which makes expiry happen exactly once.
    /// `ended_at` is the deadline itself, not `now` (a session that expired while the server was
    /// down ended at its deadline). Event `SessionEnded` by `Actor::System`.
    pub async fn expire_session(&self, id: i64, now: Millis) -> Result<Option<SessionRow>> {
        const REASON: &str = "temps_expire";
        // Same deadline as `SessionRow::deadline`.
        let update = sqlx::query(
            "UPDATE sessions SET statut = 'expiree', end_reason = $3, \
             ended_at = started_at + (initial_secs + added_secs) * 1000 \
             WHERE id = $1 AND statut = 'active' \
             AND started_at + (initial_secs + added_secs) * 1000 <= $2",
        )
        .bind(id)
        .bind(now)
        .bind(REASON);
        let event = EventSpec::by(EventKind::SessionEnded, &Actor::System, Some(REASON));
        Ok(self.transition(id, update, event, now).await?.ok())
    }

    /// `en_attente` → `annulee` (staff cancel an unused code). `WrongState` otherwise.
    /// Event `CodeCancelled`.
    pub async fn cancel_session(&self, id: i64, actor: &Actor, now: Millis) -> Result<SessionRow> {
        let update = sqlx::query(
            "UPDATE sessions SET statut = 'annulee', ended_at = $2 \
             WHERE id = $1 AND statut = 'en_attente'",
        )
        .bind(id)
        .bind(now);
        let event = EventSpec::by(EventKind::CodeCancelled, actor, None);
        self.transition(id, update, event, now)
            .await?
            .map_err(|refused| refusal(id, refused))
    }

    /// Records that `warning` (level 1 or 2) was pushed, if its level is higher than the
    /// stored one and the session is active. Returns whether it was raised (false: already
    /// sent, by this or another instance). Event `WarningSent` (detail [`Warning::detail`])
    /// only when raised.
    pub async fn raise_warning_level(
        &self,
        id: i64,
        warning: Warning,
        now: Millis,
    ) -> Result<bool> {
        let update = sqlx::query(RAISE_LEVEL).bind(id).bind(warning.level);
        let event = EventSpec::by(
            EventKind::WarningSent,
            &Actor::System,
            Some(&warning.detail()),
        );
        Ok(self.transition(id, update, event, now).await?.is_ok())
    }

    /// Runs a conditional `UPDATE` of session `id`; when it changed the row, appends the event
    /// and returns the new row, all in one transaction. Otherwise returns the current row (or
    /// None if there is none) and changes nothing.
    async fn transition(
        &self,
        id: i64,
        update: sqlx::query::Query<'_, Any, AnyArguments>,
        event: EventSpec,
        now: Millis,
    ) -> Result<std::result::Result<SessionRow, Refused>> {
        let mut tx = self.writer.begin().await?;
        let row = match update_session(&mut tx, id, update).await? {
            Ok(row) => row,
            Err(refused) => {
                tx.rollback().await?;
                return Ok(Err(refused));
            }
        };
        self.insert_event(&mut tx, now, &event, Some(id), row.poste_id)
            .await?;
        tx.commit().await?;
        Ok(Ok(row))
    }
}

/// Runs a conditional `UPDATE` of session `id` as the first statement of a transaction (on
/// SQLite a write first waits for the lock, the busy timeout, instead of failing on a stale read
/// snapshot): the row as changed, or, when it changed nothing, the current row (None when there
/// is none) for the caller to roll back with.
async fn update_session(
    tx: &mut AnyConnection,
    id: i64,
    update: sqlx::query::Query<'_, Any, AnyArguments>,
) -> Result<std::result::Result<SessionRow, Refused>> {
    let changed = update.execute(&mut *tx).await?.rows_affected();
    match fetch_session(&mut *tx, id).await? {
        Some(row) if changed > 0 => Ok(Ok(row)),
        refused => Ok(Err(refused)),
    }
}

fn refusal(id: i64, refused: Refused) -> StoreError {
    match refused {
        Some(row) => StoreError::WrongState(Box::new(row)),
        None => not_found_session(id),
    }
}

pub(crate) fn not_found_session(id: i64) -> StoreError {
    StoreError::not_found("session", id)
}
