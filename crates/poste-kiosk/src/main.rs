//! Entry point of `poste-kiosk` (normally started as `poste-client helper --ui kiosk`).

// No console window behind the kiosk on Windows.
#![cfg_attr(windows, windows_subsystem = "windows")]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Écran du visiteur d'un poste public : saisie du code en plein écran, puis décompte toujours
/// visible. Lancé par `poste-client helper` dans la session graphique du visiteur.
#[derive(Debug, Parser)]
#[command(name = "poste-kiosk", version)]
struct Cli {
    /// Socket local du service (sous Windows, le nom du tube nommé).
    #[arg(long, visible_alias = "pipe", value_name = "CHEMIN", default_value = poste_client::local::DEFAULT_ENDPOINT)]
    socket: PathBuf,
    /// Journal détaillé.
    #[arg(long, short = 'd')]
    debug: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = if cli.debug {
        "debug".to_owned()
    } else {
        std::env::var("LOG_LEVEL").unwrap_or_else(|_| "info".to_owned())
    };
    // Our crates at that level, the toolkit's only when something goes wrong.
    let directives = format!("warn,poste_kiosk={level},poste_client={level}");
    if poste_client::cli::init_logging(&directives, None).is_err() {
        // A malformed LOG_LEVEL: warnings still reach the journal.
        let _ = poste_client::cli::init_logging("warn", None);
    }
    let session = poste_client::helper::own_session();
    poste_kiosk::run::run(&cli.socket, &session)
}
