//! The service on Windows: a Windows service (LocalSystem, session 0) run by the service control
//! manager (`poste-client run-as-service`), and the same session logic as on Linux.
//!
//! - **Who may be the helper**: the process at the other end of the pipe
//!   (`GetNamedPipeClientProcessId`) must run in the active console session
//!   (`ProcessIdToSessionId` = `WTSGetActiveConsoleSessionId`), never in session 0, and its
//!   `hello` must name that session ([`check`], pure, in `wingate.rs`).
//! - **Lock and log-out** of the visitor's session from session 0: `WTSDisconnectSession` (back to
//!   the logon screen, the session kept behind its password) and `WTSLogoffSession`, through
//!   poste-desktop's Windows desktop aimed at the helper's session (which never acts on
//!   session 0).
//! - **The helper is started by the service** ([`supervise`], [`Watchdog`]): whenever the
//!   console session has no helper connected, the service starts one there as the logged-on user
//!   (`WTSQueryUserToken` + `CreateProcessAsUserW`, on `winsta0\default`), at most every
//!   [`RESPAWN_EVERY`]. That covers the logon (no Run key or scheduled task to keep in step) and a
//!   killed helper (which also makes the service lock at once, as on Linux).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use poste_desktop::{
    CommandDesktop, DesktopError, Environment, Outcome, ScreenLocker, Session, SessionTerminator,
    SystemApi, WindowsApi,
};
use windows_service::service::{
    ServiceAccess, ServiceAction, ServiceActionType, ServiceControl, ServiceControlAccept,
    ServiceErrorControl, ServiceExitCode, ServiceFailureActions, ServiceFailureResetPeriod,
    ServiceInfo, ServiceStartType, ServiceState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult};
use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};

pub use super::wingate::{
    PeerRefusal, RESPAWN_EVERY, Watchdog, check, helper_command_line, launch_arguments,
};
use super::{Admission, State};
use crate::config::AgentConfig;
use crate::local::PeerId;
use crate::winsys;

/// The service's name for the service control manager (`sc query poste-client`).
pub const SERVICE_NAME: &str = "poste-client";

/// How often the service looks for a session without a helper.
const SUPERVISE_EVERY: Duration = Duration::from_secs(2);

/// The session to act on, if the peer may be its helper (see the module docs).
pub(crate) fn admit(
    peer: PeerId,
    claimed: &str,
    _env: &Environment,
) -> Result<Admission, PeerRefusal> {
    check(peer.session, SystemApi.active_console_session(), claimed).map(|id| Admission {
        session: id.to_string(),
        greeter: false,
    })
}

/// A session id as admitted (decimal).
fn session_id(session: &str, action: &'static str) -> Result<u32, DesktopError> {
    session
        .parse()
        .map_err(|_| DesktopError::NoMethod { action })
}

/// `WTSDisconnectSession` of the visitor's session (from session 0; see poste-desktop).
pub fn lock_session(commands: &CommandDesktop, session: &str) -> Result<Outcome, DesktopError> {
    let id = session_id(session, "lock")?;
    commands.clone().with_session(Session::Id(id)).lock()
}

/// `WTSLogoffSession` of the visitor's session, then the `logoff ID` program.
pub fn end_session(commands: &CommandDesktop, session: &str) -> Result<Outcome, DesktopError> {
    let id = session_id(session, "logout")?;
    commands.clone().with_session(Session::Id(id)).logout()
}

/// Starts the helper in the console session whenever it has none (see [`Watchdog`]).
pub(super) async fn supervise(state: State, endpoint: PathBuf) {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(err) => {
            tracing::error!(error = %err, "cannot start helpers: own path unknown");
            return;
        }
    };
    let command = helper_command_line(&exe, &endpoint);
    let mut watchdog = Watchdog::default();
    let mut tick = tokio::time::interval(SUPERVISE_EVERY);
    loop {
        tick.tick().await;
        let connected = {
            let shared = state.lock();
            shared.helper.as_ref().and(shared.session.clone())
        };
        let console = SystemApi.active_console_session();
        let Some(session) = watchdog.due(console, connected.as_deref(), Instant::now()) else {
            continue;
        };
        let command = command.clone();
        match tokio::task::spawn_blocking(move || winsys::spawn_in_session(session, &command)).await
        {
            Ok(Ok(pid)) => tracing::info!(session, pid, "helper started"),
            // At the logon screen nobody is logged on: no token, nothing to start.
            Ok(Err(err)) => tracing::debug!(session, error = %err, "helper not started"),
            Err(err) => tracing::warn!(error = %err, "helper start failed"),
        }
    }
}

/// What the service control manager's thread needs: set once by [`run_as_service`] before the
/// dispatcher starts (the manager's callback takes no context).
static START: OnceLock<(AgentConfig, PathBuf)> = OnceLock::new();

/// `poste-client run-as-service`: hands the process over to the service control manager, which
/// then runs [`service_main`]; returns when the service has stopped.
pub fn run_as_service(config: AgentConfig, endpoint: PathBuf) -> anyhow::Result<()> {
    let _ = START.set((config, endpoint));
    winsys::run_service_dispatcher(SERVICE_NAME)?;
    Ok(())
}

/// Called by the service control manager, on its thread.
pub(crate) fn service_main(_arguments: Vec<OsString>) {
    if let Err(err) = run_service() {
        tracing::error!(error = %format!("{err:#}"), "the service stopped on an error");
    }
}

fn status(state: ServiceState, accept: ServiceControlAccept, code: u32) -> ServiceStatus {
    ServiceStatus {
        service_type: ServiceType::OWN_PROCESS,
        current_state: state,
        controls_accepted: accept,
        exit_code: ServiceExitCode::Win32(code),
        checkpoint: 0,
        wait_hint: Duration::from_secs(5),
        process_id: None,
    }
}

fn run_service() -> anyhow::Result<()> {
    let (config, endpoint) = START
        .get()
        .ok_or_else(|| anyhow::anyhow!("service started without its configuration"))?;
    let stop = Arc::new(tokio::sync::Notify::new());
    let stopping = Arc::clone(&stop);
    let handle = service_control_handler::register(SERVICE_NAME, move |control| match control {
        ServiceControl::Stop | ServiceControl::Shutdown => {
            stopping.notify_one();
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    })?;
    handle.set_service_status(status(
        ServiceState::Running,
        ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN,
        0,
    ))?;
    let result = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| {
            runtime.block_on(async {
                tokio::select! {
                    ran = super::run(config.clone(), endpoint) => ran.map(drop),
                    () = stop.notified() => Ok(()),
                }
            })
        });
    // A non-zero exit code makes the manager apply the failure actions (restart).
    let code = if result.is_ok() { 0 } else { 1 };
    handle.set_service_status(status(
        ServiceState::Stopped,
        ServiceControlAccept::empty(),
        code,
    ))?;
    result
}

/// Stops `service` and waits (at most 10 s) until it has, so that its binary can be replaced.
fn stop_and_wait(service: &windows_service::service::Service) {
    if service.stop().is_err() {
        return; // not running
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match service.query_status() {
            Ok(status) if status.current_state != ServiceState::Stopped => {
                std::thread::sleep(Duration::from_millis(200));
            }
            _ => return,
        }
    }
}

/// Stops the installed service, if there is one (before its binary is replaced).
pub fn stop_existing() -> anyhow::Result<()> {
    let manager = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)?;
    if let Ok(service) = manager.open_service(
        SERVICE_NAME,
        ServiceAccess::STOP | ServiceAccess::QUERY_STATUS,
    ) {
        stop_and_wait(&service);
    }
    Ok(())
}

/// Registers the service (automatic start, LocalSystem, restarted 1 s, 5 s then 30 s after a
/// failure) running `binary` with `config`, and starts it. An existing registration is replaced.
pub fn register(binary: &Path, config: &Path) -> anyhow::Result<()> {
    let manager = ServiceManager::local_computer(
        None::<&str>,
        ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE,
    )?;
    if let Ok(existing) = manager.open_service(
        SERVICE_NAME,
        ServiceAccess::STOP | ServiceAccess::DELETE | ServiceAccess::QUERY_STATUS,
    ) {
        stop_and_wait(&existing);
        existing.delete()?;
    }
    let info = ServiceInfo {
        name: OsString::from(SERVICE_NAME),
        display_name: OsString::from(crate::text::SERVICE_DISPLAY_NAME),
        service_type: ServiceType::OWN_PROCESS,
        start_type: ServiceStartType::AutoStart,
        error_control: ServiceErrorControl::Normal,
        executable_path: binary.to_path_buf(),
        launch_arguments: launch_arguments(config),
        dependencies: vec![],
        account_name: None,
        account_password: None,
    };
    let service = manager.create_service(
        &info,
        ServiceAccess::CHANGE_CONFIG | ServiceAccess::START | ServiceAccess::QUERY_STATUS,
    )?;
    service.set_description(crate::text::SERVICE_DESCRIPTION)?;
    let restart = |secs| ServiceAction {
        action_type: ServiceActionType::Restart,
        delay: Duration::from_secs(secs),
    };
    service.update_failure_actions(ServiceFailureActions {
        reset_period: ServiceFailureResetPeriod::After(Duration::from_secs(24 * 3600)),
        reboot_msg: None,
        command: None,
        actions: Some(vec![restart(1), restart(5), restart(30)]),
    })?;
    service.set_failure_actions_on_non_crash_failures(true)?;
    service.start(&[] as &[&std::ffi::OsStr])?;
    Ok(())
}

/// Stops and removes the service (nothing to do if it is not registered).
pub fn unregister() -> anyhow::Result<()> {
    let manager = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)?;
    let Ok(service) = manager.open_service(
        SERVICE_NAME,
        ServiceAccess::STOP | ServiceAccess::DELETE | ServiceAccess::QUERY_STATUS,
    ) else {
        return Ok(());
    };
    stop_and_wait(&service);
    service.delete()?;
    Ok(())
}
