//! The monthly report in the console: its PDF (`/console/statistiques/rapport.pdf?mois=…`),
//! which month a link or a form names, and the mail sent on demand from « Statistiques ».

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::tz::TimeZone;
use poste_store::{Millis, SpaceScope};
use serde::Deserialize;

use crate::clock::now_ms;
use crate::console::auth::Staff;
use crate::console::form::{Action, redirect_with};
use crate::console::{ConsoleError, Query};
use crate::report::send::{SendError, send_on_demand};
use crate::report::{self, Month, MonthlyReport};
use crate::state::AppState;
use crate::text::console as t;
use crate::text::report as rt;

#[derive(Debug, Default, Deserialize)]
pub struct MonthQuery {
    /// `2026-11`; empty: the last month that has ended.
    #[serde(default)]
    pub mois: String,
}

/// The month a link or a form names (`2026-11`), or the last one ended when it names none;
/// a month not yet begun, or mistyped, is refused with the French reason.
pub fn chosen_month(text: &str, now: Millis, tz: &TimeZone) -> Result<Month, &'static str> {
    let current = Month::containing(now, tz).ok_or(t::MONTH_INVALID)?;
    if text.trim().is_empty() {
        return Ok(current.previous());
    }
    let month = Month::parse(text).map_err(|_| t::MONTH_INVALID)?;
    if month > current {
        return Err(t::MONTH_NOT_BEGUN);
    }
    Ok(month)
}

/// The report of the month a request names, as of now, of the spaces the staff member views.
pub async fn month_report(
    state: &AppState,
    view: &SpaceScope,
    text: &str,
) -> Result<MonthlyReport, ConsoleError> {
    let now = now_ms();
    let settings = state.settings();
    let month =
        chosen_month(text, now, &settings.shown(view).timezone).map_err(ConsoleError::BadMonth)?;
    Ok(report::build(&state.store, &settings, month, now, view).await?)
}

/// Draws the PDF off the async threads (a few tens of milliseconds of CPU).
pub async fn render_pdf(report: MonthlyReport) -> Result<(String, Vec<u8>), ConsoleError> {
    tokio::task::spawn_blocking(move || report.pdf().map(|pdf| (report.file_name(), pdf)))
        .await
        .map_err(|err| ConsoleError::Internal(format!("report task: {err}")))?
        .map_err(|err| ConsoleError::Internal(format!("report PDF: {err}")))
}

/// The PDF as a download: the console's headers forbid framing, which some browsers' PDF
/// viewers need to show a document inline.
pub async fn report_pdf(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<MonthQuery>,
) -> Result<Response, ConsoleError> {
    let report = month_report(&state, &staff.view, &query.mois).await?;
    let (file_name, pdf) = render_pdf(report).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        pdf,
    )
        .into_response())
}

/// Mails the month's report now to the recipients of « Réglages », and comes back to
/// « Statistiques » with what happened.
pub async fn report_send(
    State(state): State<AppState>,
    action: Action<MonthQuery>,
) -> Result<Response, ConsoleError> {
    let now = now_ms();
    let month = chosen_month(
        &action.form.mois,
        now,
        &state.settings().shown(&action.staff.view).timezone,
    )
    .map_err(ConsoleError::BadMonth)?;
    let back = format!("/console/statistiques?mois={month}");
    let name = month.name();
    let sent = send_on_demand(
        &state,
        month,
        &action.staff.view,
        &action.staff.actor(),
        now,
    )
    .await;
    let (ok, text) = match sent {
        Ok(recipients) => {
            tracing::info!(by = %action.staff.account().login, month = %month, recipients, "console: monthly report mailed");
            (true, rt::sent(&name, recipients))
        }
        Err(SendError::NoMailer) => (false, rt::NO_MAILER.to_owned()),
        Err(SendError::NoRecipient) => (false, rt::NO_RECIPIENT.to_owned()),
        Err(SendError::Store(err)) => return Err(err.into()),
        Err(err) => {
            tracing::warn!(by = %action.staff.account().login, month = %month, error = %err, "console: monthly report not mailed");
            (false, rt::not_sent(&name))
        }
    };
    Ok(redirect_with(&back, ok, &text))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_month_is_chosen_or_refused_in_words() {
        let tz = TimeZone::get("Europe/Paris").unwrap();
        let now = "2026-12-05T10:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond();
        assert_eq!(chosen_month("", now, &tz).unwrap().to_string(), "2026-11");
        assert_eq!(
            chosen_month("2026-12", now, &tz).unwrap().to_string(),
            "2026-12"
        );
        assert_eq!(
            chosen_month("2025-03", now, &tz).unwrap().to_string(),
            "2025-03"
        );
        assert_eq!(chosen_month("2027-01", now, &tz), Err(t::MONTH_NOT_BEGUN));
        assert_eq!(chosen_month("novembre", now, &tz), Err(t::MONTH_INVALID));
        assert_eq!(chosen_month("2026-13", now, &tz), Err(t::MONTH_INVALID));
    }
}
