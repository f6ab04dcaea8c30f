//! Execution tests with real processes: fake desktop programs (small shell scripts named like
//! the real ones, in a temporary directory that is the environment's only `PATH`) record how
//! they were called and exit with a chosen code, hang, or stay running.
//!
//! Linux only: fake programs are shell scripts and the last resort reads `/proc`.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Tests measure real time: the server's clock fence (clippy.toml) is not for them.
#![allow(clippy::disallowed_methods)]

mod bus;
mod fake;
mod kill;
mod lock;
mod logout;
mod notify;
mod output;
