//! The agent's main loop: the seed's session flow (code → `validate_code` → `start_session` →
//! countdown → warnings → end: lock, then log out), over a link that may come and go.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use poste_desktop::{
    DesktopError, Notification, Notifier, Outcome, PowerAction, PowerSwitch, ScreenLocker,
    SessionTerminator, Urgency,
};
use poste_proto::{
    ActionReport, ClientMessage, EndReason, ErrorCode, Hello, Incident, PROTOCOL_VERSION,
    PowerOrder, RequestTime, ServerMessage, SessionId, Statut, TimeRequestStatus, WarningLevel,
};
use tokio::sync::mpsc;

use crate::config::AgentConfig;
use crate::console::{Console, Display};
use crate::countdown::{Countdown, Step};
use crate::idle::{Idle, IdleSource, IdleStep, Inactivity};
use crate::link::{self, LinkEvent};
use crate::local::Screen;
use crate::power::{self, Orders, PowerFile, Receipt};
use crate::reset::{HomeReset, Pending};
use crate::resume::SessionFile;
use crate::text;

/// What the installed service adds to the session flow: the home restore between two visitors
/// and the idle source for the logout after inactivity. None of it by default.
#[derive(Clone)]
pub struct Hooks {
    pub reset: Option<Arc<dyn HomeReset>>,
    /// The pending-restore marker (see `reset::ResetConfig::pending_file`).
    pub pending: Option<Pending>,
    /// While out of service, the restore is tried again this often.
    pub retry_every: Duration,
    pub idle: Option<Arc<dyn IdleSource>>,
    /// How often the idle source is read during a session.
    pub idle_poll: Duration,
    /// Where the running session is kept, so that a restarted service takes it up.
    pub resume: Option<SessionFile>,
    /// Where the server's power order is kept, so that it is carried out once across restarts
    /// and the reboot it causes (the service: beside the session file); `None`: in memory only.
    pub power: Option<PowerFile>,
    /// A workstation the server does not recognise (not enrolled yet, or its secret revoked)
    /// keeps running and trying, the gate saying so, instead of exiting: the service is
    /// started again by nobody but systemd, whose start limit would give up on it before staff
    /// approve the enrollment.
    pub wait_for_enrollment: bool,
    /// Where the enrollment command leaves the server's refusal (`enroll::refusal_file`): while
    /// waiting, the gate says that instead of « an administrator must approve it ».
    pub enrollment_refusal: Option<PathBuf>,
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks {
            reset: None,
            pending: None,
            retry_every: Duration::from_secs(300),
            idle: None,
            idle_poll: Duration::from_secs(5),
            resume: None,
            power: None,
            wait_for_enrollment: false,
            enrollment_refusal: None,
        }
    }
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("reset", &self.reset.is_some())
            .field("idle", &self.idle.is_some())
            .field("resume", &self.resume)
            .field("power", &self.power)
            .finish_non_exhaustive()
    }
}

/// Everything the agent needs from the desktop (and the machine: its power).
pub trait Desktop: ScreenLocker + SessionTerminator + Notifier + PowerSwitch + Send + Sync {}
impl<T: ScreenLocker + SessionTerminator + Notifier + PowerSwitch + Send + Sync> Desktop for T {}

/// How the agent gets its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// `--code ABC123`: one session, then exit.
    Code(String),
    /// `--interactive`: ask at the keyboard, again after each session.
    Interactive,
}

/// What comes from the person at the workstation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A code was typed.
    Code(String),
    /// The helper in the visitor's session went away (killed?): lock at once.
    HelperGone,
    /// The visitor asks staff for more time (minutes, or as much as staff see fit).
    RequestTime(Option<i64>),
    /// The visitor ends the session now (they confirmed it on their screen).
    EndSession,
}

/// The agent's two ends toward the person: what it shows, and what it hears. The input ends
/// (`None` from the channel) when the keyboard closes.
pub struct Ui {
    pub display: Box<dyn Display>,
    pub input: Option<mpsc::Receiver<Input>>,
}

impl std::fmt::Debug for Ui {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ui").finish_non_exhaustive()
    }
}

impl Ui {
    /// This terminal: the console, and the keyboard in interactive mode.
    pub fn terminal(config: &AgentConfig, mode: &Mode) -> Ui {
        Ui {
            display: Box::new(Console::new(Duration::from_secs(config.check_interval))),
            input: matches!(mode, Mode::Interactive).then(keyboard),
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The session ran and ended (or the keyboard input closed).
    SessionEnded,
    /// The code was refused.
    CodeRefused,
    /// The server does not recognise this workstation (not enrolled, or its secret was reset).
    NotRecognised,
}

enum Phase {
    /// Waiting for a code at the keyboard.
    AwaitingCode,
    /// A code to validate (sent once connected).
    Validating(String),
    /// Validated; `start_session` sent.
    Starting(i64),
    Running(Countdown),
}

struct Agent {
    config: AgentConfig,
    mode: Mode,
    desktop: Arc<dyn Desktop>,
    link: link::Link,
    console: Box<dyn Display>,
    phase: Phase,
    connected: bool,
    /// The link failed at least once since it was last up (at boot, before any connection,
    /// too): the screen says so, and a code typed now is refused at once instead of being
    /// kept until the server comes back, perhaps after the visitor has left.
    link_down: bool,
    local_ip: Option<IpAddr>,
    /// The server's thresholds once it told them (`welcome`), the configured ones before.
    thresholds: crate::countdown::Thresholds,
    /// The server takes the visitor's requests (`welcome.protocole` ≥ 2).
    visitor_actions: bool,
    /// A session the visitor ended while the server was unreachable: told on reconnection.
    unsent_end: Option<i64>,
    hooks: Hooks,
    /// Why the workstation is out of service (its home restore failed): codes are refused here.
    out_of_service: Option<String>,
    /// « fin » was typed at the terminal: the next line confirms it (« oui ») or not.
    end_asked: bool,
    /// The server refused this workstation (`poste_non_enrole`, `poste_non_authentifie`) and
    /// it waits for its enrollment (`Hooks::wait_for_enrollment`): codes are refused here.
    unrecognised: bool,
    /// What the gate last said of that wait (`waiting_message`), said again when it changes.
    waiting_said: Option<String>,
    /// Staff locked the room (protocol 5): what the screen says until they unlock it.
    room_lock: Option<String>,
    /// Incidents not sent yet (offline).
    incidents: Vec<Incident>,
    inactivity: Option<Inactivity>,
    /// The deadline last written to the running session file (written again only when it
    /// moves, not at every `get_time`).
    kept_deadline: Option<Instant>,
    /// The visitor's name, for the running session file.
    visitor: Option<String>,
    /// When the `get_time` or `start_session` waiting for its reply was sent.
    asked_at: Option<Instant>,
    /// The server's power order held (`power.rs`).
    power: Orders,
    /// On the gate, when the power order's notice runs out.
    power_due: Option<Instant>,
    /// A power order is due on the gate or being carried out: codes are refused here.
    powering: Option<PowerAction>,
}

/// First protocol version with `request_time` and `end_session`.
const VISITOR_ACTIONS_SINCE: u32 = 2;

/// Runs the agent until its session ends (`--code`) or its input closes.
pub async fn run(
    config: AgentConfig,
    mode: Mode,
    desktop: Arc<dyn Desktop>,
    ui: Ui,
) -> anyhow::Result<Exit> {
    run_with(config, mode, desktop, ui, Hooks::default()).await
}

/// [`run`], with the service's [`Hooks`].
pub async fn run_with(
    config: AgentConfig,
    mode: Mode,
    desktop: Arc<dyn Desktop>,
    ui: Ui,
    hooks: Hooks,
) -> anyhow::Result<Exit> {
    let endpoint = config.endpoint()?;
    let hello = Hello {
        poste: config
            .poste
            .clone()
            .unwrap_or_else(crate::identity::hostname),
        mac: None,
        ip_address: None,
        version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        protocole: Some(PROTOCOL_VERSION),
        secret: None,
    };
    // Refuse at once a secret file others can read; the link reads it again at each connection,
    // so a workstation enrolled while the service runs presents its secret from then on.
    crate::enroll::load_secret(&config.secret_file)?;
    tracing::info!(url = %endpoint.url, poste = %hello.poste, "starting");
    let link = link::spawn(endpoint, hello, config.secret_file.clone());
    let phase = match &mode {
        Mode::Code(code) => Phase::Validating(code.clone()),
        Mode::Interactive => Phase::AwaitingCode,
    };
    let inactivity = (config.inactivity.enabled && hooks.idle.is_some()).then(|| {
        Inactivity::new(
            Duration::from_secs(config.inactivity.minutes * 60),
            Duration::from_secs(config.inactivity.warning_minutes * 60),
        )
    });
    let mut agent = Agent {
        power: Orders::load(hooks.power.clone()),
        power_due: None,
        powering: None,
        console: ui.display,
        thresholds: config.thresholds(),
        hooks,
        out_of_service: None,
        unrecognised: false,
        waiting_said: None,
        room_lock: None,
        end_asked: false,
        incidents: Vec::new(),
        inactivity,
        config,
        mode,
        desktop,
        link,
        phase,
        connected: false,
        link_down: false,
        local_ip: None,
        visitor_actions: false,
        unsent_end: None,
        kept_deadline: None,
        visitor: None,
        asked_at: None,
    };
    agent.main_loop(ui.input).await
}

/// Reads lines from standard input in a thread (blocking reads do not belong on the runtime).
pub fn keyboard() -> mpsc::Receiver<Input> {
    let (tx, rx) = mpsc::channel(4);
    std::thread::spawn(move || {
        let mut line = String::new();
        while matches!(std::io::stdin().read_line(&mut line), Ok(n) if n > 0) {
            crate::console::line_typed();
            if tx
                .blocking_send(Input::Code(std::mem::take(&mut line)))
                .is_err()
            {
                return;
            }
        }
    });
    rx
}

impl Agent {
    async fn main_loop(
        &mut self,
        mut input: Option<mpsc::Receiver<Input>>,
    ) -> anyhow::Result<Exit> {
        // A restore owed by a previous run (it failed, or the service stopped before it was
        // done) comes before the first visitor.
        if self.hooks.pending.as_ref().is_some_and(Pending::is_set) {
            tracing::warn!("a home restore is pending from before: restoring first");
            self.restore_home(None).await;
        }
        let resumed = self.resume_session();
        if !resumed {
            match self.mode {
                Mode::Interactive => self.console.prompt(),
                Mode::Code(_) => self.console.say(text::CONNECTING),
            }
        }
        // An order the service could not carry out before it stopped (its notice was running,
        // or a session ran): after the restore above; a session taken up goes to its end first.
        self.power_at_start(resumed).await;
        let mut display = tokio::time::interval(Duration::from_secs(1));
        let mut check = tokio::time::interval(Duration::from_secs(self.config.check_interval));
        let mut retry = tokio::time::interval(self.hooks.retry_every);
        retry.reset();
        let mut idle = tokio::time::interval(self.hooks.idle_poll);
        loop {
            self.keep_session();
            let due = match &self.phase {
                Phase::Running(countdown) => countdown.next_due(),
                _ => Instant::now() + Duration::from_secs(3600),
            };
            tokio::select! {
                event = self.link.events.recv() => {
                    let Some(event) = event else { anyhow::bail!("link task stopped") };
                    if let Some(exit) = self.on_link(event).await {
                        return Ok(exit);
                    }
                }
                heard = async { input.as_mut()?.recv().await }, if input.is_some() => {
                    match heard {
                        Some(Input::Code(line)) => match &self.phase {
                            Phase::AwaitingCode => {
                                self.end_asked = false;
                                self.on_code_typed(&line);
                            }
                            // At a terminal, words typed during a session are the visitor's
                            // requests.
                            Phase::Running(_) => {
                                let word = line.trim().to_lowercase();
                                if std::mem::take(&mut self.end_asked) {
                                    // « fin » asked to be confirmed: only « oui » ends.
                                    if word == text::WORD_YES {
                                        if let Some(exit) = self.on_end_requested().await {
                                            return Ok(exit);
                                        }
                                    } else {
                                        self.console.say(text::SESSION_GOES_ON);
                                    }
                                } else if word == text::WORD_MORE_TIME {
                                    self.on_request_time(None);
                                } else if word == text::WORD_END {
                                    self.end_asked = true;
                                    self.console.say(text::CONFIRM_END);
                                }
                            }
                            _ => {}
                        },
                        Some(Input::HelperGone) => self.on_helper_gone().await,
                        Some(Input::RequestTime(minutes)) => self.on_request_time(minutes),
                        Some(Input::EndSession) => {
                            if let Some(exit) = self.on_end_requested().await {
                                return Ok(exit);
                            }
                        }
                        None => return Ok(Exit::SessionEnded),
                    }
                }
                () = tokio::time::sleep_until(due.into()) => {
                    let step = match &mut self.phase {
                        Phase::Running(countdown) => countdown.tick(Instant::now()),
                        _ => None,
                    };
                    if let Some(exit) = self.on_step(step).await {
                        return Ok(exit);
                    }
                }
                _ = display.tick() => {
                    if let Phase::Running(countdown) = &self.phase {
                        let now = Instant::now();
                        self.console.countdown(countdown.remaining(now), countdown.percent_used(now), self.connected, now);
                    }
                }
                () = sleep_until_some(self.power_due), if self.power_due.is_some() => {
                    match self.phase {
                        Phase::AwaitingCode => self.carry_out_power(None).await,
                        // The session's end carries it out.
                        Phase::Running(_) => self.power_due = None,
                        // A code typed before the order came is still being checked.
                        Phase::Validating(_) | Phase::Starting(_) => {
                            self.power_due = Some(Instant::now() + Duration::from_secs(1));
                        }
                    }
                }
                _ = retry.tick(), if self.out_of_service.is_some() && matches!(self.phase, Phase::AwaitingCode) => {
                    self.restore_home(None).await;
                    if self.out_of_service.is_none() {
                        self.console.prompt();
                    }
                }
                _ = idle.tick(), if self.inactivity.is_some() && matches!(self.phase, Phase::Running(_)) => {
                    if let Some(exit) = self.check_idle().await {
                        return Ok(exit);
                    }
                }
                _ = check.tick() => {
                    if let (Phase::Running(countdown), true) = (&self.phase, self.connected) {
                        let session_id = SessionId(countdown.session_id);
                        self.ask_time(session_id);
                    }
                }
            }
        }
    }

    /// A session kept by a service that stopped during it (same boot) is taken up: the
    /// countdown goes on from its deadline, and the server is asked the time as soon as it is
    /// reached (`get_time`, [`Agent::send_pending`]), which corrects it or ends it.
    fn resume_session(&mut self) -> bool {
        if !matches!(self.mode, Mode::Interactive) {
            return false;
        }
        let Some(saved) = self.hooks.resume.as_ref().and_then(SessionFile::load) else {
            return false;
        };
        let (remaining, total) = (saved.remaining(), saved.total());
        tracing::warn!(
            session = saved.session_id,
            secs = remaining.as_secs(),
            "a session was running when the service stopped: taking it up"
        );
        self.console.say(text::SESSION_RESUMED);
        self.console.screen(Screen::Started {
            utilisateur: saved.utilisateur.clone(),
            restant_ms: millis(remaining),
            total_ms: millis(total),
        });
        self.visitor = saved.utilisateur;
        let now = Instant::now();
        self.phase = Phase::Running(Countdown::start(
            saved.session_id,
            remaining,
            total,
            self.thresholds,
            now,
        ));
        self.kept_deadline = Some(now + remaining);
        true
    }

    /// Writes the running session to its file when its deadline moved (start, added time, a
    /// correction of more than a second).
    fn keep_session(&mut self) {
        let (Some(file), Phase::Running(countdown)) = (&self.hooks.resume, &self.phase) else {
            return;
        };
        if countdown.is_ended() {
            return;
        }
        let now = Instant::now();
        let deadline = now + countdown.remaining(now);
        let moved = self.kept_deadline.is_none_or(|kept| {
            deadline.saturating_duration_since(kept) + kept.saturating_duration_since(deadline)
                > Duration::from_secs(1)
        });
        if !moved {
            return;
        }
        match file.save(
            countdown.session_id,
            countdown.remaining(now),
            countdown.total(),
            self.visitor.clone(),
        ) {
            Ok(()) => {}
            // Not fatal: the session goes on; only a restart of the service would lose it.
            // Tried again when the deadline moves, not at every turn of the loop.
            Err(err) => tracing::warn!(error = %err, "could not keep the running session"),
        }
        self.kept_deadline = Some(deadline);
    }

    fn forget_session(&mut self) {
        if let Some(file) = &self.hooks.resume {
            file.clear();
        }
        self.kept_deadline = None;
        self.visitor = None;
    }

    /// The display in the visitor's session vanished during a session: whoever killed it gains
    /// nothing, the screen is locked at once (the session itself goes on until its end).
    async fn on_helper_gone(&mut self) {
        let Phase::Running(countdown) = &self.phase else {
            return;
        };
        let session_id = countdown.session_id;
        tracing::warn!(
            session = session_id,
            "the helper vanished during a session: locking"
        );
        let desktop = Arc::clone(&self.desktop);
        let result = blocking(move || desktop.lock()).await;
        self.report("verrouillage", Some(session_id), result);
    }

    /// The visitor asks for more time: sent to the server, whose answer comes back as
    /// `time_request`. Offline, the screen says it cannot be asked now.
    fn on_request_time(&mut self, minutes: Option<i64>) {
        let Phase::Running(countdown) = &self.phase else {
            return;
        };
        if !self.connected {
            self.console.say(text::REQUEST_OFFLINE);
            self.console.screen(Screen::TimeRequest {
                statut: None,
                message: text::REQUEST_OFFLINE.to_owned(),
            });
            return;
        }
        tracing::info!(
            session = countdown.session_id,
            ?minutes,
            "the visitor asks for more time"
        );
        self.link.send(ClientMessage::RequestTime(RequestTime {
            session_id: SessionId(countdown.session_id),
            minutes,
        }));
    }

    /// The visitor ends the session. Online, the server ends it and its `session_terminated`
    /// does the rest; offline, it ends here at once (the visitor is leaving: the desktop must
    /// not stay open) and the server is told on reconnection.
    async fn on_end_requested(&mut self) -> Option<Exit> {
        let Phase::Running(countdown) = &mut self.phase else {
            return None;
        };
        let session_id = countdown.session_id;
        tracing::info!(
            session = session_id,
            online = self.connected,
            "the visitor ends the session"
        );
        if self.connected {
            self.link.send(ClientMessage::EndSession {
                session_id: SessionId(session_id),
            });
            return None;
        }
        self.unsent_end = Some(session_id);
        let step = countdown.server_end(EndReason::TermineParVisiteur, text::VISITOR_ENDED);
        self.on_step(step).await
    }

    fn on_code_typed(&mut self, line: &str) {
        if let Some(action) = self.powering {
            let message = text::power_code_refused(action);
            self.console.say(message);
            self.console.screen(Screen::Refusal {
                raison: None,
                message: message.to_owned(),
                reessayer_dans: None,
            });
            self.console.prompt();
            return;
        }
        if let Some(message) = &self.room_lock {
            // Staff locked the room: the code waits for them to unlock it.
            let message = message.clone();
            self.console.say(&message);
            self.console.screen(Screen::Refusal {
                raison: None,
                message,
                reessayer_dans: None,
            });
            self.console.prompt();
            return;
        }
        if self.out_of_service.is_some() || self.unrecognised {
            // The home of the last visitor is still there: nobody else gets the workstation.
            self.console.say(text::OUT_OF_SERVICE_VISITOR);
            self.console.screen(Screen::Refusal {
                raison: None,
                message: text::OUT_OF_SERVICE_VISITOR.to_owned(),
                reessayer_dans: None,
            });
            self.console.prompt();
            return;
        }
        let code = line.trim();
        if code.is_empty() {
            self.console.say(text::EMPTY_CODE);
            self.console.prompt();
            return;
        }
        if self.link_down {
            self.refuse_unreachable();
            return;
        }
        self.phase = Phase::Validating(code.to_owned());
        self.console.say(text::CODE_CHECKING);
        self.console.screen(Screen::Checking);
        self.send_pending();
    }

    /// A code typed while the server cannot be reached: refused, to be typed again later.
    fn refuse_unreachable(&mut self) {
        tracing::info!("code refused: the server is unreachable");
        self.console.say(text::CODE_SERVER_UNREACHABLE);
        self.console.screen(Screen::Refusal {
            raison: None,
            message: text::CODE_SERVER_UNREACHABLE.to_owned(),
            reessayer_dans: None,
        });
        self.console.prompt();
    }

    fn ask_time(&mut self, session_id: SessionId) {
        self.asked_at = Some(Instant::now());
        self.link.send(ClientMessage::GetTime { session_id });
    }

    /// The time left a reply says, less half the round trip of the request it answers: the
    /// server read it about then, so a slow link does not push the local deadline later. A
    /// push (no request waiting) is taken as it comes.
    fn on_arrival(&mut self, remaining: Duration, now: Instant) -> Duration {
        match self.asked_at.take() {
            Some(sent) => remaining.saturating_sub(now.saturating_duration_since(sent) / 2),
            None => remaining,
        }
    }

    /// Sends what the current phase waits for (again, after a reconnection).
    fn send_pending(&mut self) {
        if !self.connected {
            return;
        }
        match &self.phase {
            Phase::Validating(code) => self.link.send(ClientMessage::ValidateCode {
                code: code.clone(),
                ip_address: self.local_ip.map(|ip| ip.to_string()),
            }),
            Phase::Starting(id) => {
                let session_id = SessionId(*id);
                self.asked_at = Some(Instant::now());
                self.link.send(ClientMessage::StartSession { session_id });
            }
            // Resynchronise: time added or session ended while we were away.
            Phase::Running(countdown) => {
                let session_id = SessionId(countdown.session_id);
                self.ask_time(session_id);
            }
            Phase::AwaitingCode => {}
        }
    }

    async fn on_link(&mut self, event: LinkEvent) -> Option<Exit> {
        match event {
            LinkEvent::Connected { local_ip } => {
                self.connected = true;
                self.link_down = false;
                self.local_ip = local_ip;
                self.console.screen(Screen::Link { connecte: true });
                tracing::info!(?local_ip, "connected");
                if let Phase::Running(countdown) = &mut self.phase {
                    countdown.fresh_link();
                }
                if let Some(session_id) = self.unsent_end.take() {
                    self.link.send(ClientMessage::EndSession {
                        session_id: SessionId(session_id),
                    });
                }
                self.send_pending();
                self.flush_incidents();
                None
            }
            LinkEvent::Disconnected { reason, retry_in } => {
                let was = std::mem::replace(&mut self.connected, false);
                // Waiting for its enrollment, the workstation is closed by a server that answers
                // it: the gate says why (out of service), not "unreachable", at each try.
                if was && self.unrecognised {
                    tracing::info!(%reason, "closed by the server until staff approve this workstation");
                    return None;
                }
                let first = !std::mem::replace(&mut self.link_down, true);
                tracing::warn!(%reason, "server unreachable");
                if first {
                    self.console.screen(Screen::Link { connecte: false });
                }
                match self.phase {
                    // The countdown goes on; its line shows "hors ligne".
                    Phase::Running(_) => {}
                    // A code typed at the gate waits for no server: the visitor is told now.
                    Phase::Validating(_) if matches!(self.mode, Mode::Interactive) => {
                        self.phase = Phase::AwaitingCode;
                        self.refuse_unreachable();
                    }
                    _ if was || matches!(self.phase, Phase::Validating(_)) => {
                        self.console.say(&text::server_unreachable(retry_in));
                    }
                    _ => {}
                }
                None
            }
            LinkEvent::Message(message) => self.on_message(message).await,
        }
    }

    async fn on_message(&mut self, message: ServerMessage) -> Option<Exit> {
        let now = Instant::now();
        match message {
            ServerMessage::CodeValid { session } => {
                if matches!(self.phase, Phase::Validating(_)) {
                    self.phase = Phase::Starting(session.id.0);
                    self.send_pending();
                }
                None
            }
            ServerMessage::CodeInvalid(invalid) => {
                if !matches!(self.phase, Phase::Validating(_)) {
                    return None;
                }
                self.console.say(&invalid.message);
                self.console.screen(Screen::Refusal {
                    raison: invalid.raison,
                    message: invalid.message,
                    reessayer_dans: invalid.reessayer_dans,
                });
                self.refused()
            }
            ServerMessage::SessionStarted { session } => {
                let expected = match &self.phase {
                    Phase::Starting(id) => *id == session.id.0,
                    Phase::Running(countdown) => countdown.session_id == session.id.0,
                    // Protocol 5: staff opened a workshop on this workstation; its session
                    // starts here as if its code had been typed (one typed meanwhile is left
                    // unused). Not on a workstation out of service or not recognised.
                    Phase::AwaitingCode | Phase::Validating(_) => {
                        self.out_of_service.is_none() && !self.unrecognised
                    }
                };
                if !expected || session.statut != Statut::Active {
                    return None;
                }
                let remaining = remaining_of(session.temps_restant_ms, session.temps_restant);
                let remaining = self.on_arrival(remaining, now);
                let total = Duration::from_secs(
                    session
                        .duree_totale
                        .unwrap_or(session.temps_restant)
                        .max(0)
                        .unsigned_abs(),
                );
                match &mut self.phase {
                    Phase::Running(countdown) => {
                        let _ = countdown.sync(remaining, Some(total), now);
                    }
                    _ => {
                        let name = session
                            .utilisateur
                            .as_deref()
                            .unwrap_or(text::NOTIFICATION_TITLE)
                            .to_owned();
                        self.console.say(&text::session_started(&name, remaining));
                        if self.visitor_actions {
                            self.console.say(text::TERMINAL_WORDS);
                        }
                        self.console.screen(Screen::Started {
                            utilisateur: session.utilisateur.clone(),
                            restant_ms: millis(remaining),
                            total_ms: millis(total),
                        });
                        self.visitor = session.utilisateur.clone();
                        tracing::info!(
                            session = session.id.0,
                            secs = remaining.as_secs(),
                            "session started"
                        );
                        if let Some(rule) = &mut self.inactivity {
                            rule.restart();
                        }
                        // A code typed before a power order came: the order waits for the end.
                        if let Some(action) = self.power.pending().and_then(|k| k.switch()) {
                            self.power_due = None;
                            self.powering = None;
                            self.announce_power_after_session(action);
                        }
                        self.phase = Phase::Running(Countdown::start(
                            session.id.0,
                            remaining,
                            total,
                            self.thresholds,
                            now,
                        ));
                    }
                }
                None
            }
            ServerMessage::TimeUpdate(update) => {
                let ours = matches!(&self.phase, Phase::Running(countdown)
                    if update.session_id.is_none_or(|id| id.0 == countdown.session_id));
                if ours && update.statut == Statut::Active {
                    let total = update
                        .duree_totale
                        .map(|secs| Duration::from_secs(secs.max(0).unsigned_abs()));
                    let remaining = remaining_of(update.temps_restant_ms, update.temps_restant);
                    let remaining = self.on_arrival(remaining, now);
                    let added = match &mut self.phase {
                        Phase::Running(countdown) => countdown.sync(remaining, total, now),
                        _ => None,
                    };
                    if let Some(added) = added {
                        self.console.say(&text::time_added(added, remaining));
                    }
                }
                None
            }
            ServerMessage::Warning(warning) => {
                let step = match &mut self.phase {
                    Phase::Running(countdown)
                        if warning
                            .session_id
                            .is_none_or(|id| id.0 == countdown.session_id) =>
                    {
                        countdown.server_warning(warning.level, &warning.message)
                    }
                    _ => None,
                };
                self.on_step(step).await
            }
            ServerMessage::SessionTerminated(ended) => {
                let step = match &mut self.phase {
                    Phase::Running(countdown)
                        if ended
                            .session_id
                            .is_none_or(|id| id.0 == countdown.session_id) =>
                    {
                        countdown.server_end(ended.raison, &ended.message)
                    }
                    _ => None,
                };
                self.on_step(step).await
            }
            ServerMessage::Error(error) => {
                tracing::warn!(code = ?error.code, message = %error.message, "error from the server");
                if matches!(
                    error.code,
                    ErrorCode::PosteNonAuthentifie | ErrorCode::PosteNonEnrole
                ) {
                    self.console.say(&error.message);
                    self.console.say(text::NOT_RECOGNISED);
                    if !self.hooks.wait_for_enrollment {
                        return Some(Exit::NotRecognised);
                    }
                    // The server closes the link; it comes back with the secret once staff
                    // approve (the link reads it again at each connection). Read again at each
                    // try too: the enrollment command may have been refused meanwhile.
                    self.unrecognised = true;
                    let message = self.waiting_message();
                    if self.out_of_service.is_none() && self.waiting_said.as_ref() != Some(&message)
                    {
                        self.console.screen(Screen::OutOfService {
                            message: Some(message.clone()),
                        });
                        self.waiting_said = Some(message);
                    }
                    if matches!(self.phase, Phase::Validating(_)) {
                        self.phase = Phase::AwaitingCode;
                        self.console.screen(Screen::Refusal {
                            raison: None,
                            message: text::OUT_OF_SERVICE_VISITOR.to_owned(),
                            reessayer_dans: None,
                        });
                    }
                    return None;
                }
                if matches!(self.phase, Phase::Validating(_) | Phase::Starting(_)) {
                    self.console.say(&error.message);
                    self.console.screen(Screen::Refusal {
                        raison: None,
                        message: error.message.clone(),
                        reessayer_dans: None,
                    });
                    return self.refused();
                }
                None
            }
            ServerMessage::Message(staff) => {
                self.console
                    .say(&format!("{} : {}", text::STAFF_MESSAGE, staff.message));
                self.notify(text::STAFF_MESSAGE, &staff.message, Urgency::Normal);
                self.console.screen(Screen::Staff {
                    message: staff.message,
                    de: staff.de,
                });
                None
            }
            ServerMessage::Welcome(welcome) => {
                tracing::info!(poste = %welcome.poste, server = %welcome.serveur_version, "server greeted us");
                self.waiting_said = None;
                if std::mem::replace(&mut self.unrecognised, false) && self.out_of_service.is_none()
                {
                    self.console.screen(Screen::OutOfService { message: None });
                }
                self.console.screen(Screen::Space {
                    nom: welcome.espace.clone(),
                });
                self.visitor_actions = welcome.protocole >= VISITOR_ACTIONS_SINCE;
                self.console.screen(Screen::Actions {
                    disponibles: self.visitor_actions,
                });
                // The server is the clock: offline, warn at its thresholds, not ours.
                let (warning, critical) = (welcome.seuils.avertissement, welcome.seuils.critique);
                if critical > 0 && warning > critical {
                    self.thresholds = crate::countdown::Thresholds {
                        warning: Duration::from_secs(warning.unsigned_abs()),
                        critical: Duration::from_secs(critical.unsigned_abs()),
                    };
                    if let Phase::Running(countdown) = &mut self.phase {
                        countdown.set_thresholds(self.thresholds, now);
                    }
                }
                None
            }
            ServerMessage::TimeRequest(reply) => {
                let ours =
                    matches!(&self.phase, Phase::Running(c) if c.session_id == reply.session_id.0);
                if !ours {
                    return None;
                }
                self.console.say(&reply.message);
                if !matches!(reply.statut, TimeRequestStatus::EnAttente) {
                    self.notify(text::NOTIFICATION_TITLE, &reply.message, Urgency::Normal);
                }
                self.console.screen(Screen::TimeRequest {
                    statut: Some(reply.statut),
                    message: reply.message,
                });
                None
            }
            ServerMessage::Power(order) => {
                self.on_power_order(&order);
                None
            }
            ServerMessage::Lock(lock) => {
                if lock.verrouille {
                    let message = lock
                        .message
                        .filter(|message| !message.trim().is_empty())
                        .unwrap_or_else(|| text::ROOM_LOCKED.to_owned());
                    tracing::info!("room locked by staff");
                    self.console.say(&message);
                    self.room_lock = Some(message.clone());
                    self.console.screen(Screen::RoomLock {
                        message: Some(message),
                    });
                } else if self.room_lock.take().is_some() {
                    tracing::info!("room unlocked by staff");
                    self.console.say(text::ROOM_UNLOCKED);
                    self.console.screen(Screen::RoomLock { message: None });
                }
                None
            }
            ServerMessage::Wake(relay) => {
                // Only the server's link carries it (the local link to the helper has no such
                // message); magic packets wake, they cannot harm a workstation.
                match crate::wake::relay(self.config.wake_address, &relay).await {
                    Ok(done) => tracing::info!(
                        sent = done.sent,
                        skipped = done.skipped,
                        to = %self.config.wake_address,
                        "workstations woken on the server's behalf"
                    ),
                    Err(err) => {
                        tracing::warn!(error = %err, to = %self.config.wake_address, "could not wake workstations on the server's behalf")
                    }
                }
                None
            }
            ServerMessage::HeartbeatAck { .. }
            | ServerMessage::Enrollment(_)
            | ServerMessage::ConnectionEstablished(_) => None,
        }
    }

    /// A power order from the server (the only way one comes in: the local link to the
    /// visitor's helper has no such message, see `local::FromHelper`). Never carried out during
    /// a session: at its end, else on the gate once its notice has run out; a link lost
    /// meanwhile changes nothing.
    fn on_power_order(&mut self, order: &PowerOrder) {
        if matches!(self.mode, Mode::Code(_)) {
            // `--code` is one session run by hand at a terminal, then exit: power orders are
            // for the workstation's standing agent (the service, `--interactive`).
            tracing::info!(
                ordre = order.ordre,
                "power order ignored: one-shot --code run"
            );
            return;
        }
        let kept = match self.power.receive(order) {
            Receipt::Unknown => {
                tracing::warn!(ordre = order.ordre, action = ?order.action, "power order REFUSED: unknown action");
                return;
            }
            Receipt::AlreadyKept => {
                tracing::info!(ordre = order.ordre, "power order already kept: ignored");
                return;
            }
            Receipt::New(kept) => kept,
        };
        let Some(action) = kept.switch() else {
            return;
        };
        let notice = power::notice(order);
        tracing::warn!(
            ordre = order.ordre,
            action = action.as_str(),
            notice_secs = notice.as_secs(),
            "power order received"
        );
        if matches!(self.phase, Phase::Running(_)) {
            self.power_due = None;
            self.powering = None;
            self.announce_power_after_session(action);
        } else {
            let message = text::power_soon(action, notice);
            self.powering = Some(action);
            self.power_due = Some(Instant::now() + notice);
            self.console.say(&message);
            self.console.screen(Screen::OutOfService {
                message: Some(message),
            });
        }
    }

    /// The visitor learns that the workstation goes down after their session; nothing else
    /// changes.
    fn announce_power_after_session(&mut self, action: PowerAction) {
        let message = text::power_after_session(action);
        self.console
            .say(&format!("{} : {message}", text::STAFF_MESSAGE));
        self.console.screen(Screen::Staff {
            message: message.to_owned(),
            de: None,
        });
        self.notify(text::STAFF_MESSAGE, message, Urgency::Normal);
    }

    /// At start-up: an order kept and not carried out is carried out now, or at the end of the
    /// session taken up.
    async fn power_at_start(&mut self, resumed: bool) {
        if matches!(self.mode, Mode::Code(_)) {
            return;
        }
        let Some(kept) = self.power.pending() else {
            return;
        };
        let Some(action) = kept.switch() else {
            return;
        };
        tracing::warn!(
            ordre = kept.ordre,
            action = action.as_str(),
            "a power order is pending from before"
        );
        if resumed {
            self.announce_power_after_session(action);
        } else {
            self.carry_out_power(None).await;
        }
    }

    /// Carries out the power order held, if one waits: marked done in its file first (so that
    /// it is never run twice, even if the machine goes down before this returns), then the
    /// power command on a blocking thread, reported to the server.
    async fn carry_out_power(&mut self, session_id: Option<i64>) {
        self.power_due = None;
        let Some((kept, action)) = self
            .power
            .pending()
            .and_then(|kept| Some((kept, kept.switch()?)))
        else {
            return;
        };
        let name = power::report_name(action);
        let result = match self.power.mark_done() {
            Ok(()) => {
                tracing::warn!(
                    ordre = kept.ordre,
                    action = name,
                    "carrying out the server's power order"
                );
                self.powering = Some(action);
                self.console.say(text::powering(action));
                self.console.screen(Screen::OutOfService {
                    message: Some(text::powering(action).to_owned()),
                });
                let desktop = Arc::clone(&self.desktop);
                blocking(move || desktop.power(action)).await
            }
            // Not marked, not run: it would be run again at each start (a restart loop).
            Err(err) => Err(DesktopError::Refused(format!(
                "the power order file cannot be written: {err}"
            ))),
        };
        let failed = result.is_err();
        self.report(name, session_id, result);
        if failed {
            self.powering = None;
            self.console.say(text::POWER_FAILED);
            let message = if self.out_of_service.is_some() {
                Some(text::OUT_OF_SERVICE_STAFF.to_owned())
            } else if self.unrecognised {
                Some(self.waiting_message())
            } else {
                None
            };
            self.console.screen(Screen::OutOfService { message });
        }
    }

    /// What the gate says while this workstation waits for its enrollment: the server's
    /// refusal when the enrollment command was refused (a space name it does not know), else
    /// that staff must approve it.
    fn waiting_message(&self) -> String {
        self.hooks
            .enrollment_refusal
            .as_deref()
            .and_then(crate::enroll::last_refusal)
            .map_or_else(
                || text::WAITING_ENROLLMENT.to_owned(),
                |words| text::enrollment_refused(&words),
            )
    }

    fn refused(&mut self) -> Option<Exit> {
        match self.mode {
            Mode::Code(_) => Some(Exit::CodeRefused),
            Mode::Interactive => {
                self.phase = Phase::AwaitingCode;
                self.console.prompt();
                None
            }
        }
    }

    async fn on_step(&mut self, step: Option<Step>) -> Option<Exit> {
        match step? {
            Step::Warn { level, message } => {
                self.console.say(&message);
                self.console.screen(Screen::Warning {
                    critique: matches!(level, WarningLevel::Critical),
                    message: message.clone(),
                    son: self.config.warning_sound,
                });
                let urgency = match level {
                    WarningLevel::Warning | WarningLevel::Autre => Urgency::Normal,
                    WarningLevel::Critical => Urgency::Critical,
                };
                self.notify(text::NOTIFICATION_TITLE, &message, urgency);
                None
            }
            Step::End { reason, message } => {
                let session_id = match &self.phase {
                    Phase::Running(countdown) => countdown.session_id,
                    _ => return None,
                };
                tracing::info!(session = session_id, ?reason, "session ended");
                self.forget_session();
                self.console.say(&message);
                self.console.screen(Screen::Ended {
                    message: message.clone(),
                });
                self.end_session(session_id).await;
                // Only here, at a real end of session: a lost link never comes this way.
                if self.hooks.reset.is_some() {
                    self.restore_home(Some(session_id)).await;
                }
                self.console.say(text::GOODBYE);
                match self.mode {
                    Mode::Code(_) => Some(Exit::SessionEnded),
                    Mode::Interactive => {
                        self.phase = Phase::AwaitingCode;
                        // A power order kept during the session: now, the desktop closed and
                        // the home restored.
                        self.carry_out_power(Some(session_id)).await;
                        self.console.prompt();
                        None
                    }
                }
            }
        }
    }

    /// Lock, then log out, each as configured, reporting to the server what happened.
    async fn end_session(&mut self, session_id: i64) {
        if self.config.enable_screen_lock && self.config.lock_on_expire {
            self.console.say(text::SESSION_LOCKING);
            let desktop = Arc::clone(&self.desktop);
            let result = blocking(move || desktop.lock()).await;
            self.report("verrouillage", Some(session_id), result);
        }
        if self.config.logout_on_expire {
            self.console.say(text::SESSION_LOGGING_OUT);
            let desktop = Arc::clone(&self.desktop);
            let result = blocking(move || desktop.logout()).await;
            self.report("deconnexion", Some(session_id), result);
        }
    }

    /// Brings the visitor account back to its template; on failure the workstation goes out of
    /// service (codes refused here) and staff are told, on the gate and through the server.
    async fn restore_home(&mut self, session_id: Option<i64>) {
        let Some(reset) = self.hooks.reset.clone() else {
            return;
        };
        if let Some(pending) = &self.hooks.pending
            && let Err(err) = pending.set()
        {
            tracing::warn!(error = %err, "could not mark the restore as pending");
        }
        self.console.say(text::HOME_RESTORING);
        let result = match tokio::task::spawn_blocking(move || reset.reset()).await {
            Ok(result) => result.map_err(|err| err.to_string()),
            Err(err) => Err(format!("restore task failed: {err}")),
        };
        match result {
            Ok(()) => {
                if let Some(pending) = &self.hooks.pending
                    && let Err(err) = pending.clear()
                {
                    tracing::warn!(error = %err, "could not clear the pending-restore marker");
                }
                if self.out_of_service.take().is_some() {
                    tracing::info!("home restored: back in service");
                    self.incident("restauration_retablie", text::HOME_RESTORED_AGAIN, None);
                    self.console.say(text::BACK_IN_SERVICE);
                    // A power order's notice stays on the gate.
                    if self.powering.is_none() {
                        self.console.screen(Screen::OutOfService { message: None });
                    }
                }
            }
            Err(detail) => {
                tracing::error!(%detail, "home restore FAILED: the workstation stays locked");
                let first = self.out_of_service.replace(detail.clone()).is_none();
                // Told once per failure, not at every retry.
                if first {
                    self.incident(
                        "restauration_echouee",
                        &text::home_restore_failed(&detail),
                        session_id,
                    );
                }
                self.console.say(text::OUT_OF_SERVICE_STAFF);
                self.console.screen(Screen::OutOfService {
                    message: Some(text::OUT_OF_SERVICE_STAFF.to_owned()),
                });
            }
        }
    }

    fn incident(&mut self, nature: &str, detail: &str, session_id: Option<i64>) {
        self.incidents.push(Incident {
            nature: nature.to_owned(),
            detail: Some(detail.to_owned()),
            session_id: session_id.map(SessionId),
        });
        self.flush_incidents();
    }

    /// Sends the incidents kept while offline (the link drops what is sent offline).
    fn flush_incidents(&mut self) {
        if self.connected {
            for incident in self.incidents.drain(..) {
                self.link.send(ClientMessage::Incident(incident));
            }
        }
    }

    /// Reads the idle time; warns, or ends the session, as the inactivity rule says.
    async fn check_idle(&mut self) -> Option<Exit> {
        let source = self.hooks.idle.clone()?;
        let reading = tokio::task::spawn_blocking(move || source.idle())
            .await
            .unwrap_or_else(|err| Idle::Unknown(format!("idle task failed: {err}")));
        let step = self.inactivity.as_mut()?.observe(reading)?;
        match step {
            IdleStep::Warn(left) => {
                let message = text::inactivity_warning(left);
                self.console.say(&message);
                self.console.screen(Screen::Warning {
                    critique: false,
                    message: message.clone(),
                    son: self.config.warning_sound,
                });
                self.notify(text::NOTIFICATION_TITLE, &message, Urgency::Normal);
                None
            }
            IdleStep::End => {
                let session_id = match &self.phase {
                    Phase::Running(countdown) => countdown.session_id,
                    _ => return None,
                };
                tracing::info!(
                    session = session_id,
                    "no input for too long: ending the session"
                );
                // The server ends it too (`end_session`, protocol 2; later if offline), so the
                // workstation is free at once; staff learn why through the incident.
                if self.visitor_actions {
                    if self.connected {
                        self.link.send(ClientMessage::EndSession {
                            session_id: SessionId(session_id),
                        });
                    } else {
                        self.unsent_end = Some(session_id);
                    }
                }
                self.incident(
                    "inactivite",
                    &text::inactivity_incident(self.config.inactivity.minutes),
                    Some(session_id),
                );
                self.on_step(Some(Step::End {
                    reason: EndReason::Autre,
                    message: text::INACTIVITY_END.to_owned(),
                }))
                .await
            }
        }
    }

    fn notify(&self, title: &str, body: &str, urgency: Urgency) {
        let notification = Notification {
            title: title.to_owned(),
            body: body.to_owned(),
            urgency,
            timeout_secs: 10,
        };
        let desktop = Arc::clone(&self.desktop);
        // Shown in the background: a slow notification daemon must not delay the countdown.
        tokio::task::spawn_blocking(move || {
            if let Err(err) = desktop.notify(&notification) {
                tracing::error!(error = %err, "no notification method worked");
            }
        });
    }

    fn report(&self, action: &str, session_id: Option<i64>, result: Result<Outcome, DesktopError>) {
        let report = match result {
            Ok(outcome) => {
                tracing::info!(%action, method = %outcome.method, "done");
                ActionReport {
                    action: action.to_owned(),
                    succes: true,
                    methode: Some(outcome.method),
                    detail: None,
                    session_id: session_id.map(SessionId),
                }
            }
            Err(err) => {
                tracing::error!(%action, error = %err, "FAILED: no method worked");
                ActionReport {
                    action: action.to_owned(),
                    succes: false,
                    methode: None,
                    detail: Some(err.to_string()),
                    session_id: session_id.map(SessionId),
                }
            }
        };
        self.link.send(ClientMessage::ActionReport(report));
    }
}

/// Waits until `at`; never, without one.
async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, DesktopError> + Send + 'static,
) -> Result<T, DesktopError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(err) => Err(DesktopError::Refused(format!("desktop task failed: {err}"))),
    }
}

/// The most precise reading of the time left: the extension in milliseconds, else the seed's
/// seconds.
fn remaining_of(ms: Option<i64>, secs: i64) -> Duration {
    match ms {
        Some(ms) => Duration::from_millis(ms.max(0).unsigned_abs()),
        None => Duration::from_secs(secs.max(0).unsigned_abs()),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(all(test, unix))]
mod tests;
