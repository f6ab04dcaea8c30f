//! `poste-history`: writes a long past of a space's use into a store (see
//! `poste_loadgen::history`). For a test or demonstration database, never a live site's.

use std::process::ExitCode;

use clap::Parser;
use jiff::tz::TimeZone;
use poste_loadgen::history::{HistoryPlan, write_history};

/// Writes months of plausible sessions (workstations, visitors in categories, opening hours,
/// school holidays) into a Postes Publics database, for screenshots and measurements. It adds
/// visitors and sessions to the register: a test or demonstration database only.
#[derive(Debug, Parser)]
#[command(name = "poste-history", version)]
struct Cli {
    /// The database, as the server's --database: sqlite:PATH or postgres://…
    #[arg(long)]
    database: String,
    /// Days of history, ending yesterday.
    #[arg(long, default_value_t = 365)]
    days: u32,
    /// The space's time zone.
    #[arg(long, default_value = "Indian/Reunion")]
    timezone: String,
    /// Workstations to create when the database has none.
    #[arg(long, default_value_t = 6)]
    workstations: usize,
    /// Also set the space's opening hours to the ones the history follows (Monday 13:00–17:30,
    /// Tuesday to Friday 09:00–17:30, Saturday 09:00–12:30).
    #[arg(long)]
    set_opening_hours: bool,
    #[arg(long, default_value_t = 974)]
    seed: u64,
}

#[tokio::main]
#[allow(clippy::disallowed_methods)] // "now" of a tool outside the server
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let tz = match TimeZone::get(&cli.timezone) {
        Ok(tz) => tz,
        Err(err) => {
            eprintln!("poste-history: time zone {}: {err}", cli.timezone);
            return ExitCode::FAILURE;
        }
    };
    let plan = HistoryPlan {
        database: cli.database,
        days: cli.days,
        now: jiff::Timestamp::now().as_millisecond(),
        tz,
        workstations: cli.workstations,
        set_opening_hours: cli.set_opening_hours,
        seed: cli.seed,
    };
    match write_history(&plan).await {
        Ok(report) => {
            println!(
                "{} sessions over {} days on {} workstations, {} visitors",
                report.sessions, plan.days, report.workstations, report.visitors
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("poste-history: {err:#}");
            ExitCode::FAILURE
        }
    }
}
