//! Logout after inactivity (issue #5, item 5): how long the visitor has not touched the
//! keyboard or mouse, and what the agent does with it.
//!
//! The one rule: a session is never ended on an idle time that is not known. A source that
//! cannot tell says [`Idle::Unknown`], and the agent then does nothing (and logs it once). The
//! logind source ([`LogindIdle`]) is trusted on X11 sessions only: on Wayland (GNOME's above
//! all) `IdleHint` follows the screensaver, not the input, so it says `Unknown` there. Its idle
//! time counts from `IdleSinceHintMonotonic`, the moment the desktop declared the session idle
//! (GNOME: after its own `idle-delay`), so it can only be shorter than the real one: a logout
//! comes late, never early.

use std::time::Duration;

/// What an idle source knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idle {
    /// No input for this long (zero: active now).
    For(Duration),
    /// The source cannot tell, and why (logged once).
    Unknown(String),
}

/// Where the idle time comes from. Blocking (it may run a program).
pub trait IdleSource: Send + Sync {
    fn idle(&self) -> Idle;
}

/// What the agent should do after a reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdleStep {
    /// Warn the visitor: the session ends in this long without input.
    Warn(Duration),
    /// End the session.
    End,
}

/// The inactivity rule over successive readings: a warning once per idle stretch, then the end.
#[derive(Debug, Clone)]
pub struct Inactivity {
    limit: Duration,
    warn_before: Duration,
    warned: bool,
    ended: bool,
    told_unknown: bool,
}

impl Inactivity {
    pub fn new(limit: Duration, warn_before: Duration) -> Self {
        Inactivity {
            limit,
            warn_before: warn_before.min(limit),
            warned: false,
            ended: false,
            told_unknown: false,
        }
    }

    /// A new session: no warning given yet.
    pub fn restart(&mut self) {
        self.warned = false;
        self.ended = false;
    }

    pub fn observe(&mut self, reading: Idle) -> Option<IdleStep> {
        let idle = match reading {
            Idle::For(idle) => idle,
            Idle::Unknown(why) => {
                if !std::mem::replace(&mut self.told_unknown, true) {
                    tracing::warn!(%why, "idle time unknown: no logout for inactivity");
                }
                // Whatever was under way stops: nothing is known any more.
                self.warned = false;
                return None;
            }
        };
        if self.ended {
            return None;
        }
        if idle >= self.limit {
            self.ended = true;
            return Some(IdleStep::End);
        }
        let warn_at = self.limit - self.warn_before;
        if idle >= warn_at && !self.warn_before.is_zero() {
            if !std::mem::replace(&mut self.warned, true) {
                return Some(IdleStep::Warn(self.limit - idle));
            }
        } else {
            // Input again: the next idle stretch gets its own warning.
            self.warned = false;
        }
        None
    }
}

/// The idle time logind keeps for a session: `loginctl show-session ID -p Type -p IdleHint -p
/// IdleSinceHintMonotonic`. `session` names the visitor's session when there is one.
#[cfg(unix)]
#[allow(missing_debug_implementations)]
pub struct LogindIdle {
    pub env: poste_desktop::Environment,
    pub session: Box<dyn Fn() -> Option<String> + Send + Sync>,
}

#[cfg(unix)]
impl IdleSource for LogindIdle {
    fn idle(&self) -> Idle {
        let Some(session) = (self.session)() else {
            return Idle::Unknown("no visitor session".into());
        };
        let output = poste_desktop::output_within(
            &self.env,
            "loginctl",
            &[
                "show-session",
                &session,
                "-p",
                "Type",
                "-p",
                "IdleHint",
                "-p",
                "IdleSinceHintMonotonic",
            ],
            poste_desktop::DEFAULT_TIMEOUT,
        );
        match output {
            Ok(stdout) => {
                let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
                    .ok()
                    .and_then(|t| {
                        let secs = u64::try_from(t.tv_sec()).ok()?;
                        let nanos = u64::try_from(t.tv_nsec()).ok()?;
                        Some(secs * 1_000_000 + nanos / 1000)
                    });
                match now {
                    Some(now) => parse_logind(&stdout, now),
                    None => Idle::Unknown("no monotonic clock".into()),
                }
            }
            Err(err) => Idle::Unknown(err),
        }
    }
}

/// Reads logind's answer; `now_us`: CLOCK_MONOTONIC in microseconds, logind's clock for
/// `IdleSinceHintMonotonic`.
pub fn parse_logind(text: &str, now_us: u64) -> Idle {
    let (mut kind, mut hint, mut since) = (None, None, None);
    for line in text.lines() {
        match line.trim().split_once('=') {
            Some(("Type", value)) => kind = Some(value.trim().to_owned()),
            Some(("IdleHint", value)) => hint = Some(value.trim() == "yes"),
            Some(("IdleSinceHintMonotonic", value)) => since = value.trim().parse::<u64>().ok(),
            _ => {}
        }
    }
    match kind.as_deref() {
        Some("x11") => {}
        Some(other) => {
            return Idle::Unknown(format!(
                "session of type {other}: logind's idle hint follows the screensaver there"
            ));
        }
        None => return Idle::Unknown("logind gave no session type".into()),
    }
    match (hint, since) {
        (Some(false), _) => Idle::For(Duration::ZERO),
        (Some(true), Some(since)) if since > 0 && since <= now_us => {
            Idle::For(Duration::from_micros(now_us - since))
        }
        _ => Idle::Unknown("logind gave no usable idle time".into()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn a_warning_then_the_end_and_input_in_between_starts_again() {
        let mut rule = Inactivity::new(10 * MIN, MIN);
        assert_eq!(rule.observe(Idle::For(Duration::ZERO)), None);
        assert_eq!(rule.observe(Idle::For(8 * MIN)), None);
        assert_eq!(
            rule.observe(Idle::For(9 * MIN + Duration::from_secs(10))),
            Some(IdleStep::Warn(Duration::from_secs(50)))
        );
        assert_eq!(
            rule.observe(Idle::For(9 * MIN + Duration::from_secs(30))),
            None
        );
        // The visitor moves the mouse: no end, and the next stretch is warned again.
        assert_eq!(rule.observe(Idle::For(Duration::from_secs(2))), None);
        assert_eq!(rule.observe(Idle::For(9 * MIN)), Some(IdleStep::Warn(MIN)));
        assert_eq!(rule.observe(Idle::For(10 * MIN)), Some(IdleStep::End));
        assert_eq!(rule.observe(Idle::For(11 * MIN)), None, "ended once");
        rule.restart();
        assert_eq!(rule.observe(Idle::For(Duration::ZERO)), None);
    }

    #[test]
    fn an_unknown_idle_time_never_ends_a_session() {
        let mut rule = Inactivity::new(MIN, Duration::from_secs(10));
        for _ in 0..1000 {
            assert_eq!(rule.observe(Idle::Unknown("wayland".into())), None);
        }
        // Known again later: counted from what is known then.
        assert_eq!(rule.observe(Idle::For(Duration::from_secs(5))), None);
    }

    #[test]
    fn logind_is_trusted_on_x11_only() {
        let now = 1_000_000_000;
        assert_eq!(
            parse_logind(
                "Type=x11\nIdleHint=yes\nIdleSinceHintMonotonic=400000000\n",
                now
            ),
            Idle::For(Duration::from_secs(600))
        );
        assert_eq!(
            parse_logind("IdleHint=no\nIdleSinceHintMonotonic=0\nType=x11\n", now),
            Idle::For(Duration::ZERO)
        );
        assert!(matches!(
            parse_logind(
                "Type=wayland\nIdleHint=yes\nIdleSinceHintMonotonic=1\n",
                now
            ),
            Idle::Unknown(_)
        ));
        assert!(matches!(
            parse_logind("Type=x11\nIdleHint=yes\nIdleSinceHintMonotonic=0\n", now),
            Idle::Unknown(_)
        ));
        assert!(matches!(parse_logind("", now), Idle::Unknown(_)));
    }

    /// A recording `loginctl` playing logind: the source asks for the visitor's session with
    /// the three properties, and reads an X11 session idle for about 20 minutes.
    #[cfg(unix)]
    #[test]
    fn the_logind_source_asks_loginctl_about_the_visitors_session() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("calls");
        let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).unwrap();
        let now_us = u64::try_from(now.tv_sec()).unwrap() * 1_000_000;
        let since = now_us - 20 * 60 * 1_000_000;
        let script = format!(
            "#!/bin/sh\necho \"$*\" >> {}\nprintf 'Type=x11\\nIdleHint=yes\\nIdleSinceHintMonotonic={since}\\n'\n",
            log.display()
        );
        std::fs::write(dir.path().join("loginctl"), script).unwrap();
        std::fs::set_permissions(
            dir.path().join("loginctl"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        let source = LogindIdle {
            env: poste_desktop::Environment::from_vars(std::collections::HashMap::from([(
                "PATH".to_owned(),
                dir.path().display().to_string(),
            )])),
            session: Box::new(|| Some("c7".to_owned())),
        };
        let Idle::For(idle) = source.idle() else {
            panic!("expected a known idle time");
        };
        assert!(idle >= 20 * MIN && idle < 21 * MIN, "{idle:?}");
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            "show-session c7 -p Type -p IdleHint -p IdleSinceHintMonotonic\n"
        );
        let none = LogindIdle {
            env: source.env.clone(),
            session: Box::new(|| None),
        };
        assert!(matches!(none.idle(), Idle::Unknown(_)));
    }
}
