//! Ending the session through fake programs, and the last resort's refusals.

use std::time::Duration;

use poste_desktop::{CommandDesktop, Desktop, DesktopError, SessionTerminator};

use crate::fake::FakeBin;

#[test]
fn the_desktop_s_own_method_first_then_logind() {
    let bin = FakeBin::new();
    bin.exits("qdbus", 1);
    bin.exits("loginctl", 0);
    bin.exits("xfce4-session-logout", 0);
    let env = bin.env(&[
        ("XDG_CURRENT_DESKTOP", "KDE"),
        ("XDG_SESSION_ID", "5"),
        ("USER", "visiteur"),
    ]);
    let desktop = CommandDesktop::new(env);
    assert_eq!(desktop.desktop(), &Desktop::Kde);

    let outcome = desktop.logout().unwrap();

    assert_eq!(outcome.method, "loginctl terminate-session 5");
    assert_eq!(
        bin.calls(),
        [
            "qdbus org.kde.ksmserver /KSMServer logout 0 0 0",
            "loginctl terminate-session 5"
        ]
    );
}

#[test]
fn terminate_user_names_the_visitor() {
    let bin = FakeBin::new();
    bin.exits("gnome-session-quit", 1);
    bin.script(
        "loginctl",
        r#"[ "$1" = terminate-user ] && [ "$2" = visiteur ]"#,
    );
    // The agent runs as "poste"; the visitor is set explicitly.
    let env = bin.env(&[("XDG_CURRENT_DESKTOP", "ubuntu:GNOME"), ("USER", "poste")]);
    let desktop = CommandDesktop::new(env).with_visitor("visiteur");
    assert_eq!(desktop.visitor(), Some("visiteur"));

    assert_eq!(
        desktop.logout().unwrap().method,
        "loginctl terminate-user visiteur"
    );
    assert_eq!(
        bin.calls(),
        [
            "gnome-session-quit --logout --no-prompt",
            "loginctl terminate-user visiteur"
        ]
    );
}

#[test]
fn all_failing_without_last_resort_is_all_failed() {
    let bin = FakeBin::new();
    bin.exits("xfce4-session-logout", 2);
    bin.exits("loginctl", 1);
    bin.exits("mate-session-save", 1);
    let env = bin.env(&[
        ("XDG_CURRENT_DESKTOP", "XFCE"),
        ("XDG_SESSION_ID", "c1"),
        ("USER", "visiteur"),
    ]);
    let err = CommandDesktop::new(env)
        .with_last_resort(false)
        .logout()
        .unwrap_err();
    assert_eq!(
        err,
        DesktopError::AllFailed {
            action: "logout",
            tried: vec![
                ("xfce4-session-logout --logout".into(), "exit code 2".into()),
                ("loginctl terminate-session c1".into(), "exit code 1".into()),
                (
                    "loginctl terminate-user visiteur".into(),
                    "exit code 1".into()
                ),
                ("mate-session-save --logout".into(), "exit code 1".into()),
            ],
        }
    );
}

#[test]
fn nothing_on_path_without_last_resort_is_no_method() {
    let bin = FakeBin::new();
    let err = CommandDesktop::new(bin.env(&[("USER", "visiteur")]))
        .with_last_resort(false)
        .logout()
        .unwrap_err();
    assert_eq!(err, DesktopError::NoMethod { action: "logout" });
}

fn refusal(desktop: CommandDesktop) -> String {
    match desktop.with_kill_grace(Duration::from_millis(100)).logout() {
        Err(DesktopError::Refused(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn the_last_resort_never_targets_root() {
    let bin = FakeBin::new();
    bin.exits("loginctl", 1);
    bin.exits("gnome-session-quit", 1);
    let env = bin.env(&[("XDG_CURRENT_DESKTOP", "GNOME"), ("USER", "root")]);
    let why = refusal(CommandDesktop::new(env));
    assert!(why.contains("root (uid 0)"), "{why}");
    // loginctl terminate-user is not even offered for root.
    assert_eq!(bin.calls(), ["gnome-session-quit --logout --no-prompt"]);
}

#[test]
fn the_last_resort_never_targets_system_or_unknown_users() {
    let bin = FakeBin::new();
    bin.exits("loginctl", 1);
    let env = bin.env(&[("USER", "visiteur")]);
    // "daemon" is uid 1 on Debian and its derivatives.
    if poste_desktop::lookup_uid("daemon").is_some() {
        let why = refusal(CommandDesktop::new(env.clone()).with_visitor("daemon"));
        assert!(why.contains("system user"), "{why}");
    }
    let why = refusal(CommandDesktop::new(env.clone()).with_visitor("no-such-visitor-4821"));
    assert!(why.contains("unknown user"), "{why}");
    // No USER at all and no visitor set: nobody to target.
    let why = refusal(CommandDesktop::new(bin.env(&[])));
    assert!(why.contains("no visitor"), "{why}");
}

#[test]
fn when_every_method_fails_the_last_resort_runs() {
    // A real account in the ordinary range, so that the user lookup succeeds; its processes are
    // looked for in an empty directory instead of /proc, so nothing is ever signalled.
    let range = poste_desktop::UidRange::system();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let Some(user) = passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let uid: u32 = f.nth(1)?.parse().ok()?;
        (range.contains(uid) && poste_desktop::lookup_uid(name) == Some(uid))
            .then(|| name.to_owned())
    }) else {
        eprintln!("skipped: no ordinary account on this machine");
        return;
    };
    let bin = FakeBin::new();
    bin.exits("loginctl", 1);
    let empty_proc = tempfile::tempdir().unwrap();
    let desktop = CommandDesktop::new(bin.env(&[]))
        .with_visitor(user.clone())
        .with_last_resort_policy(poste_desktop::LastResort {
            range,
            proc_root: empty_proc.path().to_path_buf(),
            term_grace: Duration::from_millis(100),
        });

    let outcome = desktop.logout().unwrap();

    assert_eq!(outcome.method, poste_desktop::LAST_RESORT_METHOD);
    assert_eq!(bin.calls(), [format!("loginctl terminate-user {user}")]);
}
