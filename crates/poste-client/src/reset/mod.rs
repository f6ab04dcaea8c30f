//! Between two visitors: the visitor account is brought back to a clean state (issue #5, item
//! 4). After the session's log-out, the privileged service waits for the visitor's logind
//! sessions to be gone (bounded), kills what is left of the account's processes, then makes the
//! home directory equal to a template ([`tree::restore`]). Only the service does it (root), and
//! only at a real end of session: a lost server link ends nothing, so restores nothing.
//!
//! The agent sees the [`HomeReset`] trait; [`AccountReset`] is the Linux one. Windows has none
//! yet (a profile reset there means deleting and recreating the profile through the user
//! profile API): `[reset] enabled = true` is refused by the configuration on Windows.

use std::path::PathBuf;
#[cfg(unix)]
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

#[cfg(unix)]
pub mod temp;
#[cfg(unix)]
pub mod tree;

/// `[reset]` of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResetConfig {
    /// Off by default: restoring deletes everything the visitor left.
    pub enabled: bool,
    /// The visitors' account (e.g. `public`): an ordinary user, never root nor a system user.
    pub user: Option<String>,
    /// Its home directory (default: the account's, from the user database).
    pub home: Option<PathBuf>,
    /// What the home is made equal to (owned by root, not writable by the visitor).
    pub template: PathBuf,
    /// Paths relative to the home left as they are (e.g. `.cache/fontconfig`).
    pub keep: Vec<PathBuf>,
    /// Seconds to wait for logind to close the visitor's sessions after the log-out, before
    /// killing what is left of its processes.
    pub logout_wait: u64,
    /// Shared temporary directories cleared of everything the account owns (what it
    /// downloaded, display locks its X servers left).
    pub temp_dirs: Vec<PathBuf>,
    /// Marks a restore still owed (written at the end of a session, removed once restored), so
    /// that a service restarted after a failure or a crash restores before opening the gate.
    pub pending_file: PathBuf,
}

impl Default for ResetConfig {
    fn default() -> Self {
        ResetConfig {
            enabled: false,
            user: None,
            home: None,
            template: PathBuf::from("/var/lib/poste-client/modele"),
            keep: Vec::new(),
            logout_wait: 15,
            temp_dirs: ["/tmp", "/var/tmp", "/dev/shm"]
                .into_iter()
                .map(PathBuf::from)
                .collect(),
            pending_file: PathBuf::from("/var/lib/poste-client/restauration-en-attente"),
        }
    }
}

impl ResetConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.enabled {
            return Ok(());
        }
        let invalid = |why: String| Err(ConfigError::Invalid(format!("[reset] : {why}")));
        if cfg!(windows) {
            return invalid(
                "la restauration du profil n'est pas encore disponible sous Windows".into(),
            );
        }
        if self.user.as_deref().is_none_or(|u| u.trim().is_empty()) {
            return invalid("user (le compte des visiteurs) est obligatoire".into());
        }
        if !self.template.is_absolute() {
            return invalid(format!(
                "template « {} » doit être un chemin absolu",
                self.template.display()
            ));
        }
        if let Some(home) = &self.home {
            if !home.is_absolute() || home.parent().is_none() {
                return invalid(format!(
                    "home « {} » doit être un chemin absolu, pas /",
                    home.display()
                ));
            }
            if home.starts_with(&self.template) || self.template.starts_with(home) {
                return invalid("home et template ne doivent pas être l'un dans l'autre".into());
            }
        }
        if let Some(dir) = self
            .temp_dirs
            .iter()
            .find(|d| !d.is_absolute() || d.parent().is_none())
        {
            return invalid(format!(
                "temp_dirs « {} » doit être un chemin absolu, pas /",
                dir.display()
            ));
        }
        for keep in &self.keep {
            let plain = keep
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
            if !plain || keep.as_os_str().is_empty() {
                return invalid(format!(
                    "keep « {} » : un chemin relatif au dossier personnel, sans « .. »",
                    keep.display()
                ));
            }
        }
        Ok(())
    }
}

/// Brings the visitor account back to its template. Blocking; called by the service after the
/// log-out of a session that really ended.
pub trait HomeReset: Send + Sync {
    fn reset(&self) -> Result<(), ResetError>;
}

/// Why the account could not be restored (the workstation then stays locked).
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error("visitor account {0:?}: {1}")]
    Account(String, String),
    #[error("processes of {user} still running: {detail}")]
    ProcessesLeft { user: String, detail: String },
    #[cfg(unix)]
    #[error(transparent)]
    Restore(#[from] tree::RestoreError),
    #[cfg(unix)]
    #[error("a file of the visitor's left in a temporary directory: {0}")]
    Temp(#[from] temp::TempError),
    #[error("pending-restore marker {path}: {source}")]
    Marker {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The visitor account, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
}

/// Resolves the configured account through the user database, refusing root and system users.
#[cfg(unix)]
pub fn resolve(config: &ResetConfig) -> Result<Account, ResetError> {
    let name = config.user.clone().unwrap_or_default();
    let user = nix::unistd::User::from_name(&name)
        .map_err(|err| ResetError::Account(name.clone(), err.to_string()))?
        .ok_or_else(|| ResetError::Account(name.clone(), "unknown user".into()))?;
    let uid = poste_desktop::check_target(
        &name,
        Some(user.uid.as_raw()),
        poste_desktop::UidRange::system(),
    )
    .map_err(|err| ResetError::Account(name.clone(), err.to_string()))?;
    Ok(Account {
        uid,
        gid: user.gid.as_raw(),
        home: config.home.clone().unwrap_or(user.dir),
        name,
    })
}

/// The pending-restore marker: present from the end of a session until its restore succeeded.
#[derive(Debug, Clone)]
pub struct Pending(pub PathBuf);

impl Pending {
    pub fn is_set(&self) -> bool {
        self.0.exists()
    }

    pub fn set(&self) -> Result<(), ResetError> {
        let err = |source| ResetError::Marker {
            path: self.0.clone(),
            source,
        };
        if let Some(dir) = self.0.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        std::fs::write(&self.0, b"").map_err(err)
    }

    pub fn clear(&self) -> Result<(), ResetError> {
        match std::fs::remove_file(&self.0) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(ResetError::Marker {
                path: self.0.clone(),
                source: err,
            }),
            _ => Ok(()),
        }
    }
}

/// The Linux restore: wait for logind, kill the leftovers, restore the tree.
#[cfg(unix)]
#[derive(Debug, Clone)]
pub struct AccountReset {
    pub config: ResetConfig,
    /// `None`: resolved from `config` at each restore (the account may be created after the
    /// service started); tests give one.
    pub account: Option<Account>,
    /// Where `loginctl` is looked up.
    pub env: poste_desktop::Environment,
    pub poll: Duration,
    pub kill: poste_desktop::LastResort,
}

#[cfg(unix)]
impl AccountReset {
    pub fn new(config: ResetConfig, env: poste_desktop::Environment) -> Self {
        AccountReset {
            config,
            account: None,
            env,
            poll: Duration::from_millis(500),
            kill: poste_desktop::LastResort::default(),
        }
    }

    /// Waits until logind lists no session of `uid`, at most `logout_wait`. Whether it did is
    /// only logged: the processes are what matters, and they are killed next.
    fn wait_for_logout(&self, account: &Account) {
        let deadline = std::time::Instant::now() + Duration::from_secs(self.config.logout_wait);
        loop {
            match crate::service::sessions_of(&self.env, account.uid) {
                Some(0) | None => return,
                Some(n) => {
                    if std::time::Instant::now() >= deadline {
                        tracing::warn!(user = %account.name, sessions = n, "logind still lists sessions of the visitor; killing its processes");
                        return;
                    }
                }
            }
            std::thread::sleep(self.poll);
        }
    }
}

#[cfg(unix)]
impl HomeReset for AccountReset {
    fn reset(&self) -> Result<(), ResetError> {
        let account = match &self.account {
            Some(account) => account.clone(),
            None => resolve(&self.config)?,
        };
        self.wait_for_logout(&account);
        // Nothing of the visitor may run while its tree is rewritten.
        self.kill
            .kill_uid(&account.name, account.uid)
            .map_err(|err| ResetError::ProcessesLeft {
                user: account.name.clone(),
                detail: err.to_string(),
            })?;
        let report = tree::restore(
            &self.config.template,
            &account.home,
            tree::Owner {
                uid: account.uid,
                gid: account.gid,
            },
            &self.config.keep,
        )?;
        let mut temp_removed = 0;
        for dir in &self.config.temp_dirs {
            temp_removed += temp::clear_owned(dir, account.uid)?;
        }
        tracing::info!(user = %account.name, removed = report.removed, written = report.written, temp_removed, "home restored from the template");
        Ok(())
    }
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_configuration_refuses_dangerous_paths() {
        let ok = ResetConfig {
            enabled: true,
            user: Some("public".into()),
            home: Some("/home/public".into()),
            ..ResetConfig::default()
        };
        assert!(ok.validate().is_ok());
        let with = |f: fn(&mut ResetConfig)| {
            let mut c = ok.clone();
            f(&mut c);
            c.validate()
        };
        assert!(with(|c| c.user = None).is_err());
        assert!(with(|c| c.home = Some("/".into())).is_err());
        assert!(with(|c| c.home = Some("relatif".into())).is_err());
        assert!(with(|c| c.template = "/home/public/modele".into()).is_err());
        assert!(with(|c| c.keep = vec!["../etc".into()]).is_err());
        assert!(with(|c| c.keep = vec!["/etc".into()]).is_err());
        assert!(with(|c| c.keep = vec![".cache/fontconfig".into()]).is_ok());
        assert!(ResetConfig::default().validate().is_ok(), "off by default");
    }

    /// A recording `loginctl` that lists a session of the visitor twice, then none: the restore
    /// waits for it, then makes the home equal to the template.
    #[test]
    fn the_restore_waits_for_logind_to_close_the_visitors_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let log = dir.path().join("loginctl.log");
        let count = dir.path().join("count");
        let script = format!(
            "#!/bin/sh\necho \"$*\" >> {log}\nn=$(cat {count} 2>/dev/null || echo 0)\nn=$((n+1))\necho $n > {count}\nif [ $n -le 2 ]; then echo ' 7 4242 public seat0 tty2'; fi\n",
            log = log.display(),
            count = count.display()
        );
        std::fs::write(bin.join("loginctl"), script).unwrap();
        std::fs::set_permissions(bin.join("loginctl"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        let template = dir.path().join("modele");
        std::fs::create_dir(&template).unwrap();
        std::fs::write(template.join(".bashrc"), "# modèle\n").unwrap();
        let home = dir.path().join("public");
        std::fs::create_dir(&home).unwrap();
        std::fs::write(home.join("facture.pdf"), "%PDF").unwrap();
        // What the visitor left in a shared temporary directory (theirs only as root).
        let temp = dir.path().join("tmp");
        std::fs::create_dir(&temp).unwrap();
        std::fs::write(temp.join("telechargement.pdf"), "%PDF").unwrap();
        let (uid, gid) = (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        );
        let mut reset = AccountReset::new(
            ResetConfig {
                enabled: true,
                user: Some("public".into()),
                template: template.clone(),
                logout_wait: 5,
                temp_dirs: vec![temp.clone()],
                ..ResetConfig::default()
            },
            poste_desktop::Environment::from_vars(std::collections::HashMap::from([(
                "PATH".to_owned(),
                bin.display().to_string(),
            )])),
        );
        // An uid no process has here (the kill step finds nothing); the files get this
        // process's own ids when it is not root.
        let visitor_uid = if uid == 0 { 4242 } else { uid };
        reset.account = Some(Account {
            name: "public".into(),
            uid: visitor_uid,
            gid: if uid == 0 { 4242 } else { gid },
            home: home.clone(),
        });
        reset.poll = Duration::from_millis(20);
        reset.kill.range = poste_desktop::UidRange {
            min: 1000,
            max: 60000,
        };
        if uid != 0 {
            eprintln!("skipped: the kill step needs an ordinary uid that is not this process's");
            return;
        }
        std::os::unix::fs::chown(temp.join("telechargement.pdf"), Some(4242), Some(4242)).unwrap();
        reset.reset().expect("restored");
        assert!(!temp.join("telechargement.pdf").exists());
        let calls = std::fs::read_to_string(&log).unwrap();
        assert!(calls.lines().count() >= 3, "{calls}");
        assert!(calls.lines().all(|l| l == "list-sessions --no-legend"));
        assert!(!home.join("facture.pdf").exists());
        assert_eq!(
            std::fs::read_to_string(home.join(".bashrc")).unwrap(),
            "# modèle\n"
        );
    }
}
