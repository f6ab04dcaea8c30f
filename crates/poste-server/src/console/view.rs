//! What the console's pages show, computed from the store's rows and the hub's live state:
//! every text already formatted in French and in the space's time zone, so templates only
//! place it (and escape it).

use std::collections::{HashMap, HashSet};

use jiff::tz::TimeZone;
use poste_store::{CategoryRow, Millis, PosteRow, SessionRow, SessionStatus, TimeRequestRow};

use crate::domain::duration::format_duration;
use crate::domain::timing::remaining_secs;
use crate::settings::Settings;
use crate::text;
use crate::text::console as t;

pub use crate::clock::{local_date, local_datetime, local_time};

/// Until when a code is valid: `24/11/2026 18:00`, or `24/11/2026, fin de journée` for a code
/// valid until midnight (the default), which would otherwise read as the next day at 00:00.
pub fn validity(ms: Millis, tz: &TimeZone) -> String {
    let Ok(ts) = jiff::Timestamp::from_millisecond(ms) else {
        return String::new();
    };
    let zoned = ts.to_zoned_datetime(tz.clone());
    if zoned.hour() == 0
        && zoned.minute() == 0
        && let Ok(day) = zoned.date().yesterday()
    {
        return format!("{}, fin de journée", day.strftime("%d/%m/%Y"));
    }
    zoned.strftime("%d/%m/%Y %H:%M").to_string()
}

/// When a page shows several spaces whose clocks differ, what it says of the times it lists:
/// they read one clock (the common one, [`Settings::shown`]), and choosing one space reads its.
/// `spaces`: the account's spaces; None when every space shown keeps the page's clock.
pub fn clock_note(
    settings: &Settings,
    view: &poste_store::SpaceScope,
    spaces: &[(i64, String)],
) -> Option<String> {
    let shown = &settings.shown(view).timezone;
    spaces
        .iter()
        .filter(|(id, _)| view.contains(*id))
        .any(|(id, _)| settings.at(Some(*id)).timezone != *shown)
        .then(|| t::clock_note(shown.iana_name().unwrap_or(t::SYSTEM_CLOCK)))
}

/// `01:05:09` or `12:30`: time left as a countdown reads.
pub fn countdown(secs: i64) -> String {
    let secs = secs.max(0);
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

/// A code as it is easiest to read aloud and type: `K7P 2MX`.
pub fn spaced_code(code: &str) -> String {
    if code.len() == 6 && code.is_ascii() {
        format!("{} {}", &code[..3], &code[3..])
    } else {
        code.to_owned()
    }
}

/// One workstation on the dashboard.
#[derive(Debug, Clone)]
pub struct Tile {
    pub poste_id: i64,
    pub nom: String,
    pub emplacement: String,
    /// CSS modifier: `libre`, `session`, `hors-ligne`, `hors-service`.
    pub state: &'static str,
    pub state_label: &'static str,
    /// Shown loudly: the agent stopped reporting during a session.
    pub alert: Option<&'static str>,
    pub hors_service: bool,
    /// Paused by staff for a workshop (its screen says their words).
    pub paused: bool,
    pub session: Option<TileSession>,
    /// Connected (here or to another instance): it can be powered off; else woken, when
    /// `wakeable`.
    pub online: bool,
    /// Its MAC address is known (Wake-on-LAN).
    pub wakeable: bool,
}

#[derive(Debug, Clone)]
pub struct TileSession {
    pub id: i64,
    pub visitor: String,
    pub started: String,
    pub left: String,
    pub deadline_ms: Millis,
    pub total_secs: i64,
    pub used_secs: i64,
    /// `ok`, `warning` (under the first threshold), `critical`.
    pub level: &'static str,
    /// The visitor's request for more time waiting for an answer, if any.
    pub request: Option<TileRequest>,
}

/// A request for more time, on its workstation's tile.
#[derive(Debug, Clone)]
pub struct TileRequest {
    pub id: i64,
    /// `30 min`, or `durée au choix de l'animateur`.
    pub asked: String,
    /// Local time it was asked at.
    pub at: String,
    /// Minutes the accept form proposes.
    pub grant: i64,
}

/// Tiles of every workstation, by name.
pub fn tiles(
    postes: Vec<PosteRow>,
    online: &HashSet<i64>,
    live: &[SessionRow],
    requests: &[TimeRequestRow],
    settings: &Settings,
    now: Millis,
) -> Vec<Tile> {
    let running: HashMap<i64, &SessionRow> = live
        .iter()
        .filter(|row| row.status == SessionStatus::Active)
        .filter_map(|row| row.poste_id.map(|id| (id, row)))
        .collect();
    postes
        .into_iter()
        .map(|poste| {
            let is_online = online.contains(&poste.id);
            // On its space's clock.
            let space = settings.for_space(poste.espace_id);
            let (thresholds, tz) = (space.thresholds, &space.timezone);
            let session = running.get(&poste.id).and_then(|row| {
                let deadline = row.deadline()?;
                let left = remaining_secs(deadline, now);
                let left_ms = deadline - now;
                Some(TileSession {
                    id: row.id,
                    visitor: row
                        .shown_name()
                        .unwrap_or(text::ANONYMOUS_VISITOR)
                        .to_owned(),
                    started: row.started_at.map(|at| local_time(at, tz)).unwrap_or_default(),
                    left: countdown(left),
                    deadline_ms: deadline,
                    total_secs: row.total_secs(),
                    used_secs: (row.total_secs() - left).clamp(0, row.total_secs()),
                    level: if left_ms <= thresholds.critical_ms {
                        "critical"
                    } else if left_ms <= thresholds.warning_ms {
                        "warning"
                    } else {
                        "ok"
                    },
                    request: requests
                        .iter()
                        .find(|request| request.session_id == row.id)
                        .map(|request| TileRequest {
                            id: request.id,
                            asked: t::asked_minutes(request.minutes),
                            at: local_time(request.requested_at, tz),
                            grant: request.minutes.unwrap_or(15),
                        }),
                })
            });
            let (state, state_label) = match (&session, poste.hors_service, is_online) {
                (Some(_), _, _) => ("session", "En session"),
                (None, true, _) => ("hors-service", "Hors service"),
                (None, false, true) => ("libre", "Libre"),
                (None, false, false) => ("hors-ligne", "Hors ligne"),
            };
            Tile {
                poste_id: poste.id,
                online: is_online,
                wakeable: poste
                    .mac
                    .as_deref()
                    .and_then(poste_proto::wol::Mac::parse)
                    .is_some(),
                alert: (session.is_some() && !is_online)
                    .then_some("Le poste ne répond plus : son agent ne donne plus de nouvelles pendant la session."),
                hors_service: poste.hors_service,
                paused: false,
                emplacement: poste.emplacement.unwrap_or_default(),
                nom: poste.nom,
                state,
                state_label,
                session,
            }
        })
        .collect()
}

/// One session in a list.
#[derive(Debug, Clone)]
pub struct SessionLine {
    pub id: i64,
    pub code: String,
    pub visitor: String,
    pub poste: String,
    pub statut: &'static str,
    pub statut_label: &'static str,
    pub duration: String,
    pub created: String,
    pub created_by: String,
    pub started: String,
    pub ended: String,
    pub valid_until: String,
    pub reason: String,
    pub can_cancel: bool,
}

impl SessionLine {
    /// Its times on its space's clock (the one its gate and its ticket read).
    pub fn new(row: &SessionRow, settings: &Settings) -> Self {
        let tz = &settings.at(row.space()).timezone;
        SessionLine {
            id: row.id,
            code: spaced_code(&row.code),
            visitor: row.shown_name().unwrap_or_default().to_owned(),
            poste: row
                .poste_nom
                .clone()
                .unwrap_or_else(|| "Tout poste".to_owned()),
            statut: row.status.as_str(),
            statut_label: text::status_label(row.status.as_str()),
            duration: format_duration(row.total_secs()),
            created: local_datetime(row.created_at, tz),
            created_by: t::actor(&row.created_by),
            started: row
                .started_at
                .map(|at| local_datetime(at, tz))
                .unwrap_or_default(),
            ended: row
                .ended_at
                .map(|at| local_datetime(at, tz))
                .unwrap_or_default(),
            valid_until: validity(row.valid_until, tz),
            reason: row
                .end_reason
                .as_deref()
                .map(t::end_reason)
                .unwrap_or_default()
                .to_owned(),
            can_cancel: row.status == SessionStatus::EnAttente,
        }
    }
}

/// `1 h par session, 2 h par jour`: a category's time rules in words.
pub fn rules_summary(category: &CategoryRow) -> String {
    let parts: Vec<String> = [
        (category.max_session_secs, "par session"),
        (category.max_day_secs, "par jour"),
        (category.max_week_secs, "par semaine"),
    ]
    .into_iter()
    .filter_map(|(limit, per)| limit.map(|secs| format!("{} {per}", format_duration(secs))))
    .collect();
    if parts.is_empty() {
        "sans limite".to_owned()
    } else {
        parts.join(", ")
    }
}

/// Cells of the CSV export start with none of `= + - @` (or a tab or carriage return), which a
/// spreadsheet would run as a formula: such a cell gets a leading apostrophe. Cells are quoted
/// when they hold the separator, a quote or a line break.
pub fn csv_cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([';', '"', '\n', '\r', ',']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn csv_cells_cannot_be_formulas() {
        assert_eq!(csv_cell("Jean"), "Jean");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+33 6"), "'+33 6");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("a;b"), "\"a;b\"");
        assert_eq!(csv_cell("ligne\nsuivante"), "\"ligne\nsuivante\"");
    }

    #[test]
    fn rules_read_as_words() {
        let mut category = CategoryRow {
            id: 1,
            nom: "Jeunes".into(),
            max_session_secs: None,
            max_day_secs: None,
            max_week_secs: None,
        };
        assert_eq!(rules_summary(&category), "sans limite");
        category.max_session_secs = Some(3600);
        category.max_day_secs = Some(7200);
        assert_eq!(rules_summary(&category), "1 h par session, 2 h par jour");
    }

    #[test]
    fn countdowns_and_codes_read_well() {
        assert_eq!(countdown(3725), "1:02:05");
        assert_eq!(countdown(59), "00:59");
        assert_eq!(countdown(-3), "00:00");
        assert_eq!(spaced_code("K7P2MX"), "K7P 2MX");
        assert_eq!(spaced_code("K7P2MXAB"), "K7P2MXAB");
    }

    #[test]
    fn a_page_of_spaces_on_different_clocks_says_which_it_reads() {
        use crate::settings::setting_keys as k;
        use poste_store::SpaceScope;
        let config = crate::config::Config {
            timezone: Some("Indian/Reunion".to_owned()),
            ..crate::config::Config::default()
        };
        let spaces = [(1, "Médiathèque".to_owned()), (2, "Quartier".to_owned())];
        let common = Settings::from_config(&config).unwrap();
        // Both on the common clock: nothing to say, whatever is shown.
        let same = common.clone().with_spaces_stored(vec![(
            2,
            k::TIMEZONE.to_owned(),
            "Indian/Reunion".to_owned(),
        )]);
        assert_eq!(clock_note(&same, &SpaceScope::Every, &spaces), None);
        // Space 2 in Paris: both shown read Réunion's clock, and say so; one shown, its own.
        let paris =
            common.with_spaces_stored(vec![(2, k::TIMEZONE.to_owned(), "Europe/Paris".to_owned())]);
        let note = clock_note(&paris, &SpaceScope::Every, &spaces).unwrap();
        assert!(note.contains("Indian/Reunion"), "{note}");
        assert_eq!(
            clock_note(&paris, &SpaceScope::only(vec![1, 2]), &spaces).as_deref(),
            Some(note.as_str())
        );
        for one in [1, 2] {
            assert_eq!(
                clock_note(&paris, &SpaceScope::only(vec![one]), &spaces),
                None
            );
        }
        // An account of space 1 only: Paris is not among its spaces.
        assert_eq!(clock_note(&paris, &SpaceScope::Every, &spaces[..1]), None);
    }

    #[test]
    fn a_tile_and_a_session_line_read_their_space_s_clock() {
        use crate::settings::setting_keys as k;
        let config = crate::config::Config {
            timezone: Some("Indian/Reunion".to_owned()),
            ..crate::config::Config::default()
        };
        // Space 2 is in Paris; the common settings (and space 1) on Réunion time.
        let settings = Settings::from_config(&config)
            .unwrap()
            .with_spaces_stored(vec![(2, k::TIMEZONE.to_owned(), "Europe/Paris".to_owned())]);
        let start: jiff::Timestamp = "2026-11-24T10:05:00Z".parse().unwrap();
        let start = start.as_millisecond();
        let poste = |id: i64, espace_id: i64| PosteRow {
            id,
            nom: format!("P{id}"),
            ip: None,
            mac: None,
            version: None,
            created_at: 0,
            last_seen: None,
            hors_service: false,
            enrollment: poste_store::Enrollment::Enrole,
            secret_hash: None,
            emplacement: None,
            retired_at: None,
            espace_id,
            requested_space: None,
            request_hash: None,
        };
        let session = |poste_id: i64, espace_id: i64| SessionRow {
            id: poste_id,
            poste_id: Some(poste_id),
            poste_espace_id: Some(espace_id),
            ..crate::domain::test_row(SessionStatus::Active, start)
        };
        let live = [session(1, 1), session(2, 2)];
        let tiles = tiles(
            vec![poste(1, 1), poste(2, 2)],
            &HashSet::from([1, 2]),
            &live,
            &[],
            &settings,
            start + 60_000,
        );
        let started: Vec<&str> = tiles
            .iter()
            .map(|tile| tile.session.as_ref().unwrap().started.as_str())
            .collect();
        assert_eq!(started, ["14:05", "11:05"]);
        assert_eq!(
            SessionLine::new(&live[1], &settings).started,
            "24/11/2026 11:05"
        );
        assert_eq!(
            SessionLine::new(&live[0], &settings).started,
            "24/11/2026 14:05"
        );
    }

    #[test]
    fn local_times_use_the_space_zone() {
        let tz = TimeZone::get("Indian/Reunion").unwrap();
        let at: jiff::Timestamp = "2026-11-24T10:05:00Z".parse().unwrap();
        assert_eq!(local_time(at.as_millisecond(), &tz), "14:05");
        assert_eq!(local_datetime(at.as_millisecond(), &tz), "24/11/2026 14:05");
        assert_eq!(validity(at.as_millisecond(), &tz), "24/11/2026 14:05");
        let midnight: jiff::Timestamp = "2026-11-24T20:00:00Z".parse().unwrap();
        assert_eq!(
            validity(midnight.as_millisecond(), &tz),
            "24/11/2026, fin de journée"
        );
    }
}
