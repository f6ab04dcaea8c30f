//! Agent configuration, with the seed's settings and values: compiled defaults → TOML file
//! (`/etc/poste-client/config.toml` when present, or `--config`) → environment (the seed's
//! `POSTE_SERVER_URL`, `POSTE_WS_URL`, `LOG_LEVEL`, and `POSTE_SECRET_FILE`, `POSTE_CA_FILE`) → command-line flags.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Read when present and no `--config` is given.
#[cfg(not(windows))]
pub const DEFAULT_CONFIG_FILE: &str = "/etc/poste-client/config.toml";
/// Read when present and no `--config` is given (where `poste-client install` writes it).
#[cfg(windows)]
pub const DEFAULT_CONFIG_FILE: &str = r"C:\ProgramData\poste-client\config.toml";

/// Where the enrollment secret is kept by default.
#[cfg(not(windows))]
pub const DEFAULT_SECRET_FILE: &str = "/var/lib/poste-client/secret";
/// Where the enrollment secret is kept by default: beside the configuration, the file itself
/// readable by SYSTEM and administrators only (see `enroll::store_secret`).
#[cfg(windows)]
pub const DEFAULT_SECRET_FILE: &str = r"C:\ProgramData\poste-client\secret";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    /// The seed's SERVER_URL: `http://192.168.1.10:8001`.
    pub server_url: String,
    /// The seed's SERVER_WS_URL; derived from `server_url` when unset (http→ws, https→wss).
    pub ws_url: Option<String>,
    /// Name of this workstation (default: the host name).
    pub poste: Option<String>,
    /// The space this workstation serves in, as the console names it (« Maison de quartier »):
    /// sent with its enrollment by install token, it waits for approval there (POSTE_ESPACE).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub espace: Option<String>,
    /// Seconds between two `get_time` (the seed's CHECK_INTERVAL).
    pub check_interval: u64,
    /// Seconds before the end for the first warning (the seed's WARNING_TIME)…
    pub warning_time: u64,
    /// …and for the last one (CRITICAL_TIME). Used when the server cannot be reached; online,
    /// the server's pushes come first.
    pub critical_time: u64,
    pub enable_screen_lock: bool,
    pub lock_on_expire: bool,
    pub logout_on_expire: bool,
    /// A short sound with each warning on the visitor's screen (off by default: a quiet room
    /// may not want twenty workstations chiming).
    pub warning_sound: bool,
    /// Log file (default: standard error, which journald collects under systemd).
    pub log_file: Option<PathBuf>,
    /// `error`, `warn`, `info`, `debug` or `trace` (the seed's LOG_LEVEL).
    pub log_level: String,
    /// Seconds each desktop command may take before the next method is tried.
    pub command_timeout: u64,
    /// Where the workstation's enrollment secret is kept (owner-only permissions).
    pub secret_file: PathBuf,
    /// For `wss://`: the site's CA certificate(s), PEM. When set, the only certificates
    /// trusted; when unset, the system's roots (see `tls`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Between two visitors, the visitor account's home made equal to a template.
    pub reset: crate::reset::ResetConfig,
    /// Logout after a while without input.
    pub inactivity: InactivityConfig,
    /// The gate before login (greetd's greeter), Linux only.
    pub greeter: crate::greeter::GreeterConfig,
    /// Where the magic packets go when the server asks this workstation to wake others of its
    /// space (protocol 4): this network's broadcast address and port.
    pub wake_address: std::net::SocketAddr,
}

/// `[inactivity]`: ends a session after `minutes` without input, warning `warning_minutes`
/// before. Off by default; does nothing where the desktop's idle time is not known reliably.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InactivityConfig {
    pub enabled: bool,
    pub minutes: u64,
    pub warning_minutes: u64,
}

impl Default for InactivityConfig {
    fn default() -> Self {
        InactivityConfig {
            enabled: false,
            minutes: 15,
            warning_minutes: 1,
        }
    }
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            server_url: "http://localhost:8001".to_owned(),
            ws_url: None,
            poste: None,
            espace: None,
            check_interval: 5,
            warning_time: 300,
            critical_time: 60,
            enable_screen_lock: true,
            lock_on_expire: true,
            logout_on_expire: true,
            warning_sound: false,
            log_file: None,
            log_level: "info".to_owned(),
            command_timeout: 5,
            secret_file: PathBuf::from(DEFAULT_SECRET_FILE),
            ca_file: None,
            reset: crate::reset::ResetConfig::default(),
            inactivity: InactivityConfig::default(),
            greeter: crate::greeter::GreeterConfig::default(),
            wake_address: std::net::SocketAddr::from(([255, 255, 255, 255], 9)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("fichier de configuration {path} : {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("fichier de configuration {path} : {message}")]
    Parse { path: PathBuf, message: String },
    #[error("configuration invalide : {0}")]
    Invalid(String),
}

/// Values from the command line (only those given override).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub server_url: Option<String>,
    pub debug: bool,
}

impl AgentConfig {
    /// Loads the layers. `file`: an explicit path must exist; without one the default file is
    /// read when present.
    pub fn load(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
        overrides: &Overrides,
    ) -> Result<AgentConfig, ConfigError> {
        let mut config = match file {
            Some(path) => Self::from_file(path)?,
            None if Path::new(DEFAULT_CONFIG_FILE).is_file() => {
                Self::from_file(Path::new(DEFAULT_CONFIG_FILE))?
            }
            None => AgentConfig::default(),
        };
        if let Some(url) = env("POSTE_SERVER_URL").filter(|v| !v.trim().is_empty()) {
            config.server_url = url;
        }
        if let Some(url) = env("POSTE_WS_URL").filter(|v| !v.trim().is_empty()) {
            config.ws_url = Some(url);
        }
        if let Some(level) = env("LOG_LEVEL").filter(|v| !v.trim().is_empty()) {
            config.log_level = level;
        }
        if let Some(path) = env("POSTE_SECRET_FILE").filter(|v| !v.trim().is_empty()) {
            config.secret_file = PathBuf::from(path);
        }
        if let Some(path) = env("POSTE_CA_FILE").filter(|v| !v.trim().is_empty()) {
            config.ca_file = Some(PathBuf::from(path));
        }
        if let Some(espace) = env("POSTE_ESPACE").filter(|v| !v.trim().is_empty()) {
            config.espace = Some(espace.trim().to_owned());
        }
        if let Some(url) = &overrides.server_url {
            config.server_url = url.clone();
            // An explicit --server wins over a WebSocket URL from the file or environment.
            config.ws_url = None;
        }
        if overrides.debug {
            config.log_level = "debug".to_owned();
        }
        config.validate()?;
        Ok(config)
    }

    fn from_file(path: &Path) -> Result<AgentConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|err| ConfigError::Parse {
            path: path.to_owned(),
            message: err.message().to_owned(),
        })
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.ws_url()?;
        if self.check_interval == 0 || self.command_timeout == 0 {
            return Err(ConfigError::Invalid(
                "check_interval et command_timeout doivent valoir au moins 1".into(),
            ));
        }
        if self.critical_time == 0 || self.warning_time <= self.critical_time {
            return Err(ConfigError::Invalid(format!(
                "warning_time ({}) doit être plus grand que critical_time ({}), lui-même au moins 1",
                self.warning_time, self.critical_time
            )));
        }
        if self.inactivity.enabled
            && (self.inactivity.minutes == 0
                || self.inactivity.warning_minutes >= self.inactivity.minutes)
        {
            return Err(ConfigError::Invalid(format!(
                "[inactivity] : minutes ({}) doit être plus grand que warning_minutes ({})",
                self.inactivity.minutes, self.inactivity.warning_minutes
            )));
        }
        self.greeter.validate()?;
        self.reset.validate()
    }

    /// The WebSocket URL: `ws_url` if set (with the agents' path added when it has none, as the
    /// seed's `ws://host:8001`), else derived from `server_url`.
    pub fn ws_url(&self) -> Result<String, ConfigError> {
        let (base, from) = match &self.ws_url {
            Some(url) => (url.trim(), "POSTE_WS_URL / ws_url"),
            None => (
                self.server_url.trim(),
                "POSTE_SERVER_URL / server_url / --server",
            ),
        };
        let rest = if let Some(rest) = base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else if let Some(rest) = base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if base.starts_with("ws://") || base.starts_with("wss://") {
            base.to_owned()
        } else {
            return Err(ConfigError::Invalid(format!(
                "{from} : adresse « {base} » invalide (attendu http://, https://, ws:// ou wss://)"
            )));
        };
        let scheme_end = rest.find("://").map_or(0, |i| i + 3);
        let host_and_path = &rest[scheme_end..];
        let (host, path) = match host_and_path.find('/') {
            Some(i) => (&host_and_path[..i], &host_and_path[i..]),
            None => (host_and_path, ""),
        };
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(ConfigError::Invalid(format!(
                "{from} : adresse « {base} » sans serveur"
            )));
        }
        let path = if path.is_empty() || path == "/" {
            poste_proto::WS_PATH_CLIENT
        } else {
            path
        };
        Ok(format!("{}{host}{path}", &rest[..scheme_end]))
    }

    /// The WebSocket URL with the trust `wss://` needs (reads `ca_file`).
    pub fn endpoint(&self) -> Result<crate::tls::Endpoint, ConfigError> {
        crate::tls::Endpoint::new(self.ws_url()?, self.ca_file.as_deref())
            .map_err(|err| ConfigError::Invalid(err.to_string()))
    }

    pub fn thresholds(&self) -> crate::countdown::Thresholds {
        crate::countdown::Thresholds {
            warning: Duration::from_secs(self.warning_time),
            critical: Duration::from_secs(self.critical_time),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn seed_defaults() {
        let config = AgentConfig::default();
        assert_eq!(
            (
                config.check_interval,
                config.warning_time,
                config.critical_time
            ),
            (5, 300, 60)
        );
        assert!(config.enable_screen_lock && config.lock_on_expire && config.logout_on_expire);
        assert_eq!(config.ws_url().unwrap(), "ws://localhost:8001/ws/client/");
    }

    #[test]
    fn websocket_url_is_derived_like_the_seed() {
        let mut config = AgentConfig {
            server_url: "https://poste-public.mairie.re".into(),
            ..AgentConfig::default()
        };
        assert_eq!(
            config.ws_url().unwrap(),
            "wss://poste-public.mairie.re/ws/client/"
        );
        config.ws_url = Some("ws://192.168.1.10:8001".into());
        assert_eq!(
            config.ws_url().unwrap(),
            "ws://192.168.1.10:8001/ws/client/"
        );
        config.ws_url = Some("ws://192.168.1.10:8001/ws/sessions/".into());
        assert_eq!(
            config.ws_url().unwrap(),
            "ws://192.168.1.10:8001/ws/sessions/"
        );
        config.ws_url = Some("ftp://x".into());
        assert!(config.ws_url().is_err());
        config.ws_url = Some("http://".into());
        assert!(config.ws_url().is_err());
    }

    #[test]
    fn layers_file_env_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "server_url = \"http://10.0.0.1:8001\"\nwarning_time = 120\n",
        )
        .unwrap();
        let env = |key: &str| (key == "LOG_LEVEL").then(|| "warn".to_owned());
        let config = AgentConfig::load(Some(&path), &env, &Overrides::default()).unwrap();
        assert_eq!(config.server_url, "http://10.0.0.1:8001");
        assert_eq!(config.warning_time, 120);
        assert_eq!(config.log_level, "warn");
        let flags = Overrides {
            server_url: Some("http://192.168.1.10:8001".into()),
            debug: true,
        };
        let config = AgentConfig::load(Some(&path), &env, &flags).unwrap();
        assert_eq!(config.server_url, "http://192.168.1.10:8001");
        assert_eq!(config.log_level, "debug");
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "warning_tme = 120\n").unwrap();
        let err = AgentConfig::load(Some(&path), &no_env, &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("warning_tme"), "{err}");
        std::fs::write(&path, "check_interval = \"cinq\"\n").unwrap();
        let err = AgentConfig::load(Some(&path), &no_env, &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
        let missing = dir.path().join("absent.toml");
        assert!(AgentConfig::load(Some(&missing), &no_env, &Overrides::default()).is_err());
    }

    #[test]
    fn example_config_parses() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/examples/client.toml"
        );
        let config = AgentConfig::load(Some(Path::new(path)), &no_env, &Overrides::default())
            .expect("deploy/examples/client.toml must stay valid");
        assert_eq!(config.check_interval, 5);
    }
}
