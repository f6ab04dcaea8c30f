//! Throttling of console logins per (account, address) pair, with a growing wait.
//!
//! The account is the existing, enabled account the login names. A login that names no
//! account, or a disabled one, counts under one pair per address ([`Login::NoAccount`]):
//! made-up names typed from one address (`a1`, `a2`, …) share one budget instead of getting the
//! free failures each (each one a password check and a row in the history), while an existing
//! account's pair from that address is never held back by them.
//!
//! A pair that fails `free_failures` times must wait `first_wait` before its next try, and
//! every further failure doubles the wait, up to `longest_wait`. Only the pair waits: the same
//! account from another address, and another account from the same address, are never held
//! back, so a visitor typing wrong passwords on a public workstation cannot keep an animateur
//! out of the console from the staff room. The right password from the waiting pair waits too
//! (else the wait would not slow a guesser down: the one right guess would pass), and is told
//! how long. A pair is forgotten `longest_wait` after its wait ends without a new failure, or
//! at once when it logs in; an admin may unblock an account (all its pairs).
//!
//! Memory is bounded: at most `max_pairs` pairs are kept. When full, expired pairs are swept,
//! then the pair whose wait ends first is dropped (a flood of fresh pairs, each costing a
//! password hash, drops its own pairs before the one a guesser has made wait longest).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The rules of the throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginPolicy {
    /// Failures of a pair before its first wait.
    pub free_failures: u32,
    /// The first wait; each further failure doubles it.
    pub first_wait: Duration,
    /// The longest wait; also how long a pair is remembered after its wait ends.
    pub longest_wait: Duration,
    /// Most pairs kept.
    pub max_pairs: usize,
}

/// Longest account name kept in a key (logins are at most 64 characters).
const KEY_CHARS: usize = 64;

/// Whose login a try is, as the throttle counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login<'a> {
    /// An existing account that may log in (its login).
    Account(&'a str),
    /// A login that names no account, or a disabled one: all such tries from one address count
    /// as one pair.
    NoAccount,
}

impl<'a> Login<'a> {
    /// The login typed as the throttle counts it: `account` is the account it names, if any,
    /// and `disabled` whether that account is disabled (it cannot log in, so it shares the
    /// budget of made-up names rather than giving each disabled name free failures).
    pub fn of(account: Option<&'a str>, disabled: bool) -> Self {
        match account {
            Some(login) if !disabled => Login::Account(login),
            _ => Login::NoAccount,
        }
    }
}

/// Whether a login attempt may be checked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Check the password; then report [`LoginThrottle::failed`], [`LoginThrottle::succeeded`]
    /// or [`LoginThrottle::abandoned`].
    Go,
    /// Refused without checking the password: wait this long. `first` is true for the first
    /// refusal of this wait (the one worth recording; the others only repeat it).
    Wait { wait: Duration, first: bool },
}

/// A pair that must wait, for the console's « Équipe » page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    /// The account (its key, [`account_key`]); `None` for logins that name no account.
    pub account: Option<String>,
    pub address: String,
    pub failures: u32,
    pub remaining: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Pair {
    /// `None`: [`Login::NoAccount`].
    account: Option<String>,
    address: String,
}

#[derive(Debug, Clone)]
struct Entry {
    failures: u32,
    /// Tries let through whose outcome is not known yet.
    in_flight: u32,
    last_seen: Instant,
    blocked_until: Option<Instant>,
    /// The end of the wait whose first refusal was already reported.
    told_until: Option<Instant>,
}

impl Entry {
    /// When the pair may be forgotten.
    fn forget_at(&self, policy: &LoginPolicy) -> Instant {
        self.blocked_until
            .unwrap_or(self.last_seen)
            .max(self.last_seen)
            + policy.longest_wait
    }

    fn expired(&self, policy: &LoginPolicy, now: Instant) -> bool {
        self.in_flight == 0 && now >= self.forget_at(policy)
    }
}

/// The throttle's state: pure, every method takes `now`.
#[derive(Debug)]
pub struct LoginThrottle {
    policy: LoginPolicy,
    pairs: HashMap<Pair, Entry>,
}

/// The account as a key: trimmed, folded as the store compares logins (decision 0015: « É »
/// typed composed or decomposed, in any case, is one account), bounded.
pub fn account_key(login: &str) -> String {
    poste_store::fold(login.trim())
        .chars()
        .take(KEY_CHARS)
        .collect()
}

impl LoginThrottle {
    pub fn new(policy: LoginPolicy) -> Self {
        LoginThrottle {
            policy: LoginPolicy {
                free_failures: policy.free_failures.max(1),
                max_pairs: policy.max_pairs.max(1),
                ..policy
            },
            pairs: HashMap::new(),
        }
    }

    fn pair(login: Login<'_>, address: &str) -> Pair {
        Pair {
            account: match login {
                Login::Account(account) => Some(account_key(account)),
                Login::NoAccount => None,
            },
            address: address.to_owned(),
        }
    }

    /// Whether `login` may try from `address` now. A try let through is counted in flight
    /// until its outcome: past the free failures, one try at a time (parallel requests would
    /// each pass before the first failure is known).
    pub fn check(&mut self, login: Login<'_>, address: &str, now: Instant) -> Gate {
        let pair = Self::pair(login, address);
        let policy = self.policy;
        if self
            .pairs
            .get(&pair)
            .is_some_and(|entry| entry.expired(&policy, now))
        {
            self.pairs.remove(&pair);
        }
        if let Some(entry) = self.pairs.get_mut(&pair) {
            if let Some(until) = entry.blocked_until.filter(|&until| until > now) {
                let first = entry.told_until != Some(until);
                entry.told_until = Some(until);
                return Gate::Wait {
                    wait: until - now,
                    first,
                };
            }
            if entry.in_flight > 0 && entry.failures + entry.in_flight >= policy.free_failures {
                // Another try of this pair is being checked: its outcome decides.
                return Gate::Wait {
                    wait: Duration::from_secs(1),
                    first: false,
                };
            }
            entry.in_flight += 1;
            entry.last_seen = now;
            return Gate::Go;
        }
        self.make_room(now);
        self.pairs.insert(
            pair,
            Entry {
                failures: 0,
                in_flight: 1,
                last_seen: now,
                blocked_until: None,
                told_until: None,
            },
        );
        Gate::Go
    }

    /// The try let through was a failure; returns the wait it imposes, if any.
    pub fn failed(&mut self, login: Login<'_>, address: &str, now: Instant) -> Option<Duration> {
        let pair = Self::pair(login, address);
        if !self.pairs.contains_key(&pair) {
            self.make_room(now);
        }
        let policy = self.policy;
        let entry = self.pairs.entry(pair).or_insert(Entry {
            failures: 0,
            in_flight: 0,
            last_seen: now,
            blocked_until: None,
            told_until: None,
        });
        entry.in_flight = entry.in_flight.saturating_sub(1);
        entry.failures = entry.failures.saturating_add(1);
        entry.last_seen = now;
        let wait = wait_after(&policy, entry.failures)?;
        entry.blocked_until = Some(now + wait);
        Some(wait)
    }

    /// The try let through was the right password: the pair is forgotten.
    pub fn succeeded(&mut self, login: Login<'_>, address: &str) {
        self.pairs.remove(&Self::pair(login, address));
    }

    /// The try let through ended without an answer (an error before the password was
    /// known): it no longer counts in flight.
    pub fn abandoned(&mut self, login: Login<'_>, address: &str) {
        let pair = Self::pair(login, address);
        if let Some(entry) = self.pairs.get_mut(&pair) {
            entry.in_flight = entry.in_flight.saturating_sub(1);
            if entry.failures == 0 && entry.in_flight == 0 {
                self.pairs.remove(&pair);
            }
        }
    }

    /// Forgets every pair of `account` (an admin unblocks it); returns how many there were.
    pub fn unblock(&mut self, account: &str) -> usize {
        let account = Some(account_key(account));
        let before = self.pairs.len();
        self.pairs.retain(|pair, _| pair.account != account);
        before - self.pairs.len()
    }

    /// The pairs waiting now, the longest wait first.
    pub fn blocked(&self, now: Instant) -> Vec<Blocked> {
        let mut blocked: Vec<Blocked> = self
            .pairs
            .iter()
            .filter_map(|(pair, entry)| {
                let until = entry.blocked_until.filter(|&until| until > now)?;
                Some(Blocked {
                    account: pair.account.clone(),
                    address: pair.address.clone(),
                    failures: entry.failures,
                    remaining: until - now,
                })
            })
            .collect();
        blocked.sort_by(|a, b| {
            b.remaining
                .cmp(&a.remaining)
                .then(a.account.cmp(&b.account))
        });
        blocked
    }

    /// Number of pairs kept (for tests and metrics).
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Before a new pair is kept: sweep the expired pairs when full, then drop the one whose
    /// wait ends first.
    fn make_room(&mut self, now: Instant) {
        if self.pairs.len() < self.policy.max_pairs {
            return;
        }
        let policy = self.policy;
        self.pairs.retain(|_, entry| !entry.expired(&policy, now));
        while self.pairs.len() >= policy.max_pairs {
            let Some(least) = self
                .pairs
                .iter()
                .min_by_key(|(_, entry)| {
                    (
                        entry.blocked_until.unwrap_or(entry.last_seen),
                        entry.failures,
                    )
                })
                .map(|(pair, _)| pair.clone())
            else {
                return;
            };
            self.pairs.remove(&least);
        }
    }
}

/// The wait after a pair's `failures`-th failure: none within the free failures, then the
/// first wait doubled at each failure, capped.
pub fn wait_after(policy: &LoginPolicy, failures: u32) -> Option<Duration> {
    let beyond = failures.checked_sub(policy.free_failures.max(1))?;
    let factor = 1u32.checked_shl(beyond.min(31)).unwrap_or(u32::MAX);
    Some(
        policy
            .first_wait
            .checked_mul(factor)
            .unwrap_or(policy.longest_wait)
            .min(policy.longest_wait),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const A: &str = "192.168.1.50";
    const B: &str = "192.168.1.10";

    fn policy() -> LoginPolicy {
        LoginPolicy {
            free_failures: 3,
            first_wait: Duration::from_secs(5),
            longest_wait: Duration::from_secs(300),
            max_pairs: 100,
        }
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    /// One wrong password: checked, then failed.
    fn fail(
        throttle: &mut LoginThrottle,
        login: Login<'_>,
        address: &str,
        now: Instant,
    ) -> Option<Duration> {
        assert_eq!(throttle.check(login, address, now), Gate::Go);
        throttle.failed(login, address, now)
    }

    /// `n` wrong passwords, each after the previous wait; returns when the last was typed.
    fn fail_patiently(
        throttle: &mut LoginThrottle,
        login: Login<'_>,
        address: &str,
        start: Instant,
        n: u32,
    ) -> Instant {
        let mut now = start;
        for _ in 0..n {
            if let Gate::Wait { wait, .. } = throttle.check(login, address, now) {
                now += wait;
                assert_eq!(throttle.check(login, address, now), Gate::Go);
            }
            if let Some(wait) = throttle.failed(login, address, now) {
                assert!(wait <= Duration::from_secs(300));
            }
        }
        now
    }

    #[test]
    fn the_wait_doubles_from_the_first_up_to_the_longest() {
        let policy = policy();
        let waits: Vec<Option<u64>> = (1..=11)
            .map(|n| wait_after(&policy, n).map(|w| w.as_secs()))
            .collect();
        assert_eq!(
            waits,
            [
                None,
                None,
                Some(5),
                Some(10),
                Some(20),
                Some(40),
                Some(80),
                Some(160),
                Some(300),
                Some(300),
                Some(300)
            ]
        );
        assert_eq!(wait_after(&policy, u32::MAX), Some(secs(300)));
    }

    #[test]
    fn a_pair_waits_after_its_free_failures_even_with_the_right_password() {
        let start = Instant::now();
        let mut throttle = LoginThrottle::new(policy());
        assert_eq!(fail(&mut throttle, Login::Account("marie"), A, start), None);
        assert_eq!(fail(&mut throttle, Login::Account("marie"), A, start), None);
        assert_eq!(
            fail(&mut throttle, Login::Account("marie"), A, start),
            Some(secs(5))
        );
        // The right password from the same address waits, told how long; the first refusal
        // of this wait is marked, the next ones are not.
        assert_eq!(
            throttle.check(Login::Account("Marie "), A, start + secs(2)),
            Gate::Wait {
                wait: secs(3),
                first: true
            }
        );
        assert_eq!(
            throttle.check(Login::Account("marie"), A, start + secs(3)),
            Gate::Wait {
                wait: secs(2),
                first: false
            }
        );
        // After the wait: one try; its failure doubles the wait.
        let later = start + secs(5);
        assert_eq!(
            fail(&mut throttle, Login::Account("marie"), A, later),
            Some(secs(10))
        );
        assert_eq!(
            throttle.check(Login::Account("marie"), A, later + secs(1)),
            Gate::Wait {
                wait: secs(9),
                first: true
            }
        );
        // The right password after the wait: the pair is forgotten.
        let after = later + secs(10);
        assert_eq!(throttle.check(Login::Account("marie"), A, after), Gate::Go);
        throttle.succeeded(Login::Account("marie"), A);
        assert!(throttle.is_empty());
    }

    #[test]
    fn another_address_and_another_account_are_never_held_back() {
        let start = Instant::now();
        let mut throttle = LoginThrottle::new(policy());
        let now = fail_patiently(&mut throttle, Login::Account("marie"), A, start, 20);
        assert!(matches!(
            throttle.check(Login::Account("marie"), A, now),
            Gate::Wait { .. }
        ));
        // Marie from the staff room: at once.
        assert_eq!(throttle.check(Login::Account("marie"), B, now), Gate::Go);
        throttle.succeeded(Login::Account("marie"), B);
        // Another account from the visitor's address: at once.
        assert_eq!(throttle.check(Login::Account("paul"), A, now), Gate::Go);
    }

    #[test]
    fn a_login_naming_no_enabled_account_counts_as_no_account() {
        assert_eq!(Login::of(Some("marie"), false), Login::Account("marie"));
        assert_eq!(Login::of(Some("paul"), true), Login::NoAccount);
        assert_eq!(Login::of(None, false), Login::NoAccount);
    }

    #[test]
    fn made_up_names_from_one_address_share_one_budget() {
        let start = Instant::now();
        let mut throttle = LoginThrottle::new(policy());
        // 50 distinct made-up names from A (each one `Login::of(None, _)` for the server):
        // only the free failures are checked, then A's made-up names wait together.
        let mut now = start;
        let mut checked = 0;
        let mut first_refusals = 0;
        for _name in (0..50).map(|i| format!("a{i}")) {
            now += Duration::from_millis(10);
            match throttle.check(Login::NoAccount, A, now) {
                Gate::Go => {
                    checked += 1;
                    throttle.failed(Login::NoAccount, A, now);
                }
                Gate::Wait { first, .. } => first_refusals += u32::from(first),
            }
        }
        assert_eq!(checked, policy().free_failures);
        assert_eq!(first_refusals, 1, "one refusal worth recording per wait");
        // A disabled account's name counts with them.
        assert!(matches!(
            throttle.check(Login::of(Some("paul"), true), A, now),
            Gate::Wait { first: false, .. }
        ));
        // Marie from A, the same address: at once, and her failures are her own.
        assert_eq!(throttle.check(Login::Account("marie"), A, now), Gate::Go);
        assert_eq!(throttle.failed(Login::Account("marie"), A, now), None);
        assert_eq!(throttle.check(Login::Account("marie"), A, now), Gate::Go);
        throttle.succeeded(Login::Account("marie"), A);
        // Made-up names from another address have their own budget.
        assert_eq!(throttle.check(Login::NoAccount, B, now), Gate::Go);
        throttle.abandoned(Login::NoAccount, B);
        // « Équipe » sees the pair without an account; unblocking an account leaves it.
        let blocked = throttle.blocked(now);
        assert_eq!(blocked.len(), 1);
        assert_eq!(blocked[0].account, None);
        assert_eq!(blocked[0].address, A);
        assert_eq!(throttle.unblock("marie"), 0);
        assert!(matches!(
            throttle.check(Login::NoAccount, A, now),
            Gate::Wait { .. }
        ));
        // After the wait, one more made-up name is checked, and its failure doubles the wait.
        let later = now + Duration::from_secs(5);
        assert_eq!(
            fail(&mut throttle, Login::NoAccount, A, later),
            Some(secs(10))
        );
    }

    #[test]
    fn parallel_tries_past_the_free_failures_go_one_at_a_time() {
        let start = Instant::now();
        let mut throttle = LoginThrottle::new(policy());
        fail(&mut throttle, Login::Account("marie"), A, start);
        // Within the free failures, tries at once are fine (a double click).
        assert_eq!(throttle.check(Login::Account("marie"), A, start), Gate::Go);
        assert_eq!(throttle.check(Login::Account("marie"), A, start), Gate::Go);
        // One failure and two in flight: a fourth at once would go past the free failures
        // before their outcome is known.
        assert!(matches!(
            throttle.check(Login::Account("marie"), A, start),
            Gate::Wait { first: false, .. }
        ));
        throttle.abandoned(Login::Account("marie"), A);
        assert_eq!(throttle.check(Login::Account("marie"), A, start), Gate::Go);
    }

    #[test]
    fn an_abandoned_first_try_leaves_nothing() {
        let start = Instant::now();
        let mut throttle = LoginThrottle::new(policy());
        assert_eq!(throttle.check(Login::Account("marie"), A, start), Gate::Go);
        throttle.abandoned(Login::Account("marie"), A);
        assert!(throttle.is_empty());
    }

    #[test]
    fn an_admin_unblocks_every_address_of_an_account() {
        let start = Instant::now();
        let mut throttle = LoginThrottle::new(policy());
        for address in [A, B] {
            fail_patiently(&mut throttle, Login::Account("marie"), address, start, 4);
        }
        let now = fail_patiently(&mut throttle, Login::Account("paul"), A, start, 4);
        // Each pair failed a fourth time 5 s after start: 10 s to wait from then.
        let blocked = throttle.blocked(now + secs(1));
        assert_eq!(blocked.len(), 3);
        assert_eq!(blocked[0].remaining, secs(9));
        assert_eq!(blocked[0].failures, 4);
        assert_eq!(throttle.unblock("MARIE"), 2);
        assert_eq!(
            throttle.check(Login::Account("marie"), A, now + secs(1)),
            Gate::Go
        );
        assert!(matches!(
            throttle.check(Login::Account("paul"), A, now + secs(1)),
            Gate::Wait { .. }
        ));
        assert_eq!(throttle.unblock("nobody"), 0);
    }

    #[test]
    fn a_pair_is_forgotten_the_longest_wait_after_its_wait_ends() {
        let start = Instant::now();
        let mut throttle = LoginThrottle::new(policy());
        for _ in 0..3 {
            fail(&mut throttle, Login::Account("marie"), A, start);
        }
        // Waits 5 s, then is remembered 300 s more: a failure then is the fourth (10 s).
        assert_eq!(
            fail(&mut throttle, Login::Account("marie"), A, start + secs(304)),
            Some(secs(10))
        );
        // Untouched past the end of that wait plus 300 s: forgotten, free tries again.
        let much_later = start + secs(304 + 10 + 300);
        assert_eq!(
            fail(&mut throttle, Login::Account("marie"), A, much_later),
            None
        );
        assert_eq!(throttle.len(), 1);
    }

    #[test]
    fn memory_is_bounded_and_a_flood_drops_its_own_pairs_first() {
        let start = Instant::now();
        let mut throttle = LoginThrottle::new(LoginPolicy {
            max_pairs: 10,
            ..policy()
        });
        // A guesser makes marie wait long from A.
        let now = fail_patiently(&mut throttle, Login::Account("marie"), A, start, 8);
        // Then floods distinct pairs, each one failure.
        for i in 0..1000 {
            fail(&mut throttle, Login::Account(&format!("x{i}")), B, now);
        }
        assert!(throttle.len() <= 10, "{}", throttle.len());
        assert!(
            matches!(
                throttle.check(Login::Account("marie"), A, now + secs(1)),
                Gate::Wait { .. }
            ),
            "the longest wait is kept"
        );
        // Expired pairs are swept when full.
        let later = now + secs(10_000);
        fail(&mut throttle, Login::Account("late"), B, later);
        assert_eq!(throttle.len(), 1);
    }

    #[test]
    fn long_account_names_are_bounded_in_keys() {
        let start = Instant::now();
        let mut throttle = LoginThrottle::new(policy());
        let long = "a".repeat(10_000);
        fail(&mut throttle, Login::Account(&long), A, start);
        assert_eq!(account_key(&long).len(), KEY_CHARS);
        assert_eq!(throttle.len(), 1);
    }

    #[test]
    fn an_account_is_one_key_however_its_login_is_typed() {
        // The store finds « Élodie » typed in any case, « É » composed or not: so does the
        // throttle, or each spelling would get its own free failures.
        let keys = [
            "Élodie",
            "ÉLODIE",
            " élodie ",
            "E\u{301}lodie",
            "e\u{301}LODIE",
        ]
        .map(account_key);
        assert!(keys.iter().all(|key| *key == keys[0]), "{keys:?}");
        assert_ne!(account_key("elodie"), keys[0]);
    }
}
