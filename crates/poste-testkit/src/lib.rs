//! Test kit: a real `poste-server` on 127.0.0.1:0 with a temporary SQLite file (or the
//! PostgreSQL named by `POSTE_TEST_PG_URL`), an API client with a real token, and WebSocket
//! clients that speak the protocol over real sockets and record what they receive.

#![allow(clippy::expect_used, clippy::unwrap_used)]
// Tests measure real time: the server's clock fence (clippy.toml) is not for them.
#![allow(clippy::disallowed_methods)]

pub mod disk;
pub mod fleet;
pub mod proxy;
pub mod smtp;
pub mod terminal;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use poste_server::config::Config;
use poste_store::{Actor, Store};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A server running in this process.
#[derive(Debug)]
pub struct TestServer {
    pub addr: SocketAddr,
    /// A valid API token.
    pub token: String,
    /// A second handle on the server's database, for assertions.
    pub store: Store,
    pub config: Config,
    /// The server's hub: what is pushed to connected workstations (tests send through it what
    /// no API sends yet).
    pub hub: std::sync::Arc<poste_server::hub::Hub>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
}

/// Short thresholds so that tests see warnings and expiry within seconds.
pub fn fast_config(dir: &std::path::Path) -> Config {
    let mut config = Config {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: dir.to_path_buf(),
        ..Config::default()
    };
    config.sessions.warning_secs = 3;
    config.sessions.critical_secs = 1;
    config.limits.change_feed_interval_ms = 200;
    config
}

impl TestServer {
    /// Starts a server with [`fast_config`] on a fresh temporary SQLite file.
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// Same, after `adjust` has changed the configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = fast_config(dir.path());
        adjust(&mut config);
        Self::start_config(config, Some(dir))
            .await
            .expect("server starts")
    }

    /// Starts on `config` as is (its database is kept by the caller).
    pub async fn start_config(
        config: Config,
        dir: Option<tempfile::TempDir>,
    ) -> anyhow::Result<TestServer> {
        let listener = tokio::net::TcpListener::bind(config.bind).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let (hub_tx, hub_rx) = oneshot::channel();
        let run_config = config.clone();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = rx.await;
            };
            let ready = move |state: &poste_server::state::AppState| {
                let _ = hub_tx.send(std::sync::Arc::clone(&state.hub));
            };
            if let Err(err) =
                poste_server::app::run_observed(run_config, listener, shutdown, ready).await
            {
                eprintln!("test server stopped with an error: {err}");
            }
        });
        // Only once the server has migrated the schema: two migrators on one fresh SQLite file
        // would race.
        wait_http_ok(&format!("http://{addr}/healthz"), Duration::from_secs(20)).await?;
        let store = Store::connect(&config.database_url(), "testkit").await?;
        let token = create_token(&store).await?;
        let hub = hub_rx
            .await
            .context("the server stopped before it was ready")?;
        Ok(TestServer {
            addr,
            token,
            store,
            config,
            hub,
            shutdown: Some(tx),
            task: Some(task),
            _dir: dir,
        })
    }

    /// Starts with [`fast_config`] on the PostgreSQL database `db`.
    pub async fn start_postgres(db: &PgDatabase) -> anyhow::Result<TestServer> {
        let dir = tempfile::tempdir()?;
        let mut config = fast_config(dir.path());
        config.database = Some(db.url.clone());
        Self::start_config(config, Some(dir)).await
    }

    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// `ws://…/ws/sessions/`, the seed's endpoint.
    pub fn ws_url(&self) -> String {
        format!("ws://{}{}", self.addr, poste_proto::WS_PATH_SESSIONS)
    }

    /// A seed client on workstation `ip`: a loopback address (any 127.x.y.z) the connection
    /// really comes from, which is how the server tells workstations apart.
    pub async fn connect_as(&self, ip: &str) -> WsClient {
        WsClient::connect_from(
            self.addr,
            poste_proto::WS_PATH_SESSIONS,
            ip.parse().expect("an IP"),
        )
        .await
        .expect("connect")
    }

    pub fn api(&self) -> Api {
        Api {
            base: self.http_url("/api"),
            token: self.token.clone(),
            http: reqwest::Client::new(),
        }
    }

    /// Creates one session through the API; returns `(id, code)`.
    pub async fn create_session(&self, body: Value) -> (i64, String) {
        let created = self.api().post_ok("/sessions", body).await;
        let session = &created["sessions"][0];
        (
            session["id"].as_i64().expect("id"),
            session["code_acces"].as_str().expect("code").to_owned(),
        )
    }

    /// The id of the workstation named `nom` once the server knows it (it registers at its
    /// first connection); waits up to 10 s.
    pub async fn poste_id(&self, nom: &str) -> i64 {
        for _ in 0..200 {
            if let Some(poste) = self.store.poste_by_name(nom).await.expect("store") {
                return poste.id;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("workstation {nom} never registered");
    }

    /// A new space named `nom` (as an admin creates it on « Postes »).
    pub async fn create_space(&self, nom: &str) -> poste_store::SpaceRow {
        let space = poste_store::NewSpace {
            nom: nom.to_owned(),
            adresse: None,
        };
        self.store
            .save_space(None, &space, &Actor::Cli, 0)
            .await
            .expect("a new space")
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .is_err()
        {
            eprintln!("TESTKIT: the server did not stop within 10 s");
        }
        // Closed, not only dropped: a dropped SQLite pool closes its files later, on its worker
        // threads, and a test that unmounts the database's filesystem next found it busy.
        self.store.close().await;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Creates an API token directly in the store (as `poste-server token create` does).
pub async fn create_token(store: &Store) -> anyhow::Result<String> {
    let name = format!("test-{}", poste_server::domain::codes::generate_code(6));
    let (_, token) =
        poste_server::ops::create_token(store, &name, &Actor::Cli, poste_server::clock::now_ms())
            .await
            .map_err(|err| anyhow!("{err}"))?;
    Ok(token)
}

/// Polls `url` until it answers 200, or fails after `within`.
pub async fn wait_http_ok(url: &str, within: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    let client = reqwest::Client::new();
    loop {
        if let Ok(response) = client.get(url).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{url} did not answer within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The JSON API with a token.
#[derive(Debug, Clone)]
pub struct Api {
    pub base: String,
    pub token: String,
    pub http: reqwest::Client,
}

impl Api {
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request");
        status_and_json(response).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("request");
        status_and_json(response).await
    }

    /// POST that must succeed (2xx); returns the body.
    pub async fn post_ok(&self, path: &str, body: Value) -> Value {
        let (status, value) = self.post(path, body).await;
        assert!(
            (200..300).contains(&status),
            "POST {path}: {status} {value}"
        );
        value
    }
}

async fn status_and_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// A workstation's WebSocket connection that records every message it receives.
#[derive(Debug)]
pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Every JSON message received, with when it arrived.
    pub received: Vec<(Instant, Value)>,
    cursor: usize,
}

impl WsClient {
    pub async fn connect(url: &str) -> anyhow::Result<WsClient> {
        let (stream, _) = tokio_tungstenite::connect_async(url)
            .await
            .with_context(|| format!("connect {url}"))?;
        Ok(WsClient {
            stream,
            received: Vec::new(),
            cursor: 0,
        })
    }

    /// Connects from a chosen source address (any 127.0.0.x on Linux loopback), so that the
    /// server sees a distinct peer IP per simulated workstation, as on a real LAN.
    pub async fn connect_from(
        server: SocketAddr,
        path: &str,
        source: std::net::IpAddr,
    ) -> anyhow::Result<WsClient> {
        let socket = if source.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.bind(SocketAddr::new(source, 0))?;
        let tcp = socket
            .connect(server)
            .await
            .with_context(|| format!("connect {server} from {source}"))?;
        let url = format!("ws://{server}{path}");
        let (stream, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(tcp)).await?;
        Ok(WsClient {
            stream,
            received: Vec::new(),
            cursor: 0,
        })
    }

    pub async fn send_json(&mut self, value: Value) {
        self.send_text(&value.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::Text(text.into()))
            .await
            .expect("send");
    }

    /// Sends raw frames (binary, huge…) to test refusals.
    pub async fn send_message(&mut self, message: Message) -> anyhow::Result<()> {
        self.stream.send(message).await?;
        Ok(())
    }

    /// Reads frames until one JSON message arrives (or `within` passes).
    async fn read_one(&mut self, within: Duration) -> anyhow::Result<Option<Value>> {
        let frame = match tokio::time::timeout(within, self.stream.next()).await {
            Err(_) => return Ok(None),
            Ok(None) => bail!("connection closed"),
            Ok(Some(frame)) => frame?,
        };
        match frame {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(text.as_str())?;
                self.received.push((Instant::now(), value.clone()));
                Ok(Some(value))
            }
            Message::Close(frame) => bail!("closed by server: {frame:?}"),
            _ => Ok(Some(Value::Null)),
        }
    }

    /// The next message not yet returned, waiting up to `within`.
    pub async fn next(&mut self, within: Duration) -> anyhow::Result<Value> {
        let deadline = Instant::now() + within;
        loop {
            if self.cursor < self.received.len() {
                self.cursor += 1;
                return Ok(self.received[self.cursor - 1].1.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!("no message within {within:?}");
            }
            self.read_one(left).await?;
        }
    }

    /// The next message of type `kind` (skipping others), with its arrival instant.
    pub async fn next_of(
        &mut self,
        kind: &str,
        within: Duration,
    ) -> anyhow::Result<(Instant, Value)> {
        let deadline = Instant::now() + within;
        loop {
            while self.cursor < self.received.len() {
                let (at, value) = self.received[self.cursor].clone();
                self.cursor += 1;
                if value["type"] == kind {
                    return Ok((at, value));
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!(
                    "no `{kind}` within {within:?}; got {:?}",
                    self.received
                        .iter()
                        .map(|(_, v)| v["type"].clone())
                        .collect::<Vec<_>>()
                );
            }
            self.read_one(left).await?;
        }
    }

    /// Sends a message and returns the next reply.
    pub async fn request(&mut self, value: Value) -> Value {
        self.send_json(value).await;
        self.next(Duration::from_secs(5)).await.expect("reply")
    }

    /// Waits for the server to close the connection; returns the close code if any.
    pub async fn closed(&mut self, within: Duration) -> anyhow::Result<Option<u16>> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.stream.next()).await {
                Err(_) => bail!("still open after {within:?}"),
                Ok(None) => return Ok(None),
                Ok(Some(Err(_))) => return Ok(None),
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Ok(frame.map(|f| u16::from(f.code)));
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// The seed's flow up to a started session: `validate_code` then `start_session`.
    /// Returns the `session_started` message.
    pub async fn start_with_code(&mut self, code: &str, ip: &str) -> Value {
        let valid = self
            .request(json!({"type": "validate_code", "code": code, "ip_address": ip}))
            .await;
        assert_eq!(valid["type"], "code_valid", "{valid}");
        let id = valid["session"]["id"].clone();
        let started = self
            .request(json!({"type": "start_session", "session_id": id}))
            .await;
        assert_eq!(started["type"], "session_started", "{started}");
        started
    }
}

/// Path of a built workspace binary (`target/debug/NAME`), next to the test executable.
pub fn workspace_binary(name: &str) -> PathBuf {
    let mut path = std::env::current_exe().expect("current exe");
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    path.join(name)
}

/// `PRAGMA integrity_check` of the SQLite database at `url`: `"ok"` when it is intact.
pub async fn sqlite_integrity(url: &str) -> String {
    use sqlx::Connection;
    let mut connection = sqlx::SqliteConnection::connect(url)
        .await
        .expect("open the SQLite database");
    let rows: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
        .fetch_all(&mut connection)
        .await
        .expect("integrity_check");
    let _ = connection.close().await;
    rows.into_iter()
        .map(|(line,)| line)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A throw-away PostgreSQL database for one test, created on the server named by
/// `POSTE_TEST_PG_URL` (see `scripts/pg-test-db`) and dropped when this is dropped.
#[derive(Debug)]
pub struct PgDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl PgDatabase {
    /// `None` (after a loud line on stderr) when `POSTE_TEST_PG_URL` is unset, unless `CI` or
    /// `POSTE_REQUIRE_PG` is set: then the test fails, so CI cannot pass without PostgreSQL.
    pub async fn create(test: &str) -> Option<PgDatabase> {
        use sqlx::{Connection, Executor};
        let admin_url = match std::env::var("POSTE_TEST_PG_URL") {
            Ok(url) if !url.trim().is_empty() => url.trim().to_owned(),
            _ => {
                let required = ["CI", "POSTE_REQUIRE_PG"]
                    .iter()
                    .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()));
                assert!(
                    !required,
                    "{test}: PostgreSQL is required here but POSTE_TEST_PG_URL is not set"
                );
                use std::io::Write;
                let line = format!("{test} SKIPPED on PostgreSQL (set POSTE_TEST_PG_URL)\n");
                let _ = std::io::stderr().lock().write_all(line.as_bytes());
                return None;
            }
        };
        let name = format!(
            "poste_srv_{}_{}",
            std::process::id(),
            poste_server::domain::codes::generate_code(8).to_ascii_lowercase()
        );
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connect to POSTE_TEST_PG_URL");
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create database");
        let _ = admin.close().await;
        let base = admin_url.split('?').next().unwrap_or(&admin_url);
        let slash = base.rfind('/').expect("database URL has a path");
        let url = format!("{}/{name}", &base[..slash]);
        Some(PgDatabase {
            url,
            admin_url,
            name,
        })
    }
}

impl PgDatabase {
    /// Makes the database unreachable (new connections refused, open ones terminated), or
    /// reachable again: a dead database, as seen by the server.
    pub async fn set_reachable(&self, reachable: bool) {
        let alter = format!("ALTER DATABASE {} ALLOW_CONNECTIONS {reachable}", self.name);
        self.as_admin(&alter, !reachable).await;
    }

    /// Makes the database read-only for every connection (`default_transaction_read_only`,
    /// open connections terminated so that the server's pool reconnects under it), as a
    /// database switched to maintenance or a failed-over standby is; or writable again.
    pub async fn set_read_only(&self, read_only: bool) {
        let setting = if read_only {
            "SET default_transaction_read_only = on"
        } else {
            "RESET default_transaction_read_only"
        };
        self.as_admin(&format!("ALTER DATABASE {} {setting}", self.name), true)
            .await;
    }

    /// Runs `alter` on the admin connection, then, if `cut`, terminates the database's open
    /// connections.
    async fn as_admin(&self, alter: &str, cut: bool) {
        use sqlx::{Connection, Executor};
        let mut admin = sqlx::PgConnection::connect(&self.admin_url)
            .await
            .expect("admin connection");
        admin
            .execute(sqlx::AssertSqlSafe(alter.to_owned()))
            .await
            .expect("alter database");
        if cut {
            admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}'",
                    self.name
                )))
                .await
                .expect("terminate backends");
        }
        let _ = admin.close().await;
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Best effort, from a plain thread: Drop cannot await and may run outside a runtime.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                use sqlx::{Connection, Executor};
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = admin
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// The built `poste-server` binary, run as an admin would: its own process, a data directory,
/// short thresholds. Killed (SIGKILL) when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    child: std::process::Child,
    pub port: u16,
    pub data_dir: PathBuf,
}

/// A port free right now on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

impl ServerProcess {
    /// The binary with `--data-dir` and the test thresholds (warning 3 s, critical 1 s).
    pub fn command(data_dir: &std::path::Path) -> std::process::Command {
        let binary = workspace_binary("poste-server");
        assert!(
            binary.is_file(),
            "{} is missing: build it first (cargo build -p poste-server; scripts/test does)",
            binary.display()
        );
        let mut command = std::process::Command::new(binary);
        command
            .arg("--data-dir")
            .arg(data_dir)
            .env_remove("POSTE_SERVER_CONFIG")
            .env("POSTE_SERVER_SESSIONS__WARNING_SECS", "3")
            .env("POSTE_SERVER_SESSIONS__CRITICAL_SECS", "1")
            .env("POSTE_SERVER_LIMITS__CHANGE_FEED_INTERVAL_MS", "200");
        command
    }

    /// Starts `serve` on `port` (a free one if `None`) and waits for `/healthz`.
    pub async fn start(data_dir: &std::path::Path, port: Option<u16>) -> ServerProcess {
        Self::start_with(data_dir, port, Self::command(data_dir)).await
    }

    /// One of several instances on the PostgreSQL `database`, with short timer leases
    /// (`lease_ms`, heartbeat a third of it) so that takeovers happen within seconds.
    pub async fn start_instance(
        data_dir: &std::path::Path,
        database: &str,
        lease_ms: u64,
    ) -> ServerProcess {
        Self::start_instance_with(data_dir, database, lease_ms, &[]).await
    }

    /// [`ServerProcess::start_instance`] with more settings, as `POSTE_SERVER_…` variables
    /// (`("POWER__WAKE_ADDRESS", "127.0.0.1:9")`).
    pub async fn start_instance_with(
        data_dir: &std::path::Path,
        database: &str,
        lease_ms: u64,
        settings: &[(&str, String)],
    ) -> ServerProcess {
        let mut command = Self::command(data_dir);
        for (name, value) in settings {
            command.env(format!("POSTE_SERVER_{name}"), value);
        }
        command
            .env("POSTE_SERVER_DATABASE", database)
            .env("POSTE_SERVER_LIMITS__TIMER_LEASE_MS", lease_ms.to_string())
            .env(
                "POSTE_SERVER_LIMITS__TIMER_HEARTBEAT_MS",
                (lease_ms / 3).max(1).to_string(),
            );
        Self::start_with(data_dir, None, command).await
    }

    async fn start_with(
        data_dir: &std::path::Path,
        port: Option<u16>,
        mut command: std::process::Command,
    ) -> ServerProcess {
        let port = port.unwrap_or_else(free_port);
        let child = command
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn poste-server");
        wait_http_ok(
            &format!("http://127.0.0.1:{port}/healthz"),
            Duration::from_secs(30),
        )
        .await
        .expect("poste-server answers /healthz");
        ServerProcess {
            child,
            port,
            data_dir: data_dir.to_path_buf(),
        }
    }

    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn ws_url(&self) -> String {
        format!(
            "ws://127.0.0.1:{}{}",
            self.port,
            poste_proto::WS_PATH_SESSIONS
        )
    }

    /// A seed client on workstation `ip` (a loopback address the connection really comes from).
    pub async fn connect_as(&self, ip: &str) -> WsClient {
        let server = SocketAddr::from(([127, 0, 0, 1], self.port));
        WsClient::connect_from(
            server,
            poste_proto::WS_PATH_SESSIONS,
            ip.parse().expect("an IP"),
        )
        .await
        .expect("connect")
    }

    /// SIGKILL: no graceful shutdown, no chance to write anything.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Runs `systemd-analyze verify` (or `--user verify`) on a unit file of `deploy/systemd/`, with
/// `/usr/bin/NAME` pointed at `binary` (verify checks that `ExecStart` exists). `Ok(false)`
/// when systemd-analyze is not installed (a failure in CI, where it must be).
pub fn verify_systemd_unit(
    unit: &str,
    program: &str,
    binary: &str,
    user: bool,
) -> anyhow::Result<bool> {
    if std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        if std::env::var_os("CI").is_some() {
            bail!("systemd-analyze is required in CI");
        }
        eprintln!("SKIPPED: systemd-analyze not installed");
        return Ok(false);
    }
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/systemd")
        .join(unit);
    let text = std::fs::read_to_string(&source).with_context(|| source.display().to_string())?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join(unit);
    std::fs::write(&path, text.replace(&format!("/usr/bin/{program}"), binary))?;
    let mut command = std::process::Command::new("systemd-analyze");
    if user {
        let runtime = dir.path().join("run");
        std::fs::create_dir(&runtime)?;
        command.arg("--user").env("XDG_RUNTIME_DIR", runtime);
    }
    let output = command.arg("verify").arg(&path).output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() || !stderr.trim().is_empty() {
        bail!("systemd-analyze verify {unit}: {stderr}");
    }
    Ok(true)
}
