//! `poste-consoles`: the console at a large site's scale (see `poste_loadgen::consoles`).

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use poste_loadgen::consoles::{ConsolePlan, run_consoles, set_up_site};

/// Spaces full of workstations, sessions starting and ending, and consoles following the
/// dashboard's live feed: bytes, server time and the time from a change to its tile.
#[derive(Debug, Parser)]
#[command(name = "poste-consoles", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writes the spaces and their workstations into a new database (server stopped).
    Setup {
        /// The database, as the server's --database: sqlite:PATH or postgres://…
        #[arg(long)]
        database: String,
        #[arg(long, default_value_t = 100)]
        spaces: usize,
        #[arg(long, default_value_t = 20)]
        per_space: usize,
    },
    /// Runs the load against the server and prints one JSON line.
    Run {
        #[arg(long, default_value = "http://127.0.0.1:8001")]
        server: String,
        #[arg(long, env = "POSTE_LOADGEN_TOKEN")]
        token: String,
        #[arg(long, default_value_t = 100)]
        spaces: usize,
        #[arg(long, default_value_t = 20)]
        per_space: usize,
        /// Console accounts showing every space: ecran-tous-1, ecran-tous-2…
        #[arg(long, default_value_t = 1)]
        every_space_consoles: usize,
        /// Console accounts showing one space each: ecran-001 (Espace 001), ecran-002…
        #[arg(long, default_value_t = 19)]
        one_space_consoles: usize,
        /// The password of every console account.
        #[arg(long, env = "POSTE_CONSOLES_PASSWORD")]
        password: String,
        /// Sessions started per second (as many end per second).
        #[arg(long, default_value_t = 10.0)]
        rate: f64,
        /// Seconds each session runs before it is ended.
        #[arg(long, default_value_t = 20)]
        hold_secs: u64,
        /// Seconds of each measuring window (without the feeds, then with them).
        #[arg(long, default_value_t = 30)]
        window_secs: u64,
        /// The server's process id, for its CPU time.
        #[arg(long)]
        server_pid: Option<u32>,
        /// Seconds the load goes on after the windows (a browser's console measured meanwhile).
        #[arg(long, default_value_t = 0)]
        extra_secs: u64,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Setup {
            database,
            spaces,
            per_space,
        } => set_up_site(&database, spaces, per_space).await.map(|()| {
            println!("{spaces} spaces of {per_space} workstations");
        }),
        Command::Run {
            server,
            token,
            spaces,
            per_space,
            every_space_consoles,
            one_space_consoles,
            password,
            rate,
            hold_secs,
            window_secs,
            server_pid,
            extra_secs,
        } => {
            let consoles = (1..=every_space_consoles)
                .map(|n| (format!("ecran-tous-{n}"), password.clone(), true))
                .chain(
                    (1..=one_space_consoles)
                        .map(|n| (format!("ecran-{n:03}"), password.clone(), false)),
                )
                .collect();
            let plan = ConsolePlan {
                server,
                token,
                spaces,
                per_space,
                consoles,
                rate,
                hold: Duration::from_secs(hold_secs),
                window: Duration::from_secs(window_secs),
                server_pid,
                extra: Duration::from_secs(extra_secs),
            };
            // Bounded: the two windows, the warm-up, the logins and the extra time, whatever
            // happens.
            let bound = Duration::from_secs(2 * window_secs + hold_secs + extra_secs + 120);
            match tokio::time::timeout(bound, run_consoles(&plan)).await {
                Ok(Ok(report)) => {
                    println!("{}", report.json());
                    Ok(())
                }
                Ok(Err(err)) => Err(err),
                Err(_) => Err(anyhow::anyhow!("the run took longer than {bound:?}")),
            }
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("poste-consoles: {err:#}");
            ExitCode::FAILURE
        }
    }
}
