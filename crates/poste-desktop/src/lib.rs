//! Desktop control for the Postes Publics workstation agent: detect the running desktop, then
//! lock the screen, end the visitor's graphical session, or show a notification, and report which
//! method worked. On Linux by running real programs; on Windows by calling the Windows API, then
//! programs.
//!
//! No async runtime and no network: an async caller runs these blocking calls on a blocking
//! thread (e.g. `tokio::task::spawn_blocking`). Modules:
//! - `detect`: [`Environment`] (a snapshot of variables and programs on `PATH`), [`Desktop`],
//!   [`detect`]; pure, unit-tested per desktop;
//! - `methods`: the ordered method lists ([`lock_methods`], [`logout_methods`],
//!   [`notify_methods`]): the desktop's own method, then logind, then the seed's fallbacks;
//!   and [`power_methods`] (`systemctl`, then `shutdown`); pure;
//! - `run`: [`CommandDesktop`] on Unix, which runs the lists as processes with a timeout, and
//!   implements [`ScreenLocker`], [`SessionTerminator`], [`Notifier`] and [`PowerSwitch`];
//! - `kill` (Unix): the guarded last resort of logout, killing the visitor's processes;
//! - `win` (Windows): `CommandDesktop` on Windows, with the same constructor and settings the
//!   agent uses: `LockWorkStation`, `WTSDisconnectSession`, `WTSLogoffSession`, `ExitWindowsEx`,
//!   a toast, then the programs `logoff`, `shutdown`, `msg`, `powershell`; power through
//!   `shutdown /s` (`/r`).
//!
//! This file owns the traits, [`Outcome`] and [`DesktopError`].

// Timeouts of the desktop commands run here: the server's clock fence (clippy.toml) is not
// for this crate.
#![allow(clippy::disallowed_methods)]

mod detect;
#[cfg(unix)]
mod kill;
mod methods;
mod run;
// Built on Windows, and for its tests everywhere (all of it but the system calls).
#[cfg(any(windows, test))]
mod win;

pub use detect::{DEFAULT_PATH, Desktop, Environment, detect, find_program};
#[cfg(unix)]
pub use kill::{
    KillReport, LAST_RESORT_METHOD, LastResort, ProcEntry, UidRange, check_target, lookup_uid,
    parse_status, scan_proc, victims,
};
pub use methods::{
    DETACHED_PROGRAMS, KNOWN_PROGRAMS, Method, Notification, PowerAction, Urgency, lock_methods,
    logout_methods, logout_methods_for, notify_methods, power_methods,
};
#[cfg(unix)]
pub use run::CommandDesktop;
pub use run::{DEFAULT_DETACH_GRACE, DEFAULT_TIMEOUT, output_within};
#[cfg(windows)]
pub use win::{
    Session, SessionContext, SystemApi, WINDOWS_DESKTOP, WINDOWS_PROGRAMS, WTS_CURRENT_SESSION,
    WinMethod, WindowsApi, WindowsDesktop as CommandDesktop, base64, describe_error, msg_method,
    powershell_popup, windows_lock_methods, windows_logout_methods, windows_notify_methods,
    windows_power_methods,
};

/// Which method worked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The name of the method that worked: a program method's [`Method::name`], the last
    /// resort's `kill visitor processes` (Unix), or a Windows API function's name
    /// (`LockWorkStation`, `WTSLogoffSession`…) or `toast` (Windows).
    pub method: String,
}

/// Why a desktop action did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DesktopError {
    /// No method available at all (none of the action's programs is on `PATH`, and on Windows no
    /// API call fits where the agent runs).
    #[error("no method to {action}: {}", no_method_reason())]
    NoMethod {
        /// `lock`, `logout`, `notify`, `poweroff` or `restart`.
        action: &'static str,
    },
    /// Every method was tried and failed, each with why (exit code, not found, timed out,
    /// killed).
    #[error("every method to {action} failed: {}", summary(.tried))]
    AllFailed {
        /// `lock`, `logout`, `notify`, `poweroff` or `restart`.
        action: &'static str,
        /// Each method's name and why it failed, in the order tried.
        tried: Vec<(String, String)>,
    },
    /// The last-resort kill refused to act (target is root, a system user, or unknown).
    #[error("last resort refused: {0}")]
    Refused(String),
}

/// Why an action can have no method at all, on this system.
fn no_method_reason() -> &'static str {
    if cfg!(windows) {
        "none of its programs is on PATH and no Windows API call applies (a service with no console session?)"
    } else {
        "none of its programs is on PATH"
    }
}

/// `name (reason); name (reason)`, for messages and logs.
pub(crate) fn summary(tried: &[(String, String)]) -> String {
    tried
        .iter()
        .map(|(name, why)| format!("{name} ({why})"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Locks the visitor's screen.
pub trait ScreenLocker {
    /// Locks the screen; says which method worked.
    fn lock(&self) -> Result<Outcome, DesktopError>;
}

/// Ends the visitor's graphical session.
pub trait SessionTerminator {
    /// Logs the visitor out; says which method worked.
    fn logout(&self) -> Result<Outcome, DesktopError>;
}

/// Shows desktop notifications to the visitor.
pub trait Notifier {
    /// Shows `n`; says which method worked.
    fn notify(&self, n: &Notification) -> Result<Outcome, DesktopError>;
}

/// Shuts the machine down or restarts it (the service's, as root or LocalSystem).
pub trait PowerSwitch {
    /// Powers off or restarts now; says which method worked (the machine may be going down
    /// when it returns).
    fn power(&self, action: PowerAction) -> Result<Outcome, DesktopError>;
}
