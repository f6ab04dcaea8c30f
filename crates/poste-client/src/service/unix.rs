//! The service on Linux: a helper is admitted for the logind session it names only if that
//! session belongs to the uid at the other end of the socket and is graphical, or, with
//! `[greeter]`, is a display manager's greeter session (the gate before login); the session is
//! locked and ended through logind (`loginctl lock-session ID`, `terminate-session ID`, and
//! `terminate-user NAME` for the public account with `[greeter]`), which root may do for any.

use poste_desktop::{CommandDesktop, DesktopError, Environment, LastResort, Method, Outcome};

use crate::local::PeerId;

use super::Admission;

/// Why a helper was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerRefusal {
    /// logind does not know the session (or `loginctl` could not be run).
    #[error("logind knows no session {0}")]
    UnknownSession(String),
    /// The session is someone else's.
    #[error("session {session} belongs to uid {owner}, not to the peer's uid {peer}")]
    OtherUser {
        session: String,
        owner: u32,
        peer: u32,
    },
    /// The session is not where the visitor sits (e.g. an SSH login of the same user).
    #[error("session {session} is of type {kind}, not graphical")]
    NotGraphical { session: String, kind: String },
    /// A greeter session while the gate before login is off, or the public account's own.
    #[error("session {session} is a greeter's, and the gate before login is not configured for it")]
    UnexpectedGreeter { session: String },
}

/// The session to act on, if the peer may be its helper (see the module docs). `greeter`: the
/// public account's uid when the gate before login is on.
pub fn admit(
    peer: PeerId,
    claimed: &str,
    env: &Environment,
    greeter: Option<u32>,
) -> Result<Admission, PeerRefusal> {
    let facts = session_facts(env, claimed)
        .ok_or_else(|| PeerRefusal::UnknownSession(claimed.to_owned()))?;
    let is_greeter = check(peer, claimed, &facts, greeter)?;
    Ok(Admission {
        session: claimed.to_owned(),
        greeter: is_greeter,
    })
}

/// The session must be the peer's own (a process cannot speak for someone else's session), and
/// graphical (a remote shell of the same user is not where the visitor sits), or, when the gate
/// before login is on (`public`: the public account's uid), a greeter session (logind gives that
/// class only to a display manager's greeter; whatever its type: under a bare Xorg it is `tty`)
/// of another user than the public account. Answers whether it is the greeter.
fn check(
    peer: PeerId,
    claimed: &str,
    facts: &SessionFacts,
    public: Option<u32>,
) -> Result<bool, PeerRefusal> {
    if facts.owner != peer.uid {
        return Err(PeerRefusal::OtherUser {
            session: claimed.to_owned(),
            owner: facts.owner,
            peer: peer.uid,
        });
    }
    if facts.class == "greeter" {
        return match public {
            Some(public) if public != facts.owner => Ok(true),
            _ => Err(PeerRefusal::UnexpectedGreeter {
                session: claimed.to_owned(),
            }),
        };
    }
    if !matches!(facts.kind.as_str(), "x11" | "wayland" | "mir") {
        return Err(PeerRefusal::NotGraphical {
            session: claimed.to_owned(),
            kind: facts.kind.clone(),
        });
    }
    Ok(false)
}

/// `loginctl lock-session ID`.
pub fn lock_session(commands: &CommandDesktop, session: &str) -> Result<Outcome, DesktopError> {
    commands.run(
        "lock",
        &[Method::new("loginctl", &["lock-session", session])],
    )
}

/// Every session and process of the public account, at once: SIGKILL to each process of
/// `uid` (`kill`'s guarded last resort, in this process), then `loginctl terminate-user NAME`
/// for logind's side. No grace: a visitor has nothing to save (the home is restored next), and
/// on a slow machine Xfce took 3 s to leave after SIGTERM, and each `loginctl` up to a second,
/// while the next visitor waits for the gate, which greetd shows once the session is gone.
pub fn end_account(
    commands: &CommandDesktop,
    account: &str,
    uid: u32,
    kill: &LastResort,
) -> Result<Outcome, DesktopError> {
    match kill.kill_uid_at_once(account, uid) {
        Ok(killed) => tracing::info!(account, killed, "the public account's programs killed"),
        // logind's SIGTERM comes next, and the home restore kills again (and fails, out of
        // service, if something stays).
        Err(err) => {
            tracing::warn!(account, error = %err, "the public account's programs could not all be killed")
        }
    }
    commands.run(
        "logout",
        &[Method::new("loginctl", &["terminate-user", account])],
    )
}

/// How many logind sessions `uid` has (`loginctl list-sessions --no-legend`: `ID UID USER …`
/// lines); `None` when `loginctl` cannot be run.
pub(crate) fn sessions_of(env: &Environment, uid: u32) -> Option<usize> {
    let stdout = loginctl_stdout(env, &["list-sessions", "--no-legend"])?;
    Some(count_sessions(&stdout, uid))
}

fn count_sessions(listing: &str, uid: u32) -> usize {
    listing
        .lines()
        .filter(|line| {
            line.split_whitespace()
                .nth(1)
                .and_then(|field| field.parse::<u32>().ok())
                == Some(uid)
        })
        .count()
}

/// The uid of `account`, from the system's user database (`id -u`, which also asks NSS).
pub fn account_uid(env: &Environment, account: &str) -> Option<u32> {
    poste_desktop::output_within(
        env,
        "id",
        &["-u", "--", account],
        poste_desktop::DEFAULT_TIMEOUT,
    )
    .ok()?
    .trim()
    .parse()
    .ok()
}

/// `loginctl terminate-session ID`.
pub fn end_session(commands: &CommandDesktop, session: &str) -> Result<Outcome, DesktopError> {
    commands.run(
        "logout",
        &[Method::new("loginctl", &["terminate-session", session])],
    )
}

/// What logind says of a session: its owner's uid, its type (`x11`, `wayland`, `tty`…) and
/// class (`user`, `greeter`…).
#[derive(Debug, Clone, PartialEq, Eq)]
struct SessionFacts {
    owner: u32,
    kind: String,
    class: String,
}

/// What `loginctl ARGS` prints, run with the service's PATH; `None` when it cannot be run or
/// fails or hangs (killed after poste-desktop's 5 s timeout). For the helper's admission and
/// [`sessions_of`].
fn loginctl_stdout(env: &Environment, args: &[&str]) -> Option<String> {
    poste_desktop::output_within(env, "loginctl", args, poste_desktop::DEFAULT_TIMEOUT)
        .inspect_err(|err| tracing::debug!(error = %err, ?args, "loginctl gave no answer"))
        .ok()
}

/// `loginctl show-session ID --property=User --property=Type --property=Class`, whose output
/// is `KEY=value` lines in any order.
fn session_facts(env: &Environment, session: &str) -> Option<SessionFacts> {
    let stdout = loginctl_stdout(
        env,
        &[
            "show-session",
            session,
            "--property=User",
            "--property=Type",
            "--property=Class",
        ],
    )?;
    parse_session_facts(&stdout)
}

fn parse_session_facts(text: &str) -> Option<SessionFacts> {
    let mut owner = None;
    let mut kind = None;
    let mut class = None;
    for line in text.lines() {
        match line.trim().split_once('=') {
            Some(("User", value)) => owner = value.trim().parse().ok(),
            Some(("Type", value)) => kind = Some(value.trim().to_owned()),
            Some(("Class", value)) => class = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    Some(SessionFacts {
        owner: owner?,
        kind: kind?,
        class: class.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn logind_listings_are_counted_per_uid() {
        let listing = "  3 1001 public seat0 tty2\n 12 1002 autre - pts/1\nc4 1001 public - -\n";
        assert_eq!(count_sessions(listing, 1001), 2);
        assert_eq!(count_sessions(listing, 1002), 1);
        assert_eq!(count_sessions("", 1001), 0);
    }

    /// A recording `loginctl`, and, as root, a process of uid 4242 that ignores SIGTERM: it is
    /// killed, and logind is told to end the account.
    #[test]
    fn the_public_account_is_killed_then_ended_through_logind() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("calls");
        let script = format!("#!/bin/sh\necho \"$*\" >> {}\n", log.display());
        std::fs::write(dir.path().join("loginctl"), script).unwrap();
        std::fs::set_permissions(
            dir.path().join("loginctl"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        let env = Environment::from_vars(std::collections::HashMap::from([(
            "PATH".to_owned(),
            format!("{}:/usr/bin:/bin", dir.path().display()),
        )]));
        let commands = CommandDesktop::new(env);
        let root = nix::unistd::geteuid().is_root();
        let mut stubborn = root.then(|| {
            use std::os::unix::process::CommandExt;
            std::process::Command::new("sh")
                .args(["-c", "trap '' TERM; while :; do sleep 1; done"])
                .uid(4242)
                .gid(4242)
                .spawn()
                .unwrap()
        });
        let kill = LastResort {
            range: poste_desktop::UidRange {
                min: 1000,
                max: 60000,
            },
            ..LastResort::default()
        };
        end_account(&commands, "visiteur", 4242, &kill).unwrap();
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            "terminate-user visiteur\n"
        );
        match stubborn.as_mut() {
            Some(child) => {
                use std::os::unix::process::ExitStatusExt;
                let status = child.wait().unwrap();
                assert_eq!(status.signal(), Some(9), "{status:?}");
            }
            None => eprintln!("not root: no process of another uid to kill"),
        }
    }

    #[test]
    fn logind_output_is_read_in_any_order() {
        let facts = parse_session_facts("Type=wayland\nClass=user\nUser=1001\n");
        assert_eq!(
            facts,
            Some(SessionFacts {
                owner: 1001,
                kind: "wayland".into(),
                class: "user".into(),
            })
        );
        assert_eq!(parse_session_facts("User=1001\n"), None);
        assert_eq!(parse_session_facts("User=abc\nType=x11\n"), None);
    }

    #[test]
    fn only_the_owner_of_a_graphical_session_is_admitted() {
        let facts = |owner, kind: &str| SessionFacts {
            owner,
            kind: kind.into(),
            class: "user".into(),
        };
        let peer = PeerId { uid: 1001 };
        assert_eq!(check(peer, "2", &facts(1001, "x11"), None), Ok(false));
        assert_eq!(check(peer, "2", &facts(1001, "wayland"), None), Ok(false));
        assert!(matches!(
            check(peer, "2", &facts(1002, "x11"), None),
            Err(PeerRefusal::OtherUser { owner: 1002, .. })
        ));
        assert!(matches!(
            check(peer, "2", &facts(1001, "tty"), None),
            Err(PeerRefusal::NotGraphical { .. })
        ));
    }

    #[test]
    fn a_greeter_session_is_the_gate_only_when_the_gate_before_login_is_on() {
        // greetd's greeter under a bare Xorg: Class=greeter, Type=tty (seen in the guest).
        let greeter = |owner| SessionFacts {
            owner,
            kind: "tty".into(),
            class: "greeter".into(),
        };
        let greetd = PeerId { uid: 110 };
        let public = Some(1000);
        assert_eq!(check(greetd, "c1", &greeter(110), public), Ok(true));
        assert!(matches!(
            check(greetd, "c1", &greeter(110), None),
            Err(PeerRefusal::UnexpectedGreeter { .. })
        ));
        // The public account never plays the gate, and nobody speaks for another's greeter.
        let visitor = PeerId { uid: 1000 };
        assert!(check(visitor, "c1", &greeter(1000), public).is_err());
        assert!(matches!(
            check(visitor, "c1", &greeter(110), public),
            Err(PeerRefusal::OtherUser { .. })
        ));
        // The visitor's own desktop is still admitted as the countdown's.
        let desktop = SessionFacts {
            owner: 1000,
            kind: "x11".into(),
            class: "user".into(),
        };
        assert_eq!(check(visitor, "2", &desktop, public), Ok(false));
    }
}
