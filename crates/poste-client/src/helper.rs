//! `poste-client helper`: the part of the agent in the visitor's graphical session. It shows
//! what the service says (messages, countdown, notifications through the desktop's own
//! programs) and forwards the codes typed. It decides nothing: killing it only makes the
//! service lock the screen. What it shows goes to a [`Front`]: this terminal here, or the kiosk
//! windows of the visitor's screen (the `poste-kiosk` crate, which reuses this connection loop,
//! so that the service never links a GUI).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use poste_desktop::{CommandDesktop, Environment, Notification, Notifier, Urgency};
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::sync::mpsc;

use crate::agent::{Input, keyboard};
use crate::console::{Console, Display};
use crate::link::Backoff;
use crate::local::{FromHelper, ToHelper, connect, read_message, valid_session_id, write_message};
use crate::text;

/// How the helper ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelperExit {
    /// The keyboard closed.
    InputClosed,
    /// The service refused this helper.
    Refused,
    /// As the greeter, it handed the workstation over to the visitor's session: greetd starts
    /// it once this process has ended.
    HandedOver,
}

/// The session this process runs in, as the service expects it in `hello`: logind's
/// `XDG_SESSION_ID` on Linux (empty if unset, which the helper refuses), the Windows session id.
pub fn own_session() -> String {
    #[cfg(unix)]
    let session = std::env::var("XDG_SESSION_ID").unwrap_or_default();
    #[cfg(windows)]
    let session = crate::winsys::process_session(std::process::id())
        .map(|id| id.to_string())
        .unwrap_or_default();
    session
}

/// Where the helper shows what the service says.
pub trait Front: Send {
    /// A message of the service, as it came.
    fn show(&mut self, message: ToHelper);
    /// The connection to the service was lost; the helper reconnects.
    fn disconnected(&mut self) {}
}

/// The terminal front-end: lines, the prompt and the countdown on standard output,
/// notifications through the desktop's own programs.
#[derive(Debug)]
pub struct TerminalFront {
    console: Console,
    desktop: SessionNotifier,
}

impl TerminalFront {
    pub fn new() -> TerminalFront {
        TerminalFront {
            console: Console::new(Duration::from_secs(5)),
            desktop: SessionNotifier::new(),
        }
    }
}

impl Default for TerminalFront {
    fn default() -> Self {
        TerminalFront::new()
    }
}

impl Front for TerminalFront {
    fn show(&mut self, message: ToHelper) {
        match message {
            ToHelper::Say { text } | ToHelper::Refused { message: text } => self.console.say(&text),
            ToHelper::Prompt => self.console.prompt(),
            ToHelper::Countdown {
                restant_ms,
                pourcentage,
                connecte,
            } => self.console.countdown(
                Duration::from_millis(restant_ms),
                pourcentage,
                connecte,
                Instant::now(),
            ),
            ToHelper::Notify {
                titre,
                texte,
                critique,
            } => self.desktop.notify(titre, texte, critique),
            ToHelper::Screen { event } => self.console.screen(event),
            // Handled by the connection loop (`converse`), never shown.
            ToHelper::OpenSession { .. } => {}
        }
    }
}

/// Desktop notifications in the visitor's session, shown in the background (a slow
/// notification daemon must not hold the helper up).
#[derive(Clone)]
pub struct SessionNotifier(Arc<dyn Notifier + Send + Sync>);

impl std::fmt::Debug for SessionNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionNotifier").finish_non_exhaustive()
    }
}

impl SessionNotifier {
    /// The desktop's own programs, as detected from this session's environment.
    pub fn new() -> SessionNotifier {
        SessionNotifier(Arc::new(CommandDesktop::new(Environment::current())))
    }

    pub fn with(notifier: Arc<dyn Notifier + Send + Sync>) -> SessionNotifier {
        SessionNotifier(notifier)
    }

    /// Needs a Tokio runtime (the notification runs on its blocking pool).
    pub fn notify(&self, title: String, body: String, critical: bool) {
        let notification = Notification {
            title,
            body,
            urgency: if critical {
                Urgency::Critical
            } else {
                Urgency::Normal
            },
            timeout_secs: 10,
        };
        let desktop = Arc::clone(&self.0);
        tokio::task::spawn_blocking(move || {
            if let Err(err) = desktop.notify(&notification) {
                tracing::error!(error = %err, "no notification method worked");
            }
        });
    }
}

impl Default for SessionNotifier {
    fn default() -> Self {
        SessionNotifier::new()
    }
}

/// The kiosk windows' program, `poste-kiosk`, installed next to this one.
pub fn kiosk_program() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let name = if cfg!(windows) {
        "poste-kiosk.exe"
    } else {
        "poste-kiosk"
    };
    let program = exe.parent()?.join(name);
    program.is_file().then_some(program)
}

/// Whether this session has a screen to draw on: always on Windows (the helper is started in
/// the visitor's desktop), an X11 or Wayland display elsewhere.
pub fn display_present(env: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    cfg!(windows)
        || ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|key| env(key).is_some_and(|value| !value.is_empty()))
}

/// Hands the helper over to the kiosk windows' `program`, with the same socket: on Unix this
/// process becomes it (same pid for systemd), on Windows it waits for it and exits as it did.
pub fn run_kiosk(program: &Path, socket: &Path, debug: bool) -> std::process::ExitCode {
    let mut command = std::process::Command::new(program);
    command.arg("--socket").arg(socket);
    if debug {
        command.arg("--debug");
    }
    #[cfg(unix)]
    let err = {
        use std::os::unix::process::CommandExt;
        command.exec()
    };
    #[cfg(windows)]
    let err = match command.status() {
        Ok(status) => {
            let code = status.code().unwrap_or(1);
            return std::process::ExitCode::from(u8::try_from(code).unwrap_or(1));
        }
        Err(err) => err,
    };
    eprintln!("Erreur : {}", text::kiosk_failed(&err.to_string()));
    std::process::ExitCode::from(1)
}

/// The helper of session `session` (logind's `XDG_SESSION_ID`, or the Windows session id) with
/// the terminal front-end and the keyboard.
pub async fn run(endpoint: &Path, session: &str) -> anyhow::Result<HelperExit> {
    let mut front = TerminalFront::new();
    let mut keys = keyboard();
    run_with(endpoint, session, &mut front, &mut keys).await
}

/// The helper of session `session`: connects to the service at `endpoint`, and again whenever
/// the link is lost; what the service says goes to `front`, the codes heard on `codes` go to
/// the service. Ends when `codes` closes, or when the service refuses this helper.
pub async fn run_with(
    endpoint: &Path,
    session: &str,
    front: &mut dyn Front,
    codes: &mut mpsc::Receiver<Input>,
) -> anyhow::Result<HelperExit> {
    if !valid_session_id(session) {
        anyhow::bail!("{}", text::HELPER_NO_SESSION);
    }
    // Set by greetd for its greeter: the gate before login (docs/decisions/0007).
    let greetd = crate::greeter::greetd_socket();
    let mut backoff = Backoff::new();
    loop {
        let stream = match connect(endpoint).await {
            Ok(stream) => stream,
            Err(err) => {
                tracing::info!(error = %err, "service not reachable yet");
                tokio::time::sleep(backoff.next_delay()).await;
                continue;
            }
        };
        backoff.reset();
        if let Some(exit) = converse(stream, session, greetd.as_deref(), front, codes).await {
            return Ok(exit);
        }
        front.disconnected();
        tracing::warn!("service connection lost; reconnecting");
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

/// Asks greetd (at `greetd`, its `GREETD_SOCK`) to open the visitor's session.
#[cfg(unix)]
async fn hand_over(
    greetd: Option<&Path>,
    handover: crate::greeter::Handover,
) -> Result<(), String> {
    let socket = greetd
        .ok_or_else(|| text::HANDOVER_NO_GREETD.to_owned())?
        .to_path_buf();
    tracing::info!(account = %handover.account, command = ?handover.command, "opening the visitor's session through greetd");
    tokio::task::spawn_blocking(move || {
        crate::greetd::open_session(&socket, &handover, Duration::from_secs(10))
    })
    .await
    .map_err(|err| err.to_string())?
    .map_err(|err| err.to_string())
}

#[cfg(windows)]
async fn hand_over(
    _greetd: Option<&Path>,
    _handover: crate::greeter::Handover,
) -> Result<(), String> {
    Err(text::HANDOVER_NO_GREETD.to_owned())
}

/// One connection to the service, over any stream: `hello`, then what the service says goes
/// to `front` and what is heard on `keys` is sent; as the greeter (`greetd`: its socket), the
/// visitor's session is opened when the service says so. `None` when the connection is lost
/// (the caller reconnects).
pub(crate) async fn converse<S>(
    stream: S,
    session: &str,
    greetd: Option<&Path>,
    front: &mut dyn Front,
    keys: &mut mpsc::Receiver<Input>,
) -> Option<HelperExit>
where
    S: AsyncRead + AsyncWrite,
{
    let (read, mut write) = tokio::io::split(stream);
    let mut reader = BufReader::new(read);
    let hello = FromHelper::Hello {
        session: session.to_owned(),
    };
    write_message(&mut write, &hello).await.ok()?;
    loop {
        tokio::select! {
            message = read_message(&mut reader) => match message? {
                Ok(ToHelper::OpenSession { compte, commande, env }) => {
                    let handover = crate::greeter::Handover { account: compte, command: commande, env };
                    match hand_over(greetd, handover).await {
                        Ok(()) => return Some(HelperExit::HandedOver),
                        Err(err) => {
                            tracing::error!(error = %err, "the visitor's session could not be opened");
                            let message = text::handover_failed(&err);
                            front.show(ToHelper::Say { text: message.clone() });
                            front.show(ToHelper::Screen {
                                event: crate::local::Screen::Staff { message, de: None },
                            });
                        }
                    }
                }
                Ok(message) => {
                    let refused = matches!(message, ToHelper::Refused { .. });
                    front.show(message);
                    if refused {
                        return Some(HelperExit::Refused);
                    }
                }
                Err(err) => tracing::debug!(error = %err, "ignored a line from the service"),
            },
            typed = keys.recv() => match typed {
                Some(Input::Code(code)) => {
                    let code = FromHelper::Code { code: code.trim().to_owned() };
                    write_message(&mut write, &code).await.ok()?;
                }
                Some(Input::RequestTime(minutes)) => {
                    write_message(&mut write, &FromHelper::RequestTime { minutes }).await.ok()?;
                }
                Some(Input::EndSession) => {
                    write_message(&mut write, &FromHelper::EndSession).await.ok()?;
                }
                Some(Input::HelperGone) => {}
                None => return Some(HelperExit::InputClosed),
            },
        }
    }
}
