//! `poste-client install --gate`: the gate before login (docs/decisions/0007) on a Debian
//! workstation. greetd runs the visitor's gate as its greeter; the public account (locked
//! password, admitted by greetd's PAM service only) gets its desktop once a session is paid,
//! and its home is made equal to a template after each visitor. The ways around the gate that
//! the booted guest showed (other consoles, VT switching, zapping the X server, SysRq, greetd's
//! start limit) are closed. Every file is written whole and idempotently; the files of greetd
//! that were there before are kept beside ours and put back by `uninstall`, and so is the
//! display manager that was enabled.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::greeter::GreeterConfig;

use super::{target, write};

const GREETD_CONFIG: &str = "etc/greetd/config.toml";
const GREETD_PAM: &str = "etc/pam.d/greetd";
/// greetd's greeter command: the gate under its own X server.
const GATE: &str = "usr/lib/poste-client/gate";
const XSESSION: &str = "etc/X11/Xsession.d/95poste-client";
const LOGIND: &str = "etc/systemd/logind.conf.d/poste-public.conf";
const XORG: &str = "etc/X11/xorg.conf.d/90-poste-public.conf";
const SYSCTL: &str = "etc/sysctl.d/90-poste-public.conf";
const GREETD_DROP_IN: &str = "etc/systemd/system/greetd.service.d/poste-restart.conf";
const TMPFILES: &str = "etc/tmpfiles.d/poste-gate.conf";
/// The service may write the public account's home (the restore), and nothing else there.
const SERVICE_HOME: &str = "etc/systemd/system/poste-client.service.d/poste-home.conf";
/// The display manager enabled before ours, put back by `uninstall`.
const PREVIOUS_MANAGER: &str = "var/lib/poste-client/gestionnaire-avant-poste-client";
/// Added to the name of a file of greetd's that ours replaced.
const SAVED_SUFFIX: &str = "avant-poste-client";
/// In every file this module writes: how `uninstall` tells ours from an administrator's.
const MARK: &str = "poste-client install --gate";

/// The files: where, what (`@ACCOUNT@` stands for the public account, `@HOME@` for its home),
/// with which mode.
const FILES: &[(&str, &str, u32)] = &[
    (
        GREETD_CONFIG,
        include_str!("../../../../deploy/gate/greetd.toml"),
        0o644,
    ),
    (
        GREETD_PAM,
        include_str!("../../../../deploy/gate/pam-greetd"),
        0o644,
    ),
    (GATE, include_str!("../../../../deploy/gate/gate"), 0o755),
    (
        XSESSION,
        include_str!("../../../../deploy/gate/xsession"),
        0o644,
    ),
    (
        LOGIND,
        include_str!("../../../../deploy/gate/logind.conf"),
        0o644,
    ),
    (
        XORG,
        include_str!("../../../../deploy/gate/xorg.conf"),
        0o644,
    ),
    (
        SYSCTL,
        include_str!("../../../../deploy/gate/sysctl.conf"),
        0o644,
    ),
    (
        GREETD_DROP_IN,
        include_str!("../../../../deploy/gate/greetd-restart.conf"),
        0o644,
    ),
    (
        TMPFILES,
        include_str!("../../../../deploy/gate/tmpfiles.conf"),
        0o644,
    ),
    (
        SERVICE_HOME,
        include_str!("../../../../deploy/gate/service-home.conf"),
        0o644,
    ),
];

/// The files, with the account's name and home put in.
fn files<'a>(
    account: &'a str,
    home: &'a str,
) -> impl Iterator<Item = (&'static str, String, u32)> + 'a {
    FILES.iter().map(move |(path, text, mode)| {
        let text = text.replace("@ACCOUNT@", account).replace("@HOME@", home);
        (*path, text, *mode)
    })
}

/// The account's home: the user database's, or where `useradd --create-home` will make it.
pub fn home_of(account: &str) -> String {
    run("getent", &["passwd", account])
        .ok()
        .and_then(|entry| entry.split(':').nth(5).map(str::to_owned))
        .filter(|home| home.starts_with('/'))
        .unwrap_or_else(|| format!("/home/{account}"))
}

/// greetd's own files, which ours replace (and `uninstall` puts back).
const REPLACED: &[&str] = &[GREETD_CONFIG, GREETD_PAM];

/// What the gate needs on the workstation, each with the Debian package that brings it.
const NEEDED: &[(&str, &str)] = &[
    ("usr/sbin/greetd", "greetd"),
    ("usr/bin/xinit", "xinit"),
    ("usr/lib/xorg/Xorg", "xserver-xorg"),
    ("usr/bin/startx", "xinit"),
    ("usr/bin/systemd-cat", "systemd"),
];

/// Why the gate could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error(
        "le portail avant connexion demande des paquets absents de ce poste : \
         apt-get install {packages} (manque : {missing})"
    )]
    Missing { packages: String, missing: String },
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("{command} : {detail}")]
    Command { command: String, detail: String },
    #[error("{path} : {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> GateError + '_ {
    move |source| GateError::File {
        path: path.display().to_string(),
        source,
    }
}

/// Checks what the gate needs under `root`: greetd, Xorg, xinit, and the session to open.
pub fn check(root: &Path, gate: &GreeterConfig) -> Result<(), GateError> {
    let mut missing = Vec::new();
    let mut packages: Vec<&str> = Vec::new();
    for (path, package) in NEEDED {
        if !target(root, path).exists() {
            missing.push(format!("/{path}"));
            if !packages.contains(package) {
                packages.push(package);
            }
        }
    }
    if !missing.is_empty() {
        return Err(GateError::Missing {
            packages: packages.join(" "),
            missing: missing.join(", "),
        });
    }
    gate.handover()?;
    Ok(())
}

/// Lays out the gate's files under `root`; greetd's own are kept beside them the first time.
/// Says whether a file was written (not one held exactly that already).
pub fn write_files(root: &Path, account: &str, home: &str) -> Result<bool, GateError> {
    for replaced in REPLACED {
        let path = target(root, replaced);
        let saved = saved(&path);
        match std::fs::read_to_string(&path) {
            Ok(text) if !text.contains(MARK) && !saved.exists() => {
                std::fs::copy(&path, &saved).map_err(file_error(&saved))?;
            }
            _ => {}
        }
    }
    let mut changed = false;
    for (relative, text, mode) in files(account, home) {
        let path = target(root, relative);
        changed |= write(&path, text.as_bytes(), mode).map_err(|err| GateError::File {
            path: path.display().to_string(),
            source: std::io::Error::other(err.to_string()),
        })?;
    }
    Ok(changed)
}

fn saved(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(SAVED_SUFFIX);
    PathBuf::from(name)
}

/// Removes the gate's files under `root` and puts greetd's back. Files an administrator
/// rewrote since (without our mark) are left alone.
pub fn remove_files(root: &Path) -> Result<(), GateError> {
    for (relative, _, _) in FILES {
        let path = target(root, relative);
        let ours = std::fs::read_to_string(&path).is_ok_and(|text| text.contains(MARK));
        if ours {
            std::fs::remove_file(&path).map_err(file_error(&path))?;
        }
        let saved = saved(&path);
        if saved.exists() && !path.exists() {
            std::fs::rename(&saved, &path).map_err(file_error(&path))?;
        }
    }
    Ok(())
}

/// The configuration with the gate on for `gate`'s account and session, and the account's
/// home made equal to the template after each visitor. Comments and other keys are kept.
pub fn config_with_gate(text: &str, gate: &GreeterConfig) -> Result<String, GateError> {
    let mut document: toml_edit::DocumentMut = text.parse().map_err(|err| {
        GateError::Config(crate::config::ConfigError::Invalid(format!(
            "configuration illisible : {err}"
        )))
    })?;
    let table = |document: &mut toml_edit::DocumentMut, name: &str| {
        if !document.contains_table(name) {
            document[name] = toml_edit::table();
        }
    };
    // The visitor's session is ended, not locked: a lock before it costs the end a slow
    // machine's second, and no locker listens in the visitor's desktop.
    document["lock_on_expire"] = toml_edit::value(false);
    table(&mut document, "greeter");
    document["greeter"]["enabled"] = toml_edit::value(true);
    document["greeter"]["account"] = toml_edit::value(gate.account.as_str());
    document["greeter"]["session"] = toml_edit::value(gate.session.as_str());
    table(&mut document, "reset");
    document["reset"]["enabled"] = toml_edit::value(true);
    document["reset"]["user"] = toml_edit::value(gate.account.as_str());
    Ok(document.to_string())
}

fn run(program: &str, args: &[&str]) -> Result<String, GateError> {
    let command = format!("{program} {}", args.join(" "));
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|err| GateError::Command {
            command: command.clone(),
            detail: err.to_string(),
        })?;
    if !output.status.success() {
        return Err(GateError::Command {
            command,
            detail: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// What `systemctl is-enabled` says of each unit (`enabled`, `masked`, …; it exits non-zero
/// for most of them, so its output is read whatever its status).
fn unit_states(units: &[&str]) -> Vec<String> {
    Command::new("systemctl")
        .arg("is-enabled")
        .args(units)
        .output()
        .map(|output| {
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .map(|line| line.trim().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The running system's part, after the files: the account, its home template, greetd as the
/// display manager instead of the one before, no gettys, the settings loaded. Says whether
/// anything was not so already.
pub fn set_up_system(
    root: &Path,
    gate: &GreeterConfig,
    template: &Path,
) -> Result<bool, GateError> {
    let account = gate.account.as_str();
    let mut changed = false;
    if run("id", &["-u", account]).is_err() {
        changed = true;
        run(
            "useradd",
            &[
                "--create-home",
                "--comment",
                "Visiteur (Postes Publics)",
                "--shell",
                "/bin/bash",
                account,
            ],
        )?;
    }
    // No password opens it: only greetd's PAM service admits it.
    let locked = run("passwd", &["--status", account])
        .is_ok_and(|status| status.split_whitespace().nth(1) == Some("L"));
    if !locked {
        changed = true;
        run("passwd", &["--lock", account])?;
    }
    if !template.exists() {
        changed = true;
        let home = home_of(account);
        std::fs::create_dir_all(template).map_err(file_error(template))?;
        run(
            "cp",
            &[
                "-a",
                "--no-preserve=ownership",
                &format!("{home}/."),
                &template.to_string_lossy(),
            ],
        )?;
    }
    let manager_link = target(root, "etc/systemd/system/display-manager.service");
    let previous = std::fs::read_link(&manager_link)
        .ok()
        .and_then(|link| link.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|name| name != "greetd.service");
    if let Some(previous) = &previous {
        let record = target(root, PREVIOUS_MANAGER);
        write(&record, format!("{previous}\n").as_bytes(), 0o644).map_err(|err| {
            GateError::File {
                path: record.display().to_string(),
                source: std::io::Error::other(err.to_string()),
            }
        })?;
        run("systemctl", &["disable", previous])?;
        changed = true;
    }
    let gettys = ["getty@.service", "autovt@.service"];
    changed |= unit_states(&["greetd.service"]) != ["enabled"]
        || unit_states(&gettys) != ["masked", "masked"];
    run("systemctl", &["daemon-reload"])?;
    run("systemctl", &["enable", "greetd.service"])?;
    run("systemctl", &["mask", gettys[0], gettys[1]])?;
    run("systemd-tmpfiles", &["--create", &format!("/{TMPFILES}")])?;
    run("sysctl", &["--load", &format!("/{SYSCTL}")])?;
    Ok(changed)
}

/// Undoes [`set_up_system`] (the account and its template are kept: they may hold what the
/// site put there).
pub fn tear_down_system(root: &Path) {
    let _ = run(
        "systemctl",
        &["unmask", "getty@.service", "autovt@.service"],
    );
    let record = target(root, PREVIOUS_MANAGER);
    if let Ok(previous) = std::fs::read_to_string(&record) {
        let previous = previous.trim();
        let _ = run("systemctl", &["disable", "greetd.service"]);
        let _ = run("systemctl", &["enable", previous]);
        let _ = std::fs::remove_file(&record);
    }
    let _ = run("systemctl", &["daemon-reload"]);
}

/// Whether the gate is installed under `root` (greetd's configuration is ours).
pub fn installed(root: &Path) -> bool {
    std::fs::read_to_string(target(root, GREETD_CONFIG)).is_ok_and(|text| text.contains(MARK))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate() -> GreeterConfig {
        GreeterConfig {
            enabled: true,
            account: "public".into(),
            session: "xfce".into(),
            ..GreeterConfig::default()
        }
    }

    #[test]
    fn every_file_carries_the_mark_and_the_account_is_put_in() {
        for (path, text, _) in files("public", "/home/public") {
            assert!(text.contains(MARK), "{path} has no mark");
            assert!(
                !text.contains("@ACCOUNT@") && !text.contains("@HOME@"),
                "{path}"
            );
        }
        let pam = files("public", "/home/public")
            .find(|(path, _, _)| *path == GREETD_PAM)
            .map(|(_, text, _)| text)
            .unwrap_or_default();
        assert_eq!(pam.matches("user = public").count(), 2, "{pam}");
    }

    #[test]
    fn greetd_files_are_kept_then_put_back_and_an_administrators_edit_is_left_alone() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = dir.path();
        let config = target(root, GREETD_CONFIG);
        let pam = target(root, GREETD_PAM);
        let original = "[default_session]\ncommand = \"agreety --cmd /bin/sh\"\n";
        for path in [&config, &pam] {
            std::fs::create_dir_all(path.parent().unwrap_or(root)).unwrap_or_default();
            std::fs::write(path, original).unwrap_or_default();
        }
        assert!(matches!(
            write_files(root, "public", "/home/public"),
            Ok(true)
        ));
        // Twice: nothing to write, and the saved originals are not overwritten by ours.
        assert!(matches!(
            write_files(root, "public", "/home/public"),
            Ok(false)
        ));
        assert!(installed(root));
        assert_eq!(
            std::fs::read_to_string(saved(&config)).unwrap_or_default(),
            original
        );
        let gate_script = target(root, GATE);
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&gate_script)
                .map(|m| m.permissions().mode())
                .unwrap_or(0);
            assert_eq!(mode & 0o777, 0o755);
        }
        // The administrator rewrote the sysctl file: it stays.
        std::fs::write(target(root, SYSCTL), "kernel.sysrq = 16\n").unwrap_or_default();
        assert!(remove_files(root).is_ok());
        assert!(!installed(root));
        for path in [&config, &pam] {
            assert_eq!(std::fs::read_to_string(path).unwrap_or_default(), original);
            assert!(!saved(path).exists());
        }
        assert!(!gate_script.exists());
        assert!(target(root, SYSCTL).exists());
    }

    #[test]
    fn the_configuration_gets_the_gate_and_the_reset_and_keeps_the_rest() {
        let example = include_str!("../../../../deploy/examples/client.toml");
        let text = super::super::config_with_server(Some(example), "http://10.0.0.7:8001");
        let with_gate = config_with_gate(&text, &gate()).unwrap_or_default();
        let config: crate::config::AgentConfig =
            toml::from_str(&with_gate).unwrap_or_else(|err| panic!("{err}\n{with_gate}"));
        assert!(config.greeter.enabled);
        assert_eq!(config.greeter.account, "public");
        assert_eq!(config.greeter.session, "xfce");
        assert!(config.reset.enabled);
        assert_eq!(config.reset.user.as_deref(), Some("public"));
        assert_eq!(config.server_url, "http://10.0.0.7:8001");
        // The example's comments stay.
        assert!(with_gate.contains("# Between two visitors"));
        // Again on its own output: the same.
        assert_eq!(
            config_with_gate(&with_gate, &gate()).unwrap_or_default(),
            with_gate
        );
    }

    #[test]
    fn what_is_missing_is_named_with_its_package() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let err = check(dir.path(), &gate()).map(|()| String::new());
        let message = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("apt-get install greetd xinit xserver-xorg systemd"),
            "{message}"
        );
        assert!(message.contains("/usr/sbin/greetd"), "{message}");
    }
}
