//! History and statistics: the event log of every session and every staff action (filtered,
//! exported as CSV), and the figures a town hall reports on, drawn as bar charts in SVG made on
//! the server (no script, no external library), each with its table of values.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use jiff::tz::TimeZone;
use poste_store::{EventFilter, EventKind, EventView, Millis, UsageRow};
use serde::Deserialize;

use crate::clock::now_ms;
use crate::console::ConsoleError;
use crate::console::auth::Staff;
use crate::console::pages::{Frame, page, poste_names};
use crate::console::view::{self, csv_cell};
use crate::domain::opening::OpeningHours;
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
        "Réglages et conservation",
        &[EventKind::SettingsChanged, EventKind::RetentionPurge],
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
    fn new(view: &EventView, tz: &TimeZone) -> Self {
        let event = &view.event;
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
                .map(|detail| t::event_detail(event.kind, detail))
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
    query: &HistoryQuery,
    limit: i64,
) -> Result<Result<EventFilter, &'static str>, ConsoleError> {
    let tz = state.settings().timezone.clone();
    let mut filter = EventFilter {
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
    let tz = state.settings().timezone.clone();
    let (events, error) = match history_filter(&state, &query, 300).await? {
        Ok(filter) => (
            state
                .store
                .list_events(&filter)
                .await?
                .iter()
                .map(|view| EventLine::new(view, &tz))
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
        postes: poste_names(&state).await?,
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
    let Ok(filter) = history_filter(&state, &query, MAX_HISTORY_EXPORT).await? else {
        return Err(ConsoleError::BadForm);
    };
    let tz = state.settings().timezone.clone();
    let mut csv = String::from("\u{feff}date;type;acteur;poste;session;detail;adresse_ip\r\n");
    for view in state.store.list_events(&filter).await? {
        let line = EventLine::new(&view, &tz);
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

/// One bar of a chart.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// The value as shown in the table and the bar's tooltip.
    pub shown: String,
}

/// A bar chart: its SVG (escaped text only) and the bars, for the table beside it.
#[derive(Debug)]
pub struct Chart {
    pub id: &'static str,
    pub title: String,
    pub svg: String,
    pub bars: Vec<Bar>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Vertical bars, labels below; the height is scaled to the largest value.
pub fn bar_chart(id: &'static str, title: String, unit: &'static str, bars: Vec<Bar>) -> Chart {
    const HEIGHT: f64 = 180.0;
    const TOP: f64 = 20.0;
    const BOTTOM: f64 = 80.0;
    const LEFT: f64 = 40.0;
    let width = (bars.len().max(1) as f64 * 34.0 + LEFT).max(320.0);
    let step = (width - LEFT) / bars.len().max(1) as f64;
    let bar_width = (step * 0.7).clamp(2.0, 36.0);
    let max = bars
        .iter()
        .map(|b| b.value)
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let mut svg = format!(
        "<svg class=\"graphique\" viewBox=\"0 0 {width:.0} {total:.0}\" role=\"img\" \
         aria-labelledby=\"{id}-titre\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"{id}-titre\">{title}</title>\
         <line x1=\"{LEFT:.0}\" y1=\"{base:.0}\" x2=\"{width:.0}\" y2=\"{base:.0}\" stroke=\"#4a5560\"/>",
        total = HEIGHT + TOP + BOTTOM,
        base = TOP + HEIGHT,
        title = escape(&title),
    );
    for (index, bar) in bars.iter().enumerate() {
        let h = (bar.value / max * HEIGHT).max(if bar.value > 0.0 { 1.0 } else { 0.0 });
        let x = LEFT + index as f64 * step + (step - bar_width) / 2.0;
        // Long names are shortened on the axis; the tooltip and the table have them whole.
        let short: String = if bar.label.chars().count() > 14 {
            bar.label.chars().take(13).chain(['…']).collect()
        } else {
            bar.label.clone()
        };
        svg.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"#0b5cad\">\
             <title>{label} : {shown}</title></rect>\
             <text x=\"{tx:.1}\" y=\"{ty:.0}\" font-size=\"11\" text-anchor=\"end\" \
             transform=\"rotate(-45 {tx:.1} {ty:.0})\" fill=\"#1b1f24\">{short}</text>",
            y = TOP + HEIGHT - h,
            w = bar_width,
            tx = x + bar_width / 2.0,
            ty = TOP + HEIGHT + 14.0,
            label = escape(&bar.label),
            shown = escape(&bar.shown),
            short = escape(&short),
        ));
    }
    svg.push_str(&format!(
        "<text x=\"2\" y=\"{TOP:.0}\" font-size=\"11\" fill=\"#4a5560\">{}</text></svg>",
        escape(&format_value(max, unit))
    ));
    Chart {
        id,
        title,
        svg,
        bars,
    }
}

fn format_value(value: f64, unit: &str) -> String {
    match unit {
        "h" => format!("{value:.1} h").replace('.', ","),
        "%" => format!("{value:.0} %"),
        _ => format!("{value:.0}"),
    }
}

fn bar(label: String, value: f64, unit: &str) -> Bar {
    Bar {
        shown: format_value(value, unit),
        label,
        value,
    }
}

/// Seconds a session actually ran (up to now for a running one).
fn used_secs(row: &UsageRow, now: Millis) -> i64 {
    let end = row.ended_at.unwrap_or(now);
    ((end - row.started_at).max(0) / 1000).min(row.total_secs.max(0))
}

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
}

/// The buckets of a period, oldest first: (start, label).
fn buckets(period: PeriodKind, now: Millis, tz: &TimeZone) -> Vec<(Millis, String)> {
    let Ok(ts) = jiff::Timestamp::from_millisecond(now) else {
        return Vec::new();
    };
    let today = ts.to_zoned_datetime(tz.clone()).date();
    let (first, count, step, format) = match period {
        PeriodKind::Days => (today, 30, jiff::Span::new().days(1), "%d/%m"),
        PeriodKind::Weeks => {
            let monday = today
                .checked_sub(
                    jiff::Span::new().days(i64::from(today.weekday().to_monday_zero_offset())),
                )
                .unwrap_or(today);
            (monday, 12, jiff::Span::new().weeks(1), "%d/%m")
        }
        PeriodKind::Months => (
            today.first_of_month(),
            12,
            jiff::Span::new().months(1),
            "%m/%Y",
        ),
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
            Some((
                start.timestamp().as_millisecond(),
                day.strftime(format).to_string(),
            ))
        })
        .collect()
}

/// The figures of a period, computed from the sessions that started in it.
#[derive(Debug)]
pub struct Stats {
    pub sessions: usize,
    pub hours: f64,
    pub charts: Vec<Chart>,
}

/// Seconds the space was open between `from` and `now`: the opening hours of each day, or the
/// whole time when no hours are set.
pub fn open_secs(from: Millis, now: Millis, hours: &OpeningHours, tz: &TimeZone) -> i64 {
    if hours.always_open() {
        return (now - from).max(0) / 1000;
    }
    let (Ok(start), Ok(end)) = (
        jiff::Timestamp::from_millisecond(from),
        jiff::Timestamp::from_millisecond(now),
    ) else {
        return 0;
    };
    let mut day = start.to_zoned_datetime(tz.clone()).date();
    let last = end.to_zoned_datetime(tz.clone()).date();
    let mut total = 0;
    while day <= last {
        let index = usize::from(day.weekday().to_monday_zero_offset().unsigned_abs());
        if let Some(open) = hours.day(index) {
            let at = |time| {
                day.to_datetime(time)
                    .to_zoned_datetime(tz.clone())
                    .map(|z| z.timestamp().as_millisecond())
                    .unwrap_or(from)
            };
            let (opens, closes) = (at(open.open).max(from), at(open.close).min(now));
            total += (closes - opens).max(0) / 1000;
        }
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    total
}

/// What the statistics of a period are computed from.
#[derive(Debug)]
pub struct Period<'a> {
    pub rows: &'a [UsageRow],
    pub buckets: &'a [(Millis, String)],
    pub postes: &'a [String],
    /// Seconds the space was open during the period (for the occupancy rate).
    pub open_secs: i64,
}

pub fn compute_stats(period: &Period<'_>, now: Millis, tz: &TimeZone) -> Stats {
    let Period {
        rows,
        buckets,
        postes,
        open_secs,
    } = *period;
    let index_of = |at: Millis| buckets.iter().rposition(|(start, _)| *start <= at);
    let mut per_bucket = vec![(0usize, 0i64); buckets.len()];
    let mut per_poste: BTreeMap<String, i64> =
        postes.iter().map(|name| (name.clone(), 0)).collect();
    let mut per_category: BTreeMap<String, i64> = BTreeMap::new();
    let mut per_hour = [0usize; 24];
    let mut total_secs = 0i64;
    for row in rows {
        let used = used_secs(row, now);
        total_secs += used;
        if let Some(index) = index_of(row.started_at) {
            per_bucket[index].0 += 1;
            per_bucket[index].1 += used;
        }
        if let Some(name) = &row.poste_nom {
            *per_poste.entry(name.clone()).or_default() += used;
        }
        *per_category
            .entry(
                row.categorie_nom
                    .clone()
                    .unwrap_or_else(|| "Sans catégorie".to_owned()),
            )
            .or_default() += used;
        if let Ok(ts) = jiff::Timestamp::from_millisecond(row.started_at) {
            let hour = usize::try_from(ts.to_zoned_datetime(tz.clone()).hour()).unwrap_or(0);
            per_hour[hour.min(23)] += 1;
        }
    }
    let hours = |secs: i64| secs as f64 / 3600.0;
    let charts = vec![
        bar_chart(
            "sessions",
            "Sessions commencées".to_owned(),
            "",
            buckets
                .iter()
                .zip(&per_bucket)
                .map(|((_, label), (count, _))| bar(label.clone(), *count as f64, ""))
                .collect(),
        ),
        bar_chart(
            "heures",
            "Heures d'utilisation".to_owned(),
            "h",
            buckets
                .iter()
                .zip(&per_bucket)
                .map(|((_, label), (_, secs))| bar(label.clone(), hours(*secs), "h"))
                .collect(),
        ),
        bar_chart(
            "postes",
            "Occupation par poste (heures)".to_owned(),
            "h",
            per_poste
                .iter()
                .map(|(name, secs)| bar(name.clone(), hours(*secs), "h"))
                .collect(),
        ),
        bar_chart(
            "taux",
            "Taux d'occupation par poste (% des heures d'ouverture)".to_owned(),
            "%",
            per_poste
                .iter()
                .map(|(name, secs)| {
                    let rate = if open_secs > 0 {
                        (*secs as f64 / open_secs as f64 * 100.0).min(100.0)
                    } else {
                        0.0
                    };
                    bar(name.clone(), rate, "%")
                })
                .collect(),
        ),
        bar_chart(
            "categories",
            "Utilisation par catégorie de visiteurs (heures)".to_owned(),
            "h",
            per_category
                .into_iter()
                .map(|(name, secs)| bar(name, hours(secs), "h"))
                .collect(),
        ),
        bar_chart(
            "affluence",
            "Heures d'affluence (sessions commencées, par heure)".to_owned(),
            "",
            {
                // The usual opening day, widened to any hour that had sessions.
                let first = per_hour.iter().position(|&n| n > 0).unwrap_or(8).min(8);
                let last = per_hour.iter().rposition(|&n| n > 0).unwrap_or(19).max(19);
                (first..=last)
                    .map(|hour| bar(format!("{hour} h"), per_hour[hour] as f64, ""))
                    .collect()
            },
        ),
    ];
    Stats {
        sessions: rows.len(),
        hours: hours(total_secs),
        charts,
    }
}

#[derive(Deserialize)]
pub struct StatsQuery {
    #[serde(default)]
    periode: String,
}

#[derive(Template)]
#[template(path = "console/stats.html")]
struct StatsPage {
    frame: Frame,
    period: &'static str,
    periods: &'static [(&'static str, &'static str)],
    sessions: usize,
    hours: String,
    charts: Vec<Chart>,
}

const PERIODS: &[(&str, &str)] = &[
    ("jour", "30 derniers jours"),
    ("semaine", "12 dernières semaines"),
    ("mois", "12 derniers mois"),
];

pub async fn stats(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(query): Query<StatsQuery>,
) -> Result<Response, ConsoleError> {
    let period = PeriodKind::parse(&query.periode);
    let now = now_ms();
    let settings = state.settings();
    let tz = settings.timezone.clone();
    let buckets = buckets(period, now, &tz);
    let from = buckets.first().map_or(now, |(start, _)| *start);
    let rows = state.store.usage(from, now + 1).await?;
    let postes = poste_names(&state).await?;
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
    page(&StatsPage {
        frame: Frame::new(&state, &staff, &headers, "statistiques"),
        period: period.value(),
        periods: PERIODS,
        sessions: stats.sessions,
        hours: format_value(stats.hours, "h"),
        charts: stats.charts,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(text: &str) -> Millis {
        text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn stats_count_sessions_hours_postes_categories_and_hours_of_day() {
        let tz = TimeZone::get("Indian/Reunion").unwrap();
        let now = at("2026-11-24T12:00:00Z");
        let buckets = buckets(PeriodKind::Days, now, &tz);
        assert_eq!(buckets.len(), 30);
        assert_eq!(buckets.last().unwrap().1, "24/11");
        let row = |start: &str, secs: i64, poste: &str, category: Option<&str>| UsageRow {
            session_id: 1,
            started_at: at(start),
            ended_at: Some(at(start) + secs * 1000),
            total_secs: 7200,
            poste_id: Some(1),
            poste_nom: Some(poste.to_owned()),
            categorie_nom: category.map(str::to_owned),
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
    }

    #[test]
    fn charts_escape_their_labels() {
        let chart = bar_chart(
            "x",
            "T".into(),
            "",
            vec![bar("<script>alert(1)</script>".into(), 1.0, "")],
        );
        assert!(!chart.svg.contains("<script>"));
        assert!(chart.svg.contains("&lt;script&gt;"));
    }

    #[test]
    fn weeks_and_months_go_back_in_order() {
        let tz = TimeZone::get("Indian/Reunion").unwrap();
        let now = at("2026-11-25T12:00:00Z"); // a Wednesday
        let weeks = buckets(PeriodKind::Weeks, now, &tz);
        assert_eq!(weeks.len(), 12);
        assert_eq!(weeks.last().unwrap().1, "23/11");
        let months = buckets(PeriodKind::Months, now, &tz);
        assert_eq!(months.first().unwrap().1, "12/2025");
        assert_eq!(months.last().unwrap().1, "11/2026");
        assert!(weeks.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
