//! The windows: one native window that is the full-screen gate while no session runs, and
//! becomes the small always-on-top countdown (or, for a few seconds, a large centred banner)
//! during a session. It draws [`View`]s of the shared [`Kiosk`] and sends the codes typed.
//! With several screens, the gate is on the primary one and a cover (a second egui viewport)
//! hides each other screen until a session starts.
//!
//! It cannot be closed from its own window (no decorations; a close request is cancelled). If
//! its process is killed anyway, the service locks the session at once (`HelperGone`) and the
//! session's manager starts the helper again.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use eframe::egui::{
    self, Align, Color32, CornerRadius, FontId, Key, Layout, Margin, Pos2, ProgressBar, Rect,
    RichText, Sense, TextEdit, Vec2, ViewportBuilder, ViewportClass, ViewportCommand, ViewportId,
    WindowLevel,
};
use poste_client::agent::Input;
use tokio::sync::mpsc;

use crate::model::{BannerKind, Dialog, Kiosk, Level, Mode, View};
use crate::screens::{self, Screen};
use crate::state_file::StateFile;
use crate::text;

/// Size of the countdown window, in points.
pub const COUNTDOWN_SIZE: Vec2 = Vec2::new(380.0, 230.0);
/// Size of the banner the countdown grows into.
pub const BANNER_SIZE: Vec2 = Vec2::new(900.0, 300.0);
/// Size of the questions (more time? end now?).
pub const DIALOG_SIZE: Vec2 = Vec2::new(900.0, 380.0);
/// How often the screens are counted again at the gate (a projector plugged in between two
/// visitors gets its cover within this).
const SCREENS_EVERY: Duration = Duration::from_secs(3);
/// How often the gate asks for the keyboard back while another window has it.
const REFOCUS_EVERY: Duration = Duration::from_secs(1);

const BACKGROUND: Color32 = Color32::from_rgb(0x12, 0x23, 0x3a);
const PANEL: Color32 = Color32::from_rgb(0x1d, 0x35, 0x57);
const ORANGE: Color32 = Color32::from_rgb(0xe0, 0x6c, 0x00);
const RED: Color32 = Color32::from_rgb(0xc0, 0x1c, 0x28);
const REFUSAL: Color32 = Color32::from_rgb(0xff, 0xb4, 0xa8);
const STAFF: Color32 = Color32::from_rgb(0x1f, 0x6f, 0x5c);

/// The shared state: written by the service's messages (main.rs), read here.
#[derive(Debug, Clone, Default)]
pub struct Shared(Arc<Mutex<Kiosk>>);

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, Kiosk> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The eframe application.
#[derive(Debug)]
pub struct KioskApp {
    shared: Shared,
    codes: mpsc::Sender<Input>,
    typed: String,
    /// The window mode last asked of the window manager (commands are sent on change only).
    applied: Option<Mode>,
    /// Ask for the keyboard focus on the next frame, once (asking every frame starves egui of
    /// input under some drivers: DEPENDENCIES.md §3.1).
    focus_once: bool,
    /// Where the countdown sits; the visitor may move it.
    countdown_at: Option<Pos2>,
    state_file: Option<StateFile>,
    /// The buttons drawn this frame and where (for the state file: a test clicks them there).
    buttons: Vec<Placed>,
    /// The desktop's screens, the primary first (empty when the system does not say).
    screens: Vec<Screen>,
    screens_read: Option<Instant>,
    /// Whether the window had the keyboard focus last frame (the code field asks for it again
    /// when the window gets it back, after a click on a cover).
    had_focus: bool,
    /// Asks for the keyboard back while another window has it.
    refocus: Refocus,
}

/// A button on screen: its label and its rectangle in the window, in pixels.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Placed {
    pub label: String,
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
}

/// When to ask the window manager for the keyboard back. Each frame asks for the next wake-up
/// again: egui forgets a frame's repaint request as soon as any other frame is drawn (a mouse
/// move, a message), and the gate would then wait for the next screen count to ask again.
#[derive(Debug, Default)]
struct Refocus {
    asked: Option<Instant>,
}

impl Refocus {
    /// Whether to ask now, and when to be woken up to ask again.
    fn poll(&mut self, focused: bool, now: Instant) -> (bool, Option<Duration>) {
        if focused {
            // Lost again later: asked for at once.
            self.asked = None;
            return (false, None);
        }
        let due = self.asked.map_or(Duration::ZERO, |asked| {
            REFOCUS_EVERY.saturating_sub(now.duration_since(asked))
        });
        if due.is_zero() {
            self.asked = Some(now);
            (true, Some(REFOCUS_EVERY))
        } else {
            (false, Some(due))
        }
    }
}

impl KioskApp {
    /// `screens`: [`screens::list`], read once before the window was opened.
    pub fn new(
        shared: Shared,
        codes: mpsc::Sender<Input>,
        state_file: Option<StateFile>,
        screens: Vec<Screen>,
    ) -> Self {
        KioskApp {
            shared,
            codes,
            typed: String::new(),
            applied: None,
            focus_once: true,
            countdown_at: None,
            state_file,
            buttons: Vec::new(),
            screens,
            screens_read: Some(Instant::now()),
            had_focus: false,
            refocus: Refocus::default(),
        }
    }

    /// Counts the screens again now and then while the gate is up; a change places the gate
    /// again.
    fn refresh_screens(&mut self, now: Instant) {
        if self
            .screens_read
            .is_some_and(|read| now.duration_since(read) < SCREENS_EVERY)
        {
            return;
        }
        self.screens_read = Some(now);
        let screens = screens::list();
        if screens != self.screens {
            tracing::info!(?screens, "screens changed");
            self.screens = screens;
            if self.applied.is_some_and(Mode::is_full_screen) {
                self.applied = None;
            }
        }
    }

    /// The other screens, when there are several: each gets a cover at the gate.
    fn covered(&self) -> &[Screen] {
        self.screens.get(1..).unwrap_or_default()
    }

    /// Where the countdown and the banners go, in points: the primary screen when several are
    /// known, else the window's own monitor.
    fn main_area(&self, ctx: &egui::Context) -> Rect {
        let (monitor, ppp) = ctx.input(|i| {
            (
                i.viewport().monitor_size,
                i.viewport().native_pixels_per_point.unwrap_or(1.0),
            )
        });
        match self.screens.first().filter(|_| !self.covered().is_empty()) {
            Some(primary) => points(primary, ppp),
            None => Rect::from_min_size(Pos2::ZERO, monitor.unwrap_or(Vec2::new(1280.0, 1024.0))),
        }
    }

    /// Notes where `label`'s button was drawn (only when a state file is written).
    fn place(&mut self, ui: &egui::Ui, label: &str, response: &egui::Response) {
        if self.state_file.is_none() {
            return;
        }
        let scale = ui.ctx().pixels_per_point();
        let rect = response.rect;
        // Rounded: whole pixels for xdotool.
        #[allow(clippy::cast_possible_truncation)]
        let px = |v: f32| (v * scale).round() as i32;
        self.buttons.push(Placed {
            label: label.to_owned(),
            x: px(rect.min.x),
            y: px(rect.min.y),
            width: px(rect.width()),
            height: px(rect.height()),
        });
    }

    /// Tells the window manager what the window is now, once per change.
    fn apply_mode(&mut self, ctx: &egui::Context, mode: Mode) {
        if self.applied == Some(mode) {
            return;
        }
        let outer = ctx.input(|i| i.viewport().outer_rect);
        if self.applied == Some(Mode::Countdown) {
            // Remember where the visitor put it.
            self.countdown_at = outer.map(|rect| rect.min);
        }
        let area = self.main_area(ctx);
        ctx.send_viewport_cmd(ViewportCommand::Decorations(false));
        ctx.send_viewport_cmd(ViewportCommand::WindowLevel(WindowLevel::AlwaysOnTop));
        match mode {
            Mode::Gate | Mode::Locked => {
                self.typed.clear();
                self.focus_once = true;
                if self.covered().is_empty() {
                    ctx.send_viewport_cmd(ViewportCommand::Fullscreen(true));
                } else {
                    // Several screens: winit's full screen takes whichever monitor the window
                    // or the pointer is on, so the gate is placed on the primary one and sized
                    // to it (window managers treat an undecorated window the size of a monitor
                    // as full screen).
                    ctx.send_viewport_cmd(ViewportCommand::Fullscreen(false));
                    ctx.send_viewport_cmd(ViewportCommand::InnerSize(area.size()));
                    ctx.send_viewport_cmd(ViewportCommand::OuterPosition(area.min));
                }
                ctx.send_viewport_cmd(ViewportCommand::Focus);
            }
            Mode::Countdown => {
                let at = self.countdown_at.unwrap_or(Pos2::new(
                    (area.max.x - COUNTDOWN_SIZE.x - 24.0).max(area.min.x),
                    area.min.y + 24.0,
                ));
                ctx.send_viewport_cmd(ViewportCommand::Fullscreen(false));
                ctx.send_viewport_cmd(ViewportCommand::InnerSize(COUNTDOWN_SIZE));
                ctx.send_viewport_cmd(ViewportCommand::OuterPosition(at));
            }
            Mode::Banner | Mode::Dialog => {
                let size = if mode == Mode::Banner {
                    BANNER_SIZE
                } else {
                    DIALOG_SIZE
                };
                let at = Pos2::new(
                    (area.center().x - size.x / 2.0).max(area.min.x),
                    (area.center().y - size.y / 2.0).max(area.min.y),
                );
                ctx.send_viewport_cmd(ViewportCommand::Fullscreen(false));
                ctx.send_viewport_cmd(ViewportCommand::InnerSize(size));
                ctx.send_viewport_cmd(ViewportCommand::OuterPosition(at));
                if mode == Mode::Banner {
                    ctx.send_viewport_cmd(ViewportCommand::RequestUserAttention(
                        egui::UserAttentionType::Critical,
                    ));
                } else {
                    // The question is answered at the keyboard too: Tab, Enter, Escape.
                    self.focus_once = true;
                    ctx.send_viewport_cmd(ViewportCommand::Focus);
                }
            }
        }
        tracing::info!(?mode, "window mode");
        self.applied = Some(mode);
    }

    /// One borderless always-on-top window on each other screen; they go when the gate goes
    /// (a viewport not shown in a frame is closed).
    fn show_covers(&self, ctx: &egui::Context, view: &View) {
        let ppp = ctx.input(|i| i.viewport().native_pixels_per_point.unwrap_or(1.0));
        for (index, screen) in self.covered().iter().enumerate() {
            let number = index + 2;
            let area = points(screen, ppp);
            let builder = kiosk_window(text::cover_title(number))
                .with_position(area.min)
                .with_inner_size(area.size());
            ctx.show_viewport_immediate(
                ViewportId::from_hash_of(("poste-kiosk-cover", number)),
                builder,
                |ui, class| {
                    if class != ViewportClass::EmbeddedWindow {
                        cover(ui, view);
                    }
                },
            );
        }
    }

    fn gate(&mut self, ui: &mut egui::Ui, view: &View) {
        ui.with_layout(Layout::top_down(Align::Center), |ui| {
            let height = ui.available_height();
            // A message for the visitor (staff's, or why the workstation is out of service)
            // needs the room above the title: without it, on a 800-pixel screen, its box ran
            // into the status lines at the bottom.
            let boxed = view.staff.is_some();
            let (top, below_title) = if boxed {
                (16.0, 16.0)
            } else {
                ((height * 0.12).max(20.0), 36.0)
            };
            ui.add_space(top);
            ui.label(space_name(view));
            ui.add_space(8.0);
            ui.label(
                RichText::new(text::GATE_TITLE)
                    .font(FontId::proportional(34.0))
                    .color(Color32::from_gray(220)),
            );
            ui.add_space(below_title);
            ui.label(
                RichText::new(text::GATE_INVITE)
                    .font(FontId::proportional(28.0))
                    .color(Color32::WHITE),
            );
            ui.add_space(18.0);
            let field = TextEdit::singleline(&mut self.typed)
                .font(FontId::monospace(56.0))
                .hint_text(RichText::new(text::CODE_HINT).font(FontId::proportional(40.0)))
                .char_limit(32)
                .align(egui::Align2::CENTER_CENTER)
                .desired_width(560.0)
                .margin(Margin::symmetric(16, 12));
            let response = ui.add(field);
            if self.focus_once {
                response.request_focus();
                self.focus_once = false;
            }
            let entered = response.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
            ui.add_space(14.0);
            let button =
                egui::Button::new(RichText::new(text::SUBMIT).font(FontId::proportional(30.0)))
                    .min_size(Vec2::new(220.0, 56.0));
            let submit = ui.add_enabled(view.can_submit, button);
            self.place(ui, text::SUBMIT, &submit);
            let clicked = submit.clicked();
            if entered || clicked {
                let code = self.shared.lock().submit(&self.typed, Instant::now());
                if let Some(code) = code
                    && self.codes.try_send(Input::Code(code)).is_err()
                {
                    tracing::warn!("the code could not be handed to the service link");
                }
                // Enter took the focus away: give it back, once.
                self.focus_once = true;
            }
            ui.add_space(6.0);
            ui.label(
                RichText::new(text::GATE_HINT)
                    .font(FontId::proportional(22.0))
                    .color(Color32::from_gray(200)),
            );
            ui.add_space(28.0);
            if view.checking {
                ui.label(big(text::CHECKING, 30.0, Color32::WHITE));
            }
            if let Some(refusal) = &view.refusal {
                ui.label(big(refusal, 34.0, REFUSAL).strong());
            }
            if let Some(secs) = view.retry_in_secs {
                ui.label(big(
                    &text::retry_in(std::time::Duration::from_secs(secs)),
                    30.0,
                    REFUSAL,
                ));
            }
            if let (Some(message), Some(BannerKind::Ended)) = (&view.banner, view.banner_kind) {
                ui.add_space(12.0);
                ui.label(big(message, 30.0, Color32::WHITE));
            }
            if let Some(staff) = &view.staff {
                ui.add_space(20.0);
                egui::Frame::new()
                    .fill(STAFF)
                    .corner_radius(CornerRadius::same(10))
                    .inner_margin(Margin::symmetric(24, 14))
                    .show(ui, |ui| {
                        ui.label(big(text::STAFF, 24.0, Color32::WHITE));
                        ui.label(big(staff, 30.0, Color32::WHITE).strong());
                    });
            }
            ui.with_layout(Layout::bottom_up(Align::Center), |ui| {
                ui.add_space(24.0);
                ui.label(big(text::HELP, 22.0, Color32::from_gray(200)));
                let (line, colour) = match &view.link_text {
                    Some(line) => (line.as_str(), REFUSAL),
                    None => (text::SERVER_UP, Color32::from_gray(170)),
                };
                ui.label(big(line, 22.0, colour));
            });
        });
    }

    fn countdown(&mut self, ui: &mut egui::Ui, view: &View) {
        // The whole window is a handle: the visitor can move it, not close it.
        let handle = ui.interact(ui.max_rect(), ui.scope_id().with("drag"), Sense::drag());
        if handle.drag_started() {
            ui.ctx().send_viewport_cmd(ViewportCommand::StartDrag);
        }
        ui.with_layout(Layout::top_down(Align::Center), |ui| {
            ui.add_space(8.0);
            let title = view
                .name
                .as_deref()
                .map_or_else(|| text::TIME_LEFT.to_owned(), text::hello);
            ui.label(big(&title, 20.0, Color32::WHITE));
            ui.label(
                RichText::new(view.clock.as_deref().unwrap_or("--:--"))
                    .font(FontId::monospace(52.0))
                    .strong()
                    .color(Color32::WHITE),
            );
            ui.add(
                ProgressBar::new(1.0 - view.progress.unwrap_or(0.0))
                    .desired_width(COUNTDOWN_SIZE.x - 40.0)
                    .desired_height(16.0)
                    .fill(Color32::from_gray(235)),
            );
            if view.server_connected == Some(false) {
                ui.label(big(text::OFFLINE, 16.0, Color32::from_gray(230)));
            }
            if let Some(request) = &view.request {
                ui.label(big(request, 15.0, Color32::WHITE));
            }
            if view.actions {
                ui.add_space(4.0);
                ui.horizontal(|ui| {
                    let more = ui.add_enabled(view.can_request, small_button(text::MORE_TIME));
                    self.place(ui, text::MORE_TIME, &more);
                    if more.clicked() {
                        self.shared.lock().open(Dialog::AskTime, Instant::now());
                    }
                    let end = ui.add(small_button(text::END_MINE));
                    self.place(ui, text::END_MINE, &end);
                    if end.clicked() {
                        self.shared.lock().open(Dialog::ConfirmEnd, Instant::now());
                    }
                });
            }
        });
    }

    /// The question the visitor opened: large buttons, answered with the mouse or the
    /// keyboard (Tab to move, Enter to choose, Escape to go back).
    fn dialog(&mut self, ui: &mut egui::Ui, view: &View) {
        if ui.input(|i| i.key_pressed(Key::Escape)) {
            self.shared.lock().close_dialog();
            return;
        }
        let mut sent = None;
        ui.with_layout(Layout::top_down(Align::Center), |ui| {
            ui.add_space(20.0);
            match view.dialog {
                Some(Dialog::AskTime) => {
                    ui.label(big(text::ASK_TITLE, 36.0, Color32::WHITE).strong());
                    ui.add_space(8.0);
                    ui.label(big(text::ASK_QUESTION, 24.0, Color32::WHITE));
                    ui.add_space(20.0);
                    ui.horizontal(|ui| {
                        for (minutes, label) in text::ASK_CHOICES {
                            let choice = ui.add(large_button(label));
                            self.place(ui, label, &choice);
                            if self.focus_once {
                                choice.request_focus();
                                self.focus_once = false;
                            }
                            if choice.clicked() {
                                sent = self.shared.lock().ask_time(Some(minutes));
                            }
                        }
                    });
                    ui.add_space(12.0);
                    ui.horizontal(|ui| {
                        let any = ui.add(large_button(text::ASK_ANY));
                        self.place(ui, text::ASK_ANY, &any);
                        if any.clicked() {
                            sent = self.shared.lock().ask_time(None);
                        }
                        let cancel = ui.add(large_button(text::CANCEL));
                        self.place(ui, text::CANCEL, &cancel);
                        if cancel.clicked() {
                            self.shared.lock().close_dialog();
                        }
                    });
                }
                Some(Dialog::ConfirmEnd) => {
                    ui.label(big(text::END_TITLE, 36.0, Color32::WHITE).strong());
                    ui.add_space(8.0);
                    ui.label(big(text::END_QUESTION, 24.0, Color32::WHITE));
                    ui.add_space(24.0);
                    ui.horizontal(|ui| {
                        // "No" first: Enter on the first focus must not end anything.
                        let no = ui.add(large_button(text::END_NO));
                        self.place(ui, text::END_NO, &no);
                        if self.focus_once {
                            no.request_focus();
                            self.focus_once = false;
                        }
                        if no.clicked() {
                            self.shared.lock().close_dialog();
                        }
                        let yes = ui.add(large_button(text::END_YES));
                        self.place(ui, text::END_YES, &yes);
                        if yes.clicked() {
                            sent = self.shared.lock().confirm_end();
                        }
                    });
                }
                None => {}
            }
        });
        if let Some(input) = sent
            && self.codes.try_send(input).is_err()
        {
            tracing::warn!("the visitor's request could not be handed to the service link");
        }
    }

    fn banner(&mut self, ui: &mut egui::Ui, view: &View) {
        ui.with_layout(Layout::top_down(Align::Center), |ui| {
            ui.add_space(28.0);
            match view.banner_kind {
                Some(BannerKind::Staff) => ui.label(big(text::STAFF, 28.0, Color32::WHITE)),
                Some(BannerKind::Answer) => ui.label(big(text::ANSWER, 28.0, Color32::WHITE)),
                _ => ui.label(""),
            };
            let message = view.banner.as_deref().unwrap_or_default();
            ui.label(big(message, banner_text_size(message), Color32::WHITE).strong());
            ui.add_space(16.0);
            ui.label(
                RichText::new(view.clock.as_deref().unwrap_or("--:--"))
                    .font(FontId::monospace(40.0))
                    .color(Color32::WHITE),
            );
        });
    }
}

/// The banner's text size: smaller for a long message (a warning that says why the space
/// closes, a staff message), so that three lines and the clock still fit in the banner.
fn banner_text_size(message: &str) -> f32 {
    if message.chars().count() > 70 {
        36.0
    } else {
        48.0
    }
}

/// What the other screens show while the gate is up: the space's name and where to type. A
/// click there gives the keyboard back to the gate.
/// The room locked by staff: their words, over everything, in large type.
fn locked(ui: &mut egui::Ui, view: &View) {
    ui.with_layout(Layout::top_down(Align::Center), |ui| {
        ui.add_space((ui.available_height() * 0.2).max(20.0));
        ui.label(space_name(view));
        ui.add_space(16.0);
        ui.label(big(text::LOCKED_TITLE, 48.0, Color32::WHITE).strong());
        ui.add_space(28.0);
        if let Some(message) = &view.locked {
            ui.add(egui::Label::new(big(message, 34.0, Color32::WHITE)).wrap());
        }
        if view.remaining_secs.is_some() {
            ui.add_space(28.0);
            ui.label(big(text::LOCKED_SESSION, 24.0, Color32::from_gray(230)));
        }
    });
}

fn cover(ui: &mut egui::Ui, view: &View) {
    let ctx = ui.ctx().clone();
    let (close, focused) = ctx.input(|i| (i.viewport().close_requested(), i.viewport().focused));
    if close {
        ctx.send_viewport_cmd(ViewportCommand::CancelClose);
    }
    if focused == Some(true) {
        ctx.send_viewport_cmd_to(ViewportId::ROOT, ViewportCommand::Focus);
    }
    egui::CentralPanel::default()
        .frame(egui::Frame::new().fill(BACKGROUND))
        .show(ui, |ui| {
            ui.with_layout(Layout::top_down(Align::Center), |ui| {
                ui.add_space((ui.available_height() * 0.3).max(20.0));
                ui.label(space_name(view));
                ui.add_space(24.0);
                ui.label(big(text::COVER_POINTER, 34.0, Color32::WHITE));
                if let Some(staff) = &view.staff {
                    ui.add_space(28.0);
                    ui.label(big(text::STAFF, 24.0, Color32::WHITE));
                    ui.label(big(staff, 30.0, Color32::WHITE).strong());
                }
            });
        });
}

/// The space's name, as the gate and the covers show it.
fn space_name(view: &View) -> RichText {
    RichText::new(&view.space)
        .font(FontId::proportional(52.0))
        .strong()
        .color(Color32::WHITE)
}

/// A window of the kiosk as first asked of the system: no decorations, nothing to close or
/// minimise it with, above the others.
pub fn kiosk_window(title: impl Into<String>) -> ViewportBuilder {
    ViewportBuilder::default()
        .with_title(title)
        .with_app_id("poste-kiosk")
        .with_decorations(false)
        .with_always_on_top()
        .with_close_button(false)
        .with_minimize_button(false)
}

/// A screen's rectangle in points, for viewport commands.
pub fn points(screen: &Screen, pixels_per_point: f32) -> Rect {
    #[allow(clippy::cast_precision_loss)]
    let px = |v: i32| v as f32 / pixels_per_point;
    Rect::from_min_size(
        Pos2::new(px(screen.x), px(screen.y)),
        Vec2::new(px(screen.width), px(screen.height)),
    )
}

fn small_button(label: &str) -> egui::Button<'_> {
    egui::Button::new(RichText::new(label).font(FontId::proportional(18.0)))
        .min_size(Vec2::new(150.0, 34.0))
}

fn large_button(label: &str) -> egui::Button<'_> {
    egui::Button::new(RichText::new(label).font(FontId::proportional(26.0)))
        .min_size(Vec2::new(250.0, 60.0))
}

fn big(text: &str, size: f32, colour: Color32) -> RichText {
    RichText::new(text)
        .font(FontId::proportional(size))
        .color(colour)
}

fn fill(view: &View) -> Color32 {
    match (view.mode, view.banner_kind, view.level) {
        (Mode::Gate, _, _) => BACKGROUND,
        (Mode::Locked, _, _) => STAFF,
        (Mode::Banner, Some(BannerKind::Staff | BannerKind::Answer), _) => STAFF,
        (Mode::Dialog, _, _) => PANEL,
        (Mode::Banner, Some(BannerKind::Critical), _) | (_, _, Level::Critical) => RED,
        (Mode::Banner, _, _) | (_, _, Level::Warning) => ORANGE,
        _ => PANEL,
    }
}

impl eframe::App for KioskApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        if ctx.input(|i| i.viewport().close_requested()) {
            tracing::info!("close requested: refused");
            ctx.send_viewport_cmd(ViewportCommand::CancelClose);
        }
        let now = Instant::now();
        let (view, next, chime) = {
            let mut kiosk = self.shared.lock();
            (kiosk.view(now), kiosk.next_change(now), kiosk.take_chime())
        };
        if let Some(critical) = chime {
            crate::sound::play(critical);
        }
        if view.mode.is_full_screen() {
            self.refresh_screens(now);
            // The window got the keyboard back (a click on a cover gives it back): to the field.
            let focused = ctx.input(|i| i.viewport().focused) == Some(true);
            if focused && !self.had_focus {
                // Said in the log: what scripts/vm-check waits for before typing a code.
                tracing::info!("the gate has the keyboard");
                self.focus_once = true;
            }
            if !focused && self.had_focus {
                tracing::info!("another window took the keyboard: asking for it back");
            }
            self.had_focus = focused;
            // Alt+Tab, or a window that took the keyboard: the gate takes it back (it stays on
            // top in any case), asking again each second if the window manager said no.
            let (ask, wake) = self.refocus.poll(focused, now);
            if ask {
                ctx.send_viewport_cmd(ViewportCommand::Focus);
            }
            if let Some(wake) = wake {
                ctx.request_repaint_after(wake);
            }
        }
        self.apply_mode(&ctx, view.mode);
        self.buttons.clear();
        egui::CentralPanel::default()
            .frame(
                egui::Frame::new()
                    .fill(fill(&view))
                    .inner_margin(Margin::same(12)),
            )
            .show(ui, |ui| match view.mode {
                Mode::Gate => self.gate(ui, &view),
                Mode::Countdown => self.countdown(ui, &view),
                Mode::Banner => self.banner(ui, &view),
                Mode::Dialog => self.dialog(ui, &view),
                Mode::Locked => locked(ui, &view),
            });
        if view.mode.is_full_screen() && !ctx.embed_viewports() {
            self.show_covers(&ctx, &view);
        }
        if let Some(file) = &mut self.state_file {
            file.write(&view, self.applied, &self.buttons, &self.screens);
        }
        // At the gate, also to notice a screen plugged in.
        let next = if view.mode.is_full_screen() {
            Some(next.map_or(SCREENS_EVERY, |n| n.min(SCREENS_EVERY)))
        } else {
            next
        };
        if let Some(next) = next {
            ctx.request_repaint_after(next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keyboard_is_asked_back_at_once_then_each_period_whatever_frames_come_between() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut refocus = Refocus::default();
        assert_eq!(refocus.poll(false, at(0)), (true, Some(REFOCUS_EVERY)));
        // A frame drawn in between (a mouse move) keeps the wake-up for the next ask.
        assert_eq!(
            refocus.poll(false, at(300)),
            (false, Some(Duration::from_millis(700)))
        );
        assert_eq!(refocus.poll(false, at(1000)), (true, Some(REFOCUS_EVERY)));
        // Back, then lost again soon after: asked for at once, not a period later.
        assert_eq!(refocus.poll(true, at(1200)), (false, None));
        assert_eq!(refocus.poll(false, at(1300)), (true, Some(REFOCUS_EVERY)));
    }
}
