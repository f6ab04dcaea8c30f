//! The WebSocket link to the server: connects, introduces the workstation (`hello`), forwards
//! messages both ways, and reconnects on its own with exponential back-off and equal jitter
//! (0.5 s doubling to 30 s), so that 2,000 workstations do not all come back at the same instant
//! after a server restart.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use poste_proto::{ClientMessage, Hello, ServerMessage};
use rand::RngExt;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::tls::{Endpoint, Stream};

/// What the link tells the agent.
#[derive(Debug)]
pub enum LinkEvent {
    /// Connected and introduced; `local_ip` is the address used to reach the server.
    Connected {
        local_ip: Option<IpAddr>,
    },
    /// Lost or could not connect; the next try is in `retry_in`.
    Disconnected {
        reason: String,
        retry_in: Duration,
    },
    Message(ServerMessage),
}

/// Handle on the link task.
#[derive(Debug)]
pub struct Link {
    pub events: mpsc::Receiver<LinkEvent>,
    outgoing: mpsc::Sender<ClientMessage>,
}

impl Link {
    /// Sends a message if connected; messages sent while offline are dropped (the agent sends
    /// what it needs again on `Connected`).
    pub fn send(&self, message: ClientMessage) {
        let _ = self.outgoing.try_send(message);
    }
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const HEARTBEAT_EVERY: Duration = Duration::from_secs(30);
const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Exponential back-off with equal jitter: each wait drawn between half the step and the step.
#[derive(Debug)]
pub struct Backoff {
    attempt: u32,
}

impl Backoff {
    pub fn new() -> Self {
        Backoff { attempt: 0 }
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The wait before the next try: uniform in [cap/2, cap], cap doubling from 0.5 s to 30 s.
    pub fn next_delay(&mut self) -> Duration {
        let cap = BACKOFF_MIN
            .saturating_mul(1u32 << self.attempt.min(16))
            .min(BACKOFF_MAX);
        self.attempt = self.attempt.saturating_add(1);
        let half = cap / 2;
        half + Duration::from_millis(rand::rng().random_range(0..=half.as_millis() as u64))
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

/// Starts the link task. The enrollment secret is read from `secret_file` at each connection.
pub fn spawn(endpoint: Endpoint, hello: Hello, secret_file: PathBuf) -> Link {
    let (event_tx, events) = mpsc::channel(256);
    let (outgoing, outgoing_rx) = mpsc::channel(64);
    tokio::spawn(run(endpoint, hello, secret_file, event_tx, outgoing_rx));
    Link { events, outgoing }
}

async fn run(
    endpoint: Endpoint,
    hello: Hello,
    secret_file: PathBuf,
    events: mpsc::Sender<LinkEvent>,
    mut outgoing: mpsc::Receiver<ClientMessage>,
) {
    let mut backoff = Backoff::new();
    loop {
        let reason = match tokio::time::timeout(CONNECT_TIMEOUT, endpoint.connect()).await {
            Err(_) => "délai de connexion dépassé".to_owned(),
            Ok(Err(err)) => crate::tls::describe(&err),
            Ok(Ok(stream)) => {
                backoff.reset();
                let local_ip = crate::tls::local_ip(&stream);
                // Drop what was queued while offline: it is stale.
                while outgoing.try_recv().is_ok() {}
                let mut hello = hello.clone();
                hello.secret = match crate::enroll::load_secret(&secret_file) {
                    Ok(secret) => secret,
                    Err(err) => {
                        tracing::error!(error = %err, "enrollment secret not usable");
                        None
                    }
                };
                match serve(stream, &hello, local_ip, &events, &mut outgoing).await {
                    Ok(()) => return, // the agent is gone
                    Err(reason) => reason,
                }
            }
        };
        let retry_in = backoff.next_delay();
        tracing::info!(%reason, ?retry_in, "link down");
        if events
            .send(LinkEvent::Disconnected { reason, retry_in })
            .await
            .is_err()
        {
            return;
        }
        tokio::time::sleep(retry_in).await;
    }
}

/// One connection; `Ok(())` when the agent dropped the link, `Err(reason)` when the connection
/// ended.
async fn serve(
    mut stream: Stream,
    hello: &Hello,
    local_ip: Option<IpAddr>,
    events: &mpsc::Sender<LinkEvent>,
    outgoing: &mut mpsc::Receiver<ClientMessage>,
) -> Result<(), String> {
    let mut hello = hello.clone();
    if hello.ip_address.is_none() {
        hello.ip_address = local_ip.map(|ip| ip.to_string());
    }
    if hello.mac.is_none() {
        hello.mac = local_ip.and_then(crate::identity::mac_for);
    }
    send(&mut stream, &ClientMessage::Hello(hello)).await?;
    if events
        .send(LinkEvent::Connected { local_ip })
        .await
        .is_err()
    {
        return Ok(());
    }
    let mut heartbeat = tokio::time::interval(HEARTBEAT_EVERY);
    heartbeat.tick().await;
    loop {
        tokio::select! {
            frame = stream.next() => match frame {
                None => return Err("connexion fermée par le serveur".to_owned()),
                Some(Err(err)) => return Err(err.to_string()),
                Some(Ok(Message::Text(text))) => match serde_json::from_str::<ServerMessage>(text.as_str()) {
                    Ok(message) => {
                        if events.send(LinkEvent::Message(message)).await.is_err() {
                            return Ok(());
                        }
                    }
                    // A newer server may send what we do not know; garbage is ignored too.
                    Err(err) => tracing::warn!(error = %err, "ignored a message from the server"),
                },
                Some(Ok(Message::Close(frame))) => {
                    return Err(format!("fermée par le serveur ({frame:?})"));
                }
                Some(Ok(_)) => {}
            },
            message = outgoing.recv() => match message {
                None => {
                    let _ = stream.close(None).await;
                    return Ok(());
                }
                Some(message) => send(&mut stream, &message).await?,
            },
            _ = heartbeat.tick() => send(&mut stream, &ClientMessage::Heartbeat).await?,
        }
    }
}

async fn send(stream: &mut Stream, message: &ClientMessage) -> Result<(), String> {
    let text = serde_json::to_string(message).map_err(|err| err.to_string())?;
    stream
        .send(Message::Text(text.into()))
        .await
        .map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let mut backoff = Backoff::new();
        let first = backoff.next_delay();
        assert!(first >= Duration::from_millis(250) && first <= Duration::from_millis(500));
        for _ in 0..20 {
            let delay = backoff.next_delay();
            assert!(delay <= BACKOFF_MAX);
        }
        assert!(backoff.next_delay() >= BACKOFF_MAX / 2);
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(500));
    }
}
