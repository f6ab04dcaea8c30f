//! `[greeter]`: the gate before login (docs/decisions/0007). While no paid session runs, no
//! visitor session exists: the gate is greetd's greeter, run by greetd's own user. When the
//! service has started a session with the server, it tells the gate to open the public
//! account's X11 session ([`GreeterConfig::handover`]); at the end it ends every session and
//! process of that account, and greetd brings the gate back.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

/// The session to open: whose, with which command and added environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    pub account: String,
    pub command: Vec<String>,
    pub env: Vec<String>,
}

/// greetd's socket, from `GREETD_SOCK`: set by greetd for its greeter only, so it also says
/// that this process is the gate before login (with no window manager around it).
pub fn greetd_socket() -> Option<PathBuf> {
    std::env::var_os("GREETD_SOCK")
        .filter(|path| !path.is_empty())
        .map(PathBuf::from)
}

/// Where X11 sessions are described (`NAME.desktop`, with its `Exec=`).
pub const XSESSIONS_DIR: &str = "/usr/share/xsessions";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GreeterConfig {
    pub enabled: bool,
    /// The public account (no password; only greetd opens it).
    pub account: String,
    /// The X11 session it opens: a file name of `/usr/share/xsessions` without `.desktop`.
    pub session: String,
    /// Where the session files are (tests point it elsewhere).
    pub xsessions_dir: PathBuf,
}

impl Default for GreeterConfig {
    fn default() -> Self {
        GreeterConfig {
            enabled: false,
            account: "visiteur".to_owned(),
            session: "xfce".to_owned(),
            xsessions_dir: PathBuf::from(XSESSIONS_DIR),
        }
    }
}

impl GreeterConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.enabled {
            return Ok(());
        }
        if cfg!(windows) {
            return Err(ConfigError::Invalid(
                "[greeter] : le portail avant connexion n'existe que sous Linux (greetd)".into(),
            ));
        }
        if !valid_account(&self.account) {
            return Err(ConfigError::Invalid(format!(
                "[greeter] account : « {} » n'est pas un nom de compte (lettres minuscules, \
                 chiffres, - et _, 32 caractères au plus)",
                self.account
            )));
        }
        if !valid_session_name(&self.session) {
            return Err(ConfigError::Invalid(format!(
                "[greeter] session : « {} » n'est pas un nom de session (celui d'un fichier de {} \
                 sans « .desktop »)",
                self.session,
                self.xsessions_dir.display()
            )));
        }
        Ok(())
    }

    /// What greetd is asked to start for the visitor: Debian's X11 session chain
    /// (`startx /etc/X11/Xsession COMMAND`, so that `/etc/X11/Xsession.d` starts the countdown
    /// whatever the desktop), recorded by logind as an X11 session (without it, `tty`).
    pub fn handover(&self) -> Result<Handover, ConfigError> {
        let exec = session_exec(&self.xsessions_dir, &self.session)?;
        Ok(Handover {
            account: self.account.clone(),
            command: vec!["startx".to_owned(), "/etc/X11/Xsession".to_owned(), exec],
            env: vec!["XDG_SESSION_TYPE=x11".to_owned()],
        })
    }
}

/// The `Exec=` of `DIR/NAME.desktop`'s `[Desktop Entry]`.
pub fn session_exec(dir: &Path, name: &str) -> Result<String, ConfigError> {
    let path = dir.join(format!("{name}.desktop"));
    let text = std::fs::read_to_string(&path).map_err(|err| {
        let installed = installed_sessions(dir);
        let installed = if installed.is_empty() {
            "aucune".to_owned()
        } else {
            installed.join(", ")
        };
        let problem = if err.kind() == std::io::ErrorKind::NotFound {
            "n'est pas installée".to_owned()
        } else {
            format!("illisible ({}: {err})", path.display())
        };
        ConfigError::Invalid(format!(
            "[greeter] session « {name} » {problem} ; sessions installées : {installed}"
        ))
    })?;
    desktop_exec(&text).ok_or_else(|| {
        ConfigError::Invalid(format!(
            "[greeter] session « {name} » : {} n'a pas de ligne Exec=",
            path.display()
        ))
    })
}

/// The session names of `dir`, sorted.
pub fn installed_sessions(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            entry
                .file_name()
                .to_str()
                .and_then(|name| name.strip_suffix(".desktop"))
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

fn desktop_exec(text: &str) -> Option<String> {
    let mut in_entry = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_entry = line == "[Desktop Entry]";
        } else if in_entry && let Some(exec) = line.strip_prefix("Exec=") {
            let exec = exec.trim();
            return (!exec.is_empty()).then(|| exec.to_owned());
        }
    }
    None
}

/// A name `useradd` takes on Debian (its default NAME_REGEX, without the trailing `$`).
pub fn valid_account(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 32
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

fn valid_session_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled(dir: &Path, session: &str) -> GreeterConfig {
        GreeterConfig {
            enabled: true,
            session: session.to_owned(),
            xsessions_dir: dir.to_owned(),
            ..GreeterConfig::default()
        }
    }

    #[test]
    fn the_session_is_started_through_debians_xsession_chain_as_x11() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(
            dir.path().join("xfce.desktop"),
            "[Desktop Entry]\nName=Xfce Session\nExec=startxfce4\nTryExec=startxfce4\n\
             [Desktop Action Other]\nExec=other\n",
        )
        .expect("write");
        let handover = enabled(dir.path(), "xfce").handover().expect("handover");
        assert_eq!(handover.account, "visiteur");
        assert_eq!(
            handover.command,
            ["startx", "/etc/X11/Xsession", "startxfce4"]
        );
        assert_eq!(handover.env, ["XDG_SESSION_TYPE=x11"]);
    }

    #[test]
    fn a_missing_session_names_the_installed_ones() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(
            dir.path().join("openbox.desktop"),
            "[Desktop Entry]\nExec=/usr/bin/openbox-session\n",
        )
        .expect("write");
        std::fs::write(dir.path().join("vide.desktop"), "[Desktop Entry]\nName=x\n")
            .expect("write");
        let err = enabled(dir.path(), "xfce")
            .handover()
            .expect_err("no xfce")
            .to_string();
        assert!(err.contains("session « xfce »"), "{err}");
        assert!(err.contains("sessions installées : openbox, vide"), "{err}");
        let err = enabled(dir.path(), "vide").handover().expect_err("no Exec");
        assert!(err.to_string().contains("pas de ligne Exec="), "{err}");
    }

    #[cfg(windows)]
    #[test]
    fn the_gate_before_login_is_refused_on_windows() {
        let err = enabled(Path::new("/nonexistent"), "xfce").validate();
        assert!(err.is_err_and(|err| err.to_string().contains("que sous Linux")));
    }

    #[cfg(unix)]
    #[test]
    fn account_and_session_names_are_checked_only_when_enabled() {
        let dir = Path::new("/nonexistent");
        assert!(enabled(dir, "xfce").validate().is_ok());
        assert!(enabled(dir, "../etc/passwd").validate().is_err());
        assert!(enabled(dir, "").validate().is_err());
        let bad_account = GreeterConfig {
            account: "Visiteur Public".into(),
            ..enabled(dir, "xfce")
        };
        assert!(bad_account.validate().is_err());
        let off = GreeterConfig {
            enabled: false,
            ..bad_account
        };
        assert!(off.validate().is_ok());
        assert!(valid_account("visiteur") && valid_account("_public-2"));
        assert!(!valid_account("2abc") && !valid_account(&"a".repeat(33)));
    }
}
