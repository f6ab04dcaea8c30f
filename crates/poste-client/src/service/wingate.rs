//! The pure rules of the Windows service, built on every system so that their tests run
//! natively as well as under wine: who may be the helper ([`check`]), when to start one
//! ([`Watchdog`]), and the command lines the service and the helper are started with.

// Outside Windows this module is only built for its tests.
#![cfg_attr(not(windows), allow(dead_code))]

use std::ffi::OsString;
use std::path::Path;
use std::time::{Duration, Instant};

/// How often, at most, the service starts a helper in the same session.
pub const RESPAWN_EVERY: Duration = Duration::from_secs(10);

/// Why a helper was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerRefusal {
    /// The system could not say which process, or which session, is at the other end.
    #[error("the pipe's client process or its session is unknown")]
    UnknownPeer,
    /// The client runs in session 0, which has no visitor.
    #[error("the client runs in session 0, the services' session")]
    ServicesSession,
    /// No session is attached to the console (a session switch under way).
    #[error("no session is attached to the console")]
    NoConsole,
    /// The client runs in another session than the console's (e.g. a remote desktop one).
    #[error("the client runs in session {client}, the console's is {console}")]
    NotConsole { client: u32, console: u32 },
    /// The client names another session than its own.
    #[error("the hello names session {claimed}, the client runs in session {client}")]
    Mismatch { claimed: String, client: u32 },
}

/// The session a helper is admitted for: the session of the pipe's client process (`client`),
/// if it is the console's (`console`), is not session 0, and is the one its `hello` names.
pub fn check(client: Option<u32>, console: Option<u32>, claimed: &str) -> Result<u32, PeerRefusal> {
    let client = client.ok_or(PeerRefusal::UnknownPeer)?;
    if client == 0 {
        return Err(PeerRefusal::ServicesSession);
    }
    let console = console.ok_or(PeerRefusal::NoConsole)?;
    if client != console {
        return Err(PeerRefusal::NotConsole { client, console });
    }
    if claimed.parse::<u32>().ok() != Some(client) {
        return Err(PeerRefusal::Mismatch {
            claimed: claimed.to_owned(),
            client,
        });
    }
    Ok(client)
}

/// When to start a helper: pure, so that it is tested without starting anything.
#[derive(Debug, Default)]
pub struct Watchdog {
    last_start: Option<(u32, Instant)>,
}

impl Watchdog {
    /// The session to start a helper in now, if any: the console's, when it is not session 0,
    /// has no helper connected (`connected`: the session of the helper connected, if one is),
    /// and was not given one in the last [`RESPAWN_EVERY`]. Records the start.
    pub fn due(
        &mut self,
        console: Option<u32>,
        connected: Option<&str>,
        now: Instant,
    ) -> Option<u32> {
        let console = console.filter(|&id| id != 0)?;
        if connected.and_then(|s| s.parse::<u32>().ok()) == Some(console) {
            return None;
        }
        if let Some((session, at)) = self.last_start
            && session == console
            && now.saturating_duration_since(at) < RESPAWN_EVERY
        {
            return None;
        }
        self.last_start = Some((console, now));
        Some(console)
    }
}

/// `"C:\…\poste-client.exe" helper --socket \\.\pipe\…`: the helper's command line.
pub fn helper_command_line(exe: &Path, endpoint: &Path) -> String {
    format!(
        "\"{}\" helper --socket \"{}\"",
        exe.display(),
        endpoint.display()
    )
}

/// The arguments the service control manager starts the service with.
pub fn launch_arguments(config: &Path) -> Vec<OsString> {
    vec![
        OsString::from("--config"),
        config.as_os_str().to_owned(),
        OsString::from("run-as-service"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_helper_in_the_console_session_naming_it_is_admitted() {
        assert_eq!(check(Some(1), Some(1), "1"), Ok(1));
        assert_eq!(check(Some(3), Some(3), "3"), Ok(3));
        assert_eq!(check(None, Some(1), "1"), Err(PeerRefusal::UnknownPeer));
        // Session 0 is the services' session, even when the console reports it.
        assert_eq!(
            check(Some(0), Some(0), "0"),
            Err(PeerRefusal::ServicesSession)
        );
        assert_eq!(
            check(Some(0), Some(1), "1"),
            Err(PeerRefusal::ServicesSession)
        );
        assert_eq!(check(Some(1), None, "1"), Err(PeerRefusal::NoConsole));
        // A remote desktop session of someone else: not where the visitor sits.
        assert_eq!(
            check(Some(2), Some(1), "2"),
            Err(PeerRefusal::NotConsole {
                client: 2,
                console: 1
            })
        );
        // A process cannot speak for another session than its own.
        assert_eq!(
            check(Some(1), Some(1), "2"),
            Err(PeerRefusal::Mismatch {
                claimed: "2".into(),
                client: 1
            })
        );
        assert!(matches!(
            check(Some(1), Some(1), "c1"),
            Err(PeerRefusal::Mismatch { .. })
        ));
    }

    #[test]
    fn the_watchdog_starts_a_helper_where_none_is_and_not_too_often() {
        let start = Instant::now();
        let mut watchdog = Watchdog::default();
        // No console session, or the services' one: nothing to start.
        assert_eq!(watchdog.due(None, None, start), None);
        assert_eq!(watchdog.due(Some(0), None, start), None);
        // A helper of the console session is connected: nothing to do.
        assert_eq!(watchdog.due(Some(1), Some("1"), start), None);
        // None (or only a stale one of another session): start one, once.
        assert_eq!(watchdog.due(Some(1), Some("4"), start), Some(1));
        assert_eq!(
            watchdog.due(Some(1), None, start + Duration::from_secs(2)),
            None
        );
        assert_eq!(
            watchdog.due(Some(1), None, start + RESPAWN_EVERY),
            Some(1),
            "again when the first did not come"
        );
        // Another session at the console (user switch): at once.
        assert_eq!(
            watchdog.due(
                Some(2),
                None,
                start + RESPAWN_EVERY + Duration::from_secs(1)
            ),
            Some(2)
        );
    }

    #[test]
    fn command_lines_quote_paths() {
        let line = helper_command_line(
            Path::new(r"C:\Program Files\Postes Publics\poste-client.exe"),
            Path::new(r"\\.\pipe\poste-client-helper"),
        );
        assert_eq!(
            line,
            r#""C:\Program Files\Postes Publics\poste-client.exe" helper --socket "\\.\pipe\poste-client-helper""#
        );
        let args = launch_arguments(Path::new(r"C:\ProgramData\poste-client\config.toml"));
        assert_eq!(
            args,
            [
                "--config",
                r"C:\ProgramData\poste-client\config.toml",
                "run-as-service"
            ]
        );
    }
}
