//! Server configuration: compiled defaults (the seed's values) → TOML file → environment
//! (`POSTE_SERVER_*`, nested keys with `__`) → command-line flags, the last one winning.
//! An unknown key anywhere is an error that names it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Prefix of environment variables.
pub const ENV_PREFIX: &str = "POSTE_SERVER_";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address and port to listen on.
    pub bind: SocketAddr,
    /// Database URL: `sqlite:PATH` or `postgres://…`. Default: `sqlite:<data_dir>/poste-server.sqlite`.
    pub database: Option<String>,
    /// Where the default SQLite file lives. Default: `$STATE_DIRECTORY` under systemd, else `./data`.
    pub data_dir: PathBuf,
    /// IANA time zone for "end of day" code validity (default: the system's).
    pub timezone: Option<String>,
    /// Verbose logs (like the seed's `--debug`).
    pub debug: bool,
    /// `text` or `json` logs.
    pub log_format: LogFormat,
    pub sessions: SessionsConfig,
    pub limits: LimitsConfig,
    pub enrollment: EnrollmentConfig,
    pub console: ConsoleConfig,
    pub tls: TlsConfig,
    pub metrics: MetricsConfig,
    pub mail: MailConfig,
    pub power: PowerConfig,
}

/// Powering workstations on and off from the console.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PowerConfig {
    /// Where Wake-on-LAN packets go: the workstations' broadcast address and port (UDP 9, the
    /// "discard" port, by default). A server on another network than the workstations needs
    /// that network's directed broadcast (`192.168.10.255:9`), routed by its router.
    pub wake_address: SocketAddr,
    /// Also ask an awake workstation of the same space to send the packets on its own network
    /// (protocol 4): what wakes workstations when the server is not on their network.
    pub wake_relay: bool,
    /// How long the gate says « Ce poste va s'éteindre » before a workstation without a
    /// session goes down (seconds).
    pub notice_secs: u64,
    /// When staff power off a workstation *now*, its running session ends this many seconds
    /// later (the visitor is warned and can save their work).
    pub cut_secs: u64,
    /// How often the server looks whether the scheduled wake-up or power-off (« Réglages ») is
    /// due, in seconds.
    pub schedule_check_secs: u64,
}

impl Default for PowerConfig {
    fn default() -> Self {
        PowerConfig {
            wake_address: SocketAddr::from(([255, 255, 255, 255], 9)),
            wake_relay: true,
            notice_secs: 30,
            cut_secs: 120,
            schedule_check_secs: 30,
        }
    }
}

/// The SMTP server the monthly report is sent through (the recipients are set in the
/// console's « Réglages »). Without `host`, no report is mailed.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// The SMTP server's name (also the name its certificate must bear).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// 587 (submission) by default.
    pub port: u16,
    /// Require STARTTLS (the default): a server that does not offer it gets no mail. `false`
    /// sends in clear, for a relay on the same machine only.
    pub starttls: bool,
    /// PEM certificate(s) of the CA that signed the SMTP server's certificate: when set, the
    /// only ones trusted (else the system's roots).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_ca_file: Option<PathBuf>,
    /// Login on the SMTP server, if it asks for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Its password (prefer `password_file`); never printed by `poste-server config`.
    #[serde(skip_serializing)]
    pub password: Option<String>,
    /// A file holding the password (e.g. systemd's `LoadCredential=`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// The sender, `EPN <epn@mairie.example>`; required with `host`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Longest wait for the SMTP server, in seconds.
    pub timeout_secs: u64,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            host: None,
            port: 587,
            starttls: true,
            tls_ca_file: None,
            username: None,
            password: None,
            password_file: None,
            from: None,
            timeout_secs: 30,
        }
    }
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("starttls", &self.starttls)
            .field("tls_ca_file", &self.tls_ca_file)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("password_file", &self.password_file)
            .field("from", &self.from)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

/// TLS on the main listener. Both files or neither: without them the server speaks plain
/// HTTP (the default, e.g. behind a reverse proxy).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM certificate chain, leaf first (e.g. Let's Encrypt's `fullchain.pem`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
}

impl TlsConfig {
    /// The pair, when TLS is on.
    pub fn files(&self) -> Option<(&Path, &Path)> {
        Some((self.cert.as_deref()?, self.key.as_deref()?))
    }
}

/// Where `/metrics` is served.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// A second, plain-HTTP listener for `/metrics`, `/healthz` and `/readyz` (e.g.
    /// `127.0.0.1:9100`), so that Prometheus need not reach the workstations' port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// Also serve `/metrics` on the main listener. Default: yes without `listen`, no with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_main_listener: Option<bool>,
}

impl MetricsConfig {
    pub fn on_main_listener(&self) -> bool {
        self.on_main_listener.unwrap_or(self.listen.is_none())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// The space's name, shown on the console, on tickets and on workstations.
    pub site_name: String,
    /// A staff member idle for this long (a duration such as `1h`) must log in again.
    pub idle_timeout: String,
    /// Send the login cookie with `Secure` (and the `__Host-` prefix). Turn on when the
    /// console is reached over HTTPS; browsers drop such cookies over plain HTTP.
    pub secure_cookies: bool,
    /// Failed logins of one account from one address before that pair must wait (5 s, then
    /// doubled at each further failure).
    pub login_failures: u32,
    /// The longest wait of a pair, and how long a pair is remembered after its wait ends.
    pub login_failure_window_secs: u64,
    /// Days the connection register (sessions, events) is kept before it is purged. French
    /// law (CPCE L34-1) asks for one year.
    pub retention_days: u32,
    /// A dashboard showing more workstations than this shows their tiles without their
    /// buttons, each tile leading to its workstation's page: a browser takes seconds to lay
    /// out thousands of forms (docs/benchmarks.md).
    pub full_tiles_max: u32,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            site_name: "Espace Public Numérique".to_owned(),
            idle_timeout: "1h".to_owned(),
            secure_cookies: false,
            login_failures: 5,
            login_failure_window_secs: 300,
            retention_days: 365,
            full_tiles_max: 200,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnrollmentConfig {
    /// Accept workstations that are not enrolled (seed clients, known by name or IP address).
    /// Set to false on sites that want enrolled workstations only.
    pub allow_seed_clients: bool,
    /// A file holding the site's install token, which unattended installs present instead of
    /// a one-time code (requests still wait for staff approval).
    pub install_token_file: Option<PathBuf>,
    /// How long a one-time enrollment code stays valid (a duration such as `24h`).
    pub code_validity: String,
}

impl Default for EnrollmentConfig {
    fn default() -> Self {
        EnrollmentConfig {
            allow_seed_clients: true,
            install_token_file: None,
            code_validity: "24h".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionsConfig {
    /// First warning, seconds before the end (the seed's WARNING_TIME).
    pub warning_secs: u64,
    /// Second warning, seconds before the end (the seed's CRITICAL_TIME).
    pub critical_secs: u64,
    /// Length of generated codes.
    pub code_length: usize,
    /// How long an unused code stays valid: `fin_de_journee` (midnight, local time) or a
    /// duration such as `4h`.
    pub code_validity: String,
    /// Longest session that can be created (a duration such as `12h`).
    pub max_duration: String,
    /// Most sessions created by one request.
    pub max_batch: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Wrong codes tolerated per workstation and per IP address within `code_failure_window_secs`.
    pub code_failures: u32,
    pub code_failure_window_secs: u64,
    /// Wrong codes tolerated from all addresses together within the same window: the per-key
    /// limits alone let a guesser with many addresses (a /24, IPv6) guess in proportion.
    pub code_failures_global: u32,
    /// Largest WebSocket message accepted, in bytes; a larger one closes the connection.
    pub max_message_bytes: usize,
    /// Messages per second a connection may send on average…
    pub messages_per_sec: u32,
    /// …and in a burst.
    pub message_burst: u32,
    /// A connection that sends nothing (not even a heartbeat or a pong) for this long is closed.
    pub idle_timeout_secs: u64,
    /// The server pings every connection this often.
    pub ping_interval_secs: u64,
    /// How often changes made by other processes (the command line, other instances) are
    /// picked up from the event log, in milliseconds.
    pub change_feed_interval_ms: u64,
    /// PostgreSQL, several instances: how long an instance holds a session's timers without
    /// renewing, in milliseconds. An instance that dies has its timers taken over within this.
    pub timer_lease_ms: u64,
    /// How often an instance renews its timer leases, in milliseconds (well below the lease).
    pub timer_heartbeat_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([0, 0, 0, 0], 8001)),
            database: None,
            data_dir: std::env::var_os("STATE_DIRECTORY")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("data")),
            timezone: None,
            debug: false,
            log_format: LogFormat::Text,
            sessions: SessionsConfig::default(),
            limits: LimitsConfig::default(),
            enrollment: EnrollmentConfig::default(),
            console: ConsoleConfig::default(),
            tls: TlsConfig::default(),
            metrics: MetricsConfig::default(),
            mail: MailConfig::default(),
            power: PowerConfig::default(),
        }
    }
}

impl Default for SessionsConfig {
    fn default() -> Self {
        SessionsConfig {
            warning_secs: 300,
            critical_secs: 60,
            code_length: 6,
            code_validity: "fin_de_journee".to_owned(),
            max_duration: "12h".to_owned(),
            max_batch: 200,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            code_failures: 5,
            code_failure_window_secs: 60,
            code_failures_global: 60,
            max_message_bytes: 16 * 1024,
            messages_per_sec: 10,
            message_burst: 40,
            idle_timeout_secs: 90,
            ping_interval_secs: 30,
            change_feed_interval_ms: 1000,
            timer_lease_ms: 10_000,
            timer_heartbeat_ms: 3000,
        }
    }
}

/// Command-line values that override the rest (only those given).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub debug: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} not found")]
    FileNotFound(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl From<figment::Error> for ConfigError {
    fn from(err: figment::Error) -> Self {
        // figment's message names the key and where it came from (file or variable).
        ConfigError::Invalid(err.to_string())
    }
}

/// Environment variables of the agent (`poste-client`) that share our prefix and must not be
/// mistaken for unknown server keys when both run on one machine.
const AGENT_ENV_KEYS: &[&str] = &["URL"];

impl Config {
    /// Loads the layers. `file` is optional; when given it must exist.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        Self::load_from(file, Env::prefixed(ENV_PREFIX), overrides)
    }

    fn load_from(
        file: Option<&Path>,
        env: Env,
        overrides: &Overrides,
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::FileNotFound(path.to_owned()));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let env = env
            .filter(|key| {
                !AGENT_ENV_KEYS
                    .iter()
                    .any(|agent| key.as_str().eq_ignore_ascii_case(agent))
            })
            .split("__");
        let config: Config = figment
            .merge(env)
            .merge(Serialized::defaults(overrides))
            .extract()?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.sessions;
        if s.critical_secs == 0 || s.warning_secs <= s.critical_secs {
            return Err(ConfigError::Invalid(format!(
                "sessions.warning_secs ({}) must be greater than sessions.critical_secs ({}), which must be at least 1",
                s.warning_secs, s.critical_secs
            )));
        }
        if !(4..=16).contains(&s.code_length) {
            return Err(ConfigError::Invalid(format!(
                "sessions.code_length must be between 4 and 16, not {}",
                s.code_length
            )));
        }
        crate::domain::validity::CodeValidity::parse(&s.code_validity).ok_or_else(|| {
            ConfigError::Invalid(format!(
                "sessions.code_validity `{}`: expected `fin_de_journee` or a duration such as `4h`",
                s.code_validity
            ))
        })?;
        crate::domain::duration::parse_duration(&s.max_duration).map_err(|err| {
            ConfigError::Invalid(format!("sessions.max_duration `{}`: {err}", s.max_duration))
        })?;
        if s.max_batch == 0 {
            return Err(ConfigError::Invalid(
                "sessions.max_batch must be at least 1".into(),
            ));
        }
        let l = &self.limits;
        if l.max_message_bytes < 256 || l.messages_per_sec == 0 || l.message_burst == 0 {
            return Err(ConfigError::Invalid(
                "limits.max_message_bytes must be at least 256, limits.messages_per_sec and limits.message_burst at least 1".into(),
            ));
        }
        if l.code_failures == 0
            || l.code_failures_global == 0
            || l.idle_timeout_secs == 0
            || l.ping_interval_secs == 0
            || l.change_feed_interval_ms == 0
        {
            return Err(ConfigError::Invalid(
                "limits.code_failures, code_failures_global, idle_timeout_secs, ping_interval_secs and change_feed_interval_ms must be at least 1".into(),
            ));
        }
        if l.timer_heartbeat_ms == 0 || l.timer_heartbeat_ms.saturating_mul(2) > l.timer_lease_ms {
            return Err(ConfigError::Invalid(
                "limits.timer_heartbeat_ms must be at least 1 and at most half of limits.timer_lease_ms".into(),
            ));
        }
        crate::domain::duration::parse_duration(&self.enrollment.code_validity).map_err(|err| {
            ConfigError::Invalid(format!(
                "enrollment.code_validity `{}`: {err}",
                self.enrollment.code_validity
            ))
        })?;
        let c = &self.console;
        crate::domain::duration::parse_duration(&c.idle_timeout).map_err(|err| {
            ConfigError::Invalid(format!("console.idle_timeout `{}`: {err}", c.idle_timeout))
        })?;
        if c.site_name.trim().is_empty()
            || c.login_failures == 0
            || c.login_failure_window_secs == 0
        {
            return Err(ConfigError::Invalid(
                "console.site_name must not be empty, console.login_failures, login_failure_window_secs and retention_days must be at least 1".into(),
            ));
        }
        if self.tls.cert.is_some() != self.tls.key.is_some() {
            return Err(ConfigError::Invalid(
                "tls.cert and tls.key go together: set both (TLS) or neither (plain HTTP)".into(),
            ));
        }
        if self.metrics.listen == Some(self.bind) {
            return Err(ConfigError::Invalid(format!(
                "metrics.listen ({}) must differ from bind",
                self.bind
            )));
        }
        let m = &self.mail;
        if m.host.is_some() && m.from.is_none() {
            return Err(ConfigError::Invalid(
                "mail.from (the sender's address) is required with mail.host".into(),
            ));
        }
        if m.password.is_some() && m.password_file.is_some() {
            return Err(ConfigError::Invalid(
                "mail.password and mail.password_file: set one of them".into(),
            ));
        }
        if (m.password.is_some() || m.password_file.is_some()) && m.username.is_none() {
            return Err(ConfigError::Invalid(
                "mail.password needs mail.username".into(),
            ));
        }
        let p = &self.power;
        if p.notice_secs > poste_proto::PowerOrder::MAX_DELAY_SECS.unsigned_abs()
            || p.cut_secs == 0
            || p.cut_secs > 3600
            || p.schedule_check_secs == 0
            || p.schedule_check_secs > 600
        {
            return Err(ConfigError::Invalid(format!(
                "power.notice_secs must be at most {}, power.cut_secs between 1 and 3600 and power.schedule_check_secs between 1 and 600",
                poste_proto::PowerOrder::MAX_DELAY_SECS
            )));
        }
        if p.wake_address.port() == 0 {
            return Err(ConfigError::Invalid(
                "power.wake_address needs a port (9, usually)".into(),
            ));
        }
        if let Some(tz) = &self.timezone {
            jiff::tz::TimeZone::get(tz)
                .map_err(|err| ConfigError::Invalid(format!("timezone `{tz}`: {err}")))?;
        }
        Ok(())
    }

    /// The database URL in force (the default SQLite file when none is configured).
    pub fn database_url(&self) -> String {
        match &self.database {
            Some(url) => url.clone(),
            None => format!(
                "sqlite:{}?mode=rwc",
                self.data_dir.join("poste-server.sqlite").display()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    // figment's `Jail` closures return its large error type; that is its API, not ours.
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]
    use super::*;

    fn no_env() -> Env {
        Env::prefixed("POSTE_SERVER_TEST_NEVER_SET_")
    }

    #[test]
    fn defaults_are_the_seeds() {
        let config = Config::load_from(None, no_env(), &Overrides::default()).unwrap();
        assert_eq!(config.bind.port(), 8001);
        assert_eq!(config.sessions.warning_secs, 300);
        assert_eq!(config.sessions.critical_secs, 60);
        assert_eq!(config.sessions.code_length, 6);
        assert!(config.database_url().starts_with("sqlite:"));
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(
            &path,
            "bind = \"127.0.0.1:9000\"\n[sessions]\nwarning_secs = 120\ncritical_secs = 30\n",
        )
        .unwrap();
        figment::Jail::expect_with(|jail| {
            jail.set_env("POSTE_SERVER_SESSIONS__CRITICAL_SECS", "20");
            jail.set_env("POSTE_SERVER_URL", "http://agent-variable:8001");
            let overrides = Overrides {
                bind: Some("127.0.0.1:9100".parse().unwrap()),
                ..Overrides::default()
            };
            let config = Config::load(Some(&path), &overrides).unwrap();
            assert_eq!(config.bind.port(), 9100, "flag wins over file");
            assert_eq!(config.sessions.warning_secs, 120, "file over default");
            assert_eq!(config.sessions.critical_secs, 20, "env over file");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(&path, "[sessions]\nwarnig_secs = 120\n").unwrap();
        let err = Config::load_from(Some(&path), no_env(), &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("warnig_secs"), "{err}");

        figment::Jail::expect_with(|jail| {
            jail.set_env("POSTE_SERVER_BINDD", "x");
            let err = Config::load(None, &Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("bindd"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn wrong_types_and_values_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(&path, "[sessions]\nwarning_secs = \"five\"\n").unwrap();
        let err = Config::load_from(Some(&path), no_env(), &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("warning_secs"), "{err}");

        std::fs::write(&path, "[sessions]\nwarning_secs = 30\ncritical_secs = 60\n").unwrap();
        let err = Config::load_from(Some(&path), no_env(), &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("greater"), "{err}");

        let missing = dir.path().join("absent.toml");
        let err = Config::load_from(Some(&missing), no_env(), &Overrides::default()).unwrap_err();
        assert!(matches!(err, ConfigError::FileNotFound(_)));
    }

    #[test]
    fn example_config_parses() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/examples/server.toml"
        );
        let config = Config::load_from(Some(Path::new(path)), no_env(), &Overrides::default())
            .expect("deploy/examples/server.toml must stay valid");
        assert_eq!(config.sessions.warning_secs, 300);
        assert!(config.tls.files().is_none(), "plain HTTP by default");
        assert!(config.metrics.on_main_listener());
    }

    #[test]
    fn mail_keys_need_a_sender_and_keep_the_password_out_of_sight() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(&path, "[mail]\nhost = \"smtp.mairie.example\"\n").unwrap();
        let err = Config::load_from(Some(&path), no_env(), &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("mail.from"), "{err}");

        std::fs::write(
            &path,
            "[mail]\nhost = \"smtp.mairie.example\"\nfrom = \"EPN <epn@mairie.example>\"\n\
             username = \"epn\"\npassword = \"secret-smtp\"\n",
        )
        .unwrap();
        let config = Config::load_from(Some(&path), no_env(), &Overrides::default()).unwrap();
        assert_eq!(config.mail.port, 587);
        assert!(config.mail.starttls, "STARTTLS required by default");
        assert!(!format!("{config:?}").contains("secret-smtp"));
        assert!(!toml::to_string(&config).unwrap().contains("secret-smtp"));

        std::fs::write(
            &path,
            "[mail]\nhost = \"h\"\nfrom = \"a@b.fr\"\npassword = \"x\"\n",
        )
        .unwrap();
        let err = Config::load_from(Some(&path), no_env(), &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("mail.username"), "{err}");
    }

    #[test]
    fn tls_and_metrics_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(
            &path,
            "[tls]\ncert = \"/etc/poste-server/tls/fullchain.pem\"\n",
        )
        .unwrap();
        let err = Config::load_from(Some(&path), no_env(), &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("tls.key"), "{err}");

        std::fs::write(
            &path,
            "[tls]\ncert = \"a.pem\"\nkey = \"k.pem\"\n[metrics]\nlisten = \"127.0.0.1:9100\"\n",
        )
        .unwrap();
        let config = Config::load_from(Some(&path), no_env(), &Overrides::default()).unwrap();
        assert!(config.tls.files().is_some());
        assert!(
            !config.metrics.on_main_listener(),
            "off on the main listener by default"
        );
        let again: Config = toml::from_str(&toml::to_string(&config).unwrap()).unwrap();
        assert_eq!(
            again, config,
            "`poste-server config` prints what loads again"
        );

        std::fs::write(&path, "[metrics]\nlisten = \"0.0.0.0:8001\"\n").unwrap();
        let err = Config::load_from(Some(&path), no_env(), &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("metrics.listen"), "{err}");
    }
}
