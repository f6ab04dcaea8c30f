//! The `poste-kiosk` program itself: its command line, and what it does with no service.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

const KIOSK: &str = env!("CARGO_BIN_EXE_poste-kiosk");

#[test]
fn the_help_is_in_french() {
    let output = Command::new(KIOSK).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("Écran du visiteur"), "{help}");
    assert!(help.contains("--socket"), "{help}");
}

#[test]
fn without_a_session_id_it_refuses_to_start() {
    // No XDG_SESSION_ID: it says so and ends before opening any window.
    let output = Command::new(KIOSK)
        .args(["--socket", "/nonexistent/helper.sock"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Session inconnue"), "{stderr}");
}
