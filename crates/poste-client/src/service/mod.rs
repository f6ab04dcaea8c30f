//! `poste-client service`: the privileged side of the agent (root under systemd on Linux,
//! LocalSystem in session 0 on Windows).
//!
//! It holds everything that decides — the link to the server, the enrollment secret, the
//! deadline, the lock and the log-out — and talks over the local link (`crate::local`: a Unix
//! socket, a named pipe) to the helper running in the visitor's graphical session, which only
//! shows things and forwards the codes typed. Killing the helper gains the visitor nothing: the
//! service locks the screen at once when it vanishes during a session.
//!
//! This file is the same on both systems: the helper's connections (hello, gate, messages), what
//! is shown through it, and the desktop actions routed to the visitor's session. Per system
//! (`unix.rs`, `windows.rs`): who may be the helper, and how the session is locked and ended
//! (logind; `WTSDisconnectSession` / `WTSLogoffSession`); on Windows also the service control
//! manager's side and the restart of the helper.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use poste_desktop::{
    CommandDesktop, DesktopError, Environment, Notification, Notifier, Outcome, PowerAction,
    PowerSwitch, ScreenLocker, SessionTerminator, Urgency,
};
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::sync::mpsc;

use crate::agent::{self, Exit, Input, Mode, Ui};
use crate::config::AgentConfig;
use crate::console::Display;
use crate::greeter::Handover;
use crate::local::{
    FromHelper, Listener, PeerId, Screen, ToHelper, read_message, valid_session_id, write_message,
};

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as platform;
#[cfg(windows)]
pub mod windows;
#[cfg(windows)]
use windows as platform;
#[cfg(any(windows, test))]
mod wingate;

pub(crate) use platform::PeerRefusal;
#[cfg(unix)]
pub(crate) use platform::sessions_of;

/// The helper currently connected, and what the service last asked of it.
#[derive(Debug, Default)]
struct Shared {
    helper: Option<Helper>,
    /// The visitor's logind session, from the last helper accepted (kept when it vanishes:
    /// that is the session to lock).
    session: Option<String>,
    /// The agent waits for a code: a helper that (re)connects is asked for one.
    awaiting_code: bool,
    generation: u64,
    /// What a helper that (re)connects is told first, so that its screen is right at once:
    /// the space's name, the link's state, the running session if any, and the workstation
    /// out of service (a gate that greetd starts again must still say so).
    space: Option<Screen>,
    link: Option<Screen>,
    actions: Option<Screen>,
    started: Option<Screen>,
    out_of_service: Option<Screen>,
    /// The room locked by staff.
    room_lock: Option<Screen>,
    /// With `[greeter]`: what the gate asks greetd to open when a session starts.
    handover: Option<Handover>,
}

#[derive(Debug)]
struct Helper {
    generation: u64,
    outbox: mpsc::Sender<ToHelper>,
    /// The gate before login (greetd's greeter), not a visitor's countdown.
    greeter: bool,
}

#[derive(Debug, Clone, Default)]
struct State(Arc<Mutex<Shared>>);

impl State {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn send(&self, message: ToHelper) -> bool {
        self.lock()
            .helper
            .as_ref()
            .is_some_and(|helper| helper.outbox.try_send(message).is_ok())
    }
}

/// A helper admitted: the session to act on, and whether it is the gate before login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Admission {
    pub(crate) session: String,
    pub(crate) greeter: bool,
}

/// Decides whether the peer of a connection may act as the helper of the session it claims in
/// its `hello`. Blocking (it may ask logind).
pub(crate) type Gate = Arc<dyn Fn(PeerId, &str) -> Result<Admission, PeerRefusal> + Send + Sync>;

/// Runs the service until it is stopped.
pub async fn run(config: AgentConfig, endpoint: &Path) -> anyhow::Result<Exit> {
    let env = Environment::current();
    let greeter = greeter_mode(&config, &env)?;
    let listener = Listener::bind(endpoint)?;
    tracing::info!(endpoint = %endpoint.display(), "waiting for the helper of the visitor's session");
    let state = State::default();
    let public_account = greeter
        .as_ref()
        .map(|(handover, uid)| (handover.account.clone(), *uid));
    state.lock().handover = greeter.as_ref().map(|(handover, _)| handover.clone());
    let (input_tx, input_rx) = mpsc::channel::<Input>(16);
    let gate: Gate = {
        let env = env.clone();
        #[cfg(unix)]
        let public_uid = greeter.as_ref().map(|(_, uid)| *uid);
        #[cfg(unix)]
        let gate = move |peer, claimed: &str| platform::admit(peer, claimed, &env, public_uid);
        #[cfg(windows)]
        let gate = move |peer, claimed: &str| platform::admit(peer, claimed, &env);
        Arc::new(gate)
    };
    tokio::spawn(accept(listener, state.clone(), input_tx, gate));
    #[cfg(windows)]
    tokio::spawn(platform::supervise(state.clone(), endpoint.to_path_buf()));
    let hooks = hooks(&config, &env, &state);
    let desktop = SessionDesktop {
        state: state.clone(),
        public_account,
        commands: CommandDesktop::new(env)
            .with_timeout(Duration::from_secs(config.command_timeout)),
    };
    let ui = Ui {
        display: Box::new(HelperDisplay { state }),
        input: Some(input_rx),
    };
    agent::run_with(config, Mode::Interactive, Arc::new(desktop), ui, hooks).await
}

/// With `[greeter]`: what to open for the visitor, checked now (the session's file, the
/// account), and the public account's uid.
#[cfg(unix)]
fn greeter_mode(
    config: &AgentConfig,
    env: &Environment,
) -> anyhow::Result<Option<(Handover, u32)>> {
    if !config.greeter.enabled {
        return Ok(None);
    }
    let handover = config.greeter.handover()?;
    let uid = platform::account_uid(env, &handover.account)
        .ok_or_else(|| anyhow::anyhow!("{}", crate::text::unknown_account(&handover.account)))?;
    tracing::info!(account = %handover.account, command = ?handover.command, "the gate is greetd's greeter");
    Ok(Some((handover, uid)))
}

#[cfg(windows)]
fn greeter_mode(
    _config: &AgentConfig,
    _env: &Environment,
) -> anyhow::Result<Option<(Handover, u32)>> {
    // `[greeter]` is refused by the configuration on Windows.
    Ok(None)
}

/// The running session's file; the home restore and the idle source, as configured (only on
/// Linux so far).
#[cfg(unix)]
fn hooks(config: &AgentConfig, env: &Environment, state: &State) -> agent::Hooks {
    let mut hooks = agent::Hooks {
        resume: Some(crate::resume::SessionFile::beside(&config.secret_file)),
        power: Some(crate::power::PowerFile::beside(&config.secret_file)),
        wait_for_enrollment: true,
        enrollment_refusal: Some(crate::enroll::refusal_file(&config.secret_file)),
        ..agent::Hooks::default()
    };
    if config.reset.enabled {
        hooks.reset = Some(Arc::new(crate::reset::AccountReset::new(
            config.reset.clone(),
            env.clone(),
        )));
        hooks.pending = Some(crate::reset::Pending(config.reset.pending_file.clone()));
    }
    if config.inactivity.enabled {
        let state = state.clone();
        hooks.idle = Some(Arc::new(crate::idle::LogindIdle {
            env: env.clone(),
            session: Box::new(move || state.lock().session.clone()),
        }));
    }
    hooks
}

#[cfg(windows)]
fn hooks(config: &AgentConfig, _env: &Environment, _state: &State) -> agent::Hooks {
    // `[reset]` is refused by the configuration on Windows; no idle source there yet.
    agent::Hooks {
        resume: Some(crate::resume::SessionFile::beside(&config.secret_file)),
        power: Some(crate::power::PowerFile::beside(&config.secret_file)),
        wait_for_enrollment: true,
        enrollment_refusal: Some(crate::enroll::refusal_file(&config.secret_file)),
        ..agent::Hooks::default()
    }
}

async fn accept(mut listener: Listener, state: State, input: mpsc::Sender<Input>, gate: Gate) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                tokio::spawn(serve_helper(
                    stream,
                    peer,
                    Arc::clone(&gate),
                    state.clone(),
                    input.clone(),
                ));
            }
            Err(err) => {
                tracing::warn!(error = %err, "helper connection refused");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// One helper connection, over any stream: its `hello`, the gate, then messages both ways until
/// it goes. The helper that goes while it is the current one is reported (`HelperGone`).
async fn serve_helper<S>(
    stream: S,
    peer: PeerId,
    gate: Gate,
    state: State,
    input: mpsc::Sender<Input>,
) where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (read, mut write) = tokio::io::split(stream);
    let mut reader = BufReader::new(read);
    let hello = tokio::time::timeout(Duration::from_secs(5), read_message(&mut reader)).await;
    let claimed = match hello {
        Ok(Some(Ok(FromHelper::Hello { session }))) if valid_session_id(&session) => session,
        _ => {
            tracing::warn!(?peer, "helper refused: no valid hello");
            return;
        }
    };
    let admitted = {
        let claimed = claimed.clone();
        tokio::task::spawn_blocking(move || gate(peer, &claimed)).await
    };
    let Admission { session, greeter } = match admitted {
        Ok(Ok(admission)) => admission,
        Ok(Err(refusal)) => {
            tracing::warn!(?peer, %claimed, %refusal, "helper refused");
            let refused = ToHelper::Refused {
                message: crate::text::HELPER_REFUSED.to_owned(),
            };
            let _ = write_message(&mut write, &refused).await;
            return;
        }
        Err(err) => {
            tracing::warn!(?peer, error = %err, "helper check failed");
            return;
        }
    };
    let (outbox, mut pending) = mpsc::channel::<ToHelper>(64);
    let (generation, desktop_left) = {
        let mut shared = state.lock();
        shared.generation += 1;
        let generation = shared.generation;
        for fact in [
            &shared.space,
            &shared.link,
            &shared.actions,
            &shared.started,
            &shared.out_of_service,
            &shared.room_lock,
        ]
        .into_iter()
        .flatten()
        {
            let _ = outbox.try_send(ToHelper::Screen {
                event: fact.clone(),
            });
        }
        if shared.awaiting_code {
            let _ = outbox.try_send(ToHelper::Prompt);
        }
        shared.helper = Some(Helper {
            generation,
            outbox,
            greeter,
        });
        if !greeter {
            shared.session = Some(session.clone());
        }
        // greetd starts its greeter only when no user session runs: a gate during a paid
        // session means the visitor's desktop has ended (they logged out, or it was killed).
        (generation, greeter && shared.started.is_some())
    };
    tracing::info!(?peer, %session, greeter, "helper connected");
    if desktop_left {
        tracing::info!("the visitor's desktop ended before the deadline: ending the session");
        let _ = input.send(Input::EndSession).await;
    }
    let writer = tokio::spawn(async move {
        while let Some(message) = pending.recv().await {
            if write_message(&mut write, &message).await.is_err() {
                break;
            }
        }
    });
    while let Some(message) = read_message(&mut reader).await {
        match message {
            Ok(
                heard @ (FromHelper::Code { .. }
                | FromHelper::RequestTime { .. }
                | FromHelper::EndSession),
            ) => {
                let heard = match heard {
                    FromHelper::Code { code } => Input::Code(code),
                    FromHelper::RequestTime { minutes } => Input::RequestTime(minutes),
                    _ => Input::EndSession,
                };
                if input.send(heard).await.is_err() {
                    break;
                }
            }
            Ok(FromHelper::Hello { .. }) => {}
            Err(err) => tracing::debug!(error = %err, "ignored a line from the helper"),
        }
    }
    writer.abort();
    let (current, gate_before_login) = {
        let mut shared = state.lock();
        let current = shared
            .helper
            .as_ref()
            .is_some_and(|h| h.generation == generation);
        if current {
            shared.helper = None;
        }
        (current, shared.handover.is_some())
    };
    if current && !gate_before_login {
        tracing::warn!(%session, "helper gone");
        let _ = input.send(Input::HelperGone).await;
    } else if current {
        // The gate hands over and exits; a killed countdown gains nothing (module docs).
        tracing::info!(%session, greeter, "helper gone; the deadline holds");
    }
}

/// Shows through the helper.
struct HelperDisplay {
    state: State,
}

impl Display for HelperDisplay {
    fn say(&mut self, message: &str) {
        tracing::info!(%message, "to the visitor");
        self.state.send(ToHelper::Say {
            text: message.to_owned(),
        });
    }

    fn prompt(&mut self) {
        self.state.lock().awaiting_code = true;
        self.state.send(ToHelper::Prompt);
    }

    fn countdown(&mut self, remaining: Duration, percent_used: u8, connected: bool, _now: Instant) {
        let mut shared = self.state.lock();
        shared.awaiting_code = false;
        if let Some(helper) = &shared.helper {
            let _ = helper.outbox.try_send(ToHelper::Countdown {
                restant_ms: u64::try_from(remaining.as_millis()).unwrap_or(u64::MAX),
                pourcentage: percent_used,
                connecte: connected,
            });
        }
    }

    fn screen(&mut self, event: Screen) {
        {
            let mut shared = self.state.lock();
            match &event {
                Screen::Space { .. } => shared.space = Some(event.clone()),
                Screen::Link { .. } => shared.link = Some(event.clone()),
                Screen::Actions { .. } => shared.actions = Some(event.clone()),
                Screen::Started { .. } => shared.started = Some(event.clone()),
                Screen::Ended { .. } => shared.started = None,
                Screen::OutOfService { message } => {
                    shared.out_of_service = message.is_some().then(|| event.clone());
                }
                Screen::RoomLock { message } => {
                    shared.room_lock = message.is_some().then(|| event.clone());
                }
                _ => {}
            }
        }
        let started = matches!(event, Screen::Started { .. });
        self.state.send(ToHelper::Screen { event });
        if started {
            open_visitor_session(&self.state.lock());
        }
    }
}

/// A session has started at the gate before login: the gate asks greetd for the visitor's
/// session (it shows the start first, then exits).
fn open_visitor_session(shared: &Shared) {
    let (Some(handover), Some(helper)) = (&shared.handover, &shared.helper) else {
        return;
    };
    if !helper.greeter {
        return;
    }
    let open = ToHelper::OpenSession {
        compte: handover.account.clone(),
        commande: handover.command.clone(),
        env: handover.env.clone(),
    };
    if helper.outbox.try_send(open).is_err() {
        tracing::error!("the gate could not be told to open the visitor's session");
    }
}

/// Locks and ends the visitor's logind session as root (with `[greeter]`, every session of the
/// public account); notifications go through the helper.
struct SessionDesktop {
    state: State,
    /// With `[greeter]`: the public account's name and uid.
    #[cfg_attr(windows, allow(dead_code))]
    public_account: Option<(String, u32)>,
    commands: CommandDesktop,
}

impl SessionDesktop {
    fn session(&self, action: &'static str) -> Result<String, DesktopError> {
        self.state
            .lock()
            .session
            .clone()
            .ok_or(DesktopError::NoMethod { action })
    }
}

impl ScreenLocker for SessionDesktop {
    fn lock(&self) -> Result<Outcome, DesktopError> {
        platform::lock_session(&self.commands, &self.session("lock")?)
    }
}

impl SessionTerminator for SessionDesktop {
    fn logout(&self) -> Result<Outcome, DesktopError> {
        #[cfg(unix)]
        if let Some((account, uid)) = &self.public_account {
            return platform::end_account(
                &self.commands,
                account,
                *uid,
                &poste_desktop::LastResort::default(),
            );
        }
        platform::end_session(&self.commands, &self.session("logout")?)
    }
}

/// The machine's power, as the service (root, LocalSystem): the visitor's session is over by then.
impl PowerSwitch for SessionDesktop {
    fn power(&self, action: PowerAction) -> Result<Outcome, DesktopError> {
        self.commands.power(action)
    }
}

impl Notifier for SessionDesktop {
    fn notify(&self, n: &Notification) -> Result<Outcome, DesktopError> {
        let sent = self.state.send(ToHelper::Notify {
            titre: n.title.clone(),
            texte: n.body.clone(),
            critique: matches!(n.urgency, Urgency::Critical),
        });
        if sent {
            Ok(Outcome {
                method: "helper".to_owned(),
            })
        } else {
            Err(DesktopError::NoMethod { action: "notify" })
        }
    }
}

#[cfg(test)]
mod tests;
