//! Time arithmetic of a running session. The store keeps when a session started and how many
//! seconds it holds; everything else (time left, percentage used, which warning is due, when the
//! next timer fires) is derived here from those two facts and `now`.

use poste_proto::WarningLevel;
use poste_store::{Millis, SessionRow, StartPlan};

/// Warning thresholds, in milliseconds before the deadline. `warning > critical > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub warning_ms: i64,
    pub critical_ms: i64,
}

impl Thresholds {
    pub fn from_secs(warning: u64, critical: u64) -> Self {
        Thresholds {
            warning_ms: secs_to_ms(warning),
            critical_ms: secs_to_ms(critical),
        }
    }
}

fn secs_to_ms(secs: u64) -> i64 {
    i64::try_from(secs)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000)
}

/// Milliseconds left before `deadline`, never negative.
pub fn remaining_ms(deadline: Millis, now: Millis) -> i64 {
    deadline.saturating_sub(now).max(0)
}

/// Whole seconds left, rounded up: `0` only once the deadline is reached, so a client never
/// reads "0 s left" for a session that still runs.
pub fn remaining_secs(deadline: Millis, now: Millis) -> i64 {
    let ms = remaining_ms(deadline, now);
    ms / 1000 + i64::from(ms % 1000 != 0)
}

/// The seed's `temps_restant_minutes`: whole minutes left, rounded down (5340 s → 89).
pub fn remaining_minutes(remaining_secs: i64) -> i64 {
    remaining_secs.max(0) / 60
}

/// The seed's `pourcentage_utilise`: share of the time held already used, 0–100, rounded to
/// the nearest (7200 s held, 5340 s left → 26).
pub fn percent_used(total_secs: i64, remaining_secs: i64) -> i64 {
    if total_secs <= 0 {
        return 100;
    }
    let used = (total_secs - remaining_secs).clamp(0, total_secs);
    (used * 100 + total_secs / 2) / total_secs
}

/// The threshold of warning `level` (1 or 2), in whole seconds before the end: what the
/// history says of a warning (« Avertissement 5 min avant la fin »).
pub fn threshold_secs(level: i64, thresholds: Thresholds) -> i64 {
    let ms = if level >= 2 {
        thresholds.critical_ms
    } else {
        thresholds.warning_ms
    };
    ms / 1000
}

/// Warning level already reached with `remaining` ms left: 0 none, 1 warning, 2 critical.
pub fn level_for_remaining(remaining: i64, thresholds: Thresholds) -> i64 {
    if remaining <= thresholds.critical_ms {
        2
    } else if remaining <= thresholds.warning_ms {
        1
    } else {
        0
    }
}

/// What a session records as it starts (`row` as started): its end cut to the space's closing
/// time `closes_at` when it would run past it, and the warnings already passed by the time it
/// then holds (a 3-minute session is not "warned" at its start).
pub fn start_plan(
    row: &SessionRow,
    closes_at: Option<Millis>,
    thresholds: Thresholds,
) -> StartPlan {
    let held_ms = row.total_secs().saturating_mul(1000);
    let end_at_most = match (closes_at, row.started_at) {
        (Some(close), Some(start)) if start.saturating_add(held_ms) > close => Some(close),
        _ => None,
    };
    // The store cuts to whole seconds from the start (`added_secs`), as here.
    let held_ms = match (end_at_most, row.started_at) {
        (Some(close), Some(start)) => (close - start).max(0) / 1000 * 1000,
        _ => held_ms,
    };
    let warning_level = level_for_remaining(held_ms, thresholds);
    StartPlan {
        end_at_most,
        warning_level,
        warning_before_end_secs: (warning_level > 0)
            .then(|| threshold_secs(warning_level, thresholds)),
    }
}

pub fn level_number(level: WarningLevel) -> i64 {
    match level {
        WarningLevel::Warning | WarningLevel::Autre => 1,
        WarningLevel::Critical => 2,
    }
}

/// What a session's timer does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerAction {
    Warn(WarningLevel),
    Expire,
}

/// When the timer of a running session must fire next, and what it then does.
///
/// `level_sent` is the highest warning already pushed for the current deadline. A warning that
/// became due while nobody was watching (the server was down) is sent at once, but only the
/// highest one: a visitor with 30 s left gets the critical warning, not both.
pub fn next_action(
    deadline: Millis,
    level_sent: i64,
    thresholds: Thresholds,
    now: Millis,
) -> (Millis, TimerAction) {
    if now >= deadline {
        return (now, TimerAction::Expire);
    }
    let level_due = level_for_remaining(deadline - now, thresholds);
    if level_due > level_sent {
        return (now, TimerAction::Warn(level_from_number(level_due)));
    }
    match level_sent {
        ..=0 => (
            deadline - thresholds.warning_ms,
            TimerAction::Warn(WarningLevel::Warning),
        ),
        1 => (
            deadline - thresholds.critical_ms,
            TimerAction::Warn(WarningLevel::Critical),
        ),
        _ => (deadline, TimerAction::Expire),
    }
}

fn level_from_number(level: i64) -> WarningLevel {
    if level >= 2 {
        WarningLevel::Critical
    } else {
        WarningLevel::Warning
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    const T: Thresholds = Thresholds {
        warning_ms: 300_000,
        critical_ms: 60_000,
    };

    #[test]
    fn a_start_is_cut_at_closing_time_and_knows_the_warnings_already_passed() {
        let now = 1_800_000_000_000;
        let hour = crate::domain::test_row(poste_store::SessionStatus::Active, now);
        // Open all day: nothing cut, no warning passed.
        assert_eq!(start_plan(&hour, None, T), StartPlan::default());
        assert_eq!(
            start_plan(&hour, Some(now + 3_600_000), T),
            StartPlan::default()
        );
        // The space closes in 4 min 30.5 s: cut there, the 5-minute warning already passed.
        let close = now + 270_500;
        assert_eq!(
            start_plan(&hour, Some(close), T),
            StartPlan {
                end_at_most: Some(close),
                warning_level: 1,
                warning_before_end_secs: Some(T.warning_ms / 1000),
            }
        );
        // In 50 s: the critical one too.
        assert_eq!(start_plan(&hour, Some(now + 50_000), T).warning_level, 2);
        // A 3-minute session, open all day: the 5-minute warning is not pushed at its start.
        let mut short = hour.clone();
        short.initial_secs = 180;
        assert_eq!(start_plan(&short, None, T).warning_level, 1);
    }

    #[test]
    fn seed_example_figures() {
        // The seed's time_update: 7200 s held, 5340 s left → 89 min, 26 %.
        assert_eq!(remaining_minutes(5340), 89);
        assert_eq!(percent_used(7200, 5340), 26);
        assert_eq!(percent_used(7200, 7200), 0);
        assert_eq!(percent_used(7200, 0), 100);
    }

    #[test]
    fn seconds_round_up_until_the_deadline() {
        assert_eq!(remaining_secs(10_000, 0), 10);
        assert_eq!(remaining_secs(10_000, 1), 10);
        assert_eq!(remaining_secs(10_000, 9_999), 1);
        assert_eq!(remaining_secs(10_000, 10_000), 0);
        assert_eq!(remaining_secs(10_000, 99_000), 0);
    }

    #[test]
    fn timer_walks_through_warning_critical_expiry() {
        let deadline = 1_000_000;
        let now = 0;
        assert_eq!(
            next_action(deadline, 0, T, now),
            (700_000, TimerAction::Warn(WarningLevel::Warning))
        );
        assert_eq!(
            next_action(deadline, 1, T, 700_000),
            (940_000, TimerAction::Warn(WarningLevel::Critical))
        );
        assert_eq!(
            next_action(deadline, 2, T, 940_000),
            (1_000_000, TimerAction::Expire)
        );
        assert_eq!(
            next_action(deadline, 2, T, 1_000_000),
            (1_000_000, TimerAction::Expire)
        );
    }

    #[test]
    fn overdue_warning_fires_now_and_only_the_highest() {
        assert_eq!(
            next_action(1_000_000, 0, T, 970_000),
            (970_000, TimerAction::Warn(WarningLevel::Critical))
        );
        assert_eq!(
            next_action(1_000_000, 0, T, 800_000),
            (800_000, TimerAction::Warn(WarningLevel::Warning))
        );
    }

    #[test]
    fn added_time_rearms_warnings() {
        // Critical was sent, then 30 min were added: level recomputed to 0 by the caller.
        let deadline = 1_000_000 + 1_800_000;
        let level = level_for_remaining(deadline - 950_000, T);
        assert_eq!(level, 0);
        assert_eq!(
            next_action(deadline, level, T, 950_000).1,
            TimerAction::Warn(WarningLevel::Warning)
        );
    }

    proptest! {
        #[test]
        fn remaining_is_never_negative(deadline in any::<i64>(), now in any::<i64>()) {
            prop_assert!(remaining_ms(deadline, now) >= 0);
            prop_assert!(remaining_secs(deadline, now) >= 0);
        }

        #[test]
        fn percent_is_between_0_and_100(total in -10i64..100_000, left in -10i64..200_000) {
            let p = percent_used(total, left);
            prop_assert!((0..=100).contains(&p));
        }

        #[test]
        fn next_fire_is_never_in_the_past_nor_after_deadline(
            deadline in 0i64..10_000_000, level in 0i64..3, now in 0i64..10_000_000
        ) {
            let (due, action) = next_action(deadline, level, T, now);
            prop_assert!(due >= now || due == deadline.max(now));
            prop_assert!(due <= deadline.max(now));
            if now >= deadline { prop_assert_eq!(action, TimerAction::Expire); }
        }

        #[test]
        fn walking_the_timer_ends_exactly_once(deadline in 1i64..5_000_000) {
            // Follow the timer from 0 to the deadline: warnings never repeat, one expiry.
            let (mut now, mut level, mut warnings, mut expiries) = (0i64, 0i64, 0, 0);
            for _ in 0..10 {
                let (due, action) = next_action(deadline, level, T, now);
                now = due;
                match action {
                    TimerAction::Warn(w) => {
                        prop_assert!(level_number(w) > level);
                        level = level_number(w);
                        warnings += 1;
                    }
                    TimerAction::Expire => { expiries += 1; break; }
                }
            }
            prop_assert_eq!(expiries, 1);
            prop_assert!(warnings <= 2);
            prop_assert_eq!(now, deadline);
        }
    }
}
