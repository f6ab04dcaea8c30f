//! Notifications through fake programs.

use std::time::Duration;

use poste_desktop::{CommandDesktop, DesktopError, Notification, Notifier, Urgency};

use crate::fake::FakeBin;

fn warning() -> Notification {
    Notification {
        title: "Poste public — fin de session".into(),
        body: "Il vous reste 5 minutes — « attention »".into(),
        urgency: Urgency::Critical,
        timeout_secs: 10,
    }
}

#[test]
fn arguments_reach_notify_send_intact() {
    let bin = FakeBin::new();
    bin.exits("notify-send", 0);
    let n = Notification {
        body: "Il vous reste 5 minutes — « attention » \"enregistrez\" l'œuvre  $HOME `id` *"
            .into(),
        ..warning()
    };
    let env = bin.env(&[("DISPLAY", ":7")]);

    let outcome = CommandDesktop::new(env).notify(&n).unwrap();

    assert_eq!(outcome.method, "notify-send");
    assert_eq!(
        bin.args("notify-send"),
        [
            "-u",
            "critical",
            "-t",
            "10000",
            "-a",
            "Poste public",
            "Poste public — fin de session",
            "Il vous reste 5 minutes — « attention » \"enregistrez\" l'œuvre  $HOME `id` *",
        ]
    );
    // The environment's variables reach the program (the visitor's display).
    assert_eq!(bin.display_seen_by("notify-send"), ":7");
}

#[test]
fn zenity_takes_over_when_notify_send_fails_and_runs_detached() {
    let bin = FakeBin::new();
    bin.script(
        "notify-send",
        "echo 'Could not connect to the bus' >&2; exit 1",
    );
    // zenity stays until closed.
    bin.script("zenity", "sleep 3");
    let desktop = CommandDesktop::new(bin.env(&[]))
        .with_timeout(Duration::from_millis(200))
        .with_detach_grace(Duration::from_millis(300));

    let outcome = desktop.notify(&warning()).unwrap();

    assert_eq!(outcome.method, "zenity --warning");
    assert_eq!(
        bin.args("zenity"),
        [
            "--warning",
            "--no-markup",
            "--title",
            "Poste public — fin de session",
            "--text",
            "Il vous reste 5 minutes — « attention »",
            "--timeout",
            "10",
        ]
    );
}

#[test]
fn kdialog_and_xmessage_arguments() {
    let bin = FakeBin::new();
    bin.exits("kdialog", 1);
    bin.exits("xmessage", 0);
    let n = Notification {
        urgency: Urgency::Normal,
        timeout_secs: 4,
        ..warning()
    };
    let outcome = CommandDesktop::new(bin.env(&[])).notify(&n).unwrap();
    assert_eq!(outcome.method, "xmessage");
    assert_eq!(
        bin.args("kdialog"),
        [
            "--title",
            "Poste public — fin de session",
            "--passivepopup",
            "Il vous reste 5 minutes — « attention »",
            "4",
        ]
    );
    assert_eq!(
        bin.args("xmessage"),
        [
            "-center",
            "-timeout",
            "4",
            "Poste public — fin de session: Il vous reste 5 minutes — « attention »",
        ]
    );
}

#[test]
fn no_notifier_is_no_method() {
    let bin = FakeBin::new();
    assert_eq!(
        CommandDesktop::new(bin.env(&[]))
            .notify(&warning())
            .unwrap_err(),
        DesktopError::NoMethod { action: "notify" }
    );
}
