//! The built `poste-server` binary: its command line, and SIGKILL-then-restart mid-session.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use poste_testkit::{ServerProcess, WsClient};
use serde_json::json;

use crate::REPLY;

const BIN: &str = env!("CARGO_BIN_EXE_poste-server");

/// The binary with a data directory and short thresholds, as an admin would run it.
fn command(data: &Path) -> Command {
    let mut command = ServerProcess::command(data);
    command.env_remove("POSTE_SERVER_BINDD");
    command
}

fn cli(data: &Path, args: &[&str]) -> (bool, String, String) {
    let output = command(data).args(args).output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_command_line_creates_codes_tokens_and_workstations() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (ok, out, err) = cli(data, &["poste", "add", "Poste-03", "--ip", "192.168.1.103"]);
    assert!(ok, "{err}");
    assert!(out.contains("Poste-03"));
    let (ok, out, err) = cli(
        data,
        &[
            "session",
            "create",
            "--utilisateur",
            "Jean Dupont",
            "--duree",
            "2h",
            "--poste",
            "Poste-03",
            "--count",
            "20",
        ],
    );
    assert!(ok, "{err}");
    assert!(out.starts_with("20 sessions créées"), "{out}");
    let codes: Vec<&str> = out
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert_eq!(codes.len(), 20);
    assert!(codes.iter().all(|c| c.len() == 6));

    let (ok, out, _) = cli(data, &["session", "list", "--json"]);
    assert!(ok);
    let listed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 20);
    assert_eq!(listed[0]["utilisateur"], "Jean Dupont");
    assert_eq!(listed[0]["poste"], "Poste-03");

    let (ok, token, err) = cli(data, &["token", "create", "tableau-de-bord"]);
    assert!(ok, "{err}");
    assert!(token.trim().starts_with("pp_"), "{token}");
    assert!(err.contains("ne sera plus jamais affiché"));
    let (ok, out, _) = cli(data, &["token", "list"]);
    assert!(
        ok && out.contains("tableau-de-bord") && !out.contains(token.trim()),
        "the token itself is never shown again"
    );

    // Mistakes get a French message and exit code 1, never a panic.
    for args in [
        &["session", "create", "--duree", "120"][..],
        &["session", "create", "--duree", "1h", "--poste", "Inconnu"],
        &["session", "end", "999"],
        &["poste", "add", "poste-03"],
    ] {
        let (ok, _, err) = cli(data, args);
        assert!(!ok, "{args:?}");
        assert!(err.starts_with("Erreur : "), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn a_bad_configuration_is_named_and_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    std::fs::write(&file, "[sessions]\nwarnig_secs = 10\n").unwrap();
    let (ok, _, err) = cli(dir.path(), &["--config", file.to_str().unwrap(), "config"]);
    assert!(!ok);
    assert!(err.contains("warnig_secs"), "{err}");
    let output = command(dir.path())
        .env("POSTE_SERVER_BINDD", "1")
        .arg("config")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("bindd"));
    // The effective configuration can be printed, and parses back.
    let (ok, out, err) = cli(dir.path(), &["config"]);
    assert!(ok, "{err}");
    assert!(out.contains("warning_secs = 3"), "{out}");
    std::fs::write(&file, &out).unwrap();
    let (ok, _, err) = cli(dir.path(), &["--config", file.to_str().unwrap(), "config"]);
    assert!(ok, "printed configuration must load again: {err}");
}

/// Two workstation names that differ only by case (written by hand in the database, or left
/// by a release whose SQLite compared accented capitals apart): the server does not open the
/// database, says in French which rows to rename and how, and opens it once they differ.
#[tokio::test]
async fn names_that_differ_only_by_case_stop_the_start_in_french() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    for nom in ["Salle-01", "Salle-02"] {
        let (ok, _, err) = cli(data, &["poste", "add", nom]);
        assert!(ok, "{err}");
    }
    let edit = |sql: &'static str| {
        let url = format!("sqlite:{}", data.join("poste-server.sqlite").display());
        async move {
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(&url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
    };
    edit("UPDATE postes SET nom = 'SALLE-01' WHERE nom = 'Salle-02'").await;

    let (ok, out, err) = cli(data, &["poste", "list"]);
    assert!(!ok, "{out}");
    for expected in [
        "ne diffèrent que par les majuscules",
        "postes (table postes, colonne nom) : n° 1 « Salle-01 », n° 2 « SALLE-01 »",
        "Rien n'a été modifié",
        "UPDATE postes SET nom = 'nouveau nom' WHERE id = 2;",
        "puis relancez le serveur",
    ] {
        assert!(err.contains(expected), "« {expected} » missing from: {err}");
    }

    edit("UPDATE postes SET nom = 'Salle-03' WHERE id = 2").await;
    let (ok, out, err) = cli(data, &["poste", "list"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("Salle-01") && out.contains("Salle-03"),
        "{out}"
    );
}

#[tokio::test]
async fn sigkill_and_restart_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let (_, token, _) = cli(&data, &["token", "create", "test"]);
    let token = token.trim().to_owned();
    let (_, long_out, _) = cli(&data, &["session", "create", "--duree", "1h", "--json"]);
    let (_, short_out, _) = cli(&data, &["session", "create", "--duree", "3s", "--json"]);
    let long: serde_json::Value = serde_json::from_str(&long_out).unwrap();
    let short: serde_json::Value = serde_json::from_str(&short_out).unwrap();
    let (long_id, long_code) = (
        long[0]["id"].as_i64().unwrap(),
        long[0]["code_acces"].as_str().unwrap().to_owned(),
    );
    let (short_id, short_code) = (
        short[0]["id"].as_i64().unwrap(),
        short[0]["code_acces"].as_str().unwrap().to_owned(),
    );

    let mut server = ServerProcess::start(&data, None).await;
    let mut a = server.connect_as("127.0.0.41").await;
    let started = a.start_with_code(&long_code, "127.0.0.41").await;
    let debut = started["session"]["debut_session"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut b = server.connect_as("127.0.0.42").await;
    b.start_with_code(&short_code, "127.0.0.42").await;

    server.kill9();
    drop((a, b));
    // The short session's deadline passes while the server is down.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let server = ServerProcess::start(&data, None).await;

    // The seed clients reconnect and ask for their time, as before the crash (they are known
    // by their address). The long session goes on with the right time left, from the same start.
    let mut a = server.connect_as("127.0.0.41").await;
    let update = a
        .request(json!({"type": "get_time", "session_id": long_id}))
        .await;
    assert_eq!(update["type"], "time_update", "{update}");
    assert_eq!(update["statut"], "active");
    let start: jiff::Timestamp = debut.parse().unwrap();
    let elapsed = jiff::Timestamp::now().as_second() - start.as_second();
    let left = update["temps_restant"].as_i64().unwrap();
    assert!(
        (left - (3600 - elapsed)).abs() <= 1,
        "left {left}, elapsed {elapsed}"
    );
    let again = a
        .request(json!({"type": "start_session", "session_id": long_id}))
        .await;
    assert_eq!(
        again["session"]["debut_session"],
        debut.as_str(),
        "not restarted"
    );

    // The short one expired while the server was down, and is reported as such.
    let mut b = server.connect_as("127.0.0.42").await;
    let update = b
        .request(json!({"type": "get_time", "session_id": short_id}))
        .await;
    assert_eq!(update["statut"], "expiree", "{update}");
    assert_eq!(update["temps_restant"], 0);
    let (_, ended) = b.next_of("session_terminated", REPLY).await.unwrap();
    assert_eq!(ended["raison"], "temps_expire");

    // Timers are armed again: time added now reaches the workstation.
    let response = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{}/api/sessions/{long_id}/add-time",
            server.port
        ))
        .bearer_auth(&token)
        .json(&json!({"duree": "15min"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (_, update) = a.next_of("time_update", REPLY).await.unwrap();
    assert!(update["temps_restant"].as_i64().unwrap() > 3600);
}

#[tokio::test]
async fn a_running_server_follows_sessions_changed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let (_, out, _) = cli(&data, &["session", "create", "--duree", "1h", "--json"]);
    let created: serde_json::Value = serde_json::from_str(&out).unwrap();
    let (id, code) = (
        created[0]["id"].as_i64().unwrap(),
        created[0]["code_acces"].as_str().unwrap().to_owned(),
    );
    let server = ServerProcess::start(&data, None).await;
    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    ws.start_with_code(&code, "192.168.1.150").await;
    let (ok, out, err) = cli(&data, &["session", "add-time", &id.to_string(), "30min"]);
    assert!(ok, "{err}");
    assert!(out.contains("30 min ajoutées"), "{out}");
    let (_, update) = ws
        .next_of("time_update", Duration::from_secs(3))
        .await
        .unwrap();
    assert!(update["temps_restant"].as_i64().unwrap() > 5300);
    let (ok, _, err) = cli(&data, &["session", "end", &id.to_string()]);
    assert!(ok, "{err}");
    let (_, ended) = ws
        .next_of("session_terminated", Duration::from_secs(3))
        .await
        .unwrap();
    assert_eq!(ended["raison"], "termine_par_animateur");
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    poste_testkit::verify_systemd_unit("poste-server.service", "poste-server", BIN, false).unwrap();
}

/// `metrics.listen` moves `/metrics` to its own loopback port (off the workstations' port), and
/// the server raises its own open-file limit to the hard one at start (one socket per
/// workstation). `/healthz` reports the database.
#[tokio::test]
async fn metrics_on_their_own_listener_and_the_open_file_limit_raised() {
    let dir = tempfile::tempdir().unwrap();
    let (port, metrics_port) = (poste_testkit::free_port(), poste_testkit::free_port());
    let server = command(dir.path());
    // Started with a low soft limit, as a login shell or a bare service manager would give it.
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg("ulimit -Sn 256 && exec \"$@\"")
        .arg("sh")
        .arg(server.get_program())
        .args(server.get_args())
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env_remove("POSTE_SERVER_CONFIG")
        .env(
            "POSTE_SERVER_METRICS__LISTEN",
            format!("127.0.0.1:{metrics_port}"),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for (key, value) in server.get_envs() {
        match value {
            Some(value) => shell.env(key, value),
            None => shell.env_remove(key),
        };
    }
    let mut child = shell.spawn().unwrap();
    let main = format!("http://127.0.0.1:{port}");
    let metrics = format!("http://127.0.0.1:{metrics_port}");
    poste_testkit::wait_http_ok(&format!("{main}/healthz"), Duration::from_secs(30))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let get = |url: String| {
        let http = http.clone();
        async move {
            let response = http.get(url).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };

    let (status, body) = get(format!("{main}/healthz")).await;
    assert_eq!(status, 200);
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health, json!({"status": "ok", "database": "ok"}));
    assert_eq!(
        get(format!("{main}/metrics")).await.0,
        404,
        "off the main port"
    );
    let (status, body) = get(format!("{metrics}/metrics")).await;
    assert_eq!(status, 200);
    assert!(body.contains("poste_connections"), "{body}");
    assert_eq!(get(format!("{metrics}/healthz")).await.0, 200);
    assert_eq!(get(format!("{metrics}/readyz")).await.0, 200);
    assert_eq!(
        get(format!("{metrics}/api/")).await.0,
        404,
        "nothing else there"
    );

    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .unwrap();
    let numbers: Vec<&str> = line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .collect();
    assert_eq!(numbers[0], numbers[1], "soft raised to hard: {line}");
    assert_ne!(numbers[0], "256", "{line}");
    let _ = child.kill();
    let _ = child.wait();
}

/// Words of clap's own English that must not reach staff.
const ENGLISH: &[&str] = &[
    "Usage:",
    "Commands:",
    "Print help",
    "Print version",
    "[env:",
    "[default:",
    "subcommand",
    "error:",
    "tip:",
    "For more information",
    "Postes Publics server",
];

#[test]
fn the_command_line_speaks_french_help_and_refusals_included() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    for args in [
        &["--help"][..],
        &["session", "create", "--help"],
        &["session", "list", "--help"],
        &["admin", "--help"],
        &["admin", "create", "--help"],
        &["admin"],
        &["sesion"],
        &["--bogus"],
        &["session", "create"],
        &["session", "list", "--limite", "beaucoup"],
    ] {
        let (_, out, err) = cli(data, args);
        let all = format!("{out}{err}");
        for english in ENGLISH {
            assert!(!all.contains(english), "{args:?} says `{english}`:\n{all}");
        }
        assert!(
            all.contains("Utilisation : poste-server") || all.starts_with("Erreur : "),
            "{args:?}:\n{all}"
        );
    }
    let (ok, out, _) = cli(data, &["--help"]);
    assert!(ok);
    assert!(out.starts_with("Serveur Postes Publics : "), "{out}");
    assert!(
        out.contains("Commandes:") && out.contains("Affiche cette aide"),
        "{out}"
    );
    let (ok, _, err) = cli(data, &["sesion"]);
    assert!(!ok);
    assert_eq!(
        err,
        "Erreur : commande inconnue « sesion ».\nPour l'aide : poste-server --help (ou COMMANDE --help).\n"
    );
    let (ok, out, _) = cli(data, &["-V"]);
    assert!(ok);
    assert!(
        out.starts_with("poste-server ") && out.ends_with('\n'),
        "{out}"
    );
}

/// `admin …` says which database it works on, and warns when that database is new (run from
/// another directory, the default `./data` is not the server's).
#[test]
fn admin_commands_name_their_database_and_warn_when_it_is_new() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("ailleurs");
    let file = data.join("poste-server.sqlite");
    let create = |login: &str, password: &str| {
        let mut child = command(&data)
            .args(["admin", "create", "--identifiant", login, "--nom", login])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        let output = child.wait_with_output().unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, err) = create("sandrine", "un mot de passe sûr");
    assert!(ok, "{err}");
    assert!(
        err.contains(&format!("Base de données : {}", file.display())),
        "{err}"
    );
    assert!(
        err.contains("Attention : cette base de données n'existait pas"),
        "{err}"
    );
    let (ok, err) = create("paul", "un mot de passe sûr");
    assert!(ok, "{err}");
    assert!(
        err.contains(&format!("Base de données : {}", file.display())),
        "{err}"
    );
    assert!(!err.contains("Attention"), "{err}");
    // A password refused on standard input says where it was read.
    let (ok, err) = create("lea", "court");
    assert!(!ok);
    assert!(
        err.contains("mot de passe lu sur l'entrée standard refusé : Le mot de passe doit avoir au moins 10 caractères."),
        "{err}"
    );
}

/// With no terminal and nothing on standard input, `admin create` says what to do instead of
/// complaining about an empty password.
#[test]
fn admin_create_without_a_terminal_or_a_password_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let output = command(dir.path())
        .args(["admin", "create", "--identifiant", "lea", "--nom", "Léa"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains(
            "aucun mot de passe : l'entrée standard n'est pas un terminal et elle est vide."
        ),
        "{err}"
    );
    let (_, out, _) = cli(dir.path(), &["admin", "list"]);
    assert!(!out.contains("lea"), "{out}");
}

/// At a terminal, a short or mistyped password is asked again, and the confirmation says so.
#[tokio::test]
async fn admin_create_at_a_terminal_asks_again_until_the_password_is_right() {
    let dir = tempfile::tempdir().unwrap();
    let command = format!(
        "POSTE_SERVER_DATA_DIR={} {BIN} admin create --identifiant lea --nom Léa; echo \"exited: $?\"; /bin/sleep 30",
        dir.path().display()
    );
    let Some(terminal) = poste_testkit::terminal::Terminal::start(&command) else {
        return;
    };
    let wait = Duration::from_secs(10);
    terminal.wait_for("Mot de passe :", wait).await;
    terminal.type_line("court");
    terminal
        .wait_for("au moins 10 caractères. Recommencez.", wait)
        .await;
    terminal.type_line("un mot de passe sûr");
    terminal.wait_for("Confirmez le mot de passe :", wait).await;
    terminal.type_line("un autre mot de passe");
    terminal
        .wait_for(
            "Les deux mots de passe ne sont pas identiques. Recommencez.",
            wait,
        )
        .await;
    terminal.type_line("un mot de passe sûr");
    terminal.wait_for("Confirmez le mot de passe :", wait).await;
    terminal.type_line("un mot de passe sûr");
    let screen = terminal.wait_for("exited: ", wait).await;
    assert!(screen.contains("Compte « lea » créé."), "{screen}");
    assert!(screen.contains("exited: 0"), "{screen}");
}
