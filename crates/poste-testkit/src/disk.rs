//! Storage faults: a small tmpfs to hold a server's data directory, that a test fills up
//! (ENOSPC) mid-run, then gives the space back. (A read-only remount is refused by Linux while
//! a file on it is open for writing, as a server's database always is.) Needs root (CI
//! runs as root); elsewhere [`Tmpfs::mount`] says why it cannot, and the test reports itself
//! skipped out loud, or fails where `CI` / `POSTE_REQUIRE_FAULTS` is set.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A mounted tmpfs, unmounted when dropped.
#[derive(Debug)]
pub struct Tmpfs {
    dir: tempfile::TempDir,
    filler: PathBuf,
}

fn run(args: &[&str]) -> Result<(), String> {
    let output = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|err| format!("{}: {err}", args.join(" ")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (e.g. `"4m"`) on a new temporary directory.
    pub fn mount(size: &str) -> Result<Tmpfs, String> {
        let dir = tempfile::tempdir().map_err(|err| err.to_string())?;
        let path = dir.path().to_string_lossy().into_owned();
        run(&[
            "mount",
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size},mode=0700"),
            "tmpfs",
            &path,
        ])?;
        let filler = dir.path().join("filler");
        Ok(Tmpfs { dir, filler })
    }

    /// `Some(mount)`, or `None` after a loud SKIPPED line, or a panic where faults are required.
    pub fn mount_or_skip(test: &str, size: &str) -> Option<Tmpfs> {
        match Self::mount(size) {
            Ok(mount) => Some(mount),
            Err(reason) => {
                let required = ["CI", "POSTE_REQUIRE_FAULTS"]
                    .iter()
                    .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()));
                assert!(!required, "{test}: cannot mount a tmpfs: {reason}");
                eprintln!("{test} SKIPPED: cannot mount a tmpfs ({reason}); run as root");
                None
            }
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the filesystem to the last byte; returns the bytes written.
    pub fn fill(&self) -> u64 {
        let Ok(mut file) = std::fs::File::create(&self.filler) else {
            return 0;
        };
        let chunk = vec![0xA5u8; 64 * 1024];
        let mut written = 0u64;
        loop {
            match file.write(&chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => written += n as u64,
            }
        }
        // The last partial pages too.
        for _ in 0..64 {
            if file.write(&chunk[..512]).is_err() {
                break;
            }
        }
        let _ = file.sync_all();
        written
    }

    /// Gives the space back.
    pub fn free(&self) {
        let _ = std::fs::remove_file(&self.filler);
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let path = self.dir.path().to_string_lossy().into_owned();
        // Lazy: the server under test may still hold its files open.
        let _ = run(&["umount", "-l", &path]);
    }
}
