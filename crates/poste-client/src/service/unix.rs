//! The service on Linux: a helper is admitted for the logind session it names only if that
//! session is graphical and belongs to the uid at the other end of the socket; the session is
//! locked and ended through logind (`loginctl lock-session ID`, `terminate-session ID`), which
//! root may do for any session.

use poste_desktop::{CommandDesktop, DesktopError, Environment, Method, Outcome};

use crate::local::PeerId;

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
}

/// The session to act on, if the peer may be its helper (see the module docs).
pub fn admit(peer: PeerId, claimed: &str, env: &Environment) -> Result<String, PeerRefusal> {
    let facts = session_facts(env, claimed)
        .ok_or_else(|| PeerRefusal::UnknownSession(claimed.to_owned()))?;
    check(peer, claimed, &facts)?;
    Ok(claimed.to_owned())
}

/// The session must be the peer's own (a process cannot speak for someone else's session), and
/// graphical (a remote shell of the same user is not where the visitor sits).
fn check(peer: PeerId, claimed: &str, facts: &SessionFacts) -> Result<(), PeerRefusal> {
    if facts.owner != peer.uid {
        return Err(PeerRefusal::OtherUser {
            session: claimed.to_owned(),
            owner: facts.owner,
            peer: peer.uid,
        });
    }
    if !matches!(facts.kind.as_str(), "x11" | "wayland" | "mir") {
        return Err(PeerRefusal::NotGraphical {
            session: claimed.to_owned(),
            kind: facts.kind.clone(),
        });
    }
    Ok(())
}

/// `loginctl lock-session ID`.
pub fn lock_session(commands: &CommandDesktop, session: &str) -> Result<Outcome, DesktopError> {
    commands.run(
        "lock",
        &[Method::new("loginctl", &["lock-session", session])],
    )
}

/// `loginctl terminate-session ID`.
pub fn end_session(commands: &CommandDesktop, session: &str) -> Result<Outcome, DesktopError> {
    commands.run(
        "logout",
        &[Method::new("loginctl", &["terminate-session", session])],
    )
}

/// What logind says of a session: its owner's uid and its type (`x11`, `wayland`, `tty`…).
#[derive(Debug, Clone, PartialEq, Eq)]
struct SessionFacts {
    owner: u32,
    kind: String,
}

/// What `loginctl ARGS` prints, run with the service's PATH; `None` when it cannot be run or
/// fails or hangs (killed after poste-desktop's 5 s timeout). Shared by the helper's admission and the wait before a home restore.
pub(crate) fn loginctl_stdout(env: &Environment, args: &[&str]) -> Option<String> {
    poste_desktop::output_within(env, "loginctl", args, poste_desktop::DEFAULT_TIMEOUT)
        .inspect_err(|err| tracing::debug!(error = %err, ?args, "loginctl gave no answer"))
        .ok()
}

/// `loginctl show-session ID --property=User --property=Type`, whose output is `KEY=value`
/// lines in any order.
fn session_facts(env: &Environment, session: &str) -> Option<SessionFacts> {
    let stdout = loginctl_stdout(
        env,
        &[
            "show-session",
            session,
            "--property=User",
            "--property=Type",
        ],
    )?;
    parse_session_facts(&stdout)
}

fn parse_session_facts(text: &str) -> Option<SessionFacts> {
    let mut owner = None;
    let mut kind = None;
    for line in text.lines() {
        match line.trim().split_once('=') {
            Some(("User", value)) => owner = value.trim().parse().ok(),
            Some(("Type", value)) => kind = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    Some(SessionFacts {
        owner: owner?,
        kind: kind?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logind_output_is_read_in_any_order() {
        let facts = parse_session_facts("Type=wayland\nUser=1001\n");
        assert_eq!(
            facts,
            Some(SessionFacts {
                owner: 1001,
                kind: "wayland".into()
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
        };
        let peer = PeerId { uid: 1001 };
        assert_eq!(check(peer, "2", &facts(1001, "x11")), Ok(()));
        assert_eq!(check(peer, "2", &facts(1001, "wayland")), Ok(()));
        assert!(matches!(
            check(peer, "2", &facts(1002, "x11")),
            Err(PeerRefusal::OtherUser { owner: 1002, .. })
        ));
        assert!(matches!(
            check(peer, "2", &facts(1001, "tty")),
            Err(PeerRefusal::NotGraphical { .. })
        ));
    }
}
