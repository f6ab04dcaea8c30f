//! Visitors' requests for more time: asked from the workstation, answered by staff from the
//! console. At most one request per session waits at a time; accepting one adds the time in
//! the same transaction, so a request is never accepted without its time, nor twice.

use sqlx::any::AnyRow;

use crate::error::{Result, StoreError};
use crate::events::EventSpec;
use crate::model::{Actor, EventKind, Millis, SessionStatus, TimeRequestRow, TimeRequestStatus};
use crate::rows::{decode_error, fetch_session, get};
use crate::sessions::not_found_session;
use crate::store::Store;

/// A request joined with its session's workstation and visitor; the FROM clause is included.
macro_rules! request_select {
    () => {
        "SELECT r.id AS id, r.session_id AS session_id, r.minutes AS minutes, \
         r.statut AS statut, r.requested_at AS requested_at, r.answered_at AS answered_at, \
         r.granted_minutes AS granted_minutes, r.answered_by AS answered_by, \
         s.poste_id AS poste_id, p.nom AS poste_nom, s.utilisateur AS utilisateur \
         FROM time_requests r JOIN sessions s ON s.id = r.session_id \
         LEFT JOIN postes p ON p.id = s.poste_id"
    };
}

/// How a request is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeAnswer {
    /// Add this many seconds; the session's warning level becomes `warning_level_after`
    /// (as for `Store::add_time`).
    Accept {
        secs: i64,
        warning_level_after: i64,
    },
    Refuse,
}

impl Store {
    /// Records a request for more time on an `active` session (`WrongState` otherwise). If one
    /// already waits for an answer, it is updated (the minutes asked) and returned: the
    /// visitor who clicks twice makes one request. Event `TimeRequested`.
    pub async fn request_time(
        &self,
        session_id: i64,
        minutes: Option<i64>,
        actor: &Actor,
        now: Millis,
    ) -> Result<TimeRequestRow> {
        let mut tx = self.writer.begin().await?;
        // The write comes first (see `Store::transition`): it takes SQLite's write lock.
        let updated = sqlx::query(
            "UPDATE time_requests SET minutes = $2, requested_at = $3 \
             WHERE session_id = $1 AND statut = 'en_attente'",
        )
        .bind(session_id)
        .bind(minutes)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let session = fetch_session(&mut *tx, session_id)
            .await?
            .ok_or_else(|| not_found_session(session_id))?;
        if session.status != SessionStatus::Active {
            tx.rollback().await?;
            return Err(StoreError::WrongState(Box::new(session)));
        }
        if updated == 0 {
            sqlx::query(
                "INSERT INTO time_requests (session_id, minutes, statut, requested_at) \
                 VALUES ($1, $2, 'en_attente', $3)",
            )
            .bind(session_id)
            .bind(minutes)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let detail = minutes.map(|m| m.to_string());
        let event = EventSpec::by(EventKind::TimeRequested, actor, detail.as_deref());
        self.insert_event(&mut tx, now, &event, Some(session_id), session.poste_id)
            .await?;
        let row = sqlx::query(concat!(
            request_select!(),
            " WHERE r.session_id = $1 AND r.statut = 'en_attente'"
        ))
        .bind(session_id)
        .fetch_one(&mut *tx)
        .await?;
        let row = request_from_row(&row)?;
        tx.commit().await?;
        Ok(row)
    }

    /// Requests waiting for an answer whose session still runs, oldest first.
    pub async fn pending_time_requests(&self) -> Result<Vec<TimeRequestRow>> {
        let rows = sqlx::query(concat!(
            request_select!(),
            " WHERE r.statut = 'en_attente' AND s.statut = 'active' ORDER BY r.requested_at, r.id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(request_from_row).collect()
    }

    pub async fn time_request(&self, id: i64) -> Result<Option<TimeRequestRow>> {
        let row = sqlx::query(concat!(request_select!(), " WHERE r.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(request_from_row).transpose()
    }

    /// The latest request of a session, answered or not.
    pub async fn latest_time_request(&self, session_id: i64) -> Result<Option<TimeRequestRow>> {
        let row = sqlx::query(concat!(
            request_select!(),
            " WHERE r.session_id = $1 ORDER BY r.id DESC LIMIT 1"
        ))
        .bind(session_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(request_from_row).transpose()
    }

    /// Answers a waiting request. Accepting adds the time to the session in the same
    /// transaction (`WrongState` if the session no longer runs: nothing changes). A request
    /// already answered gives `AlreadyAnswered`. Events `TimeRequestAnswered`, and `TimeAdded`
    /// when accepted. Returns the answered request.
    pub async fn answer_time_request(
        &self,
        id: i64,
        answer: TimeAnswer,
        actor: &Actor,
        now: Millis,
    ) -> Result<TimeRequestRow> {
        let (status, granted_minutes) = match answer {
            TimeAnswer::Accept { secs, .. } if secs <= 0 => {
                return Err(StoreError::Database(sqlx::Error::InvalidArgument(format!(
                    "answer_time_request: secs must be positive, got {secs}"
                ))));
            }
            TimeAnswer::Accept { secs, .. } => {
                (TimeRequestStatus::Acceptee, Some((secs + 59) / 60))
            }
            TimeAnswer::Refuse => (TimeRequestStatus::Refusee, None),
        };
        let mut tx = self.writer.begin().await?;
        let answered = sqlx::query(
            "UPDATE time_requests SET statut = $2, answered_at = $3, granted_minutes = $4, \
             answered_by = $5 WHERE id = $1 AND statut = 'en_attente'",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(now)
        .bind(granted_minutes)
        .bind(actor.label())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let row = sqlx::query(concat!(request_select!(), " WHERE r.id = $1"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row.as_ref().map(request_from_row).transpose()? else {
            tx.rollback().await?;
            return Err(StoreError::NotFound {
                what: "demande",
                id: id.to_string(),
            });
        };
        if answered == 0 {
            tx.rollback().await?;
            return Err(StoreError::AlreadyAnswered {
                what: "demande",
                id,
            });
        }
        if let TimeAnswer::Accept {
            secs,
            warning_level_after,
        } = answer
        {
            let added = sqlx::query(
                "UPDATE sessions SET added_secs = added_secs + $2, warning_level = $3 \
                 WHERE id = $1 AND statut = 'active'",
            )
            .bind(row.session_id)
            .bind(secs)
            .bind(warning_level_after)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if added == 0 {
                let session = fetch_session(&mut *tx, row.session_id).await?;
                tx.rollback().await?;
                return Err(match session {
                    Some(session) => StoreError::WrongState(Box::new(session)),
                    None => StoreError::NotFound {
                        what: "session",
                        id: row.session_id.to_string(),
                    },
                });
            }
            let event = EventSpec::by(EventKind::TimeAdded, actor, Some(&format!("+{secs}")));
            self.insert_event(&mut tx, now, &event, Some(row.session_id), row.poste_id)
                .await?;
        }
        let detail = match granted_minutes {
            Some(minutes) => format!("acceptee +{minutes}"),
            None => "refusee".to_owned(),
        };
        let event = EventSpec::by(EventKind::TimeRequestAnswered, actor, Some(&detail));
        self.insert_event(&mut tx, now, &event, Some(row.session_id), row.poste_id)
            .await?;
        tx.commit().await?;
        Ok(row)
    }
}

fn request_from_row(row: &AnyRow) -> Result<TimeRequestRow> {
    let status: String = get(row, "statut")?;
    Ok(TimeRequestRow {
        id: get(row, "id")?,
        session_id: get(row, "session_id")?,
        minutes: get(row, "minutes")?,
        status: TimeRequestStatus::parse(&status)
            .ok_or_else(|| decode_error("time request status", &status))?,
        requested_at: get(row, "requested_at")?,
        answered_at: get(row, "answered_at")?,
        granted_minutes: get(row, "granted_minutes")?,
        answered_by: get(row, "answered_by")?,
        poste_id: get(row, "poste_id")?,
        poste_nom: get(row, "poste_nom")?,
        utilisateur: get(row, "utilisateur")?,
    })
}
