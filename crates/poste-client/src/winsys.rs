//! The Windows API calls of the agent's service split: the only unsafe code of this crate
//! (poste-desktop's `win/sys.rs` holds the desktop-control ones). Each call is a plain FFI call of
//! the `windows` crate (or of tokio's raw named-pipe constructors) on values and locals that live
//! for the whole call; every handle obtained is closed before returning.
//!
//! - the enrollment secret's DACL (SYSTEM and administrators only);
//! - the helper pipe, created with a security descriptor that lets interactive users read and
//!   write but not create pipe instances, and opened by the helper with exactly those rights;
//! - who is at the other end of the pipe: its client's process, then that process's session;
//! - starting the helper in the visitor's session from session 0 (`WTSQueryUserToken`,
//!   `CreateProcessAsUserW`), never called by the tests (under wine it would need privileges the
//!   tests do not have, and on a developer's machine it would open a window in their session);
//! - the service control dispatcher's entry point (`define_windows_service!` expands to an
//!   `extern "system"` function reading raw pointers).

#![allow(unsafe_code)]

use std::ffi::c_void;
use std::io;
use std::os::windows::ffi::OsStrExt;
use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::{AsRawHandle, IntoRawHandle};

use poste_desktop::describe_error as describe;
use tokio::net::windows::named_pipe::{NamedPipeClient, NamedPipeServer, ServerOptions};
use windows::Win32::Foundation::{CloseHandle, HANDLE, HLOCAL, LocalFree};
use windows::Win32::Security::Authorization::{
    ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1,
};
use windows::Win32::Security::{
    DACL_SECURITY_INFORMATION, PROTECTED_DACL_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR,
    SECURITY_ATTRIBUTES, SetFileSecurityW,
};
use windows::Win32::System::Environment::{CreateEnvironmentBlock, DestroyEnvironmentBlock};
use windows::Win32::System::Pipes::GetNamedPipeClientProcessId;
use windows::Win32::System::RemoteDesktop::{ProcessIdToSessionId, WTSQueryUserToken};
use windows::Win32::System::Threading::{
    CREATE_NEW_CONSOLE, CREATE_UNICODE_ENVIRONMENT, CreateProcessAsUserW, PROCESS_INFORMATION,
    STARTUPINFOW,
};
use windows::core::{PCWSTR, PWSTR};

/// Read and write on a pipe, without `FILE_CREATE_PIPE_INSTANCE` (which `GENERIC_WRITE` would
/// include): `FILE_GENERIC_READ | FILE_WRITE_DATA | FILE_WRITE_EA | FILE_WRITE_ATTRIBUTES`.
pub const PIPE_CLIENT_ACCESS: u32 = 0x0012_019B;

/// SYSTEM and administrators: everything; interactive users (`IU`): [`PIPE_CLIENT_ACCESS`], so
/// that the visitor's helper can connect but no process of theirs can serve the pipe. Protected
/// (`P`): nothing inherited.
pub const PIPE_SDDL: &str = "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;0x0012019B;;;IU)";

/// `SECURITY_IDENTIFICATION`: the server may learn who the client is, not act as it.
const SECURITY_IDENTIFICATION: u32 = 0x0001_0000;
/// `FILE_FLAG_OVERLAPPED`: tokio drives the handle asynchronously.
const FILE_FLAG_OVERLAPPED: u32 = 0x4000_0000;

fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

/// SYSTEM and administrators: everything; nobody else; nothing inherited.
pub const SYSTEM_ONLY_SDDL: &str = "D:P(A;;FA;;;SY)(A;;FA;;;BA)";

/// `sddl` as a security descriptor, for the time of `with` (then freed).
fn with_descriptor<T>(
    sddl: &str,
    with: impl FnOnce(PSECURITY_DESCRIPTOR) -> io::Result<T>,
) -> io::Result<T> {
    let sddl = wide(sddl);
    let mut descriptor = PSECURITY_DESCRIPTOR::default();
    // SAFETY: `sddl` is a NUL-terminated UTF-16 string alive for the call; `descriptor` is a
    // local the call writes one pointer to (allocated by the system, freed below).
    unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(
            PCWSTR(sddl.as_ptr()),
            SDDL_REVISION_1,
            &mut descriptor,
            None,
        )
    }
    .map_err(|e| io::Error::other(describe(&e)))?;
    let result = with(descriptor);
    // SAFETY: `descriptor` was allocated by ConvertStringSecurityDescriptor… with LocalAlloc,
    // and `with` has returned: nothing uses it any more.
    unsafe { LocalFree(Some(HLOCAL(descriptor.0))) };
    result
}

/// Gives the file `path` [`SYSTEM_ONLY_SDDL`] as its whole DACL (the enrollment secret).
pub fn restrict_to_system(path: &std::path::Path) -> io::Result<()> {
    let name: Vec<u16> = path
        .as_os_str()
        .encode_wide()
        .chain(std::iter::once(0))
        .collect();
    with_descriptor(SYSTEM_ONLY_SDDL, |descriptor| {
        // SAFETY: `name` is a NUL-terminated UTF-16 path alive for the call; `descriptor` is
        // the valid descriptor `with_descriptor` holds for the call.
        let ok = unsafe {
            SetFileSecurityW(
                PCWSTR(name.as_ptr()),
                DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                descriptor,
            )
        };
        if ok.as_bool() {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    })
}

/// One instance of the helper pipe `name`, with [`PIPE_SDDL`]; `first` makes creating it fail
/// if the pipe already exists (another process, maybe a visitor's, would be serving it).
pub fn create_pipe(name: &str, first: bool) -> io::Result<NamedPipeServer> {
    with_descriptor(PIPE_SDDL, |descriptor| {
        let mut attributes = SECURITY_ATTRIBUTES {
            nLength: u32::try_from(std::mem::size_of::<SECURITY_ATTRIBUTES>()).unwrap_or(0),
            lpSecurityDescriptor: descriptor.0,
            bInheritHandle: false.into(),
        };
        let mut options = ServerOptions::new();
        options
            .first_pipe_instance(first)
            .reject_remote_clients(true);
        // SAFETY: `attributes` is a valid SECURITY_ATTRIBUTES whose descriptor stays allocated
        // for the whole call (CreateNamedPipeW copies it into the pipe's object).
        unsafe {
            options
                .create_with_security_attributes_raw(name, (&raw mut attributes).cast::<c_void>())
        }
    })
}

/// The helper's end of the pipe `name`, opened with [`PIPE_CLIENT_ACCESS`] only, identifying
/// (not delegating) itself to the server.
pub fn open_pipe(name: &str) -> io::Result<NamedPipeClient> {
    let file = std::fs::OpenOptions::new()
        .access_mode(PIPE_CLIENT_ACCESS)
        .custom_flags(FILE_FLAG_OVERLAPPED)
        .security_qos_flags(SECURITY_IDENTIFICATION)
        .open(name)?;
    // SAFETY: the handle comes from the `File` just opened, whose ownership `into_raw_handle`
    // gives up; it is a pipe opened for overlapped I/O, as tokio requires.
    unsafe { NamedPipeClient::from_raw_handle(file.into_raw_handle()) }
}

/// The session of process `pid` (`ProcessIdToSessionId`).
pub fn process_session(pid: u32) -> Option<u32> {
    let mut session = 0u32;
    // SAFETY: `session` is a live, writable u32 for the whole call, which writes one u32.
    unsafe { ProcessIdToSessionId(pid, &mut session) }
        .ok()
        .map(|()| session)
}

/// The process at the other end of a connected pipe instance (`GetNamedPipeClientProcessId`).
pub fn pipe_client_process(server: &NamedPipeServer) -> Option<u32> {
    let mut pid = 0u32;
    // SAFETY: the handle belongs to `server`, borrowed (so open) for the whole call; `pid` is a
    // live, writable u32.
    unsafe { GetNamedPipeClientProcessId(HANDLE(server.as_raw_handle()), &mut pid) }
        .ok()
        .map(|()| pid)
}

/// Starts `command_line` in session `session`, as the user logged on there, on their desktop
/// (`winsta0\default`), with their environment; returns the new process's id. Needs the
/// service's privileges (LocalSystem: `SE_TCB_NAME`).
pub fn spawn_in_session(session: u32, command_line: &str) -> Result<u32, String> {
    let mut token = HANDLE::default();
    // SAFETY: `token` is a local the call writes one handle to; closed below.
    unsafe { WTSQueryUserToken(session, &mut token) }
        .map_err(|e| format!("WTSQueryUserToken({session}): {}", describe(&e)))?;
    let mut environment: *mut c_void = std::ptr::null_mut();
    // SAFETY: `environment` is a local the call writes one pointer to (freed below); `token` is
    // the open token obtained above.
    let have_environment =
        unsafe { CreateEnvironmentBlock(&mut environment, Some(token), false) }.is_ok();
    let mut desktop = wide("winsta0\\default");
    let startup = STARTUPINFOW {
        cb: u32::try_from(std::mem::size_of::<STARTUPINFOW>()).unwrap_or(0),
        lpDesktop: PWSTR(desktop.as_mut_ptr()),
        ..Default::default()
    };
    let mut process = PROCESS_INFORMATION::default();
    let mut command = wide(command_line);
    // SAFETY: every pointer is to a local alive for the whole call (`command` is writable, as
    // CreateProcessAsUserW requires; `desktop` is NUL-terminated); `token` is open; the
    // environment block, when present, is the one just created (hence the UNICODE flag).
    let created = unsafe {
        CreateProcessAsUserW(
            Some(token),
            PCWSTR::null(),
            Some(PWSTR(command.as_mut_ptr())),
            None,
            None,
            false,
            CREATE_UNICODE_ENVIRONMENT | CREATE_NEW_CONSOLE,
            have_environment.then_some(environment.cast_const()),
            PCWSTR::null(),
            &startup,
            &mut process,
        )
    };
    if have_environment {
        // SAFETY: the block created above, used by nothing any more.
        let _ = unsafe { DestroyEnvironmentBlock(environment) };
    }
    // SAFETY: handles opened above (the process and thread ones only if creation succeeded),
    // each closed once.
    unsafe {
        if created.is_ok() {
            let _ = CloseHandle(process.hThread);
            let _ = CloseHandle(process.hProcess);
        }
        let _ = CloseHandle(token);
    }
    created
        .map(|()| process.dwProcessId)
        .map_err(|e| format!("CreateProcessAsUserW: {}", describe(&e)))
}

// The service control manager calls `ffi_service_main` on its own thread once
// `service_dispatcher::start` runs; it hands over to the safe `service_main`.
windows_service::define_windows_service!(ffi_service_main, service_main);

fn service_main(arguments: Vec<std::ffi::OsString>) {
    crate::service::windows::service_main(arguments);
}

/// Connects the process to the service control manager as the service `name`; blocks until the
/// service stops.
pub fn run_service_dispatcher(name: &str) -> windows_service::Result<()> {
    windows_service::service_dispatcher::start(name, ffi_service_main)
}

/// Milliseconds since the machine booted (the boot's identity, `resume::boot_id`).
pub fn uptime_ms() -> u64 {
    // SAFETY: no argument, no pointer; it only reads the tick count.
    unsafe { windows::Win32::System::SystemInformation::GetTickCount64() }
}
