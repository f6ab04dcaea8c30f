//! Execution: [`CommandDesktop`] runs method chains as real processes, one after the other,
//! until one works, and implements the [`ScreenLocker`], [`SessionTerminator`], [`Notifier`]
//! and [`PowerSwitch`] traits with them. The process part ([`Runner`]) and the chain
//! ([`first_working`]) are shared with the Windows implementation (`win`), whose fallbacks are
//! programs too.
//!
//! Each program is found on the [`Environment`]'s own `PATH` and started by absolute path, with
//! the environment's variables, stdin null, and stdout/stderr captured in anonymous temporary
//! files (no pipe can fill up and block it, no reader thread can hang on a grandchild that keeps
//! a pipe open). On Unix it runs in a process group of its own so that a timeout kills the
//! program and everything it started; on Windows it runs with no console window of its own, and a
//! timeout kills the program.
//!
//! Two kinds of methods:
//! - ordinary ones must exit within the timeout (5 s by default): exit status 0 means it worked;
//!   past the timeout the group is sent SIGKILL and the next method runs;
//! - detached ones ([`Method::is_detached`]: `slock`, `xtrlock`, `zenity`, `kdialog`, `xmessage`,
//!   and Windows' `powershell` popup)
//!   stay until the visitor unlocks or closes them, so waiting for them would block the agent:
//!   they worked if they are still running after a short grace period (1 s by default), or
//!   exited 0 within it. They are left running, never killed, and a background thread reaps them
//!   when they end.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tracing::{debug, error, info, warn};

use crate::detect::{Desktop, Environment};
use crate::methods::Method;
use crate::{DesktopError, Outcome};
#[cfg(unix)]
use crate::{
    Notifier, PowerSwitch, ScreenLocker, SessionTerminator,
    detect::detect,
    kill::{LAST_RESORT_METHOD, LastResort},
    methods::{
        Notification, PowerAction, lock_methods, logout_methods_for, notify_methods, power_methods,
    },
};

/// How long an ordinary method may run before it is killed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a detached method must survive (or take to exit 0) to count as having worked.
pub const DEFAULT_DETACH_GRACE: Duration = Duration::from_secs(1);
/// How much of a program's stdout and stderr is kept for the logs.
const OUTPUT_LIMIT: u64 = 16 * 1024;
/// How often a running program is checked on.
const POLL: Duration = Duration::from_millis(10);

/// Runs method chains as real processes and reports which method worked.
///
/// Built from an [`Environment`] (the session to act on): the desktop is detected once, the
/// visitor is `$USER` unless [`CommandDesktop::with_visitor`] says otherwise, and the last
/// resort of logout (killing the visitor's processes, see `kill.rs`) is enabled.
#[cfg(unix)]
#[derive(Debug, Clone)]
pub struct CommandDesktop {
    desktop: Desktop,
    runner: Runner,
    visitor: Option<String>,
    last_resort: bool,
    kill: LastResort,
}

#[cfg(unix)]
impl CommandDesktop {
    /// A desktop controller for `env`, with the default timeouts.
    pub fn new(env: Environment) -> Self {
        CommandDesktop {
            desktop: detect(&env),
            visitor: env.var("USER").map(str::to_owned),
            runner: Runner::new(env),
            last_resort: true,
            kill: LastResort::default(),
        }
    }

    /// Sets how long an ordinary method may run before it is killed (default 5 s).
    pub fn with_timeout(mut self, d: Duration) -> Self {
        self.runner.timeout = d;
        self
    }

    /// Sets how long a detached method must keep running to count as having worked (default 1 s).
    pub fn with_detach_grace(mut self, d: Duration) -> Self {
        self.runner.detach_grace = d;
        self
    }

    /// Sets the visitor whose session logout ends (default: `$USER` of the environment). An
    /// agent that does not run as the visitor must set it.
    pub fn with_visitor(mut self, user: impl Into<String>) -> Self {
        self.visitor = Some(user.into());
        self
    }

    /// Enables or disables the last resort of logout, killing the visitor's processes
    /// (enabled by default).
    pub fn with_last_resort(mut self, enabled: bool) -> Self {
        self.last_resort = enabled;
        self
    }

    /// Sets the delay between SIGTERM and SIGKILL of the last resort (default 2 s).
    pub fn with_kill_grace(mut self, d: Duration) -> Self {
        self.kill.term_grace = d;
        self
    }

    /// Replaces the last resort's settings (uid range, `/proc` location, SIGTERM→SIGKILL delay).
    pub fn with_last_resort_policy(mut self, policy: LastResort) -> Self {
        self.kill = policy;
        self
    }

    /// The detected desktop.
    pub fn desktop(&self) -> &Desktop {
        &self.desktop
    }

    /// The environment methods are looked up and run in.
    pub fn environment(&self) -> &Environment {
        &self.runner.env
    }

    /// The visitor whose session logout ends, if known.
    pub fn visitor(&self) -> Option<&str> {
        self.visitor.as_deref()
    }

    /// The timeout of ordinary methods.
    pub fn timeout(&self) -> Duration {
        self.runner.timeout
    }

    /// The lock methods that [`ScreenLocker::lock`] tries, in order.
    pub fn lock_methods(&self) -> Vec<Method> {
        lock_methods(&self.desktop, &self.runner.env)
    }

    /// The logout methods that [`SessionTerminator::logout`] tries, in order (the last resort
    /// comes after them).
    pub fn logout_methods(&self) -> Vec<Method> {
        logout_methods_for(&self.desktop, &self.runner.env, self.visitor.as_deref())
    }

    /// The notification methods that [`Notifier::notify`] tries, in order.
    pub fn notify_methods(&self, n: &Notification) -> Vec<Method> {
        notify_methods(&self.runner.env, n)
    }

    /// The power methods that [`PowerSwitch::power`] tries, in order.
    pub fn power_methods(&self, action: PowerAction) -> Vec<Method> {
        power_methods(&self.runner.env, action)
    }

    /// Runs `methods` in order until one works; `action` names the action in logs and errors.
    /// Logs at info which method worked, and at error when none did.
    pub fn run(&self, action: &'static str, methods: &[Method]) -> Result<Outcome, DesktopError> {
        let result = self.attempt(action, methods);
        if let Err(e) = &result {
            report_failure(&self.desktop, e);
        }
        result
    }

    /// Runs one method: `Ok` if it worked, else why not (exit code, not found, timed out…).
    pub fn try_method(&self, m: &Method) -> Result<(), String> {
        self.runner.try_method(m)
    }

    /// Runs the chain without the final error log (logout still has its last resort).
    fn attempt(&self, action: &'static str, methods: &[Method]) -> Result<Outcome, DesktopError> {
        first_working(
            action,
            &self.desktop,
            methods,
            |m| m.name.clone(),
            |m| self.runner.try_method(m),
        )
    }
}

/// Tries `methods` in order until one works (`try_one` returns `Ok`), logging each failure at
/// warn and the success at info; `name` labels a method in logs, in the [`Outcome`] and in the
/// error's list of what was tried. No method at all is [`DesktopError::NoMethod`], every one
/// failing [`DesktopError::AllFailed`] (not logged here: see [`report_failure`]).
pub(crate) fn first_working<M>(
    action: &'static str,
    desktop: &Desktop,
    methods: &[M],
    name: impl Fn(&M) -> String,
    mut try_one: impl FnMut(&M) -> Result<(), String>,
) -> Result<Outcome, DesktopError> {
    if methods.is_empty() {
        return Err(DesktopError::NoMethod { action });
    }
    let mut tried = Vec::new();
    for m in methods {
        let method = name(m);
        match try_one(m) {
            Ok(()) => {
                info!(action, %method, %desktop, failed_before = tried.len(), "desktop action done");
                return Ok(Outcome { method });
            }
            Err(reason) => {
                warn!(action, %method, %reason, "method failed, trying the next one");
                tried.push((method, reason));
            }
        }
    }
    Err(DesktopError::AllFailed { action, tried })
}

/// The loud log line of an action that did not happen.
pub(crate) fn report_failure(desktop: &Desktop, e: &DesktopError) {
    error!(%desktop, error = %e, "DESKTOP ACTION FAILED: {e}");
}

/// Runs one program method at a time, found on its environment's `PATH`, with a timeout (or a
/// grace period for detached ones): the process part of [`CommandDesktop`] and of the Windows
/// implementation.
#[derive(Debug, Clone)]
pub(crate) struct Runner {
    /// Where programs are looked up, and the variables they get.
    pub(crate) env: Environment,
    /// How long an ordinary method may run before it is killed.
    pub(crate) timeout: Duration,
    /// How long a detached method must keep running to count as having worked.
    pub(crate) detach_grace: Duration,
}

impl Runner {
    /// A runner for `env` with the default timeouts.
    pub(crate) fn new(env: Environment) -> Runner {
        Runner {
            env,
            timeout: DEFAULT_TIMEOUT,
            detach_grace: DEFAULT_DETACH_GRACE,
        }
    }

    /// Runs one method: `Ok` if it worked, else why not (exit code, not found, timed out…).
    pub(crate) fn try_method(&self, m: &Method) -> Result<(), String> {
        let Some(path) = self.env.resolve(&m.program) else {
            return Err("not found on PATH".into());
        };
        debug!(method = %m.name, program = %path.display(), args = ?m.args, "running");
        let stdout = capture_file();
        let stderr = capture_file();
        let mut cmd = Command::new(&path);
        cmd.args(&m.args)
            .envs(&self.env.vars)
            .env("PATH", self.env.path())
            .stdin(Stdio::null())
            .stdout(stdio_for(stdout.as_ref()))
            .stderr(stdio_for(stderr.as_ref()));
        own_process_group(&mut cmd);
        let child = spawn(&mut cmd).map_err(|e| format!("could not start: {e}"))?;
        let output = Output { stdout, stderr };
        if m.is_detached() {
            self.wait_detached(child, m, output)
        } else {
            self.wait_bounded(child, m, output)
        }
    }

    /// An ordinary method: waits up to the timeout, then kills its process group.
    fn wait_bounded(&self, mut child: Child, m: &Method, output: Output) -> Result<(), String> {
        let start = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return output.judge(m, status),
                Ok(None) if start.elapsed() >= self.timeout => {
                    kill_group(&mut child);
                    let _ = child.wait();
                    output.log(m, None);
                    return Err(format!(
                        "timed out after {} ms (killed)",
                        self.timeout.as_millis()
                    ));
                }
                Ok(None) => std::thread::sleep(POLL),
                Err(e) => {
                    kill_group(&mut child);
                    let _ = child.wait();
                    return Err(format!("could not wait for it: {e}"));
                }
            }
        }
    }

    /// A detached method: worked if still running after the grace period (then left running and
    /// reaped in the background) or exited 0 within it.
    fn wait_detached(&self, mut child: Child, m: &Method, output: Output) -> Result<(), String> {
        let start = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return output.judge(m, status),
                Ok(None) if start.elapsed() >= self.detach_grace => {
                    debug!(method = %m.name, pid = child.id(), "still running after the grace period: left running");
                    let name = m.name.clone();
                    let reaper = std::thread::Builder::new()
                        .name("poste-desktop-reaper".into())
                        .spawn(move || {
                            let status = child.wait();
                            debug!(method = %name, ?status, "detached program ended");
                            output.log_named(&name, None);
                        });
                    if let Err(e) = reaper {
                        // The program still works; it only stays a zombie once it ends.
                        warn!(method = %m.name, error = %e, "could not start a thread to reap a detached program");
                    }
                    return Ok(());
                }
                Ok(None) => std::thread::sleep(POLL),
                Err(e) => return Err(format!("could not wait for it: {e}")),
            }
        }
    }
}

#[cfg(unix)]
impl ScreenLocker for CommandDesktop {
    fn lock(&self) -> Result<Outcome, DesktopError> {
        self.run("lock", &self.lock_methods())
    }
}

#[cfg(unix)]
impl Notifier for CommandDesktop {
    fn notify(&self, n: &Notification) -> Result<Outcome, DesktopError> {
        self.run("notify", &self.notify_methods(n))
    }
}

#[cfg(unix)]
impl PowerSwitch for CommandDesktop {
    fn power(&self, action: PowerAction) -> Result<Outcome, DesktopError> {
        self.run(action.as_str(), &self.power_methods(action))
    }
}

#[cfg(unix)]
impl SessionTerminator for CommandDesktop {
    /// The logout methods in order; if none exists or all fail and the last resort is enabled,
    /// kills the visitor's processes (never root's, a system user's, or the agent's).
    fn logout(&self) -> Result<Outcome, DesktopError> {
        let mut tried = match self.attempt("logout", &self.logout_methods()) {
            Ok(outcome) => return Ok(outcome),
            Err(DesktopError::AllFailed { tried, .. }) => tried,
            Err(DesktopError::NoMethod { .. }) => Vec::new(),
            Err(e) => {
                report_failure(&self.desktop, &e);
                return Err(e);
            }
        };
        let result = if !self.last_resort {
            Err(if tried.is_empty() {
                DesktopError::NoMethod { action: "logout" }
            } else {
                DesktopError::AllFailed {
                    action: "logout",
                    tried,
                }
            })
        } else {
            let user = self.visitor.clone().unwrap_or_default();
            warn!(user = %user, failed = tried.len(), "no program ended the session: last resort, killing the visitor's processes");
            match self.kill.kill_user(&user) {
                Ok(report) => {
                    info!(action = "logout", method = LAST_RESORT_METHOD, user = %user, terminated = report.terminated, killed = report.killed, "desktop action done");
                    return Ok(Outcome {
                        method: LAST_RESORT_METHOD.to_owned(),
                    });
                }
                Err(DesktopError::AllFailed { tried: more, .. }) => {
                    tried.extend(more);
                    Err(DesktopError::AllFailed {
                        action: "logout",
                        tried,
                    })
                }
                Err(refused) => {
                    if !tried.is_empty() {
                        error!(tried = %crate::summary(&tried), "every logout method failed before the refusal");
                    }
                    Err(refused)
                }
            }
        };
        if let Err(e) = &result {
            report_failure(&self.desktop, e);
        }
        result
    }
}

/// A program's captured stdout and stderr.
struct Output {
    stdout: Option<File>,
    stderr: Option<File>,
}

impl Output {
    /// Logs the output and turns the exit status into the method's result.
    fn judge(self, m: &Method, status: ExitStatus) -> Result<(), String> {
        let stderr = self.log(m, Some(status));
        if status.success() {
            return Ok(());
        }
        let detail = stderr
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(|l| format!(": {}", l.chars().take(200).collect::<String>()))
            .unwrap_or_default();
        match status.code() {
            Some(code) => Err(format!("exit code {code}{detail}")),
            None => Err(format!("{}{detail}", describe_signal(status))),
        }
    }

    /// Logs stdout and stderr at debug; returns stderr.
    fn log(&self, m: &Method, status: Option<ExitStatus>) -> String {
        self.log_named(&m.name, status)
    }

    fn log_named(&self, name: &str, status: Option<ExitStatus>) -> String {
        let stdout = read_capture(self.stdout.as_ref());
        let stderr = read_capture(self.stderr.as_ref());
        debug!(method = %name, ?status, stdout = %stdout.trim_end(), stderr = %stderr.trim_end(), "program output");
        stderr
    }
}

/// Runs `program` (looked up on `env`'s `PATH`) with `args` and returns what it printed on
/// standard output (up to 16 KiB) if it exited 0 within `timeout`, else why not. Past the
/// timeout it is killed with what it started: for the agent's questions to logind, which must
/// not stall their caller when logind hangs.
pub fn output_within(
    env: &Environment,
    program: &str,
    args: &[&str],
    timeout: Duration,
) -> Result<String, String> {
    let Some(path) = env.resolve(program) else {
        return Err(format!("{program}: not found on PATH"));
    };
    let stdout =
        capture_file().ok_or_else(|| format!("{program}: no file to capture its output"))?;
    let mut cmd = Command::new(&path);
    cmd.args(args)
        .envs(&env.vars)
        .env("PATH", env.path())
        .stdin(Stdio::null())
        .stdout(stdio_for(Some(&stdout)))
        .stderr(Stdio::null());
    own_process_group(&mut cmd);
    let mut child = spawn(&mut cmd).map_err(|e| format!("{program}: could not start: {e}"))?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(read_capture(Some(&stdout))),
            Ok(Some(status)) => return Err(format!("{program}: {status}")),
            Ok(None) if start.elapsed() >= timeout => {
                kill_group(&mut child);
                let _ = child.wait();
                return Err(format!(
                    "{program}: timed out after {} ms (killed)",
                    timeout.as_millis()
                ));
            }
            Ok(None) => std::thread::sleep(POLL),
            Err(e) => {
                kill_group(&mut child);
                let _ = child.wait();
                return Err(format!("{program}: could not wait for it: {e}"));
            }
        }
    }
}

fn capture_file() -> Option<File> {
    tempfile::tempfile()
        .inspect_err(|e| debug!(error = %e, "no temporary file to capture output; discarding it"))
        .ok()
}

fn stdio_for(file: Option<&File>) -> Stdio {
    file.and_then(|f| f.try_clone().ok())
        .map_or_else(Stdio::null, Stdio::from)
}

fn read_capture(file: Option<&File>) -> String {
    let Some(mut f) = file else {
        return String::new();
    };
    let mut buf = Vec::new();
    if f.seek(SeekFrom::Start(0)).is_ok() {
        let _ = f.take(OUTPUT_LIMIT).read_to_end(&mut buf);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Spawns, retrying briefly on "text file busy": an executable just written by another thread
/// of this process can be held open for an instant by a fork in progress.
fn spawn(cmd: &mut Command) -> std::io::Result<Child> {
    let mut attempt = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && attempt < 5 => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(20 * attempt));
            }
            other => return other,
        }
    }
}

#[cfg(unix)]
fn own_process_group(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
}

/// Windows: a process group of its own too (no Ctrl+C from the agent's console), and no console
/// window: `msg` or `powershell` started by an agent without a console (a service, a GUI helper)
/// would otherwise flash one. A popup that `powershell` opens still shows.
#[cfg(windows)]
fn own_process_group(cmd: &mut Command) {
    use std::os::windows::process::CommandExt;
    const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
    const CREATE_NO_WINDOW: u32 = 0x0800_0000;
    cmd.creation_flags(CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW);
}

#[cfg(not(any(unix, windows)))]
fn own_process_group(_cmd: &mut Command) {}

/// Kills the program and everything it started (its process group, of which it is the leader).
#[cfg(unix)]
fn kill_group(child: &mut Child) {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    if let Ok(pgid) = i32::try_from(child.id()) {
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
    }
    let _ = child.kill();
}

/// Elsewhere (Windows): kills the program itself; what it started is left to end on its own.
#[cfg(not(unix))]
fn kill_group(child: &mut Child) {
    let _ = child.kill();
}

#[cfg(unix)]
fn describe_signal(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(sig) => format!("killed by signal {sig}"),
        None => format!("ended abnormally ({status})"),
    }
}

#[cfg(not(unix))]
fn describe_signal(status: ExitStatus) -> String {
    format!("ended abnormally ({status})")
}
