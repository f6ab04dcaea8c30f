//! Power orders as staff give them: what becomes of a running session, what an order did, and
//! how the event log writes an order (`extinction`, `redemarrage ecourtee`).

use poste_proto::PowerAction;
use poste_store::Millis;

/// What staff chose for a session running on the workstation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenBusy {
    /// The workstation goes down when the session has ended.
    AfterSession,
    /// The session ends `cut_secs` from now, the visitor warned; then the workstation goes
    /// down.
    CutShort,
}

/// Where an order to one workstation went, for the French confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ordered {
    /// No session: the workstation goes down after the gate's notice.
    Now,
    /// After the running session, at its normal end.
    AfterSession,
    /// After the running session, cut short to end at this time.
    CutShort(Millis),
}

/// How the event log writes an action.
pub fn action_word(action: PowerAction) -> &'static str {
    match action {
        PowerAction::Redemarrage => "redemarrage",
        PowerAction::Extinction | PowerAction::Autre => "extinction",
    }
}

/// An order as the event log wrote it: its action, and whether it cut a session short.
pub fn parse_order_detail(detail: &str) -> Option<(PowerAction, bool)> {
    let (word, cut) = match detail.strip_suffix(" ecourtee") {
        Some(word) => (word, true),
        None => (detail, false),
    };
    let action = match word {
        "extinction" => PowerAction::Extinction,
        "redemarrage" => PowerAction::Redemarrage,
        _ => return None,
    };
    Some((action, cut))
}

/// What an order to the whole space did, for the French summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpaceOrdered {
    /// Workstations ordered, going down now.
    pub now: usize,
    /// Workstations ordered, going down after their session.
    pub after_session: usize,
    /// Not connected: not ordered.
    pub offline: usize,
    /// Agent too old: not ordered.
    pub too_old: usize,
}

/// What waking the whole space did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpaceWoken {
    pub woken: usize,
    /// Connected already.
    pub on: usize,
    /// No MAC address known: not woken.
    pub no_mac: Vec<String>,
}

/// What the server does by itself around the opening hours (« Réglages »).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheduled {
    /// Wake every workstation that is off, before the first period of the day.
    Wake,
    /// Power every workstation off after the last period of the day (each busy one after its
    /// session).
    PowerOff,
}

impl Scheduled {
    /// How the claim of a day's action is written (`scheduled_power.action`).
    pub fn as_str(self) -> &'static str {
        match self {
            Scheduled::Wake => "allumage",
            Scheduled::PowerOff => "extinction",
        }
    }
}

/// Minutes before the opening the workstations are woken, and after the closing they are
/// powered off; `None`: not done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PowerSchedule {
    pub wake_before_min: Option<u32>,
    pub off_after_min: Option<u32>,
}

/// A scheduled action fell due this long ago at most is still done (a server started after it
/// fell due); later, it is skipped: waking a room at noon, or powering it off the next
/// morning, is not what staff set.
pub const LATE_LIMIT_MS: Millis = 30 * 60_000;

/// The scheduled actions due at `now`: each with the date (in the space's zone) it belongs to,
/// which names it once a day. Nothing on a closed day or when no hours are set.
pub fn due_actions(
    schedule: PowerSchedule,
    hours: &crate::domain::opening::OpeningHours,
    tz: &jiff::tz::TimeZone,
    now: Millis,
) -> Vec<(jiff::civil::Date, Scheduled)> {
    let Ok(ts) = jiff::Timestamp::from_millisecond(now) else {
        return Vec::new();
    };
    let today = ts.to_zoned_datetime(tz.clone()).date();
    // Yesterday too: a closing late in the evening plus its delay may fall after midnight.
    let days = [today.yesterday().ok(), Some(today)];
    let at = |date: jiff::civil::Date, time: jiff::civil::Time, minutes: i64| -> Option<Millis> {
        let zoned = date.to_datetime(time).to_zoned_datetime(tz.clone()).ok()?;
        Some(zoned.timestamp().as_millisecond() + minutes * 60_000)
    };
    let mut due = Vec::new();
    for date in days.into_iter().flatten() {
        let Some(periods) = hours.periods_on(date) else {
            continue;
        };
        let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
            continue;
        };
        let planned = [
            (
                Scheduled::Wake,
                schedule
                    .wake_before_min
                    .and_then(|min| at(date, first.open, -i64::from(min))),
            ),
            (
                Scheduled::PowerOff,
                schedule
                    .off_after_min
                    .and_then(|min| at(date, last.close, i64::from(min))),
            ),
        ];
        for (action, when) in planned {
            if let Some(when) = when
                && when <= now
                && now < when + LATE_LIMIT_MS
            {
                due.push((date, action));
            }
        }
    }
    due
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_reads_back_as_it_was_written() {
        for action in [PowerAction::Extinction, PowerAction::Redemarrage] {
            let word = action_word(action);
            assert_eq!(parse_order_detail(word), Some((action, false)));
            assert_eq!(
                parse_order_detail(&format!("{word} ecourtee")),
                Some((action, true))
            );
        }
        assert_eq!(parse_order_detail("veille"), None);
        assert_eq!(parse_order_detail(""), None);
    }

    use crate::domain::opening::OpeningHours;

    fn reunion() -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get("Indian/Reunion").unwrap()
    }

    fn at(local: &str) -> Millis {
        local
            .parse::<jiff::civil::DateTime>()
            .unwrap()
            .to_zoned_datetime(reunion())
            .unwrap()
            .timestamp()
            .as_millisecond()
    }

    fn date(text: &str) -> jiff::civil::Date {
        text.parse().unwrap()
    }

    #[test]
    fn the_room_is_woken_before_the_first_period_and_powered_off_after_the_last() {
        // Sunday 2026-12-06 closed; Monday 2026-12-07 09:00-12:00 and 13:30-17:30.
        let hours = OpeningHours::parse(
            "09:00-12:00,13:30-17:30;09:00-17:30;09:00-17:30;09:00-17:30;09:00-17:30;09:00-12:30;",
        )
        .unwrap();
        let schedule = PowerSchedule {
            wake_before_min: Some(15),
            off_after_min: Some(10),
        };
        let due = |local| due_actions(schedule, &hours, &reunion(), at(local));
        let monday = date("2026-12-07");
        assert_eq!(due("2026-12-07T08:44:59"), []);
        assert_eq!(due("2026-12-07T08:45:00"), [(monday, Scheduled::Wake)]);
        assert_eq!(due("2026-12-07T09:14:59"), [(monday, Scheduled::Wake)]);
        assert_eq!(due("2026-12-07T09:15:00"), [], "30 min late: skipped");
        // Not at the lunch break: after the last period only.
        assert_eq!(due("2026-12-07T12:10:00"), []);
        assert_eq!(due("2026-12-07T17:39:59"), []);
        assert_eq!(due("2026-12-07T17:40:00"), [(monday, Scheduled::PowerOff)]);
        assert_eq!(due("2026-12-07T18:09:59"), [(monday, Scheduled::PowerOff)]);
        assert_eq!(due("2026-12-07T18:10:00"), []);
        // Sunday is closed: nothing.
        assert_eq!(due("2026-12-06T08:50:00"), []);
        // Neither when it is not set, nor when no hours are.
        let off = PowerSchedule::default();
        assert_eq!(
            due_actions(off, &hours, &reunion(), at("2026-12-07T08:50:00")),
            []
        );
        let always = OpeningHours::default();
        assert_eq!(
            due_actions(schedule, &always, &reunion(), at("2026-12-07T08:50:00")),
            []
        );
    }

    #[test]
    fn a_closing_late_in_the_evening_powers_off_after_midnight_under_its_own_date() {
        let hours = OpeningHours::parse(
            "14:00-23:50;14:00-23:50;14:00-23:50;14:00-23:50;14:00-23:50;14:00-23:50;14:00-23:50",
        )
        .unwrap();
        let schedule = PowerSchedule {
            wake_before_min: None,
            off_after_min: Some(20),
        };
        assert_eq!(
            due_actions(schedule, &hours, &reunion(), at("2026-12-08T00:15:00")),
            [(date("2026-12-07"), Scheduled::PowerOff)]
        );
    }
}
