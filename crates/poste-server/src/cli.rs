//! The command line: `serve` and the staff/IT subcommands (sessions, workstations, tokens).
//!
//! Subcommands other than `serve` work directly on the database named by the same
//! configuration as the server; a running server picks their changes up from the event log
//! within `limits.change_feed_interval_ms`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Arg, ArgAction, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use poste_proto::EndReason;
use poste_store::{Actor, SessionFilter, SessionRow, SessionStatus, StaffChange, Store};
use tracing_subscriber::EnvFilter;

use crate::app;
use crate::clock::{now_ms, rfc3339};
use crate::config::{Config, LogFormat, Overrides};
use crate::domain::duration::{format_duration, parse_duration};
use crate::http::api::SessionView;
use crate::messages::time_left;
use crate::ops::{self, CreateSessions, EventLogOnly};
use crate::settings::Settings;
use crate::text;

/// Serveur Postes Publics : sessions minutées sur les postes publics de l'EPN.
#[derive(Debug, Parser)]
#[command(name = "poste-server", version, long_about = None)]
pub struct Cli {
    /// Fichier de configuration TOML (par ex. /etc/poste-server/server.toml ; ou la variable
    /// POSTE_SERVER_CONFIG).
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "POSTE_SERVER_CONFIG",
        hide_env = true
    )]
    config: Option<PathBuf>,
    /// Base de données : sqlite:CHEMIN ou postgres://… (défaut : SQLite dans le dossier de données).
    #[arg(long, global = true)]
    database: Option<String>,
    /// Dossier de données (fichier SQLite par défaut).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Journaux détaillés.
    #[arg(long, global = true)]
    debug: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Démarre le serveur (commande par défaut).
    Serve {
        /// Adresse et port d'écoute (défaut 0.0.0.0:8001).
        #[arg(long)]
        bind: Option<std::net::SocketAddr>,
    },
    /// Sessions et codes d'accès.
    #[command(subcommand)]
    Session(SessionCommand),
    /// Postes de travail.
    #[command(subcommand)]
    Poste(PosteCommand),
    /// Jetons d'accès à l'API.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Comptes du personnel pour la console web (/console/).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Affiche la configuration en vigueur (après fichier, environnement et options).
    Config,
}

#[derive(Debug, Subcommand)]
enum SessionCommand {
    /// Crée une ou plusieurs sessions et affiche leurs codes.
    Create(CreateArgs),
    /// Liste les sessions (les plus récentes d'abord).
    List {
        /// en_attente, active, terminee, expiree ou annulee.
        #[arg(long)]
        statut: Option<String>,
        /// Nom du poste.
        #[arg(long)]
        poste: Option<String>,
        /// Nombre maximal de lignes (50 par défaut).
        #[arg(long, default_value_t = 50, hide_default_value = true)]
        limite: i64,
        /// Sortie JSON.
        #[arg(long)]
        json: bool,
    },
    /// Affiche une session.
    Show { id: i64 },
    /// Ajoute du temps à une session (par ex. 15min).
    AddTime { id: i64, duree: String },
    /// Termine une session en cours.
    End { id: i64 },
    /// Annule un code pas encore utilisé.
    Cancel { id: i64 },
}

#[derive(Debug, Args)]
struct CreateArgs {
    /// Nom du visiteur.
    #[arg(long)]
    utilisateur: Option<String>,
    /// Durée : 2h, 1h30, 90min, 45s.
    #[arg(long)]
    duree: String,
    /// Réserve le code à ce poste.
    #[arg(long)]
    poste: Option<String>,
    /// Nombre de sessions à créer (atelier ; 1 par défaut).
    #[arg(long, default_value_t = 1, hide_default_value = true)]
    count: u32,
    /// Validité du code s'il n'est pas utilisé (défaut : configuration, fin de journée).
    #[arg(long)]
    validite: Option<String>,
    /// Numéro d'un visiteur inscrit (les règles de temps de sa catégorie s'appliquent).
    #[arg(long)]
    visiteur: Option<i64>,
    /// Espace où le code est valable, par son nom (à donner quand le site en a plusieurs).
    #[arg(long, conflicts_with = "tous_espaces")]
    espace: Option<String>,
    /// Le code est valable dans tous les espaces.
    #[arg(long)]
    tous_espaces: bool,
    /// Sortie JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum PosteCommand {
    /// Liste les postes.
    List,
    /// Déclare un poste.
    Add {
        nom: String,
        #[arg(long)]
        ip: Option<String>,
        #[arg(long)]
        mac: Option<String>,
    },
    /// Crée un code d'enrôlement à usage unique (à saisir sur le poste : poste-client --enroll CODE).
    EnrollCode {
        /// Réserve le code à ce nom de poste.
        #[arg(long)]
        poste: Option<String>,
        /// Un poste nouveau enrôlé avec ce code attend sa validation dans cet espace (par son
        /// nom).
        #[arg(long)]
        espace: Option<String>,
        /// Validité du code (défaut : configuration, 24h).
        #[arg(long)]
        validite: Option<String>,
    },
    /// Valide la demande d'enrôlement d'un poste.
    Approve {
        nom: String,
        /// L'espace où servira le poste (obligatoire quand le site en a plusieurs).
        #[arg(long)]
        espace: Option<String>,
    },
    /// Réinitialise l'enrôlement d'un poste (volé, réinstallé) : son secret n'est plus accepté.
    Reset { nom: String },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Crée un jeton d'API (affiché une seule fois).
    Create { nom: String },
    /// Liste les jetons.
    List,
    /// Révoque un jeton.
    Revoke { nom: String },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Crée un compte (le mot de passe est demandé, ou lu sur l'entrée standard).
    Create {
        /// Identifiant de connexion (lettres, chiffres, point, tiret).
        #[arg(long)]
        identifiant: String,
        /// Nom complet affiché dans la console.
        #[arg(long)]
        nom: String,
        /// admin (réglages, équipe, postes ; par défaut) ou animateur (sessions, visiteurs).
        #[arg(long, default_value = "admin", hide_default_value = true)]
        role: String,
        /// Espace où le compte travaille, par son nom (à répéter ; à donner quand le site en a
        /// plusieurs).
        #[arg(long = "espace", conflicts_with = "tous_espaces")]
        espaces: Vec<String>,
        /// Le compte travaille dans tous les espaces, ceux créés plus tard compris.
        #[arg(long)]
        tous_espaces: bool,
        /// Lit le mot de passe sur la première ligne de l'entrée standard (scripts).
        #[arg(long)]
        mot_de_passe_stdin: bool,
    },
    /// Liste les comptes.
    List,
    /// Change le mot de passe d'un compte (et ferme ses sessions ouvertes).
    Password {
        identifiant: String,
        #[arg(long)]
        mot_de_passe_stdin: bool,
    },
    /// Lève les attentes d'un compte après des mots de passe refusés (depuis toutes les
    /// adresses) ; le serveur en marche l'applique dans la seconde.
    #[command(visible_alias = "debloquer")]
    Unblock { identifiant: String },
    /// Désactive un compte : il ne peut plus se connecter, ses sessions ouvertes de la console
    /// sont fermées (le serveur en marche l'applique dans la seconde).
    #[command(visible_alias = "desactiver")]
    Disable { identifiant: String },
    /// Réactive un compte désactivé.
    #[command(visible_alias = "reactiver")]
    Enable { identifiant: String },
    /// Supprime un compte : il disparaît de l'équipe, l'historique garde ce qu'il a fait et son
    /// identifiant n'est pas redonné. Demande confirmation.
    #[command(visible_alias = "supprimer")]
    Delete {
        identifiant: String,
        /// Confirme sans le demander (scripts).
        #[arg(long)]
        oui: bool,
    },
}

/// Asks at the terminal to type the login again before a deletion; `--oui` stands for it in
/// scripts (without a terminal, nothing is deleted without it).
fn confirm_deletion(login: &str, yes: bool) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("{}", text::console::cli_delete_needs_yes(login));
    }
    eprint!("{}", text::console::cli_delete_prompt(login));
    let mut typed = String::new();
    std::io::stdin()
        .read_line(&mut typed)
        .context("cannot read the confirmation")?;
    if poste_store::fold(typed.trim()) != poste_store::fold(login) {
        anyhow::bail!("{}", text::console::CLI_DELETE_CANCELLED);
    }
    Ok(())
}

/// Most tries at the terminal before giving up (a password refused, or typed differently twice).
const PASSWORD_TRIES: u32 = 5;

/// Reads a new password: from the first line of standard input when asked (or when it is not
/// a terminal), else at the terminal without echo, twice, asking again while it is refused.
fn read_new_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        let read = std::io::stdin()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        if read == 0 {
            anyhow::bail!("{}", text::cli::NO_PASSWORD_ON_STDIN);
        }
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        crate::console::check_new_password(&password)
            .map_err(|message| anyhow::anyhow!(text::cli::password_from_stdin_refused(message)))?;
        return Ok(password);
    }
    for _ in 0..PASSWORD_TRIES {
        let first = rpassword::prompt_password(text::cli::PASSWORD_PROMPT)?;
        if let Err(message) = crate::console::check_new_password(&first) {
            eprintln!("{}", text::cli::try_again(message));
            continue;
        }
        let second = rpassword::prompt_password(text::cli::PASSWORD_CONFIRM_PROMPT)?;
        if first != second {
            eprintln!("{}", text::cli::try_again(text::console::PASSWORDS_DIFFER));
            continue;
        }
        return Ok(first);
    }
    anyhow::bail!("{}", text::cli::PASSWORD_GAVE_UP)
}

/// Says on standard error which database a command works on (for `admin`), and warns when it
/// is a SQLite file this command is about to create: run from another directory, the default
/// `./data` is another, empty, database than the server's.
fn tell_database(config: &Config, name_it: bool) {
    let url = config.database_url();
    let file = sqlite_file(&url);
    let new = file.as_ref().is_some_and(|file| !file.exists());
    let shown = match file {
        Some(file) => std::path::absolute(&file)
            .unwrap_or(file)
            .display()
            .to_string(),
        None => app::redact_url(&url),
    };
    if name_it || new {
        eprintln!("{}", text::cli::database_in_use(&shown));
    }
    if new {
        eprintln!("{}", text::cli::DATABASE_NEW);
    }
}

/// The file a `sqlite:` URL names (None for PostgreSQL or an in-memory database).
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| PathBuf::from(path))
}

/// The help's layout, in French (clap's own headings are English).
const HELP_TEMPLATE: &str = "{about-with-newline}\nUtilisation : {usage}\n\n{all-args}{after-help}";

/// The command line's definition with every word of clap's own in French: headings, the help
/// and version flags (clap's say "Print help"), on every subcommand.
pub fn command() -> clap::Command {
    fn french(command: clap::Command, top: bool) -> clap::Command {
        let command = command
            .help_template(HELP_TEMPLATE)
            .subcommand_help_heading(text::cli::COMMANDS_HEADING)
            .subcommand_value_name(text::cli::COMMAND_VALUE)
            .disable_help_subcommand(true)
            .disable_help_flag(true)
            .arg(
                Arg::new("aide")
                    .short('h')
                    .long("help")
                    .help(text::cli::HELP_FLAG)
                    .action(ArgAction::Help),
            )
            .mut_subcommands(|sub| french(sub, false));
        if top {
            command.disable_version_flag(true).arg(
                Arg::new("version")
                    .short('V')
                    .long("version")
                    .help(text::cli::VERSION_FLAG)
                    .action(ArgAction::Version),
            )
        } else {
            command
        }
    }
    french(Cli::command(), true)
}

/// Parses the command line (refusals in French), runs it, and turns any error into a message
/// and exit code 1.
pub fn main() -> ExitCode {
    let parsed = command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(err) => return command_line_refused(&err),
    };
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("Erreur : {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Help and version as clap prints them; any other refusal said in French, with what was wrong.
fn command_line_refused(err: &clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ErrorKind};
    let context = |kind| err.get(kind).map(ToString::to_string).unwrap_or_default();
    let message = match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            // On standard output, exit code 0 (clap's version line has no newline).
            let shown = err.render().to_string();
            print!("{}", shown.trim_end());
            println!();
            return ExitCode::SUCCESS;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // `poste-server admin`: its help says which commands there are.
            let _ = err.print();
            return ExitCode::from(2);
        }
        ErrorKind::UnknownArgument => {
            text::cli::unknown_argument(&context(ContextKind::InvalidArg))
        }
        ErrorKind::InvalidSubcommand => {
            text::cli::unknown_command(&context(ContextKind::InvalidSubcommand))
        }
        ErrorKind::MissingRequiredArgument => {
            text::cli::missing_argument(&context(ContextKind::InvalidArg))
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let value = context(ContextKind::InvalidValue);
            if value.is_empty() {
                text::cli::missing_value(&context(ContextKind::InvalidArg))
            } else {
                text::cli::invalid_value(&value, &context(ContextKind::InvalidArg))
            }
        }
        ErrorKind::MissingSubcommand => text::cli::MISSING_COMMAND.to_owned(),
        _ => text::cli::BAD_COMMAND_LINE.to_owned(),
    };
    eprintln!("{}", text::cli::refused(&message));
    ExitCode::from(2)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let bind = match &cli.command {
        Some(Command::Serve { bind }) => *bind,
        _ => None,
    };
    let overrides = Overrides {
        bind,
        database: cli.database.clone(),
        data_dir: cli.data_dir.clone(),
        debug: cli.debug,
    };
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match cli.command.unwrap_or(Command::Serve { bind: None }) {
        Command::Serve { .. } => {
            init_logging(&config, true);
            runtime.block_on(serve(config))?;
        }
        Command::Config => {
            print!("{}", toml_of(&config)?);
        }
        command => {
            init_logging(&config, false);
            runtime.block_on(admin(config, command))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn toml_of(config: &Config) -> anyhow::Result<String> {
    Ok(toml::to_string_pretty(config)?)
}

fn init_logging(config: &Config, serving: bool) {
    let default = if config.debug {
        "debug,sqlx=info,hyper=info,tower_http=debug"
    } else if serving {
        "info,sqlx=warn,tower_http=warn"
    } else {
        "warn"
    };
    let filter = EnvFilter::try_from_env("LOG_LEVEL")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new(default));
    // Colours only on a terminal: journald would keep the escape codes.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

async fn serve(config: Config) -> anyhow::Result<()> {
    app::raise_open_file_limit();
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    app::run(config, listener, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested");
}

async fn admin(config: Config, command: Command) -> anyhow::Result<()> {
    tell_database(&config, matches!(command, Command::Admin(_)));
    let store = app::open_store(&config, &app::instance_id("cli")).await?;
    // The console's settings (code length and validity, …) apply here too.
    let settings = Settings::from_config(&config)?
        .with_stored(store.settings().await?)
        .with_spaces_stored(store.space_settings().await?);
    let result = admin_command(&store, &settings, command).await;
    store.close().await;
    result
}

fn parse_duree(text: &str) -> anyhow::Result<i64> {
    parse_duration(text).map_err(|_| anyhow::anyhow!(text::invalid_duration(text)))
}

async fn admin_command(store: &Store, settings: &Settings, command: Command) -> anyhow::Result<()> {
    let actor = Actor::Cli;
    let now = now_ms();
    match command {
        Command::Session(SessionCommand::Create(args)) => {
            let request = CreateSessions {
                utilisateur: args.utilisateur,
                duration_secs: parse_duree(&args.duree)?,
                poste: args.poste,
                count: args.count,
                valid_for_secs: args.validite.as_deref().map(parse_duree).transpose()?,
                visiteur_id: args.visiteur,
                espace: ops::space_choice(store, args.espace.as_deref(), args.tous_espaces).await?,
            };
            let rows =
                ops::create_sessions(store, settings, &request, &actor, now, &EventLogOnly).await?;
            if args.json {
                print_json(&rows, now)?;
            } else {
                println!("{}", text::sessions_created(rows.len()));
                for row in &rows {
                    println!(
                        "  {}  (session {}, {}, {}, valable jusqu'au {})",
                        row.code,
                        row.id,
                        format_duration(row.total_secs()),
                        row.poste_nom.as_deref().unwrap_or("tout poste"),
                        rfc3339(row.valid_until)
                    );
                }
            }
        }
        Command::Session(SessionCommand::List {
            statut,
            poste,
            limite,
            json,
        }) => {
            let status = statut
                .as_deref()
                .map(|s| {
                    SessionStatus::parse(s).ok_or_else(|| anyhow::anyhow!("statut inconnu : {s}"))
                })
                .transpose()?;
            let poste_id = match poste {
                Some(name) => Some(ops::find_poste(store, &name).await?.id),
                None => None,
            };
            let filter = SessionFilter {
                status,
                poste_id,
                limit: Some(limite),
                ..SessionFilter::default()
            };
            let rows = store.list_sessions(&filter).await?;
            if json {
                print_json(&rows, now)?;
            } else {
                print_session_table(&rows, now);
            }
        }
        Command::Session(SessionCommand::Show { id }) => {
            print_json(&[ops::session(store, id).await?], now)?;
        }
        Command::Session(SessionCommand::AddTime { id, duree }) => {
            let secs = parse_duree(&duree)?;
            let row = ops::add_time(store, settings, id, secs, &actor, now, &EventLogOnly).await?;
            println!(
                "Session {id} : {} ajoutées, {} restantes.",
                format_duration(parse_duree(&duree)?),
                format_duration(time_left(&row, now))
            );
        }
        Command::Session(SessionCommand::End { id }) => {
            let reason = EndReason::TermineParAnimateur;
            ops::end_session(store, id, reason, None, &actor, now, &EventLogOnly).await?;
            println!("Session {id} terminée.");
        }
        Command::Session(SessionCommand::Cancel { id }) => {
            ops::cancel_session(store, id, &actor, now, &EventLogOnly).await?;
            println!("Code de la session {id} annulé.");
        }
        Command::Poste(PosteCommand::List) => {
            println!(
                "{:<20} {:<11} {:<16} {:<18} {:<10} VU LE",
                "NOM", "ENRÔLEMENT", "IP", "MAC", "VERSION"
            );
            for poste in store.list_postes().await? {
                println!(
                    "{:<20} {:<11} {:<16} {:<18} {:<10} {}",
                    poste.nom,
                    poste.enrollment.as_str(),
                    poste.ip.unwrap_or_default(),
                    poste.mac.unwrap_or_default(),
                    poste.version.unwrap_or_default(),
                    poste
                        .last_seen
                        .map(rfc3339)
                        .unwrap_or_else(|| "jamais".into())
                );
            }
        }
        Command::Poste(PosteCommand::Add { nom, ip, mac }) => {
            let (ip, mac) = (ip.as_deref(), mac.as_deref());
            let poste = ops::create_poste(store, &nom, ip, mac, &actor, now, &EventLogOnly).await?;
            println!("Poste « {} » créé.", poste.nom);
        }
        Command::Poste(PosteCommand::EnrollCode {
            poste,
            espace,
            validite,
        }) => {
            let secs = validite.as_deref().map(parse_duree).transpose()?;
            let (row, code) = ops::create_enrollment_code(
                store,
                settings,
                poste.as_deref(),
                espace.as_deref(),
                secs,
                &actor,
                now,
            )
            .await?;
            println!(
                "{}",
                text::enrollment_code_created(
                    &code,
                    row.poste_nom.as_deref(),
                    espace.as_deref().filter(|_| row.espace_id.is_some()),
                    &rfc3339(row.expires_at)
                )
            );
        }
        Command::Poste(PosteCommand::Approve { nom, espace }) => {
            let poste = ops::spaces::approve_by_names(
                store,
                &nom,
                espace.as_deref(),
                &actor,
                now,
                &EventLogOnly,
            )
            .await?;
            println!(
                "Poste « {} » validé : il recevra son secret à sa prochaine demande.",
                poste.nom
            );
        }
        Command::Poste(PosteCommand::Reset { nom }) => {
            let poste = ops::reset_enrollment(store, &nom, &actor, now, &EventLogOnly).await?;
            println!("Enrôlement du poste « {} » réinitialisé.", poste.nom);
        }
        Command::Token(TokenCommand::Create { nom }) => {
            let (row, token) = ops::create_token(store, &nom, &actor, now).await?;
            eprintln!("{}", text::token_created(&row.nom));
            println!("{token}");
        }
        Command::Token(TokenCommand::List) => {
            println!("{:<24} {:<22} {:<22} ÉTAT", "NOM", "CRÉÉ LE", "UTILISÉ LE");
            for token in store.list_tokens().await? {
                println!(
                    "{:<24} {:<22} {:<22} {}",
                    token.nom,
                    rfc3339(token.created_at),
                    token
                        .last_used
                        .map(rfc3339)
                        .unwrap_or_else(|| "jamais".into()),
                    if token.revoked_at.is_some() {
                        "révoqué"
                    } else {
                        "actif"
                    }
                );
            }
        }
        Command::Token(TokenCommand::Revoke { nom }) => {
            ops::revoke_token(store, &nom, &actor, now).await?;
            println!("Jeton « {nom} » révoqué.");
        }
        Command::Admin(AdminCommand::Create {
            identifiant,
            nom,
            role,
            espaces,
            tous_espaces,
            mot_de_passe_stdin,
        }) => {
            let role = poste_store::StaffRole::parse(&role)
                .ok_or_else(|| anyhow::anyhow!("{}", text::console::ROLE_INVALID))?;
            let ids = ops::team::space_ids_by_name(store, &espaces).await?;
            let scope = ops::team::scope_choice(store, tous_espaces, ids, role).await?;
            let login = identifiant.trim().to_owned();
            if !crate::console::valid_login(&login) {
                anyhow::bail!("{}", text::console::LOGIN_INVALID);
            }
            let nom = nom.trim().to_owned();
            if nom.is_empty() {
                anyhow::bail!("{}", text::console::NAME_REQUIRED);
            }
            let password = read_new_password(mot_de_passe_stdin)?;
            let new = poste_store::NewStaff {
                login: login.clone(),
                nom,
                role,
                password_hash: crate::console::hash_password(password).await?,
                scope,
            };
            match store.create_staff(&new, &actor, now).await {
                Ok(row) => println!("{}", text::console::staff_created(&row.login)),
                Err(poste_store::StoreError::AlreadyExists { .. }) => {
                    anyhow::bail!("{}", text::console::staff_exists(&login))
                }
                Err(poste_store::StoreError::StaffRefused(_)) => {
                    anyhow::bail!("{}", text::console::staff_login_of_deleted(&login))
                }
                Err(err) => return Err(err.into()),
            }
        }
        Command::Admin(AdminCommand::List) => {
            println!(
                "{:<24} {:<28} {:<10} DERNIÈRE CONNEXION",
                "IDENTIFIANT", "NOM", "RÔLE"
            );
            for staff in store.list_staff().await? {
                println!(
                    "{:<24} {:<28} {:<10} {}",
                    staff.login,
                    staff.nom,
                    staff.role.as_str(),
                    staff
                        .last_login
                        .map(rfc3339)
                        .unwrap_or_else(|| "jamais".into()),
                );
            }
        }
        Command::Admin(AdminCommand::Password {
            identifiant,
            mot_de_passe_stdin,
        }) => {
            let password = read_new_password(mot_de_passe_stdin)?;
            let hash = crate::console::hash_password(password).await?;
            match store
                .set_staff_password(&identifiant, &hash, &actor, now)
                .await
            {
                Ok(row) => println!("Mot de passe de « {} » changé.", row.login),
                Err(poste_store::StoreError::NotFound { .. }) => {
                    anyhow::bail!("{}", text::console::staff_not_found(&identifiant))
                }
                Err(err) => return Err(err.into()),
            }
        }
        Command::Admin(AdminCommand::Unblock { identifiant }) => {
            match store.unblock_staff(identifiant.trim(), &actor, now).await {
                Ok(row) => println!("{}", text::console::staff_unblocked(&row.login)),
                Err(poste_store::StoreError::NotFound { .. }) => {
                    anyhow::bail!("{}", text::console::staff_not_found(identifiant.trim()))
                }
                Err(err) => return Err(err.into()),
            }
        }
        Command::Admin(AdminCommand::Disable { identifiant }) => {
            change_account(store, &identifiant, StaffChange::Disable, now).await?;
        }
        Command::Admin(AdminCommand::Enable { identifiant }) => {
            change_account(store, &identifiant, StaffChange::Enable, now).await?;
        }
        Command::Admin(AdminCommand::Delete { identifiant, oui }) => {
            let staff = ops::team::staff_by_login(store, &identifiant).await?;
            confirm_deletion(&staff.login, oui)?;
            change_account(store, &staff.login, StaffChange::Delete, now).await?;
        }
        Command::Serve { .. } | Command::Config => {}
    }
    Ok(())
}

/// Disables, enables or deletes the account `login` and says so.
async fn change_account(
    store: &Store,
    login: &str,
    change: StaffChange,
    now: i64,
) -> anyhow::Result<()> {
    let staff = ops::team::staff_by_login(store, login).await?;
    let row =
        ops::team::change_staff(store, staff.id, change, &Actor::Cli, now, &EventLogOnly).await?;
    println!("{}", text::console::staff_changed(change, &row.login));
    Ok(())
}

fn print_json(rows: &[SessionRow], now: i64) -> anyhow::Result<()> {
    let views: Vec<SessionView> = rows.iter().map(|row| SessionView::new(row, now)).collect();
    println!("{}", serde_json::to_string_pretty(&views)?);
    Ok(())
}

fn print_session_table(rows: &[SessionRow], now: i64) {
    println!(
        "{:>6} {:<8} {:<24} {:<14} {:<11} {:>12}",
        "ID", "CODE", "UTILISATEUR", "POSTE", "STATUT", "RESTANT"
    );
    for row in rows {
        println!(
            "{:>6} {:<8} {:<24} {:<14} {:<11} {:>12}",
            row.id,
            row.code,
            row.utilisateur.as_deref().unwrap_or("-"),
            row.poste_nom.as_deref().unwrap_or("-"),
            text::status_label(row.status.as_str()),
            format_duration(time_left(row, now))
        );
    }
}
