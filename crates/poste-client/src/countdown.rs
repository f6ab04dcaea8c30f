//! The running session as the agent sees it: a deadline on the monotonic clock, corrected by
//! every reading from the server, and the warnings already shown. Pure: `now` is a parameter,
//! so tests drive it through hours in microseconds, and changing the wall clock moves nothing.

use std::time::{Duration, Instant};

use poste_proto::{EndReason, WarningLevel};

use crate::text;

/// Local warning thresholds (used when the server's pushes do not come).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub warning: Duration,
    pub critical: Duration,
}

/// What the agent must do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Warn {
        level: WarningLevel,
        message: String,
    },
    End {
        reason: EndReason,
        message: String,
    },
}

#[derive(Debug, Clone)]
pub struct Countdown {
    pub session_id: i64,
    deadline: Instant,
    total: Duration,
    /// Highest warning shown for the current deadline: 0 none, 1 warning, 2 critical.
    shown: u8,
    /// Levels at or below this are not raised by the local clock: they were already due when
    /// the session started (a 3-minute session gets no "5 minutes left"). The server's own
    /// warnings are shown whatever this says.
    floor: u8,
    ended: bool,
    thresholds: Thresholds,
    /// The next reading may move the deadline later (see [`Countdown::sync`]).
    trust_next: bool,
}

/// A reading that does not say the total (a seed server) may move the deadline later by more
/// than this: added time is minutes, a late message is a fraction of a second.
const UNEXPLAINED_LATER: Duration = Duration::from_secs(2);

fn level_for(remaining: Duration, thresholds: Thresholds) -> u8 {
    if remaining <= thresholds.critical {
        2
    } else if remaining <= thresholds.warning {
        1
    } else {
        0
    }
}

fn level_number(level: WarningLevel) -> u8 {
    match level {
        WarningLevel::Warning | WarningLevel::Autre => 1,
        WarningLevel::Critical => 2,
    }
}

impl Countdown {
    /// A session the server just started (or gave back) with `remaining` left of `total`.
    /// Warnings already passed are not shown at the start.
    pub fn start(
        session_id: i64,
        remaining: Duration,
        total: Duration,
        thresholds: Thresholds,
        now: Instant,
    ) -> Countdown {
        Countdown {
            session_id,
            deadline: now + remaining,
            total: total.max(remaining),
            shown: 0,
            floor: level_for(remaining, thresholds),
            ended: false,
            thresholds,
            trust_next: false,
        }
    }

    /// The link was (re)established, or the session taken up from its file: the next reading
    /// is fresh (the reply to a `get_time` just sent) and may correct the deadline either way.
    pub fn fresh_link(&mut self) {
        self.trust_next = true;
    }

    pub fn remaining(&self, now: Instant) -> Duration {
        self.deadline.saturating_duration_since(now)
    }

    /// The session's whole duration (for the progress bar).
    pub fn total(&self) -> Duration {
        self.total
    }

    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Share of the time held already used, 0–100.
    pub fn percent_used(&self, now: Instant) -> u8 {
        let total = self.total.as_secs_f64();
        if total <= 0.0 {
            return 100;
        }
        let used = (total - self.remaining(now).as_secs_f64()).clamp(0.0, total);
        (used * 100.0 / total).round() as u8
    }

    /// A reading from the server: it is the clock, so the local deadline follows it. When time
    /// was added, warnings already shown but no longer due are armed again.
    ///
    /// The time left is read on arrival, so a message that spent a while on the way (a slow or
    /// stalled link) would move the deadline later by its delay. A reading moves it later only
    /// when time was added (a larger total; without a total, by more than
    /// [`UNEXPLAINED_LATER`]) or when it is the first after a (re)connection; otherwise the
    /// earlier deadline, from the freshest reading, is kept.
    ///
    /// Returns the time added, when the reading's total says so (to be announced).
    pub fn sync(
        &mut self,
        remaining: Duration,
        total: Option<Duration>,
        now: Instant,
    ) -> Option<Duration> {
        if self.ended {
            return None;
        }
        let before = self.remaining(now);
        let proposed = now + remaining;
        let trusted = std::mem::take(&mut self.trust_next);
        let added = match total {
            Some(total) => total > self.total,
            None => proposed.saturating_duration_since(self.deadline) > UNEXPLAINED_LATER,
        };
        if proposed > self.deadline && !added && !trusted {
            return None;
        }
        self.deadline = proposed;
        let increase = total.and_then(|total| total.checked_sub(self.total));
        if let Some(total) = total {
            self.total = total.max(remaining);
        }
        if remaining > before {
            let level = level_for(remaining, self.thresholds);
            self.shown = self.shown.min(level);
            self.floor = self.floor.min(level);
        }
        increase.filter(|added| !added.is_zero())
    }

    /// A warning pushed by the server: shown unless this level was already shown.
    pub fn server_warning(&mut self, level: WarningLevel, message: &str) -> Option<Step> {
        if self.ended || level_number(level) <= self.shown {
            return None;
        }
        self.shown = level_number(level);
        self.floor = self.floor.max(self.shown);
        Some(Step::Warn {
            level,
            message: message.to_owned(),
        })
    }

    /// The server ended the session: the end happens once, whoever saw it first.
    pub fn server_end(&mut self, reason: EndReason, message: &str) -> Option<Step> {
        if self.ended {
            return None;
        }
        self.ended = true;
        Some(Step::End {
            reason,
            message: message.to_owned(),
        })
    }

    /// The local clock: ends the session at the deadline, and warns at the thresholds, even
    /// with no word from the server.
    pub fn tick(&mut self, now: Instant) -> Option<Step> {
        if self.ended {
            return None;
        }
        let remaining = self.remaining(now);
        if remaining.is_zero() {
            self.ended = true;
            return Some(Step::End {
                reason: EndReason::TempsExpire,
                message: text::SESSION_LOCAL_END.to_owned(),
            });
        }
        let due = level_for(remaining, self.thresholds);
        if due > self.shown.max(self.floor) {
            self.shown = due;
            self.floor = due;
            let level = if due >= 2 {
                WarningLevel::Critical
            } else {
                WarningLevel::Warning
            };
            return Some(Step::Warn {
                level,
                message: text::warning(remaining),
            });
        }
        None
    }

    /// The server's thresholds (from `welcome`) replace the configured ones.
    pub fn set_thresholds(&mut self, thresholds: Thresholds, now: Instant) {
        self.thresholds = thresholds;
        // Levels not yet due under the new thresholds are armed again.
        self.floor = self.floor.min(level_for(self.remaining(now), thresholds));
    }

    /// When [`Countdown::tick`] must run next: the next threshold or the deadline.
    pub fn next_due(&self) -> Instant {
        let mut due = self.deadline;
        let done = self.shown.max(self.floor);
        if done < 2 {
            due = self
                .deadline
                .checked_sub(self.thresholds.critical)
                .unwrap_or(due);
        }
        if done < 1 {
            due = self
                .deadline
                .checked_sub(self.thresholds.warning)
                .unwrap_or(due);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Thresholds = Thresholds {
        warning: Duration::from_secs(300),
        critical: Duration::from_secs(60),
    };

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn offline_the_local_clock_warns_then_ends_on_time() {
        let t0 = Instant::now();
        let mut countdown = Countdown::start(1, secs(3600), secs(3600), T, t0);
        assert_eq!(countdown.next_due(), t0 + secs(3300));
        assert_eq!(countdown.tick(t0 + secs(3299)), None);
        assert!(matches!(
            countdown.tick(t0 + secs(3300)),
            Some(Step::Warn { level: WarningLevel::Warning, ref message }) if message == "Il vous reste 5 minutes"
        ));
        assert_eq!(countdown.next_due(), t0 + secs(3540));
        assert!(matches!(
            countdown.tick(t0 + secs(3540)),
            Some(Step::Warn {
                level: WarningLevel::Critical,
                ..
            })
        ));
        assert_eq!(countdown.tick(t0 + secs(3599)), None);
        assert!(matches!(
            countdown.tick(t0 + secs(3600)),
            Some(Step::End {
                reason: EndReason::TempsExpire,
                ..
            })
        ));
        assert_eq!(countdown.tick(t0 + secs(3700)), None, "ends once");
    }

    #[test]
    fn server_and_local_warnings_are_shown_once() {
        let t0 = Instant::now();
        let mut countdown = Countdown::start(1, secs(400), secs(400), T, t0);
        assert!(
            countdown
                .server_warning(WarningLevel::Warning, "Il vous reste 5 minutes")
                .is_some()
        );
        assert_eq!(
            countdown.tick(t0 + secs(100)),
            None,
            "already shown by the server"
        );
        assert!(
            countdown
                .server_warning(WarningLevel::Warning, "x")
                .is_none()
        );
        assert!(countdown.tick(t0 + secs(340)).is_some(), "critical locally");
        assert!(
            countdown
                .server_warning(WarningLevel::Critical, "x")
                .is_none()
        );
    }

    #[test]
    fn the_server_corrects_the_deadline_and_added_time_rearms_warnings() {
        let t0 = Instant::now();
        let mut countdown = Countdown::start(1, secs(400), secs(400), T, t0);
        assert!(countdown.tick(t0 + secs(100)).is_some()); // 5-minute warning
        countdown.sync(secs(1800 + 290), Some(secs(2200)), t0 + secs(110));
        assert_eq!(countdown.remaining(t0 + secs(110)), secs(2090));
        assert_eq!(
            countdown.next_due(),
            t0 + secs(110 + 2090 - 300),
            "warning re-armed"
        );
        // A reading that says less time is left is followed too (the server is the clock).
        countdown.sync(secs(100), None, t0 + secs(200));
        assert_eq!(countdown.remaining(t0 + secs(200)), secs(100));
    }

    #[test]
    fn a_late_reading_never_moves_the_deadline_later_unless_time_was_added() {
        let t0 = Instant::now();
        let mut countdown = Countdown::start(1, secs(600), secs(600), T, t0);
        // Sent at t0 + 100 (500 s left), delivered 3 s late: the deadline stays.
        countdown.sync(secs(500), Some(secs(600)), t0 + secs(103));
        assert_eq!(countdown.remaining(t0 + secs(103)), secs(497));
        // The same without a total (a seed server), under the tolerance: kept too.
        countdown.sync(
            secs(395) + Duration::from_millis(1500),
            None,
            t0 + secs(205),
        );
        assert_eq!(countdown.remaining(t0 + secs(205)), secs(395));
        // Time added: followed, and said (to be announced).
        assert_eq!(
            countdown.sync(secs(395 + 900), Some(secs(1500)), t0 + secs(205)),
            Some(secs(900))
        );
        assert_eq!(countdown.remaining(t0 + secs(205)), secs(1295));
        // The same reading again: nothing more added.
        assert_eq!(
            countdown.sync(secs(395 + 900), Some(secs(1500)), t0 + secs(205)),
            None
        );
        // Without a total, a jump of minutes is added time: followed.
        countdown.sync(secs(1295 + 600), None, t0 + secs(205));
        assert_eq!(countdown.remaining(t0 + secs(205)), secs(1895));
    }

    #[test]
    fn the_first_reading_after_a_reconnection_may_correct_either_way() {
        let t0 = Instant::now();
        // Taken up from its file with a wall clock that had jumped: 10 s too little.
        let mut countdown = Countdown::start(1, secs(290), secs(600), T, t0);
        countdown.fresh_link();
        countdown.sync(secs(300), Some(secs(600)), t0);
        assert_eq!(countdown.remaining(t0), secs(300), "fresh reading trusted");
        countdown.sync(secs(305), Some(secs(600)), t0);
        assert_eq!(countdown.remaining(t0), secs(300), "only the first one");
    }

    #[test]
    fn a_server_warning_is_shown_even_when_local_thresholds_differ() {
        // Local thresholds 300/60 s, session of 5 s: nothing local, but the server's pushes
        // (its thresholds are 3/1 s) are shown.
        let t0 = Instant::now();
        let mut countdown = Countdown::start(1, secs(5), secs(5), T, t0);
        assert_eq!(countdown.tick(t0 + secs(2)), None);
        assert!(
            countdown
                .server_warning(WarningLevel::Warning, "Il vous reste 3 secondes")
                .is_some()
        );
        assert!(
            countdown
                .server_warning(WarningLevel::Critical, "Il vous reste 1 seconde")
                .is_some()
        );
        assert!(
            countdown
                .server_warning(WarningLevel::Critical, "again")
                .is_none()
        );
    }

    #[test]
    fn a_short_session_is_not_warned_at_its_start() {
        let t0 = Instant::now();
        let mut countdown = Countdown::start(1, secs(120), secs(120), T, t0);
        assert_eq!(countdown.tick(t0), None);
        assert!(matches!(
            countdown.tick(t0 + secs(60)),
            Some(Step::Warn {
                level: WarningLevel::Critical,
                ..
            })
        ));
    }

    #[test]
    fn the_end_happens_once_whoever_sees_it_first() {
        let t0 = Instant::now();
        let mut countdown = Countdown::start(1, secs(10), secs(10), T, t0);
        assert!(
            countdown
                .server_end(EndReason::TermineParAnimateur, "fin")
                .is_some()
        );
        assert_eq!(countdown.tick(t0 + secs(20)), None);
        assert!(
            countdown
                .server_end(EndReason::TempsExpire, "fin")
                .is_none()
        );
        assert_eq!(countdown.percent_used(t0 + secs(5)), 50);
    }
}
