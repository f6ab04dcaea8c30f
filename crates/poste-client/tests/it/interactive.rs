//! `--interactive`, driven as a person would: the agent runs in a real pseudo-terminal (tmux),
//! the test types at the prompt and reads the screen.

use std::process::Command;
use std::time::{Duration, Instant};

use poste_testkit::TestServer;
use serde_json::json;

use crate::{AGENT, FakeDesktop};

/// A tmux session on a private server socket, killed when dropped.
pub(crate) struct Terminal {
    socket: String,
}

impl Terminal {
    pub(crate) fn start(command: &str) -> Option<Terminal> {
        if Command::new("tmux").arg("-V").output().is_err() {
            assert!(std::env::var_os("CI").is_none(), "tmux is required in CI");
            eprintln!("SKIPPED: tmux not installed");
            return None;
        }
        let socket = format!(
            "poste-test-{}-{}",
            std::process::id(),
            poste_server::domain::codes::generate_code(6)
        );
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "new-session",
                "-d",
                "-x",
                "120",
                "-y",
                "30",
                command,
            ])
            .status()
            .unwrap();
        assert!(status.success());
        Some(Terminal { socket })
    }

    pub(crate) fn type_line(&self, text: &str) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "0", "-l", text])
            .status()
            .unwrap();
        assert!(status.success());
        Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "0", "Enter"])
            .status()
            .unwrap();
    }

    pub(crate) fn send_key(&self, key: &str) {
        Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "0", key])
            .status()
            .unwrap();
    }

    pub(crate) fn screen(&self) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "0"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Waits until the screen shows `text`; returns the screen.
    pub(crate) async fn wait_for(&self, text: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "`{text}` not shown within {within:?}; screen:\n{screen}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

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
