//! `poste-client helper`: the part of the agent in the visitor's graphical session. It shows
//! what the service says (messages, countdown, notifications through the desktop's own
//! programs) and forwards the codes typed. It decides nothing: killing it only makes the
//! service lock the screen. The kiosk windows of the visitor's screen (issue #5) will live
//! here; today it is a terminal front-end.

use std::path::Path;
use std::time::{Duration, Instant};

use poste_desktop::{CommandDesktop, Environment, Notification, Notifier, Urgency};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

use crate::agent::{Input, keyboard};
use crate::console::{Console, Display};
use crate::link::Backoff;
use crate::local::{FromHelper, ToHelper, valid_session_id};
use crate::text;

/// How the helper ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelperExit {
    /// The keyboard closed.
    InputClosed,
    /// The service refused this helper.
    Refused,
}

pub async fn run(socket: &Path, session: &str) -> anyhow::Result<HelperExit> {
    if !valid_session_id(session) {
        anyhow::bail!("{}", text::HELPER_NO_SESSION);
    }
    let desktop = CommandDesktop::new(Environment::current());
    let mut console = Console::new(Duration::from_secs(5));
    let mut keys = keyboard();
    let mut backoff = Backoff::new();
    loop {
        let stream = match UnixStream::connect(socket).await {
            Ok(stream) => stream,
            Err(err) => {
                tracing::info!(error = %err, "service not reachable yet");
                tokio::time::sleep(backoff.next_delay()).await;
                continue;
            }
        };
        backoff.reset();
        let (read, mut write) = stream.into_split();
        let hello = FromHelper::Hello {
            session: session.to_owned(),
        };
        if send(&mut write, &hello).await.is_err() {
            continue;
        }
        let mut lines = BufReader::new(read).lines();
        loop {
            tokio::select! {
                line = lines.next_line() => {
                    let Ok(Some(line)) = line else { break };
                    match serde_json::from_str::<ToHelper>(&line) {
                        Ok(ToHelper::Say { text }) => console.say(&text),
                        Ok(ToHelper::Prompt) => console.prompt(),
                        Ok(ToHelper::Countdown { restant_ms, pourcentage, connecte }) => {
                            console.countdown(Duration::from_millis(restant_ms), pourcentage, connecte, Instant::now());
                        }
                        Ok(ToHelper::Notify { titre, texte, critique }) => {
                            let notification = Notification {
                                title: titre,
                                body: texte,
                                urgency: if critique { Urgency::Critical } else { Urgency::Normal },
                                timeout_secs: 10,
                            };
                            let desktop = desktop.clone();
                            tokio::task::spawn_blocking(move || {
                                if let Err(err) = desktop.notify(&notification) {
                                    tracing::error!(error = %err, "no notification method worked");
                                }
                            });
                        }
                        Ok(ToHelper::Refused { message }) => {
                            console.say(&message);
                            return Ok(HelperExit::Refused);
                        }
                        Err(err) => tracing::debug!(error = %err, "ignored a line from the service"),
                    }
                }
                typed = keys.recv() => match typed {
                    Some(Input::Code(code)) => {
                        let code = FromHelper::Code { code: code.trim().to_owned() };
                        if send(&mut write, &code).await.is_err() {
                            break;
                        }
                    }
                    Some(Input::HelperGone) => {}
                    None => return Ok(HelperExit::InputClosed),
                },
            }
        }
        tracing::warn!("service connection lost; reconnecting");
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

async fn send(
    write: &mut tokio::net::unix::OwnedWriteHalf,
    message: &FromHelper,
) -> std::io::Result<()> {
    let mut line = serde_json::to_string(message).map_err(std::io::Error::other)?;
    line.push('\n');
    write.write_all(line.as_bytes()).await
}
