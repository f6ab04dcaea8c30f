//! Desktop detection: the [`Environment`] snapshot (variables and programs on `PATH`), the
//! [`Desktop`] it describes, and program lookup through the snapshot's own `PATH`.
//!
//! Everything here except [`Environment::current`] is a pure function of the snapshot, so each
//! desktop is unit-tested from a hand-built environment.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

/// The programs [`Environment::from_vars`] looks for: those of the Linux methods.
#[cfg(not(windows))]
const SCANNED_PROGRAMS: &[&str] = crate::methods::KNOWN_PROGRAMS;
/// The programs [`Environment::from_vars`] looks for: those of the Windows fallbacks.
#[cfg(windows)]
const SCANNED_PROGRAMS: &[&str] = crate::win::WINDOWS_PROGRAMS;

/// `PATH` used when the environment has none (what systemd gives its services, plus `/sbin`).
#[cfg(not(windows))]
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// `PATH` used when the environment has none: where Windows keeps `msg`, `logoff`, `shutdown` and
/// `powershell`.
#[cfg(windows)]
pub const DEFAULT_PATH: &str =
    r"C:\Windows\System32;C:\Windows;C:\Windows\System32\WindowsPowerShell\v1.0";

/// The desktop environment of a graphical session.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Desktop {
    /// GNOME (also Ubuntu's and Pop!_OS's sessions, GNOME Classic, GNOME Flashback).
    Gnome,
    /// KDE Plasma.
    Kde,
    /// Xfce (Xubuntu).
    Xfce,
    /// Cinnamon (Linux Mint).
    Cinnamon,
    /// MATE.
    Mate,
    /// LXQt (Lubuntu).
    Lxqt,
    /// Budgie.
    Budgie,
    /// Unity (Ubuntu up to 16.04).
    Unity,
    /// Pantheon (elementary OS).
    Pantheon,
    /// Deepin (DDE).
    Deepin,
    /// A session this crate has no own method for, by its lower-case name: `i3`, `sway`, `openbox`…
    Other(String),
    /// Nothing in the environment names a desktop (e.g. a system service with no session).
    Unknown,
}

impl Desktop {
    /// A short lower-case name, for logs and reports.
    pub fn name(&self) -> &str {
        match self {
            Desktop::Gnome => "gnome",
            Desktop::Kde => "kde",
            Desktop::Xfce => "xfce",
            Desktop::Cinnamon => "cinnamon",
            Desktop::Mate => "mate",
            Desktop::Lxqt => "lxqt",
            Desktop::Budgie => "budgie",
            Desktop::Unity => "unity",
            Desktop::Pantheon => "pantheon",
            Desktop::Deepin => "deepin",
            Desktop::Other(name) => name,
            Desktop::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Desktop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What detection and execution look at: a snapshot, so tests can build one.
///
/// `vars` are also given to every program this crate runs, on top of the agent's own
/// environment, and `vars["PATH"]` (or [`DEFAULT_PATH`]) is the only `PATH` programs are looked up
/// in: an agent can describe the visitor's session (`DISPLAY`, `DBUS_SESSION_BUS_ADDRESS`,
/// `XDG_SESSION_ID`, `USER`…) rather than its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    /// Environment variables: `XDG_CURRENT_DESKTOP`, `DESKTOP_SESSION`, `XDG_SESSION_DESKTOP`,
    /// `GDMSESSION`, `KDE_FULL_SESSION`, `GNOME_DESKTOP_SESSION_ID`, `MATE_DESKTOP_SESSION_ID`,
    /// `XDG_SESSION_TYPE`, `DISPLAY`, `WAYLAND_DISPLAY`, `USER`, `XDG_SESSION_ID`, `PATH`…
    pub vars: HashMap<String, String>,
    /// Names of the programs found on `PATH` (only those some method uses).
    pub programs: HashSet<String>,
    /// Well-known names owned on the session bus (`org.xfce.ScreenSaver`…), when listed
    /// ([`Environment::with_bus_names`]; [`Environment::current`] does): a desktop's own
    /// services name it when no variable does.
    pub bus_names: HashSet<String>,
}

impl Environment {
    /// The agent's own environment (every variable that is valid UTF-8), with `PATH` scanned for
    /// every program any method uses (on Windows, those of the Windows fallbacks).
    pub fn current() -> Environment {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let env = Environment::from_vars(vars);
        #[cfg(not(windows))]
        let env = env.with_bus_names();
        env
    }

    /// The snapshot with the well-known names owned on its session bus
    /// (`DBUS_SESSION_BUS_ADDRESS`), as `dbus-send … org.freedesktop.DBus.ListNames` (run as a
    /// process from the snapshot's `PATH`, killed after [`BUS_TIMEOUT`]) lists them. Unchanged
    /// when there is no bus address, no `dbus-send`, or no answer.
    pub fn with_bus_names(mut self) -> Environment {
        if let Some(names) = self.list_bus_names() {
            self.bus_names = names;
        }
        self
    }

    fn list_bus_names(&self) -> Option<HashSet<String>> {
        let address = self.var("DBUS_SESSION_BUS_ADDRESS")?;
        let program = self.resolve("dbus-send")?;
        let mut child = std::process::Command::new(program)
            .args([
                "--session",
                "--print-reply",
                "--reply-timeout=1000",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.ListNames",
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", address)
            .env("PATH", self.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let deadline = std::time::Instant::now() + BUS_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => break,
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return None;
                }
            }
        }
        let mut out = String::new();
        std::io::Read::read_to_string(&mut child.stdout.take()?, &mut out).ok()?;
        Some(parse_list_names(&out))
    }

    /// A snapshot of the given variables, with their `PATH` (or [`DEFAULT_PATH`]) scanned for
    /// every program any method uses.
    pub fn from_vars(vars: HashMap<String, String>) -> Environment {
        let mut env = Environment {
            vars,
            ..Environment::default()
        };
        env.programs = SCANNED_PROGRAMS
            .iter()
            .filter(|p| env.resolve(p).is_some())
            .map(|p| (*p).to_owned())
            .collect();
        env
    }

    /// The value of a variable, trimmed, or `None` when unset or blank. On Windows, where
    /// variable names are case-insensitive (`Path`, `PATH`), in any case.
    pub fn var(&self, name: &str) -> Option<&str> {
        let value = self.vars.get(name).or_else(|| {
            cfg!(windows)
                .then(|| {
                    self.vars
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v)
                })
                .flatten()
        });
        value.map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// Whether `program` was found on `PATH` when the snapshot was taken.
    pub fn has(&self, program: &str) -> bool {
        self.programs.contains(program)
    }

    /// The `PATH` programs are looked up in: the snapshot's, else [`DEFAULT_PATH`].
    pub fn path(&self) -> &str {
        self.var("PATH").unwrap_or(DEFAULT_PATH)
    }

    /// The absolute path of `program` on this snapshot's `PATH` (never the agent's own `PATH`).
    pub fn resolve(&self, program: &str) -> Option<PathBuf> {
        find_program(program, self.path())
    }
}

/// Looks `program` up in the directories of `path` (a `PATH` value) and returns the first
/// executable regular file. Empty entries (the current directory) are ignored on purpose. On
/// Windows a name without extension is looked up with `.com`, `.exe`, `.bat` and `.cmd`, in that
/// order (the default `PATHEXT`), and `\` separates directories too.
pub fn find_program(program: &str, path: &str) -> Option<PathBuf> {
    if program.is_empty() {
        return None;
    }
    if program.contains('/') || (cfg!(windows) && program.contains('\\')) {
        let p = Path::new(program);
        return (p.is_absolute() && is_executable(p)).then(|| p.to_path_buf());
    }
    std::env::split_paths(OsStr::new(path))
        .filter(|dir| dir.is_absolute())
        .flat_map(|dir| candidates(program).map(move |name| dir.join(name)))
        .find(|candidate| is_executable(candidate))
}

/// The file names `program` may have in a `PATH` directory.
#[cfg(not(windows))]
fn candidates(program: &str) -> impl Iterator<Item = String> + '_ {
    std::iter::once(program.to_owned())
}

/// The file names `program` may have in a `PATH` directory: as given when it has an extension,
/// then with each of the default `PATHEXT` extensions.
#[cfg(windows)]
fn candidates(program: &str) -> impl Iterator<Item = String> + '_ {
    let has_extension = Path::new(program).extension().is_some();
    has_extension
        .then(|| program.to_owned())
        .into_iter()
        .chain([".com", ".exe", ".bat", ".cmd"].map(|ext| format!("{program}{ext}")))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// How long listing the session bus's names may take.
pub const BUS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The well-known names in `dbus-send --print-reply … ListNames` output (`string "org.…"`
/// lines; unique names such as `:1.42` are left out).
pub fn parse_list_names(output: &str) -> HashSet<String> {
    output
        .lines()
        .filter_map(|line| line.trim().strip_prefix("string \""))
        .filter_map(|rest| rest.strip_suffix('"'))
        .filter(|name| !name.starts_with(':') && !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Bus names a desktop's own services own, most specific first: Cinnamon and MATE also own
/// GNOME's session manager name, KDE owns `org.freedesktop.ScreenSaver` (which any desktop may
/// own, so it names none).
const BUS_DESKTOPS: &[(&str, Desktop)] = &[
    ("org.cinnamon.ScreenSaver", Desktop::Cinnamon),
    ("org.mate.ScreenSaver", Desktop::Mate),
    ("org.kde.screensaver", Desktop::Kde),
    ("org.kde.ksmserver", Desktop::Kde),
    ("org.xfce.ScreenSaver", Desktop::Xfce),
    ("org.xfce.SessionManager", Desktop::Xfce),
    ("org.gnome.ScreenSaver", Desktop::Gnome),
    ("org.gnome.Shell", Desktop::Gnome),
    ("org.gnome.SessionManager", Desktop::Gnome),
];

/// The desktop the bus names show, if any (see [`BUS_DESKTOPS`]).
fn bus_desktop(names: &HashSet<String>) -> Option<Desktop> {
    BUS_DESKTOPS
        .iter()
        .find(|(name, _)| names.contains(*name))
        .map(|(_, desktop)| desktop.clone())
}

/// The variables that name a session, most reliable first.
const NAME_VARS: [&str; 4] = [
    "XDG_CURRENT_DESKTOP",
    "DESKTOP_SESSION",
    "XDG_SESSION_DESKTOP",
    "GDMSESSION",
];

/// Detects the desktop: a known name in `XDG_CURRENT_DESKTOP` (a colon-separated list such as
/// `ubuntu:GNOME`, the first known entry wins), then in `DESKTOP_SESSION`, `XDG_SESSION_DESKTOP`,
/// `GDMSESSION`; then the `KDE_FULL_SESSION`, `GNOME_DESKTOP_SESSION_ID`,
/// `MATE_DESKTOP_SESSION_ID` markers; then [`Desktop::Other`] with the first name seen (`i3`,
/// `sway`…); then, when no variable names anything (a process started before the desktop
/// exported its variables, or with a cleared environment), the desktop whose services own names
/// on the session bus ([`Environment::bus_names`]); else [`Desktop::Unknown`]. Case-insensitive.
pub fn detect(env: &Environment) -> Desktop {
    for var in NAME_VARS {
        // Vendor names such as "ubuntu" only mean a desktop as a session name: in
        // XDG_CURRENT_DESKTOP they prefix the real one ("ubuntu:GNOME").
        let session_aliases = var != "XDG_CURRENT_DESKTOP";
        if let Some(found) = env
            .var(var)
            .into_iter()
            .flat_map(tokens)
            .find_map(|t| known_desktop(&t, session_aliases))
        {
            return found;
        }
    }
    if env.var("KDE_FULL_SESSION").is_some() {
        return Desktop::Kde;
    }
    if env.var("GNOME_DESKTOP_SESSION_ID").is_some() {
        return Desktop::Gnome;
    }
    if env.var("MATE_DESKTOP_SESSION_ID").is_some() {
        return Desktop::Mate;
    }
    NAME_VARS
        .iter()
        .filter_map(|var| env.var(var))
        .flat_map(tokens)
        .next()
        .map(Desktop::Other)
        .or_else(|| bus_desktop(&env.bus_names))
        .unwrap_or(Desktop::Unknown)
}

/// The lower-case names in a variable: split on `:`, and a session given as a path
/// (`/usr/share/xsessions/plasma.desktop`, as some display managers set) reduced to its name.
fn tokens(value: &str) -> impl Iterator<Item = String> + '_ {
    value.split(':').filter_map(|t| {
        let t = t.trim();
        let t = t.rsplit('/').next().unwrap_or(t);
        let t = t.strip_suffix(".desktop").unwrap_or(t);
        (!t.is_empty()).then(|| t.to_ascii_lowercase())
    })
}

fn known_desktop(token: &str, session_aliases: bool) -> Option<Desktop> {
    let t = token.strip_prefix("x-").unwrap_or(token);
    let family = |name: &str| t == name || t.starts_with(&format!("{name}-"));
    let d = if t.starts_with("gnome") {
        Desktop::Gnome
    } else if t == "kde" || t.starts_with("kde-") || t.starts_with("plasma") {
        Desktop::Kde
    } else if t.starts_with("xfce") {
        Desktop::Xfce
    } else if t.starts_with("cinnamon") {
        Desktop::Cinnamon
    } else if family("mate") {
        Desktop::Mate
    } else if t.starts_with("lxqt") {
        Desktop::Lxqt
    } else if t.starts_with("budgie") {
        Desktop::Budgie
    } else if t.starts_with("unity") {
        Desktop::Unity
    } else if t.starts_with("pantheon") {
        Desktop::Pantheon
    } else if family("deepin") || family("dde") {
        Desktop::Deepin
    } else if session_aliases && (family("ubuntu") || t == "pop") {
        Desktop::Gnome
    } else if session_aliases && t == "xubuntu" {
        Desktop::Xfce
    } else if session_aliases && t == "lubuntu" {
        Desktop::Lxqt
    } else if session_aliases && t == "kubuntu" {
        Desktop::Kde
    } else {
        return None;
    };
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Environment {
        Environment {
            vars: vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..Environment::default()
        }
    }

    fn on_bus(vars: &[(&str, &str)], names: &[&str]) -> Environment {
        Environment {
            bus_names: names.iter().map(|n| (*n).to_owned()).collect(),
            ..env(vars)
        }
    }

    #[test]
    fn the_bus_names_the_desktop_when_no_variable_does() {
        let cases = [
            (
                &["org.freedesktop.ScreenSaver", "org.kde.ksmserver"][..],
                Desktop::Kde,
            ),
            (&["org.xfce.ScreenSaver"][..], Desktop::Xfce),
            (
                &["org.gnome.SessionManager", "org.cinnamon.ScreenSaver"][..],
                Desktop::Cinnamon,
            ),
            (
                &["org.gnome.SessionManager", "org.mate.ScreenSaver"][..],
                Desktop::Mate,
            ),
            (
                &["org.gnome.ScreenSaver", "org.gnome.Shell"][..],
                Desktop::Gnome,
            ),
            (&["org.freedesktop.ScreenSaver"][..], Desktop::Unknown),
            (&[][..], Desktop::Unknown),
        ];
        for (names, desktop) in cases {
            assert_eq!(detect(&on_bus(&[], names)), desktop, "{names:?}");
        }
        // A variable that names the session wins over the bus.
        let e = on_bus(
            &[("XDG_CURRENT_DESKTOP", "sway")],
            &["org.gnome.ScreenSaver"],
        );
        assert_eq!(detect(&e), Desktop::Other("sway".into()));
        let e = on_bus(&[("XDG_CURRENT_DESKTOP", "KDE")], &["org.xfce.ScreenSaver"]);
        assert_eq!(detect(&e), Desktop::Kde);
    }

    #[test]
    fn list_names_replies_are_read() {
        let reply = "method return time=1.2 sender=org.freedesktop.DBus -> destination=:1.3 serial=3 reply_serial=2\n   array [\n      string \"org.freedesktop.DBus\"\n      string \":1.3\"\n      string \"org.xfce.ScreenSaver\"\n   ]\n";
        let names = parse_list_names(reply);
        assert_eq!(
            names,
            ["org.freedesktop.DBus", "org.xfce.ScreenSaver"]
                .into_iter()
                .map(str::to_owned)
                .collect()
        );
        assert!(parse_list_names("Error org.freedesktop.DBus.Error.NoReply").is_empty());
    }

    #[test]
    fn no_bus_no_names() {
        let e = env(&[("PATH", "/usr/bin:/bin")]).with_bus_names();
        assert!(e.bus_names.is_empty());
        let e = env(&[
            ("PATH", "/nonexistent"),
            ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent"),
        ])
        .with_bus_names();
        assert!(e.bus_names.is_empty());
    }

    #[test]
    fn ubuntu_gnome() {
        let e = env(&[
            ("XDG_CURRENT_DESKTOP", "ubuntu:GNOME"),
            ("DESKTOP_SESSION", "ubuntu"),
            ("XDG_SESSION_DESKTOP", "ubuntu"),
            ("GDMSESSION", "ubuntu"),
            ("XDG_SESSION_TYPE", "wayland"),
            ("GNOME_DESKTOP_SESSION_ID", "this-is-deprecated"),
        ]);
        assert_eq!(detect(&e), Desktop::Gnome);
    }

    #[test]
    fn fedora_kde() {
        let e = env(&[
            ("XDG_CURRENT_DESKTOP", "KDE"),
            ("DESKTOP_SESSION", "plasma"),
            ("XDG_SESSION_DESKTOP", "KDE"),
            ("KDE_FULL_SESSION", "true"),
        ]);
        assert_eq!(detect(&e), Desktop::Kde);
    }

    #[test]
    fn kde_from_a_session_path_only() {
        let e = env(&[("DESKTOP_SESSION", "/usr/share/xsessions/plasma")]);
        assert_eq!(detect(&e), Desktop::Kde);
        let e = env(&[("KDE_FULL_SESSION", "true")]);
        assert_eq!(detect(&e), Desktop::Kde);
    }

    #[test]
    fn xubuntu_xfce() {
        let e = env(&[
            ("XDG_CURRENT_DESKTOP", "XFCE"),
            ("DESKTOP_SESSION", "xubuntu"),
            ("GDMSESSION", "xubuntu"),
        ]);
        assert_eq!(detect(&e), Desktop::Xfce);
        assert_eq!(
            detect(&env(&[("DESKTOP_SESSION", "xubuntu")])),
            Desktop::Xfce
        );
    }

    #[test]
    fn mint_cinnamon() {
        let e = env(&[
            ("XDG_CURRENT_DESKTOP", "X-Cinnamon"),
            ("DESKTOP_SESSION", "cinnamon"),
            ("GDMSESSION", "cinnamon"),
        ]);
        assert_eq!(detect(&e), Desktop::Cinnamon);
    }

    #[test]
    fn mate() {
        let e = env(&[
            ("XDG_CURRENT_DESKTOP", "MATE"),
            ("DESKTOP_SESSION", "mate"),
            ("MATE_DESKTOP_SESSION_ID", "this-is-deprecated"),
        ]);
        assert_eq!(detect(&e), Desktop::Mate);
        assert_eq!(
            detect(&env(&[("MATE_DESKTOP_SESSION_ID", "this-is-deprecated")])),
            Desktop::Mate
        );
    }

    #[test]
    fn lubuntu_lxqt() {
        let e = env(&[
            ("XDG_CURRENT_DESKTOP", "LXQt"),
            ("DESKTOP_SESSION", "Lubuntu"),
        ]);
        assert_eq!(detect(&e), Desktop::Lxqt);
    }

    #[test]
    fn budgie_before_gnome() {
        let e = env(&[
            ("XDG_CURRENT_DESKTOP", "Budgie:GNOME"),
            ("DESKTOP_SESSION", "budgie-desktop"),
        ]);
        assert_eq!(detect(&e), Desktop::Budgie);
    }

    #[test]
    fn elementary_pantheon_unity_deepin() {
        assert_eq!(
            detect(&env(&[("XDG_CURRENT_DESKTOP", "Pantheon")])),
            Desktop::Pantheon
        );
        assert_eq!(
            detect(&env(&[("XDG_CURRENT_DESKTOP", "Unity:Unity7:ubuntu")])),
            Desktop::Unity
        );
        assert_eq!(
            detect(&env(&[("XDG_CURRENT_DESKTOP", "Deepin")])),
            Desktop::Deepin
        );
    }

    #[test]
    fn i3_from_desktop_session_only() {
        let e = env(&[("DESKTOP_SESSION", "i3"), ("DISPLAY", ":0")]);
        assert_eq!(detect(&e), Desktop::Other("i3".into()));
        let e = env(&[("XDG_CURRENT_DESKTOP", "sway")]);
        assert_eq!(detect(&e), Desktop::Other("sway".into()));
    }

    #[test]
    fn nothing_set_is_unknown() {
        assert_eq!(detect(&env(&[])), Desktop::Unknown);
        assert_eq!(
            detect(&env(&[("XDG_CURRENT_DESKTOP", "  "), ("USER", "visiteur")])),
            Desktop::Unknown
        );
    }

    #[test]
    fn case_insensitive_and_vendor_prefix_skipped() {
        assert_eq!(
            detect(&env(&[("XDG_CURRENT_DESKTOP", "pop:gnome")])),
            Desktop::Gnome
        );
        assert_eq!(
            detect(&env(&[("XDG_CURRENT_DESKTOP", "xfce")])),
            Desktop::Xfce
        );
        // A vendor prefix in XDG_CURRENT_DESKTOP is not a desktop by itself...
        assert_eq!(
            detect(&env(&[("XDG_CURRENT_DESKTOP", "ubuntu")])),
            Desktop::Other("ubuntu".into())
        );
        // ...but the later variables still get a say.
        assert_eq!(
            detect(&env(&[
                ("XDG_CURRENT_DESKTOP", "ubuntu"),
                ("DESKTOP_SESSION", "mate")
            ])),
            Desktop::Mate
        );
    }

    #[test]
    fn find_program_uses_the_given_path_only() {
        let dir = tempfile::tempdir().unwrap();
        let prog = dir.path().join("xflock4");
        std::fs::write(&prog, "#!/bin/sh\n").unwrap();
        let path = dir.path().to_str().unwrap().to_owned();
        // Not executable yet.
        assert_eq!(find_program("xflock4", &path), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&prog, std::fs::Permissions::from_mode(0o755)).unwrap();
            assert_eq!(find_program("xflock4", &path), Some(prog.clone()));
            // Relative and empty PATH entries are ignored.
            assert_eq!(find_program("xflock4", ":relative"), None);
            let e = Environment::from_vars(HashMap::from([("PATH".into(), path)]));
            assert_eq!(e.programs, HashSet::from(["xflock4".to_owned()]));
            assert_eq!(e.resolve("xflock4"), Some(prog));
        }
    }
}
