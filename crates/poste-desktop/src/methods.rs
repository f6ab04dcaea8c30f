//! The ordered method lists: which programs, with which arguments, lock the screen, end the
//! session or show a notification, for a given desktop and environment. Pure functions; running
//! them is `run.rs`'s business.
//!
//! Order: the running desktop's own method, then logind (desktop-neutral), then the seed's
//! fallbacks in the seed's order (`PHASE4_CLIENT_COMPLETE.md`, "GESTION SYSTÈME"), keeping only
//! programs present in [`Environment::programs`] and dropping duplicates.

use std::collections::HashSet;

use crate::detect::{Desktop, Environment};

/// Every program some method may run: what [`Environment::current`] looks for on `PATH`.
pub const KNOWN_PROGRAMS: &[&str] = &[
    "loginctl",
    "gnome-screensaver-command",
    "dbus-send",
    "qdbus",
    "qdbus6",
    "qdbus-qt6",
    "qdbus-qt5",
    "xflock4",
    "cinnamon-screensaver-command",
    "mate-screensaver-command",
    "lxqt-leave",
    "xdg-screensaver",
    "slock",
    "xtrlock",
    "gnome-session-quit",
    "xfce4-session-logout",
    "cinnamon-session-quit",
    "mate-session-save",
    "notify-send",
    "zenity",
    "kdialog",
    "xmessage",
    "systemctl",
    "shutdown",
];

/// Programs that do not return once their job is done but stay until the visitor dismisses them
/// (`slock` and `xtrlock` until the screen is unlocked, `zenity`, `xmessage` and `kdialog`'s
/// popup until closed or timed out; on Windows, the `powershell` popup). They are run detached:
/// see [`Method::is_detached`].
pub const DETACHED_PROGRAMS: &[&str] = &[
    "slock",
    "xtrlock",
    "zenity",
    "kdialog",
    "xmessage",
    "powershell",
];

/// The `qdbus` front-ends, in the order tried: Qt 5 distributions ship `qdbus`, Plasma 6 ones
/// `qdbus6` (Debian, Arch) or `qdbus-qt6` (Fedora), some `qdbus-qt5`. Any of them talks to the
/// same D-Bus service, so every one present is a candidate.
const QDBUS: [&str; 4] = ["qdbus", "qdbus6", "qdbus-qt6", "qdbus-qt5"];

/// One way of doing something: a program and its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Method {
    /// Stable label for logs and reports, e.g. `loginctl lock-session`.
    pub name: String,
    /// Program name, looked up on the environment's `PATH`.
    pub program: String,
    /// Arguments, passed as they are (no shell).
    pub args: Vec<String>,
}

impl Method {
    /// A method labelled with its program and arguments joined by spaces.
    pub fn new<S: AsRef<str>>(program: &str, args: &[S]) -> Method {
        let args: Vec<String> = args.iter().map(|a| a.as_ref().to_owned()).collect();
        let name = std::iter::once(program)
            .chain(args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        Method {
            name,
            program: program.to_owned(),
            args,
        }
    }

    /// A method with an explicit label (for methods whose arguments carry text, such as
    /// notifications, so that the label stays stable).
    pub fn labelled<S: AsRef<str>>(name: &str, program: &str, args: &[S]) -> Method {
        Method {
            name: name.to_owned(),
            ..Method::new(program, args)
        }
    }

    /// Whether the program stays running until the visitor dismisses it (see
    /// [`DETACHED_PROGRAMS`]): such a method is started, and counts as having worked if it is
    /// still running after a short grace period or exited with status 0 within it.
    pub fn is_detached(&self) -> bool {
        DETACHED_PROGRAMS.contains(&self.program.as_str())
    }
}

/// How urgent a notification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Urgency {
    /// An ordinary warning (e.g. 5 minutes left).
    #[default]
    Normal,
    /// A last warning (e.g. 1 minute left).
    Critical,
}

impl Urgency {
    /// The name `notify-send -u` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Normal => "normal",
            Urgency::Critical => "critical",
        }
    }
}

/// A desktop notification for the visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Title (one line).
    pub title: String,
    /// Message; passed to programs as one argument, untouched.
    pub body: String,
    /// How urgent it is.
    pub urgency: Urgency,
    /// How long it stays on screen, in seconds (0: the program's own rule, often "until closed").
    pub timeout_secs: u32,
}

/// Methods that lock the screen, in order (see the module docs). `loginctl lock-session` gets
/// `$XDG_SESSION_ID` as argument when it is set, so that it also works from outside the session.
pub fn lock_methods(desktop: &Desktop, env: &Environment) -> Vec<Method> {
    let mut all = own_lock(desktop);
    all.push(loginctl_lock(env));
    // The seed's order (loginctl, already placed, was its first).
    all.extend(gnome_lock());
    all.extend(kde_lock());
    all.push(Method::new("xflock4", &[] as &[&str]));
    all.push(Method::new("cinnamon-screensaver-command", &["-l"]));
    all.push(Method::new("mate-screensaver-command", &["-l"]));
    all.push(Method::new("xdg-screensaver", &["lock"]));
    all.push(Method::new("slock", &[] as &[&str]));
    all.push(Method::new("xtrlock", &[] as &[&str]));
    available(all, env)
}

/// Methods that end the visitor's graphical session, in order, for the user in `$USER`. See
/// [`logout_methods_for`].
pub fn logout_methods(desktop: &Desktop, env: &Environment) -> Vec<Method> {
    logout_methods_for(desktop, env, env.var("USER"))
}

/// Methods that end `user`'s graphical session, in order: the desktop's own, then
/// `loginctl terminate-session $XDG_SESSION_ID` (when set), `loginctl terminate-user <user>`
/// (never for `root`), then the seed's. The seed's last method, `pkill -u $USER`, is not a
/// method here: it is the guarded last resort of `kill.rs`.
pub fn logout_methods_for(desktop: &Desktop, env: &Environment, user: Option<&str>) -> Vec<Method> {
    let mut all = own_logout(desktop);
    if let Some(id) = env.var("XDG_SESSION_ID") {
        all.push(Method::new("loginctl", &["terminate-session", id]));
    }
    if let Some(user) = user
        .map(str::trim)
        .filter(|u| !u.is_empty() && *u != "root")
    {
        all.push(Method::new("loginctl", &["terminate-user", user]));
    }
    all.push(gnome_logout());
    all.extend(kde_logout());
    all.push(Method::new("xfce4-session-logout", &["--logout"]));
    all.push(Method::new(
        "cinnamon-session-quit",
        &["--logout", "--no-prompt"],
    ));
    all.push(Method::new("mate-session-save", &["--logout"]));
    available(all, env)
}

/// Methods that show `n`, in the seed's order: `notify-send`, `zenity`, `kdialog`, `xmessage`.
/// Labels are the program (and mode), not the text.
pub fn notify_methods(env: &Environment, n: &Notification) -> Vec<Method> {
    let secs = n.timeout_secs.to_string();
    let millis = (u64::from(n.timeout_secs) * 1000).to_string();
    let all = vec![
        Method::labelled(
            "notify-send",
            "notify-send",
            &[
                "-u",
                n.urgency.as_str(),
                "-t",
                &millis,
                "-a",
                "Poste public",
                &n.title,
                &n.body,
            ],
        ),
        // --no-markup: zenity reads --text as Pango markup, where "&" or "<" would break it.
        Method::labelled(
            "zenity --warning",
            "zenity",
            &[
                "--warning",
                "--no-markup",
                "--title",
                &n.title,
                "--text",
                &n.body,
                "--timeout",
                &secs,
            ],
        ),
        Method::labelled(
            "kdialog --passivepopup",
            "kdialog",
            &["--title", &n.title, "--passivepopup", &n.body, &secs],
        ),
        Method::labelled(
            "xmessage",
            "xmessage",
            &[
                "-center",
                "-timeout",
                &secs,
                &format!("{}: {}", n.title, n.body),
            ],
        ),
    ];
    available(all, env)
}

/// What a power order does to the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PowerAction {
    /// Shut the machine down.
    PowerOff,
    /// Restart the machine.
    Restart,
}

impl PowerAction {
    /// The action's name in logs and errors: `poweroff` or `restart`.
    pub fn as_str(self) -> &'static str {
        match self {
            PowerAction::PowerOff => "poweroff",
            PowerAction::Restart => "restart",
        }
    }
}

/// Methods that power the machine off or restart it, in order: systemd's `systemctl poweroff`
/// (`reboot`), then `shutdown -h now` (`-r now`) for the systems without it. Run by root (the
/// service): no desktop's own method, the visitor's session is already over.
pub fn power_methods(env: &Environment, action: PowerAction) -> Vec<Method> {
    let (verb, flag) = match action {
        PowerAction::PowerOff => ("poweroff", "-h"),
        PowerAction::Restart => ("reboot", "-r"),
    };
    available(
        vec![
            Method::new("systemctl", &[verb]),
            Method::new("shutdown", &[flag, "now"]),
        ],
        env,
    )
}

fn own_lock(desktop: &Desktop) -> Vec<Method> {
    match desktop {
        Desktop::Gnome | Desktop::Unity | Desktop::Budgie => gnome_lock(),
        Desktop::Kde => kde_lock(),
        Desktop::Xfce => vec![Method::new("xflock4", &[] as &[&str])],
        Desktop::Cinnamon => vec![Method::new("cinnamon-screensaver-command", &["-l"])],
        Desktop::Mate => vec![Method::new("mate-screensaver-command", &["-l"])],
        Desktop::Lxqt => vec![Method::new("lxqt-leave", &["--lockscreen"])],
        // No method of their own that is known to work: logind comes first for them.
        Desktop::Pantheon | Desktop::Deepin | Desktop::Other(_) | Desktop::Unknown => Vec::new(),
    }
}

fn own_logout(desktop: &Desktop) -> Vec<Method> {
    match desktop {
        Desktop::Gnome | Desktop::Unity | Desktop::Budgie => vec![gnome_logout()],
        Desktop::Kde => kde_logout(),
        Desktop::Xfce => vec![Method::new("xfce4-session-logout", &["--logout"])],
        Desktop::Cinnamon => vec![Method::new(
            "cinnamon-session-quit",
            &["--logout", "--no-prompt"],
        )],
        Desktop::Mate => vec![Method::new("mate-session-save", &["--logout"])],
        Desktop::Lxqt => vec![Method::new("lxqt-leave", &["--logout"])],
        Desktop::Pantheon | Desktop::Deepin | Desktop::Other(_) | Desktop::Unknown => Vec::new(),
    }
}

fn loginctl_lock(env: &Environment) -> Method {
    match env.var("XDG_SESSION_ID") {
        Some(id) => Method::new("loginctl", &["lock-session", id]),
        None => Method::new("loginctl", &["lock-session"]),
    }
}

fn gnome_lock() -> Vec<Method> {
    vec![
        Method::new("gnome-screensaver-command", &["-l"]),
        Method::new(
            "dbus-send",
            &[
                "--session",
                "--dest=org.gnome.ScreenSaver",
                "--type=method_call",
                "/org/gnome/ScreenSaver",
                "org.gnome.ScreenSaver.Lock",
            ],
        ),
    ]
}

fn kde_lock() -> Vec<Method> {
    QDBUS
        .iter()
        .map(|q| Method::new(q, &["org.freedesktop.ScreenSaver", "/ScreenSaver", "Lock"]))
        .collect()
}

fn gnome_logout() -> Method {
    Method::new("gnome-session-quit", &["--logout", "--no-prompt"])
}

fn kde_logout() -> Vec<Method> {
    QDBUS
        .iter()
        .map(|q| {
            Method::new(
                q,
                &["org.kde.ksmserver", "/KSMServer", "logout", "0", "0", "0"],
            )
        })
        .collect()
}

/// Keeps the methods whose program is present, first occurrence of each only.
fn available(all: Vec<Method>, env: &Environment) -> Vec<Method> {
    let mut seen = HashSet::new();
    all.into_iter()
        .filter(|m| env.has(&m.program))
        .filter(|m| seen.insert((m.program.clone(), m.args.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::detect;

    fn env(vars: &[(&str, &str)], programs: &[&str]) -> Environment {
        Environment {
            vars: vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            programs: programs.iter().map(|p| (*p).to_owned()).collect(),
            ..Environment::default()
        }
    }

    fn names(methods: &[Method]) -> Vec<&str> {
        methods.iter().map(|m| m.name.as_str()).collect()
    }

    fn note() -> Notification {
        Notification {
            title: "Poste public".into(),
            body: "Il vous reste 5 minutes".into(),
            urgency: Urgency::Critical,
            timeout_secs: 10,
        }
    }

    /// A realistic environment per desktop, with every known program installed, and the
    /// expected first lock and logout methods.
    fn desktops() -> Vec<(Environment, Desktop, &'static str, &'static str)> {
        let all = KNOWN_PROGRAMS;
        vec![
            (
                env(&[("XDG_CURRENT_DESKTOP", "ubuntu:GNOME")], all),
                Desktop::Gnome,
                "gnome-screensaver-command -l",
                "gnome-session-quit --logout --no-prompt",
            ),
            (
                env(&[("XDG_CURRENT_DESKTOP", "KDE")], all),
                Desktop::Kde,
                "qdbus org.freedesktop.ScreenSaver /ScreenSaver Lock",
                "qdbus org.kde.ksmserver /KSMServer logout 0 0 0",
            ),
            (
                env(&[("XDG_CURRENT_DESKTOP", "XFCE")], all),
                Desktop::Xfce,
                "xflock4",
                "xfce4-session-logout --logout",
            ),
            (
                env(&[("XDG_CURRENT_DESKTOP", "X-Cinnamon")], all),
                Desktop::Cinnamon,
                "cinnamon-screensaver-command -l",
                "cinnamon-session-quit --logout --no-prompt",
            ),
            (
                env(&[("XDG_CURRENT_DESKTOP", "MATE")], all),
                Desktop::Mate,
                "mate-screensaver-command -l",
                "mate-session-save --logout",
            ),
            (
                env(&[("XDG_CURRENT_DESKTOP", "LXQt")], all),
                Desktop::Lxqt,
                "lxqt-leave --lockscreen",
                "lxqt-leave --logout",
            ),
            (
                env(&[("XDG_CURRENT_DESKTOP", "Budgie:GNOME")], all),
                Desktop::Budgie,
                "gnome-screensaver-command -l",
                "gnome-session-quit --logout --no-prompt",
            ),
            (
                env(&[("XDG_CURRENT_DESKTOP", "Unity")], all),
                Desktop::Unity,
                "gnome-screensaver-command -l",
                "gnome-session-quit --logout --no-prompt",
            ),
            (
                env(
                    &[("XDG_CURRENT_DESKTOP", "Pantheon"), ("XDG_SESSION_ID", "2")],
                    all,
                ),
                Desktop::Pantheon,
                "loginctl lock-session 2",
                "loginctl terminate-session 2",
            ),
            (
                env(&[("DESKTOP_SESSION", "i3"), ("USER", "visiteur")], all),
                Desktop::Other("i3".into()),
                "loginctl lock-session",
                "loginctl terminate-user visiteur",
            ),
        ]
    }

    #[test]
    fn each_desktop_starts_with_its_own_method() {
        for (e, desktop, lock, logout) in desktops() {
            assert_eq!(detect(&e), desktop);
            let l = lock_methods(&desktop, &e);
            assert_eq!(l.first().map(|m| m.name.as_str()), Some(lock), "{desktop}");
            let o = logout_methods(&desktop, &e);
            assert_eq!(
                o.first().map(|m| m.name.as_str()),
                Some(logout),
                "{desktop}"
            );
        }
    }

    #[test]
    fn logind_comes_right_after_the_desktop_s_own() {
        let e = env(
            &[("XDG_CURRENT_DESKTOP", "XFCE"), ("XDG_SESSION_ID", "c2")],
            KNOWN_PROGRAMS,
        );
        let l = lock_methods(&Desktop::Xfce, &e);
        assert_eq!(names(&l)[..2], ["xflock4", "loginctl lock-session c2"]);
        let e = env(
            &[
                ("XDG_CURRENT_DESKTOP", "XFCE"),
                ("XDG_SESSION_ID", "c2"),
                ("USER", "visiteur"),
            ],
            KNOWN_PROGRAMS,
        );
        let o = logout_methods(&Desktop::Xfce, &e);
        assert_eq!(
            names(&o)[..3],
            [
                "xfce4-session-logout --logout",
                "loginctl terminate-session c2",
                "loginctl terminate-user visiteur"
            ]
        );
    }

    #[test]
    fn unknown_desktop_gets_the_seed_order() {
        let e = env(&[], KNOWN_PROGRAMS);
        assert_eq!(
            names(&lock_methods(&Desktop::Unknown, &e)),
            [
                "loginctl lock-session",
                "gnome-screensaver-command -l",
                "dbus-send --session --dest=org.gnome.ScreenSaver --type=method_call /org/gnome/ScreenSaver org.gnome.ScreenSaver.Lock",
                "qdbus org.freedesktop.ScreenSaver /ScreenSaver Lock",
                "qdbus6 org.freedesktop.ScreenSaver /ScreenSaver Lock",
                "qdbus-qt6 org.freedesktop.ScreenSaver /ScreenSaver Lock",
                "qdbus-qt5 org.freedesktop.ScreenSaver /ScreenSaver Lock",
                "xflock4",
                "cinnamon-screensaver-command -l",
                "mate-screensaver-command -l",
                "xdg-screensaver lock",
                "slock",
                "xtrlock",
            ]
        );
        let e = env(&[("USER", "visiteur")], KNOWN_PROGRAMS);
        assert_eq!(
            names(&logout_methods(&Desktop::Unknown, &e)),
            [
                "loginctl terminate-user visiteur",
                "gnome-session-quit --logout --no-prompt",
                "qdbus org.kde.ksmserver /KSMServer logout 0 0 0",
                "qdbus6 org.kde.ksmserver /KSMServer logout 0 0 0",
                "qdbus-qt6 org.kde.ksmserver /KSMServer logout 0 0 0",
                "qdbus-qt5 org.kde.ksmserver /KSMServer logout 0 0 0",
                "xfce4-session-logout --logout",
                "cinnamon-session-quit --logout --no-prompt",
                "mate-session-save --logout",
            ]
        );
    }

    #[test]
    fn only_present_programs_and_no_duplicates() {
        for (mut e, desktop, _, _) in desktops() {
            e.programs = ["loginctl", "xdg-screensaver", "qdbus6", "dbus-send"]
                .iter()
                .map(|p| (*p).to_owned())
                .collect();
            for list in [lock_methods(&desktop, &e), logout_methods(&desktop, &e)] {
                assert!(!list.is_empty());
                assert!(list.iter().all(|m| e.has(&m.program)), "{list:?}");
                let unique: HashSet<_> = list.iter().map(|m| &m.name).collect();
                assert_eq!(unique.len(), list.len(), "{list:?}");
            }
        }
        // KDE with only Qt 6's qdbus: that one comes first.
        let e = env(&[("XDG_CURRENT_DESKTOP", "KDE")], &["qdbus6", "loginctl"]);
        assert_eq!(
            names(&lock_methods(&Desktop::Kde, &e)),
            [
                "qdbus6 org.freedesktop.ScreenSaver /ScreenSaver Lock",
                "loginctl lock-session"
            ]
        );
        // Nothing installed: nothing to try.
        let e = env(&[("XDG_CURRENT_DESKTOP", "KDE")], &[]);
        assert!(lock_methods(&Desktop::Kde, &e).is_empty());
        assert!(logout_methods(&Desktop::Kde, &e).is_empty());
        assert!(notify_methods(&e, &note()).is_empty());
    }

    #[test]
    fn every_program_used_is_known_to_the_path_scan() {
        let n = note();
        let e = env(
            &[("XDG_SESSION_ID", "1"), ("USER", "visiteur")],
            KNOWN_PROGRAMS,
        );
        let mut used = HashSet::new();
        for (_, desktop, _, _) in desktops() {
            for m in lock_methods(&desktop, &e)
                .into_iter()
                .chain(logout_methods(&desktop, &e))
            {
                used.insert(m.program);
            }
        }
        used.extend(notify_methods(&e, &n).into_iter().map(|m| m.program));
        for action in [PowerAction::PowerOff, PowerAction::Restart] {
            used.extend(power_methods(&e, action).into_iter().map(|m| m.program));
        }
        let known: HashSet<String> = KNOWN_PROGRAMS.iter().map(|p| (*p).to_owned()).collect();
        assert_eq!(used, known);
    }

    #[test]
    fn terminate_user_never_targets_root_and_needs_a_user() {
        let e = env(&[("USER", "root")], KNOWN_PROGRAMS);
        assert!(
            !logout_methods(&Desktop::Unknown, &e)
                .iter()
                .any(|m| m.args.first().is_some_and(|a| a == "terminate-user"))
        );
        let e = env(&[], KNOWN_PROGRAMS);
        assert!(
            !logout_methods(&Desktop::Unknown, &e)
                .iter()
                .any(|m| m.program == "loginctl")
        );
        // An explicit visitor wins over $USER (an agent running as a service).
        let e = env(&[("USER", "poste")], KNOWN_PROGRAMS);
        assert_eq!(
            logout_methods_for(&Desktop::Unknown, &e, Some("visiteur"))[0].name,
            "loginctl terminate-user visiteur"
        );
    }

    #[test]
    fn notification_arguments() {
        let e = env(&[], KNOWN_PROGRAMS);
        let n = Notification {
            title: "Fin de session".into(),
            body: "Il vous reste 1 minute — « attention »".into(),
            urgency: Urgency::Critical,
            timeout_secs: 15,
        };
        let m = notify_methods(&e, &n);
        assert_eq!(
            names(&m),
            [
                "notify-send",
                "zenity --warning",
                "kdialog --passivepopup",
                "xmessage"
            ]
        );
        assert_eq!(
            m[0].args,
            [
                "-u",
                "critical",
                "-t",
                "15000",
                "-a",
                "Poste public",
                "Fin de session",
                "Il vous reste 1 minute — « attention »"
            ]
        );
        assert_eq!(
            m[1].args,
            [
                "--warning",
                "--no-markup",
                "--title",
                "Fin de session",
                "--text",
                "Il vous reste 1 minute — « attention »",
                "--timeout",
                "15"
            ]
        );
        assert_eq!(
            m[2].args,
            [
                "--title",
                "Fin de session",
                "--passivepopup",
                "Il vous reste 1 minute — « attention »",
                "15"
            ]
        );
        assert_eq!(
            m[3].args,
            [
                "-center",
                "-timeout",
                "15",
                "Fin de session: Il vous reste 1 minute — « attention »"
            ]
        );
        assert_eq!(notify_methods(&e, &note())[0].args[1], "critical");
        let normal = Notification {
            urgency: Urgency::Normal,
            ..note()
        };
        assert_eq!(notify_methods(&e, &normal)[0].args[1], "normal");
    }

    #[test]
    fn power_methods_are_systemctl_then_shutdown_and_only_present_ones() {
        let both = env(&[], &["systemctl", "shutdown"]);
        assert_eq!(
            names(&power_methods(&both, PowerAction::PowerOff)),
            ["systemctl poweroff", "shutdown -h now"]
        );
        assert_eq!(
            names(&power_methods(&both, PowerAction::Restart)),
            ["systemctl reboot", "shutdown -r now"]
        );
        let old = env(&[], &["shutdown"]);
        assert_eq!(
            names(&power_methods(&old, PowerAction::PowerOff)),
            ["shutdown -h now"]
        );
        assert!(power_methods(&env(&[], &[]), PowerAction::Restart).is_empty());
        // Never detached: the agent waits for the answer before it reports.
        assert!(
            power_methods(&both, PowerAction::PowerOff)
                .iter()
                .all(|m| !m.is_detached())
        );
        assert_eq!(PowerAction::PowerOff.as_str(), "poweroff");
        assert_eq!(PowerAction::Restart.as_str(), "restart");
    }

    #[test]
    fn detached_programs() {
        let e = env(&[], KNOWN_PROGRAMS);
        let detached: Vec<String> = lock_methods(&Desktop::Unknown, &e)
            .into_iter()
            .chain(notify_methods(&e, &note()))
            .filter(Method::is_detached)
            .map(|m| m.program)
            .collect();
        assert_eq!(
            detached,
            ["slock", "xtrlock", "zenity", "kdialog", "xmessage"]
        );
        assert!(!Method::new("loginctl", &["lock-session"]).is_detached());
    }

    #[test]
    fn method_labels() {
        assert_eq!(
            Method::new("loginctl", &["lock-session", "3"]).name,
            "loginctl lock-session 3"
        );
        assert_eq!(Method::new("xflock4", &[] as &[&str]).name, "xflock4");
    }
}
