//! The installed agent's two halves as real processes: `poste-client service` (what systemd
//! runs as root) and `poste-client helper` (what runs in the visitor's session), over their
//! Unix socket. The code is typed into the helper; the service locks and ends the visitor's
//! logind session; killing the helper locks the screen at once.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use poste_testkit::TestServer;
use serde_json::json;

use crate::{AGENT, FakeDesktop, agent, unix_now, wait_exit};

/// This process's uid (the owner of a file it creates), to play the session's owner.
pub(crate) fn my_uid(desktop: &FakeDesktop) -> u32 {
    let probe = desktop.dir.path().join("uid-probe");
    std::fs::write(&probe, b"").unwrap();
    std::fs::metadata(&probe).unwrap().uid()
}

struct Split {
    service: Child,
    helper: Child,
}

impl Drop for Split {
    fn drop(&mut self) {
        for child in [&mut self.service, &mut self.helper] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn start(desktop: &FakeDesktop, server: &str, session_uid: u32) -> Split {
    start_with_type(desktop, server, session_uid, "x11")
}

fn start_with_type(desktop: &FakeDesktop, server: &str, session_uid: u32, kind: &str) -> Split {
    let socket = desktop.dir.path().join("run/helper.sock");
    let log = std::fs::File::create(desktop.dir.path().join("service.log")).unwrap();
    let mut service = agent(
        desktop,
        server,
        &["service", "--socket", socket.to_str().unwrap()],
    );
    service
        .env("FAKE_SESSION_UID", session_uid.to_string())
        .env("FAKE_SESSION_TYPE", kind)
        .stdout(Stdio::null())
        .stderr(log);
    let service = service.spawn().unwrap();
    let helper = spawn_helper(desktop);
    Split { service, helper }
}

/// The helper in the visitor's session `c42`, speaking to the service's socket.
fn spawn_helper(desktop: &FakeDesktop) -> Child {
    let socket = desktop.dir.path().join("run/helper.sock");
    Command::new(AGENT)
        .args(["helper", "--socket", socket.to_str().unwrap()])
        .env_clear()
        .env("PATH", desktop.bin())
        .env("XDG_SESSION_ID", "c42")
        .env("LOG_LEVEL", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn type_code(split: &mut Split, code: &str) {
    let stdin = split.helper.stdin.as_mut().unwrap();
    writeln!(stdin, "{code}").unwrap();
}

pub(crate) async fn wait_started(server: &TestServer, id: i64) -> f64 {
    for _ in 0..200 {
        let row = server.store.session(id).await.unwrap().unwrap();
        if let Some(deadline) = row.deadline() {
            return deadline as f64 / 1000.0;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("session {id} never started");
}

/// The visitor's session `session` is locked within 1 s of `deadline` (a Unix time), then
/// logged out within 3 s.
async fn assert_ends_on_time(desktop: &FakeDesktop, session: &str, deadline: f64) {
    let lock = wait_call(
        desktop,
        &format!("loginctl lock-session {session}"),
        Duration::from_secs_f64((deadline - unix_now() + 2.0).max(0.5)),
    )
    .await;
    assert!(
        (lock - deadline).abs() < 1.0,
        "locked at {lock:.3}, deadline {deadline:.3}"
    );
    wait_call(
        desktop,
        &format!("loginctl terminate-session {session}"),
        Duration::from_secs(3),
    )
    .await;
}

pub(crate) async fn wait_call(desktop: &FakeDesktop, prefix: &str, within: Duration) -> f64 {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some((at, _)) = desktop
            .calls()
            .into_iter()
            .find(|(_, call)| call.starts_with(prefix))
        {
            return at;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no `{prefix}` within {within:?}: {:#?}",
            desktop.calls()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_service_locks_and_ends_the_visitors_session_and_the_helper_shows_the_warnings() {
    let server = TestServer::start().await;
    let (id, code) = server
        .create_session(json!({"utilisateur": "Awa", "duree": "5s"}))
        .await;
    let desktop = FakeDesktop::new(&["loginctl", "notify-send"]);
    let uid = my_uid(&desktop);
    let mut split = start(&desktop, &server.http_url(""), uid);
    tokio::time::sleep(Duration::from_millis(500)).await;
    type_code(&mut split, &code);
    let deadline = wait_started(&server, id).await;

    let locked_at = wait_call(
        &desktop,
        "loginctl lock-session c42",
        Duration::from_secs(10),
    )
    .await;
    assert!(
        (locked_at - deadline).abs() < 0.5,
        "locked {:.3} s from the deadline",
        locked_at - deadline
    );
    let ended_at = wait_call(
        &desktop,
        "loginctl terminate-session c42",
        Duration::from_secs(5),
    )
    .await;
    assert!(ended_at >= locked_at);
    // The goodbye line comes once the log-out returned (and the home restore, when set).
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The warnings were shown in the visitor's session, by the helper.
    let calls = desktop.calls();
    let notes: Vec<_> = calls
        .iter()
        .filter(|(_, call)| call.starts_with("notify-send"))
        .collect();
    assert_eq!(notes.len(), 2, "{calls:#?}");
    assert!(
        notes[0].1.contains("Il vous reste 3 secondes"),
        "{calls:#?}"
    );
    // The service checked who owns the session before trusting the helper.
    assert!(calls.iter().any(|(_, call)| {
        call.starts_with("loginctl show-session c42 --property=User --property=Type")
    }));

    // The helper printed what the service said.
    let _ = split.helper.kill();
    let output = std::mem::replace(&mut split.helper, Command::new("true").spawn().unwrap())
        .wait_with_output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Bienvenue Awa"), "{stdout}");
    assert!(stdout.contains("Au revoir"), "{stdout}");
}

/// A server, the service and its helper, and a session of `duree` typed at the helper and
/// started; returns them with the session's id and deadline (Unix seconds).
async fn in_session(duree: &str) -> (TestServer, FakeDesktop, Split, i64, f64) {
    let server = TestServer::start().await;
    let (id, code) = server.create_session(json!({ "duree": duree })).await;
    let desktop = FakeDesktop::new(&["loginctl", "notify-send"]);
    let uid = my_uid(&desktop);
    let mut split = start(&desktop, &server.http_url(""), uid);
    tokio::time::sleep(Duration::from_millis(500)).await;
    type_code(&mut split, &code);
    let deadline = wait_started(&server, id).await;
    (server, desktop, split, id, deadline)
}

/// The helper killed three times during a session, and started again each time (as its user
/// unit would): the screen is locked within a second of each kill, and the session goes on
/// with its time untouched.
#[tokio::test]
async fn killing_the_helper_repeatedly_locks_the_screen_each_time_and_wins_no_time() {
    let (server, desktop, mut split, id, _) = in_session("1h").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let locks = |desktop: &FakeDesktop| -> Vec<f64> {
        desktop
            .calls()
            .into_iter()
            .filter(|(_, call)| call.starts_with("loginctl lock-session c42"))
            .map(|(at, _)| at)
            .collect()
    };
    assert!(locks(&desktop).is_empty());
    for kill in 1..=3 {
        split.helper.kill().unwrap();
        let _ = split.helper.wait();
        let killed_at = unix_now();
        let within = std::time::Instant::now() + Duration::from_secs(3);
        while locks(&desktop).len() < kill {
            assert!(std::time::Instant::now() < within, "kill {kill}: no lock");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let locked_at = locks(&desktop)[kill - 1];
        assert!(
            locked_at - killed_at < 1.0,
            "kill {kill}: locked {:.3} s after the helper died",
            locked_at - killed_at
        );
        split.helper = spawn_helper(&desktop);
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    // The session itself goes on (the deadline is the service's): not ended, nothing added.
    let row = server.store.session(id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "active");
    assert_eq!(row.total_secs(), 3600);
}

#[tokio::test]
async fn a_helper_cannot_speak_for_another_users_session() {
    let server = TestServer::start().await;
    let desktop = FakeDesktop::new(&["loginctl", "notify-send"]);
    let uid = my_uid(&desktop);
    // logind says session c42 belongs to someone else.
    let mut split = start(&desktop, &server.http_url(""), uid.wrapping_add(4242));
    let mut helper = std::mem::replace(&mut split.helper, Command::new("true").spawn().unwrap());
    let status = tokio::task::spawn_blocking(move || {
        (wait_exit(&mut helper, Duration::from_secs(10)), helper)
    })
    .await
    .unwrap();
    let (status, helper) = status;
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(3),
        "refused helper exits with 3"
    );
    let output = helper.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains("refuse cet assistant"));
}

#[tokio::test]
async fn a_helper_in_a_remote_shell_is_not_the_visitors_helper() {
    let server = TestServer::start().await;
    let desktop = FakeDesktop::new(&["loginctl", "notify-send"]);
    let uid = my_uid(&desktop);
    // The right user, but a text session (an SSH login), not the graphical one.
    let mut split = start_with_type(&desktop, &server.http_url(""), uid, "tty");
    let mut helper = std::mem::replace(&mut split.helper, Command::new("true").spawn().unwrap());
    let (status, _) = tokio::task::spawn_blocking(move || {
        (wait_exit(&mut helper, Duration::from_secs(10)), helper)
    })
    .await
    .unwrap();
    assert_eq!(status.and_then(|s| s.code()), Some(3));
}

#[test]
fn the_helper_logs_to_its_session_not_to_the_services_log_file() {
    let desktop = FakeDesktop::new(&["loginctl"]);
    let config = desktop.dir.path().join("config.toml");
    // A log file the visitor could not write (here: nobody can).
    std::fs::write(&config, "log_file = \"/nonexistent/poste-client.log\"\n").unwrap();
    let socket = desktop.dir.path().join("run/helper.sock");
    let args = |part: &str| {
        let mut command = Command::new(AGENT);
        command
            .args(["--config", config.to_str().unwrap(), part])
            .args(["--socket", socket.to_str().unwrap()])
            .env_clear()
            .env("PATH", desktop.bin())
            .env("XDG_SESSION_ID", "c42")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    };
    // The service needs its log file and says so.
    let output = args("service").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("log_file"));
    // The helper, with the same configuration, runs (waiting for its service).
    let mut helper = args("helper").spawn().unwrap();
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        helper.try_wait().unwrap().is_none(),
        "the helper stopped on the service's log file"
    );
    helper.kill().unwrap();
    let _ = helper.wait();
}

#[tokio::test]
async fn the_visitor_asks_for_more_time_then_ends_the_session_from_the_helper() {
    let server = TestServer::start().await;
    let (id, code) = server
        .create_session(json!({"utilisateur": "Awa", "duree": "1h"}))
        .await;
    let desktop = FakeDesktop::new(&["loginctl", "notify-send"]);
    let uid = my_uid(&desktop);
    let mut split = start(&desktop, &server.http_url(""), uid);
    tokio::time::sleep(Duration::from_millis(500)).await;
    type_code(&mut split, &code);
    wait_started(&server, id).await;

    // "plus" at the helper: a request reaches the server, through the service.
    type_code(&mut split, "plus");
    let mut request = None;
    for _ in 0..200 {
        request = server.store.pending_time_requests().await.unwrap().pop();
        if request.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let request = request.expect("the request reached the server");
    assert_eq!((request.session_id, request.minutes), (id, None));
    server
        .api()
        .post_ok(
            &format!("/time-requests/{}/accept", request.id),
            json!({"duree": "10m"}),
        )
        .await;
    // The answer is shown in the visitor's session (notification by the helper).
    wait_call(&desktop, "notify-send", Duration::from_secs(5)).await;
    let row = server.store.session(id).await.unwrap().unwrap();
    assert_eq!(row.total_secs(), 3600 + 600);

    // "fin", confirmed by "oui": the server ends it as the visitor's, the service locks and
    // logs out. A "fin" alone ends nothing (a word typed by mistake).
    type_code(&mut split, "fin");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        server
            .store
            .session(id)
            .await
            .unwrap()
            .unwrap()
            .end_reason
            .is_none(),
        "« fin » alone ended the session"
    );
    type_code(&mut split, "oui");
    wait_call(
        &desktop,
        "loginctl terminate-session c42",
        Duration::from_secs(10),
    )
    .await;
    let row = server.store.session(id).await.unwrap().unwrap();
    assert_eq!(row.end_reason.as_deref(), Some("termine_par_visiteur"));

    let _ = split.helper.kill();
    let output = std::mem::replace(&mut split.helper, Command::new("true").spawn().unwrap())
        .wait_with_output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("tapez « plus »"), "{stdout}");
    assert!(stdout.contains("Votre demande a été transmise"), "{stdout}");
    assert!(
        stdout.contains("Demande acceptée : 10 minutes de plus."),
        "{stdout}"
    );
    assert!(stdout.contains("Tapez « oui » pour confirmer"), "{stdout}");
    assert!(
        stdout.contains("Vous avez terminé votre session"),
        "{stdout}"
    );
}

/// The service SIGKILLed three times during a session and restarted at once, as systemd's
/// `Restart=always` would: the restarted service takes the session up from its running-session
/// file (same boot), the server's deadline does not move (killing wins no time), and the
/// workstation is locked and logged out at the deadline.
#[tokio::test]
async fn killing_the_service_repeatedly_wins_no_time() {
    let (server, desktop, mut split, id, deadline) = in_session("9s").await;
    let uid = my_uid(&desktop);
    let kept = desktop.dir.path().join("state/session-en-cours.json");
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert!(kept.exists(), "the running session is kept for a restart");
        split.service.kill().unwrap();
        let _ = split.service.wait();
        // The supervisors restart it, and the helper with it (its link to the service died):
        // the old pair is dropped.
        let mut restarted = start(&desktop, &server.http_url(""), uid);
        std::mem::swap(&mut split, &mut restarted);
        drop(restarted);
    }
    let until_end = deadline - unix_now() + 3.0;
    tokio::time::sleep(Duration::from_secs_f64(until_end.max(0.0))).await;
    let row = server.store.session(id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "expiree", "the server ended it");
    assert_eq!(row.ended_at, row.deadline());
    assert_eq!(row.total_secs(), 9, "no time won");
    let log = std::fs::read_to_string(desktop.dir.path().join("service.log")).unwrap_or_default();
    assert!(log.contains("taking it up"), "{log}");
    assert!(!kept.exists(), "nothing left to resume after the end");
    let locks: Vec<f64> = desktop
        .calls()
        .into_iter()
        .filter(|(_, call)| call.starts_with("loginctl lock-session"))
        .map(|(at, _)| at)
        .collect();
    assert!(
        locks.iter().any(|at| (at - deadline).abs() < 1.0),
        "no lock within 1 s of the deadline ({deadline:.3}): {locks:?}\n{:#?}\n{}",
        desktop.calls(),
        std::fs::read_to_string(desktop.dir.path().join("service.log")).unwrap_or_default()
    );
}

/// The service killed during a session and started again while the server cannot be reached:
/// the session is taken up from its file all the same and ends at its deadline, locked and
/// logged out, with no server to say so.
#[tokio::test]
async fn a_service_restarted_without_the_server_still_ends_the_session_on_time() {
    let (_server, desktop, mut split, _id, deadline) = in_session("6s").await;
    let uid = my_uid(&desktop);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    split.service.kill().unwrap();
    let _ = split.service.wait();
    // Nothing listens there: the link never comes up.
    let unreachable = format!("http://127.0.0.1:{}", poste_testkit::free_port());
    let mut restarted = start(&desktop, &unreachable, uid);
    std::mem::swap(&mut split, &mut restarted);
    drop(restarted);
    assert_ends_on_time(&desktop, "c42", deadline).await;
}

/// The workstation's disk full during a session (the service's log file and its state
/// directory, where the running session is kept, on a tmpfs filled to the last byte): nothing
/// can be written, and the session still ends on time, locked then logged out.
#[tokio::test]
async fn a_full_disk_on_the_workstation_changes_nothing_to_the_end() {
    let test = "a_full_disk_on_the_workstation_changes_nothing_to_the_end";
    let Some(disk) = poste_testkit::disk::Tmpfs::mount_or_skip(test, "1m") else {
        return;
    };
    let server = TestServer::start().await;
    let (id, code) = server.create_session(json!({ "duree": "6s" })).await;
    let desktop = FakeDesktop::new(&["loginctl", "notify-send"]);
    let config = desktop.dir.path().join("config.toml");
    let log = disk.path().join("poste-client.log");
    std::fs::write(&config, format!("log_file = {:?}\n", log.to_str().unwrap())).unwrap();
    let socket = desktop.dir.path().join("run/helper.sock");
    let mut service = agent(
        &desktop,
        &server.http_url(""),
        &[
            "--config",
            config.to_str().unwrap(),
            "service",
            "--socket",
            socket.to_str().unwrap(),
        ],
    );
    service
        .env("POSTE_SECRET_FILE", disk.path().join("state/secret"))
        .env("FAKE_SESSION_UID", my_uid(&desktop).to_string())
        .env("FAKE_SESSION_TYPE", "x11")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut split = Split {
        service: service.spawn().unwrap(),
        helper: spawn_helper(&desktop),
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(disk.fill() > 0, "the filler wrote nothing");
    type_code(&mut split, &code);
    let deadline = wait_started(&server, id).await;
    assert_ends_on_time(&desktop, "c42", deadline).await;
    assert!(
        !disk.path().join("state/session-en-cours.json").exists(),
        "nothing could be written there"
    );
    assert_eq!(
        wait_exit(&mut split.service, Duration::ZERO),
        None,
        "the service still runs"
    );
}

/// The workstation boots while the server is down: a code typed at the gate is refused at
/// once (nothing can check it), and is not kept to open a session when the server comes back,
/// perhaps after the visitor has left; once the link is up, the same code opens the session.
#[tokio::test]
async fn a_code_typed_while_the_server_is_unreachable_is_refused_and_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = poste_testkit::fast_config(dir.path());
    config.bind = std::net::SocketAddr::from(([127, 0, 0, 1], poste_testkit::free_port()));
    let url = format!("http://{}", config.bind);
    let server = TestServer::start_config(config.clone(), None)
        .await
        .unwrap();
    let (id, code) = server.create_session(json!({ "duree": "1h" })).await;
    server.stop().await;

    let desktop = FakeDesktop::new(&["loginctl", "notify-send"]);
    let service_log = desktop.dir.path().join("service.log");
    let mut split = start(&desktop, &url, my_uid(&desktop));
    let logged = |what: &str| {
        std::fs::read_to_string(&service_log)
            .unwrap_or_default()
            .matches(what)
            .count()
    };
    let within = std::time::Instant::now() + Duration::from_secs(10);
    while logged("server unreachable") == 0 {
        assert!(std::time::Instant::now() < within, "the link never failed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    type_code(&mut split, &code);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let server = TestServer::start_config(config, None).await.unwrap();
    // The link retries with a growing delay (at most 30 s).
    let within = std::time::Instant::now() + Duration::from_secs(40);
    while logged("server greeted us") == 0 {
        assert!(
            std::time::Instant::now() < within,
            "the link never came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let row = server.store.session(id).await.unwrap().unwrap();
    assert_eq!(
        row.status.as_str(),
        "en_attente",
        "the code typed while the server was down was kept"
    );
    type_code(&mut split, &code);
    wait_started(&server, id).await;

    let _ = split.helper.kill();
    let output = std::mem::replace(&mut split.helper, Command::new("true").spawn().unwrap())
        .wait_with_output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Le serveur est injoignable : votre code ne peut pas être vérifié"),
        "{stdout}"
    );
    assert!(stdout.contains("Bienvenue"), "{stdout}");
}

/// A workstation installed before staff approved it, on a server that takes enrolled
/// workstations only: the service does not exit (systemd's start limit would give up on it
/// before anyone approves), the gate refuses codes, and once the enrollment is approved the
/// service connects with its secret by itself, and a code opens a session.
#[tokio::test]
async fn a_service_not_enrolled_yet_waits_for_its_approval_then_serves() {
    let server = TestServer::start_with(|c| c.enrollment.allow_seed_clients = false).await;
    let (id, code) = server.create_session(json!({ "duree": "1h" })).await;
    let desktop = FakeDesktop::new(&["loginctl", "notify-send"]);
    let config = desktop.dir.path().join("config.toml");
    std::fs::write(&config, "poste = \"Poste-30\"\ncheck_interval = 1\n").unwrap();
    let config = config.to_str().unwrap();
    let socket = desktop.dir.path().join("run/helper.sock");
    let service_log = desktop.dir.path().join("service.log");
    let mut service = agent(
        &desktop,
        &server.http_url(""),
        &[
            "--config",
            config,
            "service",
            "--socket",
            socket.to_str().unwrap(),
        ],
    );
    service
        .env("FAKE_SESSION_UID", my_uid(&desktop).to_string())
        .env("FAKE_SESSION_TYPE", "x11")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&service_log).unwrap());
    let mut split = Split {
        service: service.spawn().unwrap(),
        helper: spawn_helper(&desktop),
    };
    let logged = |what: &str| {
        std::fs::read_to_string(&service_log)
            .unwrap_or_default()
            .matches(what)
            .count()
    };
    let within = std::time::Instant::now() + Duration::from_secs(10);
    while logged("PosteNonEnrole") == 0 {
        assert!(std::time::Instant::now() < within, "never refused");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        split.service.try_wait().unwrap().is_none(),
        "the service exited while waiting for its enrollment"
    );
    // Closed by a server that answers, again at each try: never said to be unreachable.
    assert!(logged("closed by the server until staff approve") >= 1);
    assert_eq!(
        logged("server unreachable"),
        0,
        "the gate would say « injoignable »"
    );
    type_code(&mut split, &code);

    let api = server.api();
    let enrollment_code = api
        .post_ok("/enrollment-codes", json!({"poste": "Poste-30"}))
        .await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let enrolling = agent(
        &desktop,
        &server.http_url(""),
        &["--enroll", &enrollment_code, "--config", config],
    )
    .spawn()
    .unwrap();
    let within = std::time::Instant::now() + Duration::from_secs(10);
    while !server
        .store
        .pending_enrollments()
        .await
        .unwrap()
        .iter()
        .any(|p| p.nom == "Poste-30")
    {
        assert!(std::time::Instant::now() < within, "no enrollment request");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let row = server.store.session(id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "en_attente");
    api.post_ok("/postes/Poste-30/approve", json!({})).await;
    crate::e2e::exits_ok(enrolling, Duration::from_secs(15)).await;
    // The link reads the secret again at its next try (at most 30 s away).
    let within = std::time::Instant::now() + Duration::from_secs(40);
    while logged("server greeted us") == 0 {
        assert!(
            std::time::Instant::now() < within,
            "never connected with its secret"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    type_code(&mut split, &code);
    wait_started(&server, id).await;
    let row = server.store.session(id).await.unwrap().unwrap();
    assert_eq!(row.poste_nom.as_deref(), Some("Poste-30"));

    let _ = split.helper.kill();
    let output = std::mem::replace(&mut split.helper, Command::new("true").spawn().unwrap())
        .wait_with_output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("pas reconnu"), "{stdout}");
    assert!(stdout.contains("momentanément hors service"), "{stdout}");
    assert!(stdout.contains("Bienvenue"), "{stdout}");
}
