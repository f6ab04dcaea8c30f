//! Throttling of wrong access codes: at most `max_failures` failures per key within `window`.
//! Only failures count, so a workstation that types its code right is never slowed down.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Keys are strings such as `ip:192.168.1.101` or `poste:7`.
#[derive(Debug)]
pub struct FailureThrottle {
    max_failures: usize,
    window: Duration,
    failures: HashMap<String, VecDeque<Instant>>,
}

/// Above this many tracked keys, stale ones are swept before inserting (bounds memory under a
/// flood from many addresses).
const SWEEP_ABOVE: usize = 10_000;

impl FailureThrottle {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        FailureThrottle {
            max_failures: usize::try_from(max_failures).unwrap_or(usize::MAX).max(1),
            window,
            failures: HashMap::new(),
        }
    }

    /// How long `key` must wait before its next try, if it is blocked now.
    pub fn blocked_for(&mut self, key: &str, now: Instant) -> Option<Duration> {
        let window = self.window;
        let entries = self.failures.get_mut(key)?;
        prune(entries, window, now);
        if entries.len() < self.max_failures {
            return None;
        }
        // Blocked until the oldest failure in the window leaves it.
        let oldest = *entries.front()?;
        Some((oldest + window).saturating_duration_since(now))
    }

    /// Whether `key` failed at least once within the window.
    pub fn has_failed(&mut self, key: &str, now: Instant) -> bool {
        let window = self.window;
        self.failures.get_mut(key).is_some_and(|entries| {
            prune(entries, window, now);
            !entries.is_empty()
        })
    }

    pub fn record_failure(&mut self, key: &str, now: Instant) {
        if self.failures.len() >= SWEEP_ABOVE && !self.failures.contains_key(key) {
            let window = self.window;
            self.failures.retain(|_, entries| {
                prune(entries, window, now);
                !entries.is_empty()
            });
        }
        let entries = self.failures.entry(key.to_owned()).or_default();
        prune(entries, self.window, now);
        entries.push_back(now);
        // Never keep more than needed to decide.
        while entries.len() > self.max_failures {
            entries.pop_front();
        }
    }

    /// Takes back the failure recorded for `key` at `at` (an attempt counted in advance that
    /// turned out not to be a failure).
    pub fn forgive(&mut self, key: &str, at: Instant) {
        if let Some(entries) = self.failures.get_mut(key)
            && let Some(position) = entries.iter().rposition(|&entry| entry == at)
        {
            entries.remove(position);
        }
    }

    /// Number of keys tracked (for tests and metrics).
    pub fn tracked_keys(&self) -> usize {
        self.failures.len()
    }
}

fn prune(entries: &mut VecDeque<Instant>, window: Duration, now: Instant) {
    while entries
        .front()
        .is_some_and(|&at| now.saturating_duration_since(at) >= window)
    {
        entries.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_failures_until_the_window_slides() {
        let start = Instant::now();
        let mut throttle = FailureThrottle::new(3, Duration::from_secs(60));
        for i in 0..3 {
            assert_eq!(throttle.blocked_for("ip:a", start), None);
            throttle.record_failure("ip:a", start + Duration::from_secs(i));
        }
        let wait = throttle.blocked_for("ip:a", start + Duration::from_secs(10));
        assert_eq!(wait, Some(Duration::from_secs(50)));
        assert_eq!(
            throttle.blocked_for("ip:b", start),
            None,
            "other keys unaffected"
        );
        assert_eq!(
            throttle.blocked_for("ip:a", start + Duration::from_secs(60)),
            None
        );
    }

    #[test]
    fn a_forgiven_attempt_no_longer_counts() {
        let start = Instant::now();
        let mut throttle = FailureThrottle::new(2, Duration::from_secs(60));
        throttle.record_failure("ip:a", start);
        let second = start + Duration::from_secs(1);
        throttle.record_failure("ip:a", second);
        assert!(throttle.blocked_for("ip:a", second).is_some());
        throttle.forgive("ip:a", second);
        assert_eq!(throttle.blocked_for("ip:a", second), None);
        throttle.forgive("ip:unknown", second);
    }

    #[test]
    fn memory_is_bounded_under_a_flood_of_keys() {
        let start = Instant::now();
        let mut throttle = FailureThrottle::new(5, Duration::from_secs(1));
        for i in 0..SWEEP_ABOVE {
            throttle.record_failure(&format!("ip:{i}"), start);
        }
        throttle.record_failure("ip:late", start + Duration::from_secs(2));
        assert_eq!(throttle.tracked_keys(), 1);
    }
}
