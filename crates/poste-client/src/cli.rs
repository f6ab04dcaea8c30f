//! The command line, as the seed's: `--interactive`, `--code ABC123`, `--server URL`, `--debug`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::agent::{self, Exit, Mode};
use crate::config::{AgentConfig, Overrides};
use crate::enroll::{Enrolled, Proof};

/// Agent des postes publics : valide le code d'accès d'un visiteur, affiche le temps restant,
/// prévient à 5 minutes et à 1 minute, puis verrouille l'écran et ferme la session à la fin.
#[derive(Debug, Parser)]
#[command(
    name = "poste-client",
    version,
    about,
    after_help = "Exemples :\n  poste-client --interactive\n  poste-client --code ABC123 --server http://192.168.1.10:8001\n\n\
Variables d'environnement : POSTE_SERVER_URL, POSTE_WS_URL, LOG_LEVEL.\n\
Configuration : /etc/poste-client/config.toml (ou --config).\n\
Enrôlement : poste-client --enroll CODE (puis validation par un administrateur).\n\
Codes de sortie : 0 session terminée (ou poste enrôlé), 2 code refusé, 3 poste non reconnu, 1 erreur."
)]
struct Cli {
    /// Demande le code d'accès au clavier (et de nouveau après chaque session).
    #[arg(long, short = 'i', conflicts_with = "code")]
    interactive: bool,
    /// Valide ce code d'accès directement, par ex. ABC123.
    #[arg(long, short = 'c', value_name = "CODE")]
    code: Option<String>,
    /// Enrôle ce poste avec le code donné par un administrateur, puis s'arrête.
    #[arg(long, value_name = "CODE", conflicts_with_all = ["code", "interactive", "install_token_file"])]
    enroll: Option<String>,
    /// Enrôle ce poste avec le jeton d'installation du site (lu dans ce fichier), puis s'arrête.
    #[arg(long, value_name = "FICHIER", conflicts_with_all = ["code", "interactive"])]
    install_token_file: Option<PathBuf>,
    /// Adresse du serveur, par ex. http://192.168.1.10:8001.
    #[arg(long, short = 's', value_name = "URL")]
    server: Option<String>,
    /// Fichier de configuration (défaut : /etc/poste-client/config.toml s'il existe).
    #[arg(long, value_name = "FICHIER")]
    config: Option<PathBuf>,
    /// Journal détaillé.
    #[arg(long, short = 'd', global = true)]
    debug: bool,
    #[command(subcommand)]
    command: Option<Part>,
}

/// The two halves of the installed agent (see docs/agent.md).
#[derive(Debug, clap::Subcommand)]
enum Part {
    /// Service système (root ; sous Windows, un service Windows) : lien avec le serveur, décompte,
    /// verrouillage et fermeture de la session du visiteur ; parle à l'assistant de cette session.
    Service {
        /// Socket local de l'assistant (sous Windows, le nom du tube nommé).
        #[arg(long, visible_alias = "pipe", value_name = "CHEMIN", default_value = crate::local::DEFAULT_ENDPOINT)]
        socket: PathBuf,
    },
    /// Ce que lance le gestionnaire de services de Windows (installé par `install`) : ne pas
    /// lancer à la main.
    #[cfg(windows)]
    #[command(hide = true)]
    RunAsService {
        #[arg(long, visible_alias = "pipe", value_name = "CHEMIN", default_value = crate::local::DEFAULT_ENDPOINT)]
        socket: PathBuf,
    },
    /// Installe l'agent sur ce poste (binaire, configuration, services systemd ; sous Windows, le
    /// service Windows) et le démarre.
    Install {
        /// Adresse du serveur (demandée si absente et si le terminal est interactif).
        #[arg(long, value_name = "URL")]
        server: Option<String>,
        /// Ne pose aucune question (installation automatisée, Ansible).
        #[arg(long)]
        yes: bool,
        /// Prépare l'installation sous ce dossier, sans systemctl (empaquetage, tests).
        #[arg(long, value_name = "DOSSIER")]
        root: Option<PathBuf>,
        /// Portail avant connexion (Linux) : greetd affiche le portail, le compte public n'a
        /// son bureau que pendant une session payée (docs/deployment/workstation.md).
        #[arg(long)]
        gate: bool,
        /// Avec --gate : le compte public (créé s'il manque, sans mot de passe).
        #[arg(
            long,
            value_name = "COMPTE",
            default_value = "visiteur",
            requires = "gate"
        )]
        account: String,
        /// Avec --gate : la session X11 ouverte au visiteur (nom d'un fichier de
        /// /usr/share/xsessions, sans .desktop).
        #[arg(
            long,
            value_name = "SESSION",
            default_value = "xfce",
            requires = "gate"
        )]
        session: String,
    },
    /// Désinstalle l'agent (garde la configuration et le secret, sauf avec --purge).
    Uninstall {
        #[arg(long)]
        purge: bool,
        #[arg(long, value_name = "DOSSIER")]
        root: Option<PathBuf>,
    },
    /// Assistant dans la session graphique du visiteur : affiche les messages et le temps
    /// restant, montre les notifications, transmet le code saisi.
    Helper {
        /// Socket local du service (sous Windows, le nom du tube nommé).
        #[arg(long, visible_alias = "pipe", value_name = "CHEMIN", default_value = crate::local::DEFAULT_ENDPOINT)]
        socket: PathBuf,
        /// Affichage : kiosk (fenêtres plein écran et décompte, programme poste-kiosk installé à
        /// côté de poste-client), terminal, ou auto (kiosk s'il y a un écran et poste-kiosk).
        #[arg(long, value_enum, default_value_t = UiChoice::Auto)]
        ui: UiChoice,
    },
}

/// The helper's front-end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum UiChoice {
    Auto,
    Kiosk,
    Terminal,
}

fn install(
    server: &Option<String>,
    yes: bool,
    root: &Option<PathBuf>,
    gate: bool,
    account: &str,
    session: &str,
) -> anyhow::Result<()> {
    let gate = if gate {
        let gate = crate::greeter::GreeterConfig {
            enabled: true,
            account: account.to_owned(),
            session: session.to_owned(),
            ..crate::greeter::GreeterConfig::default()
        };
        gate.validate()?;
        Some(gate)
    } else {
        None
    };
    crate::install::install(&crate::install::InstallOptions {
        server: server.clone(),
        yes,
        root: root.clone(),
        gate,
    })
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Installing needs no configuration nor runtime.
    let installed = match &cli.command {
        Some(Part::Install {
            server,
            yes,
            root,
            gate,
            account,
            session,
        }) => Some(install(server, *yes, root, *gate, account, session)),
        Some(Part::Uninstall { purge, root }) => {
            Some(crate::install::uninstall(root.as_deref(), *purge))
        }
        _ => None,
    };
    if let Some(result) = installed {
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("Erreur : {err:#}");
                ExitCode::from(1)
            }
        };
    }
    let proof = match (&cli.enroll, &cli.install_token_file) {
        (Some(code), _) => Some(Proof::Code(code.clone())),
        (None, Some(path)) => match std::fs::read_to_string(path) {
            Ok(token) => Some(Proof::InstallToken(token.trim().to_owned())),
            Err(err) => {
                eprintln!("Erreur : {} : {err}", path.display());
                return ExitCode::from(1);
            }
        },
        (None, None) => None,
    };
    let mode = match (cli.interactive, cli.code.clone()) {
        (_, Some(code)) => Mode::Code(code),
        (true, None) => Mode::Interactive,
        (false, None) if proof.is_some() || cli.command.is_some() => Mode::Interactive,
        (false, None) => {
            eprintln!(
                "Indiquez --interactive, --code CODE ou --enroll CODE (voir poste-client --help)."
            );
            return ExitCode::from(1);
        }
    };
    let overrides = Overrides {
        server_url: cli.server.clone(),
        debug: cli.debug,
    };
    let env = |key: &str| std::env::var(key).ok();
    let config = match AgentConfig::load(cli.config.as_deref(), &env, &overrides) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("Erreur : {err}");
            return ExitCode::from(1);
        }
    };
    // The helper runs as the visitor, who cannot write the service's log file: its logs go to
    // standard error (the session's journal), whatever the shared configuration says.
    let log_file = match &cli.command {
        Some(Part::Helper { .. }) => None,
        _ => config.log_file.as_deref(),
    };
    // At a terminal, the agent's log lines go above its prompt and countdown, not into them.
    let at_terminal = matches!(mode, Mode::Interactive)
        && cli.command.is_none()
        && proof.is_none()
        && log_file.is_none()
        && std::io::stdout().is_terminal();
    let logging = if at_terminal {
        init_terminal_logging(&config.log_level)
    } else {
        init_logging(&config.log_level, log_file)
    };
    if let Err(err) = logging {
        eprintln!("Erreur : {err}");
        return ExitCode::from(1);
    }
    // The service control manager's entry: it builds its own runtime, on its own thread.
    #[cfg(windows)]
    if let Some(Part::RunAsService { socket }) = &cli.command {
        return match crate::service::windows::run_as_service(config, socket.clone()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("Erreur : {err:#}");
                ExitCode::from(1)
            }
        };
    }
    // The kiosk windows are another program (so that the service never links a GUI): this
    // process becomes it.
    if let Some(Part::Helper { socket, ui }) = &cli.command {
        let kiosk = crate::helper::kiosk_program();
        let display = crate::helper::display_present(&|key| std::env::var_os(key));
        match (ui, kiosk) {
            (UiChoice::Kiosk | UiChoice::Auto, Some(program))
                if *ui == UiChoice::Kiosk || display =>
            {
                return crate::helper::run_kiosk(&program, socket, cli.debug);
            }
            (UiChoice::Kiosk, None) => {
                eprintln!("Erreur : {}", crate::text::KIOSK_MISSING);
                return ExitCode::from(1);
            }
            _ => {}
        }
    }
    let runtime = match runtime(2) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    match &cli.command {
        Some(Part::Service { socket }) => {
            return exit_code(runtime.block_on(crate::service::run(config, socket)));
        }
        Some(Part::Helper { socket, .. }) => {
            let session = crate::helper::own_session();
            return match runtime.block_on(crate::helper::run(socket, &session)) {
                Ok(
                    crate::helper::HelperExit::InputClosed | crate::helper::HelperExit::HandedOver,
                ) => ExitCode::SUCCESS,
                Ok(crate::helper::HelperExit::Refused) => ExitCode::from(3),
                Err(err) => {
                    eprintln!("Erreur : {err:#}");
                    ExitCode::from(1)
                }
            };
        }
        _ => {}
    }
    if let Some(proof) = proof {
        return match runtime.block_on(crate::enroll::enroll(&config, proof)) {
            Ok(Enrolled::Done) => ExitCode::SUCCESS,
            Ok(Enrolled::Refused) => ExitCode::from(2),
            Err(err) => {
                eprintln!("Erreur : {err:#}");
                ExitCode::from(1)
            }
        };
    }
    let desktop = poste_desktop::CommandDesktop::new(poste_desktop::Environment::current())
        .with_timeout(std::time::Duration::from_secs(config.command_timeout));
    tracing::info!(desktop = ?desktop.desktop(), "desktop detected");
    let ui = agent::Ui::terminal(&config, &mode);
    exit_code(runtime.block_on(agent::run(config, mode, Arc::new(desktop), ui)))
}

/// The async runtime of a program of the agent (the agent's parts and the kiosk), or the exit
/// code after saying in French why there is none.
pub fn runtime(worker_threads: usize) -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads)
        .enable_all()
        .build()
        .map_err(|err| {
            eprintln!("Erreur : {err}");
            ExitCode::from(1)
        })
}

fn exit_code(result: anyhow::Result<Exit>) -> ExitCode {
    match result {
        Ok(Exit::SessionEnded) => ExitCode::SUCCESS,
        Ok(Exit::CodeRefused) => ExitCode::from(2),
        Ok(Exit::NotRecognised) => ExitCode::from(3),
        Err(err) => {
            eprintln!("Erreur : {err:#}");
            ExitCode::from(1)
        }
    }
}

fn log_filter(log_level: &str) -> anyhow::Result<EnvFilter> {
    EnvFilter::try_new(log_level)
        .map_err(|err| anyhow::anyhow!("log_level « {log_level} » : {err}"))
}

/// Logging for `--interactive` at a terminal: through the console, which draws its prompt or
/// its countdown again under each line.
fn init_terminal_logging(log_level: &str) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(log_filter(log_level)?)
        .with_ansi(true)
        .with_writer(crate::console::LogWriter::default())
        .try_init()
        .map_err(|err| anyhow::anyhow!("{err}"))
}

/// Logging for a program of the agent (its parts and the kiosk): `log_level` is a filter's
/// directives, to `log_file` or else to stderr.
pub fn init_logging(log_level: &str, log_file: Option<&std::path::Path>) -> anyhow::Result<()> {
    let builder = tracing_subscriber::fmt().with_env_filter(log_filter(log_level)?);
    let result = match log_file {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|err| anyhow::anyhow!("log_file {} : {err}", path.display()))?;
            builder
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .try_init()
        }
        // Colours only on a terminal: journald would keep the escape codes.
        None => builder
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .try_init(),
    };
    result.map_err(|err| anyhow::anyhow!("{err}"))
}
