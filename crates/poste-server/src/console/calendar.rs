//! « Jours particuliers » in « Réglages »: public holidays, closures and exceptional openings,
//! each replacing its weekday's hours on its date. Admins add one (a date, a name, closed or
//! its hours: chosen, never defaulted), remove one, or add the public holidays of the next
//! twelve months in one click.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use jiff::ToSpan;
use jiff::civil::Date;
use serde::Deserialize;

use crate::clock::now_ms;
use crate::console::ConsoleError;
use crate::console::auth::Staff;
use crate::console::form::{Action, redirect_with};
use crate::console::manage::{SettingsOf, SettingsQuery, settings_page, store_settings};
use crate::domain::holidays::public_holidays;
use crate::domain::opening::{DayHours, OpeningHours, SpecialDay};
use crate::settings::setting_keys as k;
use crate::state::AppState;
use crate::text::console as t;

/// The « Ajouter un jour particulier » form, as typed (kept when refused).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct SpecialDayForm {
    /// The space whose calendar it is; empty: the common one.
    #[serde(default)]
    pub espace: String,
    /// `YYYY-MM-DD`, as a date field sends it.
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub libelle: String,
    /// `ferme` or `horaires`; nothing until staff choose.
    #[serde(default)]
    pub genre: String,
    #[serde(default)]
    pub ouverture: String,
    #[serde(default)]
    pub fermeture: String,
}

/// A special day as « Réglages » lists it.
#[derive(Debug)]
pub struct SpecialDayLine {
    /// `YYYY-MM-DD`, sent back to remove it.
    pub date: String,
    /// « Samedi 20/12/2026 ».
    pub shown: String,
    pub label: String,
    /// « Fermé » or « 09:00 – 12:00 ».
    pub hours: String,
}

/// The special days to list, from today on (the past ones no longer change anything).
pub fn special_day_lines(hours: &OpeningHours, today: Date) -> Vec<SpecialDayLine> {
    hours
        .special_days()
        .range(today..)
        .map(|(date, day)| SpecialDayLine {
            date: date.to_string(),
            shown: shown_date(*date),
            label: day.label.clone(),
            hours: match day.periods.as_slice() {
                [] => t::SPECIAL_CLOSED.to_owned(),
                periods => periods
                    .iter()
                    .map(|p| {
                        format!(
                            "{} – {}",
                            p.open.strftime("%H:%M"),
                            p.close.strftime("%H:%M")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            },
        })
        .collect()
}

fn shown_date(date: Date) -> String {
    let index = usize::from(date.weekday().to_monday_zero_offset().unsigned_abs());
    format!(
        "{} {}",
        t::DAY_NAMES.get(index).copied().unwrap_or_default(),
        date.strftime("%d/%m/%Y")
    )
}

/// The day the form describes, or every mistake in it, in the form's order.
fn special_day_of(form: &SpecialDayForm, today: Date) -> Result<(Date, SpecialDay), Vec<String>> {
    let mut errors = Vec::new();
    let date = match form.date.trim().parse::<Date>() {
        Ok(date) if date < today => {
            errors.push(t::SPECIAL_DATE_PAST.to_owned());
            None
        }
        Ok(date) => Some(date),
        Err(_) => {
            errors.push(t::SPECIAL_DATE_INVALID.to_owned());
            None
        }
    };
    let label = form.libelle.trim();
    if label.is_empty() || label.chars().count() > 60 || label.chars().any(char::is_control) {
        errors.push(t::SPECIAL_LABEL_INVALID.to_owned());
    }
    let periods = match form.genre.as_str() {
        "ferme" => Some(Vec::new()),
        "horaires" => {
            let parse = crate::domain::opening::parse_time;
            match (parse(&form.ouverture), parse(&form.fermeture)) {
                (Some(open), Some(close)) if open < close => Some(vec![DayHours { open, close }]),
                _ => {
                    errors.push(t::SPECIAL_HOURS_INVALID.to_owned());
                    None
                }
            }
        }
        _ => {
            errors.push(t::SPECIAL_KIND_MISSING.to_owned());
            None
        }
    };
    match (date, periods, errors.is_empty()) {
        (Some(date), Some(periods), true) => Ok((
            date,
            SpecialDay {
                label: label.to_owned(),
                periods,
            },
        )),
        _ => Err(errors),
    }
}

/// Today in the time zone of the settings shown.
fn today(state: &AppState, of: &SettingsOf) -> Date {
    crate::clock::local_day(now_ms(), &of.in_force(&state.settings()).timezone)
}

/// The special days in force there.
fn special_days(state: &AppState, of: &SettingsOf) -> BTreeMap<Date, SpecialDay> {
    of.in_force(&state.settings())
        .opening_hours
        .special_days()
        .clone()
}

/// Stores the special days and applies them at once (on every instance, through the settings'
/// event).
async fn store_special_days(
    state: &AppState,
    staff: &Staff,
    of: &SettingsOf,
    days: &BTreeMap<Date, SpecialDay>,
) -> Result<(), ConsoleError> {
    let values = vec![(
        k::SPECIAL_DAYS.to_owned(),
        OpeningHours::format_special_days(days),
    )];
    // Special days valid one by one make valid settings: a refusal here is a bug, said as a
    // bad form rather than lost.
    store_settings(state, staff, of, values)
        .await?
        .map_err(|_| ConsoleError::BadForm)
}

pub async fn special_day_add(
    State(state): State<AppState>,
    headers: HeaderMap,
    action: Action<SpecialDayForm>,
) -> Result<Response, ConsoleError> {
    let of = SettingsOf::chosen(&action.staff, &action.form.espace)?;
    let mut days = special_days(&state, &of);
    let checked =
        special_day_of(&action.form, today(&state, &of)).and_then(|(date, day)| {
            match days.get(&date) {
                Some(taken) => Err(vec![t::special_date_taken(&shown_date(date), &taken.label)]),
                None => Ok((date, day)),
            }
        });
    match checked {
        Ok((date, day)) => {
            let label = day.label.clone();
            days.insert(date, day);
            store_special_days(&state, &action.staff, &of, &days).await?;
            tracing::info!(by = %action.staff.account().login, %date, "console: special day added");
            Ok(redirect_with(
                &of.page(),
                true,
                &t::special_day_added(&shown_date(date), &label),
            ))
        }
        Err(errors) => {
            let page = settings_page(&state, &action.staff, &headers, &of, None, Vec::new())
                .await?
                .with_special_day_errors(action.form, errors);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SpecialDayRemove {
    #[serde(default)]
    espace: String,
    #[serde(default)]
    date: String,
}

pub async fn special_day_remove(
    State(state): State<AppState>,
    action: Action<SpecialDayRemove>,
) -> Result<Response, ConsoleError> {
    let of = SettingsOf::chosen(&action.staff, &action.form.espace)?;
    let mut days = special_days(&state, &of);
    let removed = action
        .form
        .date
        .trim()
        .parse::<Date>()
        .ok()
        .and_then(|date| days.remove(&date).map(|day| (date, day)));
    let Some((date, day)) = removed else {
        return Ok(redirect_with(&of.page(), false, t::SPECIAL_DAY_NOT_FOUND));
    };
    store_special_days(&state, &action.staff, &of, &days).await?;
    Ok(redirect_with(
        &of.page(),
        true,
        &t::special_day_removed(&shown_date(date), &day.label),
    ))
}

/// Adds the public holidays of the next twelve months as closed days, leaving alone the dates
/// that already have special hours.
pub async fn holidays_add(
    State(state): State<AppState>,
    action: Action<SettingsQuery>,
) -> Result<Response, ConsoleError> {
    let of = SettingsOf::chosen(&action.staff, &action.form.espace)?;
    let today = today(&state, &of);
    let until = today.checked_add(1.year()).unwrap_or(today);
    let mut days = special_days(&state, &of);
    let mut added = 0;
    for (date, name) in [today.year(), today.year().saturating_add(1)]
        .into_iter()
        .flat_map(public_holidays)
    {
        if date >= today && date < until && !days.contains_key(&date) {
            days.insert(
                date,
                SpecialDay {
                    label: name.to_owned(),
                    periods: Vec::new(),
                },
            );
            added += 1;
        }
    }
    if added == 0 {
        return Ok(redirect_with(&of.page(), true, t::HOLIDAYS_ALREADY_THERE));
    }
    store_special_days(&state, &action.staff, &of, &days).await?;
    Ok(redirect_with(&of.page(), true, &t::holidays_added(added)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn form(date: &str, libelle: &str, genre: &str, open: &str, close: &str) -> SpecialDayForm {
        SpecialDayForm {
            espace: String::new(),
            date: date.into(),
            libelle: libelle.into(),
            genre: genre.into(),
            ouverture: open.into(),
            fermeture: close.into(),
        }
    }

    #[test]
    fn a_special_day_is_chosen_whole_or_refused_with_every_reason() {
        let today: Date = "2026-12-05".parse().unwrap();
        let (date, day) = special_day_of(
            &form("2026-12-24", "Veille de Noël", "horaires", "09:00", "12:00"),
            today,
        )
        .unwrap();
        assert_eq!(date.to_string(), "2026-12-24");
        assert_eq!(day.periods.len(), 1);
        let (_, closed) =
            special_day_of(&form("2026-12-05", "Inventaire", "ferme", "", ""), today).unwrap();
        assert!(closed.periods.is_empty(), "today may still be closed");
        // Nothing chosen between closed and hours: refused, never a default.
        assert_eq!(
            special_day_of(&form("2026-12-24", "Noël", "", "", ""), today),
            Err(vec![t::SPECIAL_KIND_MISSING.to_owned()])
        );
        assert_eq!(
            special_day_of(
                &form("2026-12-04", " ", "horaires", "12:00", "09:00"),
                today
            ),
            Err(vec![
                t::SPECIAL_DATE_PAST.to_owned(),
                t::SPECIAL_LABEL_INVALID.to_owned(),
                t::SPECIAL_HOURS_INVALID.to_owned(),
            ])
        );
        assert_eq!(
            special_day_of(&form("24/12/2026", "Noël", "ferme", "", ""), today),
            Err(vec![t::SPECIAL_DATE_INVALID.to_owned()])
        );
    }
}
