//! `--interactive`, driven as a person would: the agent runs in a real pseudo-terminal (tmux),
//! the test types at the prompt and reads the screen.

use std::time::Duration;

use poste_testkit::TestServer;
use poste_testkit::terminal::Terminal;
use serde_json::json;

use crate::{AGENT, FakeDesktop};

#[tokio::test]
async fn the_interactive_mode_works_at_a_real_terminal() {
    let server = TestServer::start().await;
    let (_, code) = server
        .create_session(json!({"utilisateur": "Awa", "duree": "4s"}))
        .await;
    let desktop = FakeDesktop::new(&["loginctl", "notify-send"]);
    // A clean environment, as under a display manager: only the fake desktop on PATH.
    let command = format!(
        "/usr/bin/env -i PATH={} USER=visiteur-test HOME={} TERM=xterm LOG_LEVEL=error {AGENT} --interactive --server {}; echo \"agent exited: $?\"; /bin/sleep 30",
        desktop.bin().display(),
        desktop.dir.path().display(),
        server.http_url("")
    );
    let Some(terminal) = Terminal::start(&command) else {
        return;
    };

    terminal
        .wait_for("Code d'accès :", Duration::from_secs(10))
        .await;
    terminal.type_line("ZZZ ZZZ");
    let screen = terminal
        .wait_for("Code inconnu", Duration::from_secs(5))
        .await;
    assert!(
        screen.matches("Code d'accès :").count() >= 2,
        "asked again:\n{screen}"
    );

    terminal.type_line(&format!("  {}  ", code.to_lowercase()));
    terminal
        .wait_for("Bienvenue Awa", Duration::from_secs(5))
        .await;
    let screen = terminal
        .wait_for("Temps restant : 00:00:0", Duration::from_secs(3))
        .await;
    assert!(screen.contains("connecté"), "{screen}");
    terminal.wait_for("Au revoir", Duration::from_secs(8)).await;
    let calls = desktop.calls();
    assert!(
        calls
            .iter()
            .any(|(_, call)| call.starts_with("loginctl lock-session")),
        "{calls:?}"
    );

    // Back at the prompt for the next visitor; end of input (Ctrl-D) quits.
    let screen = terminal.screen();
    assert!(screen.trim_end().ends_with("Code d'accès :"), "{screen}");
    terminal.send_key("C-d");
    terminal
        .wait_for("agent exited: 0", Duration::from_secs(5))
        .await;
}
