//! The session flow with the service's hooks, against a real server in this process: the home
//! restore after the log-out, the workstation out of service when it fails (and the incident
//! the server records), nothing restored when only the link drops, and the logout after
//! inactivity with a fake idle source.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use poste_store::EventKind;
use poste_testkit::TestServer;
use serde_json::json;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::*;
use crate::power::PowerFile;
use crate::reset::ResetError;

type Log = Arc<Mutex<Vec<String>>>;

struct FakeDesktop(Log);

impl ScreenLocker for FakeDesktop {
    fn lock(&self) -> Result<Outcome, DesktopError> {
        self.0.lock().unwrap().push("lock".into());
        Ok(Outcome {
            method: "test".into(),
        })
    }
}

impl SessionTerminator for FakeDesktop {
    fn logout(&self) -> Result<Outcome, DesktopError> {
        self.0.lock().unwrap().push("logout".into());
        Ok(Outcome {
            method: "test".into(),
        })
    }
}

impl PowerSwitch for FakeDesktop {
    fn power(&self, action: PowerAction) -> Result<Outcome, DesktopError> {
        self.0
            .lock()
            .unwrap()
            .push(format!("power {}", action.as_str()));
        Ok(Outcome {
            method: "test".into(),
        })
    }
}

impl Notifier for FakeDesktop {
    fn notify(&self, n: &Notification) -> Result<Outcome, DesktopError> {
        self.0.lock().unwrap().push(format!("notify {}", n.body));
        Ok(Outcome {
            method: "test".into(),
        })
    }
}

struct FakeReset {
    log: Log,
    fail: AtomicBool,
}

impl HomeReset for FakeReset {
    fn reset(&self) -> Result<(), ResetError> {
        self.log.lock().unwrap().push("restore".into());
        if self.fail.load(Ordering::SeqCst) {
            Err(ResetError::ProcessesLeft {
                user: "public".into(),
                detail: "1 process".into(),
            })
        } else {
            Ok(())
        }
    }
}

/// Gives its readings in order, then the last one again.
struct FakeIdle(Mutex<VecDeque<Idle>>);

impl IdleSource for FakeIdle {
    fn idle(&self) -> Idle {
        let mut readings = self.0.lock().unwrap();
        if readings.len() > 1 {
            readings.pop_front().unwrap()
        } else {
            readings.front().cloned().unwrap()
        }
    }
}

struct Lines(UnboundedSender<String>);

impl Display for Lines {
    fn say(&mut self, message: &str) {
        let _ = self.0.send(format!("say {message}"));
    }
    fn prompt(&mut self) {
        let _ = self.0.send("prompt".into());
    }
    fn countdown(&mut self, _: Duration, _: u8, _: bool, _: Instant) {}
    fn screen(&mut self, event: Screen) {
        let _ = self.0.send(format!("screen {}", serde_json::json!(event)));
    }
}

/// Waits for a line containing `wanted`; every line seen on the way.
async fn until(lines: &mut UnboundedReceiver<String>, wanted: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(line) = lines.recv().await {
            let hit = line.contains(wanted);
            seen.push(line);
            if hit {
                return;
            }
        }
    })
    .await;
    assert!(found.is_ok(), "no line with {wanted:?} in {seen:#?}");
    seen
}

struct Run {
    log: Log,
    lines: UnboundedReceiver<String>,
    keys: mpsc::Sender<Input>,
    agent: tokio::task::JoinHandle<anyhow::Result<Exit>>,
    _dir: tempfile::TempDir,
}

fn start(
    server: &TestServer,
    hooks: impl FnOnce(&Log) -> Hooks,
    config: impl FnOnce(&mut AgentConfig),
) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = AgentConfig {
        server_url: server.http_url(""),
        poste: Some("Poste-Test".into()),
        secret_file: dir.path().join("secret"),
        check_interval: 1,
        ..AgentConfig::default()
    };
    config(&mut cfg);
    let log: Log = Arc::default();
    let hooks = hooks(&log);
    let (tx, lines) = unbounded_channel();
    let (keys, input) = mpsc::channel(4);
    let ui = Ui {
        display: Box::new(Lines(tx)),
        input: Some(input),
    };
    let desktop = Arc::new(FakeDesktop(Arc::clone(&log)));
    let agent = tokio::spawn(run_with(cfg, Mode::Interactive, desktop, ui, hooks));
    Run {
        log,
        lines,
        keys,
        agent,
        _dir: dir,
    }
}

fn with_reset(log: &Log, fail: bool) -> (Hooks, Arc<FakeReset>) {
    let reset = Arc::new(FakeReset {
        log: Arc::clone(log),
        fail: AtomicBool::new(fail),
    });
    let hooks = Hooks {
        reset: Some(reset.clone()),
        retry_every: Duration::from_millis(300),
        ..Hooks::default()
    };
    (hooks, reset)
}

async fn incidents(server: &TestServer) -> Vec<String> {
    server
        .store
        .events_after(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == EventKind::PosteIncident)
        .map(|e| e.detail.unwrap_or_default())
        .collect()
}

async fn wait_incident(server: &TestServer, nature: &str) -> Vec<String> {
    for _ in 0..200 {
        let found = incidents(server).await;
        if found.iter().any(|d| d.starts_with(nature)) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no incident {nature}: {:?}", incidents(server).await);
}

/// Whether session `id` has started.
async fn started(server: &TestServer, id: i64) -> bool {
    let session = server.store.session(id).await.unwrap().unwrap();
    session.started_at.is_some()
}

async fn open_session(server: &TestServer, run: &mut Run) -> i64 {
    until(&mut run.lines, "\"connecte\":true").await;
    let (id, code) = server.create_session(json!({ "duree": "1h" })).await;
    run.keys.send(Input::Code(code)).await.unwrap();
    until(&mut run.lines, "\"type\":\"started\"").await;
    id
}

async fn staff_end(server: &TestServer, id: i64) {
    server
        .api()
        .post_ok(&format!("/sessions/{id}/end"), json!({}))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_end_logs_out_then_restores_the_home_then_the_gate_returns() {
    let server = TestServer::start().await;
    let mut reset = None;
    let mut run = start(
        &server,
        |log| {
            let (hooks, r) = with_reset(log, false);
            reset = Some(r);
            hooks
        },
        |_| {},
    );
    let id = open_session(&server, &mut run).await;
    assert!(run.log.lock().unwrap().is_empty());
    staff_end(&server, id).await;
    let seen = until(&mut run.lines, "prompt").await;
    assert!(
        seen.iter().any(|l| l.contains(text::HOME_RESTORING)),
        "{seen:#?}"
    );
    assert_eq!(*run.log.lock().unwrap(), ["lock", "logout", "restore"]);
    assert!(incidents(&server).await.is_empty());
    run.agent.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_restore_keeps_the_workstation_out_of_service_and_tells_the_server() {
    let server = TestServer::start().await;
    let mut reset = None;
    let mut run = start(
        &server,
        |log| {
            let (hooks, r) = with_reset(log, true);
            reset = Some(r);
            hooks
        },
        |_| {},
    );
    let reset = reset.unwrap();
    let id = open_session(&server, &mut run).await;
    staff_end(&server, id).await;
    until(&mut run.lines, text::OUT_OF_SERVICE_STAFF).await;
    let found = wait_incident(&server, "restauration_echouee").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("n'a pas pu être restauré"), "{found:?}");
    // The incident names the workstation and the session.
    let events = server.store.events_after(0, 1000).await.unwrap();
    let event = events
        .iter()
        .find(|e| e.kind == EventKind::PosteIncident)
        .unwrap();
    assert_eq!(event.session_id, Some(id));
    assert!(event.poste_id.is_some());

    // A code typed now is refused here, never sent: its session does not start.
    let (other, code) = server.create_session(json!({ "duree": "1h" })).await;
    run.keys.send(Input::Code(code.clone())).await.unwrap();
    until(&mut run.lines, text::OUT_OF_SERVICE_VISITOR).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!started(&server, other).await);
    // Retries that fail again do not flood the history.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        run.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| *l == "restore")
            .count()
            >= 2
    );
    assert_eq!(incidents(&server).await.len(), 1);

    // Once the restore succeeds, the workstation is back in service and takes codes again.
    reset.fail.store(false, Ordering::SeqCst);
    until(&mut run.lines, text::BACK_IN_SERVICE).await;
    wait_incident(&server, "restauration_retablie").await;
    run.keys.send(Input::Code(code)).await.unwrap();
    until(&mut run.lines, "\"type\":\"started\"").await;
    run.agent.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_lost_mid_session_restores_nothing() {
    let server = TestServer::start().await;
    let mut run = start(&server, |log| with_reset(log, false).0, |_| {});
    open_session(&server, &mut run).await;
    server.stop().await;
    until(&mut run.lines, "\"connecte\":false").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        run.log.lock().unwrap().is_empty(),
        "{:?}",
        run.log.lock().unwrap()
    );
    run.agent.abort();
}

fn idle_hooks(log: &Log, readings: Vec<Idle>) -> Hooks {
    Hooks {
        idle: Some(Arc::new(FakeIdle(Mutex::new(readings.into())))),
        idle_poll: Duration::from_millis(100),
        ..with_reset(log, false).0
    }
}

fn inactivity(config: &mut AgentConfig) {
    config.inactivity.enabled = true;
    config.inactivity.minutes = 2;
    config.inactivity.warning_minutes = 1;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inactivity_warns_then_ends_the_session() {
    let server = TestServer::start().await;
    let secs = Duration::from_secs;
    let mut run = start(
        &server,
        |log| {
            let mut readings = vec![Idle::For(Duration::ZERO); 30];
            readings.extend([
                Idle::For(secs(70)),
                Idle::For(secs(80)),
                Idle::For(secs(120)),
            ]);
            idle_hooks(log, readings)
        },
        inactivity,
    );
    let id = open_session(&server, &mut run).await;
    let seen = until(&mut run.lines, "Sans activité de votre part").await;
    assert!(
        seen.last().unwrap().contains("fermée dans 50 secondes"),
        "{seen:#?}"
    );
    let seen = until(&mut run.lines, "prompt").await;
    assert!(
        seen.iter().any(|l| l.contains(text::INACTIVITY_END)),
        "{seen:#?}"
    );
    let log = run.log.lock().unwrap().clone();
    let actions: Vec<_> = log.iter().filter(|l| !l.starts_with("notify")).collect();
    assert_eq!(actions, ["lock", "logout", "restore"], "{log:?}");
    assert!(log.iter().any(|l| l.contains("Sans activité")), "{log:?}");
    let found = wait_incident(&server, "inactivite").await;
    let event = server.store.events_after(0, 1000).await.unwrap();
    assert!(
        event
            .iter()
            .any(|e| e.kind == EventKind::PosteIncident && e.session_id == Some(id))
    );
    assert_eq!(found.len(), 1);
    run.agent.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_idle_source_never_ends_a_session() {
    let server = TestServer::start().await;
    let mut run = start(
        &server,
        |log| idle_hooks(log, vec![Idle::Unknown("wayland".into())]),
        inactivity,
    );
    open_session(&server, &mut run).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        run.log.lock().unwrap().is_empty(),
        "{:?}",
        run.log.lock().unwrap()
    );
    assert!(incidents(&server).await.is_empty());
    run.agent.abort();
}

/// The server's power order `ordre`, pushed by its hub to the workstation once it is connected
/// there (the link says "connected" once its hello is sent, a little before the hub knows it).
async fn send_power(server: &TestServer, ordre: i64, action: poste_proto::PowerAction, secs: i64) {
    let poste = server.poste_id("Poste-Test").await;
    let order = ServerMessage::Power(PowerOrder {
        ordre,
        action,
        delai_secondes: secs,
    });
    for _ in 0..200 {
        if server.hub.send_to_poste(poste, &order) > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the workstation never connected to the hub");
}

/// What the desktop did, notifications left out.
fn actions(log: &Log) -> Vec<String> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|l| !l.starts_with("notify"))
        .cloned()
        .collect()
}

async fn wait_power(log: &Log, within: Duration) {
    let deadline = Instant::now() + within;
    while !actions(log).iter().any(|l| l.starts_with("power")) {
        assert!(
            Instant::now() < deadline,
            "never powered: {:?}",
            actions(log)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn with_power(file: &PowerFile) -> Hooks {
    Hooks {
        power: Some(file.clone()),
        ..Hooks::default()
    }
}

/// A power order file in a directory of its own.
fn power_file() -> (PowerFile, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (PowerFile::beside(&dir.path().join("secret")), dir)
}

/// An agent keeping its power orders in a file of its own, once connected to `server`.
async fn connected_with_power(server: &TestServer) -> (Run, PowerFile, tempfile::TempDir) {
    let (file, dir) = power_file();
    let mut run = start(server, |_| with_power(&file), |_| {});
    until(&mut run.lines, "\"connecte\":true").await;
    (run, file, dir)
}

/// A code typed at the gate opens its session.
async fn takes_a_code(server: &TestServer, run: &mut Run) {
    let (_, code) = server.create_session(json!({ "duree": "1h" })).await;
    run.keys.send(Input::Code(code)).await.unwrap();
    until(&mut run.lines, "\"type\":\"started\"").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_power_order_on_the_gate_is_carried_out_after_its_notice_once_even_sent_twice() {
    let server = TestServer::start().await;
    let (mut run, file, _dir) = connected_with_power(&server).await;
    let sent = Instant::now();
    send_power(&server, 41, poste_proto::PowerAction::Extinction, 2).await;
    // Relayed by a second instance: the same order again.
    send_power(&server, 41, poste_proto::PowerAction::Extinction, 2).await;
    until(&mut run.lines, "Ce poste va s'éteindre dans 2 secondes.").await;
    // A code typed meanwhile is refused here: its session does not start.
    let (other, code) = server.create_session(json!({ "duree": "1h" })).await;
    run.keys.send(Input::Code(code)).await.unwrap();
    until(
        &mut run.lines,
        text::power_code_refused(PowerAction::PowerOff),
    )
    .await;
    wait_power(&run.log, Duration::from_secs(5)).await;
    assert!(
        sent.elapsed() >= Duration::from_millis(1900),
        "{:?}",
        sent.elapsed()
    );
    // Done in its file, and not again.
    assert!(
        file.load()
            .is_some_and(|kept| kept.fait && kept.ordre == 41)
    );
    send_power(&server, 41, poste_proto::PowerAction::Extinction, 0).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(actions(&run.log), ["power poweroff"]);
    assert!(!started(&server, other).await);
    run.agent.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_power_order_during_a_session_waits_for_its_end_and_the_home_restore() {
    let server = TestServer::start().await;
    let (file, _dir) = power_file();
    let mut run = start(
        &server,
        |log| Hooks {
            power: Some(file.clone()),
            ..with_reset(log, false).0
        },
        |_| {},
    );
    let id = open_session(&server, &mut run).await;
    send_power(&server, 7, poste_proto::PowerAction::Redemarrage, 1).await;
    until(
        &mut run.lines,
        "Le poste redémarrera à la fin de votre session.",
    )
    .await;
    // Notified too (in the background).
    let notified = "notify Le poste redémarrera à la fin de votre session.";
    for _ in 0..100 {
        if run.log.lock().unwrap().iter().any(|l| l == notified) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        run.log.lock().unwrap().iter().any(|l| l == notified),
        "{:?}",
        run.log.lock().unwrap()
    );
    // Its notice runs out: the session goes on, nothing happens.
    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert!(actions(&run.log).is_empty(), "{:?}", actions(&run.log));
    staff_end(&server, id).await;
    wait_power(&run.log, Duration::from_secs(10)).await;
    assert_eq!(
        actions(&run.log),
        ["lock", "logout", "restore", "power restart"]
    );
    assert!(file.load().is_some_and(|kept| kept.fait));
    run.agent.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_power_order_holds_when_the_server_goes_away() {
    let server = TestServer::start().await;
    let (mut run, _file, _dir) = connected_with_power(&server).await;
    send_power(&server, 3, poste_proto::PowerAction::Extinction, 2).await;
    until(&mut run.lines, "Ce poste va s'éteindre").await;
    server.stop().await;
    until(&mut run.lines, "\"connecte\":false").await;
    wait_power(&run.log, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(actions(&run.log), ["power poweroff"]);
    run.agent.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_agent_carries_out_a_pending_order_and_never_one_done() {
    let server = TestServer::start().await;
    let (file, _dir) = power_file();
    // The service stopped during the notice of order 12.
    file.save(&power::KeptOrder {
        ordre: 12,
        action: poste_proto::PowerAction::Extinction,
        fait: false,
    })
    .unwrap();
    let run = start(&server, |_| with_power(&file), |_| {});
    wait_power(&run.log, Duration::from_secs(5)).await;
    assert_eq!(actions(&run.log), ["power poweroff"]);
    assert!(file.load().is_some_and(|kept| kept.fait));
    run.agent.abort();
    let _ = run.agent.await;

    // After the shutdown: started again, it does not power off again, even told once more.
    let mut again = start(&server, |_| with_power(&file), |_| {});
    until(&mut again.lines, "\"connecte\":true").await;
    send_power(&server, 12, poste_proto::PowerAction::Extinction, 0).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(actions(&again.log).is_empty(), "{:?}", actions(&again.log));
    // And takes codes.
    takes_a_code(&server, &mut again).await;
    again.agent.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_power_action_is_refused() {
    let server = TestServer::start().await;
    let (mut run, file, _dir) = connected_with_power(&server).await;
    send_power(&server, 5, poste_proto::PowerAction::Autre, 0).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(actions(&run.log).is_empty());
    assert!(file.load().is_none());
    takes_a_code(&server, &mut run).await;
    run.agent.abort();
}

/// Issue #18: an enrollment the server refuses (the configuration names a space it does not
/// have) is said on the gate of the workstation waiting for it, with the server's reason,
/// instead of « an administrator must approve it »; a new request takes it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_enrollment_is_said_on_the_gate_until_a_new_request() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("install-token");
    std::fs::write(&token_file, "jeton-installation-du-site-2026\n").unwrap();
    let server = TestServer::start_with(|c| {
        c.enrollment.allow_seed_clients = false;
        c.enrollment.install_token_file = Some(token_file.clone());
    })
    .await;
    let secret_file = dir.path().join("state").join("secret");
    let hooks = |_: &Log| Hooks {
        wait_for_enrollment: true,
        enrollment_refusal: Some(crate::enroll::refusal_file(&secret_file)),
        ..Hooks::default()
    };
    let mut run = start(&server, hooks, |c| c.secret_file = secret_file.clone());
    until(&mut run.lines, "un administrateur doit l'approuver").await;

    let mut config = AgentConfig {
        server_url: server.http_url(""),
        poste: Some("Poste-Test".into()),
        secret_file: secret_file.clone(),
        check_interval: 1,
        espace: Some("Médiathèque du Port".into()),
        ..AgentConfig::default()
    };
    let proof = crate::enroll::Proof::InstallToken("jeton-installation-du-site-2026".into());
    let refused = crate::enroll::enroll(&config, proof.clone()).await.unwrap();
    assert_eq!(refused, crate::enroll::Enrolled::Refused);
    let seen = until(&mut run.lines, "le serveur a refusé son enrôlement").await;
    let screen = seen.last().unwrap();
    assert!(
        screen.contains("Aucun espace ne s'appelle « Médiathèque du Port » sur le serveur"),
        "{screen}"
    );

    // Asked again, with no space named: waiting for staff once more, said so.
    config.espace = None;
    let asking = tokio::spawn(async move { crate::enroll::enroll(&config, proof).await });
    until(&mut run.lines, "un administrateur doit l'approuver").await;
    assert!(crate::enroll::last_refusal(&crate::enroll::refusal_file(&secret_file)).is_none());
    asking.abort();
    run.agent.abort();
}
