//! One WebSocket connection from a workstation: decodes its messages, hands them to the
//! workstation's use cases (`ops::workstation`), sends their replies, and forwards the pushes
//! the hub queues for it. Every failure gets a JSON `error` reply (or, for abuse, a clean close)
//! and stays within this connection.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use poste_proto::{DecodeError, ErrorCode, ServerMessage, decode_client_message};
use tokio::sync::mpsc;

use crate::hub::OUTBOX_CAPACITY;
use crate::ops::workstation::{self, Caller, Outcome, error};
use crate::state::AppState;
use crate::text;

/// Each connection's WebSocket read buffer.
const READ_BUFFER_BYTES: usize = 1024;
/// After this many messages refused in a row for flooding, the connection is closed.
const FLOOD_STRIKES: u32 = 20;

/// The two paths of the protocol. The seed's frames are its contract; `/ws/client/` adds
/// what the `epn-core` clients written for it require (docs/protocol.md §5.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Seed,
    Client,
}

pub async fn upgrade_seed(
    ws: WebSocketUpgrade,
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    upgrade(ws, app, peer, Endpoint::Seed)
}

pub async fn upgrade_client(
    ws: WebSocketUpgrade,
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    upgrade(ws, app, peer, Endpoint::Client)
}

fn upgrade(ws: WebSocketUpgrade, app: AppState, peer: SocketAddr, endpoint: Endpoint) -> Response {
    let limit = app.settings().limits.max_message_bytes;
    ws.max_message_size(limit)
        .max_frame_size(limit)
        // Allocated up front for every connection: tungstenite's 128 KiB default made 150 KB a
        // workstation (docs/benchmarks.md). Messages are a few hundred bytes; a bigger one
        // (up to `limit`) grows the buffer for its own read.
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| serve(app, socket, peer, endpoint))
}

/// A message as this endpoint sends it: the seed's path never carries the `/ws/client/`
/// additions; `/ws/client/` repeats a warning's `temps_restant` as `remaining`.
fn for_endpoint(message: ServerMessage, endpoint: Endpoint) -> ServerMessage {
    match (endpoint, message) {
        (Endpoint::Seed, ServerMessage::SessionStarted { mut session }) => {
            session.code_acces = None;
            ServerMessage::SessionStarted { session }
        }
        (Endpoint::Client, ServerMessage::Warning(mut warning)) => {
            warning.remaining = Some(warning.temps_restant);
            ServerMessage::Warning(warning)
        }
        (_, message) => message,
    }
}

fn encode(message: ServerMessage, endpoint: Endpoint) -> Message {
    Message::Text(Utf8Bytes::from(for_endpoint(message, endpoint).to_json()))
}

/// Token bucket against floods.
struct RateLimit {
    tokens: f64,
    per_sec: f64,
    burst: f64,
    last: Instant,
    strikes: u32,
}

impl RateLimit {
    fn allow(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.strikes = 0;
            true
        } else {
            self.strikes += 1;
            false
        }
    }
}

async fn serve(app: AppState, socket: WebSocket, addr: SocketAddr, endpoint: Endpoint) {
    let (outbox, mut pushes) = mpsc::channel::<ServerMessage>(OUTBOX_CAPACITY);
    let guard = app.hub.register(outbox);
    let conn = guard.id;
    let span = tracing::info_span!("ws", conn, peer = %addr);
    tracing::debug!(parent: &span, "connected");

    let (mut sink, mut stream) = socket.split();
    let limits = &app.settings().limits;
    let mut caller = Caller::new(conn, addr.ip());
    if endpoint == Endpoint::Client {
        let greeting = workstation::greeting(&app, &mut caller).await;
        if sink.send(encode(greeting, endpoint)).await.is_err() {
            return;
        }
    }
    let mut rate = RateLimit {
        tokens: f64::from(limits.message_burst),
        per_sec: f64::from(limits.messages_per_sec),
        burst: f64::from(limits.message_burst),
        last: crate::clock::monotonic(),
        strikes: 0,
    };
    let idle_timeout = Duration::from_secs(limits.idle_timeout_secs);
    let mut ping = tokio::time::interval(Duration::from_secs(limits.ping_interval_secs));
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_heard = crate::clock::monotonic();

    let close = loop {
        tokio::select! {
            frame = stream.next() => {
                let Some(frame) = frame else { break None };
                last_heard = crate::clock::monotonic();
                let frame = match frame {
                    Ok(frame) => frame,
                    Err(err) => {
                        tracing::info!(parent: &span, error = %err, "closing connection after a read error");
                        // Oversized messages end here: tungstenite refuses them while reading
                        // ("Space limit exceeded"); anything else is a broken protocol.
                        let detail = err.to_string();
                        if detail.contains("Space limit exceeded") {
                            break Some((close_code::SIZE, text::protocol_error(ErrorCode::MessageTropGrand)));
                        }
                        break Some((close_code::PROTOCOL, text::protocol_error(ErrorCode::MessageInvalide)));
                    }
                };
                let mut close_after = None;
                let reply = match frame {
                    Message::Text(body) => {
                        if !rate.allow(crate::clock::monotonic()) {
                            if rate.strikes >= FLOOD_STRIKES {
                                tracing::warn!(parent: &span, "flood: closing connection");
                                break Some((close_code::POLICY, text::protocol_error(ErrorCode::TropDeMessages)));
                            }
                            vec![error(ErrorCode::TropDeMessages)]
                        } else {
                            let outcome = handle_text(&app, &mut caller, body.as_str()).await;
                            close_after = outcome.close;
                            outcome.replies
                        }
                    }
                    Message::Binary(_) => vec![error(ErrorCode::MessageInvalide)],
                    Message::Ping(_) | Message::Pong(_) => Vec::new(),
                    Message::Close(_) => break None,
                };
                let mut failed = false;
                for message in reply {
                    if sink.send(encode(message, endpoint)).await.is_err() {
                        failed = true;
                        break;
                    }
                }
                if failed { break None; }
                if let Some(code) = close_after {
                    break Some((close_code::POLICY, text::protocol_error(code)));
                }
            }
            push = pushes.recv() => {
                let Some(message) = push else {
                    // The hub dropped us (stuck connection, or shutdown).
                    break Some((close_code::AWAY, "Au revoir"));
                };
                if sink.send(encode(message, endpoint)).await.is_err() {
                    break None;
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > idle_timeout {
                    tracing::info!(parent: &span, "idle connection closed");
                    break Some((close_code::AWAY, "Inactif"));
                }
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    break None;
                }
            }
        }
    };
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from(reason),
        };
        let _ = sink.send(Message::Close(Some(frame))).await;
    }
    tracing::debug!(parent: &span, poste = %caller.label(), "disconnected");
    drop(guard);
}

async fn handle_text(app: &AppState, caller: &mut Caller, body: &str) -> Outcome {
    match decode_client_message(body) {
        Ok(message) => workstation::handle(app, caller, message).await,
        Err(err) => {
            tracing::info!(error = %err, "refused message");
            let code = match err {
                DecodeError::NotJson(_) => ErrorCode::JsonInvalide,
                DecodeError::MissingType | DecodeError::InvalidFields { .. } => {
                    ErrorCode::MessageInvalide
                }
                DecodeError::UnknownType(_) => ErrorCode::TypeInconnu,
            };
            Outcome::from(vec![error(code)])
        }
    }
}
