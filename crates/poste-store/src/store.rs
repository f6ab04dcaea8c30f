//! The store: the same SQL on both backends, through sqlx's `Any` driver.

use std::path::Path;
use std::str::FromStr;

use sqlx::any::{AnyArguments, AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyConnection, AnyPool, AssertSqlSafe, Executor, Row};

use crate::error::{EnrollmentRefusal, Result, StoreError};
use crate::model::*;

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// SQLite readers beside the one writer (WAL: readers never wait for it).
const SQLITE_READERS: u32 = 8;
/// Consecutive code collisions tolerated for one session before giving up.
const MAX_CODE_COLLISIONS: u32 = 20;
const DEFAULT_LIST_LIMIT: i64 = 100;
const MAX_LIST_LIMIT: i64 = 1000;

/// Columns of a session row, `postes` joined for the name; the FROM clause is included so
/// that callers only append `WHERE …`. Decoded by [`session_from_row`].
macro_rules! session_select {
    () => {
        "SELECT s.id AS id, s.code AS code, s.utilisateur AS utilisateur, \
         s.poste_id AS poste_id, p.nom AS poste_nom, s.statut AS statut, \
         s.initial_secs AS initial_secs, s.added_secs AS added_secs, \
         s.created_at AS created_at, s.valid_until AS valid_until, \
         s.started_at AS started_at, s.ended_at AS ended_at, s.end_reason AS end_reason, \
         s.warning_level AS warning_level, s.created_by AS created_by, \
         s.visiteur_id AS visiteur_id \
         FROM sessions s LEFT JOIN postes p ON p.id = s.poste_id"
    };
}

/// Columns of a workstation row, for `SELECT … FROM postes` and `RETURNING`.
macro_rules! poste_columns {
    () => {
        "id, nom, ip, mac, version, created_at, last_seen, hors_service, enrollment, secret_hash, \
         emplacement, retired_at"
    };
}
pub(crate) use poste_columns;

/// Columns of an enrollment code row (never the hash).
macro_rules! enrollment_code_columns {
    () => {
        "id, poste_nom, created_at, expires_at, used_at"
    };
}

/// Columns of a token row (never the hash).
macro_rules! token_columns {
    () => {
        "id, nom, created_at, last_used, revoked_at"
    };
}

/// Handle on the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    /// For reads. On PostgreSQL the same pool as `writer`.
    pub(crate) pool: AnyPool,
    /// For every write. On SQLite one connection: SQLite lets one writer in at a time, and
    /// writers racing for its lock on several connections wait in its busy handler, which
    /// sleeps and polls (up to 100 ms a turn): under a burst of connecting workstations the
    /// writes queued for seconds (docs/benchmarks.md). Here they queue in the pool, first
    /// come first served, and each starts the instant the previous one commits.
    pub(crate) writer: AnyPool,
    backend: Backend,
    origin: String,
    /// The PostgreSQL URL, for the LISTEN connection (None on SQLite).
    pub(crate) url: Option<SecretUrl>,
}

/// A database URL that may hold a password: never printed.
#[derive(Clone)]
pub(crate) struct SecretUrl(String);

impl std::ops::Deref for SecretUrl {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

/// What a session transition writes into the event log besides the session and its poste.
pub(crate) struct EventSpec {
    pub(crate) kind: EventKind,
    pub(crate) actor: String,
    /// The address the change came from, when known.
    pub(crate) ip: Option<String>,
    pub(crate) detail: Option<String>,
}

/// A refused transition: the current row, or None when the session does not exist.
type Refused = Option<SessionRow>;

impl Store {
    /// Opens `url` (`sqlite:PATH` / `sqlite://PATH?mode=rwc`, creating the file and its parent
    /// directory; or `postgres://…`), switches SQLite to WAL, and applies the migrations.
    /// `origin` names this process in the events it writes (the server uses a random instance id).
    pub async fn connect(url: &str, origin: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let (backend, url) = normalise_url(url)?;
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|_| StoreError::UnsupportedUrl(redact(&url)))?;

        let (pool, writer) = match backend {
            Backend::Sqlite => {
                let writer = sqlite_pool(1, false)
                    .connect_with(options.clone())
                    .await
                    .map_err(StoreError::from_sqlx)?;
                // Persists in the file; must happen before anything else writes.
                let mode: String = sqlx::query_scalar("PRAGMA journal_mode = WAL")
                    .fetch_one(&writer)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                if !mode.eq_ignore_ascii_case("wal") {
                    tracing::warn!(journal_mode = %mode, "SQLite refused WAL mode");
                }
                SQLITE_MIGRATOR.run(&writer).await?;
                // Debug builds (the tests) open the readers read-only, so that a write sent
                // to the wrong pool fails loudly instead of contending for the lock.
                let readers = sqlite_pool(SQLITE_READERS, cfg!(debug_assertions))
                    .connect_with(options)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                (readers, writer)
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .connect_with(options)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                POSTGRES_MIGRATOR.run(&pool).await?;
                (pool.clone(), pool)
            }
        };

        Ok(Store {
            pool,
            writer,
            backend,
            origin: origin.to_owned(),
            url: (backend == Backend::Postgres).then(|| SecretUrl(url.clone())),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The instance id this store writes into `events.origin`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<()> {
        self.pool
            .execute("SELECT 1")
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    // ----- sessions -------------------------------------------------------------------------

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
        let mut tx = self.writer.begin().await.map_err(StoreError::from_sqlx)?;
        let mut ids = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let mut collisions = 0;
            let id = loop {
                let code = generate_code();
                let inserted: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO sessions (code, utilisateur, poste_id, statut, initial_secs, \
                     added_secs, created_at, valid_until, warning_level, created_by, visiteur_id) \
                     VALUES ($1, $2, $3, 'en_attente', $4, 0, $5, $6, 0, $7, $8) \
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
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::from_sqlx)?;
                match inserted {
                    Some(id) => break id,
                    None => {
                        collisions += 1;
                        if collisions >= MAX_CODE_COLLISIONS {
                            return Err(StoreError::CodeSpaceExhausted);
                        }
                    }
                }
            };
            self.insert_event(
                &mut tx,
                now,
                &EventSpec {
                    kind: EventKind::SessionCreated,
                    actor: created_by.clone(),
                    ip: actor.ip().map(str::to_owned),
                    detail: None,
                },
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
        tx.commit().await.map_err(StoreError::from_sqlx)?;
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
            .await
            .map_err(StoreError::from_sqlx)?;
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
        .await
        .map_err(StoreError::from_sqlx)?;
        rows.iter().map(session_from_row).collect()
    }

    /// `en_attente` → `active` at `now`, on `poste_id`. Refused with `WrongState` (carrying the
    /// current row) unless the session is `en_attente`, `valid_until > now`, and its bound
    /// workstation is `poste_id` or it is bound to none. Sets `poste_id` when it was unbound.
    /// `NotFound` for an unknown id. Event `SessionStarted`.
    pub async fn start_session(
        &self,
        id: i64,
        poste_id: Option<i64>,
        actor: &Actor,
        now: Millis,
    ) -> Result<SessionRow> {
        let update = sqlx::query(
            "UPDATE sessions SET statut = 'active', started_at = $3, \
             poste_id = COALESCE(poste_id, $2) \
             WHERE id = $1 AND statut = 'en_attente' AND valid_until > $3 \
             AND (poste_id IS NULL OR poste_id = $2)",
        )
        .bind(id)
        .bind(poste_id)
        .bind(now);
        let event = EventSpec {
            kind: EventKind::SessionStarted,
            actor: actor.label(),
            ip: actor.ip().map(str::to_owned),
            detail: None,
        };
        self.transition(id, update, event, now)
            .await?
            .map_err(|refused| refusal(id, refused))
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
        let event = EventSpec {
            kind: EventKind::TimeAdded,
            actor: actor.label(),
            ip: actor.ip().map(str::to_owned),
            detail: Some(format!("+{secs}")),
        };
        self.transition(id, update, event, now)
            .await?
            .map_err(|refused| refusal(id, refused))
    }

    /// Shortens a running session so that it ends at `end` (the space's closing time) if it
    /// would run past it; `None` when it already ends in time (or is not running). Event
    /// `TimeAdded` (detail `fermeture`).
    pub async fn cap_session_end(
        &self,
        id: i64,
        end: Millis,
        actor: &Actor,
        now: Millis,
    ) -> Result<Option<SessionRow>> {
        let update = sqlx::query(
            "UPDATE sessions SET added_secs = (($2 - started_at) / 1000) - initial_secs \
             WHERE id = $1 AND statut = 'active' \
             AND started_at + (initial_secs + added_secs) * 1000 > $2",
        )
        .bind(id)
        .bind(end);
        let event = EventSpec {
            kind: EventKind::TimeAdded,
            actor: actor.label(),
            ip: actor.ip().map(str::to_owned),
            detail: Some("fermeture".to_owned()),
        };
        Ok(self.transition(id, update, event, now).await?.ok())
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
        let event = EventSpec {
            kind: EventKind::SessionEnded,
            actor: actor.label(),
            ip: actor.ip().map(str::to_owned),
            detail: Some(reason.to_owned()),
        };
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
        let event = EventSpec {
            kind: EventKind::SessionEnded,
            actor: Actor::System.label(),
            ip: None,
            detail: Some(REASON.to_owned()),
        };
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
        let event = EventSpec {
            kind: EventKind::CodeCancelled,
            actor: actor.label(),
            ip: actor.ip().map(str::to_owned),
            detail: None,
        };
        self.transition(id, update, event, now)
            .await?
            .map_err(|refused| refusal(id, refused))
    }

    /// Records that warning `level` (1 or 2) was pushed, if it is higher than the stored one
    /// and the session is active. Returns whether it was raised (false: already sent, by this
    /// or another instance). Event `WarningSent` only when raised.
    pub async fn raise_warning_level(&self, id: i64, level: i64, now: Millis) -> Result<bool> {
        let update = sqlx::query(
            "UPDATE sessions SET warning_level = $2 \
             WHERE id = $1 AND statut = 'active' AND warning_level < $2",
        )
        .bind(id)
        .bind(level);
        let event = EventSpec {
            kind: EventKind::WarningSent,
            actor: Actor::System.label(),
            ip: None,
            detail: Some(level.to_string()),
        };
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
        // The UPDATE comes first in the transaction: on SQLite a write as first statement
        // waits for the lock (busy timeout) instead of failing on a stale read snapshot.
        let mut tx = self.writer.begin().await.map_err(StoreError::from_sqlx)?;
        let changed = update
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?
            .rows_affected();
        let current = fetch_session(&mut *tx, id).await?;
        let row = match current {
            Some(row) if changed > 0 => row,
            refused => {
                tx.rollback().await.map_err(StoreError::from_sqlx)?;
                return Ok(Err(refused));
            }
        };
        self.insert_event(&mut tx, now, &event, Some(id), row.poste_id)
            .await?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(Ok(row))
    }

    // ----- workstations ---------------------------------------------------------------------

    /// `AlreadyExists` if the name is taken (names compare case-insensitively). Event
    /// `PosteCreated`.
    pub async fn create_poste(
        &self,
        new: &NewPoste,
        actor: &Actor,
        now: Millis,
    ) -> Result<PosteRow> {
        let mut tx = self.writer.begin().await.map_err(StoreError::from_sqlx)?;
        let row = insert_poste(&mut tx, &new.nom, &new.ip, &new.mac, &None, None, now)
            .await?
            .ok_or_else(|| StoreError::AlreadyExists {
                what: "poste",
                name: new.nom.clone(),
            })?;
        let event = EventSpec {
            kind: EventKind::PosteCreated,
            actor: actor.label(),
            ip: actor.ip().map(str::to_owned),
            detail: Some(row.nom.clone()),
        };
        self.insert_event(&mut tx, now, &event, None, Some(row.id))
            .await?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
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
        .await
        .map_err(StoreError::from_sqlx)?;
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
        .await
        .map_err(StoreError::from_sqlx)?;
        row.as_ref().map(poste_from_row).transpose()
    }

    /// A workstation made itself known: creates it if its name is new (event `PosteCreated`,
    /// actor = the poste), else updates ip/mac/version when given (None keeps the old value)
    /// and `last_seen`. No event for a mere sighting of a known workstation (they are frequent).
    pub async fn record_poste_seen(&self, seen: &PosteSighting, now: Millis) -> Result<PosteRow> {
        let mut tx = self.writer.begin().await.map_err(StoreError::from_sqlx)?;
        // Update first (the common case, and a write as first statement, see `transition`);
        // insert when unknown.
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
                        let event = EventSpec {
                            kind: EventKind::PosteCreated,
                            actor: Actor::Poste(row.nom.clone()).label(),
                            ip: None,
                            detail: Some(row.nom.clone()),
                        };
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
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(row)
    }

    /// Sets `last_seen` of every workstation in `ids` to `now`, in one transaction (the server
    /// gathers a minute of sightings: one commit for all, not one per workstation). No event.
    /// Returns how many rows changed (unknown ids are skipped).
    pub async fn touch_postes(&self, ids: &[i64], now: Millis) -> Result<u64> {
        const CHUNK: usize = 500;
        let mut tx = self.writer.begin().await.map_err(StoreError::from_sqlx)?;
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
            changed += query
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from_sqlx)?
                .rows_affected();
        }
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(changed)
    }

    /// Runs a `… SET <time column> = $2 WHERE id = $1`; `NotFound` when no row has that id.
    pub(crate) async fn touch(
        &self,
        sql: &'static str,
        what: &'static str,
        id: i64,
        now: Millis,
    ) -> Result<()> {
        let done = sqlx::query(sql)
            .bind(id)
            .bind(now)
            .execute(&self.writer)
            .await
            .map_err(StoreError::from_sqlx)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what,
                id: id.to_string(),
            });
        }
        Ok(())
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
        let mut tx = self.writer.begin().await.map_err(StoreError::from_sqlx)?;
        let row = sqlx::query(concat!(
            "UPDATE postes SET hors_service = $2 WHERE id = $1 RETURNING ",
            poste_columns!()
        ))
        .bind(id)
        .bind(i64::from(out_of_order))
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        let Some(row) = row else {
            return Err(StoreError::NotFound {
                what: "poste",
                id: id.to_string(),
            });
        };
        let poste = poste_from_row(&row)?;
        let event = EventSpec {
            kind: EventKind::PosteServiceChanged,
            actor: actor.label(),
            ip: actor.ip().map(str::to_owned),
            detail: Some(
                if out_of_order {
                    "hors_service"
                } else {
                    "en_service"
                }
                .to_owned(),
            ),
        };
        self.insert_event(&mut tx, now, &event, None, Some(poste.id))
            .await?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
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
        let mut tx = self.writer.begin().await.map_err(StoreError::from_sqlx)?;
        let event = EventSpec {
            kind: EventKind::MessageSent,
            actor: actor.label(),
            ip: actor.ip().map(str::to_owned),
            detail: Some(message.to_owned()),
        };
        self.insert_event(&mut tx, now, &event, None, Some(poste_id))
            .await?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(())
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
        let mut tx = self.writer.begin().await.map_err(StoreError::from_sqlx)?;
        let event = EventSpec {
            kind: EventKind::PosteIncident,
            actor: actor.label(),
            ip: actor.ip().map(str::to_owned),
            detail: Some(detail.to_owned()),
        };
        self.insert_event(&mut tx, now, &event, session_id, poste_id)
            .await?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    /// All workstations in service or not, by name; retired ones are left out.
    pub async fn list_postes(&self) -> Result<Vec<PosteRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            poste_columns!(),
            " FROM postes WHERE retired_at IS NULL ORDER BY LOWER(nom), id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)?;
        rows.iter().map(poste_from_row).collect()
    }

    // ----- API tokens -----------------------------------------------------------------------

    /// Stores a token by its SHA-256 (hex). `AlreadyExists` if the name is taken by a token
    /// that is not revoked. Event `TokenCreated`.
    pub async fn create_token(
        &self,
        nom: &str,
        hash_hex: &str,
        actor: &Actor,
        now: Millis,
    ) -> Result<TokenRow> {
        let mut tx = self.writer.begin().await.map_err(StoreError::from_sqlx)?;
        // Conflicts with the partial unique index on live names (or, absurdly, on the hash).
        let row = sqlx::query(concat!(
            "INSERT INTO api_tokens (nom, hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING RETURNING ",
            token_columns!()
        ))
        .bind(nom.to_owned())
        .bind(hash_hex.to_owned())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        let token = match row {
            Some(row) => token_from_row(&row)?,
            None => {
                return Err(StoreError::AlreadyExists {
                    what: "token",
                    name: nom.to_owned(),
                });
            }
        };
        let event = EventSpec {
            kind: EventKind::TokenCreated,
            actor: actor.label(),
            ip: actor.ip().map(str::to_owned),
            detail: Some(token.nom.clone()),
        };
        self.insert_event(&mut tx, now, &event, None, None).await?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(token)
    }

    /// The token with this hash, unless revoked.
    pub async fn token_by_hash(&self, hash_hex: &str) -> Result<Option<TokenRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL"
        ))
        .bind(hash_hex.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)?;
        row.as_ref().map(token_from_row).transpose()
    }

    pub async fn touch_token(&self, id: i64, now: Millis) -> Result<()> {
        self.touch(
            "UPDATE api_tokens SET last_used = $2 WHERE id = $1",
            "token",
            id,
            now,
        )
        .await
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM api_tokens ORDER BY nom, id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)?;
        rows.iter().map(token_from_row).collect()
    }

    /// Revokes the live token of that name; `NotFound` if none. Event `TokenRevoked`.
    pub async fn revoke_token(&self, nom: &str, actor: &Actor, now: Millis) -> Result<TokenRow> {
        let mut tx = self.writer.begin().await.map_err(StoreError::from_sqlx)?;
        let row = sqlx::query(concat!(
            "UPDATE api_tokens SET revoked_at = $2 WHERE nom = $1 AND revoked_at IS NULL \
             RETURNING ",
            token_columns!()
        ))
        .bind(nom.to_owned())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        let token = match row {
            Some(row) => token_from_row(&row)?,
            None => {
                return Err(StoreError::NotFound {
                    what: "token",
                    id: nom.to_owned(),
                });
            }
        };
        let event = EventSpec {
            kind: EventKind::TokenRevoked,
            actor: actor.label(),
            ip: actor.ip().map(str::to_owned),
            detail: Some(token.nom.clone()),
        };
        self.insert_event(&mut tx, now, &event, None, None).await?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(token)
    }

    // ----- enrollment -----------------------------------------------------------------------

    /// Stores a one-time enrollment code by its SHA-256 (hex), optionally reserved for a
    /// workstation name (case-insensitive). Event `EnrollmentCodeCreated` (detail: the name).
    pub async fn create_enrollment_code(
        &self,
        code_hash: &str,
        poste_nom: Option<&str>,
        expires_at: Millis,
        actor: &Actor,
        now: Millis,
    ) -> Result<EnrollmentCodeRow> {
        let mut tx = self.writer.begin().await.map_err(StoreError::from_sqlx)?;
        let row = sqlx::query(concat!(
            "INSERT INTO enrollment_codes (code_hash, poste_nom, created_at, expires_at) \
             VALUES ($1, $2, $3, $4) RETURNING ",
            enrollment_code_columns!()
        ))
        .bind(code_hash.to_owned())
        .bind(poste_nom.map(str::to_owned))
        .bind(now)
        .bind(expires_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        let code = enrollment_code_from_row(&row)?;
        let event = EventSpec {
            kind: EventKind::EnrollmentCodeCreated,
            actor: actor.label(),
            ip: actor.ip().map(str::to_owned),
            detail: code.poste_nom.clone(),
        };
        self.insert_event(&mut tx, now, &event, None, None).await?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(code)
    }

    /// An agent asks to enroll as `seen.nom`, in one transaction: checks the proof (a one-time
    /// code is used up), creates the workstation if its name is new (or updates ip/mac/version),
    /// and sets it `EnAttente` with `request_hash` (SHA-256 hex of the agent's request key).
    /// Refused with `EnrollmentRefused(..)`: code unknown or used (`UnknownCode`), expired,
    /// reserved for another name, or the workstation is already `Enrole` (`AlreadyEnrolled`).
    /// A workstation already `EnAttente` or `Approuve` is set back to `EnAttente` with the new
    /// request (the agent lost its request key). Event `EnrollmentRequested`.
    pub async fn request_enrollment(
        &self,
        proof: &EnrollmentProof,
        seen: &PosteSighting,
        request_hash: &str,
        now: Millis,
    ) -> Result<PosteRow> {
        let mut tx = self.writer.begin().await.map_err(StoreError::from_sqlx)?;
        // The code first: a write as first statement (see `transition`), and a refusal below
        // rolls its use back, so a refused request never uses a code up.
        let proof_detail = match proof {
            EnrollmentProof::OneTimeCode(code_hash) => {
                if let Err(refusal) =
                    use_enrollment_code(&mut tx, code_hash, &seen.nom, now).await?
                {
                    tx.rollback().await.map_err(StoreError::from_sqlx)?;
                    return Err(StoreError::EnrollmentRefused(refusal));
                }
                "code_enrolement"
            }
            EnrollmentProof::SiteToken => "jeton_installation",
        };
        let row = match update_enrollment_request(&mut tx, seen, request_hash, now).await? {
            Some(row) => row,
            None => {
                // Unknown, or enrolled. Create it if unknown: when another writer created it
                // in between, the insert waits for it and does nothing, and the update below
                // then finds it (like `record_poste_seen`).
                insert_poste(
                    &mut tx,
                    &seen.nom,
                    &seen.ip,
                    &seen.mac,
                    &seen.version,
                    Some(now),
                    now,
                )
                .await?;
                match update_enrollment_request(&mut tx, seen, request_hash, now).await? {
                    Some(row) => row,
                    None => {
                        tx.rollback().await.map_err(StoreError::from_sqlx)?;
                        return Err(StoreError::EnrollmentRefused(
                            EnrollmentRefusal::AlreadyEnrolled,
                        ));
                    }
                }
            }
        };
        let event = EventSpec {
            kind: EventKind::EnrollmentRequested,
            actor: Actor::Poste(row.nom.clone()).label(),
            ip: None,
            detail: Some(proof_detail.to_owned()),
        };
        self.insert_event(&mut tx, now, &event, None, Some(row.id))
            .await?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(row)
    }

    /// Staff approve a pending request: `EnAttente` → `Approuve`. `NotFound` for an unknown
    /// name, `EnrollmentRefused(NotApproved)` if it is not pending. Event `EnrollmentApproved`.
    pub async fn approve_enrollment(
        &self,
        nom: &str,
        actor: &Actor,
        now: Millis,
    ) -> Result<PosteRow> {
        let update = sqlx::query(concat!(
            "UPDATE postes SET enrollment = 'approuve' \
             WHERE LOWER(nom) = LOWER($1) AND enrollment = 'en_attente' RETURNING ",
            poste_columns!()
        ))
        .bind(nom.to_owned());
        self.enrollment_transition(
            nom,
            update,
            EventKind::EnrollmentApproved,
            Some(actor),
            |_| EnrollmentRefusal::NotApproved,
            now,
        )
        .await
    }

    /// The agent collects its secret: if `nom` is `Approuve` and `request_hash` matches the
    /// pending request, stores `secret_hash`, clears the request, and sets `Enrole`.
    /// `EnrollmentRefused(NotApproved)` while still pending (the agent asks again later),
    /// `EnrollmentRefused(WrongRequest)` for another request key, `NotFound` for an unknown name.
    /// Event `PosteEnrolled`.
    pub async fn complete_enrollment(
        &self,
        nom: &str,
        request_hash: &str,
        secret_hash: &str,
        now: Millis,
    ) -> Result<PosteRow> {
        let update = sqlx::query(concat!(
            "UPDATE postes SET enrollment = 'enrole', secret_hash = $3, request_hash = NULL \
             WHERE LOWER(nom) = LOWER($1) AND enrollment = 'approuve' AND request_hash = $2 \
             RETURNING ",
            poste_columns!()
        ))
        .bind(nom.to_owned())
        .bind(request_hash.to_owned())
        .bind(secret_hash.to_owned());
        self.enrollment_transition(
            nom,
            update,
            EventKind::PosteEnrolled,
            None,
            |current| match current.enrollment {
                Enrollment::Approuve => EnrollmentRefusal::WrongRequest,
                Enrollment::Aucun | Enrollment::EnAttente | Enrollment::Enrole => {
                    EnrollmentRefusal::NotApproved
                }
            },
            now,
        )
        .await
    }

    /// Staff reset a workstation (stolen or reinstalled): back to `Aucun`, secret and request
    /// cleared. `NotFound` for an unknown name. Event `EnrollmentReset`.
    pub async fn reset_enrollment(
        &self,
        nom: &str,
        actor: &Actor,
        now: Millis,
    ) -> Result<PosteRow> {
        let update = sqlx::query(concat!(
            "UPDATE postes SET enrollment = 'aucun', secret_hash = NULL, request_hash = NULL \
             WHERE LOWER(nom) = LOWER($1) RETURNING ",
            poste_columns!()
        ))
        .bind(nom.to_owned());
        // Only an unknown name refuses a reset (`NotFound`); the refusal is never used.
        self.enrollment_transition(
            nom,
            update,
            EventKind::EnrollmentReset,
            Some(actor),
            |_| EnrollmentRefusal::NotApproved,
            now,
        )
        .await
    }

    /// Workstations waiting for staff (`EnAttente`), by name.
    pub async fn pending_enrollments(&self) -> Result<Vec<PosteRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            poste_columns!(),
            " FROM postes WHERE enrollment = 'en_attente' ORDER BY LOWER(nom), id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)?;
        rows.iter().map(poste_from_row).collect()
    }

    /// Runs a conditional `UPDATE postes … RETURNING <poste columns>` of the workstation named
    /// `nom`; when it changed the row, appends the event (`actor` None: the workstation itself)
    /// and returns the new row, all in one transaction. Otherwise changes nothing: `NotFound`
    /// for an unknown name, else `EnrollmentRefused(refuse(current row))`.
    async fn enrollment_transition(
        &self,
        nom: &str,
        update: sqlx::query::Query<'_, Any, AnyArguments>,
        kind: EventKind,
        actor: Option<&Actor>,
        refuse: fn(&PosteRow) -> EnrollmentRefusal,
        now: Millis,
    ) -> Result<PosteRow> {
        let mut tx = self.writer.begin().await.map_err(StoreError::from_sqlx)?;
        let updated = update
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        let row = match updated {
            Some(row) => poste_from_row(&row)?,
            None => {
                let current = fetch_poste_by_name(&mut *tx, nom).await?;
                tx.rollback().await.map_err(StoreError::from_sqlx)?;
                return Err(match current {
                    Some(current) => StoreError::EnrollmentRefused(refuse(&current)),
                    None => not_found_poste(nom),
                });
            }
        };
        let event = EventSpec {
            kind,
            actor: actor.map_or_else(|| Actor::Poste(row.nom.clone()).label(), Actor::label),
            ip: actor.and_then(Actor::ip).map(str::to_owned),
            detail: Some(row.nom.clone()),
        };
        self.insert_event(&mut tx, now, &event, None, Some(row.id))
            .await?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(row)
    }

    // ----- event log ------------------------------------------------------------------------

    /// Events with `id > after`, oldest first, at most `limit`.
    pub async fn events_after(&self, after: i64, limit: i64) -> Result<Vec<EventRow>> {
        let rows = sqlx::query(
            "SELECT id, at, kind, session_id, poste_id, actor, detail, origin, ip FROM events \
             WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)?;
        rows.iter().map(event_from_row).collect()
    }

    /// Highest event id (0 when empty).
    pub async fn last_event_id(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM events")
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)
    }

    pub(crate) async fn insert_event(
        &self,
        conn: &mut AnyConnection,
        now: Millis,
        event: &EventSpec,
        session_id: Option<i64>,
        poste_id: Option<i64>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO events (at, kind, session_id, poste_id, actor, detail, origin, ip) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(now)
        .bind(event.kind.as_str())
        .bind(session_id)
        .bind(poste_id)
        .bind(event.actor.clone())
        .bind(event.detail.clone())
        .bind(self.origin.clone())
        .bind(event.ip.clone())
        .execute(conn)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }
}

// ----- helpers ------------------------------------------------------------------------------

/// A value bound to a placeholder of a query built at run time.
pub(crate) enum Arg {
    Int(i64),
    Text(String),
}

/// The `WHERE` clause of a filtered list, built from conditions written with `?`, each turned
/// into the next `$N` placeholder: only placeholders go into the text, every value is bound.
#[derive(Default)]
pub(crate) struct Conditions {
    args: Vec<Arg>,
    clauses: Vec<String>,
}

impl Conditions {
    pub(crate) fn push(&mut self, clause: &str, arg: Arg) {
        self.args.push(arg);
        self.clauses
            .push(clause.replace('?', &format!("${}", self.args.len())));
    }

    /// `column` contains `text`, literally and case-insensitively (LOWER on both sides, so each
    /// backend folds case its own way, consistently).
    pub(crate) fn push_contains(&mut self, column: &str, text: &str) {
        // No stored text can hold NUL (PostgreSQL refuses it in `text` with an error, and
        // SQLite's LIKE stops at it, so `%\0%` would match every row): match nothing.
        if has_nul(text) {
            self.clauses.push("1 = 0".to_owned());
            return;
        }
        self.push(
            &format!("LOWER({column}) LIKE LOWER(?) ESCAPE '\\'"),
            Arg::Text(format!("%{}%", escape_like(text))),
        );
    }

    /// Several alternatives as one condition: `(a OR b …)`, each with its own value.
    pub(crate) fn push_any(&mut self, clause: &str, args: Vec<Arg>) {
        if args.is_empty() {
            return;
        }
        let mut alternatives = Vec::new();
        for arg in args {
            self.args.push(arg);
            alternatives.push(clause.replace('?', &format!("${}", self.args.len())));
        }
        self.clauses
            .push(format!("({})", alternatives.join(" OR ")));
    }

    /// Runs `select` (which ends with its FROM clause) with these conditions, ordered, one page
    /// (default 100 rows, at most 1000).
    pub(crate) async fn fetch_page(
        self,
        pool: &AnyPool,
        select: &str,
        order_by: &str,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<Vec<AnyRow>> {
        let mut sql = String::from(select);
        if !self.clauses.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&self.clauses.join(" AND "));
        }
        let n = self.args.len();
        sql.push_str(&format!(
            " ORDER BY {order_by} LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        ));
        let limit = limit.unwrap_or(DEFAULT_LIST_LIMIT).clamp(0, MAX_LIST_LIMIT);
        let offset = offset.unwrap_or(0).max(0);
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for arg in self.args {
            query = match arg {
                Arg::Int(value) => query.bind(value),
                Arg::Text(value) => query.bind(value),
            };
        }
        query
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await
            .map_err(StoreError::from_sqlx)
    }
}

pub(crate) async fn fetch_session<'e, E>(executor: E, id: i64) -> Result<Option<SessionRow>>
where
    E: Executor<'e, Database = Any>,
{
    let row = sqlx::query(concat!(session_select!(), " WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(executor)
        .await
        .map_err(StoreError::from_sqlx)?;
    row.as_ref().map(session_from_row).transpose()
}

/// The workstation of that name (case-insensitive).
async fn fetch_poste_by_name<'e, E>(executor: E, nom: &str) -> Result<Option<PosteRow>>
where
    E: Executor<'e, Database = Any>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        poste_columns!(),
        " FROM postes WHERE LOWER(nom) = LOWER($1)"
    ))
    .bind(nom.to_owned())
    .fetch_optional(executor)
    .await
    .map_err(StoreError::from_sqlx)?;
    row.as_ref().map(poste_from_row).transpose()
}

/// Inserts a workstation unless its name is taken (in any case); None then.
async fn insert_poste(
    conn: &mut AnyConnection,
    nom: &str,
    ip: &Option<String>,
    mac: &Option<String>,
    version: &Option<String>,
    last_seen: Option<Millis>,
    now: Millis,
) -> Result<Option<PosteRow>> {
    let row = sqlx::query(concat!(
        "INSERT INTO postes (nom, ip, mac, version, created_at, last_seen, hors_service) \
         VALUES ($1, $2, $3, $4, $5, $6, 0) ON CONFLICT DO NOTHING RETURNING ",
        poste_columns!()
    ))
    .bind(nom.to_owned())
    .bind(ip.clone())
    .bind(mac.clone())
    .bind(version.clone())
    .bind(now)
    .bind(last_seen)
    .fetch_optional(conn)
    .await
    .map_err(StoreError::from_sqlx)?;
    row.as_ref().map(poste_from_row).transpose()
}

async fn update_poste_seen(
    conn: &mut AnyConnection,
    seen: &PosteSighting,
    now: Millis,
) -> Result<Option<PosteRow>> {
    let row = sqlx::query(concat!(
        "UPDATE postes SET ip = COALESCE($2, ip), mac = COALESCE($3, mac), \
         version = COALESCE($4, version), last_seen = $5 \
         WHERE LOWER(nom) = LOWER($1) RETURNING ",
        poste_columns!()
    ))
    .bind(seen.nom.clone())
    .bind(seen.ip.clone())
    .bind(seen.mac.clone())
    .bind(seen.version.clone())
    .bind(now)
    .fetch_optional(conn)
    .await
    .map_err(StoreError::from_sqlx)?;
    row.as_ref().map(poste_from_row).transpose()
}

/// Uses up the one-time code `code_hash` for workstation `nom`, or tells why it cannot be.
async fn use_enrollment_code(
    conn: &mut AnyConnection,
    code_hash: &str,
    nom: &str,
    now: Millis,
) -> Result<std::result::Result<(), EnrollmentRefusal>> {
    let used: Option<i64> = sqlx::query_scalar(
        "UPDATE enrollment_codes SET used_at = $3 \
         WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $3 \
         AND (poste_nom IS NULL OR LOWER(poste_nom) = LOWER($2)) RETURNING id",
    )
    .bind(code_hash.to_owned())
    .bind(nom.to_owned())
    .bind(now)
    .fetch_optional(&mut *conn)
    .await
    .map_err(StoreError::from_sqlx)?;
    if used.is_some() {
        return Ok(Ok(()));
    }
    let row = sqlx::query("SELECT expires_at, used_at FROM enrollment_codes WHERE code_hash = $1")
        .bind(code_hash.to_owned())
        .fetch_optional(conn)
        .await
        .map_err(StoreError::from_sqlx)?;
    let Some(row) = row else {
        return Ok(Err(EnrollmentRefusal::UnknownCode));
    };
    let used_at: Option<Millis> = get(&row, "used_at")?;
    let expires_at: Millis = get(&row, "expires_at")?;
    Ok(Err(if used_at.is_some() {
        EnrollmentRefusal::UnknownCode
    } else if expires_at <= now {
        EnrollmentRefusal::ExpiredCode
    } else {
        EnrollmentRefusal::CodeForAnotherPoste
    }))
}

/// Sets the workstation named `seen.nom` waiting for staff with this request, and records the
/// sighting; None when there is none of that name or it is enrolled.
async fn update_enrollment_request(
    conn: &mut AnyConnection,
    seen: &PosteSighting,
    request_hash: &str,
    now: Millis,
) -> Result<Option<PosteRow>> {
    let row = sqlx::query(concat!(
        "UPDATE postes SET enrollment = 'en_attente', request_hash = $6, \
         ip = COALESCE($2, ip), mac = COALESCE($3, mac), version = COALESCE($4, version), \
         last_seen = $5 \
         WHERE LOWER(nom) = LOWER($1) AND enrollment <> 'enrole' RETURNING ",
        poste_columns!()
    ))
    .bind(seen.nom.clone())
    .bind(seen.ip.clone())
    .bind(seen.mac.clone())
    .bind(seen.version.clone())
    .bind(now)
    .bind(request_hash.to_owned())
    .fetch_optional(conn)
    .await
    .map_err(StoreError::from_sqlx)?;
    row.as_ref().map(poste_from_row).transpose()
}

fn refusal(id: i64, refused: Refused) -> StoreError {
    match refused {
        Some(row) => StoreError::WrongState(Box::new(row)),
        None => not_found_session(id),
    }
}

fn not_found_poste(nom: &str) -> StoreError {
    StoreError::NotFound {
        what: "poste",
        id: nom.to_owned(),
    }
}

fn not_found_session(id: i64) -> StoreError {
    StoreError::NotFound {
        what: "session",
        id: id.to_string(),
    }
}

pub(crate) fn get<'r, T>(row: &'r AnyRow, column: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    row.try_get(column).map_err(StoreError::Database)
}

pub(crate) fn decode_error(what: &str, value: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(
        format!("unknown {what} `{value}` in the database").into(),
    ))
}

pub(crate) fn session_from_row(row: &AnyRow) -> Result<SessionRow> {
    let statut: String = get(row, "statut")?;
    Ok(SessionRow {
        id: get(row, "id")?,
        code: get(row, "code")?,
        utilisateur: get(row, "utilisateur")?,
        poste_id: get(row, "poste_id")?,
        poste_nom: get(row, "poste_nom")?,
        status: SessionStatus::parse(&statut).ok_or_else(|| decode_error("statut", &statut))?,
        initial_secs: get(row, "initial_secs")?,
        added_secs: get(row, "added_secs")?,
        created_at: get(row, "created_at")?,
        valid_until: get(row, "valid_until")?,
        started_at: get(row, "started_at")?,
        ended_at: get(row, "ended_at")?,
        end_reason: get(row, "end_reason")?,
        warning_level: get(row, "warning_level")?,
        created_by: get(row, "created_by")?,
        visiteur_id: get(row, "visiteur_id")?,
    })
}

pub(crate) fn poste_from_row(row: &AnyRow) -> Result<PosteRow> {
    let enrollment: String = get(row, "enrollment")?;
    Ok(PosteRow {
        id: get(row, "id")?,
        nom: get(row, "nom")?,
        ip: get(row, "ip")?,
        mac: get(row, "mac")?,
        version: get(row, "version")?,
        created_at: get(row, "created_at")?,
        last_seen: get(row, "last_seen")?,
        hors_service: get::<i64>(row, "hors_service")? != 0,
        enrollment: Enrollment::parse(&enrollment)
            .ok_or_else(|| decode_error("enrollment", &enrollment))?,
        secret_hash: get(row, "secret_hash")?,
        emplacement: get(row, "emplacement")?,
        retired_at: get(row, "retired_at")?,
    })
}

fn enrollment_code_from_row(row: &AnyRow) -> Result<EnrollmentCodeRow> {
    Ok(EnrollmentCodeRow {
        id: get(row, "id")?,
        poste_nom: get(row, "poste_nom")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
        used_at: get(row, "used_at")?,
    })
}

fn token_from_row(row: &AnyRow) -> Result<TokenRow> {
    Ok(TokenRow {
        id: get(row, "id")?,
        nom: get(row, "nom")?,
        created_at: get(row, "created_at")?,
        last_used: get(row, "last_used")?,
        revoked_at: get(row, "revoked_at")?,
    })
}

pub(crate) fn event_from_row(row: &AnyRow) -> Result<EventRow> {
    let kind: String = get(row, "kind")?;
    Ok(EventRow {
        id: get(row, "id")?,
        at: get(row, "at")?,
        kind: EventKind::parse(&kind).ok_or_else(|| decode_error("event kind", &kind))?,
        session_id: get(row, "session_id")?,
        poste_id: get(row, "poste_id")?,
        actor: get(row, "actor")?,
        ip: get(row, "ip")?,
        detail: get(row, "detail")?,
        origin: get(row, "origin")?,
    })
}

/// Outside text with a NUL character: never stored (PostgreSQL refuses it in `text`), so a
/// lookup by it finds nothing, and must not reach the database, where it would be an error.
pub(crate) fn has_nul(text: &str) -> bool {
    text.contains('\0')
}

/// Escapes `\`, `%` and `_` for `LIKE … ESCAPE '\'`, so the text matches literally.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Picks the backend from the scheme and, for SQLite, rewrites the URL so that sqlx opens
/// (and creates) exactly the file meant, its directory created beforehand.
fn normalise_url(url: &str) -> Result<(Backend, String)> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_owned()));
    }
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return Err(StoreError::UnsupportedUrl(redact(url)));
    };
    let (encoded_path, params) = rest.split_once('?').unwrap_or((rest, ""));
    let path =
        percent_decode(encoded_path).ok_or_else(|| StoreError::UnsupportedUrl(url.to_owned()))?;
    let params: Vec<&str> = params.split('&').filter(|p| !p.is_empty()).collect();
    let in_memory = path == ":memory:" || params.contains(&"mode=memory");
    if path.is_empty() && !in_memory {
        return Err(StoreError::UnsupportedUrl(url.to_owned()));
    }
    if in_memory {
        return Ok((Backend::Sqlite, url.to_owned()));
    }

    let path = std::path::absolute(Path::new(&path))
        .map_err(|err| StoreError::Unavailable(sqlx::Error::Io(err)))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|err| StoreError::Unavailable(sqlx::Error::Io(err)))?;
    }
    let mut normalised = format!(
        "sqlite:{}?mode=rwc",
        percent_encode(&path.to_string_lossy())
    );
    for param in params.iter().filter(|p| !p.starts_with("mode=")) {
        normalised.push('&');
        normalised.push_str(param);
    }
    Ok((Backend::Sqlite, normalised))
}

/// Encodes what would otherwise end or alter the path part of a URL.
fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if matches!(c, '%' | '?' | '#' | ' ' | '"' | '<' | '>' | '`' | '{' | '}') || c.is_control()
        {
            let mut buf = [0; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Decodes `%XX` sequences; None when they do not form UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The URL without its password, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let authority = &url[scheme_end + 3..at];
            match authority.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Options of a SQLite pool of `max` connections; `read_only` connections refuse every write.
fn sqlite_pool(max: u32, read_only: bool) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        // Per connection. FULL: a commit is on the disk (the WAL fsynced) before it is
        // confirmed. NORMAL never corrupts a WAL database, but loses the last commits on a
        // power cut or when the filesystem goes read-only on a disk error: a printed code would
        // no longer exist, a started session would be waiting again (its code usable twice), an
        // end or added time forgotten. Shown by `storage::a_filesystem_gone_read_only_…`
        // (poste-server).
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                conn.execute("PRAGMA synchronous = FULL").await?;
                if read_only {
                    conn.execute("PRAGMA query_only = ON").await?;
                }
                Ok(())
            })
        })
        // When COMMIT fails (disk full, read-only file), SQLite keeps the transaction open
        // while sqlx counts it as done: the connection went back to the pool holding the write
        // lock, and every other writer got "database is locked" forever, even once space was
        // back. A connection coming back is never inside a transaction on purpose, so roll back
        // whatever is left; the error when nothing is open is expected and ignored.
        .after_release(|conn, _meta| {
            Box::pin(async move {
                let _ = conn.execute("ROLLBACK").await;
                Ok(true)
            })
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_become_absolute_with_rwc() {
        let dir = std::env::temp_dir().join(format!("poste-store-url-{}", std::process::id()));
        let abs = dir.join("sub").join("db.sqlite");
        let abs = abs.to_str().unwrap();
        let (backend, url) =
            normalise_url(&format!("sqlite://{abs}?mode=ro&cache=private")).unwrap();
        assert_eq!(backend, Backend::Sqlite);
        assert_eq!(url, format!("sqlite:{abs}?mode=rwc&cache=private"));
        assert!(dir.join("sub").is_dir());
        let (_, url) = normalise_url(&format!("sqlite:{abs}")).unwrap();
        assert_eq!(url, format!("sqlite:{abs}?mode=rwc"));

        let (_, url) = normalise_url("sqlite:relative.db").unwrap();
        let expected = std::env::current_dir().unwrap().join("relative.db");
        assert_eq!(url, format!("sqlite:{}?mode=rwc", expected.display()));

        let root = dir.to_str().unwrap();
        let (_, url) = normalise_url(&format!("sqlite:{root}/a%20b/c.db")).unwrap();
        assert_eq!(url, format!("sqlite:{root}/a%20b/c.db?mode=rwc"));
        assert!(dir.join("a b").is_dir());
        let (_, url) = normalise_url(&format!("sqlite:{root}/a%3Fb.db")).unwrap();
        assert_eq!(url, format!("sqlite:{root}/a%3Fb.db?mode=rwc"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn other_urls() {
        assert_eq!(
            normalise_url("postgres://u:p@h/db").unwrap(),
            (Backend::Postgres, "postgres://u:p@h/db".to_owned())
        );
        assert_eq!(
            normalise_url("postgresql://h/db").unwrap().0,
            Backend::Postgres
        );
        assert_eq!(
            normalise_url("sqlite::memory:").unwrap().1,
            "sqlite::memory:"
        );
        assert!(matches!(
            normalise_url("mysql://h/db"),
            Err(StoreError::UnsupportedUrl(_))
        ));
        assert!(matches!(
            normalise_url("sqlite:"),
            Err(StoreError::UnsupportedUrl(_))
        ));
    }

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(escape_like(r"100%_a\b"), r"100\%\_a\\b");
    }

    #[test]
    fn a_search_with_nul_matches_nothing_and_binds_nothing() {
        let mut conditions = Conditions::default();
        conditions.push_contains("s.utilisateur", "a\0b");
        assert_eq!(conditions.clauses, ["1 = 0"]);
        assert!(conditions.args.is_empty());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("mysql://u:secret@h/db"), "mysql://u:***@h/db");
        assert_eq!(redact("mysql://h/db"), "mysql://h/db");
    }
}
