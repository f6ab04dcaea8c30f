//! The console at a large site's scale (issue #18, item 5; binary `poste-consoles`):
//! workstations spread over many spaces, sessions starting and ending at a set rate, and
//! consoles open on the dashboard's live feed doing what its script does (on each event, fetch
//! the tiles it names, one fetch at a time, the whole dashboard for `*`). It measures, per
//! console and second, the bytes received and the server's time to answer, and the time from
//! a change (a session started or ended) to its tile fetched by each console that shows it.
//!
//! [`set_up_site`] writes the spaces and workstations into the store before the server starts;
//! the staff accounts come from the server's own command line (`admin create --espace`).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use poste_store::{Actor, DEFAULT_SPACE, NewPoste, NewSpace, Store};
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::tungstenite::Message;

use crate::{lock, ws_url};

/// A space's name in the benchmark.
pub fn space_name(space: usize) -> String {
    format!("Espace {space:03}")
}

/// A workstation's name: its space, then its number there.
pub fn poste_name(space: usize, n: usize) -> String {
    format!("E{space:03}-P{n:03}")
}

/// Creates `spaces` spaces (the default one renamed as the first) of `per_space` workstations
/// in `database`.
pub async fn set_up_site(database: &str, spaces: usize, per_space: usize) -> anyhow::Result<()> {
    let store = Store::connect(database, "poste-consoles")
        .await
        .with_context(|| format!("cannot open {database}"))?;
    set_up_site_in(&store, spaces, per_space).await?;
    store.close().await;
    Ok(())
}

/// The same in a store already open.
pub async fn set_up_site_in(store: &Store, spaces: usize, per_space: usize) -> anyhow::Result<()> {
    let actor = Actor::Cli;
    for space in 1..=spaces {
        let new = NewSpace {
            nom: space_name(space),
            adresse: None,
        };
        let id = if space == 1 {
            store
                .save_space(Some(DEFAULT_SPACE), &new, &actor, 0)
                .await?
        } else {
            store.save_space(None, &new, &actor, 0).await?
        }
        .id;
        for n in 1..=per_space {
            let poste = NewPoste {
                nom: poste_name(space, n),
                ip: None,
                mac: None,
            };
            let poste = store.create_poste(&poste, &actor, 0).await?;
            if id != poste.espace_id {
                store.move_poste(poste.id, id, &actor, 0).await?;
            }
        }
    }
    Ok(())
}

/// What to run against a server set up by [`set_up_site`].
#[derive(Debug, Clone)]
pub struct ConsolePlan {
    pub server: String,
    pub token: String,
    pub spaces: usize,
    pub per_space: usize,
    /// Console accounts: (login, password, whether it shows every space).
    pub consoles: Vec<(String, String, bool)>,
    /// Sessions started per second (as many end per second once the first have run `hold`).
    pub rate: f64,
    /// How long each session runs before staff end it.
    pub hold: Duration,
    /// Measured first without the consoles' feeds, then with them: each window this long.
    pub window: Duration,
    /// The server's process, whose CPU time is read from /proc.
    pub server_pid: Option<u32>,
    /// The load held this long after the windows, the simulated consoles still following:
    /// for a real browser's console to be measured under it (scripts/bench).
    pub extra: Duration,
}

/// What one kind of console measured over the window with the feeds.
#[derive(Debug, Clone, Default)]
pub struct ConsoleFigures {
    pub consoles: usize,
    pub events_per_sec: f64,
    pub fetches_per_sec: f64,
    pub bytes_per_sec: f64,
    /// Client-side time of each tiles fetch (the server's time plus loopback), ms.
    pub fetch_ms: Summary,
    /// From a change to its tile fetched, ms.
    pub change_to_tile_ms: Summary,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub count: u64,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

#[derive(Debug, Clone, Default)]
pub struct ConsoleReport {
    pub every_space: ConsoleFigures,
    pub one_space: ConsoleFigures,
    /// The whole dashboard of every space, as each change used to fetch it: bytes, ms.
    pub whole_grid_bytes: usize,
    pub whole_grid_ms: f64,
    /// Changes made per second (codes made, sessions started and ended).
    pub changes_per_sec: f64,
    /// Server CPU, in ms per second of run: without the feeds, with them.
    pub server_cpu_without: Option<f64>,
    pub server_cpu_with: Option<f64>,
    pub errors: Errors,
}

/// Failures by kind.
type Errors = std::collections::BTreeMap<&'static str, u64>;

impl ConsoleReport {
    pub fn json(&self) -> Value {
        let figures = |f: &ConsoleFigures| {
            json!({
                "consoles": f.consoles,
                "events_per_sec": round(f.events_per_sec),
                "fetches_per_sec": round(f.fetches_per_sec),
                "bytes_per_sec": round(f.bytes_per_sec),
                "fetch_ms": summary_json(f.fetch_ms),
                "change_to_tile_ms": summary_json(f.change_to_tile_ms),
            })
        };
        let per_console = match (self.server_cpu_without, self.server_cpu_with) {
            (Some(without), Some(with)) => {
                let consoles = (self.every_space.consoles + self.one_space.consoles).max(1);
                Some(round((with - without) / consoles as f64))
            }
            _ => None,
        };
        json!({
            "every_space": figures(&self.every_space),
            "one_space": figures(&self.one_space),
            "whole_grid_bytes": self.whole_grid_bytes,
            "whole_grid_ms": round(self.whole_grid_ms),
            "changes_per_sec": round(self.changes_per_sec),
            "server_cpu_ms_per_sec_without_feeds": self.server_cpu_without.map(round),
            "server_cpu_ms_per_sec_with_feeds": self.server_cpu_with.map(round),
            "server_cpu_ms_per_console_per_sec": per_console,
            "errors": self.errors,
        })
    }
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn summary_json(s: Summary) -> Value {
    json!({"count": s.count, "p50": round(s.p50), "p99": round(s.p99), "max": round(s.max)})
}

fn summarise(histogram: &Histogram<u64>) -> Summary {
    let ms = |us: u64| us as f64 / 1000.0;
    Summary {
        count: histogram.len(),
        p50: ms(histogram.value_at_quantile(0.5)),
        p99: ms(histogram.value_at_quantile(0.99)),
        max: ms(histogram.max()),
    }
}

fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 600_000_000, 3)?)
}

fn record(histogram: &mut Histogram<u64>, elapsed: Duration) {
    let us = u64::try_from(elapsed.as_micros())
        .unwrap_or(u64::MAX)
        .max(1);
    let _ = histogram.record(us.min(histogram.high()));
}

/// When each workstation last changed (a session started or ended), for the consoles to
/// measure how late its tile reached them.
type Changes = Arc<Mutex<HashMap<i64, Instant>>>;

/// What a console measured.
struct ConsoleMeasures {
    measuring: bool,
    events: u64,
    fetches: u64,
    bytes: u64,
    fetch: Histogram<u64>,
    change_to_tile: Histogram<u64>,
}

pub async fn run_consoles(plan: &ConsolePlan) -> anyhow::Result<ConsoleReport> {
    let base = plan.server.trim_end_matches('/').to_owned();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let errors: Arc<Mutex<Errors>> = Arc::default();
    let changes: Changes = Arc::default();

    // The workstations, connected and named; their ids from the API.
    let ids = poste_ids(&http, &base, &plan.token).await?;
    let mut workstations = HashMap::new();
    for space in 1..=plan.spaces {
        for n in 1..=plan.per_space {
            let name = poste_name(space, n);
            let id = *ids
                .get(&name)
                .with_context(|| format!("{name} is not on the server: run the setup first"))?;
            let (sender, orders) = mpsc::channel(4);
            tokio::spawn(workstation(
                ws_url(&base)?,
                name.clone(),
                id,
                orders,
                Arc::clone(&changes),
                Arc::clone(&errors),
            ));
            workstations.insert(name, (id, sender));
        }
    }
    // Spread over the spaces: E001-P001, E002-P001, …
    let names: Vec<String> = (1..=plan.per_space)
        .flat_map(|n| (1..=plan.spaces).map(move |space| poste_name(space, n)))
        .collect();

    // The driver: a session started on the next workstation every 1/rate s, and the one
    // started `hold` ago ended.
    let changes_made = Arc::new(Mutex::new(0_u64));
    let driver = {
        let http = http.clone();
        let base = base.clone();
        let token = plan.token.clone();
        let errors = Arc::clone(&errors);
        let changes = Arc::clone(&changes);
        let counter = Arc::clone(&changes_made);
        let gap = Duration::from_secs_f64(1.0 / plan.rate.max(0.1));
        let hold = plan.hold;
        let targets: Vec<(String, mpsc::Sender<String>)> = names
            .iter()
            .filter_map(|name| {
                workstations
                    .get(name)
                    .map(|(_, s)| (name.clone(), s.clone()))
            })
            .collect();
        tokio::spawn(async move {
            let mut running: std::collections::VecDeque<(Instant, i64, i64)> = Default::default();
            let mut next = 0;
            let mut tick = tokio::time::interval(gap);
            loop {
                tick.tick().await;
                while let Some(&(at, session, poste)) = running.front() {
                    if at.elapsed() < hold {
                        break;
                    }
                    running.pop_front();
                    lock(&changes).insert(poste, Instant::now());
                    let ended = http
                        .post(format!("{base}/api/sessions/{session}/end"))
                        .bearer_auth(&token)
                        .send()
                        .await;
                    if !ended.is_ok_and(|r| r.status().is_success()) {
                        *lock(&errors).entry("end").or_default() += 1;
                    }
                    *lock(&counter) += 1;
                }
                let (name, sender) = &targets[next % targets.len()];
                next += 1;
                let made = http
                    .post(format!("{base}/api/sessions"))
                    .bearer_auth(&token)
                    .json(&json!({"duree": "1h", "poste": name}))
                    .send()
                    .await;
                let body: Option<Value> = match made {
                    Ok(response) if response.status().is_success() => response.json().await.ok(),
                    _ => None,
                };
                let session = body.as_ref().and_then(|body| {
                    let session = &body["sessions"][0];
                    Some((
                        session["id"].as_i64()?,
                        session["code_acces"].as_str()?.to_owned(),
                    ))
                });
                let Some((session, code)) = session else {
                    *lock(&errors).entry("create").or_default() += 1;
                    continue;
                };
                *lock(&counter) += 2;
                if sender.send(code).await.is_err() {
                    *lock(&errors).entry("workstation_gone").or_default() += 1;
                    continue;
                }
                let poste = ids.get(name).copied().unwrap_or_default();
                running.push_back((Instant::now(), session, poste));
            }
        })
    };

    // Warm up, then the window without the consoles' feeds.
    tokio::time::sleep(plan.hold.min(Duration::from_secs(10))).await;
    let cpu_start = plan.server_pid.and_then(cpu_ms);
    tokio::time::sleep(plan.window).await;
    let server_cpu_without = plan
        .server_pid
        .and_then(cpu_ms)
        .zip(cpu_start)
        .map(|(end, start)| (end - start) / plan.window.as_secs_f64());

    // The consoles open their feeds; measured once every one is following.
    let mut consoles = Vec::new();
    for (login, password, every) in &plan.consoles {
        let cookie = log_in(&http, &base, login, password).await?;
        let measures = Arc::new(Mutex::new(ConsoleMeasures {
            measuring: false,
            events: 0,
            fetches: 0,
            bytes: 0,
            fetch: histogram()?,
            change_to_tile: histogram()?,
        }));
        tokio::spawn(console(
            http.clone(),
            base.clone(),
            cookie.clone(),
            Arc::clone(&measures),
            Arc::clone(&changes),
            Arc::clone(&errors),
        ));
        consoles.push((*every, cookie, measures));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (_, _, measures) in &consoles {
        lock(measures).measuring = true;
    }
    let changes_start = *lock(&changes_made);
    let cpu_start = plan.server_pid.and_then(cpu_ms);
    tokio::time::sleep(plan.window).await;
    let server_cpu_with = plan
        .server_pid
        .and_then(cpu_ms)
        .zip(cpu_start)
        .map(|(end, start)| (end - start) / plan.window.as_secs_f64());
    let made = *lock(&changes_made) - changes_start;
    for (_, _, measures) in &consoles {
        lock(measures).measuring = false;
    }
    if !plan.extra.is_zero() {
        // What scripts/bench waits for before its browsers measure; it interrupts (SIGINT)
        // once they are done, the extra time being their bound.
        eprintln!(
            "poste-consoles: the load goes on for {} s",
            plan.extra.as_secs()
        );
        tokio::select! {
            () = tokio::time::sleep(plan.extra) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    driver.abort();

    // What every change used to cost each console: the whole dashboard of every space.
    let mut whole_grid_bytes = 0;
    let mut whole_grid_ms = f64::MAX;
    if let Some((_, cookie, _)) = consoles.iter().find(|(every, _, _)| *every) {
        for _ in 0..5 {
            let started = Instant::now();
            let body = fetch(&http, &base, cookie, "/console/tuiles").await?;
            whole_grid_ms = whole_grid_ms.min(started.elapsed().as_secs_f64() * 1000.0);
            whole_grid_bytes = body.len();
        }
    }

    let secs = plan.window.as_secs_f64();
    let figures = |every: bool| -> anyhow::Result<ConsoleFigures> {
        let mut figures = ConsoleFigures::default();
        let mut fetch_all = histogram()?;
        let mut latency_all = histogram()?;
        let (mut events, mut fetches, mut bytes) = (0, 0, 0);
        for (_, _, measures) in consoles.iter().filter(|(e, _, _)| *e == every) {
            let measures = lock(measures);
            figures.consoles += 1;
            events += measures.events;
            fetches += measures.fetches;
            bytes += measures.bytes;
            fetch_all.add(&measures.fetch)?;
            latency_all.add(&measures.change_to_tile)?;
        }
        let per = (figures.consoles.max(1) as f64) * secs;
        figures.events_per_sec = events as f64 / per;
        figures.fetches_per_sec = fetches as f64 / per;
        figures.bytes_per_sec = bytes as f64 / per;
        figures.fetch_ms = summarise(&fetch_all);
        figures.change_to_tile_ms = summarise(&latency_all);
        Ok(figures)
    };
    Ok(ConsoleReport {
        every_space: figures(true)?,
        one_space: figures(false)?,
        whole_grid_bytes,
        whole_grid_ms: if whole_grid_ms == f64::MAX {
            0.0
        } else {
            whole_grid_ms
        },
        changes_per_sec: made as f64 / secs,
        server_cpu_without,
        server_cpu_with,
        errors: lock(&errors).clone(),
    })
}

/// utime + stime of a process, in ms (Linux, 100 ticks a second).
fn cpu_ms(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command's name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) * 10.0)
}

async fn poste_ids(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> anyhow::Result<HashMap<String, i64>> {
    let body: Value = http
        .get(format!("{base}/api/postes"))
        .bearer_auth(token)
        .send()
        .await
        .context("cannot reach the server's API")?
        .json()
        .await?;
    let Some(postes) = body["postes"].as_array() else {
        bail!("unexpected API answer: {body}");
    };
    Ok(postes
        .iter()
        .filter_map(|p| Some((p["nom"].as_str()?.to_owned(), p["id"].as_i64()?)))
        .collect())
}

/// One workstation: named, then taking each code it is given (validate, start), the change's
/// instant noted before the start.
async fn workstation(
    url: String,
    name: String,
    id: i64,
    mut codes: mpsc::Receiver<String>,
    changes: Changes,
    errors: Arc<Mutex<Errors>>,
) {
    let error = |kind: &'static str| *lock(&errors).entry(kind).or_default() += 1;
    let Ok((mut ws, _)) = tokio_tungstenite::connect_async(url.as_str()).await else {
        return error("connect");
    };
    let hello = json!({"type": "hello", "poste": name, "version": "poste-consoles"});
    if ws.send(Message::text(hello.to_string())).await.is_err() {
        return error("send");
    }
    let mut heartbeat = tokio::time::interval(Duration::from_secs(30));
    loop {
        tokio::select! {
            code = codes.recv() => {
                let Some(code) = code else { return };
                let validate = json!({"type": "validate_code", "code": code, "ip_address": "10.0.0.1"});
                if ws.send(Message::text(validate.to_string())).await.is_err() {
                    return error("send");
                }
                let Some(valid) = next_of(&mut ws, "code_valid").await else {
                    error("validate");
                    continue;
                };
                let start = json!({"type": "start_session", "session_id": valid["session"]["id"]});
                lock(&changes).insert(id, Instant::now());
                if ws.send(Message::text(start.to_string())).await.is_err() {
                    return error("send");
                }
                if next_of(&mut ws, "session_started").await.is_none() {
                    error("start");
                }
            }
            _ = heartbeat.tick() => {
                if ws.send(Message::text(json!({"type": "heartbeat"}).to_string())).await.is_err() {
                    return error("send");
                }
            }
            message = ws.next() => {
                if message.is_none_or(|m| m.is_err()) {
                    return error("closed");
                }
            }
        }
    }
}

/// The next message of `kind` within 10 s (others skipped).
async fn next_of(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    kind: &str,
) -> Option<Value> {
    let wait = async {
        while let Some(Ok(message)) = ws.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let value: Value = serde_json::from_str(text.as_str()).ok()?;
            if value["type"] == kind {
                return Some(value);
            }
            if value["type"] == "code_invalid" || value["type"] == "error" {
                return None;
            }
        }
        None
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .ok()
        .flatten()
}

async fn log_in(
    http: &reqwest::Client,
    base: &str,
    login: &str,
    password: &str,
) -> anyhow::Result<String> {
    let response = http
        .post(format!("{base}/console/connexion"))
        .header("origin", base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "identifiant={}&mot_de_passe={}",
            form_encode(login),
            form_encode(password)
        ))
        .send()
        .await?;
    if response.status().as_u16() != 303 {
        bail!("{login} could not log in: {}", response.status());
    }
    response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .with_context(|| format!("{login}: no session cookie"))
}

fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn fetch(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    path: &str,
) -> anyhow::Result<String> {
    let response = http
        .get(format!("{base}{path}"))
        .header("cookie", cookie)
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("{path}: {}", response.status());
    }
    Ok(response.text().await?)
}

/// What the feed asked for and the page has not fetched yet (`any`): everything, or these
/// workstations' tiles (none: the codes not used yet).
#[derive(Default)]
struct Wanted {
    everything: bool,
    postes: BTreeSet<i64>,
    any: bool,
}

/// One console: its feed read by one task, its fetches made by another, one at a time (as the
/// dashboard's script does).
async fn console(
    http: reqwest::Client,
    base: String,
    cookie: String,
    measures: Arc<Mutex<ConsoleMeasures>>,
    changes: Changes,
    errors: Arc<Mutex<Errors>>,
) {
    let wanted: Arc<Mutex<Wanted>> = Arc::default();
    let ring = Arc::new(Notify::new());
    let fetcher = {
        let wanted = Arc::clone(&wanted);
        let ring = Arc::clone(&ring);
        let measures = Arc::clone(&measures);
        let errors = Arc::clone(&errors);
        let http = http.clone();
        let base = base.clone();
        let cookie = cookie.clone();
        tokio::spawn(async move {
            // When this console last saw each workstation's change.
            let mut seen: HashMap<i64, Instant> = HashMap::new();
            loop {
                ring.notified().await;
                let asked = std::mem::take(&mut *lock(&wanted));
                if !asked.any {
                    continue;
                }
                let path = if asked.everything {
                    "/console/tuiles".to_owned()
                } else if asked.postes.is_empty() {
                    "/console/tuiles?postes=-".to_owned()
                } else {
                    let ids: Vec<String> = asked.postes.iter().map(i64::to_string).collect();
                    format!("/console/tuiles?postes={}", ids.join(","))
                };
                let started = Instant::now();
                let body = match fetch(&http, &base, &cookie, &path).await {
                    Ok(body) => body,
                    Err(_) => {
                        *lock(&errors).entry("fetch").or_default() += 1;
                        continue;
                    }
                };
                let done = Instant::now();
                let changed: Vec<(i64, Instant)> = {
                    let changes = lock(&changes);
                    tiles_in(&body)
                        .filter_map(|id| changes.get(&id).map(|at| (id, *at)))
                        .collect()
                };
                let mut measures = lock(&measures);
                if measures.measuring {
                    measures.fetches += 1;
                    measures.bytes += body.len() as u64;
                    record(&mut measures.fetch, done - started);
                }
                for (id, at) in changed {
                    let new = seen.get(&id).is_none_or(|last| *last < at);
                    if new && at < started {
                        seen.insert(id, at);
                        if measures.measuring {
                            record(&mut measures.change_to_tile, done - at);
                        }
                    }
                }
                drop(measures);
                // What came meanwhile.
                if lock(&wanted).any {
                    ring.notify_one();
                }
            }
        })
    };
    let feed = http
        .get(format!("{base}/console/flux"))
        .header("cookie", &cookie)
        .send()
        .await;
    let Ok(mut feed) = feed else {
        *lock(&errors).entry("feed").or_default() += 1;
        fetcher.abort();
        return;
    };
    let mut buffer = String::new();
    loop {
        let chunk = match feed.chunk().await {
            Ok(Some(chunk)) => chunk,
            _ => {
                *lock(&errors).entry("feed_closed").or_default() += 1;
                fetcher.abort();
                return;
            }
        };
        {
            let mut measures = lock(&measures);
            if measures.measuring {
                measures.bytes += chunk.len() as u64;
            }
        }
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            let Some(data) = event
                .lines()
                .find_map(|line| line.strip_prefix("data:").map(str::trim))
            else {
                continue;
            };
            if !event.lines().any(|line| line.trim() == "event: change") {
                continue;
            }
            {
                let mut measures = lock(&measures);
                if measures.measuring {
                    measures.events += 1;
                }
            }
            let mut wanted = lock(&wanted);
            wanted.any = true;
            match data {
                "*" => wanted.everything = true,
                "-" => {}
                ids => wanted
                    .postes
                    .extend(ids.split(',').filter_map(|id| id.parse::<i64>().ok())),
            }
            drop(wanted);
            ring.notify_one();
        }
    }
}

/// The workstation ids of the tiles in a fragment (`data-poste="N"`).
fn tiles_in(html: &str) -> impl Iterator<Item = i64> + '_ {
    html.split("data-poste=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_across_spaces_and_tiles_are_read_back() {
        assert_eq!(poste_name(7, 12), "E007-P012");
        assert_eq!(space_name(42), "Espace 042");
        let html =
            r#"<article data-poste="3" data-cle="poste-3"></article><article data-poste="17">"#;
        assert_eq!(tiles_in(html).collect::<Vec<_>>(), vec![3, 17]);
        assert_eq!(form_encode("mot de passe é"), "mot%20de%20passe%20%C3%A9");
    }
}
