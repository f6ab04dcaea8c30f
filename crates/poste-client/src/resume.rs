//! A running session outlives a restart of the service (a crash, an upgrade, `systemctl
//! restart`, a SIGKILL): while a session runs, the service keeps its id and deadline in a small
//! file of its state directory, and a service started again during the same boot takes the
//! session up at once from it: the countdown, the warnings and the end at the deadline go on,
//! offline too, and the server's `get_time` reply corrects them as soon as it is reached.
//!
//! The file is only a fallback for the time the server cannot be asked: the server stays the
//! clock. It is scoped to the boot (Linux's `boot_id`, Windows' boot instant): after a reboot
//! the visitor's desktop session is gone, so the next person at the gate must not inherit it.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// What is kept of a running session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedSession {
    pub session_id: i64,
    /// The boot it ran in (see [`boot_id`]).
    pub boot: String,
    /// The deadline, wall clock, milliseconds since the Unix epoch.
    pub deadline_ms: i64,
    /// The session's whole duration, milliseconds (for the progress bar).
    pub total_ms: i64,
    /// The visitor's name as the server gave it, for the countdown (the file is the service's,
    /// root-only, and goes at the end of the session).
    #[serde(default)]
    pub utilisateur: Option<String>,
}

impl SavedSession {
    /// A session running now with `remaining` left of `total`.
    pub fn running(
        session_id: i64,
        boot: String,
        remaining: Duration,
        total: Duration,
        utilisateur: Option<String>,
    ) -> Self {
        SavedSession {
            session_id,
            boot,
            deadline_ms: unix_ms().saturating_add(duration_ms(remaining)),
            total_ms: duration_ms(total),
            utilisateur,
        }
    }

    /// The time left by the wall clock (zero once the deadline is past).
    pub fn remaining(&self) -> Duration {
        Duration::from_millis(
            self.deadline_ms
                .saturating_sub(unix_ms())
                .max(0)
                .unsigned_abs(),
        )
    }

    pub fn total(&self) -> Duration {
        Duration::from_millis(self.total_ms.max(0).unsigned_abs())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    #[error("fichier de session {path} : {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The file the running session is kept in (next to the enrollment secret: the service's own
/// state directory, which only it may write).
#[derive(Debug, Clone)]
pub struct SessionFile {
    path: PathBuf,
    /// This boot's identity; `None` where it cannot be known (then nothing is resumed).
    boot: Option<String>,
}

impl SessionFile {
    /// The file beside `secret_file`, for this boot.
    pub fn beside(secret_file: &Path) -> SessionFile {
        SessionFile {
            path: secret_file.with_file_name("session-en-cours.json"),
            boot: boot_id(),
        }
    }

    /// Tests: a given path and boot.
    pub fn new(path: PathBuf, boot: Option<String>) -> SessionFile {
        SessionFile { path, boot }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn boot(&self) -> Option<&str> {
        self.boot.as_deref()
    }

    /// The session to take up: one saved during this boot. A file from another boot, or one
    /// that cannot be read, is removed (and said in the log).
    pub fn load(&self) -> Option<SavedSession> {
        let bytes = read_state_file(&self.path, "running session file")?;
        let saved = match serde_json::from_slice::<SavedSession>(&bytes) {
            Ok(saved) => saved,
            Err(err) => {
                tracing::warn!(path = %self.path.display(), error = %err, "running session file corrupt: ignored");
                self.clear();
                return None;
            }
        };
        if self.boot.as_deref() != Some(saved.boot.as_str()) {
            tracing::info!(
                session = saved.session_id,
                "the running session file is from another boot: not resumed"
            );
            self.clear();
            return None;
        }
        Some(saved)
    }

    /// Keeps the running session (written whole to a temporary file, then renamed over the old one, so a
    /// crash mid-write leaves the previous version).
    pub fn save(
        &self,
        session_id: i64,
        remaining: Duration,
        total: Duration,
        utilisateur: Option<String>,
    ) -> Result<(), ResumeError> {
        let Some(boot) = self.boot.clone() else {
            return Ok(());
        };
        let saved = SavedSession::running(session_id, boot, remaining, total, utilisateur);
        let err = |source| ResumeError::Io {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let temporary = self.path.with_extension("json.tmp");
        let json = serde_json::to_vec(&saved).map_err(|e| err(std::io::Error::other(e)))?;
        std::fs::write(&temporary, json).map_err(err)?;
        std::fs::rename(&temporary, &self.path).map_err(err)
    }

    /// The session ended: nothing to resume.
    pub fn clear(&self) {
        if let Err(err) = std::fs::remove_file(&self.path)
            && err.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), error = %err, "could not remove the running session file");
        }
    }
}

/// The bytes of one of the service's state files; `None` when it does not exist, or cannot be
/// read (said in the log, as `what`).
pub(crate) fn read_state_file(path: &Path, what: &str) -> Option<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => {
            tracing::warn!(path = %path.display(), error = %err, "{what} unreadable");
            None
        }
    }
}

/// This boot's identity: the kernel's random `boot_id` on Linux; on Windows the boot instant
/// (now minus the uptime), to the minute so that reading it twice gives the same value.
pub fn boot_id() -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty())
    }
    #[cfg(windows)]
    {
        let uptime = Duration::from_millis(crate::winsys::uptime_ms());
        let booted = SystemTime::now().checked_sub(uptime)?;
        let secs = booted.duration_since(UNIX_EPOCH).ok()?.as_secs();
        Some(format!("windows-{}", secs / 60))
    }
    #[cfg(not(any(target_os = "linux", windows)))]
    {
        None
    }
}

fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, duration_ms)
}

fn duration_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn file(dir: &tempfile::TempDir, boot: &str) -> SessionFile {
        SessionFile::new(dir.path().join("session.json"), Some(boot.to_owned()))
    }

    #[test]
    fn a_saved_session_is_taken_up_in_the_same_boot_with_its_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let file = file(&dir, "boot-a");
        file.save(
            42,
            Duration::from_secs(90),
            Duration::from_secs(600),
            Some("Awa".to_owned()),
        )
        .unwrap();
        let saved = file.load().expect("same boot: resumed");
        assert_eq!(saved.session_id, 42);
        assert_eq!(saved.total(), Duration::from_secs(600));
        assert_eq!(saved.utilisateur.as_deref(), Some("Awa"));
        let left = saved.remaining();
        assert!(
            left <= Duration::from_secs(90) && left > Duration::from_secs(88),
            "{left:?}"
        );
        assert!(!dir.path().join("session.json.tmp").exists());
    }

    #[test]
    fn a_session_of_another_boot_is_not_resumed_and_its_file_goes() {
        let dir = tempfile::tempdir().unwrap();
        file(&dir, "boot-a")
            .save(7, Duration::from_secs(60), Duration::from_secs(60), None)
            .unwrap();
        let after_reboot = file(&dir, "boot-b");
        assert_eq!(after_reboot.load(), None);
        assert!(!after_reboot.path().exists());
    }

    #[test]
    fn a_corrupt_file_is_ignored_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let file = file(&dir, "boot-a");
        std::fs::write(file.path(), b"{\"session_id\": 3, \"boot\"").unwrap();
        assert_eq!(file.load(), None);
        assert!(!file.path().exists());
        assert_eq!(file.load(), None, "no file: nothing");
    }

    #[test]
    fn a_past_deadline_leaves_no_time() {
        let saved = SavedSession {
            session_id: 1,
            boot: "b".to_owned(),
            deadline_ms: unix_ms() - 5_000,
            total_ms: 60_000,
            utilisateur: None,
        };
        assert_eq!(saved.remaining(), Duration::ZERO);
    }

    #[test]
    fn clearing_ends_the_resume() {
        let dir = tempfile::tempdir().unwrap();
        let file = file(&dir, "boot-a");
        file.save(9, Duration::from_secs(60), Duration::from_secs(60), None)
            .unwrap();
        file.clear();
        assert_eq!(file.load(), None);
        file.clear();
    }

    #[test]
    fn without_a_boot_identity_nothing_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = SessionFile::new(dir.path().join("s.json"), None);
        file.save(9, Duration::from_secs(60), Duration::from_secs(60), None)
            .unwrap();
        assert!(!file.path().exists());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_has_a_boot_identity() {
        let id = boot_id().unwrap();
        assert_eq!(id, boot_id().unwrap());
        assert_eq!(id.len(), 36, "{id}");
    }
}
