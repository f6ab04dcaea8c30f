//! Simulated workstations that survive faults: each names itself (`hello`), uses its own code,
//! and whenever its connection drops (server killed, link cut) reconnects and asks for its
//! time again, as the real agent does. Every message received is logged with the wall-clock
//! instant it arrived, so a test can check the clients' view against the database at the end.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message;

/// Wall-clock milliseconds since the Unix epoch (the unit of the database's times).
pub fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// One workstation's log.
#[derive(Debug, Clone, Default)]
pub struct StationLog {
    pub name: String,
    pub session_id: i64,
    /// `(unix ms, message)` for every JSON message received.
    pub received: Vec<(i64, Value)>,
    /// Connections that succeeded (1 + reconnections).
    pub connections: u32,
    /// Failed connection attempts (server down).
    pub failed_connects: u32,
    /// Replies that were errors (`service_indisponible` while the server starts, …).
    pub errors: Vec<Value>,
    /// When it was first told its session ended (`session_terminated`, or a `time_update`
    /// whose status is no longer `active`).
    pub told_ended_at: Option<i64>,
}

impl StationLog {
    /// Every deadline the workstation could infer from a `time_update` / `session_started`
    /// (arrival instant + time left, in ms): none may lie after the real deadline.
    pub fn implied_deadlines(&self) -> Vec<i64> {
        self.received
            .iter()
            .filter_map(|(at, v)| {
                let session = if v["type"] == "session_started" || v["type"] == "code_valid" {
                    &v["session"]
                } else if v["type"] == "time_update" {
                    v
                } else {
                    return None;
                };
                if session["statut"].as_str().is_some_and(|s| s != "active") {
                    return None;
                }
                let left_ms = session["temps_restant_ms"]
                    .as_i64()
                    .or_else(|| session["temps_restant"].as_i64().map(|s| s * 1000))?;
                Some(at + left_ms)
            })
            .collect()
    }
}

/// How a station reaches the server.
#[derive(Debug, Clone)]
pub struct Station {
    pub name: String,
    pub code: String,
    pub session_id: i64,
    /// Where to connect (the server, or a [`crate::proxy::FaultProxy`]).
    pub server: SocketAddr,
    /// Bind the socket to this loopback address first (a distinct peer per station).
    pub source: Option<IpAddr>,
    pub get_time_every: Duration,
    /// The station gives up after this, told or not.
    pub give_up_at: Instant,
}

/// Runs the station until it is told its session ended (or `give_up_at`); returns its log.
pub async fn run_station(station: Station) -> StationLog {
    let log = Arc::new(Mutex::new(StationLog {
        name: station.name.clone(),
        session_id: station.session_id,
        ..StationLog::default()
    }));
    let mut started = false;
    while Instant::now() < station.give_up_at {
        match connect(&station).await {
            Ok(mut ws) => {
                lock(&log).connections += 1;
                if converse(&station, &mut ws, &mut started, &log).await {
                    break;
                }
            }
            Err(()) => lock(&log).failed_connects += 1,
        }
        // Back off a little, as the agent does, without hammering a starting server.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    lock(&log).clone()
}

fn lock(log: &Mutex<StationLog>) -> std::sync::MutexGuard<'_, StationLog> {
    log.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

async fn connect(station: &Station) -> Result<Socket, ()> {
    let socket = TcpSocket::new_v4().map_err(|_| ())?;
    if let Some(source) = station.source {
        socket.bind(SocketAddr::new(source, 0)).map_err(|_| ())?;
    }
    let tcp = tokio::time::timeout(Duration::from_secs(2), socket.connect(station.server))
        .await
        .map_err(|_| ())?
        .map_err(|_| ())?;
    let url = format!("ws://{}{}", station.server, poste_proto::WS_PATH_SESSIONS);
    let (ws, _) = tokio::time::timeout(
        Duration::from_secs(3),
        tokio_tungstenite::client_async(url, tcp),
    )
    .await
    .map_err(|_| ())?
    .map_err(|_| ())?;
    Ok(ws)
}

async fn send(ws: &mut Socket, value: Value) -> bool {
    ws.send(Message::text(value.to_string())).await.is_ok()
}

/// One connection's life. Returns true once the session is known to have ended.
async fn converse(
    station: &Station,
    ws: &mut Socket,
    started: &mut bool,
    log: &Mutex<StationLog>,
) -> bool {
    if !send(
        ws,
        json!({"type": "hello", "poste": station.name, "version": "fleet"}),
    )
    .await
    {
        return false;
    }
    // First connection: validate then start. Later ones: the session runs on this named
    // workstation, so asking for its time is enough (as the agent does after a restart).
    let first = if *started {
        json!({"type": "get_time", "session_id": station.session_id})
    } else {
        json!({"type": "validate_code", "code": station.code, "ip_address": "10.9.9.9"})
    };
    if !send(ws, first).await {
        return false;
    }
    let mut ticker = tokio::time::interval(station.get_time_every);
    ticker.tick().await;
    let mut last_reply = Instant::now();
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                // A half-open link answers nothing: treat silence as a dead connection.
                if last_reply.elapsed() > station.get_time_every * 4 + Duration::from_secs(2) {
                    return false;
                }
                if *started && !send(ws, json!({"type": "get_time", "session_id": station.session_id})).await {
                    return false;
                }
            }
            _ = tokio::time::sleep_until(station.give_up_at.into()) => return true,
            message = ws.next() => {
                let Some(Ok(message)) = message else { return false };
                let Message::Text(text) = message else { continue };
                let Ok(value) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                last_reply = Instant::now();
                let at = unix_ms();
                // The log's lock is never held across an await.
                let start_now = {
                    let mut log = lock(log);
                    log.received.push((at, value.clone()));
                    match value["type"].as_str() {
                        Some("code_valid") => {
                            let status = value["session"]["statut"].as_str().unwrap_or_default();
                            if status == "active" || status == "en_attente" || status.is_empty() {
                                true
                            } else {
                                log.told_ended_at.get_or_insert(at);
                                return true;
                            }
                        }
                        Some("session_started") => {
                            *started = true;
                            false
                        }
                        Some("time_update") => {
                            if value["statut"].as_str().is_some_and(|s| s != "active") {
                                log.told_ended_at.get_or_insert(at);
                            }
                            false
                        }
                        Some("session_terminated") => {
                            log.told_ended_at.get_or_insert(at);
                            return true;
                        }
                        Some("code_invalid") => {
                            // Used or expired: the session ended while we were away.
                            log.told_ended_at.get_or_insert(at);
                            log.errors.push(value);
                            return true;
                        }
                        Some("error") => {
                            log.errors.push(value);
                            false
                        }
                        _ => false,
                    }
                };
                if start_now
                    && !send(ws, json!({"type": "start_session", "session_id": station.session_id})).await
                {
                    return false;
                }
            }
        }
    }
}
