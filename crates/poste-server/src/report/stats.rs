//! The statistics of a period, computed from its sessions: sessions and hours per slot of
//! time, hours and occupancy per workstation, hours per visitor category and the busiest
//! hours of the day, as the charts ([`chart`]) the console's pages and the monthly report draw.

use std::collections::{BTreeMap, BTreeSet};

use jiff::tz::TimeZone;
use poste_store::{Millis, UsageRow};

use crate::domain::opening::OpeningHours;
use crate::report::chart::{Bar, Chart, Shape, Unit};
use crate::text::console as t;

fn hours_bar(label: String, name: String, secs: i64) -> Bar {
    Bar {
        label,
        name,
        value: secs as f64 / 3600.0,
    }
}

/// Seconds a session actually ran (up to now for a running one).
fn used_secs(row: &UsageRow, now: Millis) -> i64 {
    let end = row.ended_at.unwrap_or(now);
    ((end - row.started_at).max(0) / 1000).min(row.total_secs.max(0))
}

/// One bar's slot of a time series.
#[derive(Debug, Clone)]
pub struct Bucket {
    pub start: Millis,
    /// Under the bar (`24/11`, `nov. 2026`).
    pub label: String,
    /// In the table and the export (`24/11/2026`, `semaine du 23/11/2026`, `novembre 2026`).
    pub name: String,
}

/// The figures of a period, computed from the sessions that started in it.
#[derive(Debug)]
pub struct Stats {
    pub sessions: usize,
    pub hours: f64,
    pub charts: Vec<Chart>,
}

/// Seconds the space was open between `from` and `now`: the periods of each day (a lunch break
/// is not open time, a special day has its own), or the whole time when nothing limits a day.
pub fn open_secs(from: Millis, now: Millis, hours: &OpeningHours, tz: &TimeZone) -> i64 {
    if hours.always_open() && hours.special_days().is_empty() {
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
        let at = |time| {
            day.to_datetime(time)
                .to_zoned_datetime(tz.clone())
                .map(|z| z.timestamp().as_millisecond())
                .unwrap_or(from)
        };
        match hours.periods_on(day) {
            Some(periods) => {
                for period in periods {
                    let (opens, closes) = (at(period.open).max(from), at(period.close).min(now));
                    total += (closes - opens).max(0) / 1000;
                }
            }
            // Nothing limits that day: all of it, from midnight to midnight.
            None => {
                let next = day
                    .tomorrow()
                    .map_or(now, |next| at_midnight(next, tz, now));
                let (opens, closes) = (at(jiff::civil::Time::midnight()).max(from), next.min(now));
                total += (closes - opens).max(0) / 1000;
            }
        }
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    total
}

fn at_midnight(date: jiff::civil::Date, tz: &TimeZone, otherwise: Millis) -> Millis {
    date.to_datetime(jiff::civil::Time::midnight())
        .to_zoned_datetime(tz.clone())
        .map_or(otherwise, |z| z.timestamp().as_millisecond())
}

/// What the statistics of a period are computed from.
#[derive(Debug)]
pub struct Period<'a> {
    pub rows: &'a [UsageRow],
    pub buckets: &'a [Bucket],
    pub postes: &'a [String],
    /// Seconds the space was open during the period (for the occupancy rate).
    pub open_secs: i64,
}

/// A named thing's bar, its name whole under it and in the table.
fn named(name: &str, value: f64) -> Bar {
    Bar {
        label: name.to_owned(),
        name: name.to_owned(),
        value,
    }
}

pub fn compute_stats(period: &Period<'_>, now: Millis, tz: &TimeZone) -> Stats {
    let Period {
        rows,
        buckets,
        postes,
        open_secs,
    } = *period;
    let index_of = |at: Millis| buckets.iter().rposition(|bucket| bucket.start <= at);
    let mut per_bucket = vec![(0usize, 0i64); buckets.len()];
    let mut per_poste: BTreeMap<String, i64> =
        postes.iter().map(|name| (name.clone(), 0)).collect();
    let mut per_category: BTreeMap<String, i64> = BTreeMap::new();
    let mut per_hour = [0usize; 24];
    // A workshop's name: its sittings (sessions started together), its participants (one a
    // workstation).
    let mut per_workshop: BTreeMap<&str, (BTreeSet<Millis>, usize)> = BTreeMap::new();
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
                    .unwrap_or_else(|| t::STATS_NO_CATEGORY.to_owned()),
            )
            .or_default() += used;
        if let Some(name) = row.atelier.as_deref() {
            let workshop = per_workshop.entry(name).or_default();
            workshop.0.insert(row.started_at);
            workshop.1 += 1;
        }
        if let Ok(ts) = jiff::Timestamp::from_millisecond(row.started_at) {
            let hour = usize::try_from(ts.to_zoned_datetime(tz.clone()).hour()).unwrap_or(0);
            per_hour[hour.min(23)] += 1;
        }
    }
    let chart = |id, title, unit, shape, bars| Chart {
        id,
        title,
        unit,
        shape,
        wide: false,
        bars,
    };
    let series = |id, title, unit, value: &dyn Fn(usize, i64) -> f64| Chart {
        wide: true,
        ..chart(
            id,
            title,
            unit,
            Shape::Columns,
            buckets
                .iter()
                .zip(&per_bucket)
                .map(|(bucket, (count, secs))| Bar {
                    label: bucket.label.clone(),
                    name: bucket.name.clone(),
                    value: value(*count, *secs),
                })
                .collect(),
        )
    };
    let charts = vec![
        series("sessions", t::STATS_SESSIONS, Unit::Count, &|count, _| {
            count as f64
        }),
        series("heures", t::STATS_HOURS, Unit::Hours, &|_, secs| {
            secs as f64 / 3600.0
        }),
        chart(
            "postes",
            t::STATS_BY_POSTE,
            Unit::Hours,
            Shape::Rows,
            per_poste
                .iter()
                .map(|(name, secs)| hours_bar(name.clone(), name.clone(), *secs))
                .collect(),
        ),
        chart(
            "taux",
            t::STATS_OCCUPANCY,
            Unit::Percent,
            Shape::Rows,
            per_poste
                .iter()
                .map(|(name, secs)| {
                    let rate = if open_secs > 0 {
                        (*secs as f64 / open_secs as f64 * 100.0).min(100.0)
                    } else {
                        0.0
                    };
                    named(name, rate)
                })
                .collect(),
        ),
        chart(
            "categories",
            t::STATS_BY_CATEGORY,
            Unit::Hours,
            Shape::Rows,
            per_category
                .into_iter()
                .map(|(name, secs)| hours_bar(name.clone(), name, secs))
                .collect(),
        ),
        chart(
            "affluence",
            t::STATS_BUSY_HOURS,
            Unit::Count,
            Shape::Columns,
            {
                // The usual opening day, widened to any hour that had sessions.
                let first = per_hour.iter().position(|&n| n > 0).unwrap_or(8).min(8);
                let last = per_hour.iter().rposition(|&n| n > 0).unwrap_or(19).max(19);
                (first..=last)
                    .map(|hour| named(&t::hour_of_day(hour), per_hour[hour] as f64))
                    .collect()
            },
        ),
    ];
    let mut charts = charts;
    // Only where there were workshops: a space that holds none is not shown an empty chart.
    if !per_workshop.is_empty() {
        charts.push(chart(
            "ateliers",
            t::STATS_WORKSHOPS,
            Unit::Count,
            Shape::Rows,
            per_workshop
                .into_iter()
                .map(|(name, (held, participants))| Bar {
                    label: name.to_owned(),
                    name: t::stats_workshop(name, held.len()),
                    value: participants as f64,
                })
                .collect(),
        ));
    }
    Stats {
        sessions: rows.len(),
        hours: total_secs as f64 / 3600.0,
        charts,
    }
}
