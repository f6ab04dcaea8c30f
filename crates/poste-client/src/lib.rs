//! `poste-client`: the workstation agent of Postes Publics.
//!
//! It validates an access code with the server, starts the session, shows the time left, warns
//! at the thresholds, and at the end locks the screen then logs the visitor out. The deadline is
//! kept locally on a monotonic clock, corrected by every message of the server, so the
//! workstation still locks on time when the network or the server is gone, and changing the
//! system clock gains nothing.
//!
//! Modules: `config` (file → environment → flags), `countdown` (pure state machine of a running
//! session), `link` (the WebSocket, reconnecting with back-off) over `tls` (what `wss://` trusts), `agent` (the main loop),
//! `identity` (name, IP and MAC of the workstation), `console` and `text` (what the person at
//! the keyboard reads, in French), `service` and `helper` (the installed agent's two halves, on
//! Linux and Windows) over `local` (their typed messages, a Unix socket or a named pipe),
//! `install`; `greeter` and `greetd` (the gate before login: its configuration, greetd's IPC); `reset` (the visitor account brought back to its template between two visitors);
//! `resume` (a running session taken up again by a restarted service); `power` (the server's
//! power order, kept so that it is carried out once);
//! `winsys` holds the Windows API calls of the service split. Desktop control lives in
//! the `poste-desktop` crate.

// The agent keeps its deadline on its own monotonic clock by design (docs/agent.md): the
// server's clock fence (clippy.toml) is not for it.
#![allow(clippy::disallowed_methods)]

pub mod agent;
pub mod cli;
pub mod config;
pub mod console;
pub mod countdown;
pub mod enroll;
#[cfg(unix)]
pub mod greetd;
pub mod greeter;
pub mod helper;
pub mod identity;
pub mod idle;
pub mod install;
pub mod link;
pub mod local;
pub mod power;
pub mod reset;
pub mod resume;
pub mod service;
pub mod text;
pub mod tls;
pub mod wake;
#[cfg(windows)]
mod winsys;
