//! Desktop control for the Postes Publics workstation agent, on Linux desktops: detect the
//! running desktop, then lock the screen, end the visitor's graphical session, or show a
//! notification by running real programs, and report which method worked.
//!
//! No async runtime and no network: an async caller runs these blocking calls on a blocking
//! thread (e.g. `tokio::task::spawn_blocking`). Modules:
//! - `detect`: [`Environment`] (a snapshot of variables and programs on `PATH`), [`Desktop`],
//!   [`detect`]; pure, unit-tested per desktop;
//! - `methods`: the ordered method lists ([`lock_methods`], [`logout_methods`],
//!   [`notify_methods`]): the desktop's own method, then logind, then the seed's fallbacks;
//!   pure;
//! - `run`: [`CommandDesktop`], which runs the lists as processes with a timeout, and
//!   implements [`ScreenLocker`], [`SessionTerminator`] and [`Notifier`];
//! - `kill`: the guarded last resort of logout, killing the visitor's processes.
//!
//! This file owns the traits, [`Outcome`] and [`DesktopError`].
//!
//! Linux (and other Unix desktops with the same programs) is the target. The crate still builds
//! elsewhere so that a cross-platform agent can depend on it: there no program is found and the
//! last resort always refuses.

mod detect;
mod kill;
mod methods;
mod run;

pub use detect::{DEFAULT_PATH, Desktop, Environment, detect, find_program};
pub use kill::{
    KillReport, LAST_RESORT_METHOD, LastResort, ProcEntry, UidRange, check_target, lookup_uid,
    parse_status, scan_proc, victims,
};
pub use methods::{
    DETACHED_PROGRAMS, KNOWN_PROGRAMS, Method, Notification, Urgency, lock_methods, logout_methods,
    logout_methods_for, notify_methods,
};
pub use run::{CommandDesktop, DEFAULT_DETACH_GRACE, DEFAULT_TIMEOUT};

/// Which method worked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The [`Method::name`] of the method that worked, or [`LAST_RESORT_METHOD`].
    pub method: String,
}

/// Why a desktop action did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DesktopError {
    /// No method available at all (none of the action's programs is on `PATH`).
    #[error("no method to {action}: none of its programs is on PATH")]
    NoMethod {
        /// `lock`, `logout` or `notify`.
        action: &'static str,
    },
    /// Every method was tried and failed, each with why (exit code, not found, timed out,
    /// killed).
    #[error("every method to {action} failed: {}", summary(.tried))]
    AllFailed {
        /// `lock`, `logout` or `notify`.
        action: &'static str,
        /// Each method's name and why it failed, in the order tried.
        tried: Vec<(String, String)>,
    },
    /// The last-resort kill refused to act (target is root, a system user, or unknown).
    #[error("last resort refused: {0}")]
    Refused(String),
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
