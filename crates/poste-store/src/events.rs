//! The event log: each state change appends its row in the change's own transaction, and
//! other processes (the CLI, other instances) follow the log by id.

use sqlx::AnyConnection;

use crate::error::Result;
use crate::model::{Actor, EventKind, EventRow, Millis};
use crate::rows::event_from_row;
use crate::store::Store;

/// An event row to append in a change's own transaction, besides its session and its workstation.
pub(crate) struct EventSpec {
    pub(crate) kind: EventKind,
    pub(crate) actor: String,
    /// The address the change came from, when known.
    pub(crate) ip: Option<String>,
    pub(crate) detail: Option<String>,
}

impl EventSpec {
    /// An event by `actor` (its address with it, when known).
    pub(crate) fn by(kind: EventKind, actor: &Actor, detail: Option<&str>) -> EventSpec {
        EventSpec {
            kind,
            actor: actor.label(),
            ip: actor.ip().map(str::to_owned),
            detail: detail.map(str::to_owned),
        }
    }
}

impl Store {
    /// Events with `id > after`, oldest first, at most `limit`.
    pub async fn events_after(&self, after: i64, limit: i64) -> Result<Vec<EventRow>> {
        let rows = sqlx::query(
            "SELECT id, at, kind, session_id, poste_id, actor, detail, origin, ip FROM events \
             WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Highest event id (0 when empty).
    pub async fn last_event_id(&self) -> Result<i64> {
        let last = sqlx::query_scalar("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok(last)
    }

    pub(crate) async fn insert_event(
        &self,
        conn: &mut AnyConnection,
        now: Millis,
        event: &EventSpec,
        session_id: Option<i64>,
        poste_id: Option<i64>,
    ) -> Result<()> {
        self.insert_event_returning_id(conn, now, event, session_id, poste_id)
            .await
            .map(drop)
    }

    /// Appends one event in a transaction of its own: a fact with no state change beside it
    /// (a message sent, an incident, a wake-up).
    pub(crate) async fn record_event(
        &self,
        now: Millis,
        event: &EventSpec,
        session_id: Option<i64>,
        poste_id: Option<i64>,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        self.insert_event(&mut tx, now, event, session_id, poste_id)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// [`Store::insert_event`], returning the new event's id.
    pub(crate) async fn insert_event_returning_id(
        &self,
        conn: &mut AnyConnection,
        now: Millis,
        event: &EventSpec,
        session_id: Option<i64>,
        poste_id: Option<i64>,
    ) -> Result<i64> {
        let id = sqlx::query_scalar(
            "INSERT INTO events (at, kind, session_id, poste_id, actor, detail, origin, ip) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(now)
        .bind(event.kind.as_str())
        .bind(session_id)
        .bind(poste_id)
        .bind(event.actor.clone())
        .bind(event.detail.clone())
        .bind(self.origin().to_owned())
        .bind(event.ip.clone())
        .fetch_one(conn)
        .await?;
        Ok(id)
    }
}
