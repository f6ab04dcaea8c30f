//! The last resort of logout: killing the visitor's processes when no program could end the
//! session (the seed's `pkill -u $USER`, made safe).
//!
//! Owns the guard rails: it never acts on root, on a system user (uid below `UID_MIN` or above
//! `UID_MAX` of `/etc/login.defs`, which also covers `nobody` and systemd's dynamic users), on a
//! user it cannot resolve, on a process whose real and effective uids are not both the visitor's
//! (a set-uid program), nor on the agent itself or its ancestors. The selection
//! ([`victims`]) and the target check ([`check_target`]) are pure and unit-tested; [`LastResort`]
//! scans `/proc` and sends SIGTERM, then SIGKILL to what is left after a grace period.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::DesktopError;

/// The label of the last resort in [`crate::Outcome::method`] and in failure lists.
pub const LAST_RESORT_METHOD: &str = "kill visitor processes";

/// How many scans of `/proc` [`LastResort::kill_uid_at_once`] makes at most.
const AT_ONCE_PASSES: usize = 16;

/// The range of uids of ordinary (human) users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UidRange {
    /// Lowest ordinary uid (`UID_MIN`, 1000 by default). Never below 1.
    pub min: u32,
    /// Highest ordinary uid (`UID_MAX`, 60000 by default).
    pub max: u32,
}

impl Default for UidRange {
    fn default() -> Self {
        UidRange {
            min: 1000,
            max: 60000,
        }
    }
}

impl UidRange {
    /// `UID_MIN` and `UID_MAX` from the text of a `login.defs` file, defaults for what is
    /// missing or unreadable. `UID_MIN` is never taken below 1.
    pub fn from_login_defs(text: &str) -> UidRange {
        let mut range = UidRange::default();
        for line in text.lines() {
            let mut words = line.split_whitespace();
            let (Some(key), Some(value)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(value) = value.parse::<u32>() else {
                continue;
            };
            match key {
                "UID_MIN" => range.min = value.max(1),
                "UID_MAX" => range.max = value,
                _ => {}
            }
        }
        range
    }

    /// The range of this machine: `/etc/login.defs`, or the defaults if it cannot be read.
    pub fn system() -> UidRange {
        std::fs::read_to_string("/etc/login.defs")
            .map(|t| UidRange::from_login_defs(&t))
            .unwrap_or_default()
    }

    /// Whether `uid` is an ordinary user's.
    pub fn contains(&self, uid: u32) -> bool {
        uid != 0 && uid >= self.min && uid <= self.max
    }
}

/// One process as read from `/proc/PID/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcEntry {
    /// Process id.
    pub pid: u32,
    /// Real uid (first field of `Uid:`).
    pub uid: u32,
    /// Effective uid (second field of `Uid:`).
    pub euid: u32,
    /// Parent process id (`PPid:`).
    pub ppid: u32,
}

/// Checks that `user` (resolved to `uid`, `None` when unknown) may be targeted, and returns its
/// uid; otherwise [`DesktopError::Refused`] saying why.
pub fn check_target(user: &str, uid: Option<u32>, range: UidRange) -> Result<u32, DesktopError> {
    let refuse = |why: String| Err(DesktopError::Refused(why));
    if user.trim().is_empty() {
        return refuse("no visitor user is known; not killing anything".into());
    }
    let Some(uid) = uid else {
        return refuse(format!(
            "unknown user {user:?}; not killing processes of a user that cannot be resolved"
        ));
    };
    if uid == 0 {
        return refuse(format!(
            "{user:?} is root (uid 0); never killing root's processes"
        ));
    }
    if uid < range.min {
        return refuse(format!(
            "{user:?} (uid {uid}) is a system user (below UID_MIN {}); not killing its processes",
            range.min
        ));
    }
    if uid > range.max {
        return refuse(format!(
            "{user:?} (uid {uid}) is not an ordinary user (above UID_MAX {}); not killing its processes",
            range.max
        ));
    }
    Ok(uid)
}

/// The pids to signal: processes whose real and effective uids are both `target_uid`, except
/// pids 0 and 1, the `protected` pids and all their ancestors (followed through `ppid` in
/// `procs`). Nothing at all when `target_uid` is root or outside `range`. Sorted.
pub fn victims(
    procs: &[ProcEntry],
    target_uid: u32,
    range: UidRange,
    protected: &[u32],
) -> Vec<u32> {
    if target_uid == 0 || !range.contains(target_uid) {
        return Vec::new();
    }
    let mut shielded: HashSet<u32> = HashSet::from([0, 1]);
    for &start in protected {
        let mut pid = start;
        // Bounded walk: a corrupt snapshot with a ppid cycle cannot loop forever.
        for _ in 0..=procs.len() {
            // Already shielded: its ancestors were walked (or there are none, or a cycle).
            if !shielded.insert(pid) {
                break;
            }
            match procs.iter().find(|p| p.pid == pid) {
                Some(p) => pid = p.ppid,
                None => break,
            }
        }
    }
    let mut out: Vec<u32> = procs
        .iter()
        .filter(|p| p.uid == target_uid && p.euid == target_uid)
        .map(|p| p.pid)
        .filter(|pid| !shielded.contains(pid))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Parses the text of `/proc/PID/status` into (real uid, effective uid, ppid); `None` for a
/// zombie (nothing left to kill) or an unreadable text.
pub fn parse_status(text: &str) -> Option<(u32, u32, u32)> {
    let mut ids = None;
    let mut ppid = None;
    for line in text.lines() {
        if let Some(state) = line.strip_prefix("State:") {
            if state.trim_start().starts_with(['Z', 'X']) {
                return None;
            }
        } else if let Some(rest) = line.strip_prefix("Uid:") {
            let mut f = rest.split_whitespace().map(str::parse::<u32>);
            if let (Some(Ok(real)), Some(Ok(eff))) = (f.next(), f.next()) {
                ids = Some((real, eff));
            }
        } else if let Some(rest) = line.strip_prefix("PPid:") {
            ppid = rest.trim().parse::<u32>().ok();
        }
    }
    let (uid, euid) = ids?;
    Some((uid, euid, ppid?))
}

/// Reads every process under `proc_root` (normally `/proc`); processes that vanish meanwhile
/// are skipped.
pub fn scan_proc(proc_root: &Path) -> Vec<ProcEntry> {
    let Ok(dir) = std::fs::read_dir(proc_root) else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let text = std::fs::read_to_string(entry.path().join("status")).ok()?;
            let (uid, euid, ppid) = parse_status(&text)?;
            Some(ProcEntry {
                pid,
                uid,
                euid,
                ppid,
            })
        })
        .collect()
}

/// What the last resort did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KillReport {
    /// Processes sent SIGTERM.
    pub terminated: usize,
    /// Processes still there after the grace period and sent SIGKILL.
    pub killed: usize,
    /// Processes still there at the end.
    pub remaining: usize,
}

/// The last resort: kills the processes of a user, with the guard rails of this module.
#[derive(Debug, Clone)]
pub struct LastResort {
    /// Ordinary users' uid range.
    pub range: UidRange,
    /// Where processes are listed (normally `/proc`).
    pub proc_root: PathBuf,
    /// Time between SIGTERM and SIGKILL (2 s by default).
    pub term_grace: Duration,
}

impl Default for LastResort {
    fn default() -> Self {
        LastResort {
            range: UidRange::system(),
            proc_root: PathBuf::from("/proc"),
            term_grace: Duration::from_secs(2),
        }
    }
}

impl LastResort {
    /// Kills the processes of the user named `user`, after resolving it (through NSS) and
    /// checking it with [`check_target`].
    pub fn kill_user(&self, user: &str) -> Result<KillReport, DesktopError> {
        let uid = lookup_uid(user);
        let uid = check_target(user, uid, self.range)?;
        self.kill_uid(user, uid)
    }

    /// Kills the processes of `uid` (`user` only names it in messages), sparing this process
    /// and its ancestors: SIGTERM, then SIGKILL to those still there after
    /// [`LastResort::term_grace`]. Refused for root and uids outside the range; an error when
    /// some process could not be signalled (e.g. the agent lacks the right).
    pub fn kill_uid(&self, user: &str, uid: u32) -> Result<KillReport, DesktopError> {
        let uid = check_target(user, Some(uid), self.range)?;
        let me = [std::process::id()];
        let targets = || victims(&scan_proc(&self.proc_root), uid, self.range, &me);

        let mut report = KillReport::default();
        let first = targets();
        if first.is_empty() {
            return Ok(report);
        }
        let mut denied = signal_all(&first, Sig::Term);
        report.terminated = first.len();

        let deadline = Instant::now() + self.term_grace;
        let mut left = targets();
        while !left.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            left = targets();
        }
        if !left.is_empty() {
            denied.extend(signal_all(&left, Sig::Kill));
            report.killed = left.len();
            // SIGKILL is not instant for a process in uninterruptible sleep: look once more.
            let deadline = Instant::now() + Duration::from_millis(500);
            while !left.is_empty() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
                left = targets();
            }
        }
        report.remaining = left.len();
        if report.remaining > 0 {
            denied.sort_unstable();
            denied.dedup();
            return Err(DesktopError::AllFailed {
                action: "logout",
                tried: vec![(
                    LAST_RESORT_METHOD.to_owned(),
                    format!(
                        "{} process(es) of {user} (uid {uid}) still running; could not signal {:?}",
                        report.remaining, denied
                    ),
                )],
            });
        }
        Ok(report)
    }

    /// SIGKILL to every process of `uid` at once, with no grace and no wait for them to go
    /// (for an account whose programs have nothing to save); answers how many were signalled.
    /// The same guard rails as [`LastResort::kill_uid`]; an error when some process could not
    /// be signalled.
    ///
    /// A process forked between a scan of `/proc` and the signals escapes that pass (a shell's
    /// loop starting its next `sleep`, a visitor's program respawning its workers), so `/proc`
    /// is scanned again until a pass finds no process it has not signalled yet. A killed
    /// process forks no more: a few passes do. They are bounded all the same; what a fork bomb
    /// leaves is logind's, which ends the account by its cgroup next.
    pub fn kill_uid_at_once(&self, user: &str, uid: u32) -> Result<usize, DesktopError> {
        let uid = check_target(user, Some(uid), self.range)?;
        let me = [std::process::id()];
        let mut signalled = HashSet::new();
        let mut denied = Vec::new();
        for _ in 0..AT_ONCE_PASSES {
            let new: Vec<u32> = victims(&scan_proc(&self.proc_root), uid, self.range, &me)
                .into_iter()
                .filter(|pid| !signalled.contains(pid))
                .collect();
            if new.is_empty() {
                break;
            }
            denied.extend(signal_all(&new, Sig::Kill));
            signalled.extend(new);
        }
        if !denied.is_empty() {
            return Err(DesktopError::AllFailed {
                action: "logout",
                tried: vec![(
                    LAST_RESORT_METHOD.to_owned(),
                    format!("could not signal {denied:?} of {user} (uid {uid})"),
                )],
            });
        }
        Ok(signalled.len())
    }
}

#[derive(Clone, Copy)]
enum Sig {
    Term,
    Kill,
}

/// Sends `sig` to each pid; returns the pids that could not be signalled for another reason
/// than having exited.
#[cfg(unix)]
fn signal_all(pids: &[u32], sig: Sig) -> Vec<u32> {
    use nix::errno::Errno;
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    let signal = match sig {
        Sig::Term => Signal::SIGTERM,
        Sig::Kill => Signal::SIGKILL,
    };
    pids.iter()
        .copied()
        .filter(|&pid| {
            let Ok(raw) = i32::try_from(pid) else {
                return true;
            };
            match kill(Pid::from_raw(raw), signal) {
                Ok(()) | Err(Errno::ESRCH) => false,
                Err(e) => {
                    tracing::warn!(pid, error = %e, "could not signal a visitor process");
                    true
                }
            }
        })
        .collect()
}

#[cfg(not(unix))]
fn signal_all(pids: &[u32], _sig: Sig) -> Vec<u32> {
    pids.to_vec()
}

/// The uid of `user` through the system's user database (NSS), `None` when unknown.
#[cfg(unix)]
pub fn lookup_uid(user: &str) -> Option<u32> {
    nix::unistd::User::from_name(user)
        .ok()
        .flatten()
        .map(|u| u.uid.as_raw())
}

/// The uid of `user`: never known on this platform.
#[cfg(not(unix))]
pub fn lookup_uid(_user: &str) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pid: u32, uid: u32, ppid: u32) -> ProcEntry {
        ProcEntry {
            pid,
            uid,
            euid: uid,
            ppid,
        }
    }

    /// init(1, root) → sshd(50, root) → agent(100, 1001) → shell(101, 1001)
    /// init(1) → systemd --user(200, 1001) → firefox(201, 1001), bash(202, 1001)
    /// init(1) → other user(300, 1002), daemon(400, uid 112), setuid passwd(500, real 1001 eff 0)
    fn table() -> Vec<ProcEntry> {
        vec![
            p(1, 0, 0),
            p(50, 0, 1),
            p(100, 1001, 50),
            p(101, 1001, 100),
            p(200, 1001, 1),
            p(201, 1001, 200),
            p(202, 1001, 200),
            p(300, 1002, 1),
            p(400, 112, 1),
            ProcEntry {
                pid: 500,
                uid: 1001,
                euid: 0,
                ppid: 202,
            },
        ]
    }

    #[test]
    fn only_the_target_user_and_never_the_agent_or_its_ancestors() {
        let range = UidRange::default();
        // The agent is pid 101 (a child of 100): 101 and its ancestor 100 are spared.
        assert_eq!(victims(&table(), 1001, range, &[101]), [200, 201, 202]);
        // Without protection, the set-uid process (effective root) is still spared.
        assert_eq!(
            victims(&table(), 1001, range, &[]),
            [100, 101, 200, 201, 202]
        );
        assert_eq!(victims(&table(), 1002, range, &[101]), [300]);
    }

    #[test]
    fn never_root_nor_system_users() {
        let range = UidRange::default();
        assert!(victims(&table(), 0, range, &[]).is_empty());
        assert!(victims(&table(), 112, range, &[]).is_empty());
        // Even a range misconfigured to start at 0 never lets root through.
        let open = UidRange { min: 0, max: 60000 };
        assert!(victims(&table(), 0, open, &[]).is_empty());
        // nobody (65534) is above UID_MAX.
        let with_nobody = vec![p(600, 65534, 1)];
        assert!(victims(&with_nobody, 65534, range, &[]).is_empty());
        // pid 1 is never a victim, whatever its uid claims.
        assert!(victims(&[p(1, 1001, 0)], 1001, range, &[]).is_empty());
    }

    #[test]
    fn ancestor_cycles_do_not_hang() {
        let cyclic = vec![p(10, 1001, 11), p(11, 1001, 10), p(12, 1001, 1)];
        assert_eq!(victims(&cyclic, 1001, UidRange::default(), &[10]), [12]);
    }

    #[test]
    fn check_target_reasons() {
        let range = UidRange::default();
        assert_eq!(check_target("visiteur", Some(1001), range).ok(), Some(1001));
        let reason = |r: Result<u32, DesktopError>| match r {
            Err(DesktopError::Refused(why)) => why,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert!(reason(check_target("root", Some(0), range)).contains("root"));
        assert!(reason(check_target("toor", Some(0), range)).contains("uid 0"));
        assert!(reason(check_target("www-data", Some(33), range)).contains("system user"));
        assert!(reason(check_target("nobody", Some(65534), range)).contains("UID_MAX"));
        assert!(reason(check_target("fantome", None, range)).contains("unknown user"));
        assert!(reason(check_target(" ", Some(1001), range)).contains("no visitor"));
    }

    #[test]
    fn login_defs() {
        let text = "# comment\nUID_MIN\t\t\t 500\nUID_MAX 29999\nSYS_UID_MIN 100\nGID_MIN 1000\n";
        assert_eq!(
            UidRange::from_login_defs(text),
            UidRange {
                min: 500,
                max: 29999
            }
        );
        assert_eq!(UidRange::from_login_defs(""), UidRange::default());
        assert_eq!(UidRange::from_login_defs("UID_MIN 0").min, 1);
        assert_eq!(
            UidRange::from_login_defs("UID_MIN abc\n#UID_MIN 5"),
            UidRange::default()
        );
    }

    #[test]
    fn status_parsing() {
        let text = "Name:\tbash\nState:\tS (sleeping)\nTgid:\t4242\nPid:\t4242\nPPid:\t4200\n\
                    Uid:\t1001\t1001\t1001\t1001\nGid:\t1001\t1001\t1001\t1001\n";
        assert_eq!(parse_status(text), Some((1001, 1001, 4200)));
        let setuid = "State:\tS (sleeping)\nPPid:\t1\nUid:\t1001\t0\t0\t0\n";
        assert_eq!(parse_status(setuid), Some((1001, 0, 1)));
        let zombie = "State:\tZ (zombie)\nPPid:\t1\nUid:\t1001\t1001\t1001\t1001\n";
        assert_eq!(parse_status(zombie), None);
        assert_eq!(parse_status("garbage"), None);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn scan_proc_sees_this_process() {
        let procs = scan_proc(Path::new("/proc"));
        let me = std::process::id();
        let mine = procs.iter().find(|p| p.pid == me);
        assert!(mine.is_some(), "own pid {me} not found in /proc scan");
        // This process's parent is listed too (it is the ancestor chain victims() protects).
        let parent = mine.map(|p| p.ppid).unwrap_or(0);
        assert!(parent == 0 || procs.iter().any(|p| p.pid == parent));
    }
}
