//! Tests of the Windows implementation.
//!
//! Everywhere (Linux too): method selection per [`SessionContext`] (interactive session, service
//! in session 0, unknown session), fallback and reporting through a fake [`WindowsApi`] that
//! records its calls, the session-0 guard, and the text encodings of `msg` and the PowerShell
//! popup.
//!
//! Windows only (under wine in CI, `scripts/windows-check`): programs run as real processes
//! (fake `msg`, `powershell`, `logoff` as `.cmd` files on the environment's `PATH`) and report
//! exit codes and timeouts; `PATH` lookup with extensions; the harmless read-only system calls
//! (`ProcessIdToSessionId`, `WTSGetActiveConsoleSessionId`). `LockWorkStation`,
//! `WTSDisconnectSession`, `WTSLogoffSession`, `ExitWindowsEx` and the toast are never really
//! called: under wine they could end the wine session that runs the tests, and on a developer's
//! Windows machine they would lock or log it out.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use super::*;

/// A [`WindowsApi`] that records calls and fails those named in `fails`.
#[derive(Debug, Default)]
struct FakeApi {
    own: Option<u32>,
    console: Option<u32>,
    fails: HashSet<&'static str>,
    calls: Mutex<Vec<String>>,
}

impl FakeApi {
    fn new(own: Option<u32>, console: Option<u32>) -> FakeApi {
        FakeApi {
            own,
            console,
            ..FakeApi::default()
        }
    }

    fn failing(mut self, calls: &[&'static str]) -> FakeApi {
        self.fails.extend(calls);
        self
    }

    fn call(&self, name: &'static str, detail: String) -> Result<(), String> {
        self.calls
            .lock()
            .map_err(|e| e.to_string())?
            .push(format!("{name}{detail}"));
        if self.fails.contains(name) {
            Err(format!("{name} failed (fake)"))
        } else {
            Ok(())
        }
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl WindowsApi for FakeApi {
    fn own_session(&self) -> Option<u32> {
        self.own
    }
    fn active_console_session(&self) -> Option<u32> {
        self.console
    }
    fn lock_workstation(&self) -> Result<(), String> {
        self.call("LockWorkStation", String::new())
    }
    fn disconnect_session(&self, session_id: u32) -> Result<(), String> {
        self.call("WTSDisconnectSession", format!("({session_id})"))
    }
    fn logoff_session(&self, session_id: u32) -> Result<(), String> {
        self.call("WTSLogoffSession", format!("({session_id})"))
    }
    fn exit_windows_logoff(&self) -> Result<(), String> {
        self.call("ExitWindowsEx", String::new())
    }
    fn toast(&self, n: &Notification, app_id: Option<&str>) -> Result<(), String> {
        self.call("toast", format!("({}|{}|{app_id:?})", n.title, n.body))
    }
}

/// An environment whose programs are `programs` (not really on disk: for selection only).
fn env_with(programs: &[&str]) -> Environment {
    Environment {
        vars: HashMap::new(),
        programs: programs.iter().map(|p| (*p).to_owned()).collect(),
        ..Environment::default()
    }
}

fn desktop(api: &Arc<FakeApi>, env: Environment) -> WindowsDesktop {
    let api: Arc<dyn WindowsApi> = Arc::<FakeApi>::clone(api);
    WindowsDesktop::with_api(env, api)
}

fn names(methods: &[WinMethod]) -> Vec<String> {
    methods.iter().map(WinMethod::name).collect()
}

fn note() -> Notification {
    Notification {
        title: "Poste public".into(),
        body: "Il vous reste 5 minutes".into(),
        urgency: Urgency::Normal,
        timeout_secs: 10,
    }
}

/// RFC 4648 decoding, to check what the encoder produced.
fn unbase64(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    out
}

#[test]
fn the_desktop_is_windows_and_settings_apply() {
    let api = Arc::new(FakeApi::new(Some(1), Some(1)));
    let d = desktop(&api, env_with(&[])).with_timeout(Duration::from_secs(3));
    assert_eq!(d.desktop(), &Desktop::Other("windows".into()));
    assert_eq!(d.desktop().name(), WINDOWS_DESKTOP);
    assert_eq!(d.timeout(), Duration::from_secs(3));
    assert_eq!(
        d.context(),
        &SessionContext {
            own: Some(1),
            target: Session::Current
        }
    );
    let d = d.with_session(Session::Id(4));
    assert_eq!(d.context().target, Session::Id(4));
}

#[test]
fn interactive_session_methods() {
    let ctx = SessionContext::new(Some(2), Some(2));
    let env = env_with(WINDOWS_PROGRAMS);
    assert_eq!(
        windows_lock_methods(&ctx),
        [
            WinMethod::LockWorkStation,
            WinMethod::DisconnectSession(Session::Id(2))
        ]
    );
    let logout = windows_logout_methods(&ctx, &env);
    assert_eq!(
        names(&logout),
        [
            "WTSLogoffSession",
            "ExitWindowsEx",
            "logoff 2",
            "shutdown /l /f"
        ]
    );
    assert_eq!(logout[0], WinMethod::LogoffSession(Session::Id(2)));
    let n = note();
    let notify = windows_notify_methods(&ctx, &env, &n);
    assert_eq!(names(&notify), ["toast", "msg", "powershell popup"]);
    assert_eq!(notify[0], WinMethod::Toast(n));
    let WinMethod::Program(msg) = &notify[1] else {
        panic!("msg is a program: {notify:?}")
    };
    assert_eq!(
        msg.args,
        ["2", "/TIME:10", "Poste public: Il vous reste 5 minutes"]
    );
}

#[test]
fn a_service_in_session_0_acts_on_the_console_session_only() {
    let ctx = SessionContext::new(Some(0), Some(3));
    assert!(ctx.is_service());
    assert_eq!(ctx.target, Session::Id(3));
    let env = env_with(WINDOWS_PROGRAMS);
    // No LockWorkStation, ExitWindowsEx, toast, popup or `shutdown /l`: from session 0 they
    // would act on session 0 (or show there, unseen).
    assert_eq!(
        windows_lock_methods(&ctx),
        [WinMethod::DisconnectSession(Session::Id(3))]
    );
    assert_eq!(
        names(&windows_logout_methods(&ctx, &env)),
        ["WTSLogoffSession", "logoff 3"]
    );
    assert_eq!(names(&windows_notify_methods(&ctx, &env, &note())), ["msg"]);
}

#[test]
fn a_service_with_no_console_session_has_nothing_to_act_on() {
    let api = Arc::new(FakeApi::new(Some(0), None));
    let d = desktop(&api, env_with(WINDOWS_PROGRAMS));
    assert_eq!(d.context().acting_target(), None);
    assert_eq!(d.lock(), Err(DesktopError::NoMethod { action: "lock" }));
    assert_eq!(d.logout(), Err(DesktopError::NoMethod { action: "logout" }));
    assert_eq!(
        d.notify(&note()),
        Err(DesktopError::NoMethod { action: "notify" })
    );
    assert!(api.calls().is_empty());
}

#[test]
fn an_unknown_own_session_means_the_current_one() {
    let ctx = SessionContext::new(None, Some(1));
    assert_eq!(ctx.target, Session::Current);
    let env = env_with(WINDOWS_PROGRAMS);
    assert_eq!(
        windows_lock_methods(&ctx),
        [
            WinMethod::LockWorkStation,
            WinMethod::DisconnectSession(Session::Current)
        ]
    );
    assert_eq!(Session::Current.wts_id(), WTS_CURRENT_SESSION);
    assert_eq!(Session::Current.wts_id(), 0xFFFF_FFFF);
    let logout = windows_logout_methods(&ctx, &env);
    assert_eq!(
        names(&logout),
        [
            "WTSLogoffSession",
            "ExitWindowsEx",
            "logoff",
            "shutdown /l /f"
        ]
    );
    let notify = windows_notify_methods(&ctx, &env, &note());
    let WinMethod::Program(msg) = &notify[1] else {
        panic!("msg is a program: {notify:?}")
    };
    assert_eq!(msg.args[0], "*");
}

#[test]
fn session_0_is_never_acted_on() {
    let api = Arc::new(FakeApi::new(Some(1), Some(1)));
    let d = desktop(&api, env_with(WINDOWS_PROGRAMS)).with_session(Session::Id(0));
    assert_eq!(names(&d.lock_methods()), ["LockWorkStation"]);
    assert_eq!(
        names(&d.logout_methods()),
        ["ExitWindowsEx", "shutdown /l /f"]
    );
    assert_eq!(
        names(&d.notify_methods(&note())),
        ["toast", "powershell popup"]
    );
    // Even when asked directly.
    for m in [
        WinMethod::LogoffSession(Session::Id(0)),
        WinMethod::DisconnectSession(Session::Id(0)),
    ] {
        assert!(d.try_method(&m).unwrap_err().contains("session 0"));
    }
    assert!(api.calls().is_empty());
}

#[test]
fn programs_only_when_present() {
    let ctx = SessionContext::new(Some(1), Some(1));
    let env = env_with(&["msg"]);
    assert_eq!(
        names(&windows_logout_methods(&ctx, &env)),
        ["WTSLogoffSession", "ExitWindowsEx"]
    );
    assert_eq!(
        names(&windows_notify_methods(&ctx, &env, &note())),
        ["toast", "msg"]
    );
}

#[test]
fn lock_reports_the_method_that_worked() {
    let api = Arc::new(FakeApi::new(Some(2), Some(2)));
    let d = desktop(&api, env_with(&[]));
    assert_eq!(
        d.lock(),
        Ok(Outcome {
            method: "LockWorkStation".into()
        })
    );
    assert_eq!(api.calls(), ["LockWorkStation"]);

    let api = Arc::new(FakeApi::new(Some(2), Some(2)).failing(&["LockWorkStation"]));
    let d = desktop(&api, env_with(&[]));
    assert_eq!(
        d.lock(),
        Ok(Outcome {
            method: "WTSDisconnectSession".into()
        })
    );
    assert_eq!(api.calls(), ["LockWorkStation", "WTSDisconnectSession(2)"]);
}

#[test]
fn a_lock_that_fails_everywhere_says_why_for_each_method() {
    let api = Arc::new(
        FakeApi::new(Some(2), Some(2)).failing(&["LockWorkStation", "WTSDisconnectSession"]),
    );
    let d = desktop(&api, env_with(&[]));
    let err = d.lock().unwrap_err();
    assert_eq!(
        err,
        DesktopError::AllFailed {
            action: "lock",
            tried: vec![
                (
                    "LockWorkStation".into(),
                    "LockWorkStation failed (fake)".into()
                ),
                (
                    "WTSDisconnectSession".into(),
                    "WTSDisconnectSession failed (fake)".into()
                ),
            ]
        }
    );
    assert!(err.to_string().contains("every method to lock failed"));
}

#[test]
fn logout_stops_at_the_first_method_that_works() {
    let api = Arc::new(FakeApi::new(Some(2), Some(2)));
    let d = desktop(&api, env_with(&[]));
    assert_eq!(
        d.logout(),
        Ok(Outcome {
            method: "WTSLogoffSession".into()
        })
    );
    assert_eq!(api.calls(), ["WTSLogoffSession(2)"]);

    let api = Arc::new(FakeApi::new(Some(2), Some(2)).failing(&["WTSLogoffSession"]));
    let d = desktop(&api, env_with(&[]));
    assert_eq!(
        d.logout(),
        Ok(Outcome {
            method: "ExitWindowsEx".into()
        })
    );
    assert_eq!(api.calls(), ["WTSLogoffSession(2)", "ExitWindowsEx"]);

    // A service: the console session, by id.
    let api = Arc::new(FakeApi::new(Some(0), Some(5)));
    let d = desktop(&api, env_with(&[]));
    assert_eq!(
        d.logout().map(|o| o.method),
        Ok("WTSLogoffSession".to_owned())
    );
    assert_eq!(api.calls(), ["WTSLogoffSession(5)"]);
}

#[test]
fn a_toast_carries_the_text_and_the_app_id() {
    let api = Arc::new(FakeApi::new(Some(1), Some(1)));
    let d = desktop(&api, env_with(&[])).with_app_id("PostesPublics.Agent");
    assert_eq!(d.notify(&note()).map(|o| o.method), Ok("toast".to_owned()));
    assert_eq!(
        api.calls(),
        ["toast(Poste public|Il vous reste 5 minutes|Some(\"PostesPublics.Agent\"))"]
    );

    let api = Arc::new(FakeApi::new(Some(1), Some(1)).failing(&["toast"]));
    let d = desktop(&api, env_with(&[]));
    assert_eq!(
        d.notify(&note()),
        Err(DesktopError::AllFailed {
            action: "notify",
            tried: vec![("toast".into(), "toast failed (fake)".into())]
        })
    );
    assert_eq!(
        api.calls(),
        ["toast(Poste public|Il vous reste 5 minutes|None)"]
    );
}

#[test]
fn msg_arguments() {
    let n = Notification {
        timeout_secs: 0,
        ..note()
    };
    // No /TIME: msg's own default.
    assert_eq!(
        msg_method(Session::Id(7), &n).args,
        ["7", "Poste public: Il vous reste 5 minutes"]
    );
    assert_eq!(
        msg_method(Session::Current, &note()).args[..2],
        ["*", "/TIME:10"]
    );
    assert!(!msg_method(Session::Current, &note()).is_detached());
}

#[test]
fn base64_vectors() {
    for (plain, encoded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64(plain.as_bytes()), encoded);
        assert_eq!(unbase64(encoded), plain.as_bytes());
    }
    let all: Vec<u8> = (0..=255).collect();
    assert_eq!(unbase64(&base64(&all)), all);
}

#[test]
fn the_popup_script_carries_the_text_encoded() {
    let n = Notification {
        title: "Fin de session « 1 min »".into(),
        body: "'; Remove-Item C:\\ -Recurse; ' ‘quoted’ $env:USERNAME".into(),
        urgency: Urgency::Critical,
        timeout_secs: 15,
    };
    let m = powershell_popup(&n);
    assert_eq!(m.name, "powershell popup");
    assert_eq!(m.program, "powershell");
    assert!(m.is_detached());
    assert_eq!(
        m.args[..5],
        [
            "-NoProfile",
            "-NonInteractive",
            "-ExecutionPolicy",
            "Bypass",
            "-EncodedCommand"
        ]
    );
    let utf16: Vec<u16> = unbase64(&m.args[5])
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let script = String::from_utf16(&utf16).unwrap();
    // The text only appears base64-encoded, so nothing in it is PowerShell syntax.
    assert!(!script.contains("Remove-Item"), "{script}");
    assert!(script.contains(&format!("'{}'", base64(n.body.as_bytes()))));
    assert!(script.contains(&format!("'{}'", base64(n.title.as_bytes()))));
    assert!(script.contains("WScript.Shell"));
    assert!(script.contains(", 15, "), "{script}");
    assert!(
        script.ends_with(&format!("{})", 0x10 | 0x4_0000)),
        "{script}"
    );
}

#[test]
fn power_is_the_shutdown_program_forced_at_once_from_a_service_too() {
    let env = env_with(WINDOWS_PROGRAMS);
    assert_eq!(
        names(&windows_power_methods(&env, PowerAction::PowerOff)),
        ["shutdown /s /t 0 /f"]
    );
    assert_eq!(
        names(&windows_power_methods(&env, PowerAction::Restart)),
        ["shutdown /r /t 0 /f"]
    );
    assert!(windows_power_methods(&env_with(&["logoff"]), PowerAction::PowerOff).is_empty());
    // Session 0 or not, no API call is made: the list is the program only. `PATH` is an
    // empty directory, so that no real `shutdown` can ever run from a test.
    let empty = tempfile::tempdir().unwrap();
    let mut env = env;
    env.vars
        .insert("PATH".into(), empty.path().display().to_string());
    let api = Arc::new(FakeApi::new(Some(0), Some(3)));
    let d = desktop(&api, env);
    assert_eq!(
        names(&d.power_methods(PowerAction::Restart)),
        ["shutdown /r /t 0 /f"]
    );
    assert_eq!(
        d.power(PowerAction::PowerOff),
        Err(DesktopError::AllFailed {
            action: "poweroff",
            tried: vec![("shutdown /s /t 0 /f".into(), "not found on PATH".into())]
        })
    );
    assert!(api.calls.lock().unwrap().is_empty());
}

/// Real processes under Windows (wine in CI): the program fallbacks, their exit codes and
/// timeouts, and `PATH` lookup with extensions.
#[cfg(windows)]
mod processes {
    use std::path::Path;

    use super::*;

    /// A fake program `NAME.cmd` in `dir` that appends its arguments to `calls.log`, then
    /// runs `then` (batch).
    fn fake(dir: &Path, name: &str, then: &str) {
        let log = dir.join("calls.log");
        // The redirection first: `echo x 2>>log` would redirect stderr.
        let body = format!(
            "@echo off\r\n>>\"{log}\" echo {name} %*\r\n{then}\r\n",
            log = log.display()
        );
        std::fs::write(dir.join(format!("{name}.cmd")), body).unwrap();
    }

    fn calls(dir: &Path) -> Vec<String> {
        std::fs::read_to_string(dir.join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.trim().to_owned())
            .collect()
    }

    /// The environment of the test process with `dir` as its only `PATH`.
    fn env_on(dir: &Path) -> Environment {
        let mut vars: HashMap<String, String> = std::env::vars()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("PATH"))
            .collect();
        vars.insert("PATH".into(), dir.display().to_string());
        Environment::from_vars(vars)
    }

    #[test]
    fn programs_are_found_with_their_extension() {
        let dir = tempfile::tempdir().unwrap();
        fake(dir.path(), "msg", "exit /b 0");
        let path = dir.path().display().to_string();
        assert_eq!(
            crate::detect::find_program("msg", &path),
            Some(dir.path().join("msg.cmd"))
        );
        assert_eq!(
            crate::detect::find_program("msg.cmd", &path),
            Some(dir.path().join("msg.cmd"))
        );
        assert_eq!(crate::detect::find_program("logoff", &path), None);
        let env = env_on(dir.path());
        assert_eq!(env.programs, HashSet::from(["msg".to_owned()]));
        // Variable names are case-insensitive on Windows.
        assert_eq!(env.var("path"), Some(path.as_str()));
    }

    #[test]
    fn the_current_environment_is_windows() {
        let env = Environment::current();
        assert!(env.var("path").is_some(), "{:?}", env.vars.keys());
        let d = WindowsDesktop::new(env);
        assert_eq!(d.desktop().name(), "windows");
        // Read-only system calls: harmless under wine and on a real machine.
        let api = SystemApi;
        let own = api.own_session();
        assert!(own.is_some(), "ProcessIdToSessionId failed");
        assert_eq!(d.context().own, own);
        let _ = api.active_console_session();
    }

    /// The real toast (notify-rust's WinRT backend) is harmless to call: on Windows it shows,
    /// under wine 8 (no WinRT toast class) it fails with `REGDB_E_CLASSNOTREG` (0x80040154).
    /// Either way the chain reports what happened: `toast`, or `msg` after it.
    #[test]
    fn the_real_chain_shows_a_toast_or_falls_back_to_msg() {
        let dir = tempfile::tempdir().unwrap();
        fake(dir.path(), "msg", "exit /b 0");
        let n = Notification {
            title: "Poste public (test)".into(),
            body: "Notification de test de poste-desktop".into(),
            urgency: Urgency::Normal,
            timeout_secs: 5,
        };
        let outcome = WindowsDesktop::new(env_on(dir.path())).notify(&n).unwrap();
        match outcome.method.as_str() {
            "toast" => assert!(calls(dir.path()).is_empty()),
            "msg" => {
                let err = SystemApi.toast(&n, None).unwrap_err();
                assert!(!err.is_empty());
                assert_eq!(calls(dir.path()).len(), 1);
            }
            other => panic!("unexpected method {other}"),
        }
    }

    #[test]
    fn a_notification_by_msg_reports_its_outcome() {
        let dir = tempfile::tempdir().unwrap();
        fake(dir.path(), "msg", "exit /b 0");
        let api = Arc::new(FakeApi::new(Some(2), Some(2)).failing(&["toast"]));
        let d = desktop(&api, env_on(dir.path()));
        assert_eq!(d.notify(&note()).map(|o| o.method), Ok("msg".to_owned()));
        assert_eq!(
            calls(dir.path()),
            ["msg 2 /TIME:10 \"Poste public: Il vous reste 5 minutes\""]
        );
    }

    #[test]
    fn a_failing_msg_falls_back_to_the_popup() {
        let dir = tempfile::tempdir().unwrap();
        fake(dir.path(), "msg", "exit /b 5");
        fake(dir.path(), "powershell", "exit /b 0");
        let api = Arc::new(FakeApi::new(Some(2), Some(2)).failing(&["toast"]));
        let d = desktop(&api, env_on(dir.path()));
        assert_eq!(
            d.notify(&note()).map(|o| o.method),
            Ok("powershell popup".to_owned())
        );
        let calls = calls(dir.path());
        assert_eq!(calls.len(), 2, "{calls:?}");
        assert!(calls[1].starts_with("powershell -NoProfile"), "{calls:?}");
    }

    #[test]
    fn a_popup_still_showing_after_the_grace_period_worked() {
        let dir = tempfile::tempdir().unwrap();
        let ended = dir.path().join("ended");
        // Stays about 2 s (as the popup does until closed or timed out), then says so. `ping`
        // (by full path: `PATH` is the fakes' directory) is the batch way to wait without burning a CPU. It must end by itself: under wine a
        // program left running keeps the test's output pipe open.
        fake(
            dir.path(),
            "powershell",
            &format!(
                "\"%SystemRoot%\\System32\\ping.exe\" -n 3 127.0.0.1 >nul\r\n>\"{}\" echo ended\r\nexit /b 0",
                ended.display()
            ),
        );
        let api = Arc::new(FakeApi::new(Some(2), Some(2)).failing(&["toast"]));
        let d = desktop(&api, env_on(dir.path())).with_detach_grace(Duration::from_millis(300));
        assert_eq!(
            d.notify(&note()).map(|o| o.method),
            Ok("powershell popup".to_owned())
        );
        // It counted as shown while still running (left running, not waited for)...
        assert!(!ended.exists(), "the popup was waited for");
        // ...and ends on its own.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !ended.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(ended.exists(), "the fake popup never ended");
    }

    #[test]
    fn every_notification_method_failing_is_reported_with_reasons() {
        let dir = tempfile::tempdir().unwrap();
        fake(dir.path(), "msg", "exit /b 5");
        fake(dir.path(), "powershell", "exit /b 1");
        let api = Arc::new(FakeApi::new(Some(2), Some(2)).failing(&["toast"]));
        let d = desktop(&api, env_on(dir.path()));
        let Err(DesktopError::AllFailed { action, tried }) = d.notify(&note()) else {
            panic!("expected every method to fail")
        };
        assert_eq!(action, "notify");
        assert_eq!(
            tried,
            [
                ("toast".to_owned(), "toast failed (fake)".to_owned()),
                ("msg".to_owned(), "exit code 5".to_owned()),
                ("powershell popup".to_owned(), "exit code 1".to_owned()),
            ]
        );
    }

    #[test]
    fn a_hanging_program_is_killed_at_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        fake(dir.path(), "msg", ":spin\r\ngoto spin");
        let api = Arc::new(FakeApi::new(Some(2), Some(2)).failing(&["toast"]));
        let d = desktop(&api, env_on(dir.path())).with_timeout(Duration::from_millis(500));
        let started = std::time::Instant::now();
        let Err(DesktopError::AllFailed { tried, .. }) = d.notify(&note()) else {
            panic!("expected the hanging msg to fail")
        };
        assert_eq!(tried[1].0, "msg");
        assert!(
            tried[1].1.starts_with("timed out after 500 ms"),
            "{tried:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn logout_falls_back_to_the_logoff_program() {
        let dir = tempfile::tempdir().unwrap();
        fake(dir.path(), "logoff", "exit /b 0");
        let api = Arc::new(
            FakeApi::new(Some(2), Some(2)).failing(&["WTSLogoffSession", "ExitWindowsEx"]),
        );
        let d = desktop(&api, env_on(dir.path()));
        assert_eq!(d.logout().map(|o| o.method), Ok("logoff 2".to_owned()));
        assert_eq!(api.calls(), ["WTSLogoffSession(2)", "ExitWindowsEx"]);
        assert_eq!(calls(dir.path()), ["logoff 2"]);
    }
}
