//! A program in a real pseudo-terminal (tmux, on a private server socket): tests type at its
//! prompt and read its screen, as a person would.

use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux session on a private server socket, killed when dropped.
#[derive(Debug)]
pub struct Terminal {
    socket: String,
}

impl Terminal {
    pub fn start(command: &str) -> Option<Terminal> {
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

    pub fn type_line(&self, text: &str) {
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

    pub fn send_key(&self, key: &str) {
        Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "0", key])
            .status()
            .unwrap();
    }

    pub fn screen(&self) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "0"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Waits until the screen shows `text`; returns the screen.
    pub async fn wait_for(&self, text: &str, within: Duration) -> String {
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
