//! `poste-loadgen`: simulates workstations speaking the seed's protocol (plus `hello`) against a
//! server, and measures what a site would feel: the latency of every request → reply, and the
//! lateness of every pushed warning and `session_terminated` against its due instant.
//!
//! Each simulated workstation connects (ramped at a set rate, optionally from several
//! `127.0.0.x` source addresses), names itself, validates its own code, starts its session and
//! asks `get_time` at the seed's cadence until the session ends or the run's bound is reached.
//! Codes are created through the server's API. The run always stops by itself.
//!
//! [`history`] (binary `poste-history`) writes a long past of sessions into a store instead;
//! [`consoles`] (binary `poste-consoles`) follows the console's live feed at a large site.

// The load generator measures latencies on the real clocks: the server's clock fence
// (clippy.toml) is not for it.
#![allow(clippy::disallowed_methods)]

pub mod consoles;
pub mod history;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `http://host:port` of the server.
    pub server: String,
    /// An API token (`poste-server token create loadgen`), to create the codes.
    pub token: String,
    pub workstations: usize,
    /// New connections per second.
    pub ramp_per_sec: f64,
    /// Length of each session, in seconds (short ones make warnings and expiries happen).
    pub session_secs: u64,
    /// Period of `get_time`.
    pub get_time_every: Duration,
    /// The whole run stops after this, whatever happens.
    pub max_run: Duration,
    /// Connections are spread over `127.0.0.1` … `127.0.0.N` (loopback servers only).
    pub source_addresses: u8,
}

/// Latency summary of one kind of measure, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    pub count: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// What a run measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub connected: u64,
    pub sessions_started: u64,
    pub sessions_ended: u64,
    pub warnings: u64,
    /// Errors by kind (`connect`, `refused`, `protocol`, `timeout`, …).
    pub errors: BTreeMap<String, u64>,
    /// Connections closed by the server or the network before their session ended.
    pub disconnects: u64,
    pub validate: Summary,
    pub start: Summary,
    pub get_time: Summary,
    pub warning_lateness: Summary,
    pub expiry_lateness: Summary,
    pub elapsed: Duration,
}

/// Histograms shared by the workstations (microseconds).
#[derive(Debug)]
struct Measures {
    validate: Histogram<u64>,
    start: Histogram<u64>,
    get_time: Histogram<u64>,
    warning_lateness: Histogram<u64>,
    expiry_lateness: Histogram<u64>,
    report: Report,
}

impl Measures {
    fn new() -> anyhow::Result<Self> {
        let histogram = || Histogram::<u64>::new_with_bounds(1, 600_000_000, 3);
        Ok(Measures {
            validate: histogram()?,
            start: histogram()?,
            get_time: histogram()?,
            warning_lateness: histogram()?,
            expiry_lateness: histogram()?,
            report: Report::default(),
        })
    }

    fn error(&mut self, kind: &str) {
        *self.report.errors.entry(kind.to_owned()).or_default() += 1;
    }
}

fn record(histogram: &mut Histogram<u64>, elapsed: Duration) {
    let micros = u64::try_from(elapsed.as_micros())
        .unwrap_or(u64::MAX)
        .max(1);
    histogram.saturating_record(micros);
}

fn summary(histogram: &Histogram<u64>) -> Summary {
    let ms = |micros: u64| micros as f64 / 1000.0;
    if histogram.is_empty() {
        return Summary::default();
    }
    Summary {
        count: histogram.len(),
        p50: ms(histogram.value_at_quantile(0.50)),
        p90: ms(histogram.value_at_quantile(0.90)),
        p99: ms(histogram.value_at_quantile(0.99)),
        max: ms(histogram.max()),
    }
}

/// Raises the soft limit of open files to the hard one (each workstation is a socket).
pub fn raise_open_files() -> Option<u64> {
    #[cfg(unix)]
    {
        let (_, hard) = rlimit::Resource::NOFILE.get().ok()?;
        rlimit::Resource::NOFILE.set(hard, hard).ok()?;
        Some(hard)
    }
    #[cfg(not(unix))]
    None
}

/// Creates `count` codes of `secs` seconds through the API, in batches the server accepts.
async fn create_codes(plan: &Plan, count: usize) -> anyhow::Result<Vec<(i64, String)>> {
    let client = reqwest::Client::new();
    let mut codes = Vec::with_capacity(count);
    while codes.len() < count {
        let batch = (count - codes.len()).min(200);
        let response = client
            .post(format!("{}/api/sessions", plan.server.trim_end_matches('/')))
            .bearer_auth(&plan.token)
            .json(&json!({"duree": format!("{}s", plan.session_secs), "nombre": batch, "utilisateur": "Charge"}))
            .send()
            .await
            .context("cannot reach the server's API to create codes")?;
        let status = response.status();
        let body: Value = response.json().await.context("the API answered no JSON")?;
        if !status.is_success() {
            bail!("the API refused to create codes ({status}): {body}");
        }
        let Some(sessions) = body["sessions"].as_array() else {
            bail!("unexpected API answer: {body}");
        };
        for session in sessions {
            match (session["id"].as_i64(), session["code_acces"].as_str()) {
                (Some(id), Some(code)) => codes.push((id, code.to_owned())),
                _ => bail!("unexpected session in the API answer: {session}"),
            }
        }
    }
    Ok(codes)
}

fn ws_url(server: &str) -> anyhow::Result<String> {
    let base = server.trim_end_matches('/');
    let url = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        bail!("the server URL must start with http:// or https://: {server}");
    };
    Ok(format!("{url}/ws/sessions/"))
}

/// `host:port` of a `ws://` URL, resolved.
async fn server_addr(url: &str) -> anyhow::Result<SocketAddr> {
    let rest = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
    let host_port = rest.split('/').next().unwrap_or(rest);
    tokio::net::lookup_host(host_port)
        .await
        .with_context(|| format!("cannot resolve {host_port}"))?
        .next()
        .with_context(|| format!("{host_port} resolves to nothing"))
}

/// Runs the plan; returns what it measured. Fails only when the run cannot start (bad URL,
/// API unreachable or refusing): failures of single workstations are counted instead.
pub async fn run(plan: &Plan) -> anyhow::Result<Report> {
    if plan.workstations == 0 || plan.ramp_per_sec <= 0.0 {
        bail!("workstations and ramp must be positive");
    }
    let url = ws_url(&plan.server)?;
    let addr = server_addr(&url).await?;
    if plan.source_addresses > 1 && !addr.ip().is_loopback() {
        bail!("several source addresses are only for a server on loopback");
    }
    let codes = create_codes(plan, plan.workstations).await?;
    let measures = Arc::new(Mutex::new(Measures::new()?));
    let started = Instant::now();
    let deadline = started + plan.max_run;
    let gap = Duration::from_secs_f64(1.0 / plan.ramp_per_sec);
    let mut tasks = Vec::with_capacity(codes.len());
    for (index, (id, code)) in codes.into_iter().enumerate() {
        if Instant::now() >= deadline {
            break;
        }
        let source = IpAddr::V4(Ipv4Addr::new(
            127,
            0,
            0,
            1 + u8::try_from(index % usize::from(plan.source_addresses.max(1))).unwrap_or(0),
        ));
        let workstation = Workstation {
            name: format!("charge-{index:06}"),
            ip: format!("10.200.{}.{}", index / 250 % 250, index % 250 + 1),
            url: url.clone(),
            addr,
            source: (plan.source_addresses > 1).then_some(source),
            session_id: id,
            code,
            get_time_every: plan.get_time_every,
            deadline,
            measures: Arc::clone(&measures),
        };
        tasks.push(tokio::spawn(workstation.run()));
        tokio::time::sleep(gap).await;
    }
    for task in tasks {
        if task.await.is_err() {
            lock(&measures).error("task");
        }
    }
    let measures = lock(&measures);
    let mut report = measures.report.clone();
    report.validate = summary(&measures.validate);
    report.start = summary(&measures.start);
    report.get_time = summary(&measures.get_time);
    report.warning_lateness = summary(&measures.warning_lateness);
    report.expiry_lateness = summary(&measures.expiry_lateness);
    report.elapsed = started.elapsed();
    Ok(report)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One simulated workstation.
struct Workstation {
    name: String,
    ip: String,
    url: String,
    addr: SocketAddr,
    source: Option<IpAddr>,
    session_id: i64,
    code: String,
    get_time_every: Duration,
    deadline: Instant,
    measures: Arc<Mutex<Measures>>,
}

/// Longest wait for one reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

impl Workstation {
    async fn run(self) {
        if let Err(kind) = self.session().await {
            lock(&self.measures).error(kind);
        }
    }

    async fn connect(&self) -> Result<Socket, &'static str> {
        let socket = if self.addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(|_| "socket")?;
        if let Some(source) = self.source {
            socket
                .bind(SocketAddr::new(source, 0))
                .map_err(|_| "bind")?;
        }
        let stream = socket.connect(self.addr).await.map_err(|_| "connect")?;
        // As the agent does: small messages, each waiting for its answer.
        stream.set_nodelay(true).map_err(|_| "socket")?;
        // A small read buffer, as the agent's: thousands of connections in one process.
        let config = WebSocketConfig::default().read_buffer_size(4096);
        let (ws, _) =
            tokio_tungstenite::client_async_with_config(self.url.as_str(), stream, Some(config))
                .await
                .map_err(|_| "handshake")?;
        Ok(ws)
    }

    async fn session(&self) -> Result<(), &'static str> {
        let mut ws = self.connect().await?;
        lock(&self.measures).report.connected += 1;
        send(
            &mut ws,
            json!({"type": "hello", "poste": self.name, "version": "loadgen"}),
        )
        .await?;
        let welcome = reply(&mut ws, "welcome").await?.1;
        let warning_ms = welcome["seuils"]["avertissement"].as_i64().unwrap_or(300) * 1000;
        let critical_ms = welcome["seuils"]["critique"].as_i64().unwrap_or(60) * 1000;

        let asked = Instant::now();
        send(
            &mut ws,
            json!({"type": "validate_code", "code": self.code, "ip_address": self.ip}),
        )
        .await?;
        let (at, valid) = reply(&mut ws, "code_valid").await?;
        record(&mut lock(&self.measures).validate, at - asked);
        if valid["session"]["id"].as_i64() != Some(self.session_id) {
            return Err("protocol");
        }

        let asked = Instant::now();
        send(
            &mut ws,
            json!({"type": "start_session", "session_id": self.session_id}),
        )
        .await?;
        let (at, started) = reply(&mut ws, "session_started").await?;
        record(&mut lock(&self.measures).start, at - asked);
        lock(&self.measures).report.sessions_started += 1;
        let left_ms = started["session"]["temps_restant_ms"]
            .as_i64()
            .or_else(|| {
                started["session"]["temps_restant"]
                    .as_i64()
                    .map(|s| s * 1000)
            })
            .ok_or("protocol")?;
        // The server's deadline as seen from here: the reply left the server when it was
        // `left_ms` away (one-way delay included, which only adds to the lateness measured).
        let ends_at = at + Duration::from_millis(u64::try_from(left_ms).unwrap_or(0));
        let due = |before_ms: i64| {
            ends_at
                .checked_sub(Duration::from_millis(u64::try_from(before_ms).unwrap_or(0)))
                .unwrap_or(ends_at)
        };

        let mut ticker = tokio::time::interval(self.get_time_every);
        ticker.tick().await;
        let mut asked: Option<Instant> = None;
        loop {
            let now = Instant::now();
            if now >= self.deadline {
                return Ok(());
            }
            tokio::select! {
                _ = ticker.tick() => {
                    if asked.is_none() {
                        send(&mut ws, json!({"type": "get_time", "session_id": self.session_id})).await?;
                        asked = Some(Instant::now());
                    }
                }
                _ = tokio::time::sleep_until(self.deadline.into()) => return Ok(()),
                message = ws.next() => {
                    let at = Instant::now();
                    let Some(Ok(message)) = message else {
                        lock(&self.measures).report.disconnects += 1;
                        return Ok(());
                    };
                    let Message::Text(text) = message else { continue };
                    let value: Value = serde_json::from_str(text.as_str()).map_err(|_| "protocol")?;
                    let mut measures = lock(&self.measures);
                    match value["type"].as_str() {
                        Some("time_update") => {
                            if let Some(sent) = asked.take() {
                                record(&mut measures.get_time, at - sent);
                            }
                        }
                        Some("warning") => {
                            measures.report.warnings += 1;
                            let threshold = if value["level"] == "critical" { critical_ms } else { warning_ms };
                            record(&mut measures.warning_lateness, at.saturating_duration_since(due(threshold)));
                        }
                        Some("session_terminated") => {
                            measures.report.sessions_ended += 1;
                            record(&mut measures.expiry_lateness, at.saturating_duration_since(ends_at));
                            return Ok(());
                        }
                        Some("error") => measures.error("server_error"),
                        _ => {}
                    }
                }
            }
        }
    }
}

async fn send(ws: &mut Socket, value: Value) -> Result<(), &'static str> {
    ws.send(Message::text(value.to_string()))
        .await
        .map_err(|_| "send")
}

/// The next message of `kind` (pushes of other kinds are skipped), with when it arrived.
async fn reply(ws: &mut Socket, kind: &str) -> Result<(Instant, Value), &'static str> {
    let wait = async {
        while let Some(message) = ws.next().await {
            let Ok(Message::Text(text)) = message else {
                continue;
            };
            let at = Instant::now();
            let value: Value = serde_json::from_str(text.as_str()).map_err(|_| "protocol")?;
            match value["type"].as_str() {
                Some(found) if found == kind => return Ok((at, value)),
                Some("code_invalid") => return Err("refused"),
                Some("error") => return Err("server_error"),
                _ => {}
            }
        }
        Err("closed")
    };
    tokio::time::timeout(REPLY_TIMEOUT, wait)
        .await
        .map_err(|_| "timeout")?
}

impl Report {
    /// A table for people.
    pub fn table(&self) -> String {
        let mut out = format!(
            "connected {}  sessions started {}  ended {}  warnings {}  disconnects {}  errors {:?}  in {:.1} s\n",
            self.connected,
            self.sessions_started,
            self.sessions_ended,
            self.warnings,
            self.disconnects,
            self.errors,
            self.elapsed.as_secs_f64()
        );
        out.push_str(&format!(
            "{:<18} {:>8} {:>9} {:>9} {:>9} {:>9}\n",
            "measure (ms)", "count", "p50", "p90", "p99", "max"
        ));
        for (name, s) in [
            ("validate_code", self.validate),
            ("start_session", self.start),
            ("get_time", self.get_time),
            ("warning lateness", self.warning_lateness),
            ("expiry lateness", self.expiry_lateness),
        ] {
            out.push_str(&format!(
                "{name:<18} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.2}\n",
                s.count, s.p50, s.p90, s.p99, s.max
            ));
        }
        out
    }

    /// One JSON line, for scripts.
    pub fn json(&self) -> Value {
        let summary = |s: Summary| json!({"count": s.count, "p50_ms": s.p50, "p90_ms": s.p90, "p99_ms": s.p99, "max_ms": s.max});
        json!({
            "connected": self.connected,
            "sessions_started": self.sessions_started,
            "sessions_ended": self.sessions_ended,
            "warnings": self.warnings,
            "disconnects": self.disconnects,
            "errors": self.errors,
            "elapsed_s": self.elapsed.as_secs_f64(),
            "validate_code": summary(self.validate),
            "start_session": summary(self.start),
            "get_time": summary(self.get_time),
            "warning_lateness": summary(self.warning_lateness),
            "expiry_lateness": summary(self.expiry_lateness),
        })
    }
}
