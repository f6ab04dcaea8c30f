//! The local link between the service (root) and the helper in the visitor's graphical
//! session: one JSON object per line over a Unix socket. The helper only shows and hears; every
//! decision (the deadline, the lock, the log-out) stays in the service.

use serde::{Deserialize, Serialize};

/// Default path of the socket (systemd `RuntimeDirectory=poste-client`).
pub const DEFAULT_SOCKET: &str = "/run/poste-client/helper.sock";

/// Longest line accepted on the socket (a code, a hello): anything longer closes it.
pub const MAX_LINE: usize = 4096;

/// From the helper to the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromHelper {
    /// First line: the logind session the helper runs in (`XDG_SESSION_ID`). The service checks
    /// that it belongs to the user at the other end of the socket.
    Hello { session: String },
    /// The visitor typed a code.
    Code { code: String },
}

/// From the service to the helper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToHelper {
    /// A line to show.
    Say { text: String },
    /// Ask for a code.
    Prompt,
    /// The countdown, every second while a session runs.
    Countdown {
        restant_ms: u64,
        pourcentage: u8,
        connecte: bool,
    },
    /// A desktop notification to show in the session.
    Notify {
        titre: String,
        texte: String,
        critique: bool,
    },
    /// The service refuses this helper (wrong session, wrong user); it should exit.
    Refused { message: String },
}

/// A logind session id as `XDG_SESSION_ID` holds it (`2`, `c42`): short, no separators, so it
/// can be passed to `loginctl` as one argument safely.
pub fn valid_session_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
        && !id.starts_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_checked() {
        assert!(valid_session_id("2"));
        assert!(valid_session_id("c42"));
        assert!(!valid_session_id(""));
        assert!(!valid_session_id("--all"));
        assert!(!valid_session_id("2; rm -rf /"));
        assert!(!valid_session_id(&"9".repeat(33)));
    }

    #[test]
    fn messages_are_one_json_line() {
        let text = serde_json::to_string(&ToHelper::Notify {
            titre: "Poste public".into(),
            texte: "Il vous reste\n5 minutes".into(),
            critique: false,
        })
        .unwrap_or_default();
        assert!(!text.contains('\n'));
        let back: FromHelper = serde_json::from_str(r#"{"type":"code","code":"ABC123"}"#)
            .unwrap_or(FromHelper::Hello {
                session: String::new(),
            });
        assert_eq!(
            back,
            FromHelper::Code {
                code: "ABC123".into()
            }
        );
    }
}
