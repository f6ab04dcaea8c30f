//! `poste-server`: the server of Postes Publics. It is the clock of every public workstation
//! session: it stores when each session started and how much time it holds, and pushes warnings
//! and the end of the session itself, on time, over the seed's WebSocket protocol.
//!
//! `main.rs` only parses the command line; everything else is here so that tests start the
//! real server in-process ([`app::run`]) or spawn the binary.

// Unit tests measure real time; the code itself reads the clocks in `clock` only (clippy.toml).
#![cfg_attr(test, allow(clippy::disallowed_methods))]

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod domain;
pub mod http;
pub mod hub;
mod layers;
pub mod mail;
pub mod messages;
pub mod metrics;
pub mod ops;
pub mod report;
pub mod requests;
pub mod settings;
pub mod state;
pub mod text;
pub mod tls;
pub mod wake;
