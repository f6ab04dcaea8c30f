//! `poste-client install` / `uninstall`, staged under a temporary root (`--root`): as a
//! package build or Ansible would run them (unattended, no questions), and as a person at a
//! terminal would (asked for the server's address).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::AGENT;
use poste_testkit::terminal::Terminal;

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

/// The installed agent reads `config` (an unknown key would fail before the flag is judged).
fn assert_the_agent_reads(config: &Path) {
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
    assert_the_agent_reads(&config);
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

/// `install --gate`, staged: greetd's configuration and PAM service for the public account,
/// the greeter command, the helper's start in the visitor's X session, the lock-down, and the
/// configuration with the gate and the home reset on; `uninstall` puts greetd's files back.
#[test]
fn install_with_the_gate_stages_greetd_the_account_and_the_lock_down() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    let file = |relative: &str| dir.path().join(relative);
    let server = [
        "--server",
        "http://192.168.1.10:8001",
        "--yes",
        "--root",
        root,
    ];

    // A name useradd would refuse, and options that mean nothing without --gate: refused.
    let (code, _, err) = run(&[
        &["install", "--gate", "--account", "Jean Dupont"],
        &server[..],
    ]
    .concat());
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("n'est pas un nom de compte"), "{err}");
    let (code, _, err) = run(&[&["install", "--account", "public"], &server[..]].concat());
    assert_eq!(code, Some(2), "{err}");
    assert!(!file("usr/bin/poste-client").exists());

    // greetd's own configuration, as Debian ships it, is kept aside.
    let debian_greetd = "[terminal]\nvt = 7\n[default_session]\ncommand = \"agreety --cmd /bin/sh\"\nuser = \"_greetd\"\n";
    std::fs::create_dir_all(file("etc/greetd")).unwrap();
    std::fs::write(file("etc/greetd/config.toml"), debian_greetd).unwrap();

    let (code, out, err) =
        run(&[&["install", "--gate", "--account", "public"], &server[..]].concat());
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(!out.contains("Rien à changer"), "{out}");
    let greetd = std::fs::read_to_string(file("etc/greetd/config.toml")).unwrap();
    assert!(
        greetd.contains("command = \"/usr/lib/poste-client/gate\""),
        "{greetd}"
    );
    assert!(greetd.contains("user = \"_greetd\""), "{greetd}");
    let pam = std::fs::read_to_string(file("etc/pam.d/greetd")).unwrap();
    assert!(pam.contains("pam_succeed_if.so user = public"), "{pam}");
    assert!(!pam.contains("@ACCOUNT@"));
    let xsession = std::fs::read_to_string(file("etc/X11/Xsession.d/95poste-client")).unwrap();
    assert!(xsession.contains("= \"public\""), "{xsession}");
    for (path, wanted) in [
        ("etc/systemd/logind.conf.d/poste-public.conf", "NAutoVTs=0"),
        ("etc/X11/xorg.conf.d/90-poste-public.conf", "DontVTSwitch"),
        ("etc/sysctl.d/90-poste-public.conf", "kernel.sysrq = 0"),
        (
            "etc/systemd/system/greetd.service.d/poste-restart.conf",
            "StartLimitIntervalSec=0",
        ),
        ("etc/tmpfiles.d/poste-gate.conf", "/var/log/poste-gate"),
        (
            "usr/lib/poste-client/gate",
            "xinit /usr/bin/poste-client helper --ui kiosk",
        ),
        (
            "etc/systemd/system/poste-client.service.d/poste-home.conf",
            "ReadWritePaths=/home/public /tmp /var/tmp -/dev/shm\nPrivateTmp=no",
        ),
    ] {
        let text = std::fs::read_to_string(file(path)).unwrap();
        assert!(text.contains(wanted), "{path}: {text}");
    }
    // Both shell files parse (dash, as Debian's /bin/sh and Xsession use).
    for script in [
        "usr/lib/poste-client/gate",
        "etc/X11/Xsession.d/95poste-client",
    ] {
        let status = Command::new("sh")
            .arg("-n")
            .arg(file(script))
            .status()
            .unwrap();
        assert!(status.success(), "{script}");
    }
    // The configuration: the gate and the reset on, for the account; the installed agent
    // reads it (an unknown key would fail).
    let config_path = file("etc/poste-client/config.toml");
    let config: toml::Value =
        toml::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    assert_eq!(
        config["greeter"]["enabled"].as_bool(),
        Some(true),
        "{config}"
    );
    assert_eq!(
        config["greeter"]["account"].as_str(),
        Some("public"),
        "{config}"
    );
    assert_eq!(config["reset"]["enabled"].as_bool(), Some(true), "{config}");
    assert_eq!(config["reset"]["user"].as_str(), Some("public"), "{config}");
    // Ended, not locked first: the lock costs the end time and nothing listens for it.
    assert_eq!(config["lock_on_expire"].as_bool(), Some(false), "{config}");
    assert_the_agent_reads(&config_path);

    // Again: idempotent, and it says so (Ansible reboots only on a change); Debian's file
    // still kept aside once.
    let (code, out, err) =
        run(&[&["install", "--gate", "--account", "public"], &server[..]].concat());
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("Rien à changer : ce poste était déjà installé ainsi."),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(file("etc/greetd/config.toml.avant-poste-client")).unwrap(),
        debian_greetd
    );

    let (code, _, err) = run(&["uninstall", "--root", root]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        std::fs::read_to_string(file("etc/greetd/config.toml")).unwrap(),
        debian_greetd
    );
    assert!(!file("etc/pam.d/greetd").exists());
    assert!(!file("usr/lib/poste-client/gate").exists());
    assert!(!file("etc/X11/Xsession.d/95poste-client").exists());
}
