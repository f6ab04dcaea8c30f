//! Power orders and wake-ups staff give workstations: each recorded with its author, and a
//! power order that cuts the running session short does both in one transaction.

use crate::error::{Result, StoreError};
use crate::events::EventSpec;
use crate::model::{Actor, EventKind, Millis, SessionRow, SessionStatus};
use crate::rows::fetch_session;
use crate::sessions::not_found_session;
use crate::store::Store;

/// Cuts a running session of workstation `$3` so that it ends at `$2` if it would run past it
/// (the closing-time cut, for one workstation's session).
const CUT_END: &str = "UPDATE sessions SET added_secs = (($2 - started_at) / 1000) - initial_secs \
     WHERE id = $1 AND statut = 'active' AND poste_id = $3 \
     AND started_at + (initial_secs + added_secs) * 1000 > $2";

/// A power order as recorded: its id (the event's, unique across instances) and the session it
/// cut short, if it did (not when that session ended by then already).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowerRecorded {
    pub order_id: i64,
    pub session: Option<SessionRow>,
}

impl Store {
    /// Records staff's power order for workstation `poste_id` (event `PowerOrdered`, `detail`:
    /// `action`, with ` ecourtee` when `cut` cut a session). `cut`: a running session of that
    /// workstation and the time it must end by, cut in the same transaction (event `TimeAdded`,
    /// `detail`: `action`; nothing changes when it ends earlier already); `WrongState` when
    /// that session is no longer active or runs elsewhere.
    pub async fn record_power_order(
        &self,
        poste_id: i64,
        action: &str,
        cut: Option<(i64, Millis)>,
        actor: &Actor,
        now: Millis,
    ) -> Result<PowerRecorded> {
        let mut tx = self.writer.begin().await?;
        let mut session = None;
        if let Some((session_id, end_at)) = cut {
            // The write first (on SQLite it takes the lock before any read).
            let was_cut = sqlx::query(CUT_END)
                .bind(session_id)
                .bind(end_at)
                .bind(poste_id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                > 0;
            let row = fetch_session(&mut *tx, session_id)
                .await?
                .ok_or_else(|| not_found_session(session_id))?;
            if row.status != SessionStatus::Active || row.poste_id != Some(poste_id) {
                tx.rollback().await?;
                return Err(StoreError::WrongState(Box::new(row)));
            }
            if was_cut {
                let event = EventSpec::by(EventKind::TimeAdded, actor, Some(action));
                self.insert_event(&mut tx, now, &event, Some(session_id), Some(poste_id))
                    .await?;
                session = Some(row);
            }
        }
        let detail = if session.is_some() {
            format!("{action} ecourtee")
        } else {
            action.to_owned()
        };
        let event = EventSpec::by(EventKind::PowerOrdered, actor, Some(&detail));
        let order_id = self
            .insert_event_returning_id(
                &mut tx,
                now,
                &event,
                cut.map(|(session_id, _)| session_id),
                Some(poste_id),
            )
            .await?;
        tx.commit().await?;
        Ok(PowerRecorded { order_id, session })
    }

    /// Claims the scheduled `action` (`allumage`, `extinction`) of `day` (`2026-12-07`, or
    /// `2026-12-07 espace 3` for a space other than the default) for `instance`: `true` when it
    /// is this instance's to do, once.
    pub async fn claim_scheduled_power(
        &self,
        day: &str,
        action: &str,
        instance: &str,
        now: Millis,
    ) -> Result<bool> {
        let claimed = sqlx::query(
            "INSERT INTO scheduled_power (day, action, claimed_by, claimed_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (day, action) DO NOTHING",
        )
        .bind(day)
        .bind(action)
        .bind(instance)
        .bind(now)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }

    /// Records that staff woke workstation `poste_id` (event `WakeSent`, `detail`: the MAC
    /// address the packets were sent to).
    pub async fn record_wake(
        &self,
        poste_id: i64,
        mac: &str,
        actor: &Actor,
        now: Millis,
    ) -> Result<()> {
        let event = EventSpec::by(EventKind::WakeSent, actor, Some(mac));
        self.record_event(now, &event, None, Some(poste_id)).await
    }

    /// Records that staff locked (`detail` `verrouille : …`) or unlocked (`deverrouille`)
    /// these workstations for a workshop: one `RoomLocked` event each, in one transaction.
    pub async fn record_room_lock(
        &self,
        postes: &[i64],
        detail: &str,
        actor: &Actor,
        now: Millis,
    ) -> Result<()> {
        let event = EventSpec::by(EventKind::RoomLocked, actor, Some(detail));
        let mut tx = self.writer.begin().await?;
        for &poste_id in postes {
            self.insert_event(&mut tx, now, &event, None, Some(poste_id))
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
