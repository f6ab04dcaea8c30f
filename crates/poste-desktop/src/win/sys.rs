//! The real Windows API calls behind [`WindowsApi`]: the only unsafe code of the crate. Each
//! call is a plain FFI call of the `windows` crate with no pointer but, for
//! `ProcessIdToSessionId`, one to a local; none of them keeps anything past the call.
//!
//! Never called by the tests under wine: `LockWorkStation`, `WTSLogoffSession` or
//! `ExitWindowsEx` there could end the wine session running the tests (the tests use a fake
//! [`WindowsApi`]).

// `unsafe_code` is denied crate-wide (the workspace forbids it); FFI needs it here, and here only.
#![allow(unsafe_code)]

use windows::Win32::System::RemoteDesktop::{
    ProcessIdToSessionId, WTS_CURRENT_SERVER_HANDLE, WTSDisconnectSession,
    WTSGetActiveConsoleSessionId, WTSLogoffSession,
};
use windows::Win32::System::Shutdown::{
    EWX_FORCEIFHUNG, EWX_LOGOFF, ExitWindowsEx, LockWorkStation, SHTDN_REASON_FLAG_PLANNED,
    SHTDN_REASON_MAJOR_OTHER, SHTDN_REASON_MINOR_OTHER,
};

use super::WindowsApi;
use crate::methods::{Notification, Urgency};

/// The Windows API of this machine.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemApi;

/// The system's message and HRESULT, e.g. `Access is denied. (0x80070005)`.
pub fn describe(e: &windows::core::Error) -> String {
    let message = e.message();
    let message = message.trim();
    if message.is_empty() {
        format!("error {}", e.code())
    } else {
        format!("{message} ({})", e.code())
    }
}

impl WindowsApi for SystemApi {
    fn own_session(&self) -> Option<u32> {
        let mut session = 0u32;
        // SAFETY: `session` is a live, writable, aligned u32 for the whole call, which only
        // writes one u32 to it; the process id is our own.
        let result = unsafe { ProcessIdToSessionId(std::process::id(), &mut session) };
        result.ok().map(|()| session)
    }

    fn active_console_session(&self) -> Option<u32> {
        // SAFETY: no arguments and no pointers; returns 0xFFFFFFFF when no session is attached
        // to the console (e.g. during a session switch).
        let session = unsafe { WTSGetActiveConsoleSessionId() };
        (session != u32::MAX).then_some(session)
    }

    fn lock_workstation(&self) -> Result<(), String> {
        // SAFETY: no arguments; it only asks Winlogon to lock the caller's session (and fails,
        // without effect, outside an interactive desktop).
        unsafe { LockWorkStation() }.map_err(|e| describe(&e))
    }

    fn disconnect_session(&self, session_id: u32) -> Result<(), String> {
        // SAFETY: WTS_CURRENT_SERVER_HANDLE is the documented pseudo-handle of the local server
        // (nothing to close); the other arguments are plain values.
        unsafe { WTSDisconnectSession(Some(WTS_CURRENT_SERVER_HANDLE), session_id, false) }
            .map_err(|e| describe(&e))
    }

    fn logoff_session(&self, session_id: u32) -> Result<(), String> {
        // SAFETY: as for WTSDisconnectSession: the local server's pseudo-handle and plain values;
        // bWait FALSE returns without waiting for the logoff.
        unsafe { WTSLogoffSession(Some(WTS_CURRENT_SERVER_HANDLE), session_id, false) }
            .map_err(|e| describe(&e))
    }

    fn exit_windows_logoff(&self) -> Result<(), String> {
        let reason =
            SHTDN_REASON_MAJOR_OTHER | SHTDN_REASON_MINOR_OTHER | SHTDN_REASON_FLAG_PLANNED;
        // SAFETY: plain flag values; it only starts the logoff of the caller's session and
        // returns.
        unsafe { ExitWindowsEx(EWX_LOGOFF | EWX_FORCEIFHUNG, reason) }.map_err(|e| describe(&e))
    }

    fn toast(&self, n: &Notification, app_id: Option<&str>) -> Result<(), String> {
        let mut toast = notify_rust::Notification::new();
        toast
            .appname("Poste public")
            .summary(&n.title)
            .body(&n.body)
            .urgency(match n.urgency {
                Urgency::Normal => notify_rust::Urgency::Normal,
                Urgency::Critical => notify_rust::Urgency::Critical,
            });
        if n.timeout_secs > 0 {
            toast.timeout(notify_rust::Timeout::Milliseconds(
                n.timeout_secs.saturating_mul(1000),
            ));
        }
        if let Some(app_id) = app_id {
            toast.app_id(app_id);
        }
        toast.show().map(drop).map_err(|e| e.to_string())
    }
}
