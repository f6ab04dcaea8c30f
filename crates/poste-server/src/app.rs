//! Assembles the server: settings derived from the configuration, the store, the hub, the
//! HTTP router; recovery at start-up; the change feed; graceful shutdown.

use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::serve::ListenerExt as _;
use jiff::tz::TimeZone;
use poste_store::{Backend, Bell, EventKind, Millis, Store, StoreError};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::config::{Config, ConfigError, ConsoleConfig, LimitsConfig};
use crate::domain::duration::parse_duration;
use crate::domain::feed::FeedCursor;
use crate::domain::opening::OpeningHours;
use crate::domain::throttle::FailureThrottle;
use crate::domain::timing::Thresholds;
use crate::hub::Hub;

/// How long an unused code stays valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeValidity {
    /// Until the next midnight in the configured time zone.
    EndOfDay,
    /// For this many seconds after creation.
    Secs(i64),
}

impl CodeValidity {
    pub fn parse(text: &str) -> Option<CodeValidity> {
        match text.trim() {
            "fin_de_journee" | "end_of_day" => Some(CodeValidity::EndOfDay),
            other => match parse_duration(other) {
                Ok(secs) if secs > 0 => Some(CodeValidity::Secs(secs)),
                _ => None,
            },
        }
    }

    pub fn valid_until(self, now: Millis, tz: &TimeZone) -> Millis {
        match self {
            CodeValidity::Secs(secs) => now.saturating_add(secs.saturating_mul(1000)),
            CodeValidity::EndOfDay => end_of_day(now, tz).unwrap_or(now + 24 * 3600 * 1000),
        }
    }
}

fn end_of_day(now: Millis, tz: &TimeZone) -> Option<Millis> {
    let zoned = jiff::Timestamp::from_millisecond(now)
        .ok()?
        .to_zoned_datetime(tz.clone());
    let midnight = zoned
        .date()
        .tomorrow()
        .ok()?
        .to_zoned_datetime(tz.clone())
        .ok()?;
    Some(midnight.timestamp().as_millisecond())
}

/// Settings in force, derived once from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub thresholds: Thresholds,
    pub code_length: usize,
    pub code_validity: CodeValidity,
    pub max_duration_secs: i64,
    pub max_batch: u32,
    pub timezone: TimeZone,
    pub limits: LimitsConfig,
    /// Workstations that are not enrolled may connect (seed clients).
    pub allow_seed_clients: bool,
    /// SHA-256 (hex) of the site's install token, if one is configured.
    pub install_token_hash: Option<String>,
    pub enrollment_code_validity_secs: i64,
    /// The space's name (console, tickets).
    pub site_name: String,
    /// When sessions may run (default: always).
    pub opening_hours: OpeningHours,
    /// Idle staff sessions of the console end after this many seconds.
    pub console_idle_secs: i64,
    pub secure_cookies: bool,
    /// Days the connection register is kept.
    pub retention_days: u32,
}

impl Settings {
    pub fn from_config(config: &Config) -> Result<Settings, ConfigError> {
        let s = &config.sessions;
        let invalid = |what: &str| ConfigError::Invalid(what.to_owned());
        Ok(Settings {
            thresholds: Thresholds::from_secs(s.warning_secs, s.critical_secs),
            code_length: s.code_length,
            code_validity: CodeValidity::parse(&s.code_validity)
                .ok_or_else(|| invalid("sessions.code_validity"))?,
            max_duration_secs: parse_duration(&s.max_duration)
                .map_err(|_| invalid("sessions.max_duration"))?,
            max_batch: s.max_batch,
            timezone: match &config.timezone {
                Some(name) => TimeZone::get(name)
                    .map_err(|err| ConfigError::Invalid(format!("timezone `{name}`: {err}")))?,
                None => TimeZone::system(),
            },
            limits: config.limits.clone(),
            allow_seed_clients: config.enrollment.allow_seed_clients,
            install_token_hash: match &config.enrollment.install_token_file {
                Some(path) => {
                    let token = std::fs::read_to_string(path).map_err(|err| {
                        ConfigError::Invalid(format!(
                            "enrollment.install_token_file {}: {err}",
                            path.display()
                        ))
                    })?;
                    let token = token.trim();
                    if token.len() < 16 {
                        return Err(invalid(
                            "enrollment.install_token_file: the token must have at least 16 characters",
                        ));
                    }
                    Some(crate::domain::codes::token_hash(token))
                }
                None => None,
            },
            enrollment_code_validity_secs: parse_duration(&config.enrollment.code_validity)
                .map_err(|_| invalid("enrollment.code_validity"))?,
            site_name: config.console.site_name.trim().to_owned(),
            opening_hours: OpeningHours::default(),
            console_idle_secs: parse_duration(&config.console.idle_timeout)
                .map_err(|_| invalid("console.idle_timeout"))?,
            secure_cookies: config.console.secure_cookies,
            retention_days: config.console.retention_days,
        })
    }
}

/// Keys of the settings staff edit from the console. Stored in the database, they override
/// the configuration file's values, on every instance.
pub mod setting_keys {
    pub const SITE_NAME: &str = "site_name";
    pub const WARNING_SECS: &str = "warning_secs";
    pub const CRITICAL_SECS: &str = "critical_secs";
    pub const CODE_LENGTH: &str = "code_length";
    pub const CODE_VALIDITY: &str = "code_validity";
    pub const OPENING_HOURS: &str = "opening_hours";
}

/// Why a stored or typed setting was refused (the French message is the caller's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("unknown setting `{0}`")]
    UnknownKey(String),
    #[error("invalid value for `{0}`")]
    Invalid(&'static str),
}

impl Settings {
    /// These settings with the console's values applied (unknown keys and invalid values are
    /// refused, naming the key).
    pub fn with_overrides(&self, values: &[(String, String)]) -> Result<Settings, SettingError> {
        use setting_keys as k;
        let mut next = self.clone();
        let (mut warning, mut critical) = (
            next.thresholds.warning_ms / 1000,
            next.thresholds.critical_ms / 1000,
        );
        for (key, value) in values {
            let value = value.trim();
            match key.as_str() {
                k::SITE_NAME if !value.is_empty() && value.chars().count() <= 100 => {
                    next.site_name = value.to_owned();
                }
                k::SITE_NAME => return Err(SettingError::Invalid(k::SITE_NAME)),
                k::WARNING_SECS => {
                    warning = value
                        .parse()
                        .map_err(|_| SettingError::Invalid(k::WARNING_SECS))?;
                }
                k::CRITICAL_SECS => {
                    critical = value
                        .parse()
                        .map_err(|_| SettingError::Invalid(k::CRITICAL_SECS))?;
                }
                k::CODE_LENGTH => {
                    next.code_length = value
                        .parse()
                        .ok()
                        .filter(|len| (4..=16).contains(len))
                        .ok_or(SettingError::Invalid(k::CODE_LENGTH))?;
                }
                k::CODE_VALIDITY => {
                    next.code_validity = CodeValidity::parse(value)
                        .ok_or(SettingError::Invalid(k::CODE_VALIDITY))?;
                }
                k::OPENING_HOURS => {
                    next.opening_hours = OpeningHours::parse(value)
                        .map_err(|_| SettingError::Invalid(k::OPENING_HOURS))?;
                }
                other => return Err(SettingError::UnknownKey(other.to_owned())),
            }
        }
        if critical < 1 || warning <= critical {
            return Err(SettingError::Invalid(k::WARNING_SECS));
        }
        next.thresholds = Thresholds::from_secs(
            u64::try_from(warning).unwrap_or(0),
            u64::try_from(critical).unwrap_or(0),
        );
        Ok(next)
    }
}

impl Settings {
    /// These settings with the values stored by the console applied; if they do not make a
    /// valid set together, one by one, an invalid stored value (a newer version's, a hand
    /// edit) being logged and left out.
    pub fn with_stored(&self, stored: Vec<(String, String)>) -> Settings {
        // Together first: some values only make sense with others (the two thresholds).
        if let Ok(all) = self.with_overrides(&stored) {
            return all;
        }
        let mut next = self.clone();
        for pair in stored {
            match next.with_overrides(std::slice::from_ref(&pair)) {
                Ok(applied) => next = applied,
                Err(err) => tracing::warn!(key = %pair.0, error = %err, "stored setting ignored"),
            }
        }
        next
    }
}

/// The settings in force, replaced as a whole when staff change them (readers keep the copy
/// they took: a request sees one consistent set).
#[derive(Debug, Clone)]
pub struct SharedSettings(Arc<std::sync::RwLock<Arc<Settings>>>);

impl SharedSettings {
    pub fn new(settings: Settings) -> Self {
        SharedSettings(Arc::new(std::sync::RwLock::new(Arc::new(settings))))
    }

    pub fn get(&self) -> Arc<Settings> {
        Arc::clone(
            &self
                .0
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    pub fn replace(&self, settings: Settings) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(settings);
    }
}

/// Shared by every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub hub: Arc<Hub>,
    /// The configuration's settings, before the console's values.
    base_settings: Arc<Settings>,
    settings: SharedSettings,
    /// Wrong access codes, per address and per workstation.
    pub code_throttle: SharedThrottle,
    /// Failed console logins, per account and per address.
    pub login_throttle: SharedThrottle,
    /// Workstations heard from, whose `last_seen` the next flush writes.
    pub last_seen: LastSeen,
}

/// How often the workstations heard from get their `last_seen` written, all in one transaction.
const LAST_SEEN_FLUSH_EVERY: Duration = Duration::from_secs(60);

/// The workstations heard from since the last flush. One commit a minute for all of them
/// rather than one per workstation: 50,000 workstations touching their row once a minute
/// each would be 830 commits a second, about all SQLite can do with every commit on the disk
/// (docs/benchmarks.md). `last_seen` is what the console shows of a workstation that is *not*
/// connected (online comes from the live connections), so a minute late costs nothing.
#[derive(Debug, Clone, Default)]
pub struct LastSeen(Arc<Mutex<HashSet<i64>>>);

impl LastSeen {
    pub fn note(&self, poste_id: i64) {
        self.lock().insert(poste_id);
    }

    fn take(&self) -> Vec<i64> {
        self.lock().drain().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes what was noted; on a database error keeps it for the next flush.
    async fn flush(&self, store: &Store) {
        let ids = self.take();
        if ids.is_empty() {
            return;
        }
        if let Err(err) = store.touch_postes(&ids, crate::clock::now_ms()).await {
            tracing::debug!(error = %err, postes = ids.len(), "could not record last_seen; kept for the next flush");
            self.lock().extend(ids);
        }
    }
}

/// Flushes `last_seen` every minute (and once more at shutdown, from `run`).
async fn flush_last_seen(last_seen: LastSeen, store: Store) {
    let mut every = tokio::time::interval(LAST_SEEN_FLUSH_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        last_seen.flush(&store).await;
    }
}

/// A failure throttle shared by the tasks of the server: per key, and optionally one budget
/// for all keys together.
#[derive(Debug, Clone)]
pub struct SharedThrottle(Arc<Mutex<Throttles>>);

#[derive(Debug)]
struct Throttles {
    per_key: FailureThrottle,
    /// One key (`GLOBAL_KEY`) counting every failure, whatever its keys.
    global: Option<FailureThrottle>,
}

const GLOBAL_KEY: &str = "*";

impl Throttles {
    /// The longest wait among `keys` and the global budget. The global budget, once spent,
    /// holds back only keys that failed within the window themselves: a guesser with many
    /// addresses gets one try per fresh address, and a workstation whose visitor types a right
    /// code is not made to wait for someone else's guesses.
    fn wait(&mut self, keys: &[String], now: Instant) -> Option<Duration> {
        let own = keys
            .iter()
            .filter_map(|key| self.per_key.blocked_for(key, now))
            .max();
        let global = self
            .global
            .as_mut()
            .and_then(|global| global.blocked_for(GLOBAL_KEY, now));
        let global = global.filter(|_| keys.iter().any(|key| self.per_key.has_failed(key, now)));
        own.max(global)
    }
}

impl SharedThrottle {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        SharedThrottle(Arc::new(Mutex::new(Throttles {
            per_key: FailureThrottle::new(max_failures, window),
            global: None,
        })))
    }

    /// Also at most `global_failures` failures within `window` from all keys together.
    pub fn with_global(max_failures: u32, global_failures: u32, window: Duration) -> Self {
        SharedThrottle(Arc::new(Mutex::new(Throttles {
            per_key: FailureThrottle::new(max_failures, window),
            global: Some(FailureThrottle::new(global_failures, window)),
        })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Throttles> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The longest wait among `keys` (and the global budget), if any is blocked.
    pub fn wait(&self, keys: &[String], now: Instant) -> Option<Duration> {
        self.lock().wait(keys, now)
    }

    /// Checks `keys` (and the global budget) and, if none is blocked, counts this attempt as a
    /// failure of each key at once, in the same critical section: checking first and recording after an await would let N
    /// parallel connections each pass the check before any failure is recorded (N tries where
    /// the limit says 5). An attempt that is not a failure is then [`Self::forgive`]n.
    pub fn try_acquire(&self, keys: &[String], now: Instant) -> Result<(), Duration> {
        let mut throttles = self.lock();
        if let Some(wait) = throttles.wait(keys, now) {
            return Err(wait);
        }
        // Tries in flight count only for the workstation's own key (one workstation racing
        // itself over many connections). An address and the global budget count failures once
        // known (see `failed`), else a burst of right codes typed at once would fill them with
        // tries still in flight: a room of workstations behind one NAT address at the start of
        // a workshop, or a load test.
        for key in keys.iter().filter(|key| counts_in_flight(key)) {
            throttles.per_key.record_failure(key, now);
        }
        Ok(())
    }

    /// Takes back an attempt counted by [`Self::try_acquire`] at `at`.
    pub fn forgive(&self, keys: &[String], at: Instant) {
        let mut throttles = self.lock();
        for key in keys.iter().filter(|key| counts_in_flight(key)) {
            throttles.per_key.forgive(key, at);
        }
    }

    /// An attempt let through by [`Self::try_acquire`] was a failure: count it for the keys
    /// that do not count tries in flight, and globally.
    pub fn failed(&self, keys: &[String], now: Instant) {
        let mut throttles = self.lock();
        for key in keys.iter().filter(|key| !counts_in_flight(key)) {
            throttles.per_key.record_failure(key, now);
        }
        if let Some(global) = throttles.global.as_mut() {
            global.record_failure(GLOBAL_KEY, now);
        }
    }

    pub fn record_failure(&self, keys: &[String], now: Instant) {
        let mut throttles = self.lock();
        for key in keys {
            throttles.per_key.record_failure(key, now);
        }
        if let Some(global) = throttles.global.as_mut() {
            global.record_failure(GLOBAL_KEY, now);
        }
    }
}

impl AppState {
    pub fn new(store: Store, settings: Settings, console: &ConsoleConfig) -> AppState {
        let base_settings = Arc::new(settings.clone());
        let settings = SharedSettings::new(settings);
        let hub = Hub::new(store.clone(), settings.clone());
        let limits = settings.get().limits.clone();
        AppState {
            store,
            hub,
            base_settings,
            settings,
            code_throttle: SharedThrottle::with_global(
                limits.code_failures,
                limits.code_failures_global,
                Duration::from_secs(limits.code_failure_window_secs),
            ),
            login_throttle: SharedThrottle::new(
                console.login_failures,
                Duration::from_secs(console.login_failure_window_secs),
            ),
            last_seen: LastSeen::default(),
        }
    }

    /// The settings in force now.
    pub fn settings(&self) -> Arc<Settings> {
        self.settings.get()
    }

    pub fn retention_days(&self) -> u32 {
        self.base_settings.retention_days
    }

    /// Reads the console's settings from the database and puts them in force. Invalid stored
    /// values (a newer version's, a hand edit) are logged and left out.
    pub async fn reload_settings(&self) -> Result<(), StoreError> {
        let stored = self.store.settings().await?;
        self.settings
            .replace(self.base_settings.with_stored(stored));
        self.hub.changed();
        Ok(())
    }
}

/// Errors that stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot open the database {url}: {source}")]
    Database {
        url: String,
        #[source]
        source: StoreError,
    },
    #[error("cannot recover the running sessions: {0}")]
    Recovery(#[source] StoreError),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// Tells systemd (`Type=notify`) that the server is ready: database open, sessions recovered,
/// socket bound. A no-op outside systemd.
fn notify_ready() {
    #[cfg(unix)]
    if let Err(err) = sd_notify::notify(&[sd_notify::NotifyState::Ready]) {
        tracing::warn!(error = %err, "could not notify systemd");
    }
}

/// A random id for this process, written into the events it causes.
pub fn instance_id(kind: &str) -> String {
    format!(
        "{kind}-{}",
        crate::domain::codes::generate_code(8).to_ascii_lowercase()
    )
}

/// Opens the store named by the configuration.
pub async fn open_store(config: &Config, origin: &str) -> Result<Store, ServeError> {
    let url = config.database_url();
    Store::connect(&url, origin)
        .await
        .map_err(|source| ServeError::Database {
            url: redact_url(&url),
            source,
        })
}

/// A database URL without its password, for logs and errors.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Runs the server on `listener` until `shutdown` completes.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let settings = Settings::from_config(&config)?;
    let origin = instance_id("srv");
    let store = open_store(&config, &origin).await?;
    tracing::info!(database = %redact_url(&config.database_url()), backend = ?store.backend(), instance = %origin, "database ready");
    let state = AppState::new(store.clone(), settings, &config.console);
    state
        .reload_settings()
        .await
        .map_err(ServeError::Recovery)?;

    // Events written before this point are already reflected in what recovery reads.
    let feed_from = store.last_event_id().await.map_err(ServeError::Recovery)?;
    let report = state.hub.recover().await.map_err(ServeError::Recovery)?;
    tracing::info!(
        resumed = report.resumed,
        expired_while_down = report.expired,
        "sessions recovered"
    );

    // On PostgreSQL, other instances ring at every commit: the feed reads the log at once
    // instead of at its next poll (which stays as the catch-up path).
    let doorbell = Arc::new(Notify::new());
    let listener_task = (store.backend() == Backend::Postgres)
        .then(|| tokio::spawn(listen_for_changes(store.clone(), Arc::clone(&doorbell))));
    let heartbeat = (store.backend() == Backend::Postgres)
        .then(|| tokio::spawn(renew_timer_leases(state.clone())));
    let feed = tokio::spawn(follow_changes(
        state.clone(),
        feed_from,
        Duration::from_millis(state.settings().limits.change_feed_interval_ms),
        doorbell,
    ));

    let last_seen = tokio::spawn(flush_last_seen(
        state.last_seen.clone(),
        state.store.clone(),
    ));
    let purge = tokio::spawn(purge_old_records(
        state.store.clone(),
        state.retention_days(),
    ));

    // Before anything is served: a certificate that does not load stops the start-up.
    let tls = match config.tls.files() {
        Some((cert, key)) => {
            let resolver = crate::tls::CertResolver::load(cert, key)?;
            tracing::info!(cert = %cert.display(), sha256 = %resolver.fingerprint(), "TLS certificate loaded");
            Some(resolver)
        }
        None => {
            let addr = listener.local_addr()?;
            if exposed_in_clear(addr) {
                tracing::warn!(
                    %addr,
                    "serving plain HTTP beyond this machine: access codes and workstation secrets cross the network in clear; set [tls] cert and key (docs/deployment/tls.md) unless a TLS proxy is in front"
                );
            }
            None
        }
    };
    #[cfg(unix)]
    let reload = match &tls {
        // Installed now so that a SIGHUP once we are ready reloads instead of killing us.
        Some(resolver) => {
            let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
            Some(tokio::spawn(crate::tls::reload_on_hangup(
                Arc::clone(resolver),
                hangup,
            )))
        }
        None => None,
    };

    // One shutdown signal, seen by both listeners.
    let (stopping, stop) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stopping.send(true);
    });
    let stopped = |mut stop: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stop.wait_for(|stopping| *stopping).await;
    };

    let metrics_server = match config.metrics.listen {
        Some(addr) => {
            let metrics_listener = TcpListener::bind(addr)
                .await
                .map_err(|source| ServeError::Bind { addr, source })?;
            tracing::info!(addr = %metrics_listener.local_addr()?, "metrics listening");
            let serve = axum::serve(metrics_listener, crate::http::metrics_router(state.clone()))
                .with_graceful_shutdown(stopped(stop.clone()));
            Some(tokio::spawn(async move { serve.await }))
        }
        None => None,
    };

    let router = crate::http::router_with(state.clone(), config.metrics.on_main_listener());
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let addr = listener.local_addr()?;
    let result = match tls {
        None => {
            tracing::info!(%addr, "poste-server listening");
            notify_ready();
            axum::serve(listener.tap_io(crate::tls::no_delay), service)
                .with_graceful_shutdown(stopped(stop.clone()))
                .await
        }
        Some(resolver) => {
            let listener = crate::tls::TlsListener::new(listener, resolver.server_config()?)?
                // `tap_io` only so that axum's `ConnectInfo<SocketAddr>` applies to our
                // listener (axum implements it for tapped listeners of any kind).
                .tap_io(|_| ());
            tracing::info!(%addr, "poste-server listening (TLS)");
            notify_ready();
            axum::serve(listener, service)
                .with_graceful_shutdown(stopped(stop.clone()))
                .await
        }
    };
    #[cfg(unix)]
    if let Some(reload) = reload {
        reload.abort();
    }
    if let Some(metrics_server) = metrics_server {
        // The main listener may have failed rather than been stopped: stop this one too.
        metrics_server.abort();
        let _ = metrics_server.await;
    }
    feed.abort();
    purge.abort();
    last_seen.abort();
    state.last_seen.flush(&store).await;
    for task in [listener_task, heartbeat].into_iter().flatten() {
        task.abort();
    }
    state.hub.shutdown();
    if store.backend() == Backend::Postgres
        && let Err(err) = store.release_timers().await
    {
        tracing::warn!(error = %err, "could not release the timer leases; others take them over when they lapse");
    }
    store.close().await;
    tracing::info!("poste-server stopped");
    Ok(result?)
}

/// Raises this process's soft limit on open files to its hard limit: every workstation holds a
/// socket, and the usual soft limit (1024) would refuse connections long before the hard one.
/// The hard limit itself is the service manager's (`LimitNOFILE=` under systemd).
pub fn raise_open_file_limit() {
    #[cfg(unix)]
    {
        use rlimit::Resource;
        let before = match Resource::NOFILE.get() {
            Ok(limits) => limits,
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the open-file limit");
                return;
            }
        };
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(soft) => tracing::info!(
                from = before.0,
                soft,
                hard = before.1,
                "open-file limit raised to the hard limit"
            ),
            Err(err) => tracing::warn!(
                error = %err,
                soft = before.0,
                hard = before.1,
                "cannot raise the open-file limit"
            ),
        }
    }
}

/// How often the connection register is purged of what is older than the retention period.
const PURGE_EVERY: Duration = Duration::from_secs(6 * 3600);

/// Deletes, at start-up then every few hours, the sessions and events older than
/// `retention_days` (the connection register is kept for one year by default, CPCE L34-1).
async fn purge_old_records(store: Store, retention_days: u32) {
    let retention_ms = i64::from(retention_days) * 24 * 3600 * 1000;
    loop {
        let now = crate::clock::now_ms();
        match store.purge_before(now - retention_ms, now).await {
            Ok(report) if report.sessions > 0 || report.events > 0 => tracing::info!(
                sessions = report.sessions,
                events = report.events,
                retention_days,
                "connection register purged"
            ),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "could not purge the connection register"),
        }
        tokio::time::sleep(PURGE_EVERY).await;
    }
}

/// How long the change feed waits for an event id that is missing below newer ones.
const FEED_GAP_WAIT: Duration = Duration::from_secs(10);

/// Longest wait before the doorbell's listener tries to reconnect to a database that is down.
const LISTEN_RETRY_MAX: Duration = Duration::from_secs(5);

/// PostgreSQL: listens for the other instances' commits (LISTEN/NOTIFY) and rings the change
/// feed. A lost connection is reopened (sqlx listens again on reconnect); notifications sent
/// meanwhile are lost, so every loss and every reconnect rings too and the feed catches up from
/// the event log.
async fn listen_for_changes(store: Store, doorbell: Arc<Notify>) {
    let mut backoff = Duration::from_millis(100);
    let mut listener = loop {
        match store.listen_events().await {
            Ok(Some(listener)) => break listener,
            Ok(None) => return,
            Err(err) => {
                tracing::warn!(error = %err, retry_in = ?backoff, "cannot listen for other instances' changes");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(LISTEN_RETRY_MAX);
            }
        }
    };
    doorbell.notify_one();
    backoff = Duration::from_millis(100);
    let mut lost = false;
    loop {
        match listener.next().await {
            Ok(Bell::Rung) => {
                if lost {
                    tracing::info!("listening for other instances' changes again");
                    lost = false;
                }
                backoff = Duration::from_millis(100);
                doorbell.notify_one();
            }
            Ok(Bell::Lost) => {
                tracing::warn!("lost the notification connection; reconnecting");
                lost = true;
                doorbell.notify_one();
            }
            Err(err) => {
                if !lost {
                    tracing::warn!(error = %err, "cannot listen for other instances' changes");
                    lost = true;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(LISTEN_RETRY_MAX);
                // Reconnected or not, what was missed is in the event log.
                doorbell.notify_one();
            }
        }
    }
}

/// PostgreSQL: keeps this instance's timer leases alive, so that no other instance takes its
/// sessions over while it runs.
async fn renew_timer_leases(state: AppState) {
    let mut failing = false;
    loop {
        let limits = state.settings().limits.clone();
        let lease = i64::try_from(limits.timer_lease_ms).unwrap_or(10_000);
        match state
            .store
            .renew_timers(crate::clock::now_ms() + lease)
            .await
        {
            Ok(owned) => {
                if failing {
                    tracing::info!(owned, "timer leases renewed again");
                    failing = false;
                }
                state.hub.set_timers_owned(owned);
            }
            Err(err) => {
                if !failing {
                    tracing::warn!(error = %err, "cannot renew the timer leases; other instances may take them over");
                    failing = true;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(limits.timer_heartbeat_ms)).await;
    }
}

/// Follows the event log for changes this process did not make (the command line, another
/// instance) and applies them to the live sessions: every `every`, or at once when the
/// doorbell rings.
async fn follow_changes(state: AppState, after: i64, every: Duration, doorbell: Arc<Notify>) {
    let hub = Arc::clone(&state.hub);
    let mut cursor = FeedCursor::new(after, FEED_GAP_WAIT);
    let mut failing = false;
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = doorbell.notified() => {}
        }
        let events = match hub.store().events_after(cursor.read_after(), 500).await {
            Ok(events) => {
                if failing {
                    tracing::info!("change feed back");
                    failing = false;
                }
                events
            }
            Err(err) => {
                if !failing {
                    tracing::warn!(error = %err, "change feed cannot read the event log");
                    failing = true;
                }
                continue;
            }
        };
        for event in events {
            if !cursor.accept(event.id) {
                continue;
            }
            let relevant = matches!(
                event.kind,
                EventKind::SessionStarted
                    | EventKind::TimeAdded
                    | EventKind::SessionEnded
                    | EventKind::CodeCancelled
                    | EventKind::WarningSent
            );
            if event.origin == hub.store().origin() {
                continue;
            }
            // Whatever another process changed may show on the console's dashboard.
            hub.changed();
            if event.kind == EventKind::SettingsChanged
                && let Err(err) = state.reload_settings().await
            {
                tracing::warn!(error = %err, "could not reload the settings changed elsewhere");
            }
            if event.kind == EventKind::TimeRequestAnswered
                && let Some(session) = event.session_id
                && let Err(err) =
                    crate::requests::announce_answer_from_elsewhere(&hub, session).await
            {
                tracing::warn!(session, error = %err, "could not pass on an answer given elsewhere");
            }
            if event.kind == EventKind::MessageSent {
                relay_message(&state, &event).await;
                continue;
            }
            if !relevant {
                continue;
            }
            if let Some(session) = event.session_id
                && let Err(err) = hub.reload(session).await
            {
                tracing::warn!(session, error = %err, "could not apply an outside change");
            }
        }
        cursor.advance(Instant::now());
    }
}

/// A staff message sent through another instance reaches this instance's connections of that
/// workstation (the sender already delivered to its own). Signed as the sender does: the staff
/// member's name, else the actor (`api:…`).
async fn relay_message(state: &AppState, event: &poste_store::EventRow) {
    let (Some(poste_id), Some(message)) = (event.poste_id, event.detail.clone()) else {
        return;
    };
    if !state.hub.online_postes().contains(&poste_id) {
        return;
    }
    let mut de = event.actor.clone();
    if let Some(login) = event.actor.strip_prefix("animateur:")
        && let Ok(Some(account)) = state.store.staff_credentials(login).await
    {
        de = account.staff.nom;
    }
    let push = poste_proto::ServerMessage::Message(poste_proto::StaffMessage {
        message,
        de: Some(de),
        session_id: None,
    });
    let delivered = state.hub.send_to_poste(poste_id, &push);
    tracing::info!(
        poste = poste_id,
        delivered,
        "staff message from another instance relayed"
    );
}

/// Plain HTTP on an address other machines can reach: codes and secrets would cross the LAN in
/// clear, unless a TLS proxy the server cannot see is in front (so a warning, not a refusal).
fn exposed_in_clear(addr: SocketAddr) -> bool {
    !addr.ip().is_loopback()
}

/// Throttle keys that count a try as soon as it is checked: a workstation's own (`poste:…`,
/// `poste-ip:…`) and an address's enrollment tries (`enroll:…`), never a shared address's
/// access codes (`ip:…`).
fn counts_in_flight(key: &str) -> bool {
    key.starts_with("poste") || key.starts_with("enroll:")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn plain_http_is_warned_about_beyond_loopback_only() {
        assert!(!exposed_in_clear("127.0.0.1:8001".parse().unwrap()));
        assert!(!exposed_in_clear("[::1]:8001".parse().unwrap()));
        assert!(exposed_in_clear("0.0.0.0:8001".parse().unwrap()));
        assert!(exposed_in_clear("192.168.1.10:8001".parse().unwrap()));
        assert!(exposed_in_clear("[::]:8001".parse().unwrap()));
    }
    use super::*;

    #[test]
    fn code_validity_end_of_day_is_next_local_midnight() {
        let tz = TimeZone::get("Indian/Reunion").unwrap(); // UTC+4, no DST
        // 2026-11-24 10:00 UTC = 14:00 in La Réunion → valid until 2026-11-25 00:00 local = 20:00 UTC.
        let now = jiff::Timestamp::from_second(1_795_514_400)
            .unwrap()
            .as_millisecond();
        let until = CodeValidity::EndOfDay.valid_until(now, &tz);
        let expected: jiff::Timestamp = "2026-11-24T20:00:00Z".parse().unwrap();
        assert_eq!(until, expected.as_millisecond());
        assert_eq!(CodeValidity::parse("4h"), Some(CodeValidity::Secs(14_400)));
        assert_eq!(CodeValidity::parse("demain"), None);
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://poste:secret@db:5432/poste"),
            "postgres://poste:***@db:5432/poste"
        );
        assert_eq!(redact_url("sqlite:data/x.sqlite"), "sqlite:data/x.sqlite");
    }
}
