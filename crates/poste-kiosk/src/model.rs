//! What the visitor's screen shows, as a pure state machine: fed by the service's messages
//! (`ToHelper`) and by what the visitor types, with the time passed in. The windows (`app.rs`)
//! only draw a [`View`] of it; tests read the same [`View`] (and the state file writes it).

use std::time::{Duration, Instant};

use poste_client::local::{Screen, ToHelper};
use poste_proto::RefusalReason;
use serde::Serialize;

use crate::text;

/// How long a warning banner stays on screen, large and centred.
pub const WARNING_BANNER: Duration = Duration::from_secs(8);
/// How long a staff message stays on screen.
pub const STAFF_BANNER: Duration = Duration::from_secs(15);
/// How long the end of a session is said on the gate.
pub const ENDED_BANNER: Duration = Duration::from_secs(10);
/// How long staff's answer to a request for more time stays on screen.
pub const ANSWER_BANNER: Duration = Duration::from_secs(10);
/// A question left unanswered this long closes by itself (the visitor walked away from it).
pub const DIALOG_TIMEOUT: Duration = Duration::from_secs(30);

/// Which window is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Full screen, covering the desktop: the code field.
    Gate,
    /// The small countdown, always on top.
    Countdown,
    /// The countdown grown into a large centred banner for a few seconds (warnings, staff).
    Banner,
    /// The countdown grown into a centred question the visitor answers (more time? end now?).
    Dialog,
    /// Full screen, covering everything: staff locked the room for a workshop (protocol 5);
    /// no code field, a running session goes on behind it.
    Locked,
}

impl Mode {
    /// The window covers the whole screen (and the others get their covers).
    pub fn is_full_screen(self) -> bool {
        matches!(self, Mode::Gate | Mode::Locked)
    }
}

/// The question the visitor opened from the countdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialog {
    /// How much more time to ask for.
    AskTime,
    /// End the session now?
    ConfirmEnd,
}

/// The countdown's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Normal,
    /// After the first warning: orange.
    Warning,
    /// After the second: red.
    Critical,
}

/// What a banner is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BannerKind {
    Warning,
    Critical,
    Staff,
    Ended,
    /// Staff's answer to a request for more time.
    Answer,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Banner {
    kind: BannerKind,
    text: String,
    until: Instant,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Refusal {
    raison: Option<RefusalReason>,
    message: String,
    /// While the server makes the visitor wait (`trop_d_essais`).
    retry_at: Option<Instant>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Running {
    name: Option<String>,
    /// Time left as of `at`.
    remaining: Duration,
    at: Instant,
    total: Option<Duration>,
    percent_used: u8,
    server_connected: bool,
}

/// The whole state of the visitor's screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kiosk {
    space: Option<String>,
    /// The local link to the service (`None` before the first connection).
    service_connected: Option<bool>,
    /// The service's link to the server (`None` before it says).
    server_connected: Option<bool>,
    checking: bool,
    refusal: Option<Refusal>,
    local_hint: Option<&'static str>,
    running: Option<Running>,
    level: Level,
    banner: Option<Banner>,
    staff: Option<Banner>,
    /// Staff's message while the workstation is out of service: shown for as long as it is.
    out_of_service: Option<String>,
    codes_sent: u32,
    /// The server takes the visitor's requests (more time, ending early).
    actions: bool,
    /// The open question, and when it closes by itself.
    dialog: Option<(Dialog, Instant)>,
    /// A request for more time is on its way or waits for staff: its line on the countdown.
    request: Option<String>,
    /// The visitor asked to end the session; the end is on its way.
    ending: bool,
    /// A warning came with a sound to play (`Some(critique)`), not played yet.
    chime: Option<bool>,
    /// Staff locked the room: what the screen says until they unlock it.
    room_lock: Option<String>,
}

/// What to draw (and what the state file says), at one instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct View {
    pub mode: Mode,
    pub space: String,
    pub service_connected: Option<bool>,
    pub server_connected: Option<bool>,
    /// The line about the link, when something is wrong (or not known yet).
    pub link_text: Option<String>,
    pub checking: bool,
    pub refusal: Option<String>,
    pub raison: Option<RefusalReason>,
    /// Whole seconds still to wait before the next try.
    pub retry_in_secs: Option<u64>,
    /// The code field takes input.
    pub can_submit: bool,
    pub name: Option<String>,
    pub remaining_secs: Option<u64>,
    pub clock: Option<String>,
    /// Share of the session used, 0.0–1.0.
    pub progress: Option<f32>,
    pub level: Level,
    pub banner: Option<String>,
    pub banner_kind: Option<BannerKind>,
    pub staff: Option<String>,
    pub codes_sent: u32,
    /// The buttons "more time" and "end my session" are offered.
    pub actions: bool,
    pub dialog: Option<Dialog>,
    /// Where the visitor's request for more time stands, while it waits.
    pub request: Option<String>,
    /// A request waits: no second one is offered.
    pub can_request: bool,
    /// Staff locked the room: their words, over everything.
    pub locked: Option<String>,
}

impl Default for Kiosk {
    fn default() -> Self {
        Kiosk::new()
    }
}

impl Kiosk {
    pub fn new() -> Kiosk {
        Kiosk {
            space: None,
            service_connected: None,
            server_connected: None,
            checking: false,
            refusal: None,
            local_hint: None,
            running: None,
            level: Level::Normal,
            banner: None,
            staff: None,
            out_of_service: None,
            codes_sent: 0,
            actions: false,
            dialog: None,
            request: None,
            ending: false,
            chime: None,
            room_lock: None,
        }
    }

    /// A message of the service.
    pub fn apply(&mut self, message: ToHelper, now: Instant) {
        self.service_connected = Some(true);
        match message {
            ToHelper::Countdown {
                restant_ms,
                pourcentage,
                connecte,
            } => {
                self.server_connected = Some(connecte);
                let remaining = Duration::from_millis(restant_ms);
                match &mut self.running {
                    Some(running) => {
                        running.remaining = remaining;
                        running.at = now;
                        running.percent_used = pourcentage.min(100);
                        running.server_connected = connecte;
                    }
                    // A helper started during a session: the countdown alone is enough.
                    None => self.start(None, remaining, None, pourcentage, now),
                }
            }
            ToHelper::Prompt => {
                self.checking = false;
            }
            ToHelper::Screen { event } => self.on_screen(event, now),
            // Lines and notifications are for the terminal and the desktop; the refusal of this
            // helper ends the program (main.rs).
            ToHelper::Say { .. }
            | ToHelper::Notify { .. }
            | ToHelper::Refused { .. }
            | ToHelper::OpenSession { .. } => {}
        }
    }

    fn on_screen(&mut self, event: Screen, now: Instant) {
        match event {
            Screen::Space { nom } => {
                self.space = nom.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
            }
            Screen::Link { connecte } => {
                self.server_connected = Some(connecte);
                if let Some(running) = &mut self.running {
                    running.server_connected = connecte;
                }
            }
            Screen::Checking => {
                self.checking = true;
                self.local_hint = None;
            }
            Screen::Refusal {
                raison,
                message,
                reessayer_dans,
            } => {
                self.checking = false;
                self.refusal = Some(Refusal {
                    raison,
                    message,
                    retry_at: reessayer_dans.map(|secs| now + Duration::from_secs(secs)),
                });
            }
            Screen::Started {
                utilisateur,
                restant_ms,
                total_ms,
            } => {
                let total = (total_ms > 0).then(|| Duration::from_millis(total_ms));
                let remaining = Duration::from_millis(restant_ms);
                let used = total.map_or(0, |total| percent_used(remaining, total));
                self.start(utilisateur, remaining, total, used, now);
            }
            Screen::Warning {
                critique,
                message,
                son,
            } => {
                if son {
                    self.chime = Some(critique);
                }
                self.level = if critique {
                    Level::Critical
                } else {
                    self.level.max_with(Level::Warning)
                };
                self.banner = Some(Banner {
                    kind: if critique {
                        BannerKind::Critical
                    } else {
                        BannerKind::Warning
                    },
                    text: message,
                    until: now + WARNING_BANNER,
                });
            }
            Screen::Staff { message, .. } => {
                let banner = Banner {
                    kind: BannerKind::Staff,
                    text: message,
                    until: now + STAFF_BANNER,
                };
                if self.running.is_some() {
                    self.banner = Some(banner.clone());
                }
                self.staff = Some(banner);
            }
            Screen::OutOfService { message } => {
                // Said in the log: what scripts/vm-check waits for before its screenshot.
                tracing::info!(
                    out_of_service = message.is_some(),
                    "the gate's service state"
                );
                // Out of service now: an earlier code's refusal (« serveur injoignable ») no
                // longer says why codes are refused, and would push the message off the gate.
                if message.is_some() && self.refusal.as_ref().is_some_and(|r| r.retry_at.is_none())
                {
                    self.refusal = None;
                }
                self.out_of_service = message;
            }
            Screen::RoomLock { message } => {
                // Said in the log: what a check waits for before its screenshot.
                tracing::info!(locked = message.is_some(), "the room's lock");
                if message.is_some() {
                    self.dialog = None;
                }
                self.room_lock = message;
            }
            Screen::Actions { disponibles } => {
                self.actions = disponibles;
                if !disponibles {
                    self.dialog = None;
                }
            }
            Screen::TimeRequest { statut, message } => {
                use poste_proto::TimeRequestStatus as S;
                match statut {
                    // Waiting for staff, or could not be sent: said on the countdown.
                    Some(S::EnAttente) => self.request = Some(message),
                    None => {
                        self.request = None;
                        self.answer(message, now);
                    }
                    Some(S::Acceptee | S::Refusee | S::Autre) => {
                        self.request = None;
                        self.answer(message, now);
                    }
                }
            }
            Screen::Ended { message } => {
                self.dialog = None;
                self.request = None;
                self.ending = false;
                self.running = None;
                self.level = Level::Normal;
                self.checking = false;
                self.refusal = None;
                let text = if message.trim().is_empty() {
                    text::SESSION_ENDED.to_owned()
                } else {
                    format!("{message}. {}", text::SESSION_ENDED)
                };
                self.banner = Some(Banner {
                    kind: BannerKind::Ended,
                    text,
                    until: now + ENDED_BANNER,
                });
            }
        }
    }

    fn start(
        &mut self,
        name: Option<String>,
        remaining: Duration,
        total: Option<Duration>,
        percent_used: u8,
        now: Instant,
    ) {
        self.checking = false;
        self.refusal = None;
        self.local_hint = None;
        self.level = Level::Normal;
        self.banner = None;
        self.dialog = None;
        self.request = None;
        self.ending = false;
        self.running = Some(Running {
            name: name.filter(|n| !n.trim().is_empty()),
            remaining,
            at: now,
            total,
            percent_used,
            server_connected: self.server_connected.unwrap_or(true),
        });
    }

    /// The local link to the service was lost (the helper reconnects by itself).
    /// The sound a warning asked for, once: `Some(critique)`.
    pub fn take_chime(&mut self) -> Option<bool> {
        self.chime.take()
    }

    pub fn service_lost(&mut self) {
        self.service_connected = Some(false);
        self.checking = false;
    }

    /// The visitor pressed Enter on `typed`: the code to send, if any. The server normalises
    /// it (case, spaces); here only what is obviously not a code is kept back: nothing typed,
    /// or a try while the server makes the visitor wait, or no link to check it.
    pub fn submit(&mut self, typed: &str, now: Instant) -> Option<String> {
        if self.running.is_some() || self.checking {
            return None;
        }
        let code = typed.trim();
        if code.is_empty() {
            self.local_hint = Some(text::EMPTY_CODE);
            return None;
        }
        if self.waiting(now).is_some() || self.service_connected != Some(true) {
            return None;
        }
        self.local_hint = None;
        self.checking = true;
        self.codes_sent += 1;
        Some(code.to_owned())
    }

    fn answer(&mut self, message: String, now: Instant) {
        if self.running.is_some() {
            self.banner = Some(Banner {
                kind: BannerKind::Answer,
                text: message,
                until: now + ANSWER_BANNER,
            });
        }
    }

    /// The visitor pressed one of the countdown's buttons.
    pub fn open(&mut self, dialog: Dialog, now: Instant) {
        let allowed = match dialog {
            Dialog::AskTime => self.can_request(),
            Dialog::ConfirmEnd => self.running.is_some() && self.actions && !self.ending,
        };
        if allowed {
            self.dialog = Some((dialog, now + DIALOG_TIMEOUT));
        }
    }

    /// "Cancel", Escape, or the question left alone.
    pub fn close_dialog(&mut self) {
        self.dialog = None;
    }

    fn can_request(&self) -> bool {
        self.running.is_some() && self.actions && self.request.is_none() && !self.ending
    }

    /// The visitor chose how much time to ask for (`None`: as staff see fit): what to send.
    pub fn ask_time(&mut self, minutes: Option<i64>) -> Option<poste_client::agent::Input> {
        if !matches!(self.dialog, Some((Dialog::AskTime, _))) || !self.can_request() {
            return None;
        }
        self.dialog = None;
        self.request = Some(text::REQUEST_SENDING.to_owned());
        Some(poste_client::agent::Input::RequestTime(minutes))
    }

    /// The visitor confirmed the end of the session: what to send.
    pub fn confirm_end(&mut self) -> Option<poste_client::agent::Input> {
        if !matches!(self.dialog, Some((Dialog::ConfirmEnd, _))) || self.running.is_none() {
            return None;
        }
        self.dialog = None;
        self.ending = true;
        Some(poste_client::agent::Input::EndSession)
    }

    fn waiting(&self, now: Instant) -> Option<Duration> {
        let at = self.refusal.as_ref()?.retry_at?;
        let left = at.saturating_duration_since(now);
        (!left.is_zero()).then_some(left)
    }

    /// The screen at `now`.
    pub fn view(&self, now: Instant) -> View {
        let banner = self.banner.as_ref().filter(|b| b.until > now);
        let dialog = self
            .dialog
            .filter(|(_, until)| *until > now && self.running.is_some())
            .map(|(dialog, _)| dialog);
        let mode = match (&self.running, banner, dialog) {
            _ if self.room_lock.is_some() => Mode::Locked,
            (None, _, _) => Mode::Gate,
            (Some(_), Some(b), _) if b.kind != BannerKind::Ended => Mode::Banner,
            (Some(_), _, Some(_)) => Mode::Dialog,
            (Some(_), _, None) => Mode::Countdown,
        };
        let wait = self.waiting(now);
        let (refusal, raison) = match (&self.refusal, self.local_hint) {
            (_, Some(hint)) => (Some(hint.to_owned()), None),
            (Some(refusal), None) => {
                // Past the wait, the server's "retry in 42 s" no longer holds.
                let stale = refusal.retry_at.is_some() && wait.is_none();
                let message = if stale {
                    None
                } else {
                    Some(refusal.message.clone())
                };
                (message, refusal.raison)
            }
            (None, None) => (None, None),
        };
        let link_text = match (self.service_connected, self.server_connected) {
            (Some(false), _) => Some(text::SERVICE_DOWN.to_owned()),
            (_, Some(false)) if self.running.is_none() => Some(text::SERVER_DOWN.to_owned()),
            (None, _) | (_, None) if self.running.is_none() => {
                Some(text::SERVER_UNKNOWN.to_owned())
            }
            _ => None,
        };
        let remaining = self.running.as_ref().map(|r| {
            r.remaining
                .saturating_sub(now.saturating_duration_since(r.at))
        });
        let progress = self
            .running
            .as_ref()
            .zip(remaining)
            .map(|(r, left)| match r.total {
                Some(total) if !total.is_zero() => {
                    1.0 - (left.as_secs_f32() / total.as_secs_f32()).clamp(0.0, 1.0)
                }
                _ => f32::from(r.percent_used) / 100.0,
            });
        let staff = self
            .staff
            .as_ref()
            .filter(|s| s.until > now)
            .map(|s| s.text.clone())
            .or_else(|| self.out_of_service.clone());
        View {
            mode,
            space: self
                .space
                .clone()
                .unwrap_or_else(|| text::DEFAULT_SPACE.to_owned()),
            service_connected: self.service_connected,
            server_connected: self.server_connected,
            link_text,
            checking: self.checking,
            refusal,
            raison,
            retry_in_secs: wait.map(|w| w.as_secs() + u64::from(w.subsec_nanos() > 0)),
            can_submit: self.running.is_none()
                && self.room_lock.is_none()
                && !self.checking
                && wait.is_none()
                && self.service_connected == Some(true),
            name: self.running.as_ref().and_then(|r| r.name.clone()),
            remaining_secs: remaining.map(|r| r.as_secs() + u64::from(r.subsec_nanos() > 0)),
            clock: remaining.map(text::clock),
            progress,
            level: self.level,
            banner: banner.map(|b| b.text.clone()),
            banner_kind: banner.map(|b| b.kind),
            staff,
            codes_sent: self.codes_sent,
            actions: self.actions && self.running.is_some() && !self.ending,
            dialog,
            request: if self.ending {
                Some(text::ENDING.to_owned())
            } else {
                self.request.clone()
            },
            can_request: self.can_request(),
            locked: self.room_lock.clone(),
        }
    }

    /// When the screen changes by itself next (a banner ends, a wait runs out), so that the
    /// windows need not redraw more often than that while nothing happens.
    pub fn next_change(&self, now: Instant) -> Option<Duration> {
        let mut soon: Vec<Duration> = Vec::new();
        for banner in [&self.banner, &self.staff].into_iter().flatten() {
            if banner.until > now {
                soon.push(banner.until - now);
            }
        }
        if let Some((_, until)) = self.dialog
            && until > now
        {
            soon.push(until - now);
        }
        if let Some(wait) = self.waiting(now) {
            soon.push(wait.min(Duration::from_millis(500)));
        }
        if self.running.is_some() {
            soon.push(Duration::from_millis(250));
        }
        soon.into_iter().min()
    }
}

impl Level {
    fn max_with(self, other: Level) -> Level {
        match (self, other) {
            (Level::Critical, _) | (_, Level::Critical) => Level::Critical,
            (Level::Warning, _) | (_, Level::Warning) => Level::Warning,
            _ => Level::Normal,
        }
    }
}

fn percent_used(remaining: Duration, total: Duration) -> u8 {
    if total.is_zero() {
        return 0;
    }
    let used = 1.0 - (remaining.as_secs_f64() / total.as_secs_f64()).clamp(0.0, 1.0);
    (used * 100.0).round() as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen(event: Screen) -> ToHelper {
        ToHelper::Screen { event }
    }

    fn connected(now: Instant) -> Kiosk {
        let mut kiosk = Kiosk::new();
        kiosk.apply(ToHelper::Prompt, now);
        kiosk.apply(screen(Screen::Link { connecte: true }), now);
        kiosk
    }

    #[test]
    fn a_room_locked_by_staff_covers_the_gate_and_the_session_until_unlocked() {
        let now = Instant::now();
        let mut kiosk = connected(now);
        assert!(kiosk.view(now).can_submit);
        let lock = |message: Option<&str>| {
            screen(Screen::RoomLock {
                message: message.map(str::to_owned),
            })
        };
        // At the gate: no code field, staff's words.
        kiosk.apply(lock(Some("Regardez l'animateur")), now);
        let view = kiosk.view(now);
        assert_eq!(view.mode, Mode::Locked);
        assert!(view.mode.is_full_screen());
        assert!(!view.can_submit);
        assert_eq!(view.locked.as_deref(), Some("Regardez l'animateur"));
        kiosk.apply(lock(None), now);
        assert_eq!(kiosk.view(now).mode, Mode::Gate);
        assert!(kiosk.view(now).can_submit);
        // During a session, over the countdown and a question left open; the time goes on.
        kiosk.apply(
            screen(Screen::Started {
                utilisateur: Some("Atelier CV".into()),
                restant_ms: 600_000,
                total_ms: 600_000,
            }),
            now,
        );
        kiosk.apply(screen(Screen::Actions { disponibles: true }), now);
        kiosk.open(Dialog::AskTime, now);
        assert_eq!(kiosk.view(now).dialog, Some(Dialog::AskTime));
        kiosk.apply(lock(Some("Regardez l'animateur")), now);
        let later = now + Duration::from_secs(60);
        let view = kiosk.view(later);
        assert_eq!(view.mode, Mode::Locked);
        assert_eq!(view.remaining_secs, Some(540));
        assert_eq!(view.dialog, None, "the question is closed under the lock");
        kiosk.apply(lock(None), later);
        assert_eq!(kiosk.view(later).mode, Mode::Countdown);
    }

    #[test]
    fn the_gate_shows_the_space_and_falls_back_to_a_default_name() {
        let now = Instant::now();
        let mut kiosk = Kiosk::new();
        let view = kiosk.view(now);
        assert_eq!(view.mode, Mode::Gate);
        assert_eq!(view.space, text::DEFAULT_SPACE);
        assert_eq!(view.link_text.as_deref(), Some(text::SERVER_UNKNOWN));
        assert!(!view.can_submit, "no code before the service is there");
        kiosk.apply(
            screen(Screen::Space {
                nom: Some("  EPN de Saint-Benoît ".into()),
            }),
            now,
        );
        kiosk.apply(screen(Screen::Link { connecte: true }), now);
        let view = kiosk.view(now);
        assert_eq!(view.space, "EPN de Saint-Benoît");
        assert_eq!(view.link_text, None);
        assert!(view.can_submit);
        kiosk.apply(
            screen(Screen::Space {
                nom: Some(" ".into()),
            }),
            now,
        );
        assert_eq!(kiosk.view(now).space, text::DEFAULT_SPACE);
    }

    #[test]
    fn a_refusal_is_shown_and_too_many_tries_counts_the_wait_down() {
        let now = Instant::now();
        let mut kiosk = connected(now);
        assert_eq!(kiosk.submit("   ", now), None);
        assert_eq!(kiosk.view(now).refusal.as_deref(), Some(text::EMPTY_CODE));
        assert_eq!(kiosk.submit(" k7p2 mx ", now).as_deref(), Some("k7p2 mx"));
        assert!(kiosk.view(now).checking);
        assert_eq!(kiosk.submit("other", now), None, "one code at a time");
        kiosk.apply(
            screen(Screen::Refusal {
                raison: Some(RefusalReason::Inconnu),
                message: "Code inconnu.".into(),
                reessayer_dans: None,
            }),
            now,
        );
        let view = kiosk.view(now);
        assert_eq!(view.refusal.as_deref(), Some("Code inconnu."));
        assert_eq!(view.raison, Some(RefusalReason::Inconnu));
        assert!(view.can_submit && !view.checking);

        kiosk.apply(
            screen(Screen::Refusal {
                raison: Some(RefusalReason::TropDEssais),
                message: "Trop d'essais. Réessayez dans 42 s.".into(),
                reessayer_dans: Some(42),
            }),
            now,
        );
        let later = now + Duration::from_millis(1500);
        let view = kiosk.view(later);
        assert_eq!(view.retry_in_secs, Some(41));
        assert!(!view.can_submit);
        assert_eq!(kiosk.submit("ABC123", later), None, "the wait holds");
        let after = now + Duration::from_secs(42);
        let view = kiosk.view(after);
        assert_eq!(view.retry_in_secs, None);
        assert_eq!(view.refusal, None, "the stale wait is no longer said");
        assert!(view.can_submit);
        assert_eq!(kiosk.submit("ABC123", after).as_deref(), Some("ABC123"));
        assert_eq!(kiosk.view(after).codes_sent, 2);
    }

    #[test]
    fn going_out_of_service_replaces_an_earlier_codes_refusal() {
        let now = Instant::now();
        let mut kiosk = connected(now);
        assert!(kiosk.submit("k9vn75", now).is_some());
        kiosk.apply(
            screen(Screen::Refusal {
                raison: None,
                message: "Le serveur est injoignable.".into(),
                reessayer_dans: None,
            }),
            now,
        );
        kiosk.apply(
            screen(Screen::OutOfService {
                message: Some("Ce poste n'est pas encore en service.".into()),
            }),
            now,
        );
        let view = kiosk.view(now);
        assert_eq!(view.refusal, None);
        assert_eq!(
            view.staff.as_deref(),
            Some("Ce poste n'est pas encore en service.")
        );
    }

    #[test]
    fn no_code_goes_out_while_the_service_is_away_and_the_gate_says_why() {
        let now = Instant::now();
        let mut kiosk = connected(now);
        kiosk.service_lost();
        let view = kiosk.view(now);
        assert_eq!(view.link_text.as_deref(), Some(text::SERVICE_DOWN));
        assert_eq!(kiosk.submit("ABC123", now), None);
        kiosk.apply(screen(Screen::Link { connecte: false }), now);
        assert_eq!(
            kiosk.view(now).link_text.as_deref(),
            Some(text::SERVER_DOWN)
        );
    }

    #[test]
    fn a_session_turns_orange_then_red_with_banners_and_the_gate_returns_at_the_end() {
        let now = Instant::now();
        let mut kiosk = connected(now);
        kiosk.apply(
            screen(Screen::Started {
                utilisateur: Some("Awa".into()),
                restant_ms: 10_000,
                total_ms: 10_000,
            }),
            now,
        );
        let view = kiosk.view(now + Duration::from_millis(2_500));
        assert_eq!(view.mode, Mode::Countdown);
        assert_eq!(view.name.as_deref(), Some("Awa"));
        assert_eq!(view.remaining_secs, Some(8));
        assert_eq!(view.clock.as_deref(), Some("00:08"));
        assert!((view.progress.unwrap_or(0.0) - 0.25).abs() < 0.01);
        assert_eq!(view.level, Level::Normal);
        assert_eq!(view.link_text, None);

        let t = now + Duration::from_secs(7);
        kiosk.apply(
            screen(Screen::Warning {
                critique: false,
                message: "Il vous reste 3 secondes".into(),
                son: false,
            }),
            t,
        );
        let view = kiosk.view(t);
        assert_eq!(view.mode, Mode::Banner);
        assert_eq!(view.level, Level::Warning);
        assert_eq!(view.banner.as_deref(), Some("Il vous reste 3 secondes"));
        assert_eq!(view.banner_kind, Some(BannerKind::Warning));
        assert_eq!(kiosk.view(t + WARNING_BANNER).mode, Mode::Countdown);
        assert_eq!(kiosk.view(t + WARNING_BANNER).level, Level::Warning);

        kiosk.apply(
            screen(Screen::Warning {
                critique: true,
                message: "Il vous reste 1 seconde".into(),
                son: false,
            }),
            t,
        );
        assert_eq!(kiosk.view(t).level, Level::Critical);
        assert_eq!(kiosk.take_chime(), None, "no sound unless the agent asks");
        kiosk.apply(
            screen(Screen::Warning {
                critique: true,
                message: "Il vous reste 1 seconde".into(),
                son: true,
            }),
            t,
        );
        assert_eq!(kiosk.take_chime(), Some(true));
        assert_eq!(kiosk.take_chime(), None, "played once");
        // A late first warning does not turn red back into orange.
        kiosk.apply(
            screen(Screen::Warning {
                critique: false,
                message: "x".into(),
                son: false,
            }),
            t,
        );
        assert_eq!(kiosk.view(t).level, Level::Critical);
        // Offline, the countdown goes on and says so, without a gate message.
        kiosk.apply(screen(Screen::Link { connecte: false }), t);
        assert_eq!(kiosk.view(t).server_connected, Some(false));
        assert_eq!(kiosk.view(t).link_text, None);

        kiosk.apply(
            screen(Screen::Ended {
                message: "Temps écoulé".into(),
            }),
            t,
        );
        let view = kiosk.view(t);
        assert_eq!(view.mode, Mode::Gate);
        assert_eq!(view.level, Level::Normal);
        assert_eq!(view.remaining_secs, None);
        assert_eq!(
            view.banner.as_deref(),
            Some("Temps écoulé. Session terminée. Au revoir !")
        );
        assert_eq!(kiosk.view(t + ENDED_BANNER).banner, None);
    }

    #[test]
    fn staff_messages_show_on_the_gate_and_as_a_banner_during_a_session() {
        let now = Instant::now();
        let mut kiosk = connected(now);
        let staff = |text: &str| {
            screen(Screen::Staff {
                message: text.into(),
                de: Some("api:accueil".into()),
            })
        };
        kiosk.apply(staff("Fermeture à 18 h"), now);
        let view = kiosk.view(now);
        assert_eq!(view.staff.as_deref(), Some("Fermeture à 18 h"));
        assert_eq!(view.mode, Mode::Gate);
        assert_eq!(kiosk.view(now + STAFF_BANNER).staff, None);

        // Out of service: said for as long as it lasts, a newer message from staff first.
        let out = |message: Option<&str>| {
            screen(Screen::OutOfService {
                message: message.map(Into::into),
            })
        };
        kiosk.apply(out(Some("Poste hors service")), now);
        let later = now + STAFF_BANNER * 100;
        assert_eq!(
            kiosk.view(later).staff.as_deref(),
            Some("Poste hors service")
        );
        kiosk.apply(staff("On s'en occupe"), later);
        assert_eq!(kiosk.view(later).staff.as_deref(), Some("On s'en occupe"));
        kiosk.apply(out(None), later);
        assert_eq!(kiosk.view(later + STAFF_BANNER).staff, None);

        // A helper that starts mid-session learns of it from the countdown alone.
        kiosk.apply(
            ToHelper::Countdown {
                restant_ms: 60_000,
                pourcentage: 50,
                connecte: true,
            },
            now,
        );
        assert_eq!(kiosk.view(now).mode, Mode::Countdown);
        assert_eq!(kiosk.view(now).progress, Some(0.5));
        kiosk.apply(staff("Pensez à enregistrer"), now);
        let view = kiosk.view(now);
        assert_eq!(view.mode, Mode::Banner);
        assert_eq!(view.banner_kind, Some(BannerKind::Staff));
        assert_eq!(
            kiosk.submit("ABC123", now),
            None,
            "no code during a session"
        );
    }

    #[test]
    fn the_screen_redraws_only_when_something_changes() {
        let now = Instant::now();
        let kiosk = connected(now);
        assert_eq!(kiosk.next_change(now), None);
        let mut kiosk = kiosk;
        kiosk.apply(
            screen(Screen::Started {
                utilisateur: None,
                restant_ms: 5_000,
                total_ms: 5_000,
            }),
            now,
        );
        assert_eq!(kiosk.next_change(now), Some(Duration::from_millis(250)));
        assert_eq!(kiosk.view(now).name, None);
    }

    fn running(now: Instant, actions: bool) -> Kiosk {
        let mut kiosk = connected(now);
        kiosk.apply(
            screen(Screen::Actions {
                disponibles: actions,
            }),
            now,
        );
        kiosk.apply(
            screen(Screen::Started {
                utilisateur: None,
                restant_ms: 3_600_000,
                total_ms: 3_600_000,
            }),
            now,
        );
        kiosk
    }

    #[test]
    fn more_time_is_asked_once_and_the_answer_shows_as_a_banner() {
        use poste_client::agent::Input;
        use poste_proto::TimeRequestStatus;
        let now = Instant::now();
        let mut kiosk = running(now, true);
        let view = kiosk.view(now);
        assert!(view.actions && view.can_request, "{view:?}");
        // Nothing is sent without the question answered.
        assert_eq!(kiosk.ask_time(Some(30)), None);
        kiosk.open(Dialog::AskTime, now);
        let view = kiosk.view(now);
        assert_eq!(
            (view.mode, view.dialog),
            (Mode::Dialog, Some(Dialog::AskTime))
        );
        assert_eq!(kiosk.ask_time(Some(30)), Some(Input::RequestTime(Some(30))));
        let view = kiosk.view(now);
        assert_eq!(view.mode, Mode::Countdown);
        assert_eq!(view.request.as_deref(), Some(text::REQUEST_SENDING));
        assert!(!view.can_request);
        // A second request cannot be opened while one waits.
        kiosk.open(Dialog::AskTime, now);
        assert_eq!(kiosk.view(now).dialog, None);
        kiosk.apply(
            screen(Screen::TimeRequest {
                statut: Some(TimeRequestStatus::EnAttente),
                message: "Votre demande a été transmise".into(),
            }),
            now,
        );
        assert_eq!(
            kiosk.view(now).request.as_deref(),
            Some("Votre demande a été transmise")
        );
        kiosk.apply(
            screen(Screen::TimeRequest {
                statut: Some(TimeRequestStatus::Acceptee),
                message: "Demande acceptée : 30 minutes de plus.".into(),
            }),
            now,
        );
        let view = kiosk.view(now);
        assert_eq!(view.mode, Mode::Banner);
        assert_eq!(view.banner_kind, Some(BannerKind::Answer));
        assert_eq!(
            view.banner.as_deref(),
            Some("Demande acceptée : 30 minutes de plus.")
        );
        assert_eq!(view.request, None);
        let later = kiosk.view(now + ANSWER_BANNER);
        assert_eq!(later.mode, Mode::Countdown);
        assert!(later.can_request, "a new request may follow an answer");
    }

    #[test]
    fn ending_the_session_needs_a_confirmation_and_questions_close_by_themselves() {
        use poste_client::agent::Input;
        let now = Instant::now();
        let mut kiosk = running(now, true);
        assert_eq!(kiosk.confirm_end(), None);
        kiosk.open(Dialog::ConfirmEnd, now);
        assert_eq!(kiosk.view(now).dialog, Some(Dialog::ConfirmEnd));
        kiosk.close_dialog();
        assert_eq!(kiosk.view(now).mode, Mode::Countdown);
        assert_eq!(kiosk.confirm_end(), None, "cancelled: nothing to send");

        // Left alone, the question goes away.
        kiosk.open(Dialog::ConfirmEnd, now);
        assert_eq!(kiosk.view(now + DIALOG_TIMEOUT).mode, Mode::Countdown);

        // A warning comes first, the question is still there after it.
        let t = now + Duration::from_secs(40);
        kiosk.open(Dialog::ConfirmEnd, t);
        kiosk.apply(
            screen(Screen::Warning {
                critique: false,
                message: "Il vous reste 5 minutes".into(),
                son: false,
            }),
            t,
        );
        assert_eq!(kiosk.view(t).mode, Mode::Banner);
        assert_eq!(kiosk.view(t + WARNING_BANNER).mode, Mode::Dialog);
        assert_eq!(kiosk.confirm_end(), Some(Input::EndSession));
        let view = kiosk.view(t + WARNING_BANNER);
        assert_eq!(view.request.as_deref(), Some(text::ENDING));
        assert!(!view.actions, "no more buttons once the end is on its way");

        kiosk.apply(
            screen(Screen::Ended {
                message: "Vous avez terminé votre session".into(),
            }),
            t,
        );
        let view = kiosk.view(t);
        assert_eq!(
            (view.mode, view.dialog, view.request),
            (Mode::Gate, None, None)
        );
    }

    #[test]
    fn an_older_server_gets_no_buttons_and_an_offline_request_says_why() {
        let now = Instant::now();
        let mut kiosk = running(now, false);
        let view = kiosk.view(now);
        assert!(!view.actions && !view.can_request, "{view:?}");
        kiosk.open(Dialog::AskTime, now);
        kiosk.open(Dialog::ConfirmEnd, now);
        assert_eq!(kiosk.view(now).mode, Mode::Countdown);

        let mut kiosk = running(now, true);
        kiosk.open(Dialog::AskTime, now);
        assert!(kiosk.ask_time(None).is_some());
        kiosk.apply(
            screen(Screen::TimeRequest {
                statut: None,
                message: "Impossible de demander du temps pour l'instant".into(),
            }),
            now,
        );
        let view = kiosk.view(now);
        assert_eq!(view.banner_kind, Some(BannerKind::Answer));
        assert!(
            view.can_request,
            "it may be asked again once the link is back"
        );
    }
}
