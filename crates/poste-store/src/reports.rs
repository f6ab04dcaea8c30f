//! The monthly reports mailed by the server: one row a month (`reports_sent`), claimed by the
//! instance about to send it, so that several instances on one PostgreSQL send it once; a
//! claim that did not end in a sent report (a failure, a crash) may be taken again later.
//! Each outcome, and each report staff send on demand, is an event.

use crate::error::Result;
use crate::events::EventSpec;
use crate::model::{Actor, EventKind, Millis};
use crate::store::Store;

impl Store {
    /// Claims the report of `month` (`2026-11`) for `instance`: `true` when it is this
    /// instance's to send now. Never for a month already sent; a claim made (or failed) at or
    /// after `stale_before` still belongs to its claimer.
    pub async fn claim_report(
        &self,
        month: &str,
        instance: &str,
        now: Millis,
        stale_before: Millis,
    ) -> Result<bool> {
        // One statement: the primary key makes two racing claims of a new month one insert and
        // one conflict, and the conflict's update takes the row only under its condition.
        let claimed = sqlx::query(
            "INSERT INTO reports_sent (month, claimed_by, claimed_at, attempts) \
             VALUES ($1, $2, $3, 1) \
             ON CONFLICT (month) DO UPDATE SET claimed_by = excluded.claimed_by, \
             claimed_at = excluded.claimed_at, attempts = reports_sent.attempts + 1 \
             WHERE reports_sent.sent_at IS NULL AND reports_sent.claimed_at < $4",
        )
        .bind(month)
        .bind(instance)
        .bind(now)
        .bind(stale_before)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }

    /// Records how the claimed report of `month` went: sent, or failed with `error` (then
    /// claimable again once the claim is stale), with its event.
    pub async fn finish_report(
        &self,
        month: &str,
        instance: &str,
        error: Option<&str>,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let update = match error {
            None => sqlx::query(
                "UPDATE reports_sent SET sent_at = $1, last_error = NULL \
                 WHERE month = $2 AND claimed_by = $3",
            )
            .bind(now),
            Some(error) => sqlx::query(
                "UPDATE reports_sent SET last_error = $1 WHERE month = $2 AND claimed_by = $3",
            )
            .bind(error),
        };
        update.bind(month).bind(instance).execute(&mut *tx).await?;
        self.insert_event(
            &mut tx,
            now,
            &report_event(month, error, &Actor::System),
            None,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The event of a report mailed by `actor` on demand (or that could not be).
    pub async fn record_report_mailed(
        &self,
        month: &str,
        error: Option<&str>,
        actor: &Actor,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        self.insert_event(&mut tx, now, &report_event(month, error, actor), None, None)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// When the event log begins: the install, or the retention horizon.
    pub async fn first_event_at(&self) -> Result<Option<Millis>> {
        let first: i64 =
            sqlx::query_scalar("SELECT CAST(COALESCE(MIN(at), 0) AS BIGINT) FROM events")
                .fetch_one(&self.pool)
                .await?;
        Ok((first > 0).then_some(first))
    }

    /// The latest month whose report the server has sent (`2026-11`): the site's (`space`
    /// None, claimed as `2026-11`), or one space's own (claimed as `2026-11@3`).
    pub async fn last_report_sent(&self, space: Option<i64>) -> Result<Option<String>> {
        let month: Option<String> = match space {
            None => {
                sqlx::query_scalar(
                    "SELECT month FROM reports_sent WHERE sent_at IS NOT NULL \
                     AND month NOT LIKE '%@%' ORDER BY month DESC LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await?
            }
            Some(id) => {
                // `_______` is the month's seven characters: `@3` is not `@13`.
                sqlx::query_scalar(
                    "SELECT month FROM reports_sent WHERE sent_at IS NOT NULL \
                     AND month LIKE $1 ORDER BY month DESC LIMIT 1",
                )
                .bind(format!("_______@{id}"))
                .fetch_optional(&self.pool)
                .await?
            }
        };
        Ok(month.map(|key| key.split('@').next().unwrap_or_default().to_owned()))
    }
}

fn report_event(month: &str, error: Option<&str>, actor: &Actor) -> EventSpec {
    match error {
        None => EventSpec::by(EventKind::ReportSent, actor, Some(month)),
        Some(error) => {
            // The SMTP library's message, bounded: the log is no place for a whole transcript.
            let error: String = error.chars().take(300).collect();
            EventSpec::by(
                EventKind::ReportFailed,
                actor,
                Some(&format!("{month} : {error}")),
            )
        }
    }
}
