//! `poste-loadgen`: see the library's documentation.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use poste_loadgen::{Plan, raise_open_files, run};

/// Simulates workstations against a Postes Publics server and measures latency and lateness.
#[derive(Debug, Parser)]
#[command(name = "poste-loadgen", version)]
struct Cli {
    /// The server, e.g. http://127.0.0.1:8001.
    #[arg(long, default_value = "http://127.0.0.1:8001")]
    server: String,
    /// An API token of the server (poste-server token create loadgen).
    #[arg(long, env = "POSTE_LOADGEN_TOKEN")]
    token: String,
    /// How many workstations.
    #[arg(long, default_value_t = 100)]
    workstations: usize,
    /// New connections per second.
    #[arg(long, default_value_t = 500.0)]
    ramp: f64,
    /// Length of each session, in seconds.
    #[arg(long, default_value_t = 30)]
    session_secs: u64,
    /// Period of get_time, in milliseconds (the seed's cadence is 5000).
    #[arg(long, default_value_t = 5000)]
    get_time_ms: u64,
    /// The run stops after this many seconds, whatever happens.
    #[arg(long, default_value_t = 120)]
    max_secs: u64,
    /// Spread connections over 127.0.0.1 … 127.0.0.N (a server on loopback only).
    #[arg(long, default_value_t = 1)]
    sources: u8,
    /// Print only the JSON line.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let limit = raise_open_files();
    if !cli.json {
        eprintln!("open files limit: {limit:?}");
    }
    let plan = Plan {
        server: cli.server,
        token: cli.token,
        workstations: cli.workstations,
        ramp_per_sec: cli.ramp,
        session_secs: cli.session_secs,
        get_time_every: Duration::from_millis(cli.get_time_ms.max(1)),
        max_run: Duration::from_secs(cli.max_secs),
        source_addresses: cli.sources.max(1),
    };
    match run(&plan).await {
        Ok(report) => {
            if !cli.json {
                print!("{}", report.table());
            }
            println!("{}", report.json());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("poste-loadgen: {err:#}");
            ExitCode::FAILURE
        }
    }
}
