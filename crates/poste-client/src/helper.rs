//! `poste-client helper`: the part of the agent in the visitor's graphical session. It shows
//! what the service says (messages, countdown, notifications through the desktop's own
//! programs) and forwards the codes typed. It decides nothing: killing it only makes the
//! service lock the screen. The kiosk windows of the visitor's screen (issue #5) will live
//! here; today it is a terminal front-end.

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

/// The helper of session `session` (logind's `XDG_SESSION_ID`, or the Windows session id):
/// connects to the service at `endpoint`, and again whenever the link is lost.
pub async fn run(endpoint: &Path, session: &str) -> anyhow::Result<HelperExit> {
    if !valid_session_id(session) {
        anyhow::bail!("{}", text::HELPER_NO_SESSION);
    }
    let desktop: Arc<dyn Notifier + Send + Sync> =
        Arc::new(CommandDesktop::new(Environment::current()));
    let mut console = Console::new(Duration::from_secs(5));
    let mut keys = keyboard();
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
        if let Some(exit) = converse(stream, session, &mut console, &mut keys, &desktop).await {
            return Ok(exit);
        }
        tracing::warn!("service connection lost; reconnecting");
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

/// One connection to the service, over any stream: `hello`, then what the service says is
/// shown on `view` (notifications through `desktop`, in the background) and what is typed on
/// `keys` is sent. `None` when the connection is lost (the caller reconnects).
pub(crate) async fn converse<S>(
    stream: S,
    session: &str,
    view: &mut dyn Display,
    keys: &mut mpsc::Receiver<Input>,
    desktop: &Arc<dyn Notifier + Send + Sync>,
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
                Ok(ToHelper::Say { text }) => view.say(&text),
                Ok(ToHelper::Prompt) => view.prompt(),
                Ok(ToHelper::Countdown { restant_ms, pourcentage, connecte }) => {
                    view.countdown(Duration::from_millis(restant_ms), pourcentage, connecte, Instant::now());
                }
                Ok(ToHelper::Notify { titre, texte, critique }) => {
                    let notification = Notification {
                        title: titre,
                        body: texte,
                        urgency: if critique { Urgency::Critical } else { Urgency::Normal },
                        timeout_secs: 10,
                    };
                    let desktop = Arc::clone(desktop);
                    tokio::task::spawn_blocking(move || {
                        if let Err(err) = desktop.notify(&notification) {
                            tracing::error!(error = %err, "no notification method worked");
                        }
                    });
                }
                Ok(ToHelper::Refused { message }) => {
                    view.say(&message);
                    return Some(HelperExit::Refused);
                }
                Err(err) => tracing::debug!(error = %err, "ignored a line from the service"),
            },
            typed = keys.recv() => match typed {
                Some(Input::Code(code)) => {
                    let code = FromHelper::Code { code: code.trim().to_owned() };
                    write_message(&mut write, &code).await.ok()?;
                }
                Some(Input::HelperGone) => {}
                None => return Some(HelperExit::InputClosed),
            },
        }
    }
}
