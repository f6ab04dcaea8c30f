//! What the visitor left outside the home: every file and directory the account owns under the
//! shared temporary directories (`/tmp`, `/var/tmp`, `/dev/shm`), removed once its processes
//! are gone. A document downloaded to `/tmp` is the next visitor's to read otherwise; and a
//! display's lock (`/tmp/.X0-lock`, left by an X server that was killed, or one a visitor made
//! on purpose) is a file nobody else may remove from a sticky directory, which keeps the next X
//! server, the gate's included, from starting.
//!
//! Runs as root while nothing of the account runs (the caller killed it first), so the tree
//! cannot change under the walk; symbolic links are removed, never followed.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Removes every entry owned by `uid` under `dir` (the directory itself is kept, whoever owns
/// it); descends into directories owned by others. Answers how many entries were removed. A
/// missing `dir` is not an error.
pub fn clear_owned(dir: &Path, uid: u32) -> Result<usize, TempError> {
    let mut removed = 0;
    walk(dir, uid, &mut removed, 0)?;
    Ok(removed)
}

/// How deep the walk goes into directories owned by others: the system's own nesting under
/// `/tmp` is shallow (`/tmp/.X11-unix/X0`, `/tmp/systemd-private-…/tmp/…`).
const MAX_DEPTH: usize = 16;

fn walk(dir: &Path, uid: u32, removed: &mut usize, depth: usize) -> Result<(), TempError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(TempError::new(dir, err)),
    };
    for entry in entries {
        let entry = entry.map_err(|err| TempError::new(dir, err))?;
        let path = entry.path();
        // lstat: a link is judged by itself, never by what it points to.
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(TempError::new(&path, err)),
        };
        if meta.uid() == uid {
            let gone = if meta.is_dir() {
                // Does not follow links inside either (std's remove_dir_all, CVE-2022-21658).
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            match gone {
                Ok(()) => *removed += 1,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(TempError::new(&path, err)),
            }
        } else if meta.is_dir() && depth < MAX_DEPTH {
            walk(&path, uid, removed, depth + 1)?;
        }
    }
    Ok(())
}

/// A file of the visitor's that could not be removed.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct TempError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

impl TempError {
    fn new(path: &Path, source: std::io::Error) -> Self {
        TempError {
            path: path.to_owned(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::os::unix::fs::{chown, symlink};

    use super::*;

    /// Needs root: files of another uid are made with chown.
    #[test]
    fn only_the_visitors_entries_go_and_links_are_not_followed() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: files of another uid need root to make");
            return;
        }
        let visitor = 4242;
        let root = tempfile::tempdir().unwrap();
        let tmp = root.path().join("tmp");
        let x11 = tmp.join(".X11-unix");
        std::fs::create_dir_all(&x11).unwrap();
        let outside = root.path().join("precieux.txt");
        std::fs::write(&outside, "à garder").unwrap();
        // The visitor's: a stale display lock, a socket-like file in root's .X11-unix, a
        // download, a directory with a link inside, a link at the top to a file of root's.
        for file in [
            tmp.join(".X1-lock"),
            x11.join("X0"),
            tmp.join("facture.pdf"),
        ] {
            std::fs::write(&file, "x").unwrap();
            chown(&file, Some(visitor), Some(visitor)).unwrap();
        }
        let own_dir = tmp.join("firefox-cache");
        std::fs::create_dir(&own_dir).unwrap();
        symlink(&outside, own_dir.join("lien")).unwrap();
        chown(&own_dir, Some(visitor), Some(visitor)).unwrap();
        let top_link = tmp.join("lien-vers-root");
        symlink(&outside, &top_link).unwrap();
        std::os::unix::fs::lchown(&top_link, Some(visitor), Some(visitor)).unwrap();
        // Someone else's, kept.
        std::fs::write(tmp.join(".X7-lock"), "x").unwrap();
        std::fs::write(x11.join("X7"), "x").unwrap();

        let removed = clear_owned(&tmp, visitor).unwrap();

        assert_eq!(removed, 5);
        let mut left: Vec<_> = walkdir(&tmp);
        left.sort();
        assert_eq!(left, [".X11-unix", ".X11-unix/X7", ".X7-lock"]);
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "à garder");
        assert_eq!(
            clear_owned(&root.path().join("absent"), visitor).unwrap(),
            0
        );
    }

    fn walkdir(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                for inner in walkdir(&path) {
                    out.push(format!("{name}/{inner}"));
                }
            }
            out.push(name);
        }
        out
    }
}
