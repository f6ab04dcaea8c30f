//! Screen locking through fake programs.

use std::time::{Duration, Instant};

use poste_desktop::{CommandDesktop, Desktop, DesktopError, Method, ScreenLocker};

use crate::fake::FakeBin;

#[test]
fn the_first_failing_method_is_skipped_and_the_second_runs() {
    let bin = FakeBin::new();
    bin.exits("xflock4", 1);
    bin.exits("loginctl", 0);
    bin.exits("slock", 0);
    let env = bin.env(&[("XDG_CURRENT_DESKTOP", "XFCE"), ("XDG_SESSION_ID", "7")]);
    let desktop = CommandDesktop::new(env);
    assert_eq!(desktop.desktop(), &Desktop::Xfce);

    let outcome = desktop.lock().unwrap();

    assert_eq!(outcome.method, "loginctl lock-session 7");
    assert_eq!(bin.calls(), ["xflock4 ", "loginctl lock-session 7"]);
    assert_eq!(bin.args("loginctl"), ["lock-session", "7"]);
}

#[test]
fn programs_are_found_on_the_environment_s_path_only() {
    let bin = FakeBin::new();
    bin.exits("gnome-screensaver-command", 0);
    // This machine may well have a real loginctl or dbus-send on the test's own PATH: they must
    // not be used, since the environment's PATH is the fake directory.
    let env = bin.env(&[("XDG_CURRENT_DESKTOP", "ubuntu:GNOME")]);
    let names: Vec<String> = CommandDesktop::new(env.clone())
        .lock_methods()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["gnome-screensaver-command -l"]);

    // A program the snapshot believed present but that is gone by now: "not found".
    let mut stale = env;
    stale.programs.insert("dbus-send".into());
    let desktop = CommandDesktop::new(stale);
    let reason = desktop
        .try_method(&Method::new("dbus-send", &["--session"]))
        .unwrap_err();
    assert_eq!(reason, "not found on PATH");
}

#[test]
fn all_failing_is_all_failed_with_every_method_and_its_reason() {
    let bin = FakeBin::new();
    bin.script(
        "gnome-screensaver-command",
        "echo 'Failed to lock: no screensaver' >&2; exit 3",
    );
    bin.exits("dbus-send", 1);
    bin.script("loginctl", "kill -TERM $$");
    let mut env = bin.env(&[("XDG_CURRENT_DESKTOP", "GNOME")]);
    // Present when the snapshot was taken, gone since.
    env.programs.insert("xdg-screensaver".into());

    let err = CommandDesktop::new(env).lock().unwrap_err();

    let DesktopError::AllFailed { action, tried } = &err else {
        panic!("expected AllFailed, got {err:?}");
    };
    assert_eq!(*action, "lock");
    let names: Vec<&str> = tried.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "gnome-screensaver-command -l",
            "dbus-send --session --dest=org.gnome.ScreenSaver --type=method_call /org/gnome/ScreenSaver org.gnome.ScreenSaver.Lock",
            "loginctl lock-session",
            "xdg-screensaver lock",
        ]
    );
    assert_eq!(tried[0].1, "exit code 3: Failed to lock: no screensaver");
    assert_eq!(tried[1].1, "exit code 1");
    assert_eq!(tried[2].1, "killed by signal 15");
    assert_eq!(tried[3].1, "not found on PATH");
    // The error's message names them all too, for the report to the server.
    let message = err.to_string();
    assert!(message.contains("every method to lock failed"), "{message}");
    assert!(
        message.contains("xdg-screensaver lock (not found on PATH)"),
        "{message}"
    );
}

#[test]
fn nothing_on_path_is_no_method() {
    let bin = FakeBin::new();
    let desktop = CommandDesktop::new(bin.env(&[("XDG_CURRENT_DESKTOP", "KDE")]));
    assert!(desktop.environment().programs.is_empty());
    assert_eq!(
        desktop.lock().unwrap_err(),
        DesktopError::NoMethod { action: "lock" }
    );
    assert!(bin.calls().is_empty());
}

#[test]
fn a_hanging_method_is_killed_after_the_timeout_and_the_next_runs() {
    let bin = FakeBin::new();
    // The hanging program starts a child of its own: the timeout must kill it too.
    let sleeper_pid = bin.dir().join("sleeper.pid");
    bin.script(
        "gnome-screensaver-command",
        &format!("sleep 30 &\necho $! > '{}'\nwait", sleeper_pid.display()),
    );
    bin.exits("dbus-send", 0);
    let env = bin.env(&[("XDG_CURRENT_DESKTOP", "ubuntu:GNOME")]);
    let desktop = CommandDesktop::new(env).with_timeout(Duration::from_millis(500));

    let start = Instant::now();
    let outcome = desktop.lock().unwrap();
    let elapsed = start.elapsed();

    assert!(
        outcome.method.starts_with("dbus-send --session"),
        "{outcome:?}"
    );
    assert!(elapsed >= Duration::from_millis(500), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(bin.calls().len(), 2, "{:?}", bin.calls());
    // The whole process group went: the sleep the script started is dead (gone, or a zombie
    // waiting for its new parent to reap it).
    let pid = std::fs::read_to_string(&sleeper_pid).unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    let alive = loop {
        let alive = std::fs::read_to_string(format!("/proc/{}/status", pid.trim()))
            .map(|s| {
                !s.lines()
                    .any(|l| l.starts_with("State:") && l.contains('Z'))
            })
            .unwrap_or(false);
        if !alive || Instant::now() > deadline {
            break alive;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!alive, "sleep {pid} survived the timeout kill");
}

#[test]
fn the_timeout_reason_says_so() {
    let bin = FakeBin::new();
    bin.script("xflock4", "exec sleep 30");
    let desktop = CommandDesktop::new(bin.env(&[("XDG_CURRENT_DESKTOP", "XFCE")]))
        .with_timeout(Duration::from_millis(300));
    let err = desktop.lock().unwrap_err();
    assert_eq!(
        err,
        DesktopError::AllFailed {
            action: "lock",
            tried: vec![("xflock4".into(), "timed out after 300 ms (killed)".into())],
        }
    );
}

#[test]
fn a_detached_locker_still_running_after_the_grace_period_worked() {
    let bin = FakeBin::new();
    // slock stays until the screen is unlocked: here, 3 s.
    bin.script("slock", "sleep 3");
    let desktop = CommandDesktop::new(bin.env(&[("DESKTOP_SESSION", "i3")]))
        .with_timeout(Duration::from_millis(200))
        .with_detach_grace(Duration::from_millis(300));
    assert_eq!(desktop.desktop(), &Desktop::Other("i3".into()));

    let start = Instant::now();
    let outcome = desktop.lock().unwrap();

    // Neither killed by the (shorter) timeout nor waited for.
    assert_eq!(outcome.method, "slock");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(bin.calls(), ["slock "]);
}

#[test]
fn a_detached_locker_that_fails_at_once_is_skipped() {
    let bin = FakeBin::new();
    bin.script("slock", "echo 'slock: cannot open display' >&2; exit 1");
    bin.script("xtrlock", "sleep 3");
    // The default grace period (1 s): slock must be seen to fail within it, even on a busy machine.
    let desktop = CommandDesktop::new(bin.env(&[]));
    assert_eq!(desktop.desktop(), &Desktop::Unknown);

    let outcome = desktop.lock().unwrap();

    assert_eq!(outcome.method, "xtrlock");
    assert_eq!(bin.calls(), ["slock ", "xtrlock "]);
}

#[test]
fn a_detached_program_exiting_0_at_once_worked() {
    let bin = FakeBin::new();
    bin.exits("slock", 0);
    bin.exits("xtrlock", 0);
    let desktop = CommandDesktop::new(bin.env(&[])).with_detach_grace(Duration::from_secs(3));
    let start = Instant::now();
    assert_eq!(desktop.lock().unwrap().method, "slock");
    // Not waiting for the grace period when the program already said it worked.
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}
