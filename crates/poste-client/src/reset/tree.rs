//! Makes a home directory equal to a template, as root, over a tree the visitor controlled.
//!
//! Everything in the home may be a trap planted by the last visitor: a symlink to `/etc`, a hard
//! link to a file of someone else, a fifo that blocks whoever opens it, a directory a million
//! levels deep, a name that is not UTF-8. So the walk works on directory descriptors (`openat`,
//! `fstatat`, `unlinkat`, `renameat` relative to an open directory, never a path re-resolved from
//! the top), never follows a symlink (`O_NOFOLLOW`, `AT_SYMLINK_NOFOLLOW`), never opens anything
//! but directories and regular files, never descends into another filesystem (a mount point is
//! left alone and reported), and never writes into an existing file: a file to restore is
//! written under a fresh name, given the visitor's uid/gid and the template's mode through its
//! own descriptor, then renamed over the old name, so a hard link to an outside file loses only
//! its name here. Failures are collected per entry and the walk goes on with the siblings; the
//! caller treats any failure as "not restored".

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, AtFlags, OFlag, openat, readlinkat, renameat};
use nix::sys::stat::{FileStat, Mode, SFlag, fchmod, fstat, fstatat, mkdirat};
use nix::unistd::{Gid, Uid, UnlinkatFlags, fchown, fchownat, symlinkat, unlinkat};

/// Deeper than this, a directory is not walked (each level holds a descriptor): reported.
pub const MAX_DEPTH: usize = 128;

/// Who the restored files belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}

/// One entry that could not be put right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Relative to the home (lossy for display; the walk itself uses the raw bytes).
    pub path: PathBuf,
    pub what: &'static str,
    pub errno: Errno,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.path.display(), self.what, self.errno)
    }
}

/// What a restore did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Entries of the home removed (each file, link, directory counted once).
    pub removed: usize,
    /// Files, links and directories written or re-owned from the template.
    pub written: usize,
    pub failures: Vec<Failure>,
}

/// Why a restore could not start or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("template {path}: {errno}")]
    Template { path: PathBuf, errno: Errno },
    #[error("home {path}: {errno}")]
    Home { path: PathBuf, errno: Errno },
    #[error("{} entries not restored (first: {})", .report.failures.len(), first(&.report.failures))]
    Incomplete { report: Report },
}

fn first(failures: &[Failure]) -> String {
    failures.first().map(Failure::to_string).unwrap_or_default()
}

/// Makes `home` equal to `template`, owned by `owner`, except the relative paths in `keep`
/// (left as they are in the home, whatever they are). `home`'s parent is trusted (root's); the
/// home itself is created if missing. Nothing of the template is changed.
pub fn restore(
    template: &Path,
    home: &Path,
    owner: Owner,
    keep: &[PathBuf],
) -> Result<Report, RestoreError> {
    let template_err = |errno| RestoreError::Template {
        path: template.to_owned(),
        errno,
    };
    let home_err = |errno| RestoreError::Home {
        path: home.to_owned(),
        errno,
    };
    let tpl = open_dir(AT_FDCWD, template.as_os_str()).map_err(template_err)?;
    let tpl_stat = fstat(&tpl).map_err(template_err)?;
    let home_fd = open_home(home).map_err(home_err)?;
    let home_stat = fstat(&home_fd).map_err(home_err)?;
    let mut walk = Walk {
        owner,
        dev: home_stat.st_dev,
        keep: keep.iter().cloned().collect(),
        report: Report::default(),
        temp: 0,
    };
    walk.sync_dir(tpl.as_fd(), home_fd.as_fd(), Path::new(""), 0);
    walk.set_owner_mode(&home_fd, perm(&tpl_stat), Path::new("."));
    if walk.report.failures.is_empty() {
        Ok(walk.report)
    } else {
        Err(RestoreError::Incomplete {
            report: walk.report,
        })
    }
}

/// Opens the home, creating it (0700) if missing; a symlink there is refused.
fn open_home(home: &Path) -> Result<OwnedFd, Errno> {
    match open_dir(AT_FDCWD, home.as_os_str()) {
        Err(Errno::ENOENT) => {
            let parent = home.parent().ok_or(Errno::EINVAL)?;
            let name = home.file_name().ok_or(Errno::EINVAL)?;
            let parent = open_dir(AT_FDCWD, parent.as_os_str())?;
            mkdirat(&parent, name, Mode::from_bits_truncate(0o700))?;
            open_dir(&parent, name)
        }
        other => other,
    }
}

fn open_dir<Fd: AsFd>(dir: Fd, name: &OsStr) -> Result<OwnedFd, Errno> {
    openat(
        dir,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

fn kind(stat: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits())
}

/// The permission bits restored: the template's, without set-uid and set-gid (a restored file
/// belongs to the visitor; nothing of the template should run with other rights).
fn perm(stat: &FileStat) -> Mode {
    Mode::from_bits_truncate(stat.st_mode & 0o1777)
}

fn lstat_at(dir: BorrowedFd<'_>, name: &OsStr) -> Result<Option<FileStat>, Errno> {
    match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(stat) => Ok(Some(stat)),
        Err(Errno::ENOENT) => Ok(None),
        Err(errno) => Err(errno),
    }
}

/// The names in a directory, raw bytes, without `.` and `..`.
fn names(dir: BorrowedFd<'_>) -> Result<Vec<OsString>, Errno> {
    // A fresh descriptor of the same directory: `Dir` takes ownership and moves its offset.
    let mut listing = Dir::openat(
        dir,
        ".",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let mut names = Vec::new();
    for entry in listing.iter() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(OsStr::from_bytes(name).to_owned());
        }
    }
    Ok(names)
}

struct Walk {
    owner: Owner,
    /// The home's filesystem: nothing elsewhere is touched.
    dev: u64,
    keep: HashSet<PathBuf>,
    report: Report,
    temp: u64,
}

impl Walk {
    fn fail(&mut self, path: &Path, what: &'static str, errno: Errno) {
        tracing::warn!(path = %path.display(), what, %errno, "home restore");
        self.report.failures.push(Failure {
            path: path.to_owned(),
            what,
            errno,
        });
    }

    /// Opens a directory of the home already seen by `fstatat` as `seen`, and checks that the
    /// descriptor is that very directory on the home's filesystem.
    fn enter(
        &mut self,
        dir: BorrowedFd<'_>,
        name: &OsStr,
        seen: &FileStat,
        rel: &Path,
        depth: usize,
    ) -> Option<OwnedFd> {
        if seen.st_dev != self.dev {
            self.fail(
                rel,
                "autre système de fichiers (point de montage)",
                Errno::EXDEV,
            );
            return None;
        }
        if depth >= MAX_DEPTH {
            self.fail(rel, "arborescence trop profonde", Errno::ELOOP);
            return None;
        }
        match open_dir(dir, name) {
            Ok(fd) => match fstat(&fd) {
                Ok(now) if now.st_dev == seen.st_dev && now.st_ino == seen.st_ino => Some(fd),
                Ok(_) => {
                    self.fail(rel, "remplacé pendant la restauration", Errno::EAGAIN);
                    None
                }
                Err(errno) => {
                    self.fail(rel, "lecture", errno);
                    None
                }
            },
            Err(errno) => {
                self.fail(rel, "ouverture", errno);
                None
            }
        }
    }

    /// Removes one entry of the home, a directory with everything under it. Never opens
    /// anything but directories, so a fifo or a device is only unlinked.
    fn remove(&mut self, dir: BorrowedFd<'_>, name: &OsStr, rel: &Path, depth: usize) {
        let stat = match lstat_at(dir, name) {
            Ok(Some(stat)) => stat,
            Ok(None) => return,
            Err(errno) => return self.fail(rel, "lecture", errno),
        };
        if kind(&stat) == SFlag::S_IFDIR {
            let Some(fd) = self.enter(dir, name, &stat, rel, depth) else {
                return;
            };
            let before = self.report.failures.len();
            match names(fd.as_fd()) {
                Ok(children) => {
                    for child in children {
                        self.remove(fd.as_fd(), &child, &rel.join(&child), depth + 1);
                    }
                }
                Err(errno) => self.fail(rel, "lecture du répertoire", errno),
            }
            drop(fd);
            match unlinkat(dir, name, UnlinkatFlags::RemoveDir) {
                Ok(()) => self.report.removed += 1,
                // Already reported through the child that stayed.
                Err(Errno::ENOTEMPTY | Errno::EEXIST) if self.report.failures.len() > before => {}
                Err(errno) => self.fail(rel, "suppression", errno),
            }
        } else {
            match unlinkat(dir, name, UnlinkatFlags::NoRemoveDir) {
                Ok(()) => self.report.removed += 1,
                Err(errno) => self.fail(rel, "suppression", errno),
            }
        }
    }

    /// Whether a kept path lies strictly under `path`.
    fn holds_kept(&self, path: &Path) -> bool {
        self.keep.iter().any(|k| k != path && k.starts_with(path))
    }

    /// Removes everything under an extra directory except the kept paths below it.
    fn prune(&mut self, dir: BorrowedFd<'_>, name: &OsStr, rel: &Path, depth: usize) {
        let stat = match lstat_at(dir, name) {
            Ok(Some(stat)) => stat,
            Ok(None) => return,
            Err(errno) => return self.fail(rel, "lecture", errno),
        };
        if kind(&stat) != SFlag::S_IFDIR {
            return self.remove(dir, name, rel, depth);
        }
        let Some(fd) = self.enter(dir, name, &stat, rel, depth) else {
            return;
        };
        match names(fd.as_fd()) {
            Ok(children) => {
                for child in children {
                    let path = rel.join(&child);
                    if self.keep.contains(&path) {
                        continue;
                    }
                    if self.holds_kept(&path) {
                        self.prune(fd.as_fd(), &child, &path, depth + 1);
                    } else {
                        self.remove(fd.as_fd(), &child, &path, depth + 1);
                    }
                }
            }
            Err(errno) => self.fail(rel, "lecture du répertoire", errno),
        }
    }

    fn sync_dir(&mut self, tpl: BorrowedFd<'_>, home: BorrowedFd<'_>, rel: &Path, depth: usize) {
        let wanted = match names(tpl) {
            Ok(names) => names,
            // Without the template's list, removing "extras" would remove everything.
            Err(errno) => return self.fail(rel, "modèle illisible", errno),
        };
        let present = match names(home) {
            Ok(names) => names,
            Err(errno) => return self.fail(rel, "lecture du répertoire", errno),
        };
        let wanted_set: HashSet<&OsString> = wanted.iter().collect();
        for name in &present {
            let path = rel.join(name);
            if wanted_set.contains(name) || self.keep.contains(&path) {
                continue;
            }
            if self.holds_kept(&path) {
                self.prune(home, name, &path, depth);
            } else {
                self.remove(home, name, &path, depth);
            }
        }
        for name in &wanted {
            let path = rel.join(name);
            if !self.keep.contains(&path) {
                self.sync_entry(tpl, home, name, &path, depth);
            }
        }
    }

    fn sync_entry(
        &mut self,
        tpl: BorrowedFd<'_>,
        home: BorrowedFd<'_>,
        name: &OsStr,
        rel: &Path,
        depth: usize,
    ) {
        let wanted = match lstat_at(tpl, name) {
            Ok(Some(stat)) => stat,
            Ok(None) => return,
            Err(errno) => return self.fail(rel, "modèle illisible", errno),
        };
        let present = match lstat_at(home, name) {
            Ok(present) => present,
            Err(errno) => return self.fail(rel, "lecture", errno),
        };
        let wanted_kind = kind(&wanted);
        let present_kind = present.as_ref().map(kind);
        // Whatever is in the way and of another kind goes first (a rename cannot replace a
        // directory by a file, and a directory must not be mistaken for a file).
        if let Some(present_kind) = present_kind
            && present_kind != wanted_kind
            && (present_kind == SFlag::S_IFDIR || wanted_kind == SFlag::S_IFDIR)
        {
            self.remove(home, name, rel, depth);
            if matches!(lstat_at(home, name), Ok(Some(_))) {
                return;
            }
        }
        match wanted_kind {
            SFlag::S_IFDIR => self.sync_subdir(tpl, home, name, rel, depth, &wanted),
            SFlag::S_IFREG => self.sync_file(tpl, home, name, rel, &wanted, present.as_ref()),
            SFlag::S_IFLNK => self.sync_link(tpl, home, name, rel, present.as_ref()),
            // Fifos, sockets and devices of a template are not recreated.
            _ => {
                tracing::warn!(path = %rel.display(), "special file of the template not restored");
                if present.is_some() {
                    self.remove(home, name, rel, depth);
                }
            }
        }
    }

    fn sync_subdir(
        &mut self,
        tpl: BorrowedFd<'_>,
        home: BorrowedFd<'_>,
        name: &OsStr,
        rel: &Path,
        depth: usize,
        wanted: &FileStat,
    ) {
        let present = match lstat_at(home, name) {
            Ok(Some(stat)) => stat,
            Ok(None) => {
                if let Err(errno) = mkdirat(home, name, Mode::from_bits_truncate(0o700)) {
                    return self.fail(rel, "création", errno);
                }
                match lstat_at(home, name) {
                    Ok(Some(stat)) => stat,
                    Ok(None) => return self.fail(rel, "création", Errno::ENOENT),
                    Err(errno) => return self.fail(rel, "lecture", errno),
                }
            }
            Err(errno) => return self.fail(rel, "lecture", errno),
        };
        let Some(fd) = self.enter(home, name, &present, rel, depth + 1) else {
            return;
        };
        let tpl_fd = match open_dir(tpl, name) {
            Ok(fd) => fd,
            Err(errno) => return self.fail(rel, "modèle illisible", errno),
        };
        self.sync_dir(tpl_fd.as_fd(), fd.as_fd(), rel, depth + 1);
        // Last, so that a read-only template directory does not stop its own restore.
        self.set_owner_mode(&fd, perm(wanted), rel);
    }

    fn set_owner_mode(&mut self, fd: &OwnedFd, mode: Mode, rel: &Path) {
        let stat = fstat(fd).ok();
        let right = stat.is_some_and(|s| {
            s.st_uid == self.owner.uid && s.st_gid == self.owner.gid && perm(&s) == mode
        });
        if right {
            return;
        }
        // Owner first: chown clears set-id bits, and the mode is the last word.
        if let Err(errno) = fchown(
            fd,
            Some(Uid::from_raw(self.owner.uid)),
            Some(Gid::from_raw(self.owner.gid)),
        ) {
            return self.fail(rel, "propriétaire", errno);
        }
        match fchmod(fd, mode) {
            Ok(()) => self.report.written += 1,
            Err(errno) => self.fail(rel, "droits", errno),
        }
    }

    /// A name for a new entry in `dir` that nobody has (the visitor's processes are gone, but
    /// a file of that name may have been left).
    fn temp_name(&mut self) -> OsString {
        self.temp += 1;
        OsString::from(format!(
            ".poste-restauration.{}.{}",
            std::process::id(),
            self.temp
        ))
    }

    fn sync_file(
        &mut self,
        tpl: BorrowedFd<'_>,
        home: BorrowedFd<'_>,
        name: &OsStr,
        rel: &Path,
        wanted: &FileStat,
        present: Option<&FileStat>,
    ) {
        let source = match openat(
            tpl,
            name,
            OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK,
            Mode::empty(),
        ) {
            Ok(fd) => File::from(fd),
            Err(errno) => return self.fail(rel, "modèle illisible", errno),
        };
        if let Some(present) = present
            && self.unchanged(home, name, wanted, present, &source)
        {
            return;
        }
        let mut source = match openat(
            tpl,
            name,
            OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => File::from(fd),
            Err(errno) => return self.fail(rel, "modèle illisible", errno),
        };
        let (temp, fd) = match self.create_temp(home) {
            Ok(created) => created,
            Err(errno) => return self.fail(rel, "création", errno),
        };
        let mut target = File::from(fd);
        let written = std::io::copy(&mut source, &mut target)
            .map_err(|err| err.raw_os_error().map_or(Errno::EIO, Errno::from_raw))
            .and_then(|_| {
                fchown(
                    &target,
                    Some(Uid::from_raw(self.owner.uid)),
                    Some(Gid::from_raw(self.owner.gid)),
                )
            })
            .and_then(|()| fchmod(&target, perm(wanted)))
            .and_then(|()| renameat(home, temp.as_os_str(), home, name));
        drop(target);
        match written {
            Ok(()) => self.report.written += 1,
            Err(errno) => {
                let _ = unlinkat(home, temp.as_os_str(), UnlinkatFlags::NoRemoveDir);
                self.fail(rel, "écriture", errno);
            }
        }
    }

    fn create_temp(&mut self, home: BorrowedFd<'_>) -> Result<(OsString, OwnedFd), Errno> {
        for _ in 0..64 {
            let temp = self.temp_name();
            match openat(
                home,
                temp.as_os_str(),
                OFlag::O_WRONLY
                    | OFlag::O_CREAT
                    | OFlag::O_EXCL
                    | OFlag::O_NOFOLLOW
                    | OFlag::O_CLOEXEC,
                Mode::from_bits_truncate(0o600),
            ) {
                Ok(fd) => return Ok((temp, fd)),
                Err(Errno::EEXIST) => continue,
                Err(errno) => return Err(errno),
            }
        }
        Err(Errno::EEXIST)
    }

    /// The home's file is already the template's: a regular file with one name only (a hard
    /// link to something else is replaced), the right owner, mode and content.
    fn unchanged(
        &self,
        home: BorrowedFd<'_>,
        name: &OsStr,
        wanted: &FileStat,
        present: &FileStat,
        source: &File,
    ) -> bool {
        if kind(present) != SFlag::S_IFREG
            || present.st_nlink != 1
            || present.st_size != wanted.st_size
            || present.st_uid != self.owner.uid
            || present.st_gid != self.owner.gid
            || perm(present) != perm(wanted)
        {
            return false;
        }
        let Ok(fd) = openat(
            home,
            name,
            OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK,
            Mode::empty(),
        ) else {
            return false;
        };
        // The descriptor must be the file that was looked at.
        match fstat(&fd) {
            Ok(now) if now.st_ino == present.st_ino && now.st_dev == present.st_dev => {}
            _ => return false,
        }
        same_content(source, &File::from(fd))
    }

    fn sync_link(
        &mut self,
        tpl: BorrowedFd<'_>,
        home: BorrowedFd<'_>,
        name: &OsStr,
        rel: &Path,
        present: Option<&FileStat>,
    ) {
        let target = match readlinkat(tpl, name) {
            Ok(target) => target,
            Err(errno) => return self.fail(rel, "modèle illisible", errno),
        };
        if let Some(present) = present
            && kind(present) == SFlag::S_IFLNK
            && present.st_uid == self.owner.uid
            && present.st_gid == self.owner.gid
            && readlinkat(home, name).is_ok_and(|have| have == target)
        {
            return;
        }
        let temp = self.temp_name();
        let made = symlinkat(target.as_os_str(), home, temp.as_os_str())
            .and_then(|()| {
                fchownat(
                    home,
                    temp.as_os_str(),
                    Some(Uid::from_raw(self.owner.uid)),
                    Some(Gid::from_raw(self.owner.gid)),
                    AtFlags::AT_SYMLINK_NOFOLLOW,
                )
            })
            .and_then(|()| renameat(home, temp.as_os_str(), home, name));
        match made {
            Ok(()) => self.report.written += 1,
            Err(errno) => {
                let _ = unlinkat(home, temp.as_os_str(), UnlinkatFlags::NoRemoveDir);
                self.fail(rel, "lien", errno);
            }
        }
    }
}

fn same_content(a: &File, b: &File) -> bool {
    let (mut a, mut b) = (a, b);
    let mut left = [0u8; 8192];
    let mut right = [0u8; 8192];
    loop {
        let n = match a.read(&mut left) {
            Ok(n) => n,
            Err(_) => return false,
        };
        if n == 0 {
            return matches!(b.read(&mut right[..1]), Ok(0));
        }
        if b.read_exact(&mut right[..n]).is_err() || left[..n] != right[..n] {
            return false;
        }
    }
}

#[cfg(test)]
mod tests;
