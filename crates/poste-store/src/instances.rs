//! Several server instances on one PostgreSQL: who fires a session's timers (a lease per
//! session, renewed by its owner's heartbeat, claimable by anyone once it lapses), and the
//! doorbell that tells an instance the event log has grown (LISTEN/NOTIFY on `poste_events`,
//! rung by a trigger on `events`). SQLite runs one instance, which owns every timer: there the
//! lease calls are never made and [`Store::listen_events`] gives `None`.

use std::collections::HashSet;

use sqlx::postgres::PgListener;

use crate::error::Result;
use crate::model::{Backend, Millis};
use crate::store::Store;

/// The channel the `events` trigger notifies (migration 0006).
const EVENTS_CHANNEL: &str = "poste_events";

/// The answer to a claim of a session's timer lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseClaim {
    /// This instance holds the lease until the given instant.
    Mine,
    /// Another instance holds it until `until` (Unix ms); it may be claimed after that.
    Held { owner: String, until: Millis },
    /// The session has no row (it was purged): nobody will fire it.
    NoSession,
}

/// What the doorbell says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bell {
    /// Another process committed events.
    Rung,
    /// The listening connection was lost: notifications may have been missed. The next
    /// [`EventListener::next`] reconnects (and listens again); read the event log meanwhile.
    Lost,
}

/// A LISTEN connection on the events channel, apart from the pool.
#[derive(Debug)]
pub struct EventListener {
    listener: PgListener,
    origin: String,
}

impl EventListener {
    /// Waits for the next ring from another process. An error means reconnecting failed (the
    /// database is down): wait a little and call again.
    pub async fn next(&mut self) -> Result<Bell> {
        loop {
            match self.listener.try_recv().await? {
                // Our own commits are applied where they are made.
                Some(note) if note.payload() == self.origin => continue,
                Some(_) => return Ok(Bell::Rung),
                None => return Ok(Bell::Lost),
            }
        }
    }
}

impl Store {
    /// A listener on the event log's doorbell; `None` on SQLite (one instance, nothing to hear).
    pub async fn listen_events(&self) -> Result<Option<EventListener>> {
        let Some(url) = self
            .url
            .as_deref()
            .filter(|_| self.backend() == Backend::Postgres)
        else {
            return Ok(None);
        };
        let mut listener = PgListener::connect(url).await?;
        listener.listen(EVENTS_CHANNEL).await?;
        Ok(Some(EventListener {
            listener,
            origin: self.origin().to_owned(),
        }))
    }

    /// Takes (or keeps) the timer lease of session `id` for this instance until `until`, if
    /// nobody holds it, this instance already does, or its holder's lease ended before `now`.
    /// Atomic: of two instances claiming at once, one gets it.
    pub async fn claim_timer(&self, id: i64, until: Millis, now: Millis) -> Result<LeaseClaim> {
        // ON CONFLICT … DO UPDATE locks the existing row and evaluates its WHERE on the latest
        // committed version, so a lapsed lease changes hands once.
        let claimed: Option<String> = sqlx::query_scalar(
            "INSERT INTO timer_leases (session_id, owner, lease_until) \
             SELECT id, $2, $3 FROM sessions WHERE id = $1 \
             ON CONFLICT (session_id) DO UPDATE \
             SET owner = excluded.owner, lease_until = excluded.lease_until \
             WHERE timer_leases.owner = excluded.owner OR timer_leases.lease_until < $4 \
             RETURNING owner",
        )
        .bind(id)
        .bind(self.origin().to_owned())
        .bind(until)
        .bind(now)
        .fetch_optional(&self.writer)
        .await?;
        if claimed.is_some() {
            return Ok(LeaseClaim::Mine);
        }
        let held = sqlx::query_as::<_, (String, i64)>(
            "SELECT owner, lease_until FROM timer_leases WHERE session_id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match held {
            Some((owner, until)) => LeaseClaim::Held { owner, until },
            None => LeaseClaim::NoSession,
        })
    }

    /// The heartbeat: extends every lease this instance holds to `until`, and drops the leases
    /// of sessions that no longer run. Returns how many timers this instance owns.
    pub async fn renew_timers(&self, until: Millis) -> Result<u64> {
        sqlx::query(
            "DELETE FROM timer_leases WHERE session_id IN \
             (SELECT id FROM sessions WHERE statut <> 'active')",
        )
        .execute(&self.writer)
        .await?;
        let renewed = sqlx::query("UPDATE timer_leases SET lease_until = $1 WHERE owner = $2")
            .bind(until)
            .bind(self.origin().to_owned())
            .execute(&self.writer)
            .await?;
        Ok(renewed.rows_affected())
    }

    /// Gives up every lease of this instance (graceful shutdown): the others take the timers
    /// over at their next due instant instead of after the lease.
    pub async fn release_timers(&self) -> Result<()> {
        sqlx::query("DELETE FROM timer_leases WHERE owner = $1")
            .bind(self.origin().to_owned())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The holder of session `id`'s lease and its end, if any (for checks and the console).
    pub async fn timer_owner(&self, id: i64) -> Result<Option<(String, Millis)>> {
        let owner = sqlx::query_as::<_, (String, i64)>(
            "SELECT owner, lease_until FROM timer_leases WHERE session_id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(owner)
    }

    /// Publishes the workstations connected to this instance, valid until `until` (the
    /// heartbeat renews it).
    pub async fn publish_presence(&self, postes: &[i64], until: Millis) -> Result<()> {
        let list = postes
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        sqlx::query(
            "INSERT INTO presence (origin, postes, until) VALUES ($1, $2, $3) \
             ON CONFLICT (origin) DO UPDATE SET postes = excluded.postes, until = excluded.until",
        )
        .bind(self.origin().to_owned())
        .bind(list)
        .bind(until)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The workstations connected to the other instances, as they last published them (rows
    /// that lapsed before `now` are an instance gone).
    pub async fn presence_elsewhere(&self, now: Millis) -> Result<HashSet<i64>> {
        let lists: Vec<String> =
            sqlx::query_scalar("SELECT postes FROM presence WHERE origin <> $1 AND until >= $2")
                .bind(self.origin().to_owned())
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
        Ok(lists
            .iter()
            .flat_map(|list| list.split(','))
            .filter_map(|id| id.trim().parse().ok())
            .collect())
    }

    /// Withdraws this instance's presence (graceful shutdown): its workstations are offline
    /// for the others at once.
    pub async fn withdraw_presence(&self) -> Result<()> {
        sqlx::query("DELETE FROM presence WHERE origin = $1")
            .bind(self.origin().to_owned())
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
