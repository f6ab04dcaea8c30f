//! End-to-end: the real `poste-client` binary against the real `poste-server`, with a session
//! of a few seconds. The desktop commands are real executables placed on the agent's PATH that
//! record their invocation, so the test sees what would have run, in which order and when.

// Tests measure real time: the server's clock fence (clippy.toml) is not for them.
#![allow(clippy::disallowed_methods)]
// Linux only: the binaries, fake desktop programs and terminals here are Unix ones; the Windows
// code is tested by the library's unit tests, under wine (scripts/windows-check).
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod e2e;
mod install;
mod kiosk;
mod split;
mod tls;

#[test]
fn the_systemd_units_pass_systemd_analyze_verify() {
    poste_testkit::verify_systemd_unit("poste-client.service", "poste-client", AGENT, false)
        .unwrap();
    poste_testkit::verify_systemd_unit("poste-client-helper.service", "poste-client", AGENT, true)
        .unwrap();
}
mod interactive;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The agent binary under test.
pub const AGENT: &str = env!("CARGO_BIN_EXE_poste-client");

/// A directory of fake desktop programs that log `<unix seconds.nanos> <program> <args…>`.
/// PATH holds only this directory, so no real `loginctl` can ever be reached from a test.
#[derive(Debug)]
pub struct FakeDesktop {
    pub dir: tempfile::TempDir,
    pub log: PathBuf,
}

impl FakeDesktop {
    pub fn new(programs: &[&str]) -> FakeDesktop {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let log = dir.path().join("calls.log");
        for program in programs {
            // `loginctl show-session ID …` answers the session's type and owner (FAKE_SESSION_TYPE,
            // FAKE_SESSION_UID), as logind would; every call is recorded.
            let script = format!(
                "#!/bin/sh\nif [ \"$1\" = show-session ]; then echo \"Type=${{FAKE_SESSION_TYPE:-x11}}\"; echo \"User=${{FAKE_SESSION_UID:-0}}\"; fi\nprintf '%s %s' \"$(/bin/date +%s.%N)\" \"$(/usr/bin/basename \"$0\")\" >> '{log}'\nfor arg in \"$@\"; do printf ' %s' \"$arg\" >> '{log}'; done\nprintf '\\n' >> '{log}'\nexit 0\n",
                log = log.display()
            );
            let path = bin.join(program);
            std::fs::write(&path, script).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        FakeDesktop { dir, log }
    }

    pub fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    /// The recorded calls: (unix time in seconds, "program args…").
    pub fn calls(&self) -> Vec<(f64, String)> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| {
                let (at, call) = line.split_once(' ')?;
                Some((at.parse().ok()?, call.to_owned()))
            })
            .collect()
    }
}

/// The agent as a process, with the fake desktop and no configuration file of the machine.
pub fn agent(desktop: &FakeDesktop, server: &str, args: &[&str]) -> Command {
    let mut command = Command::new(AGENT);
    command
        .args(["--server", server])
        .args(args)
        .env_clear()
        .env("PATH", desktop.bin())
        .env("USER", "visiteur-test")
        .env("HOME", desktop.dir.path())
        .env("LOG_LEVEL", "info")
        .env("XDG_SESSION_ID", "c42")
        .env("POSTE_SECRET_FILE", desktop.dir.path().join("state/secret"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Waits for the child to exit, at most `within`; kills it otherwise.
pub fn wait_exit(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

pub fn output_of(child: Child) -> (String, String) {
    let output = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
