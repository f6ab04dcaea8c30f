//! `poste-client service`: the privileged side of the agent (root, a systemd system service).
//!
//! It holds everything that decides — the link to the server, the enrollment secret, the
//! deadline, the lock and the log-out — and talks over a Unix socket to the helper running in
//! the visitor's graphical session, which only shows things and forwards the codes typed. The
//! service locks and ends the visitor's session through logind (`loginctl lock-session ID`,
//! `terminate-session ID`), which root may do for any session. Killing the helper gains the
//! visitor nothing: the service locks the screen at once when it vanishes during a session.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use poste_desktop::{
    CommandDesktop, DesktopError, Environment, Method, Notification, Notifier, Outcome,
    ScreenLocker, SessionTerminator, Urgency,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;

use crate::agent::{self, Exit, Input, Mode, Ui};
use crate::config::AgentConfig;
use crate::console::Display;
use crate::local::{FromHelper, MAX_LINE, ToHelper, valid_session_id};

/// The helper currently connected, and what the service last asked of it.
#[derive(Debug, Default)]
struct Shared {
    helper: Option<Helper>,
    /// The visitor's logind session, from the last helper accepted (kept when it vanishes:
    /// that is the session to lock).
    session: Option<String>,
    /// The agent waits for a code: a helper that (re)connects is asked for one.
    awaiting_code: bool,
    generation: u64,
}

#[derive(Debug)]
struct Helper {
    generation: u64,
    outbox: mpsc::Sender<ToHelper>,
}

#[derive(Debug, Clone, Default)]
struct State(Arc<Mutex<Shared>>);

impl State {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn send(&self, message: ToHelper) -> bool {
        self.lock()
            .helper
            .as_ref()
            .is_some_and(|helper| helper.outbox.try_send(message).is_ok())
    }
}

/// Runs the service until it is stopped.
pub async fn run(config: AgentConfig, socket: &Path) -> anyhow::Result<Exit> {
    let listener = bind(socket)?;
    tracing::info!(socket = %socket.display(), "waiting for the helper of the visitor's session");
    let state = State::default();
    let (input_tx, input_rx) = mpsc::channel::<Input>(16);
    let env = Environment::current();
    tokio::spawn(accept(listener, state.clone(), input_tx, env.clone()));
    let desktop = SessionDesktop {
        state: state.clone(),
        commands: CommandDesktop::new(env)
            .with_timeout(Duration::from_secs(config.command_timeout)),
    };
    let ui = Ui {
        display: Box::new(HelperDisplay { state }),
        input: Some(input_rx),
    };
    agent::run(config, Mode::Interactive, Arc::new(desktop), ui).await
}

/// The socket, created fresh (a stale one from a previous run is removed), reachable by the
/// visitors' session: who may speak on it is checked per connection from its credentials.
fn bind(socket: &Path) -> anyhow::Result<UnixListener> {
    if let Some(dir) = socket.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::remove_file(socket) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err.into()),
    }
    let listener = UnixListener::bind(socket)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o666))?;
    Ok(listener)
}

async fn accept(
    listener: UnixListener,
    state: State,
    input: mpsc::Sender<Input>,
    env: Environment,
) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve_helper(
                    stream,
                    state.clone(),
                    input.clone(),
                    env.clone(),
                ));
            }
            Err(err) => {
                tracing::warn!(error = %err, "helper socket accept failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// Reads one line of at most `MAX_LINE` bytes.
async fn read_line(reader: &mut BufReader<tokio::net::unix::OwnedReadHalf>) -> Option<String> {
    let mut line = String::new();
    let mut limited = (&mut *reader).take(MAX_LINE as u64);
    match limited.read_line(&mut line).await {
        Ok(0) | Err(_) => None,
        Ok(_) if !line.ends_with('\n') && line.len() >= MAX_LINE => None,
        Ok(_) => Some(line),
    }
}

async fn serve_helper(
    stream: UnixStream,
    state: State,
    input: mpsc::Sender<Input>,
    env: Environment,
) {
    let uid = match stream.peer_cred() {
        Ok(cred) => cred.uid(),
        Err(err) => {
            tracing::warn!(error = %err, "helper without credentials refused");
            return;
        }
    };
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let hello = tokio::time::timeout(Duration::from_secs(5), read_line(&mut reader)).await;
    let session = match hello
        .ok()
        .flatten()
        .and_then(|line| serde_json::from_str::<FromHelper>(&line).ok())
    {
        Some(FromHelper::Hello { session }) if valid_session_id(&session) => session,
        _ => {
            tracing::warn!(uid, "helper refused: no valid hello");
            return;
        }
    };
    // The session must be the peer's own (a process cannot speak for someone else's session),
    // and graphical (a remote shell of the same user is not where the visitor sits).
    let facts = {
        let env = env.clone();
        let session = session.clone();
        tokio::task::spawn_blocking(move || session_facts(&env, &session))
            .await
            .ok()
            .flatten()
    };
    let accepted = facts.as_ref().is_some_and(|facts| {
        facts.owner == uid && matches!(facts.kind.as_str(), "x11" | "wayland" | "mir")
    });
    if !accepted {
        tracing::warn!(uid, %session, ?facts, "helper refused: not a graphical session of its user");
        let refused = ToHelper::Refused {
            message: crate::text::HELPER_REFUSED.to_owned(),
        };
        let _ = write_message(&mut write, &refused).await;
        return;
    }
    let (outbox, mut pending) = mpsc::channel::<ToHelper>(64);
    let generation = {
        let mut shared = state.lock();
        shared.generation += 1;
        let generation = shared.generation;
        shared.helper = Some(Helper { generation, outbox });
        shared.session = Some(session.clone());
        if shared.awaiting_code {
            let _ = shared
                .helper
                .as_ref()
                .map(|h| h.outbox.try_send(ToHelper::Prompt));
        }
        generation
    };
    tracing::info!(uid, %session, "helper connected");
    let writer = tokio::spawn(async move {
        while let Some(message) = pending.recv().await {
            if write_message(&mut write, &message).await.is_err() {
                break;
            }
        }
    });
    while let Some(line) = read_line(&mut reader).await {
        match serde_json::from_str::<FromHelper>(&line) {
            Ok(FromHelper::Code { code }) => {
                if input.send(Input::Code(code)).await.is_err() {
                    break;
                }
            }
            Ok(FromHelper::Hello { .. }) => {}
            Err(err) => tracing::debug!(error = %err, "ignored a line from the helper"),
        }
    }
    writer.abort();
    let current = {
        let mut shared = state.lock();
        let current = shared
            .helper
            .as_ref()
            .is_some_and(|h| h.generation == generation);
        if current {
            shared.helper = None;
        }
        current
    };
    if current {
        tracing::warn!(%session, "helper gone");
        let _ = input.send(Input::HelperGone).await;
    }
}

async fn write_message(
    write: &mut tokio::net::unix::OwnedWriteHalf,
    message: &ToHelper,
) -> std::io::Result<()> {
    let mut line = serde_json::to_string(message).map_err(std::io::Error::other)?;
    line.push('\n');
    write.write_all(line.as_bytes()).await
}

/// What logind says of a session: its owner's uid and its type (`x11`, `wayland`, `tty`…).
#[derive(Debug, Clone, PartialEq, Eq)]
struct SessionFacts {
    owner: u32,
    kind: String,
}

/// `loginctl show-session ID --property=User --property=Type`, whose output is `KEY=value`
/// lines in any order.
fn session_facts(env: &Environment, session: &str) -> Option<SessionFacts> {
    let program = env.resolve("loginctl")?;
    let output = std::process::Command::new(program)
        .args([
            "show-session",
            session,
            "--property=User",
            "--property=Type",
        ])
        .env("PATH", env.path())
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    parse_session_facts(&String::from_utf8_lossy(&output.stdout))
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

/// Shows through the helper.
struct HelperDisplay {
    state: State,
}

impl Display for HelperDisplay {
    fn say(&mut self, message: &str) {
        tracing::info!(%message, "to the visitor");
        self.state.send(ToHelper::Say {
            text: message.to_owned(),
        });
    }

    fn prompt(&mut self) {
        self.state.lock().awaiting_code = true;
        self.state.send(ToHelper::Prompt);
    }

    fn countdown(&mut self, remaining: Duration, percent_used: u8, connected: bool, _now: Instant) {
        let mut shared = self.state.lock();
        shared.awaiting_code = false;
        if let Some(helper) = &shared.helper {
            let _ = helper.outbox.try_send(ToHelper::Countdown {
                restant_ms: u64::try_from(remaining.as_millis()).unwrap_or(u64::MAX),
                pourcentage: percent_used,
                connecte: connected,
            });
        }
    }
}

/// Locks and ends the visitor's logind session as root; notifications go through the helper.
struct SessionDesktop {
    state: State,
    commands: CommandDesktop,
}

impl SessionDesktop {
    fn session(&self, action: &'static str) -> Result<String, DesktopError> {
        self.state
            .lock()
            .session
            .clone()
            .ok_or(DesktopError::NoMethod { action })
    }
}

impl ScreenLocker for SessionDesktop {
    fn lock(&self) -> Result<Outcome, DesktopError> {
        let session = self.session("lock")?;
        self.commands.run(
            "lock",
            &[Method::new("loginctl", &["lock-session", session.as_str()])],
        )
    }
}

impl SessionTerminator for SessionDesktop {
    fn logout(&self) -> Result<Outcome, DesktopError> {
        let session = self.session("logout")?;
        self.commands.run(
            "logout",
            &[Method::new(
                "loginctl",
                &["terminate-session", session.as_str()],
            )],
        )
    }
}

impl Notifier for SessionDesktop {
    fn notify(&self, n: &Notification) -> Result<Outcome, DesktopError> {
        let sent = self.state.send(ToHelper::Notify {
            titre: n.title.clone(),
            texte: n.body.clone(),
            critique: matches!(n.urgency, Urgency::Critical),
        });
        if sent {
            Ok(Outcome {
                method: "helper".to_owned(),
            })
        } else {
            Err(DesktopError::NoMethod { action: "notify" })
        }
    }
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
}
