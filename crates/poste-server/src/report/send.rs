//! Mailing a month's report: on demand from « Statistiques », and each month by a background
//! task that, once a month has ended in the space's time zone, claims it in the store (one
//! instance sends it) and sends it, a failure being tried again later.

use std::time::Duration;

use poste_store::{Actor, Millis, SpaceScope, StoreError};

use crate::clock::now_ms;
use crate::mail::{MailError, Mailer, ReportMail};
use crate::report::month::month_due;
use crate::report::{self, Month, MonthlyReport, PdfError};
use crate::state::AppState;
use crate::text::report as rt;

/// How often the task looks for a report due: a month's report leaves within this of the
/// month's end.
pub const CHECK_EVERY: Duration = Duration::from_secs(5 * 60);
/// A claim that did not end in a sent report (a failed send, an instance that died while
/// sending) is taken again after this long.
pub const RETRY_AFTER_MS: Millis = 30 * 60 * 1000;

/// Why a report was not mailed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("no SMTP server is configured ([mail] host)")]
    NoMailer,
    #[error("no recipient is set in Réglages")]
    NoRecipient,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("report PDF: {0}")]
    Pdf(#[from] PdfError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("report task: {0}")]
    Task(String),
}

/// Draws `report` as a PDF (off the async threads) and mails it to `recipients`.
pub async fn mail_report(
    mailer: &Mailer,
    recipients: &[String],
    report: MonthlyReport,
) -> Result<(), SendError> {
    let month_name = report.month.name();
    let subject = rt::mail_subject(&report.site_name, &month_name);
    let body = rt::mail_body(&report.site_name, &month_name);
    let file_name = report.file_name();
    let pdf = tokio::task::spawn_blocking(move || report.pdf())
        .await
        .map_err(|err| SendError::Task(err.to_string()))??;
    mailer
        .send(
            recipients,
            ReportMail {
                subject: &subject,
                body: &body,
                file_name: &file_name,
                pdf,
            },
        )
        .await?;
    Ok(())
}

/// Who gets the report of `scope` on demand: one space's own recipients when it has some,
/// else the site's.
pub fn recipients_for<'a>(
    settings: &'a crate::settings::Settings,
    scope: &SpaceScope,
) -> &'a [String] {
    match scope {
        SpaceScope::Only(ids)
            if ids.len() == 1
                && !settings
                    .for_space(ids[0])
                    .space_report_recipients
                    .is_empty() =>
        {
            &settings.for_space(ids[0]).space_report_recipients
        }
        _ => &settings.report_recipients,
    }
}

/// Mails `month`'s report of the spaces of `scope` as of `now` to its recipients
/// ([`recipients_for`]), and records the event in the name of `actor` (staff on demand).
pub async fn send_on_demand(
    state: &AppState,
    month: Month,
    scope: &SpaceScope,
    actor: &Actor,
    now: Millis,
) -> Result<usize, SendError> {
    let mailer = state.mailer.as_ref().ok_or(SendError::NoMailer)?;
    let settings = state.settings();
    let recipients = recipients_for(&settings, scope).to_vec();
    if recipients.is_empty() {
        return Err(SendError::NoRecipient);
    }
    let report = report::build(&state.store, &settings, month, now, scope).await?;
    let outcome = mail_report(mailer, &recipients, report).await;
    let error = outcome.as_ref().err().map(ToString::to_string);
    // What staff are told is what happened to the mail, even if the history could not say it.
    if let Err(err) = state
        .store
        .record_report_mailed(&month.to_string(), error.as_deref(), actor, now_ms())
        .await
    {
        tracing::warn!(month = %month, error = %err, "monthly report: could not write it in the history");
    }
    outcome.map(|()| recipients.len())
}

/// What one look at the calendar did.
#[derive(Debug, PartialEq, Eq)]
pub enum DueOutcome {
    /// No month is owed, or no recipient is set.
    NothingDue,
    /// Another instance has the month (or tried it a moment ago).
    ClaimedElsewhere(Month),
    Sent(Month),
    /// Tried and failed; it will be tried again after [`RETRY_AFTER_MS`].
    Failed(Month),
}

/// Whose report is owed: the site's (every space, to « Réglages »' recipients, in the common
/// time zone) or one space's own (its recipients, its time zone).
struct Due<'a> {
    space: Option<i64>,
    recipients: &'a [String],
    settings: &'a crate::settings::Settings,
}

/// Sends the site's report owed at `now`, if any, once across instances (`instance` names
/// this one in the claim). A month that ended before the event log began (a new install) is
/// owed nothing.
pub async fn send_due_report(
    state: &AppState,
    mailer: &Mailer,
    instance: &str,
    now: Millis,
) -> Result<DueOutcome, SendError> {
    let settings = state.settings();
    let due = Due {
        space: None,
        recipients: &settings.report_recipients,
        settings: &settings,
    };
    send_due(state, mailer, instance, now, &due).await
}

/// Sends each space's own report owed at `now` (a space whose settings name recipients for
/// it), as [`send_due_report`] does the site's; what became of each, by space.
pub async fn send_due_space_reports(
    state: &AppState,
    mailer: &Mailer,
    instance: &str,
    now: Millis,
) -> Result<Vec<(i64, DueOutcome)>, SendError> {
    let settings = state.settings();
    let mut outcomes = Vec::new();
    for space in state.store.list_spaces().await? {
        let own = settings.for_space(space.id);
        if own.space_report_recipients.is_empty() || !settings.has_own(space.id) {
            continue;
        }
        let due = Due {
            space: Some(space.id),
            recipients: &own.space_report_recipients,
            settings: own,
        };
        outcomes.push((
            space.id,
            send_due(state, mailer, instance, now, &due).await?,
        ));
    }
    Ok(outcomes)
}

async fn send_due(
    state: &AppState,
    mailer: &Mailer,
    instance: &str,
    now: Millis,
    due: &Due<'_>,
) -> Result<DueOutcome, SendError> {
    if due.recipients.is_empty() {
        return Ok(DueOutcome::NothingDue);
    }
    let last_sent = state
        .store
        .last_report_sent(due.space)
        .await?
        .and_then(|month| Month::parse(&month).ok());
    let since = state.store.first_event_at().await?.unwrap_or(now);
    let Some(month) = month_due(now, &due.settings.timezone, last_sent, since) else {
        return Ok(DueOutcome::NothingDue);
    };
    let key = match due.space {
        None => month.to_string(),
        Some(id) => format!("{month}@{id}"),
    };
    if !state
        .store
        .claim_report(&key, instance, now, now - RETRY_AFTER_MS)
        .await?
    {
        return Ok(DueOutcome::ClaimedElsewhere(month));
    }
    let scope = due
        .space
        .map_or(SpaceScope::Every, |id| SpaceScope::Only(vec![id]));
    let settings = state.settings();
    let outcome = match report::build(&state.store, &settings, month, now, &scope).await {
        Ok(report) => mail_report(mailer, due.recipients, report).await,
        Err(err) => Err(err.into()),
    };
    let error = outcome.as_ref().err().map(ToString::to_string);
    state
        .store
        .finish_report(&key, instance, error.as_deref(), now_ms())
        .await?;
    match outcome {
        Ok(()) => {
            tracing::info!(month = %key, recipients = due.recipients.len(), server = mailer.server(), "monthly report mailed");
            Ok(DueOutcome::Sent(month))
        }
        Err(err) => {
            tracing::warn!(month = %key, error = %err, server = mailer.server(), "monthly report not mailed; will try again");
            Ok(DueOutcome::Failed(month))
        }
    }
}

/// The background task: looks every [`CHECK_EVERY`] for a report due, for as long as the
/// server runs.
pub async fn mail_monthly_reports(state: AppState, mailer: Mailer, instance: String) {
    let mut every = tokio::time::interval(CHECK_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let now = now_ms();
        if let Err(err) = send_due_report(&state, &mailer, &instance, now).await {
            tracing::warn!(error = %err, "monthly report: could not check or record; will try again");
        }
        if let Err(err) = send_due_space_reports(&state, &mailer, &instance, now).await {
            tracing::warn!(error = %err, "a space's monthly report: could not check or record; will try again");
        }
    }
}
