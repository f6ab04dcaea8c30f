//! `poste-client install` / `uninstall`, staged under a temporary root (`--root`): as a
//! package build or Ansible would run them (unattended, no questions), and as a person at a
//! terminal would (asked for the server's address).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::AGENT;
use crate::interactive::Terminal;

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(AGENT)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn deploy(file: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../deploy")
            .join(file),
    )
    .unwrap()
}

#[test]
fn install_unattended_then_uninstall() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();

    // No server and no question allowed: a clear error, nothing written.
    let (code, _, err) = run(&["install", "--yes", "--root", root]);
    assert_eq!(code, Some(1));
    assert!(err.contains("Indiquez l'adresse du serveur"), "{err}");
    // An address the agent could not use: refused before touching anything.
    let (code, _, err) = run(&["install", "--server", "ftp://x", "--yes", "--root", root]);
    assert_eq!(code, Some(1), "{err}");
    assert!(!dir.path().join("usr/bin/poste-client").exists());

    let (code, out, err) = run(&[
        "install",
        "--server",
        "http://192.168.1.10:8001",
        "--yes",
        "--root",
        root,
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    let binary = dir.path().join("usr/bin/poste-client");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&binary).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o755);
    }
    assert_eq!(
        std::fs::metadata(&binary).unwrap().len(),
        std::fs::metadata(AGENT).unwrap().len()
    );
    let config = dir.path().join("etc/poste-client/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains("server_url = \"http://192.168.1.10:8001\""),
        "{text}"
    );
    // The installed binary reads the installed configuration (an unknown key would fail).
    let (code, _, err) = run(&[
        "--config",
        config.to_str().unwrap(),
        "--enroll",
        "X",
        "--server",
        "not a url",
    ]);
    assert_eq!(code, Some(1));
    assert!(err.contains("invalide"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("etc/systemd/system/poste-client.service"))
            .unwrap(),
        deploy("systemd/poste-client.service")
    );
    assert_eq!(
        std::fs::read_to_string(
            dir.path()
                .join("usr/lib/systemd/user/poste-client-helper.service")
        )
        .unwrap(),
        deploy("systemd/poste-client-helper.service")
    );

    // Installing again without --server keeps the configuration (an admin's edits survive).
    std::fs::write(
        &config,
        // At the top: after a `[section]` the key would belong to that table.
        format!(
            "log_level = \"debug\"\n{}",
            text.replace("log_level = \"info\"\n", "")
        ),
    )
    .unwrap();
    let (code, _, err) = run(&["install", "--yes", "--root", root]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .contains("log_level = \"debug\"")
    );

    // Uninstall keeps configuration and secret; --purge removes them.
    let (code, _, _) = run(&["uninstall", "--root", root]);
    assert_eq!(code, Some(0));
    assert!(!binary.exists());
    assert!(
        !dir.path()
            .join("etc/systemd/system/poste-client.service")
            .exists()
    );
    assert!(config.exists());
    let (code, _, _) = run(&["uninstall", "--purge", "--root", root]);
    assert_eq!(code, Some(0));
    assert!(!config.exists());
}

/// `install --root ROOT` in a real terminal (tmux): waits for its question, types `answer`,
/// and returns the screen once it exited with `status`. `None` when tmux is missing (see
/// `Terminal::start`).
async fn install_answering(root: &str, answer: &str, status: i32) -> Option<String> {
    let command = format!(
        "/usr/bin/env -i PATH=/usr/bin:/bin TERM=xterm {AGENT} install --root {root}; echo \"install exited: $?\"; /bin/sleep 30"
    );
    let terminal = Terminal::start(&command)?;
    terminal
        .wait_for("Adresse du serveur (par ex.", Duration::from_secs(10))
        .await;
    terminal.type_line(answer);
    Some(
        terminal
            .wait_for(
                &format!("install exited: {status}"),
                Duration::from_secs(10),
            )
            .await,
    )
}

/// `install` without `--server` at a real terminal: it asks for the server's address and
/// writes what was typed; an empty answer keeps the configuration already there; an unusable
/// address is refused.
#[tokio::test]
async fn install_asks_for_the_server_at_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    let config = dir.path().join("etc/poste-client/config.toml");

    let Some(screen) = install_answering(root, "  http://10.0.0.7:8001  ", 0).await else {
        return;
    };
    assert!(screen.contains("poste-client installé sous"), "{screen}");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains("server_url = \"http://10.0.0.7:8001\""),
        "{text}"
    );
    assert!(dir.path().join("usr/bin/poste-client").exists());

    // Asked again; Enter alone keeps the configured address.
    install_answering(root, "", 0).await.unwrap();
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text);

    // An address the agent cannot use is refused, and the configuration is left alone.
    let screen = install_answering(root, "ftp://10.0.0.7", 1).await.unwrap();
    assert!(screen.contains("Erreur"), "{screen}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
}
