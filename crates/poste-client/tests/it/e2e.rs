use std::process::Child;
use std::time::Duration;

use poste_testkit::{ServerProcess, TestServer};
use serde_json::json;

use crate::{FakeDesktop, agent, output_of, unix_now, wait_exit};

const DESKTOP: &[&str] = &["loginctl", "notify-send"];

/// The session's deadline in Unix seconds, from the server's own record.
async fn deadline_of(store: &poste_store::Store, id: i64) -> f64 {
    let row = store.session(id).await.unwrap().unwrap();
    row.deadline().unwrap() as f64 / 1000.0
}

async fn wait_started(store: &poste_store::Store, id: i64) {
    for _ in 0..200 {
        if store
            .session(id)
            .await
            .unwrap()
            .unwrap()
            .started_at
            .is_some()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("session {id} never started");
}

/// The real server binary on `data`, a direct handle on its database, and one session of
/// `duree` created through its API.
async fn server_process_with_session(
    data: &std::path::Path,
    duree: &str,
) -> (ServerProcess, poste_store::Store, i64, String) {
    let server = ServerProcess::start(data, None).await;
    let db = format!("sqlite:{}/poste-server.sqlite", data.display());
    let store = poste_store::Store::connect(&db, "test").await.unwrap();
    let api = poste_testkit::Api {
        base: format!("{}/api", server.http_url()),
        token: poste_testkit::create_token(&store).await.unwrap(),
        http: reqwest::Client::new(),
    };
    let created = api.post_ok("/sessions", json!({ "duree": duree })).await;
    let session = &created["sessions"][0];
    let id = session["id"].as_i64().unwrap();
    (
        server,
        store,
        id,
        session["code_acces"].as_str().unwrap().to_owned(),
    )
}

/// Waits for the agent to exit with success, at most `within`; its output.
pub(crate) async fn exits_ok(mut child: Child, within: Duration) -> (String, String) {
    let (status, child) =
        tokio::task::spawn_blocking(move || (wait_exit(&mut child, within), child))
            .await
            .unwrap();
    let (stdout, stderr) = output_of(child);
    assert!(
        status.is_some_and(|s| s.success()),
        "exit {status:?}\n{stdout}\n{stderr}"
    );
    (stdout, stderr)
}

#[tokio::test]
async fn warnings_are_notified_then_the_screen_is_locked_then_the_visitor_logged_out_on_time() {
    let server = TestServer::start().await; // warnings at 3 s and 1 s
    let (id, code) = server
        .create_session(json!({"utilisateur": "Jean Dupont", "duree": "5s"}))
        .await;
    let desktop = FakeDesktop::new(DESKTOP);
    let child = agent(
        &desktop,
        &server.http_url(""),
        &["--code", &code.to_lowercase()],
    )
    .spawn()
    .unwrap();
    wait_started(&server.store, id).await;
    let deadline = deadline_of(&server.store, id).await;
    let (stdout, _) = exits_ok(child, Duration::from_secs(20)).await;
    assert!(stdout.contains("Bienvenue Jean Dupont"), "{stdout}");
    assert!(stdout.contains("Il vous reste 3 secondes"), "{stdout}");
    assert!(stdout.contains("Au revoir"), "{stdout}");

    let calls = desktop.calls();
    let names: Vec<&str> = calls
        .iter()
        .map(|(_, call)| call.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        names,
        ["notify-send", "notify-send", "loginctl", "loginctl"],
        "{calls:#?}"
    );
    let (warned_at, first) = &calls[0];
    assert!(
        first.contains("-u normal") && first.contains("Il vous reste 3 secondes"),
        "{first}"
    );
    assert!(
        (warned_at - (deadline - 3.0)).abs() < 0.5,
        "first warning at {:.3} s before the end",
        deadline - warned_at
    );
    assert!(calls[1].1.contains("-u critical"), "{}", calls[1].1);
    let (locked_at, lock) = &calls[2];
    assert_eq!(lock, "loginctl lock-session c42");
    assert!(
        (locked_at - deadline).abs() < 0.5,
        "locked {:.3} s from the deadline",
        locked_at - deadline
    );
    let (logged_out_at, logout) = &calls[3];
    assert!(logout.starts_with("loginctl terminate-"), "{logout}");
    assert!(logged_out_at >= locked_at, "lock, then log out");
}

#[tokio::test]
async fn a_refused_code_is_explained_in_french_and_exits_with_2() {
    let server = TestServer::start().await;
    let desktop = FakeDesktop::new(DESKTOP);
    let child = agent(&desktop, &server.http_url(""), &["--code", "ZZZZZZ"])
        .spawn()
        .unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("Code inconnu"), "{stdout}");
    assert!(
        desktop.calls().is_empty(),
        "nothing locked for a refused code"
    );
}

#[tokio::test]
async fn the_deadline_holds_when_the_server_dies_mid_session() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, store, id, code) = server_process_with_session(data.path(), "6s").await;

    let desktop = FakeDesktop::new(DESKTOP);
    let child = agent(&desktop, &server.http_url(), &["--code", &code])
        .spawn()
        .unwrap();
    wait_started(&store, id).await;
    let deadline = deadline_of(&store, id).await;
    server.kill9();
    let killed_at = unix_now();

    let (stdout, _) = exits_ok(child, Duration::from_secs(20)).await;
    assert!(
        stdout.contains("hors ligne") || stdout.contains("Temps restant"),
        "{stdout}"
    );
    let calls = desktop.calls();
    let lock = calls
        .iter()
        .find(|(_, call)| call.starts_with("loginctl lock-session"))
        .expect("locked");
    assert!(lock.0 > killed_at, "locked after the server died");
    assert!(
        (lock.0 - deadline).abs() < 1.0,
        "locked {:.3} s from the deadline, offline",
        lock.0 - deadline
    );
    // Warnings came from the local clock (the server's thresholds, learnt at connection).
    assert!(
        calls.iter().any(|(_, call)| call.contains("-u critical")),
        "{calls:#?}"
    );
    assert!(
        calls
            .iter()
            .any(|(_, call)| call.starts_with("loginctl terminate-")),
        "{calls:#?}"
    );
}

#[tokio::test]
async fn after_the_server_comes_back_the_session_resyncs_with_time_added_meanwhile() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, store, id, code) = server_process_with_session(data.path(), "8s").await;

    let desktop = FakeDesktop::new(DESKTOP);
    let child = agent(&desktop, &server.http_url(), &["--code", &code])
        .spawn()
        .unwrap();
    wait_started(&store, id).await;
    let port = server.port;
    server.kill9();
    // Time is added while the server is down (from the command line, straight into the
    // database); the server comes back on the same port and the agent reconnects by itself.
    let settings =
        poste_server::settings::Settings::from_config(&poste_server::config::Config::default())
            .unwrap();
    poste_server::ops::add_time(
        &store,
        &settings,
        id,
        10,
        &poste_store::Actor::Cli,
        poste_server::clock::now_ms(),
        &poste_server::ops::EventLogOnly,
    )
    .await
    .unwrap();
    let _server = ServerProcess::start(data.path(), Some(port)).await;
    let deadline = deadline_of(&store, id).await; // start + 18 s

    exits_ok(child, Duration::from_secs(30)).await;
    let calls = desktop.calls();
    let lock = calls
        .iter()
        .find(|(_, call)| call.starts_with("loginctl lock-session"))
        .expect("locked");
    assert!(
        (lock.0 - deadline).abs() < 1.0,
        "locked {:.3} s from the new deadline (the old one was 10 s earlier)",
        lock.0 - deadline
    );
}

#[tokio::test]
async fn the_agent_enrolls_then_speaks_for_its_workstation_with_its_secret() {
    let server = TestServer::start().await;
    let api = server.api();
    let code = api
        .post_ok("/enrollment-codes", json!({"poste": "Poste-21"}))
        .await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let desktop = FakeDesktop::new(DESKTOP);
    let secret_file = desktop.dir.path().join("state/secret");
    let mut enrolling = agent(&desktop, &server.http_url(""), &["--enroll", &code]);
    enrolling.env("POSTE_SECRET_FILE", &secret_file);
    let mut command = enrolling;
    // The workstation's name comes from the configuration file.
    let config = desktop.dir.path().join("config.toml");
    std::fs::write(&config, "poste = \"Poste-21\"\ncheck_interval = 1\n").unwrap();
    command.args(["--config", config.to_str().unwrap()]);
    let child = command.spawn().unwrap();

    // Pending until staff approve.
    let mut pending = false;
    for _ in 0..100 {
        if server
            .store
            .pending_enrollments()
            .await
            .unwrap()
            .iter()
            .any(|p| p.nom == "Poste-21")
        {
            pending = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(pending, "the request reached the server");
    assert!(!secret_file.exists());
    api.post_ok("/postes/Poste-21/approve", json!({})).await;
    let (stdout, _) = exits_ok(child, Duration::from_secs(15)).await;
    assert!(
        stdout.contains("un animateur doit maintenant valider"),
        "{stdout}"
    );
    assert!(stdout.contains("Poste enrôlé"), "{stdout}");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret_file)
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "secret readable by its owner only");
    }

    // Now a session: the agent presents its secret; the session runs on Poste-21.
    let (id, code) = server
        .create_session(json!({"duree": "2s", "poste": "Poste-21"}))
        .await;
    let mut run = agent(
        &desktop,
        &server.http_url(""),
        &["--code", &code, "--config", config.to_str().unwrap()],
    );
    run.env("POSTE_SECRET_FILE", &secret_file);
    let child = run.spawn().unwrap();
    exits_ok(child, Duration::from_secs(15)).await;
    let row = server.store.session(id).await.unwrap().unwrap();
    assert_eq!(row.poste_nom.as_deref(), Some("Poste-21"));

    // After staff reset the workstation, the agent says it is not recognised (exit 3).
    api.post_ok("/postes/Poste-21/reset", json!({})).await;
    let (_, code) = server.create_session(json!({"duree": "1h"})).await;
    let mut run = agent(
        &desktop,
        &server.http_url(""),
        &["--code", &code, "--config", config.to_str().unwrap()],
    );
    run.env("POSTE_SECRET_FILE", &secret_file);
    let output = tokio::task::spawn_blocking(move || run.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("pas reconnu"), "{stdout}");
}

/// Where Debian's `libfaketime` package puts the preload library.
const LIBFAKETIME: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
];

/// `YYYY-MM-DDTHH` of a Unix time, as the agent's log lines start (UTC), by the real `date`.
fn log_hour(unix: f64) -> String {
    let output = std::process::Command::new("/bin/date")
        .env_clear()
        .args(["-u", "-d", &format!("@{}", unix as i64), "+%Y-%m-%dT%H"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Changing the system clock gains the visitor nothing: the real agent runs under libfaketime
/// (its wall clock, and its children's, read from a file the test rewrites while it runs; the
/// monotonic clock left real), offline (the server is SIGKILLed, so no push can end the
/// session), and its wall clock jumps an hour forward, then a day back. The lock lands at the
/// server's deadline all the same.
#[tokio::test]
async fn jumping_the_wall_clock_moves_nothing() {
    let Some(lib) = LIBFAKETIME
        .iter()
        .find(|path| std::path::Path::new(path).exists())
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "libfaketime is required in CI"
        );
        eprintln!("SKIPPED: libfaketime not installed (Debian package faketime)");
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let (mut server, store, id, code) = server_process_with_session(data.path(), "6s").await;
    let desktop = FakeDesktop::new(DESKTOP);
    let clock = desktop.dir.path().join("faketime");
    std::fs::write(&clock, "+0\n").unwrap();
    let child = agent(&desktop, &server.http_url(), &["--code", &code])
        .env("LD_PRELOAD", lib)
        .env("FAKETIME_TIMESTAMP_FILE", &clock)
        .env("FAKETIME_NO_CACHE", "1")
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .spawn()
        .unwrap();
    wait_started(&store, id).await;
    let deadline = deadline_of(&store, id).await;
    server.kill9();

    // An hour forward: an agent on the wall clock would lock at once.
    std::fs::write(&clock, "+1h\n").unwrap();
    let forward_at = unix_now();
    // (The agent logs its failed reconnections meanwhile, at most 0.5 s apart at first.)
    tokio::time::sleep(Duration::from_secs(2)).await;
    // A day back: an agent on the wall clock would never lock.
    std::fs::write(&clock, "-1d\n").unwrap();
    let backward_at = unix_now();

    let (_, stderr) = exits_ok(child, Duration::from_secs(20)).await;

    // The clock really jumped for the agent: its log lines carry the faked times.
    let forward = log_hour(forward_at + 3600.0);
    let backward = log_hour(backward_at - 86_400.0);
    assert!(
        stderr.lines().any(|line| line.contains(&forward)),
        "no log line dated {forward}:\n{stderr}"
    );
    assert!(
        stderr.lines().any(|line| line.contains(&backward)),
        "no log line dated {backward}:\n{stderr}"
    );
    // The fake `loginctl` (a child: same faked clock) stamps its call a day early; so the real
    // time of the lock is its stamp plus a day.
    let calls = desktop.calls();
    let (stamp, _) = calls
        .iter()
        .find(|(_, call)| call.starts_with("loginctl lock-session"))
        .unwrap_or_else(|| panic!("never locked: {calls:#?}\n{stderr}"));
    let locked_at = stamp + 86_400.0;
    assert!(
        (locked_at - deadline).abs() < 1.0,
        "locked {:.3} s from the deadline with the clock jumped",
        locked_at - deadline
    );
    assert!(
        calls
            .iter()
            .any(|(_, call)| call.starts_with("loginctl terminate-")),
        "{calls:#?}"
    );
}

/// The real agent behind a faulty link (poste_testkit::proxy): cut during the session, then
/// back with 500 ms of delay each way, then stalled half-open just before the end. The agent
/// ends the session on time from its own deadline, once, and the server's record agrees.
#[tokio::test]
async fn a_cut_then_slow_then_half_open_link_changes_nothing_to_the_end() {
    use poste_testkit::proxy::{FaultProxy, LinkMode};
    let server = TestServer::start().await; // warnings at 3 s and 1 s
    let proxy = FaultProxy::start(server.addr).await.unwrap();
    let (id, code) = server.create_session(json!({"duree": "8s"})).await;
    let desktop = FakeDesktop::new(DESKTOP);
    let child = agent(&desktop, &proxy.http_url(), &["--code", &code])
        .spawn()
        .unwrap();
    wait_started(&server.store, id).await;
    let deadline = deadline_of(&server.store, id).await;
    let accepted = proxy.accepted();

    proxy.set(LinkMode::Cut);
    tokio::time::sleep(Duration::from_secs(2)).await;
    proxy.set(LinkMode::Delay(Duration::from_millis(500)));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let reconnected = proxy.accepted() > accepted;
    // Half-open from 1.5 s before the end: nothing passes, nothing is closed.
    let until_stall = deadline - 1.5 - unix_now();
    if until_stall > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(until_stall)).await;
    }
    proxy.set(LinkMode::Stall);

    let (stdout, stderr) = exits_ok(child, Duration::from_secs(20)).await;
    proxy.set(LinkMode::Pass);
    assert!(
        reconnected,
        "the agent did not reconnect after the cut\n{stderr}"
    );
    let calls = desktop.calls();
    let locks: Vec<&(f64, String)> = calls
        .iter()
        .filter(|(_, call)| call.starts_with("loginctl lock-session"))
        .collect();
    assert_eq!(locks.len(), 1, "locked once: {calls:#?}\n{stdout}");
    // To the second: the agent takes the time left as it arrives, so a one-way delay of
    // 500 ms moves its local deadline by as much (about +0.5 s measured, docs/security.md).
    assert!(
        (locks[0].0 - deadline).abs() < 1.0,
        "locked {:.3} s from the deadline",
        locks[0].0 - deadline
    );
    // The server ended it itself, at the same deadline, once.
    let mut row = server.store.session(id).await.unwrap().unwrap();
    for _ in 0..50 {
        if row.status.as_str() != "active" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        row = server.store.session(id).await.unwrap().unwrap();
    }
    assert_eq!(row.status.as_str(), "expiree");
    assert_eq!(row.ended_at, row.deadline());
    assert_eq!(row.total_secs(), 8, "no time won or lost");
    eprintln!(
        "NETWORK: locked {:+.3} s from the deadline after a 2 s cut, 500 ms delays and a half-open end; {} connections through the proxy",
        locks[0].0 - deadline,
        proxy.accepted()
    );
}

/// The real agent standing at the gate (`--interactive`), with `config` (TOML lines) and a
/// `get_time` each second.
/// Waits (5 s at most) until workstation `poste` is connected, or (`false`) no longer is.
async fn wait_online(server: &TestServer, poste: i64, online: bool) {
    for _ in 0..200 {
        if server.hub.online_postes().contains(&poste) == online {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn standing_agent(server: &TestServer, desktop: &FakeDesktop, config: &str) -> std::process::Child {
    let path = desktop.dir.path().join("config.toml");
    std::fs::write(&path, format!("{config}check_interval = 1\n")).unwrap();
    let mut command = agent(
        desktop,
        &server.http_url(""),
        &["--interactive", "--config", path.to_str().unwrap()],
    );
    // The keyboard stays open (nothing typed): its end would end the agent.
    command.stdin(std::process::Stdio::piped());
    command.spawn().unwrap()
}

/// Issue 18, power: the real agent (`--interactive`, the standing agent at the gate) told by
/// its server to power off runs the real power command (here a recorder named `systemctl` on
/// its PATH) once, after the gate's notice, even when the order comes twice.
#[tokio::test]
async fn a_power_order_runs_systemctl_poweroff_once_after_the_gate_s_notice() {
    let server = TestServer::start().await;
    let desktop = FakeDesktop::new(&["loginctl", "notify-send", "systemctl", "shutdown"]);
    let mut child = standing_agent(&server, &desktop, "poste = \"Poste-Courant\"\n");
    let poste = server.poste_id("Poste-Courant").await;
    let order = poste_proto::ServerMessage::Power(poste_proto::PowerOrder {
        ordre: 90,
        action: poste_proto::PowerAction::Extinction,
        delai_secondes: 2,
    });
    let mut delivered = 0;
    for _ in 0..200 {
        delivered = server.hub.send_to_poste(poste, &order);
        if delivered > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(delivered, 1);
    let sent = unix_now();
    // A second instance relays it too.
    server.hub.send_to_poste(poste, &order);

    let powered = |calls: &[(f64, String)]| {
        calls
            .iter()
            .filter(|(_, call)| call.starts_with("systemctl") || call.starts_with("shutdown"))
            .cloned()
            .collect::<Vec<_>>()
    };
    let mut power = Vec::new();
    for _ in 0..100 {
        power = powered(&desktop.calls());
        if !power.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Nothing more comes after it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let _ = child.kill();
    let (stdout, stderr) = output_of(child);
    let power_then = powered(&desktop.calls());
    assert_eq!(power_then.len(), 1, "{power_then:?}\n{stdout}\n{stderr}");
    assert_eq!(power, power_then);
    let (at, call) = &power[0];
    assert_eq!(call, "systemctl poweroff");
    assert!(at - sent >= 1.9, "after {:.2} s", at - sent);
    assert!(at - sent < 5.0, "after {:.2} s", at - sent);
    assert!(
        stdout.contains("Ce poste va s'éteindre dans 2 secondes."),
        "{stdout}"
    );
    assert!(stdout.contains("Extinction du poste…"), "{stdout}");
}

/// Issue 18, power: a server not on the workstations' network has an awake workstation of the
/// space wake the others. The real agent, asked by its server (protocol 4), sends the magic
/// packet of the workstation staff woke to its own network's address (a loopback socket here).
#[tokio::test]
async fn an_awake_workstation_wakes_another_of_its_space_for_the_server() {
    let servers_network = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let room = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let servers_address = servers_network.local_addr().unwrap();
    let server = TestServer::start_with(|config| config.power.wake_address = servers_address).await;
    let desktop = FakeDesktop::new(&["loginctl", "notify-send", "systemctl", "shutdown"]);
    let own = format!(
        "poste = \"Accueil\"\nwake_address = \"{}\"\n",
        room.local_addr().unwrap()
    );
    let mut child = standing_agent(&server, &desktop, &own);
    let awake = server.poste_id("Accueil").await;
    wait_online(&server, awake, true).await;
    let api = server.api();
    api.post_ok(
        "/postes",
        serde_json::json!({"nom": "Salle-07", "mac": "52:54:00:0A:0B:07"}),
    )
    .await;
    api.post_ok("/postes/Salle-07/wake", serde_json::json!({}))
        .await;

    let expected = [0xFF; 6]
        .into_iter()
        .chain([0x52, 0x54, 0x00, 0x0A, 0x0B, 0x07].repeat(16))
        .collect::<Vec<u8>>();
    let mut packet = [0u8; 200];
    for (network, who) in [
        (&servers_network, "the server"),
        (&room, "the awake workstation"),
    ] {
        let received =
            tokio::time::timeout(Duration::from_secs(5), network.recv_from(&mut packet)).await;
        let Ok(Ok((len, _))) = received else {
            let _ = child.kill();
            let (stdout, stderr) = output_of(child);
            panic!("no magic packet from {who}\n{stdout}\n{stderr}");
        };
        assert_eq!(&packet[..len], &expected[..], "{who}'s packet");
    }
    let _ = child.kill();
    let _ = output_of(child);
}

/// Issue 18, a whole room: staff open a workshop on workstations at their gate; the real agent
/// (protocol 5) starts the session the server pushes, with no code typed, shows the workshop's
/// name, and ends it on time. A workstation busy or not connected refuses the workshop, nothing
/// opened.
#[tokio::test]
async fn a_workshop_opened_by_staff_starts_at_the_gate_of_its_workstations() {
    let server = TestServer::start().await; // warnings at 3 s and 1 s
    let desktop = FakeDesktop::new(DESKTOP);
    let mut child = standing_agent(&server, &desktop, "poste = \"Salle-01\"\n");
    let poste = server.poste_id("Salle-01").await;
    wait_online(&server, poste, true).await;
    let api = server.api();
    api.post_ok("/postes", json!({"nom": "Salle-02"})).await;
    // A workstation not connected: nothing is opened, on either.
    let (status, refused) = api
        .post(
            "/ateliers",
            json!({"nom": "Atelier CV", "duree": "4s", "postes": ["Salle-01", "Salle-02"]}),
        )
        .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(
        refused["message"],
        "Rien n'a été ouvert : Salle-02 n'est pas connecté. Décochez ces postes ou réglez le problème, puis recommencez."
    );
    assert!(server.hub.live_rows().is_empty());

    let opened = api
        .post_ok(
            "/ateliers",
            json!({"nom": "Atelier CV", "duree": "4s", "postes": ["Salle-01"]}),
        )
        .await;
    let session = &opened["sessions"][0];
    assert_eq!(session["statut"], "active", "{opened}");
    assert_eq!(session["atelier"], "Atelier CV");
    assert_eq!(session["poste"], "Salle-01");
    let id = session["id"].as_i64().unwrap();
    // Busy now: a second workshop there is refused.
    let (status, busy) = api
        .post(
            "/ateliers",
            json!({"nom": "Tablettes", "duree": "4s", "postes": ["Salle-01"]}),
        )
        .await;
    assert_eq!(status, 409, "{busy}");
    assert!(
        busy["message"]
            .as_str()
            .unwrap()
            .contains("une session est en cours sur Salle-01"),
        "{busy}"
    );

    // The agent ends it at its deadline: the screen locked, the visitor's account logged out.
    let deadline = deadline_of(&server.store, id).await;
    let mut ended = None;
    for _ in 0..200 {
        let row = server.store.session(id).await.unwrap().unwrap();
        if row.ended_at.is_some() {
            ended = Some(row);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ended = ended.expect("the workshop's session never ended");
    assert_eq!(ended.end_reason.as_deref(), Some("temps_expire"));
    let mut calls = Vec::new();
    for _ in 0..100 {
        calls = desktop.calls();
        if calls
            .iter()
            .any(|(_, call)| call.starts_with("loginctl terminate-"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let (stdout, stderr) = output_of(child);
    assert!(
        stdout.contains("Bienvenue Atelier CV ! Votre session est ouverte pour"),
        "{stdout}\n{stderr}"
    );
    let (locked_at, _) = calls
        .iter()
        .find(|(_, call)| call.starts_with("loginctl lock-session"))
        .unwrap_or_else(|| panic!("never locked: {calls:?}\n{stdout}\n{stderr}"));
    assert!(
        (locked_at - deadline).abs() < 0.5,
        "locked {:.3} s from the deadline",
        locked_at - deadline
    );
    assert!(
        calls
            .iter()
            .any(|(at, call)| call.starts_with("loginctl terminate-") && at >= locked_at),
        "{calls:?}"
    );
}

/// Issue 18, a whole room: staff pause every workstation for a workshop. The real agent at its
/// gate shows their words and takes no code while paused; one that connects during the pause
/// (restarted) is paused at once; the pause lifted, codes are taken again.
#[tokio::test]
async fn a_room_paused_by_staff_shows_their_words_and_takes_no_code_until_resumed() {
    use std::io::Write;
    let server = TestServer::start().await;
    let desktop = FakeDesktop::new(DESKTOP);
    let mut first = standing_agent(&server, &desktop, "poste = \"Salle-05\"\n");
    let poste = server.poste_id("Salle-05").await;
    wait_online(&server, poste, true).await;
    let api = server.api();
    let paused = api
        .post_ok(
            "/ateliers/pause",
            json!({"pause": true, "message": "Regardez l'écran de l'animateur"}),
        )
        .await;
    assert_eq!(paused["atteints"], 1, "{paused}");
    // A code typed meanwhile is not sent (the pause reaches the agent's loop well within the
    // wait: it is one message on a loopback link).
    let (id, code) = server
        .create_session(json!({"duree": "1h", "poste": "Salle-05"}))
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    writeln!(first.stdin.as_mut().unwrap(), "{code}").unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = first.kill();
    let (stdout, stderr) = output_of(first);
    assert_eq!(
        stdout.matches("Regardez l'écran de l'animateur").count(),
        2,
        "said once paused, once for the code\n{stdout}\n{stderr}"
    );
    assert!(
        server
            .store
            .session(id)
            .await
            .unwrap()
            .unwrap()
            .started_at
            .is_none()
    );

    // Restarted during the pause: paused again as soon as it is connected.
    wait_online(&server, poste, false).await;
    let mut again = standing_agent(&server, &desktop, "poste = \"Salle-05\"\n");
    wait_online(&server, poste, true).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let resumed = api
        .post_ok("/ateliers/pause", json!({"pause": false}))
        .await;
    assert_eq!(resumed["atteints"], 1, "{resumed}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    writeln!(again.stdin.as_mut().unwrap(), "{code}").unwrap();
    wait_started(&server.store, id).await;
    let _ = again.kill();
    let (stdout, stderr) = output_of(again);
    assert!(
        stdout.contains("Regardez l'écran de l'animateur"),
        "paused on connecting\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("Le poste est de nouveau à vous."),
        "{stdout}"
    );
}
