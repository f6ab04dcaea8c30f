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

/// The terminal during a session, as a visitor meets it (issue #17, item 9): what they type
/// stays on its own line under the countdown, which goes on above it; the agent's log lines go
/// above both, never into the prompt; time added by staff is announced; « fin » asks first.
#[tokio::test]
async fn at_a_terminal_typing_logs_and_the_countdown_keep_apart_and_staff_time_is_announced() {
    let server = TestServer::start().await;
    let (id, code) = server
        .create_session(json!({"utilisateur": "Awa", "duree": "60s"}))
        .await;
    let desktop = FakeDesktop::new(&["loginctl", "notify-send"]);
    let command = format!(
        "/usr/bin/env -i PATH={} USER=visiteur-test HOME={} TERM=xterm LOG_LEVEL=info {AGENT} --interactive --server {}; echo \"agent exited: $?\"; /bin/sleep 30",
        desktop.bin().display(),
        desktop.dir.path().display(),
        server.http_url("")
    );
    let Some(terminal) = Terminal::start(&command) else {
        return;
    };
    // The link's log lines came above the prompt, which is drawn again under them.
    let screen = terminal
        .wait_for("server greeted us", Duration::from_secs(10))
        .await;
    let lines_mixing = |screen: &str, live: &str| {
        screen
            .lines()
            .filter(|line| line.contains(live) && line.contains("INFO"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert!(lines_mixing(&screen, "Code d'accès").is_empty(), "{screen}");
    assert!(screen.trim_end().ends_with("Code d'accès :"), "{screen}");

    terminal.type_line(&code);
    terminal
        .wait_for("Temps restant", Duration::from_secs(5))
        .await;
    // Half a word typed: it stays on the visitor's line while the countdown ticks above.
    terminal.send_key("p");
    terminal.send_key("l");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let screen = terminal.screen();
    let countdown = screen
        .lines()
        .find(|line| line.contains("Temps restant"))
        .unwrap_or_default();
    assert!(!countdown.contains("pl"), "{screen}");
    assert!(
        screen
            .trim_end()
            .ends_with("Votre demande (« plus » ou « fin ») : pl"),
        "{screen}"
    );
    assert!(
        lines_mixing(&screen, "Temps restant").is_empty(),
        "{screen}"
    );
    terminal.send_key("BSpace");
    terminal.send_key("BSpace");

    // Staff add 15 minutes: the visitor is told.
    server
        .api()
        .post_ok(
            &format!("/sessions/{id}/add-time"),
            json!({"duree": "15min"}),
        )
        .await;
    terminal
        .wait_for(
            "Du temps a été ajouté à votre session : +15 min.",
            Duration::from_secs(5),
        )
        .await;

    // « fin » asks first; anything but « oui » goes on.
    terminal.type_line("fin");
    terminal
        .wait_for(
            "Terminer votre session maintenant ?",
            Duration::from_secs(5),
        )
        .await;
    terminal.type_line("non");
    terminal
        .wait_for("Votre session continue.", Duration::from_secs(5))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let row = server.store.session(id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "active");
    terminal.type_line("fin");
    terminal.type_line("oui");
    let within = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let row = server.store.session(id).await.unwrap().unwrap();
        if row.status.as_str() == "terminee" {
            break;
        }
        assert!(
            std::time::Instant::now() < within,
            "not ended: {}\n{}",
            row.status.as_str(),
            terminal.screen()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let screen = terminal
        .wait_for("Au revoir", Duration::from_secs(10))
        .await;
    // The session's live lines went with it: the next visitor's prompt is the last line.
    let screen = if screen.trim_end().ends_with("Code d'accès :") {
        screen
    } else {
        tokio::time::sleep(Duration::from_millis(500)).await;
        terminal.screen()
    };
    assert!(screen.trim_end().ends_with("Code d'accès :"), "{screen}");
    assert!(
        !screen.contains("Votre demande (« plus » ou « fin ») : \n"),
        "{screen}"
    );
}
