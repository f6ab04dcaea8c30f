//! Integration tests: the real server (in-process on 127.0.0.1:0, or the built binary) with a
//! real SQLite file, driven over real WebSockets and HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]
// Tests measure real time: the server's clock fence (clippy.toml) is not for them.
#![allow(clippy::disallowed_methods)]

mod api;
mod bad_input;
mod binary;
mod client_compat;
mod console_login;
mod console_rules;
mod crash_loop;
mod enrollment;
mod guessing;
mod log_secrets;
mod metrics;
mod monthly_report;
mod multi;
mod postgres;
mod power;
mod refusals;
mod seed_flow;
mod session_props;
mod spaces;
mod sql_meta;
mod timing;
mod visitor_requests;

use std::time::Duration;

/// Generous bound for a reply on loopback.
pub const REPLY: Duration = Duration::from_secs(5);
mod storage;
mod takeover;
mod team;
