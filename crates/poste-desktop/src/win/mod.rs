//! Windows: [`WindowsDesktop`] (exported as `CommandDesktop` on Windows) locks, logs out and
//! notifies through the Windows API first, then through programs run as processes, and reports
//! which method worked, behind the same traits as on Linux.
//!
//! The methods, in order ([`windows_lock_methods`], [`windows_logout_methods`],
//! [`windows_notify_methods`], pure functions of a [`SessionContext`]):
//! - lock: `LockWorkStation` (only from the visitor's own, interactive session), then
//!   `WTSDisconnectSession` of the visitor's session (back to the logon screen, the session kept
//!   with its password: a lock that also works from a service);
//! - logout: `WTSLogoffSession(WTS_CURRENT_SERVER_HANDLE, session, FALSE)`, then (interactive
//!   only) `ExitWindowsEx(EWX_LOGOFF | EWX_FORCEIFHUNG)`, then the programs `logoff [session]`
//!   and (interactive only) `shutdown /l /f`;
//! - notify: a toast (notify-rust's WinRT backend; interactive only), then `msg <session>`
//!   (works from a service too), then (interactive only) a `powershell` popup;
//! - power ([`windows_power_methods`]): the program `shutdown /s /t 0 /f` (`/r` to restart),
//!   from a service too (LocalSystem holds the shutdown privilege).
//!
//! "Interactive only": a service runs in session 0, which has no desktop of the visitor's, so
//! `LockWorkStation`, `ExitWindowsEx`, toasts and popups cannot reach the visitor from there (the
//! process would lock, log off or show in session 0); they are left out of the lists then, and
//! the session methods aim at the active console session instead. Session 0 itself is never
//! logged off or disconnected.
//!
//! The system calls are behind the [`WindowsApi`] trait: `sys.rs` has the real ones (the only
//! unsafe code of the crate), and the tests a fake that records calls, so that the selection,
//! fallback and reporting logic is tested without locking anything (on Linux too: this module
//! minus `sys.rs` builds everywhere in tests). Programs run through the same [`Runner`] as the
//! Linux methods.

// Outside Windows this module is only built for its tests.
#![cfg_attr(not(windows), allow(dead_code))]

#[cfg(windows)]
mod sys;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

#[cfg(windows)]
pub use sys::{SystemApi, describe as describe_error};

use crate::detect::{Desktop, Environment};
use crate::methods::{Method, Notification, PowerAction, Urgency};
use crate::run::{Runner, first_working, report_failure};
use crate::{DesktopError, Notifier, Outcome, PowerSwitch, ScreenLocker, SessionTerminator};

/// Every program some Windows method may run: what `Environment::current` looks for on `PATH`
/// on Windows.
pub const WINDOWS_PROGRAMS: &[&str] = &["logoff", "shutdown", "msg", "powershell"];

/// `WTS_CURRENT_SESSION`: "the session of the calling process" for the WTS functions.
pub const WTS_CURRENT_SESSION: u32 = u32::MAX;

/// The name [`WindowsDesktop::desktop`] reports.
pub const WINDOWS_DESKTOP: &str = "windows";

/// A session to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Session {
    /// The agent's own session (`WTS_CURRENT_SESSION`).
    Current,
    /// A session by id (e.g. the active console session, for an agent running as a service).
    Id(u32),
}

impl Session {
    /// The id the WTS functions take: `WTS_CURRENT_SESSION` for [`Session::Current`].
    pub fn wts_id(self) -> u32 {
        match self {
            Session::Current => WTS_CURRENT_SESSION,
            Session::Id(id) => id,
        }
    }
}

impl fmt::Display for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Session::Current => f.write_str("current"),
            Session::Id(id) => write!(f, "{id}"),
        }
    }
}

/// Where the agent runs and which session it acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionContext {
    /// The session of the agent's own process (`ProcessIdToSessionId`), if known. 0 is the
    /// services' session, which has no desktop of the visitor's.
    pub own: Option<u32>,
    /// The visitor's session: the one `WTSDisconnectSession`, `WTSLogoffSession`, `logoff` and
    /// `msg` act on.
    pub target: Session,
}

impl SessionContext {
    /// The context of an agent running in `own` session: its own session as the target, unless
    /// it is a service (session 0), which targets the active console session `console` (if any).
    pub fn new(own: Option<u32>, console: Option<u32>) -> SessionContext {
        let target = match (own, console) {
            (Some(0), Some(console)) => Session::Id(console),
            _ => Session::Current,
        };
        SessionContext { own, target }
    }

    /// Whether the agent runs as a service, in session 0.
    pub fn is_service(&self) -> bool {
        self.own == Some(0)
    }

    /// The target if it is a session one may act on: never session 0, nor "the current session"
    /// of a service.
    pub fn acting_target(&self) -> Option<Session> {
        match self.target {
            Session::Id(0) => None,
            Session::Current if self.is_service() => None,
            // The agent's own session, by id when known (for `msg`, which wants one).
            Session::Current => Some(self.own.map_or(Session::Current, Session::Id)),
            Session::Id(id) => Some(Session::Id(id)),
        }
    }
}

/// One way of doing something on Windows: a Windows API call, or a program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WinMethod {
    /// `LockWorkStation()`: locks the calling process's session (interactive sessions only).
    LockWorkStation,
    /// `WTSDisconnectSession(WTS_CURRENT_SERVER_HANDLE, session, FALSE)`: back to the logon
    /// screen, the session kept behind its password.
    DisconnectSession(Session),
    /// `WTSLogoffSession(WTS_CURRENT_SERVER_HANDLE, session, FALSE)`.
    LogoffSession(Session),
    /// `ExitWindowsEx(EWX_LOGOFF | EWX_FORCEIFHUNG, …)`: logs off the calling process's session.
    ExitWindowsEx,
    /// A toast notification (WinRT, through notify-rust), with the text it shows.
    Toast(Notification),
    /// A program, run as a process like the Linux methods.
    Program(Method),
}

impl WinMethod {
    /// Stable label for logs and reports: the API function's name, `toast`, or the program
    /// method's name.
    pub fn name(&self) -> String {
        match self {
            WinMethod::LockWorkStation => "LockWorkStation".into(),
            WinMethod::DisconnectSession(_) => "WTSDisconnectSession".into(),
            WinMethod::LogoffSession(_) => "WTSLogoffSession".into(),
            WinMethod::ExitWindowsEx => "ExitWindowsEx".into(),
            WinMethod::Toast(_) => "toast".into(),
            WinMethod::Program(m) => m.name.clone(),
        }
    }
}

/// The Windows API calls the methods make. `sys::SystemApi` is the real one; each call returns
/// why it failed as text (the system's message and code).
pub trait WindowsApi: fmt::Debug + Send + Sync {
    /// The session of this process (`ProcessIdToSessionId`), if it can be read.
    fn own_session(&self) -> Option<u32>;
    /// The session attached to the physical console (`WTSGetActiveConsoleSessionId`), if any.
    fn active_console_session(&self) -> Option<u32>;
    /// `LockWorkStation()`.
    fn lock_workstation(&self) -> Result<(), String>;
    /// `WTSDisconnectSession(WTS_CURRENT_SERVER_HANDLE, session_id, FALSE)`.
    fn disconnect_session(&self, session_id: u32) -> Result<(), String>;
    /// `WTSLogoffSession(WTS_CURRENT_SERVER_HANDLE, session_id, FALSE)`.
    fn logoff_session(&self, session_id: u32) -> Result<(), String>;
    /// `ExitWindowsEx(EWX_LOGOFF | EWX_FORCEIFHUNG, SHTDN_REASON_FLAG_PLANNED)`.
    fn exit_windows_logoff(&self) -> Result<(), String>;
    /// Shows `n` as a toast, under `app_id` (an AUMID) or notify-rust's default (PowerShell's).
    fn toast(&self, n: &Notification, app_id: Option<&str>) -> Result<(), String>;
}

/// Lock methods, in order (see the module docs).
pub fn windows_lock_methods(ctx: &SessionContext) -> Vec<WinMethod> {
    let mut all = Vec::new();
    if !ctx.is_service() {
        all.push(WinMethod::LockWorkStation);
    }
    if let Some(target) = ctx.acting_target() {
        all.push(WinMethod::DisconnectSession(target));
    }
    all
}

/// Logout methods, in order (see the module docs); programs only if present in `env`.
pub fn windows_logout_methods(ctx: &SessionContext, env: &Environment) -> Vec<WinMethod> {
    let mut all = Vec::new();
    let target = ctx.acting_target();
    if let Some(target) = target {
        all.push(Some(WinMethod::LogoffSession(target)));
    }
    if !ctx.is_service() {
        all.push(Some(WinMethod::ExitWindowsEx));
    }
    match target {
        Some(Session::Id(id)) => all.push(program(env, Method::new("logoff", &[id.to_string()]))),
        Some(Session::Current) => all.push(program(env, Method::new("logoff", &[] as &[&str]))),
        None => {}
    }
    if !ctx.is_service() {
        all.push(program(env, Method::new("shutdown", &["/l", "/f"])));
    }
    all.into_iter().flatten().collect()
}

/// Notification methods, in order (see the module docs); programs only if present in `env`.
pub fn windows_notify_methods(
    ctx: &SessionContext,
    env: &Environment,
    n: &Notification,
) -> Vec<WinMethod> {
    let mut all = Vec::new();
    if !ctx.is_service() {
        all.push(Some(WinMethod::Toast(n.clone())));
    }
    if let Some(target) = ctx.acting_target() {
        all.push(program(env, msg_method(target, n)));
    }
    if !ctx.is_service() {
        all.push(program(env, powershell_popup(n)));
    }
    all.into_iter().flatten().collect()
}

/// Power methods, in order: `shutdown /s /t 0 /f` (`/r` to restart) if present in `env`.
/// `/f` closes the applications without asking: the agent powers off only between sessions.
pub fn windows_power_methods(env: &Environment, action: PowerAction) -> Vec<WinMethod> {
    let flag = match action {
        PowerAction::PowerOff => "/s",
        PowerAction::Restart => "/r",
    };
    program(env, Method::new("shutdown", &[flag, "/t", "0", "/f"]))
        .into_iter()
        .collect()
}

/// `m` as a method if its program is on the environment's `PATH`.
fn program(env: &Environment, m: Method) -> Option<WinMethod> {
    env.has(&m.program).then_some(WinMethod::Program(m))
}

/// `msg <session> [/TIME:<secs>] <title: body>`: a message box in the visitor's session, which
/// `msg` leaves there and returns (`*`, every session, when the session id is not known).
pub fn msg_method(target: Session, n: &Notification) -> Method {
    let mut args = vec![match target {
        Session::Id(id) => id.to_string(),
        Session::Current => "*".to_owned(),
    }];
    if n.timeout_secs > 0 {
        args.push(format!("/TIME:{}", n.timeout_secs));
    }
    args.push(format!("{}: {}", n.title, n.body));
    Method::labelled("msg", "msg", &args)
}

/// `powershell -EncodedCommand …`: a topmost `WScript.Shell` popup (a warning box that closes
/// itself after the notification's timeout). It stays running while shown, so it is a detached
/// method. The title and body travel base64-encoded inside the script, so no text can break out
/// of its quotes.
pub fn powershell_popup(n: &Notification) -> Method {
    // 0x30: warning icon; 0x40000: topmost. 0x10: error icon for a critical one.
    let flags = match n.urgency {
        Urgency::Normal => 0x30 | 0x4_0000,
        Urgency::Critical => 0x10 | 0x4_0000,
    };
    let script = format!(
        "$d = {{ param($s) [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($s)) }}; \
         $null = (New-Object -ComObject WScript.Shell).Popup((& $d '{body}'), {secs}, (& $d '{title}'), {flags})",
        body = base64(n.body.as_bytes()),
        title = base64(n.title.as_bytes()),
        secs = n.timeout_secs,
    );
    let utf16: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    Method::labelled(
        "powershell popup",
        "powershell",
        &[
            "-NoProfile",
            "-NonInteractive",
            "-ExecutionPolicy",
            "Bypass",
            "-EncodedCommand",
            &base64(&utf16),
        ],
    )
}

/// Standard base64 with padding (what `-EncodedCommand` and `FromBase64String` take).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The Windows desktop controller: API calls first, then programs (see the module docs);
/// exported as `CommandDesktop` on Windows, with the constructor and settings the agent uses on
/// Linux.
#[derive(Debug, Clone)]
pub struct WindowsDesktop {
    desktop: Desktop,
    runner: Runner,
    api: Arc<dyn WindowsApi>,
    context: SessionContext,
    app_id: Option<String>,
}

impl WindowsDesktop {
    /// A desktop controller for `env` calling the real Windows API, acting on the agent's own
    /// session, or on the active console session when the agent is a service (session 0).
    #[cfg(windows)]
    pub fn new(env: Environment) -> Self {
        WindowsDesktop::with_api(env, Arc::new(SystemApi))
    }

    /// The same with `api` making the system calls (a fake, in tests).
    pub fn with_api(env: Environment, api: Arc<dyn WindowsApi>) -> Self {
        let context = SessionContext::new(api.own_session(), api.active_console_session());
        WindowsDesktop {
            desktop: Desktop::Other(WINDOWS_DESKTOP.to_owned()),
            runner: Runner::new(env),
            api,
            context,
            app_id: None,
        }
    }

    /// Sets how long an ordinary program method may run before it is killed (default 5 s).
    pub fn with_timeout(mut self, d: Duration) -> Self {
        self.runner.timeout = d;
        self
    }

    /// Sets how long a detached program method must keep running to count as having worked
    /// (default 1 s).
    pub fn with_detach_grace(mut self, d: Duration) -> Self {
        self.runner.detach_grace = d;
        self
    }

    /// Sets the visitor's session that the session methods act on (default: see
    /// [`WindowsDesktop::new`]).
    pub fn with_session(mut self, target: Session) -> Self {
        self.context.target = target;
        self
    }

    /// Sets the AUMID toasts are shown under. It must be the `System.AppUserModel.ID` of a
    /// Start-menu shortcut (the installer's), else Windows drops the toast; without it, toasts
    /// show under PowerShell's (notify-rust's default), which always exists.
    pub fn with_app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// `windows` ([`Desktop::Other`]): there is one desktop shell on Windows.
    pub fn desktop(&self) -> &Desktop {
        &self.desktop
    }

    /// The environment programs are looked up and run in.
    pub fn environment(&self) -> &Environment {
        &self.runner.env
    }

    /// The timeout of ordinary program methods.
    pub fn timeout(&self) -> Duration {
        self.runner.timeout
    }

    /// Where the agent runs and which session it acts on.
    pub fn context(&self) -> &SessionContext {
        &self.context
    }

    /// The lock methods that [`ScreenLocker::lock`] tries, in order.
    pub fn lock_methods(&self) -> Vec<WinMethod> {
        windows_lock_methods(&self.context)
    }

    /// The logout methods that [`SessionTerminator::logout`] tries, in order.
    pub fn logout_methods(&self) -> Vec<WinMethod> {
        windows_logout_methods(&self.context, &self.runner.env)
    }

    /// The notification methods that [`Notifier::notify`] tries, in order.
    pub fn notify_methods(&self, n: &Notification) -> Vec<WinMethod> {
        windows_notify_methods(&self.context, &self.runner.env, n)
    }

    /// The power methods that [`PowerSwitch::power`] tries, in order.
    pub fn power_methods(&self, action: PowerAction) -> Vec<WinMethod> {
        windows_power_methods(&self.runner.env, action)
    }

    /// Runs `methods` in order until one works; `action` names the action in logs and errors.
    /// Logs at info which method worked, and at error when none did.
    pub fn run(
        &self,
        action: &'static str,
        methods: &[WinMethod],
    ) -> Result<Outcome, DesktopError> {
        let result = first_working(action, &self.desktop, methods, WinMethod::name, |m| {
            self.try_method(m)
        });
        if let Err(e) = &result {
            report_failure(&self.desktop, e);
        }
        result
    }

    /// Runs one method: `Ok` if it worked, else why not (the system's error, exit code…).
    /// Refuses to act on session 0 whatever the method list says.
    pub fn try_method(&self, m: &WinMethod) -> Result<(), String> {
        match m {
            WinMethod::DisconnectSession(Session::Id(0))
            | WinMethod::LogoffSession(Session::Id(0)) => {
                Err("refused: session 0 is the services' session".into())
            }
            WinMethod::LockWorkStation => self.api.lock_workstation(),
            WinMethod::DisconnectSession(s) => self.api.disconnect_session(s.wts_id()),
            WinMethod::LogoffSession(s) => self.api.logoff_session(s.wts_id()),
            WinMethod::ExitWindowsEx => self.api.exit_windows_logoff(),
            WinMethod::Toast(n) => self.api.toast(n, self.app_id.as_deref()),
            WinMethod::Program(p) => self.runner.try_method(p),
        }
    }
}

impl ScreenLocker for WindowsDesktop {
    fn lock(&self) -> Result<Outcome, DesktopError> {
        self.run("lock", &self.lock_methods())
    }
}

impl SessionTerminator for WindowsDesktop {
    fn logout(&self) -> Result<Outcome, DesktopError> {
        self.run("logout", &self.logout_methods())
    }
}

impl Notifier for WindowsDesktop {
    fn notify(&self, n: &Notification) -> Result<Outcome, DesktopError> {
        self.run("notify", &self.notify_methods(n))
    }
}

impl PowerSwitch for WindowsDesktop {
    fn power(&self, action: PowerAction) -> Result<Outcome, DesktopError> {
        self.run(action.as_str(), &self.power_methods(action))
    }
}

#[cfg(test)]
mod tests;
