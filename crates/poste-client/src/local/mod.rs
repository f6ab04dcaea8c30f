//! The local link between the service (root, or LocalSystem on Windows) and the helper in the
//! visitor's graphical session: typed messages, one JSON object per line. The helper only shows
//! and hears; every decision (the deadline, the lock, the log-out) stays in the service.
//!
//! This file owns the messages and their framing, generic over any byte stream, so that both
//! systems share them; the transports are per system: a Unix socket (`unix.rs`) and a named
//! pipe (`windows.rs`), each with the way the service learns who is at the other end.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::{DEFAULT_ENDPOINT, Listener, PeerId, connect};
#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::{DEFAULT_ENDPOINT, Listener, PeerId, connect};

/// Longest line accepted on the socket (a code, a hello): anything longer closes it.
pub const MAX_LINE: usize = 4096;

/// From the helper to the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromHelper {
    /// First line: the session the helper runs in (logind's `XDG_SESSION_ID` on Linux, the
    /// Windows session id on Windows). The service checks it against who is at the other end.
    Hello { session: String },
    /// The visitor typed a code.
    Code { code: String },
    /// The visitor asks for more time (`minutes` absent: as much as staff see fit).
    RequestTime {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        minutes: Option<i64>,
    },
    /// The visitor confirmed they end their session now.
    EndSession,
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
    /// What the visitor's screen shows, as structured facts (added for the kiosk windows of
    /// issue #5; the `say` lines are still sent, so a terminal front-end needs none of it). An
    /// older helper logs the line as unknown and goes on.
    Screen { event: Screen },
    /// To the gate when it is greetd's greeter (docs/decisions/0007): a paid session has
    /// started, open the public account's session (`compte`, started with `commande` and
    /// `env` added) through greetd, then exit. Sent to no other helper.
    OpenSession {
        compte: String,
        commande: Vec<String>,
        env: Vec<String>,
    },
}

/// A fact for the visitor's screen (`ToHelper::Screen`). The service sends the last
/// [`Screen::Space`], [`Screen::Link`] and, during a session, [`Screen::Started`] again to a
/// helper that (re)connects, so a restarted window shows the right screen at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Screen {
    /// The space's name (`welcome.espace`); `None` when the server gives none.
    Space { nom: Option<String> },
    /// The link to the server is up (or down).
    Link { connecte: bool },
    /// The code typed is being checked.
    Checking,
    /// The code was refused: the server's reason (absent from seed servers), its French text,
    /// and, with `trop_d_essais`, the seconds to wait.
    Refusal {
        raison: Option<poste_proto::RefusalReason>,
        message: String,
        reessayer_dans: Option<u64>,
    },
    /// A session runs: the visitor's name (the server's `"Visiteur"` is kept), time left and
    /// time held in all.
    Started {
        utilisateur: Option<String>,
        restant_ms: u64,
        total_ms: u64,
    },
    /// A warning threshold was reached (`critique`: the second one); `son`: the agent's
    /// `warning_sound`, the screen plays a sound with it (absent from older services: none).
    Warning {
        critique: bool,
        message: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        son: bool,
    },
    /// A message from staff.
    Staff { message: String, de: Option<String> },
    /// The workstation is out of service (its last visitor's account could not be restored):
    /// the gate shows `message` for staff for as long as it lasts; `None`: back in service.
    OutOfService { message: Option<String> },
    /// The session ended; the gate comes back once the desktop is locked and logged out.
    Ended { message: String },
    /// Whether the server takes the visitor's requests (more time, ending early): the buttons
    /// are offered only then.
    Actions { disponibles: bool },
    /// Where the visitor's request for more time stands (`statut` None: it could not be sent).
    TimeRequest {
        statut: Option<poste_proto::TimeRequestStatus>,
        message: String,
    },
    /// Staff locked the room for a workshop: `message` over everything, no code taken, until
    /// `None` (unlocked). A running session goes on.
    RoomLock { message: Option<String> },
}

/// One line of at most [`MAX_LINE`] bytes, newline included; `None` at the end of the stream, on
/// an error, or for a longer line (the caller then drops the connection).
pub async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R) -> Option<String> {
    let mut line = String::new();
    let mut limited = (&mut *reader).take(MAX_LINE as u64);
    match limited.read_line(&mut line).await {
        Ok(0) | Err(_) => None,
        Ok(_) if !line.ends_with('\n') && line.len() >= MAX_LINE => None,
        Ok(_) => Some(line),
    }
}

/// The next message: `None` when the stream ends (see [`read_line`]), `Some(Err)` for a line
/// that is not a message of this type (logged and skipped by the callers).
pub async fn read_message<R: AsyncBufRead + Unpin, M: DeserializeOwned>(
    reader: &mut R,
) -> Option<Result<M, serde_json::Error>> {
    let line = read_line(reader).await?;
    Some(serde_json::from_str(&line))
}

/// Writes `message` as one JSON line.
pub async fn write_message<W: AsyncWrite + Unpin, M: Serialize>(
    writer: &mut W,
    message: &M,
) -> std::io::Result<()> {
    let mut line = serde_json::to_string(message).map_err(std::io::Error::other)?;
    line.push('\n');
    writer.write_all(line.as_bytes()).await?;
    writer.flush().await
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

    #[tokio::test]
    async fn messages_round_trip_over_any_stream_and_long_lines_end_it() {
        let (service, helper) = tokio::io::duplex(64);
        let (mut service_read, mut service_write) = tokio::io::split(service);
        let (helper_read, mut helper_write) = tokio::io::split(helper);
        let mut helper_read = tokio::io::BufReader::new(helper_read);
        write_message(&mut service_write, &ToHelper::Prompt)
            .await
            .unwrap_or_default();
        let got: Option<Result<ToHelper, _>> = read_message(&mut helper_read).await;
        assert!(matches!(got, Some(Ok(ToHelper::Prompt))), "{got:?}");

        // Garbage is reported as such, and the stream goes on.
        helper_write
            .write_all(b"{\"type\":\"nope\"}\n")
            .await
            .unwrap_or_default();
        let code = FromHelper::Code {
            code: "ABC123".into(),
        };
        write_message(&mut helper_write, &code)
            .await
            .unwrap_or_default();
        let mut service_read = tokio::io::BufReader::new(&mut service_read);
        let garbled: Option<Result<FromHelper, _>> = read_message(&mut service_read).await;
        assert!(matches!(garbled, Some(Err(_))), "{garbled:?}");
        let got: Option<Result<FromHelper, _>> = read_message(&mut service_read).await;
        assert!(matches!(got, Some(Ok(ref c)) if *c == code), "{got:?}");

        // A line longer than MAX_LINE ends the conversation.
        let writer = tokio::spawn(async move {
            let long = vec![b'x'; MAX_LINE + 10];
            let _ = helper_write.write_all(&long).await;
            let _ = helper_write.write_all(b"\n").await;
        });
        assert!(read_line(&mut service_read).await.is_none());
        writer.abort();
    }

    #[test]
    fn screen_facts_are_tagged_json_and_older_helpers_see_an_unknown_line() {
        let refusal = ToHelper::Screen {
            event: Screen::Refusal {
                raison: Some(poste_proto::RefusalReason::TropDEssais),
                message: "Trop d'essais. Réessayez dans 42 s.".into(),
                reessayer_dans: Some(42),
            },
        };
        let line = serde_json::to_string(&refusal).unwrap_or_default();
        assert_eq!(
            line,
            r#"{"type":"screen","event":{"type":"refusal","raison":"trop_d_essais","message":"Trop d'essais. Réessayez dans 42 s.","reessayer_dans":42}}"#
        );
        let back: Result<ToHelper, _> = serde_json::from_str(&line);
        assert!(matches!(back, Ok(ref m) if *m == refusal), "{back:?}");
        // What a helper of the previous version does with it: an error it logs and skips.
        #[derive(Debug, Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        #[allow(dead_code)]
        enum Older {
            Say { text: String },
            Prompt,
        }
        assert!(serde_json::from_str::<Older>(&line).is_err());
    }

    /// "The agent refuses power commands that do not come from its server": the helper's side
    /// of the local link has no power message, so a peer on the socket cannot send one.
    #[test]
    fn the_local_link_carries_no_power_order() {
        for line in [
            r#"{"type":"power","ordre":1,"action":"extinction","delai_secondes":0}"#,
            r#"{"type":"Power","ordre":1,"action":"extinction","delai_secondes":0}"#,
        ] {
            assert!(serde_json::from_str::<FromHelper>(line).is_err(), "{line}");
        }
        // A field slipped into another message is not an order either.
        let code = r#"{"type":"code","code":"ABC123","action":"extinction"}"#;
        assert!(matches!(
            serde_json::from_str::<FromHelper>(code),
            Ok(FromHelper::Code { code }) if code == "ABC123"
        ));
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
