//! History and statistics: the event log of every session and every staff action (filtered,
//! exported as CSV), and the figures a town hall reports on: bar charts drawn on the server
//! ([`chart`]), each with its table of values, exported as CSV and as a printable A4 page.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use jiff::tz::TimeZone;
use poste_store::{EventFilter, EventKind, EventView, Millis, SpaceScope};
use serde::Deserialize;

use crate::clock::now_ms;
use crate::console::auth::Staff;
use crate::console::monthly::{chosen_month, month_report};
use crate::console::pages::{Frame, page, poste_names};
use crate::console::view::{self, csv_cell};
use crate::console::{ConsoleError, Query};
use crate::report::Month;
use crate::report::chart::{self, Chart, Unit, format_value};
use crate::report::stats::{Bucket, Period, Stats, compute_stats, open_secs};
use crate::state::AppState;
use crate::text::console as t;

// ----- history --------------------------------------------------------------------------------

/// Groups of event kinds staff filter the history by, as (value, label, kinds).
const GROUPS: &[(&str, &str, &[EventKind])] = &[
    (
        "sessions",
        "Sessions",
        &[
            EventKind::SessionCreated,
            EventKind::SessionStarted,
            EventKind::TimeAdded,
            EventKind::SessionEnded,
            EventKind::CodeCancelled,
            EventKind::WarningSent,
        ],
    ),
    (
        "postes",
        "Postes",
        &[
            EventKind::PosteCreated,
            EventKind::PosteSeen,
            EventKind::PosteUpdated,
            EventKind::PosteRetired,
            EventKind::PosteServiceChanged,
            EventKind::MessageSent,
            EventKind::PowerOrdered,
            EventKind::WakeSent,
            EventKind::RoomLocked,
            EventKind::EnrollmentCodeCreated,
            EventKind::EnrollmentRequested,
            EventKind::EnrollmentApproved,
            EventKind::PosteEnrolled,
            EventKind::EnrollmentReset,
            EventKind::PosteIncident,
        ],
    ),
    (
        "equipe",
        "Équipe et connexions",
        &[
            EventKind::StaffCreated,
            EventKind::StaffLogin,
            EventKind::StaffLogout,
            EventKind::StaffPasswordChanged,
            EventKind::StaffLoginFailed,
            EventKind::StaffLoginThrottled,
            EventKind::StaffUnblocked,
            EventKind::StaffDisabled,
            EventKind::StaffEnabled,
            EventKind::StaffDeleted,
            EventKind::TokenCreated,
            EventKind::TokenRevoked,
        ],
    ),
    (
        "visiteurs",
        "Visiteurs",
        &[
            EventKind::VisitorCreated,
            EventKind::VisitorUpdated,
            EventKind::VisitorErased,
            EventKind::CategoryChanged,
        ],
    ),
    (
        "reglages",
        "Réglages, rapports et conservation",
        &[
            EventKind::SettingsChanged,
            EventKind::ReportSent,
            EventKind::ReportFailed,
            EventKind::RetentionPurge,
        ],
    ),
];

#[derive(Debug, Default, Clone, Deserialize)]
pub struct HistoryQuery {
    #[serde(default)]
    groupe: String,
    /// `AAAA-MM-JJ`, inclusive.
    #[serde(default)]
    du: String,
    #[serde(default)]
    au: String,
    #[serde(default)]
    poste: String,
    #[serde(default)]
    acteur: String,
}

#[derive(Debug)]
struct EventLine {
    at: String,
    kind: &'static str,
    actor: String,
    poste: String,
    session: String,
    detail: String,
    ip: String,
}

impl EventLine {
    /// `spaces`: the names of the spaces the reader knows, for a space's own report.
    fn new(view: &EventView, tz: &TimeZone, spaces: &[(i64, String)]) -> Self {
        let event = &view.event;
        let space_name = |id: i64| {
            spaces
                .iter()
                .find(|(own, _)| *own == id)
                .map(|(_, nom)| nom.clone())
        };
        EventLine {
            at: view::local_datetime(event.at, tz),
            kind: t::event_kind(event.kind),
            actor: t::actor(&event.actor),
            poste: view.poste_nom.clone().unwrap_or_default(),
            session: event
                .session_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            detail: event
                .detail
                .as_deref()
                .map(|detail| t::event_detail_named(event.kind, detail, &space_name))
                .unwrap_or_default(),
            ip: event.ip.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/history.html")]
struct HistoryPage {
    frame: Frame,
    query: HistoryQuery,
    query_string: String,
    error: Option<&'static str>,
    events: Vec<EventLine>,
    groups: Vec<(&'static str, &'static str)>,
    postes: Vec<String>,
}

/// Midnight of a typed day in `tz`.
fn day_start(text: &str, tz: &TimeZone) -> Result<Option<Millis>, &'static str> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|day| day.to_zoned_datetime(tz.clone()).ok())
        .map(|zoned| Some(zoned.timestamp().as_millisecond()))
        .ok_or(t::DAY_INVALID)
}

async fn history_filter(
    state: &AppState,
    view: &SpaceScope,
    query: &HistoryQuery,
    limit: i64,
) -> Result<Result<EventFilter, &'static str>, ConsoleError> {
    let tz = state.settings().shown(view).timezone.clone();
    let mut filter = EventFilter {
        scope: Some(view.clone()),
        limit: Some(limit),
        ..EventFilter::default()
    };
    if let Some((_, _, kinds)) = GROUPS.iter().find(|(value, _, _)| *value == query.groupe) {
        filter.kinds = kinds.to_vec();
    }
    match (day_start(&query.du, &tz), day_start(&query.au, &tz)) {
        (Ok(from), Ok(to)) => {
            filter.from = from;
            // `au` is inclusive: up to the next midnight.
            filter.to = to.map(|start| start + 24 * 3600 * 1000);
        }
        (Err(message), _) | (_, Err(message)) => return Ok(Err(message)),
    }
    if !query.poste.trim().is_empty() {
        filter.poste_id = Some(
            state
                .store
                .poste_by_name(query.poste.trim())
                .await?
                .map_or(-1, |p| p.id),
        );
    }
    let actor = query.acteur.trim();
    if !actor.is_empty() {
        filter.actor = Some(actor.chars().take(64).collect());
    }
    Ok(Ok(filter))
}

fn history_query_string(query: &HistoryQuery) -> String {
    serde_urlencoded::to_string([
        ("groupe", query.groupe.as_str()),
        ("du", query.du.as_str()),
        ("au", query.au.as_str()),
        ("poste", query.poste.as_str()),
        ("acteur", query.acteur.as_str()),
    ])
    .unwrap_or_default()
}

pub async fn history(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(query): Query<HistoryQuery>,
) -> Result<Response, ConsoleError> {
    staff.require_admin()?;
    let tz = state.settings().shown(&staff.view).timezone.clone();
    let (events, error) = match history_filter(&state, &staff.view, &query, 300).await? {
        Ok(filter) => (
            state
                .store
                .list_events(&filter)
                .await?
                .iter()
                .map(|view| EventLine::new(view, &tz, &staff.spaces))
                .collect(),
            None,
        ),
        Err(message) => (Vec::new(), Some(message)),
    };
    page(&HistoryPage {
        frame: Frame::new(&state, &staff, &headers, "historique"),
        query_string: history_query_string(&query),
        query,
        error,
        events,
        groups: GROUPS.iter().map(|(v, l, _)| (*v, *l)).collect(),
        postes: poste_names(&state, &staff.view).await?,
    })
}

/// Most rows in one export of the history.
const MAX_HISTORY_EXPORT: i64 = 1000;

pub async fn history_csv(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<HistoryQuery>,
) -> Result<Response, ConsoleError> {
    staff.require_admin()?;
    let Ok(filter) = history_filter(&state, &staff.view, &query, MAX_HISTORY_EXPORT).await? else {
        return Err(ConsoleError::BadForm);
    };
    let tz = state.settings().shown(&staff.view).timezone.clone();
    let mut csv = String::from("\u{feff}date;type;acteur;poste;session;detail;adresse_ip\r\n");
    for view in state.store.list_events(&filter).await? {
        let line = EventLine::new(&view, &tz, &staff.spaces);
        let cells = [
            line.at,
            line.kind.to_owned(),
            line.actor,
            line.poste,
            line.session,
            line.detail,
            line.ip,
        ];
        let cells: Vec<String> = cells.iter().map(|cell| csv_cell(cell)).collect();
        csv.push_str(&cells.join(";"));
        csv.push_str("\r\n");
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"historique.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

// ----- statistics -----------------------------------------------------------------------------

/// The period of the statistics page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodKind {
    /// The last 30 days, by day.
    Days,
    /// The last 12 weeks, by week (from Monday).
    Weeks,
    /// The last 12 months, by month.
    Months,
}

impl PeriodKind {
    fn parse(text: &str) -> PeriodKind {
        match text {
            "semaine" => PeriodKind::Weeks,
            "mois" => PeriodKind::Months,
            _ => PeriodKind::Days,
        }
    }

    fn value(self) -> &'static str {
        match self {
            PeriodKind::Days => "jour",
            PeriodKind::Weeks => "semaine",
            PeriodKind::Months => "mois",
        }
    }

    fn label(self) -> &'static str {
        t::STATS_PERIODS
            .iter()
            .find(|(value, _)| *value == self.value())
            .map_or("", |(_, label)| label)
    }

    /// The end of the export's file name.
    fn file_name(self) -> &'static str {
        match self {
            PeriodKind::Days => "30-jours",
            PeriodKind::Weeks => "12-semaines",
            PeriodKind::Months => "12-mois",
        }
    }
}

/// The buckets of a period, oldest first.
fn buckets(period: PeriodKind, now: Millis, tz: &TimeZone) -> Vec<Bucket> {
    let Ok(ts) = jiff::Timestamp::from_millisecond(now) else {
        return Vec::new();
    };
    let today = ts.to_zoned_datetime(tz.clone()).date();
    let (first, count, step) = match period {
        PeriodKind::Days => (today, 30, jiff::Span::new().days(1)),
        PeriodKind::Weeks => {
            let monday = today
                .checked_sub(
                    jiff::Span::new().days(i64::from(today.weekday().to_monday_zero_offset())),
                )
                .unwrap_or(today);
            (monday, 12, jiff::Span::new().weeks(1))
        }
        PeriodKind::Months => (today.first_of_month(), 12, jiff::Span::new().months(1)),
    };
    let mut days = Vec::with_capacity(count);
    let mut day = first;
    for _ in 0..count {
        days.push(day);
        match day.checked_sub(step) {
            Ok(previous) => day = previous,
            Err(_) => break,
        }
    }
    days.reverse();
    days.into_iter()
        .filter_map(|day| {
            let start = day.to_zoned_datetime(tz.clone()).ok()?;
            let date = day.strftime("%d/%m/%Y").to_string();
            let (label, name) = match period {
                PeriodKind::Days => (day.strftime("%d/%m").to_string(), date),
                PeriodKind::Weeks => (day.strftime("%d/%m").to_string(), t::week_of(&date)),
                PeriodKind::Months => t::month(day.month(), day.year()),
            };
            Some(Bucket {
                start: start.timestamp().as_millisecond(),
                label,
                name,
            })
        })
        .collect()
}

#[derive(Deserialize)]
pub struct StatsQuery {
    #[serde(default)]
    periode: String,
    /// The monthly report's month (`2026-11`); empty: the last one ended.
    #[serde(default)]
    mois: String,
}

/// A chart as a page shows it: drawn at that page's width, or `None` for « Aucune donnée ».
struct Shown {
    chart: Chart,
    svg: Option<String>,
}

impl Shown {
    fn all(charts: Vec<Chart>, width: impl Fn(&Chart) -> f64) -> Vec<Shown> {
        charts
            .into_iter()
            .map(|chart| Shown {
                svg: chart.svg(width(&chart)),
                chart,
            })
            .collect()
    }
}

/// What the statistics page and its printable view both show.
struct StatsView {
    period: &'static str,
    period_text: String,
    sessions: usize,
    hours: String,
    charts: Vec<Shown>,
    empty: &'static str,
}

#[derive(Template)]
#[template(path = "console/stats.html")]
struct StatsPage {
    frame: Frame,
    periods: &'static [(&'static str, &'static str)],
    view: StatsView,
    report: ReportChoice,
}

/// The monthly report's month, as the « Statistiques » page offers it.
struct ReportChoice {
    /// `2026-11`, for the links and the form.
    month: String,
    /// `novembre 2026`.
    name: String,
    /// Why the month asked for was not taken (the last one ended is offered instead).
    error: Option<&'static str>,
    /// « Envoyer le rapport de novembre 2026 par e-mail ».
    send_label: String,
    /// Who gets it (`a@b.fr, c@d.fr`), empty when nobody does.
    recipients: String,
}

impl ReportChoice {
    fn new(text: &str, settings: &crate::settings::Settings, view: &SpaceScope) -> ReportChoice {
        let tz = &settings.shown(view).timezone;
        let now = now_ms();
        let (month, error) = match chosen_month(text, now, tz) {
            Ok(month) => (Some(month), None),
            Err(reason) => (chosen_month("", now, tz).ok(), Some(reason)),
        };
        let name = month.map(Month::name).unwrap_or_default();
        ReportChoice {
            month: month.map(|m| m.to_string()).unwrap_or_default(),
            send_label: crate::text::report::send_button(&name),
            name,
            error,
            recipients: crate::report::send::recipients_for(settings, view).join(", "),
        }
    }
}

#[derive(Template)]
#[template(path = "console/stats_print.html")]
struct StatsPrintPage {
    site_name: String,
    /// « Statistiques », or « Rapport mensuel » for a month's.
    heading: &'static str,
    /// Where « Retour aux statistiques » goes.
    back: String,
    printed_on: String,
    view: StatsView,
}

/// The statistics of the period a page asks for, as of now.
struct Figures {
    period: PeriodKind,
    stats: Stats,
    /// Which period it is, in words and dates.
    period_text: String,
}

impl Figures {
    /// The figures with each chart drawn `width(chart)` units wide.
    fn view(self, width: impl Fn(&Chart) -> f64) -> StatsView {
        StatsView {
            period: self.period.value(),
            period_text: self.period_text,
            sessions: self.stats.sessions,
            hours: format_value(self.stats.hours, Unit::Hours),
            charts: Shown::all(self.stats.charts, width),
            empty: t::STATS_EMPTY,
        }
    }
}

async fn period_stats(
    state: &AppState,
    view: &SpaceScope,
    query: &StatsQuery,
) -> Result<Figures, ConsoleError> {
    let period = PeriodKind::parse(&query.periode);
    let now = now_ms();
    let all = state.settings();
    let settings = all.shown(view);
    let tz = settings.timezone.clone();
    let buckets = buckets(period, now, &tz);
    let from = buckets.first().map_or(now, |bucket| bucket.start);
    let mut rows = state.store.usage(from, now + 1).await?;
    if let SpaceScope::Only(_) = view {
        rows.retain(|row| row.espace_id.is_some_and(|id| view.contains(id)));
    }
    let postes = poste_names(state, view).await?;
    let stats = compute_stats(
        &Period {
            rows: &rows,
            buckets: &buckets,
            postes: &postes,
            open_secs: open_secs(from, now, &settings.opening_hours, &tz),
        },
        now,
        &tz,
    );
    let period_text = t::stats_period(
        period.label(),
        &view::local_date(from, &tz),
        &view::local_date(now, &tz),
    );
    Ok(Figures {
        period,
        stats,
        period_text,
    })
}

pub async fn stats(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(query): Query<StatsQuery>,
) -> Result<Response, ConsoleError> {
    let figures = period_stats(&state, &staff.view, &query).await?;
    page(&StatsPage {
        frame: Frame::new(&state, &staff, &headers, "statistiques"),
        report: ReportChoice::new(&query.mois, &state.settings(), &staff.view),
        periods: t::STATS_PERIODS,
        view: figures.view(|chart| {
            if chart.wide {
                chart::SCREEN_WIDE
            } else {
                chart::SCREEN_HALF
            }
        }),
    })
}

/// The statistics on A4: no navigation, every chart at the paper's width with its table; with
/// `mois`, the monthly report's figures.
pub async fn stats_print(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<StatsQuery>,
) -> Result<Response, ConsoleError> {
    let settings = state.settings();
    let (heading, back, view, site_name) = if query.mois.trim().is_empty() {
        let view = period_stats(&state, &staff.view, &query)
            .await?
            .view(|_| chart::PAPER);
        let back = format!("/console/statistiques?periode={}", view.period);
        (t::STATS_HEADING, back, view, settings.site_name.clone())
    } else {
        let report = month_report(&state, &staff.view, &query.mois).await?;
        let back = format!("/console/statistiques?mois={}", report.month);
        let site_name = report.site_name.clone();
        let view = StatsView {
            period: PeriodKind::Months.value(),
            period_text: t::month_report_period(&report.title(), &report.dates),
            sessions: report.sessions,
            hours: format_value(report.hours, Unit::Hours),
            charts: Shown::all(report.charts, |_| chart::PAPER),
            empty: t::STATS_EMPTY,
        };
        (t::MONTH_REPORT_HEADING, back, view, site_name)
    };
    page(&StatsPrintPage {
        site_name,
        heading,
        back,
        printed_on: t::printed_on(&view::local_datetime(
            now_ms(),
            &settings.shown(&staff.view).timezone,
        )),
        view,
    })
}

/// The figures of the page as CSV, one row a value: (statistic, label, value, unit).
fn stats_csv_text(site_name: &str, period_text: &str, stats: &Stats) -> String {
    let mut rows: Vec<[String; 4]> = vec![
        [
            t::STATS_CSV_SPACE.to_owned(),
            site_name.to_owned(),
            String::new(),
            String::new(),
        ],
        [
            t::STATS_CSV_PERIOD.to_owned(),
            period_text.to_owned(),
            String::new(),
            String::new(),
        ],
        [
            t::STATS_CSV_TOTAL.to_owned(),
            t::STATS_CSV_SESSIONS.to_owned(),
            stats.sessions.to_string(),
            Unit::Count.csv_name().to_owned(),
        ],
        [
            t::STATS_CSV_TOTAL.to_owned(),
            t::STATS_HOURS.to_owned(),
            chart::decimal(stats.hours, 2),
            Unit::Hours.csv_name().to_owned(),
        ],
    ];
    for chart in &stats.charts {
        let places = match chart.unit {
            Unit::Count => 0,
            Unit::Hours => 2,
            Unit::Percent => 1,
        };
        for bar in &chart.bars {
            rows.push([
                chart.title.to_owned(),
                bar.name.clone(),
                chart::decimal(bar.value, places),
                chart.unit.csv_name().to_owned(),
            ]);
        }
    }
    // A byte-order mark and semicolons: what French spreadsheets open without asking.
    let mut csv = String::from("\u{feff}statistique;libelle;valeur;unite\r\n");
    for [statistic, label, value, unit] in rows {
        // The value is digits and a decimal comma, written bare so that it reads as a number.
        let cells = [
            csv_cell(&statistic),
            csv_cell(&label),
            value,
            csv_cell(&unit),
        ];
        csv.push_str(&cells.join(";"));
        csv.push_str("\r\n");
    }
    csv
}

pub async fn stats_csv(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<StatsQuery>,
) -> Result<Response, ConsoleError> {
    let Figures {
        period,
        stats,
        period_text,
    } = period_stats(&state, &staff.view, &query).await?;
    let csv = stats_csv_text(&state.settings().site_name, &period_text, &stats);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"statistiques-{}.csv\"",
                    period.file_name()
                ),
            ),
        ],
        csv,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use poste_store::UsageRow;

    use super::*;
    use crate::domain::opening::OpeningHours;

    fn at(text: &str) -> Millis {
        text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn stats_count_sessions_hours_postes_categories_and_hours_of_day() {
        let tz = TimeZone::get("Indian/Reunion").unwrap();
        let now = at("2026-11-24T12:00:00Z");
        let buckets = buckets(PeriodKind::Days, now, &tz);
        assert_eq!(buckets.len(), 30);
        assert_eq!(buckets.last().unwrap().label, "24/11");
        assert_eq!(buckets.last().unwrap().name, "24/11/2026");
        let row = |start: &str, secs: i64, poste: &str, category: Option<&str>| UsageRow {
            session_id: 1,
            started_at: at(start),
            ended_at: Some(at(start) + secs * 1000),
            total_secs: 7200,
            poste_id: Some(1),
            poste_nom: Some(poste.to_owned()),
            espace_id: Some(1),
            visiteur_id: None,
            categorie_nom: category.map(str::to_owned),
            atelier: None,
        };
        let rows = [
            // 10:00 local on the 24th, one hour on P1.
            row("2026-11-24T06:00:00Z", 3600, "P1", Some("Jeunes")),
            // 14:00 local on the 23rd, half an hour on P2.
            row("2026-11-23T10:00:00Z", 1800, "P2", None),
        ];
        let postes = ["P1".to_owned(), "P2".to_owned(), "P3".to_owned()];
        let stats = compute_stats(
            &Period {
                rows: &rows,
                buckets: &buckets,
                postes: &postes,
                open_secs: 10 * 3600,
            },
            now,
            &tz,
        );
        assert_eq!(stats.sessions, 2);
        assert!((stats.hours - 1.5).abs() < 1e-9);
        let chart = |id: &str| stats.charts.iter().find(|c| c.id == id).unwrap();
        let days = &chart("sessions").bars;
        assert_eq!(days[29].value, 1.0);
        assert_eq!(days[28].value, 1.0);
        let postes: Vec<(String, f64)> = chart("postes")
            .bars
            .iter()
            .map(|b| (b.label.clone(), b.value))
            .collect();
        assert_eq!(
            postes,
            [("P1".into(), 1.0), ("P2".into(), 0.5), ("P3".into(), 0.0)]
        );
        let categories: Vec<String> = chart("categories")
            .bars
            .iter()
            .map(|b| b.label.clone())
            .collect();
        assert_eq!(categories, ["Jeunes", "Sans catégorie"]);
        let rates: Vec<f64> = chart("taux").bars.iter().map(|b| b.value).collect();
        assert_eq!(rates, [10.0, 5.0, 0.0]);
        let busy = &chart("affluence").bars;
        assert_eq!(busy.iter().find(|b| b.label == "10 h").unwrap().value, 1.0);
        assert_eq!(busy.iter().find(|b| b.label == "14 h").unwrap().value, 1.0);
    }

    #[test]
    fn workshops_are_counted_by_name_with_their_sittings_and_participants() {
        let tz = TimeZone::get("Indian/Reunion").unwrap();
        let now = at("2026-11-24T12:00:00Z");
        let buckets = buckets(PeriodKind::Days, now, &tz);
        let row = |start: &str, poste: &str, atelier: Option<&str>| UsageRow {
            session_id: 1,
            started_at: at(start),
            ended_at: Some(at(start) + 5400 * 1000),
            total_secs: 5400,
            poste_id: Some(1),
            poste_nom: Some(poste.to_owned()),
            espace_id: Some(1),
            visiteur_id: None,
            categorie_nom: None,
            atelier: atelier.map(str::to_owned),
        };
        let period = |rows: &[UsageRow]| {
            compute_stats(
                &Period {
                    rows,
                    buckets: &buckets,
                    postes: &[],
                    open_secs: 10 * 3600,
                },
                now,
                &tz,
            )
        };
        // No workshop: no chart for them.
        let plain = period(&[row("2026-11-24T06:00:00Z", "P1", None)]);
        assert!(plain.charts.iter().all(|chart| chart.id != "ateliers"));
        // « Atelier CV » twice (on two and one workstations), « Tablettes » once, a visitor.
        let rows = [
            row("2026-11-23T06:00:00Z", "P1", Some("Atelier CV")),
            row("2026-11-23T06:00:00Z", "P2", Some("Atelier CV")),
            row("2026-11-24T06:00:00Z", "P1", Some("Atelier CV")),
            row("2026-11-24T06:00:00Z", "P2", Some("Tablettes")),
            row("2026-11-24T08:00:00Z", "P3", None),
        ];
        let stats = period(&rows);
        let workshops = stats.charts.iter().find(|c| c.id == "ateliers").unwrap();
        let bars: Vec<(&str, &str, f64)> = workshops
            .bars
            .iter()
            .map(|b| (b.label.as_str(), b.name.as_str(), b.value))
            .collect();
        assert_eq!(
            bars,
            [
                ("Atelier CV", "Atelier CV (2 séance(s))", 3.0),
                ("Tablettes", "Tablettes (1 séance(s))", 1.0),
            ]
        );
        assert_eq!(stats.sessions, 5);
    }

    #[test]
    fn open_time_follows_the_opening_hours() {
        let tz = TimeZone::get("Indian/Reunion").unwrap();
        // Monday 2026-11-23 00:00 local to Wednesday 2026-11-25 12:00 local.
        let from = at("2026-11-22T20:00:00Z");
        let now = at("2026-11-25T08:00:00Z");
        assert_eq!(
            open_secs(from, now, &OpeningHours::default(), &tz),
            (now - from) / 1000
        );
        // Open 09:00–18:00 on Monday and Wednesday: 9 h, then 3 h by noon on Wednesday.
        let hours = OpeningHours::parse("09:00-18:00;;09:00-18:00;;;;").unwrap();
        assert_eq!(open_secs(from, now, &hours, &tz), 12 * 3600);
        // With a lunch break from 12:00 to 13:30 on Monday: 1 h 30 less.
        let hours = OpeningHours::parse("09:00-12:00,13:30-18:00;;09:00-18:00;;;;").unwrap();
        assert_eq!(open_secs(from, now, &hours, &tz), 12 * 3600 - 5400);
        // Monday closed (a special day): only Wednesday's 3 h; with no weekly hours, the whole
        // time but that Monday.
        let special =
            OpeningHours::parse_special_days(r#"[{"date":"2026-11-23","libelle":"Travaux"}]"#)
                .unwrap();
        let closed_monday = hours.with_special_days(special.clone());
        assert_eq!(open_secs(from, now, &closed_monday, &tz), 3 * 3600);
        let only = OpeningHours::default().with_special_days(special);
        assert_eq!(
            open_secs(from, now, &only, &tz),
            (now - from) / 1000 - 86_400
        );
    }

    #[test]
    fn a_period_without_sessions_has_no_chart_to_draw() {
        let tz = TimeZone::get("Indian/Reunion").unwrap();
        let now = at("2026-11-24T12:00:00Z");
        for period in [PeriodKind::Days, PeriodKind::Weeks, PeriodKind::Months] {
            let buckets = buckets(period, now, &tz);
            let stats = compute_stats(
                &Period {
                    rows: &[],
                    buckets: &buckets,
                    postes: &["P1".to_owned(), "P2".to_owned()],
                    open_secs: 100 * 3600,
                },
                now,
                &tz,
            );
            assert_eq!(stats.charts.len(), 6);
            for chart in &stats.charts {
                assert!(chart.svg(chart::SCREEN_WIDE).is_none(), "{}", chart.id);
            }
        }
    }

    #[test]
    fn the_csv_export_has_every_value_and_no_formula() {
        let tz = TimeZone::get("Indian/Reunion").unwrap();
        let now = at("2026-11-24T12:00:00Z");
        let buckets = buckets(PeriodKind::Months, now, &tz);
        let rows = [UsageRow {
            session_id: 1,
            started_at: at("2026-11-24T06:00:00Z"),
            ended_at: Some(at("2026-11-24T07:30:00Z")),
            total_secs: 7200,
            poste_id: Some(1),
            poste_nom: Some("=HYPERLINK(\"x\")".to_owned()),
            espace_id: Some(1),
            visiteur_id: None,
            categorie_nom: Some("Jeunes".to_owned()),
            atelier: None,
        }];
        let stats = compute_stats(
            &Period {
                rows: &rows,
                buckets: &buckets,
                postes: &["=HYPERLINK(\"x\")".to_owned(), "P2".to_owned()],
                open_secs: 10 * 3600,
            },
            now,
            &tz,
        );
        let csv = stats_csv_text("EPN; Saint-Denis", "12 derniers mois, du …", &stats);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], "\u{feff}statistique;libelle;valeur;unite");
        assert_eq!(lines[1], "Espace;\"EPN; Saint-Denis\";;");
        for expected in [
            "Total;Sessions;1;sessions",
            "Total;Heures d'utilisation;1,5;h",
            "Sessions commencées;novembre 2026;1;sessions",
            "Sessions commencées;décembre 2025;0;sessions",
            // A name that looks like a formula is written as text.
            "Occupation par poste (heures);\"'=HYPERLINK(\"\"x\"\")\";1,5;h",
            "Taux d'occupation par poste (% des heures d'ouverture);P2;0;%",
            "Utilisation par catégorie de visiteurs (heures);Jeunes;1,5;h",
        ] {
            assert!(lines.contains(&expected), "{expected} in {csv}");
        }
        // Two summary rows, two totals, 12 months twice, 2 workstations twice, 1 category,
        // 8 h to 19 h; and the last line break.
        assert_eq!(lines.len(), 1 + 4 + 24 + 4 + 1 + 12 + 1);
    }

    #[test]
    fn weeks_and_months_go_back_in_order() {
        let tz = TimeZone::get("Indian/Reunion").unwrap();
        let now = at("2026-11-25T12:00:00Z"); // a Wednesday
        let weeks = buckets(PeriodKind::Weeks, now, &tz);
        assert_eq!(weeks.len(), 12);
        assert_eq!(weeks.last().unwrap().label, "23/11");
        assert_eq!(weeks.last().unwrap().name, "semaine du 23/11/2026");
        let months = buckets(PeriodKind::Months, now, &tz);
        assert_eq!(months.first().unwrap().label, "déc. 2025");
        assert_eq!(months.first().unwrap().name, "décembre 2025");
        assert_eq!(months.last().unwrap().label, "nov. 2026");
        assert!(weeks.windows(2).all(|w| w[0].start < w[1].start));
    }
}
