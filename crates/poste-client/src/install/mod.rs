//! `poste-client install` / `uninstall`: puts the agent on a workstation, unattended
//! (`--server URL --yes`, for Ansible) or asking for the server's address.
//!
//! Linux: installs the running binary as `/usr/bin/poste-client`, the configuration
//! `/etc/poste-client/config.toml` (kept if present, unless `--server` changes it), the system
//! unit and the user unit of the helper, then enables them. `--root DIR` stages everything under
//! DIR and runs no `systemctl` (packaging, tests).
//!
//! Windows: the binary as `%ProgramFiles%\Postes Publics\poste-client.exe` (a folder users
//! cannot write: a LocalSystem service must not run a file they could replace), the
//! configuration as `%ProgramData%\poste-client\config.toml`, then registers and starts the
//! Windows service (which starts the helper in each visitor's session itself). `--root DIR`
//! stages the files under `DIR\Program Files` and `DIR\ProgramData` and registers nothing.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

#[cfg(unix)]
pub mod gate;

/// The unit files, built into the binary so that the binary alone can install itself.
#[cfg(unix)]
const SERVICE_UNIT: &str = include_str!("../../../../deploy/systemd/poste-client.service");
#[cfg(unix)]
const HELPER_UNIT: &str = include_str!("../../../../deploy/systemd/poste-client-helper.service");
const CONFIG_EXAMPLE: &str = include_str!("../../../../deploy/examples/client.toml");

#[cfg(unix)]
const BINARY: &str = "usr/bin/poste-client";
/// The kiosk windows' program, copied when it sits next to the running binary (docs/agent.md).
#[cfg(unix)]
const KIOSK: &str = "usr/bin/poste-kiosk";
#[cfg(unix)]
const CONFIG: &str = "etc/poste-client/config.toml";
#[cfg(unix)]
const SERVICE: &str = "etc/systemd/system/poste-client.service";
#[cfg(unix)]
const HELPER: &str = "usr/lib/systemd/user/poste-client-helper.service";
/// Removed with `--purge`.
#[cfg(unix)]
const STATE_DIRS: &[&str] = &["etc/poste-client", "var/lib/poste-client"];

#[cfg(windows)]
const BINARY: &str = r"Program Files\Postes Publics\poste-client.exe";
#[cfg(windows)]
const KIOSK: &str = r"Program Files\Postes Publics\poste-kiosk.exe";
#[cfg(windows)]
const CONFIG: &str = r"ProgramData\poste-client\config.toml";
#[cfg(windows)]
const STATE_DIRS: &[&str] = &[r"ProgramData\poste-client"];
/// The Windows service's log (the helper, which shares the configuration, logs to its console).
#[cfg(windows)]
const WINDOWS_LOG_FILE: &str = r"C:\ProgramData\poste-client\poste-client.log";

#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// The server's address; asked for when missing and the terminal is interactive.
    pub server: Option<String>,
    /// Do not ask anything.
    pub yes: bool,
    /// Stage under this directory instead of `/`, and run no `systemctl`.
    pub root: Option<PathBuf>,
    /// The gate before login (`--gate`): greetd, the public account and the lock-down.
    pub gate: Option<crate::greeter::GreeterConfig>,
}

fn target(root: &Path, relative: &str) -> PathBuf {
    root.join(relative)
}

/// The root the layout is under: `/` on Linux; on Windows the system drive (`%SystemDrive%\`),
/// where `Program Files` and `ProgramData` are.
fn system_root() -> PathBuf {
    #[cfg(unix)]
    let root = PathBuf::from("/");
    #[cfg(windows)]
    let root = PathBuf::from(format!(
        "{}\\",
        std::env::var("SystemDrive").unwrap_or_else(|_| "C:".to_owned())
    ));
    root
}

/// The server URL: given, or asked at the terminal, or the existing configuration's.
fn server_url(options: &InstallOptions, existing: Option<&str>) -> anyhow::Result<Option<String>> {
    if let Some(url) = &options.server {
        return Ok(Some(url.trim().to_owned()));
    }
    if options.yes || !std::io::stdin().is_terminal() {
        if existing.is_none() {
            anyhow::bail!("{}", crate::text::INSTALL_NEEDS_SERVER);
        }
        return Ok(None);
    }
    print!("{}", crate::text::INSTALL_ASK_SERVER);
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let url = line.trim();
    if url.is_empty() {
        return Ok(None);
    }
    Ok(Some(url.to_owned()))
}

/// `base` with the line of `key` set to `value` (added at the top when missing).
fn with_key(base: &str, key: &str, value: &str) -> String {
    let line = format!("{key} = {value:?}");
    let mut replaced = false;
    let mut out: Vec<String> = base
        .lines()
        .map(|l| {
            let named = l
                .trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='));
            if !replaced && named {
                replaced = true;
                line.clone()
            } else {
                l.to_owned()
            }
        })
        .collect();
    if !replaced {
        out.insert(0, line);
    }
    out.join("\n") + "\n"
}

/// The configuration to write: the existing one, or the example with this system's default
/// secret file (the example's is the Linux one) and, on Windows, a log file, with `server_url`
/// set.
fn config_with_server(existing: Option<&str>, url: &str) -> String {
    let base = match existing {
        Some(text) => text.to_owned(),
        None => {
            let base = with_key(
                CONFIG_EXAMPLE,
                "secret_file",
                crate::config::DEFAULT_SECRET_FILE,
            );
            // A Windows service's standard error goes nowhere: it logs to a file.
            #[cfg(windows)]
            let base = with_key(&base, "log_file", WINDOWS_LOG_FILE);
            base
        }
    };
    with_key(&base, "server_url", url)
}

/// Writes `contents` with `mode`, unless the file holds exactly that already; says whether it
/// wrote, so that an install run again can say it changed nothing (and IT's tools, Ansible's
/// `changed_when`, need not reboot the workstation for nothing).
fn write(path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<bool> {
    if std::fs::read(path).is_ok_and(|held| held == contents) && has_mode(path, mode) {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temporary = path.with_extension("tmp-install");
    std::fs::write(&temporary, contents)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    std::fs::rename(&temporary, path)?;
    Ok(true)
}

#[cfg(unix)]
fn has_mode(path: &Path, mode: u32) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|meta| meta.permissions().mode() & 0o7777 == mode)
}

#[cfg(not(unix))]
fn has_mode(_path: &Path, _mode: u32) -> bool {
    true
}

#[cfg(unix)]
fn systemctl(args: &[&str]) -> anyhow::Result<()> {
    let status = std::process::Command::new("systemctl")
        .args(args)
        .status()?;
    if !status.success() {
        anyhow::bail!("systemctl {} : {status}", args.join(" "));
    }
    Ok(())
}

pub fn install(options: &InstallOptions) -> anyhow::Result<()> {
    let root = options.root.clone().unwrap_or_else(system_root);
    let config_path = target(&root, CONFIG);
    let existing = std::fs::read_to_string(&config_path).ok();
    let existing_url = existing.as_deref().and_then(|text| {
        toml::from_str::<crate::config::AgentConfig>(text)
            .ok()
            .map(|config| config.server_url)
    });
    let url = server_url(options, existing_url.as_deref())?;
    if let Some(url) = &url {
        // Refuse an address the agent could not use, before touching anything.
        let probe = crate::config::AgentConfig {
            server_url: url.clone(),
            ..crate::config::AgentConfig::default()
        };
        probe.ws_url()?;
    }

    #[cfg(unix)]
    if let Some(gate) = &options.gate
        && options.root.is_none()
    {
        gate::check(&root, gate)?;
    }

    let binary = std::env::current_exe()?;
    let destination = target(&root, BINARY);
    // A running service holds its binary open: stop it before replacing the file.
    #[cfg(windows)]
    if options.root.is_none() {
        crate::service::windows::stop_existing()?;
    }
    let mut changed = false;
    if binary != destination {
        changed |= write(&destination, &std::fs::read(&binary)?, 0o755)?;
    }
    // The helper becomes the kiosk windows when they are installed next to it.
    if let Some(kiosk) = crate::helper::kiosk_program() {
        let kiosk_destination = target(&root, KIOSK);
        if kiosk != kiosk_destination {
            changed |= write(&kiosk_destination, &std::fs::read(&kiosk)?, 0o755)?;
        }
    }
    let config_text = match (&url, &existing) {
        (Some(url), existing) => Some(config_with_server(existing.as_deref(), url)),
        (None, Some(_)) => None,
        (None, None) => anyhow::bail!("{}", crate::text::INSTALL_NEEDS_SERVER),
    };
    #[cfg(unix)]
    let config_text = match &options.gate {
        Some(gate) => {
            let base = config_text.or(existing).unwrap_or_default();
            Some(gate::config_with_gate(&base, gate)?)
        }
        None => config_text,
    };
    #[cfg(windows)]
    if options.gate.is_some() {
        anyhow::bail!("{}", crate::text::GATE_LINUX_ONLY);
    }
    if let Some(text) = config_text {
        changed |= write(&config_path, text.as_bytes(), 0o644)?;
    }
    #[cfg(unix)]
    {
        changed |= write(&target(&root, SERVICE), SERVICE_UNIT.as_bytes(), 0o644)?;
        changed |= write(&target(&root, HELPER), HELPER_UNIT.as_bytes(), 0o644)?;
        if let Some(gate) = &options.gate {
            let home = if options.root.is_some() {
                format!("/home/{}", gate.account)
            } else {
                gate::home_of(&gate.account)
            };
            changed |= gate::write_files(&root, &gate.account, &home)?;
        }
    }
    println!("{}", crate::text::installed(&root.display().to_string()));
    if options.root.is_none() {
        #[cfg(unix)]
        {
            if let Some(gate) = &options.gate {
                let config: crate::config::AgentConfig =
                    toml::from_str(&std::fs::read_to_string(&config_path)?)?;
                changed |= gate::set_up_system(&root, gate, &config.reset.template)?;
            }
            systemctl(&["daemon-reload"])?;
            systemctl(&["enable", "--now", "poste-client.service"])?;
            systemctl(&["--global", "enable", "poste-client-helper.service"])?;
            println!("{}", crate::text::INSTALL_STARTED);
            if options.gate.is_some() && changed {
                println!("{}", crate::text::GATE_INSTALLED);
            }
        }
        #[cfg(windows)]
        {
            crate::service::windows::register(&destination, &config_path)?;
            println!("{}", crate::text::WINDOWS_INSTALL_STARTED);
        }
    }
    if !changed {
        println!("{}", crate::text::INSTALL_UNCHANGED);
    }
    Ok(())
}

pub fn uninstall(root: Option<&Path>, purge: bool) -> anyhow::Result<()> {
    let staged = root.is_some();
    let root = root.map(Path::to_path_buf).unwrap_or_else(system_root);
    if !staged {
        // Best effort: a unit already gone is no reason to stop.
        #[cfg(unix)]
        {
            let _ = systemctl(&["disable", "--now", "poste-client.service"]);
            let _ = systemctl(&["--global", "disable", "poste-client-helper.service"]);
        }
        #[cfg(windows)]
        crate::service::windows::unregister()?;
    }
    #[cfg(unix)]
    if gate::installed(&root) {
        gate::remove_files(&root)?;
        if !staged {
            gate::tear_down_system(&root);
        }
    }
    #[cfg(unix)]
    let files = [SERVICE, HELPER, BINARY, KIOSK];
    #[cfg(windows)]
    let files = [BINARY, KIOSK];
    for relative in files {
        match std::fs::remove_file(target(&root, relative)) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err.into()),
        }
    }
    if purge {
        for dir in STATE_DIRS {
            match std::fs::remove_dir_all(target(&root, dir)) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(err.into()),
            }
        }
    }
    #[cfg(unix)]
    if !staged {
        let _ = systemctl(&["daemon-reload"]);
    }
    println!("{}", crate::text::UNINSTALLED);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This system's layout, staged (under wine on Windows: `Program Files`, `ProgramData`).
    #[test]
    fn a_staged_install_lays_out_this_systems_files_and_uninstall_removes_them() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = dir.path().to_path_buf();
        let options = InstallOptions {
            server: Some("http://10.0.0.7:8001".into()),
            yes: true,
            root: Some(root.clone()),
            gate: None,
        };
        assert!(install(&options).is_ok());
        assert!(target(&root, BINARY).is_file());
        let text = std::fs::read_to_string(target(&root, CONFIG)).unwrap_or_default();
        let config: crate::config::AgentConfig = toml::from_str(&text).unwrap_or_default();
        assert_eq!(config.server_url, "http://10.0.0.7:8001");
        assert_eq!(
            config.secret_file,
            PathBuf::from(crate::config::DEFAULT_SECRET_FILE)
        );
        #[cfg(windows)]
        assert_eq!(config.log_file, Some(PathBuf::from(WINDOWS_LOG_FILE)));
        #[cfg(unix)]
        assert!(target(&root, SERVICE).is_file() && target(&root, HELPER).is_file());

        assert!(uninstall(Some(&root), true).is_ok());
        assert!(!target(&root, BINARY).exists());
        assert!(!target(&root, CONFIG).exists());
    }

    #[test]
    fn the_server_line_is_replaced_or_added() {
        let config = config_with_server(None, "http://192.168.1.10:8001");
        assert!(config.contains("server_url = \"http://192.168.1.10:8001\""));
        assert_eq!(config.matches("server_url =").count(), 1);
        let again = config_with_server(Some("log_level = \"debug\"\n"), "http://a:1");
        assert!(again.starts_with("server_url = \"http://a:1\"\nlog_level"));
        // The written configuration is valid, and keeps the secret where this system does.
        let parsed: crate::config::AgentConfig = toml::from_str(&config).unwrap_or_default();
        assert_eq!(parsed.server_url, "http://192.168.1.10:8001");
        assert_eq!(
            parsed.secret_file,
            PathBuf::from(crate::config::DEFAULT_SECRET_FILE)
        );
    }
}
