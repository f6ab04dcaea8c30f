//! A year (or any number of days) of a space's use, written into a store through its own
//! operations with past `now`s: the sessions a médiathèque's workstations would have run, with
//! opening hours, busy and quiet days, school holidays, registered visitors in categories and
//! anonymous ones. For screenshots of the statistics with real data, and for measuring pages
//! over a long history. Deterministic for a seed. Never for a live site: it adds visitors and
//! sessions to the register.

use anyhow::Context;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use poste_store::{Actor, Millis, NewCategory, NewPoste, NewSession, NewVisitor, PosteRow, Store};

/// What to write.
#[derive(Debug, Clone)]
pub struct HistoryPlan {
    /// `sqlite:PATH` or `postgres://…`, as the server's `--database`.
    pub database: String,
    /// Days of history, ending yesterday (today is left to real sessions).
    pub days: u32,
    /// The instant "now" stands for.
    pub now: Millis,
    /// The space's time zone: opening hours are local.
    pub tz: TimeZone,
    /// Workstations created when the store has none.
    pub workstations: usize,
    /// Also set the space's opening hours to the ones the history follows, so occupancy is
    /// counted against them.
    pub set_opening_hours: bool,
    pub seed: u64,
}

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HistoryReport {
    pub sessions: u64,
    pub workstations: usize,
    pub visitors: usize,
}

const CATEGORIES: &[&str] = &["Adultes", "Jeunes", "Seniors", "Demandeurs d'emploi"];

const VISITORS: &[&str] = &[
    "Awa Payet",
    "Jean-Marc Hoarau",
    "Marie-Claire Grondin",
    "Kévin Técher",
    "Sophie Boyer",
    "Ibrahim Soilihi",
    "Nathalie Fontaine",
    "Dylan Rivière",
    "Josiane Lebon",
    "Mickaël Nativel",
    "Fatima Abdou",
    "Yannick Robert",
    "Chloé Maillot",
    "Gérard Turpin",
    "Laëtitia Dijoux",
    "Thierry Babet",
    "Anaïs Clain",
    "Raymond Cadet",
    "Mélissa Ethève",
    "Patrick Bègue",
];

/// Writes the history; returns what it wrote.
pub async fn write_history(plan: &HistoryPlan) -> anyhow::Result<HistoryReport> {
    let store = Store::connect(&plan.database, "poste-history")
        .await
        .with_context(|| format!("cannot open {}", plan.database))?;
    let actor = Actor::Cli;
    let first = plan.now - i64::from(plan.days) * 86_400_000;

    if plan.set_opening_hours {
        let hours = vec![(OPENING_HOURS_KEY.to_owned(), opening_hours_setting())];
        store.set_settings(&hours, &actor, plan.now).await?;
    }

    let mut postes = store.list_postes().await?;
    if postes.is_empty() {
        for n in 1..=plan.workstations.max(1) {
            let new = NewPoste {
                nom: format!("Salle-{n:02}"),
                ip: None,
                mac: None,
            };
            postes.push(store.create_poste(&new, &actor, first).await?);
        }
    }

    let mut categories = Vec::new();
    let existing = store.list_categories().await?;
    for name in CATEGORIES {
        let id = match existing.iter().find(|c| c.nom == *name) {
            Some(category) => category.id,
            None => {
                let new = NewCategory {
                    nom: (*name).to_owned(),
                    max_session_secs: None,
                    max_day_secs: None,
                    max_week_secs: None,
                };
                store.save_category(None, &new, &actor, first).await?.id
            }
        };
        categories.push(id);
    }
    let mut visitors = Vec::new();
    for (i, name) in VISITORS.iter().enumerate() {
        let new = NewVisitor {
            nom: (*name).to_owned(),
            carte: None,
            email: None,
            categorie_id: Some(categories[i % categories.len()]),
            notes: None,
        };
        let row = store.save_visitor(None, &new, &actor, first).await?;
        visitors.push((row.id, row.nom));
    }

    let mut rng = SplitMix(plan.seed);
    let mut report = HistoryReport {
        workstations: postes.len(),
        visitors: visitors.len(),
        ..HistoryReport::default()
    };
    let today = Timestamp::from_millisecond(plan.now)?
        .to_zoned_datetime(plan.tz.clone())
        .date();
    let mut code = 0u64;
    for back in (1..=i64::from(plan.days)).rev() {
        let date = today.checked_sub(back.days())?;
        let Some((open, close)) = opening_hours(date) else {
            continue;
        };
        let busy = busyness(date);
        for poste in &postes {
            let mut at = local(date, open, &plan.tz)?;
            let close = local(date, close, &plan.tz)?;
            // A visitor does not sit down five minutes before closing.
            while close - at >= 5 * 60_000 {
                let hour = Timestamp::from_millisecond(at)?
                    .to_zoned_datetime(plan.tz.clone())
                    .hour();
                if !rng.chance(busy * hour_profile(hour)) {
                    at += rng.between(10, 40) * 60_000;
                    continue;
                }
                let minutes = [30, 45, 60, 60, 60, 90, 120][rng.below(7)];
                let visitor = (rng.below(10) < 7).then(|| &visitors[rng.below(visitors.len())]);
                let ran = write_session(
                    &store, poste, visitor, minutes, at, close, &mut code, &mut rng,
                )
                .await?;
                report.sessions += 1;
                at += ran + rng.between(2, 20) * 60_000;
            }
        }
    }
    store.close().await;
    Ok(report)
}

/// One session on `poste` from `at`: created two minutes before, started at `at`, run out at its
/// deadline or ended early by its visitor, never past `close`. Returns how long it ran (ms).
#[allow(clippy::too_many_arguments)]
async fn write_session(
    store: &Store,
    poste: &PosteRow,
    visitor: Option<&(i64, String)>,
    minutes: i64,
    at: Millis,
    close: Millis,
    code: &mut u64,
    rng: &mut SplitMix,
) -> anyhow::Result<Millis> {
    let secs = (minutes * 60).min((close - at) / 1000);
    let new = NewSession {
        utilisateur: visitor.map(|(_, name)| name.clone()),
        visiteur_id: visitor.map(|(id, _)| *id),
        poste_id: Some(poste.id),
        espace_id: None,
        duration_secs: secs,
        valid_until: at + 86_400_000,
    };
    let mut next_code = || {
        *code += 1;
        format!("H{:07}", *code)
    };
    let staff = Actor::Staff {
        login: "historique".to_owned(),
        ip: None,
    };
    let created = store
        .create_sessions(&new, 1, &mut next_code, &staff, at - 120_000)
        .await?;
    let id = created.first().context("no session created")?.id;
    let workstation = Actor::Poste(poste.nom.clone());
    store
        .start_session(id, Some(poste.id), &workstation, at)
        .await?;
    let deadline = at + secs * 1000;
    if rng.below(4) == 0 {
        let ended = at + (secs * 1000) * rng.between(3, 9) / 10;
        store
            .end_session(id, "termine_par_visiteur", &workstation, ended)
            .await?;
        Ok(ended - at)
    } else {
        store.expire_session(id, deadline).await?;
        Ok(deadline - at)
    }
}

/// The server's setting of the opening hours (`Réglages`).
const OPENING_HOURS_KEY: &str = "opening_hours";

/// [`opening_hours`] as the server stores them: Monday first, `HH:MM-HH:MM` or empty, by `;`.
pub fn opening_hours_setting() -> String {
    // 2026-11-23 is a Monday.
    (0..7)
        .map(|i| {
            let date = Date::constant(2026, 11, 23 + i);
            opening_hours(date).map_or(String::new(), |(open, close)| {
                format!("{}-{}", open.strftime("%H:%M"), close.strftime("%H:%M"))
            })
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// A médiathèque's week: closed on Sunday and on Monday morning, Saturday until noon-thirty.
fn opening_hours(date: Date) -> Option<(Time, Time)> {
    let hm = |h, m| Time::constant(h, m, 0, 0);
    match date.weekday() {
        Weekday::Sunday => None,
        Weekday::Monday => Some((hm(13, 0), hm(17, 30))),
        Weekday::Saturday => Some((hm(9, 0), hm(12, 30))),
        _ => Some((hm(9, 0), hm(17, 30))),
    }
}

/// How busy a day is, 0–1: Wednesdays and Saturdays (no school in the afternoon or at all),
/// La Réunion's school holidays (the austral summer from mid-December to mid-January, the
/// winter break of July and August) busier; the first days of January quieter.
fn busyness(date: Date) -> f64 {
    let weekday = match date.weekday() {
        Weekday::Wednesday | Weekday::Saturday => 1.25_f64,
        _ => 1.0,
    };
    let season = match (date.month(), date.day()) {
        (1, 1..=3) => 0.4,
        (12, 20..) | (1, _) | (7, _) | (8, _) => 1.3,
        (2, _) | (9, _) => 1.1,
        _ => 0.9,
    };
    (0.42 * weekday * season).min(0.95)
}

/// The hours' shape: mornings start slow, early afternoon is the peak.
fn hour_profile(hour: i8) -> f64 {
    match hour {
        9 => 0.55,
        10 | 11 => 0.9,
        12 => 0.6,
        13 => 0.8,
        14..=16 => 1.15,
        _ => 0.7,
    }
}

fn local(date: Date, time: Time, tz: &TimeZone) -> anyhow::Result<Millis> {
    Ok(date
        .to_datetime(time)
        .to_zoned_datetime(tz.clone())?
        .timestamp()
        .as_millisecond())
}

/// SplitMix64: a small, well-mixed generator, enough for a plausible and repeatable history.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n ≥ 1).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// Uniform in `low..=high`.
    fn between(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % (high - low + 1).max(1).unsigned_abs()) as i64
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_week_and_the_seasons_shape_the_days() {
        let date = |s: &str| s.parse::<Date>().unwrap();
        assert_eq!(opening_hours(date("2026-11-29")), None); // a Sunday
        assert!(busyness(date("2026-11-25")) > busyness(date("2026-11-24"))); // Wed > Tue
        assert!(busyness(date("2026-07-14")) > busyness(date("2026-11-24"))); // winter break
        assert!(busyness(date("2026-01-02")) < busyness(date("2026-11-24")));
        for day in 1..=31 {
            let b = busyness(Date::new(2026, 1, day).unwrap());
            assert!(b > 0.0 && b < 1.0);
        }
    }

    #[test]
    fn the_hours_are_written_as_the_server_reads_them() {
        assert_eq!(
            opening_hours_setting(),
            "13:00-17:30;09:00-17:30;09:00-17:30;09:00-17:30;09:00-17:30;09:00-12:30;"
        );
    }

    #[test]
    fn the_generator_is_repeatable_and_stays_in_bounds() {
        let (mut a, mut b) = (SplitMix(7), SplitMix(7));
        for _ in 0..1000 {
            let x = a.between(10, 40);
            assert_eq!(x, b.between(10, 40));
            assert!((10..=40).contains(&x));
            assert!(a.below(7) < 7);
            b.below(7);
        }
    }
}
