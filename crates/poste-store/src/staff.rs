//! Staff accounts of the web console and their login sessions.
//!
//! Passwords arrive here already hashed (Argon2id, by the server); login session tokens arrive
//! as their SHA-256. Nothing in these tables can be replayed by someone who reads them.

use sqlx::any::AnyRow;

use crate::error::{Result, StaffRefusal, StoreError};
use crate::events::EventSpec;
use crate::model::{
    Actor, Backend, EventKind, Millis, NewStaff, RefusedLogin, SpaceScope, StaffCredentials,
    StaffRole, StaffRow, StaffSessionRow,
};
use crate::names::fold;
use crate::query::has_nul;
use crate::rows::{decode_error, get};
use crate::store::Store;

/// `events.actor` of a refused login: whoever typed it is not known.
pub const ANONYMOUS: &str = "anonyme";

/// What an admin does to a staff account with [`Store::change_staff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffChange {
    Disable,
    Enable,
    Delete,
}

/// Columns of a staff row (never the password hash).
macro_rules! staff_columns {
    () => {
        "id, login, nom, role, created_at, last_login, disabled_at, deleted_at, tous_espaces"
    };
}

/// A staff session joined with its account; the FROM clause is included.
macro_rules! staff_session_select {
    () => {
        "SELECT ss.id AS session_id, ss.csrf_token AS csrf_token, \
         ss.created_at AS session_created_at, ss.last_seen AS last_seen, ss.ip AS ip, \
         st.id AS id, st.login AS login, st.nom AS nom, st.role AS role, \
         st.created_at AS created_at, st.last_login AS last_login, \
         st.disabled_at AS disabled_at, st.deleted_at AS deleted_at, \
         st.tous_espaces AS tous_espaces \
         FROM staff_sessions ss JOIN staff st ON st.id = ss.staff_id"
    };
}

impl Store {
    /// `AlreadyExists` if the login is taken (logins compare case-insensitively). Event
    /// `StaffCreated`.
    pub async fn create_staff(
        &self,
        new: &NewStaff,
        actor: &Actor,
        now: Millis,
    ) -> Result<StaffRow> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(concat!(
            "INSERT INTO staff (login, nom, role, password_hash, created_at, login_cle) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING ",
            staff_columns!()
        ))
        .bind(new.login.clone())
        .bind(new.nom.clone())
        .bind(new.role.as_str())
        .bind(new.password_hash.clone())
        .bind(now)
        .bind(fold(&new.login))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            let deleted: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM staff WHERE login_cle = $1 AND deleted_at IS NOT NULL",
            )
            .bind(fold(&new.login))
            .fetch_optional(&mut *tx)
            .await?;
            if deleted.is_some() {
                return Err(StoreError::StaffRefused(
                    StaffRefusal::LoginOfDeletedAccount,
                ));
            }
            return Err(StoreError::AlreadyExists {
                what: "staff",
                name: new.login.clone(),
            });
        };
        let staff = staff_from_row(&row)?;
        let event = EventSpec::by(
            EventKind::StaffCreated,
            actor,
            Some(&format!("{} ({})", staff.login, staff.role.as_str())),
        );
        self.insert_event(&mut tx, now, &event, None, None).await?;
        // Its spaces go with its creation, one event: `StaffSpacesChanged` is for later changes.
        let tous_espaces = self.write_scope(&mut tx, &staff, &new.scope, None).await?;
        tx.commit().await?;
        Ok(StaffRow {
            tous_espaces,
            ..staff
        })
    }

    /// The spaces an account works in.
    pub async fn staff_scope(&self, staff: &StaffRow) -> Result<SpaceScope> {
        if staff.tous_espaces {
            return Ok(SpaceScope::Every);
        }
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT se.espace_id FROM staff_espaces se JOIN espaces e ON e.id = se.espace_id \
             WHERE se.staff_id = $1 AND e.deleted_at IS NULL ORDER BY se.espace_id",
        )
        .bind(staff.id)
        .fetch_all(&self.pool)
        .await?;
        Ok(SpaceScope::only(ids))
    }

    /// Sets the spaces an account works in. Refused (`StaffRefused(NoSpace)`) for none;
    /// `NotFound` for a space that does not exist (or is deleted) or an unknown account.
    /// Event `StaffSpacesChanged`.
    pub async fn set_staff_scope(
        &self,
        staff_id: i64,
        scope: &SpaceScope,
        actor: &Actor,
        now: Millis,
    ) -> Result<StaffRow> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            staff_columns!(),
            " FROM staff WHERE id = $1 AND deleted_at IS NULL"
        ))
        .bind(staff_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("staff", staff_id))?;
        let staff = staff_from_row(&row)?;
        let tous_espaces = self
            .write_scope(&mut tx, &staff, scope, Some((actor, now)))
            .await?;
        tx.commit().await?;
        Ok(StaffRow {
            tous_espaces,
            ..staff
        })
    }

    /// Replaces an account's spaces in `tx`, with its event when `logged` says by whom and when;
    /// returns `tous_espaces`.
    async fn write_scope(
        &self,
        tx: &mut sqlx::AnyConnection,
        staff: &StaffRow,
        scope: &SpaceScope,
        logged: Option<(&Actor, Millis)>,
    ) -> Result<bool> {
        sqlx::query("DELETE FROM staff_espaces WHERE staff_id = $1")
            .bind(staff.id)
            .execute(&mut *tx)
            .await?;
        let (every, names) = match scope {
            SpaceScope::Every => (true, "*".to_owned()),
            SpaceScope::Only(ids) if ids.is_empty() => {
                return Err(StoreError::StaffRefused(StaffRefusal::NoSpace));
            }
            SpaceScope::Only(ids) => {
                let mut names = Vec::with_capacity(ids.len());
                for &id in ids {
                    let name: Option<String> = sqlx::query_scalar(
                        "SELECT nom FROM espaces WHERE id = $1 AND deleted_at IS NULL",
                    )
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let name = name.ok_or_else(|| StoreError::not_found("espace", id))?;
                    sqlx::query("INSERT INTO staff_espaces (staff_id, espace_id) VALUES ($1, $2)")
                        .bind(staff.id)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    names.push(name);
                }
                (false, names.join(", "))
            }
        };
        sqlx::query("UPDATE staff SET tous_espaces = $2 WHERE id = $1")
            .bind(staff.id)
            .bind(i64::from(every))
            .execute(&mut *tx)
            .await?;
        if let Some((actor, now)) = logged {
            let detail = format!("{} : {names}", staff.login);
            let event = EventSpec::by(EventKind::StaffSpacesChanged, actor, Some(&detail));
            self.insert_event(&mut *tx, now, &event, None, None).await?;
        }
        Ok(every)
    }

    /// The account with this login (case-insensitive) and its password hash, disabled or not
    /// (a deleted account is disabled, with an empty hash that no password matches).
    pub async fn staff_credentials(&self, login: &str) -> Result<Option<StaffCredentials>> {
        if has_nul(login) {
            return Ok(None);
        }
        let row = sqlx::query(concat!(
            "SELECT ",
            staff_columns!(),
            ", password_hash FROM staff WHERE login_cle = $1"
        ))
        .bind(fold(login))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(StaffCredentials {
                staff: staff_from_row(&row)?,
                password_hash: get(&row, "password_hash")?,
            })
        })
        .transpose()
    }

    /// Every account but the deleted ones, by login.
    pub async fn list_staff(&self) -> Result<Vec<StaffRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            staff_columns!(),
            " FROM staff WHERE deleted_at IS NULL ORDER BY login_cle, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(staff_from_row).collect()
    }

    /// The account with this id; `None` when unknown or deleted.
    pub async fn staff_by_id(&self, id: i64) -> Result<Option<StaffRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            staff_columns!(),
            " FROM staff WHERE id = $1 AND deleted_at IS NULL"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(staff_from_row).transpose()
    }

    /// Disables, enables or deletes an account (events `StaffDisabled`, `StaffEnabled`,
    /// `StaffDeleted`, detail: the login). Disabling and deleting close every open session of
    /// the account and are refused for the last enabled admin ([`StaffRefusal::LastAdmin`]);
    /// a change already made by someone else is refused too (`AlreadyDisabled`,
    /// `AlreadyEnabled`). `NotFound` for an unknown or deleted account. A deleted account keeps
    /// its row and login, without its password; the events keep its name as they wrote it.
    pub async fn change_staff(
        &self,
        id: i64,
        change: StaffChange,
        actor: &Actor,
        now: Millis,
    ) -> Result<StaffRow> {
        // On PostgreSQL the enabled admins are locked first: two admins disabling each other
        // at the same moment wait for one another, and the second sees the first's change.
        // SQLite has one writer: its transactions never overlap.
        const ADMINS: &str = "SELECT id FROM staff WHERE role = 'admin' AND disabled_at IS NULL";
        const ADMINS_LOCKED: &str =
            "SELECT id FROM staff WHERE role = 'admin' AND disabled_at IS NULL FOR UPDATE";
        let mut tx = self.writer.begin().await?;
        let admins: Vec<i64> = sqlx::query_scalar(match self.backend() {
            Backend::Postgres => ADMINS_LOCKED,
            Backend::Sqlite => ADMINS,
        })
        .fetch_all(&mut *tx)
        .await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            staff_columns!(),
            " FROM staff WHERE id = $1 AND deleted_at IS NULL"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::NotFound {
                what: "staff",
                id: id.to_string(),
            });
        };
        let staff = staff_from_row(&row)?;
        let last_admin = admins == [staff.id];
        let refusal = match change {
            StaffChange::Disable if staff.disabled_at.is_some() => {
                Some(StaffRefusal::AlreadyDisabled)
            }
            StaffChange::Enable if staff.disabled_at.is_none() => {
                Some(StaffRefusal::AlreadyEnabled)
            }
            StaffChange::Disable | StaffChange::Delete if last_admin => {
                Some(StaffRefusal::LastAdmin)
            }
            _ => None,
        };
        if let Some(refusal) = refusal {
            return Err(StoreError::StaffRefused(refusal));
        }
        let (update, kind) = match change {
            StaffChange::Disable => (
                "UPDATE staff SET disabled_at = $2 WHERE id = $1",
                EventKind::StaffDisabled,
            ),
            StaffChange::Enable => (
                "UPDATE staff SET disabled_at = NULL WHERE id = $1",
                EventKind::StaffEnabled,
            ),
            StaffChange::Delete => (
                "UPDATE staff SET deleted_at = $2, disabled_at = COALESCE(disabled_at, $2), \
                 password_hash = '' WHERE id = $1",
                EventKind::StaffDeleted,
            ),
        };
        let update = sqlx::query(update).bind(staff.id);
        match change {
            StaffChange::Enable => update,
            StaffChange::Disable | StaffChange::Delete => update.bind(now),
        }
        .execute(&mut *tx)
        .await?;
        if change != StaffChange::Enable {
            sqlx::query("DELETE FROM staff_sessions WHERE staff_id = $1")
                .bind(staff.id)
                .execute(&mut *tx)
                .await?;
        }
        let event = EventSpec::by(kind, actor, Some(&staff.login));
        self.insert_event(&mut tx, now, &event, None, None).await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            staff_columns!(),
            " FROM staff WHERE id = $1"
        ))
        .bind(staff.id)
        .fetch_one(&mut *tx)
        .await?;
        let changed = staff_from_row(&row)?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Replaces the password hash of an account; `NotFound` for an unknown login. Every open
    /// session of that account is closed (a changed password must lock out whoever knew the
    /// old one).
    pub async fn set_staff_password(
        &self,
        login: &str,
        password_hash: &str,
        actor: &Actor,
        now: Millis,
    ) -> Result<StaffRow> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(concat!(
            "UPDATE staff SET password_hash = $2 \
             WHERE login_cle = $1 AND deleted_at IS NULL RETURNING ",
            staff_columns!()
        ))
        .bind(fold(login))
        .bind(password_hash.to_owned())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::NotFound {
                what: "staff",
                id: login.to_owned(),
            });
        };
        let staff = staff_from_row(&row)?;
        sqlx::query("DELETE FROM staff_sessions WHERE staff_id = $1")
            .bind(staff.id)
            .execute(&mut *tx)
            .await?;
        let event = EventSpec::by(EventKind::StaffPasswordChanged, actor, Some(&staff.login));
        self.insert_event(&mut tx, now, &event, None, None).await?;
        tx.commit().await?;
        Ok(staff)
    }

    /// Opens a login session for an account: stores the SHA-256 of the cookie's token and the
    /// CSRF token, records the login time. Event `StaffLogin` (detail: the browser's address).
    pub async fn create_staff_session(
        &self,
        staff: &StaffRow,
        token_hash: &str,
        csrf_token: &str,
        ip: Option<&str>,
        now: Millis,
    ) -> Result<StaffSessionRow> {
        let mut tx = self.writer.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO staff_sessions (token_hash, staff_id, csrf_token, created_at, last_seen, ip) \
             VALUES ($1, $2, $3, $4, $4, $5) RETURNING id",
        )
        .bind(token_hash.to_owned())
        .bind(staff.id)
        .bind(csrf_token.to_owned())
        .bind(now)
        .bind(ip.map(str::to_owned))
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("UPDATE staff SET last_login = $2 WHERE id = $1")
            .bind(staff.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let by = Actor::Staff {
            login: staff.login.clone(),
            ip: ip.map(str::to_owned),
        };
        let event = EventSpec::by(EventKind::StaffLogin, &by, ip);
        self.insert_event(&mut tx, now, &event, None, None).await?;
        tx.commit().await?;
        Ok(StaffSessionRow {
            id,
            staff: StaffRow {
                last_login: Some(now),
                ..staff.clone()
            },
            csrf_token: csrf_token.to_owned(),
            created_at: now,
            last_seen: now,
            ip: ip.map(str::to_owned),
        })
    }

    /// Records a refused console login from `ip` (event `StaffLoginFailed` or
    /// `StaffLoginThrottled`, by `anonyme`: whoever typed it is not known).
    pub async fn record_refused_login(
        &self,
        refused: &RefusedLogin,
        ip: &str,
        now: Millis,
    ) -> Result<()> {
        let event = EventSpec {
            kind: refused.kind(),
            actor: ANONYMOUS.to_owned(),
            ip: Some(ip.to_owned()),
            detail: Some(refused.detail()),
        };
        let mut conn = self.writer.acquire().await?;
        self.insert_event(&mut conn, now, &event, None, None).await
    }

    /// Records that the waits of an account's logins are lifted (event `StaffUnblocked`,
    /// detail: the login as stored); every running server follows the event log and forgets
    /// the account's failures. `NotFound` for an unknown login.
    pub async fn unblock_staff(&self, login: &str, actor: &Actor, now: Millis) -> Result<StaffRow> {
        let found = self.staff_credentials(login).await?;
        let Some(found) = found.filter(|found| found.staff.deleted_at.is_none()) else {
            return Err(StoreError::NotFound {
                what: "staff",
                id: login.to_owned(),
            });
        };
        let event = EventSpec::by(EventKind::StaffUnblocked, actor, Some(&found.staff.login));
        let mut conn = self.writer.acquire().await?;
        self.insert_event(&mut conn, now, &event, None, None)
            .await?;
        Ok(found.staff)
    }

    /// The login session with this token hash, with its account (even a disabled one: the
    /// caller decides).
    pub async fn staff_session(&self, token_hash: &str) -> Result<Option<StaffSessionRow>> {
        let row = sqlx::query(concat!(
            staff_session_select!(),
            " WHERE ss.token_hash = $1"
        ))
        .bind(token_hash.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(staff_session_from_row).transpose()
    }

    /// Whether login session `id` is still open (not logged out, purged, or closed with its
    /// account).
    pub async fn staff_session_open(&self, id: i64) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM staff_sessions WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    /// Records activity on a login session (for the idle timeout).
    pub async fn touch_staff_session(&self, id: i64, now: Millis) -> Result<()> {
        self.touch(
            "UPDATE staff_sessions SET last_seen = $2 WHERE id = $1",
            "staff session",
            id,
            now,
        )
        .await
    }

    /// Closes a login session. With `logout`, records a `StaffLogout` event (an idle session
    /// purged by the server is not a logout).
    pub async fn delete_staff_session(
        &self,
        session: &StaffSessionRow,
        logout: bool,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query("DELETE FROM staff_sessions WHERE id = $1")
            .bind(session.id)
            .execute(&mut *tx)
            .await?;
        if logout && done.rows_affected() > 0 {
            let by = Actor::Staff {
                login: session.staff.login.clone(),
                ip: session.ip.clone(),
            };
            let event = EventSpec::by(EventKind::StaffLogout, &by, session.ip.as_deref());
            self.insert_event(&mut tx, now, &event, None, None).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes login sessions idle since before `idle_before`; returns how many.
    pub async fn purge_staff_sessions(&self, idle_before: Millis) -> Result<u64> {
        let done = sqlx::query("DELETE FROM staff_sessions WHERE last_seen < $1")
            .bind(idle_before)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }
}

fn staff_from_row(row: &AnyRow) -> Result<StaffRow> {
    let role: String = get(row, "role")?;
    Ok(StaffRow {
        id: get(row, "id")?,
        login: get(row, "login")?,
        nom: get(row, "nom")?,
        role: StaffRole::parse(&role).ok_or_else(|| decode_error("role", &role))?,
        created_at: get(row, "created_at")?,
        last_login: get(row, "last_login")?,
        disabled_at: get(row, "disabled_at")?,
        deleted_at: get(row, "deleted_at")?,
        tous_espaces: get::<i64>(row, "tous_espaces")? != 0,
    })
}

fn staff_session_from_row(row: &AnyRow) -> Result<StaffSessionRow> {
    Ok(StaffSessionRow {
        id: get(row, "session_id")?,
        staff: staff_from_row(row)?,
        csrf_token: get(row, "csrf_token")?,
        created_at: get(row, "session_created_at")?,
        last_seen: get(row, "last_seen")?,
        ip: get(row, "ip")?,
    })
}
