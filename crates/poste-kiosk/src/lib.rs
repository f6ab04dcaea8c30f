//! `poste-kiosk`: the visitor's screen of Postes Publics (issue #5). While no session runs, a
//! full-screen gate asks for the access code; during a session, a small always-on-top
//! countdown shows the time left, turns orange then red at the warnings, and grows into a large
//! banner for a few seconds at each warning and staff message.
//!
//! It is the helper of the agent (`poste-client helper --ui kiosk` becomes this program): the
//! connection to the service, its messages and the codes sent back are `poste-client`'s
//! (`helper::run_with`, `local::ToHelper`); this crate only adds the windows, so that the
//! service, which decides everything, never links a GUI.
//!
//! Modules: `model` (the pure state of the screen, tested), `app` (the egui windows), `text`
//! (every French string), `state_file` (what the screen shows, as JSON, for tests), `screens` (the
//! desktop's monitors, each covered at the gate), `sound` (the warning chime), `run` (the program: the service link on a
//! Tokio thread, the windows on the main thread).

// The visitor's screens keep their own time (animations, the countdown's redraws): the
// server's clock fence (clippy.toml) is not for them.
#![allow(clippy::disallowed_methods)]

pub mod app;
pub mod model;
pub mod run;
pub mod screens;
pub mod sound;
pub mod state_file;
pub mod text;
