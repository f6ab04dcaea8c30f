//! Storage faults under a running server:
//!
//! - [`Tmpfs`]: a small tmpfs holding a server's data directory, that a test fills up (ENOSPC)
//!   mid-run, then gives the space back;
//! - [`LoopDisk`]: an ext4 filesystem on a loop device, mounted `errors=remount-ro`, that the
//!   kernel turns read-only mid-run as it does when a disk fails (`trigger_fs_error`: every
//!   write then gets EROFS). A plain `mount -o remount,ro` is refused by Linux while a file on
//!   it is open for writing, as a server's database always is; a filesystem that went read-only
//!   on an error comes back only through unmount, `e2fsck` and mount, as on a real machine.
//!
//! Both need root (CI runs as root); elsewhere `mount` says why it cannot, and the test reports
//! itself skipped out loud, or fails where `CI` / `POSTE_REQUIRE_FAULTS` is set.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A mounted tmpfs, unmounted when dropped.
#[derive(Debug)]
pub struct Tmpfs {
    dir: tempfile::TempDir,
    filler: PathBuf,
}

/// The mount, or `None` after a loud SKIPPED line; a panic where faults are required.
fn or_skip<T>(test: &str, what: &str, mounted: Result<T, String>) -> Option<T> {
    match mounted {
        Ok(mount) => Some(mount),
        Err(reason) => {
            let required = ["CI", "POSTE_REQUIRE_FAULTS"]
                .iter()
                .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()));
            assert!(!required, "{test}: cannot mount {what}: {reason}");
            eprintln!("{test} SKIPPED: cannot mount {what} ({reason}); run as root");
            None
        }
    }
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
        or_skip(test, "a tmpfs", Self::mount(size))
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

/// An ext4 image on a loop device, mounted `errors=remount-ro` on a temporary directory;
/// unmounted (and its loop device freed) when dropped.
#[derive(Debug)]
pub struct LoopDisk {
    /// Holds the image file and the mount point.
    dir: tempfile::TempDir,
}

impl LoopDisk {
    /// Makes an ext4 image of `megabytes` and mounts it.
    pub fn mount(megabytes: u64) -> Result<LoopDisk, String> {
        let dir = tempfile::tempdir().map_err(|err| err.to_string())?;
        let disk = LoopDisk { dir };
        let image = disk.image();
        std::fs::File::create(&image)
            .and_then(|file| file.set_len(megabytes * 1024 * 1024))
            .map_err(|err| format!("{}: {err}", image.display()))?;
        run(&["mkfs.ext4", "-q", "-F", &image.to_string_lossy()])?;
        std::fs::create_dir(disk.path()).map_err(|err| err.to_string())?;
        disk.mount_image()?;
        Ok(disk)
    }

    /// `Some(disk)`, or `None` after a loud SKIPPED line, or a panic where faults are required.
    pub fn mount_or_skip(test: &str, megabytes: u64) -> Option<LoopDisk> {
        or_skip(test, "an ext4 loop device", Self::mount(megabytes))
    }

    /// The mounted filesystem's root.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("mnt")
    }

    fn image(&self) -> PathBuf {
        self.dir.path().join("disk.img")
    }

    fn mount_image(&self) -> Result<(), String> {
        run(&[
            "mount",
            "-t",
            "ext4",
            "-o",
            "loop,errors=remount-ro",
            &self.image().to_string_lossy(),
            &self.path().to_string_lossy(),
        ])
    }

    /// The kernel's own reaction to a disk error: the filesystem goes read-only at once, for
    /// the processes that have files open on it too. Returns once a write is refused.
    pub fn fail(&self) -> Result<(), String> {
        let source = Command::new("findmnt")
            .args(["-no", "SOURCE"])
            .arg(self.path())
            .output()
            .map_err(|err| format!("findmnt: {err}"))?;
        let device = String::from_utf8_lossy(&source.stdout).trim().to_owned();
        let name = Path::new(&device)
            .file_name()
            .ok_or_else(|| format!("no loop device behind {}", self.path().display()))?;
        let trigger = Path::new("/sys/fs/ext4")
            .join(name)
            .join("trigger_fs_error");
        std::fs::write(&trigger, b"poste-testkit")
            .map_err(|err| format!("{}: {err}", trigger.display()))?;
        let probe = self.path().join("probe");
        for _ in 0..100 {
            match std::fs::write(&probe, b"x") {
                Err(err) if err.kind() == std::io::ErrorKind::ReadOnlyFilesystem => return Ok(()),
                _ => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
        Err(format!("{} is still writable", self.path().display()))
    }

    /// What an administrator does after such an error, once the server is stopped: unmount,
    /// `e2fsck -fy`, mount again. Fails if something still holds a file open on it.
    pub fn repair(&self) -> Result<(), String> {
        run(&["umount", &self.path().to_string_lossy()])
            .map_err(|err| format!("{err} (files open on it here: {:?})", self.open_files()))?;
        let fsck = Command::new("e2fsck")
            .args(["-f", "-y"])
            .arg(self.image())
            .output()
            .map_err(|err| format!("e2fsck: {err}"))?;
        // 0: clean, 1: errors corrected, 2: corrected (reboot advised); 4 and up: not fixed.
        if fsck.status.code().is_none_or(|code| code >= 4) {
            return Err(format!(
                "e2fsck: {}",
                String::from_utf8_lossy(&fsck.stdout).trim()
            ));
        }
        self.mount_image()
    }

    /// The files this process holds open under the mount point, to tell why it is busy.
    fn open_files(&self) -> Vec<PathBuf> {
        let root = self.path();
        std::fs::read_dir("/proc/self/fd")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .filter(|target| target.starts_with(&root))
            .collect()
    }
}

impl Drop for LoopDisk {
    fn drop(&mut self) {
        let _ = run(&["umount", "-l", &self.path().to_string_lossy()]);
    }
}
