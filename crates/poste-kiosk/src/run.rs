//! The program: the helper's link to the service on a Tokio runtime in a thread, the windows on
//! the main thread (the event loop must own it on some systems), both sharing the [`Kiosk`].

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use eframe::egui;
use poste_client::agent::Input;
use poste_client::helper::{Front, HelperExit, SessionNotifier};
use poste_client::local::ToHelper;
use tokio::sync::mpsc;

use crate::app::{KioskApp, Shared, kiosk_window, points};
use crate::screens;
use crate::state_file::StateFile;
use crate::text;

/// Why the windows could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum KioskError {
    #[error("aucun moteur de rendu n'a pu ouvrir la fenêtre (wgpu : {wgpu} ; glow : {glow})")]
    NoRenderer { wgpu: String, glow: String },
    #[error("moteur de rendu inconnu « {0} » (POSTE_KIOSK_RENDERER : wgpu ou glow)")]
    UnknownRenderer(String),
}

/// What the service says goes to the shared screen state; the windows are woken up.
struct KioskFront {
    shared: Shared,
    ctx: egui::Context,
    notifier: SessionNotifier,
}

impl Front for KioskFront {
    fn show(&mut self, message: ToHelper) {
        if let ToHelper::Notify {
            titre,
            texte,
            critique,
        } = &message
        {
            // Also as a desktop notification: where the countdown cannot be kept on top (GNOME
            // on Wayland, docs/decisions/0005), that is what is left.
            self.notifier
                .notify(titre.clone(), texte.clone(), *critique);
        }
        if let ToHelper::Refused { message } = &message {
            eprintln!("{message}");
        }
        self.shared.lock().apply(message, Instant::now());
        self.ctx.request_repaint();
    }

    fn disconnected(&mut self) {
        self.shared.lock().service_lost();
        self.ctx.request_repaint();
    }
}

/// Runs the helper with the kiosk windows until the service refuses it.
pub fn run(socket: &Path, session: &str) -> ExitCode {
    // Before any window: a kiosk outside a graphical session would only lock nothing.
    if !poste_client::local::valid_session_id(session) {
        eprintln!("Erreur : {}", poste_client::text::HELPER_NO_SESSION);
        return ExitCode::from(1);
    }
    let shared = Shared::default();
    let ctx = egui::Context::default();
    // Native windows for the covers of the other screens: a context made here (rather than by
    // eframe, which would say so itself) embeds extra viewports in the main window otherwise.
    ctx.set_embed_viewports(false);
    let (codes_tx, mut codes_rx) = mpsc::channel::<Input>(4);
    let runtime = match poste_client::cli::runtime(1) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    {
        let mut front = KioskFront {
            shared: shared.clone(),
            ctx: ctx.clone(),
            notifier: SessionNotifier::new(),
        };
        let socket: PathBuf = socket.to_path_buf();
        let session = session.to_owned();
        let handle = runtime.handle().clone();
        std::thread::spawn(move || {
            let result = handle.block_on(poste_client::helper::run_with(
                &socket,
                &session,
                &mut front,
                &mut codes_rx,
            ));
            // The windows cannot be closed; the program ends here, as the terminal helper does.
            let code = match result {
                // greetd starts the visitor's session once the greeter has ended.
                Ok(HelperExit::InputClosed | HelperExit::HandedOver) => 0,
                Ok(HelperExit::Refused) => 3,
                Err(err) => {
                    eprintln!("Erreur : {err:#}");
                    1
                }
            };
            std::process::exit(code);
        });
    }
    let _guard = runtime.enter();
    match show(&ctx, shared, codes_tx) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("Erreur : {err}");
            ExitCode::from(1)
        }
    }
}

/// The window, with wgpu, then glow if wgpu finds nothing to draw with (or as
/// `POSTE_KIOSK_RENDERER` says).
fn show(ctx: &egui::Context, shared: Shared, codes: mpsc::Sender<Input>) -> Result<(), KioskError> {
    let forced = std::env::var("POSTE_KIOSK_RENDERER")
        .ok()
        .filter(|r| !r.is_empty());
    let order: Vec<eframe::Renderer> = match forced.as_deref() {
        None => vec![eframe::Renderer::Wgpu, eframe::Renderer::Glow],
        Some("wgpu") => vec![eframe::Renderer::Wgpu],
        Some("glow") => vec![eframe::Renderer::Glow],
        Some(other) => return Err(KioskError::UnknownRenderer(other.to_owned())),
    };
    let screens = screens::list();
    tracing::info!(?screens, "screens");
    let mut errors = Vec::new();
    // As greetd's greeter no window manager runs: nobody would answer a full-screen request,
    // so the window covers the primary screen itself (and with it the pointer, which is where
    // the keyboard goes without a window manager).
    let place_itself = screens.len() > 1 || poste_client::greeter::greetd_socket().is_some();
    for renderer in order {
        let viewport = kiosk_window(text::WINDOW_TITLE);
        // With several screens the gate opens on the primary one (the app keeps it there, in
        // points once the scale is known); full screen would take the pointer's.
        let viewport = match screens.first().filter(|_| place_itself) {
            Some(primary) => {
                let area = points(primary, 1.0);
                viewport
                    .with_position(area.min)
                    .with_inner_size(area.size())
            }
            None => viewport.with_fullscreen(true),
        };
        let options = eframe::NativeOptions {
            renderer,
            viewport,
            ..Default::default()
        };
        let shared = shared.clone();
        let codes = codes.clone();
        let screens = screens.clone();
        let result = eframe::run_native_ext(
            text::WINDOW_TITLE,
            options,
            Some(ctx.clone()),
            Box::new(move |_| {
                Ok(Box::new(KioskApp::new(
                    shared,
                    codes,
                    StateFile::from_env(),
                    screens,
                )))
            }),
        );
        match result {
            Ok(()) => return Ok(()),
            Err(err) => {
                tracing::warn!(?renderer, error = %err, "renderer failed");
                errors.push(err.to_string());
            }
        }
    }
    let mut errors = errors.into_iter();
    Err(KioskError::NoRenderer {
        wgpu: errors.next().unwrap_or_default(),
        glow: errors.next().unwrap_or_default(),
    })
}
