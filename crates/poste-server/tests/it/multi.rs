//! Several `poste-server` processes (the built binary) on one PostgreSQL database: a change
//! made through one instance reaches a workstation connected to another within a second,
//! warnings and expiry happen exactly once across instances, and the timers of an instance
//! killed with SIGKILL are taken over within the lease.

use std::time::{Duration, Instant};

use poste_testkit::{Api, PgDatabase, ServerProcess, WsClient};
use serde_json::{Value, json};

/// Short leases: a dead instance's timers are taken over within this (plus a heartbeat).
const LEASE_MS: u64 = 1500;

struct Cluster {
    db: PgDatabase,
    store: poste_store::Store,
    token: String,
    _dirs: Vec<tempfile::TempDir>,
}

impl Cluster {
    /// A fresh database, migrated once here (so that the instances do not race to migrate).
    async fn new(test: &str) -> Option<Cluster> {
        let db = PgDatabase::create(test).await?;
        let store = poste_store::Store::connect(&db.url, "test").await.unwrap();
        let token = poste_testkit::create_token(&store).await.unwrap();
        Some(Cluster {
            db,
            store,
            token,
            _dirs: Vec::new(),
        })
    }

    async fn instance(&mut self) -> ServerProcess {
        self.instance_with(&[]).await
    }

    /// An instance with more settings (`("POWER__WAKE_ADDRESS", …)`).
    async fn instance_with(&mut self, settings: &[(&str, String)]) -> ServerProcess {
        let dir = tempfile::tempdir().unwrap();
        let server =
            ServerProcess::start_instance_with(dir.path(), &self.db.url, LEASE_MS, settings).await;
        self._dirs.push(dir);
        server
    }

    fn api(&self, server: &ServerProcess) -> Api {
        Api {
            base: format!("{}/api", server.http_url()),
            token: self.token.clone(),
            http: reqwest::Client::new(),
        }
    }

    /// Creates a session through `server`; returns `(id, code)`.
    async fn session(&self, server: &ServerProcess, duree: &str) -> (i64, String) {
        let created = self
            .api(server)
            .post_ok("/sessions", json!({ "duree": duree }))
            .await;
        let session = &created["sessions"][0];
        (
            session["id"].as_i64().unwrap(),
            session["code_acces"].as_str().unwrap().to_owned(),
        )
    }
}

fn count(ws: &WsClient, kind: &str, level: Option<&str>) -> usize {
    ws.received
        .iter()
        .filter(|(_, v)| v["type"] == kind && level.is_none_or(|level| v["level"] == level))
        .count()
}

/// Reads whatever else arrives within `within` (a double push would show here).
async fn drain(ws: &mut WsClient, within: Duration) {
    let deadline = Instant::now() + within;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if ws.next(left).await.is_err() {
            break;
        }
    }
}

#[tokio::test]
async fn a_change_through_one_instance_reaches_a_workstation_on_another_within_a_second() {
    let Some(mut cluster) = Cluster::new(
        "a_change_through_one_instance_reaches_a_workstation_on_another_within_a_second",
    )
    .await
    else {
        return;
    };
    let a = cluster.instance().await;
    let b = cluster.instance().await;
    let api_b = cluster.api(&b);
    api_b
        .post_ok("/postes", json!({"nom": "Poste-61", "ip": "127.0.0.61"}))
        .await;
    let (id, code) = cluster.session(&a, "1h").await;
    let mut ws = a.connect_as("127.0.0.61").await;
    ws.start_with_code(&code, "127.0.0.61").await;

    // Time added through B's API.
    let sent = Instant::now();
    api_b
        .post_ok(
            &format!("/sessions/{id}/add-time"),
            json!({"duree": "15min"}),
        )
        .await;
    let (at, update) = ws
        .next_of("time_update", Duration::from_secs(1))
        .await
        .unwrap();
    assert!(update["temps_restant"].as_i64().unwrap() > 4400, "{update}");
    assert!(at - sent < Duration::from_secs(1), "{:?}", at - sent);

    // A message sent through B.
    let sent = Instant::now();
    api_b
        .post_ok("/postes/Poste-61/message", json!({"message": "Bonjour"}))
        .await;
    let (at, message) = ws.next_of("message", Duration::from_secs(1)).await.unwrap();
    assert_eq!(message["message"], "Bonjour");
    assert!(at - sent < Duration::from_secs(1));

    // A power order through B, the session cut short: the new end, the visitor's notice and
    // the order reach the agent (protocol 3) on A.
    let welcome = ws
        .request(json!({"type": "hello", "poste": "Poste-61", "protocole": 3}))
        .await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    // (B knows it is online once A has published it, as its dashboard shows.)
    assert!(shows_online(&cluster, &b, "Poste-61", true, Duration::from_secs(10)).await);
    let sent = Instant::now();
    api_b
        .post_ok(
            "/postes/Poste-61/power",
            json!({"action": "extinction", "session": "ecourter"}),
        )
        .await;
    let (at, order) = ws.next_of("power", Duration::from_secs(1)).await.unwrap();
    assert_eq!(order["action"], "extinction");
    assert!(at - sent < Duration::from_secs(1));
    assert_eq!(count(&ws, "message", None), 2, "Bonjour, then the notice");
    assert_eq!(count(&ws, "time_update", None), 2, "added, then cut");

    // The session ended by staff on B.
    let sent = Instant::now();
    api_b
        .post_ok(&format!("/sessions/{id}/end"), json!({}))
        .await;
    let (at, ended) = ws
        .next_of("session_terminated", Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(ended["raison"], "termine_par_animateur");
    assert!(at - sent < Duration::from_secs(1));
    drain(&mut ws, Duration::from_millis(500)).await;
    assert_eq!(count(&ws, "session_terminated", None), 1);
    assert_eq!(count(&ws, "time_update", None), 2);
    assert_eq!(count(&ws, "power", None), 1);
}

#[tokio::test]
async fn warnings_and_expiry_happen_exactly_once_across_instances() {
    let Some(mut cluster) =
        Cluster::new("warnings_and_expiry_happen_exactly_once_across_instances").await
    else {
        return;
    };
    let servers = [cluster.instance().await, cluster.instance().await];
    // Six workstations, alternately on A and B, each starting its session on the instance it
    // is connected to or on the other one (codes created on either).
    let mut clients = Vec::new();
    for n in 0..6usize {
        let here = &servers[n % 2];
        let maker = &servers[(n / 2) % 2];
        let (id, code) = cluster.session(maker, "5s").await;
        let ip = format!("127.0.0.{}", 70 + n);
        let mut ws = here.connect_as(&ip).await;
        ws.start_with_code(&code, &ip).await;
        clients.push((id, Instant::now(), ws));
    }
    for (id, started, ws) in &mut clients {
        let (at, ended) = ws
            .next_of("session_terminated", Duration::from_secs(8))
            .await
            .unwrap();
        assert_eq!(ended["raison"], "temps_expire", "session {id}");
        let late = (at - *started).as_millis() as i64 - 5000;
        assert!(late < 700, "session {id} ended {late} ms late");
    }
    // Nothing more arrives: no second warning, no second end.
    for (_, _, ws) in &mut clients {
        drain(ws, Duration::from_millis(300)).await;
    }
    for (id, _, ws) in &clients {
        assert_eq!(count(ws, "warning", Some("warning")), 1, "session {id}");
        assert_eq!(count(ws, "warning", Some("critical")), 1, "session {id}");
        assert_eq!(count(ws, "session_terminated", None), 1, "session {id}");
        let row = cluster.store.session(*id).await.unwrap().unwrap();
        assert_eq!(row.status.as_str(), "expiree");
        let events = cluster.store.events_after(0, 1000).await.unwrap();
        let ends = events
            .iter()
            .filter(|e| e.session_id == Some(*id) && e.kind == poste_store::EventKind::SessionEnded)
            .count();
        let warnings = events
            .iter()
            .filter(|e| e.session_id == Some(*id) && e.kind == poste_store::EventKind::WarningSent)
            .count();
        assert_eq!((ends, warnings), (1, 2), "session {id}");
    }
}

#[tokio::test]
async fn the_timers_of_a_killed_instance_are_taken_over_within_the_lease() {
    let Some(mut cluster) =
        Cluster::new("the_timers_of_a_killed_instance_are_taken_over_within_the_lease").await
    else {
        return;
    };
    let mut a = cluster.instance().await;
    let b = cluster.instance().await;
    // The session starts on A, which takes its timer.
    let (id, code) = cluster.session(&a, "6s").await;
    let mut on_a = a.connect_as("127.0.0.81").await;
    on_a.start_with_code(&code, "127.0.0.81").await;
    let started = Instant::now();
    let owner = cluster.store.timer_owner(id).await.unwrap();
    assert!(owner.is_some(), "the starting instance holds the lease");
    // The same workstation also follows it through B (a second connection, as after a
    // reconnect to another instance behind the load balancer).
    let mut on_b = b.connect_as("127.0.0.81").await;
    let update = on_b
        .request(json!({"type": "get_time", "session_id": id}))
        .await;
    assert_eq!(update["statut"], "active", "{update}");

    a.kill9();
    drop(on_a);
    // B warns late (A's lease had to lapse) but ends the session on time or within the lease.
    let (at, ended) = on_b
        .next_of("session_terminated", Duration::from_secs(12))
        .await
        .unwrap();
    assert_eq!(ended["raison"], "temps_expire");
    let late = (at - started).as_millis() as i64 - 6000;
    assert!(
        late < LEASE_MS as i64 + 1000,
        "ended {late} ms after its deadline"
    );
    drain(&mut on_b, Duration::from_millis(300)).await;
    assert_eq!(count(&on_b, "session_terminated", None), 1);
    assert!(count(&on_b, "warning", Some("critical")) <= 1);
    let row = cluster.store.session(id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "expiree");
    assert_eq!(row.ended_at, row.deadline());
    let _: Value = update;
}

#[tokio::test]
async fn after_the_database_connection_is_cut_instances_reconnect_and_lose_nothing() {
    let Some(mut cluster) =
        Cluster::new("after_the_database_connection_is_cut_instances_reconnect_and_lose_nothing")
            .await
    else {
        return;
    };
    let a = cluster.instance().await;
    let b = cluster.instance().await;
    let (short_id, short) = cluster.session(&a, "3s").await;
    let (long_id, long) = cluster.session(&a, "1h").await;
    let mut ws_short = a.connect_as("127.0.0.91").await;
    ws_short.start_with_code(&short, "127.0.0.91").await;
    let mut ws_long = a.connect_as("127.0.0.92").await;
    ws_long.start_with_code(&long, "127.0.0.92").await;

    // Every connection of both instances to the database is cut (pool and listener) while the
    // short session expires.
    cluster.db.set_reachable(false).await;
    let (_, ended) = ws_short
        .next_of("session_terminated", Duration::from_secs(6))
        .await
        .unwrap();
    assert_eq!(ended["raison"], "temps_expire");
    cluster.db.set_reachable(true).await;

    // The expiry is recorded once, and the listeners are back: time added through B reaches
    // the workstation on A within a second once the instances have reconnected.
    let api_b = cluster.api(&b);
    let mut reached = false;
    for _ in 0..50 {
        let (status, _) = api_b
            .post(
                &format!("/sessions/{long_id}/add-time"),
                json!({"duree": "1min"}),
            )
            .await;
        if status == 200 {
            reached = ws_long
                .next_of("time_update", Duration::from_secs(1))
                .await
                .is_ok();
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(reached, "time added on B after the cut did not reach A");
    drain(&mut ws_short, Duration::from_millis(500)).await;
    assert_eq!(count(&ws_short, "session_terminated", None), 1);
    let row = cluster.store.session(short_id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "expiree");
    let ends = cluster
        .store
        .events_after(0, 1000)
        .await
        .unwrap()
        .iter()
        .filter(|e| {
            e.session_id == Some(short_id) && e.kind == poste_store::EventKind::SessionEnded
        })
        .count();
    assert_eq!(ends, 1);
}

/// Issue 18, item 4: a workshop opened through one instance starts on a workstation (an
/// agent of protocol 5) connected to another, within a second, and ends there once.
#[tokio::test]
async fn a_workshop_opened_through_one_instance_starts_on_a_workstation_on_another() {
    let Some(mut cluster) =
        Cluster::new("a_workshop_opened_through_one_instance_starts_on_a_workstation_on_another")
            .await
    else {
        return;
    };
    let a = cluster.instance().await;
    let b = cluster.instance().await;
    let mut ws = a.connect_as("127.0.0.62").await;
    let welcome = ws
        .request(json!({"type": "hello", "poste": "Poste-62", "protocole": 5}))
        .await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert!(shows_online(&cluster, &b, "Poste-62", true, Duration::from_secs(10)).await);
    let sent = Instant::now();
    let opened = cluster
        .api(&b)
        .post_ok(
            "/ateliers",
            json!({"nom": "Atelier CV", "duree": "3s", "postes": ["Poste-62"]}),
        )
        .await;
    let (at, started) = ws
        .next_of("session_started", Duration::from_secs(1))
        .await
        .unwrap();
    assert!(at - sent < Duration::from_secs(1), "{:?}", at - sent);
    assert_eq!(started["session"]["id"], opened["sessions"][0]["id"]);
    assert_eq!(started["session"]["utilisateur"], "Atelier CV");
    let (_, ended) = ws
        .next_of("session_terminated", Duration::from_secs(6))
        .await
        .unwrap();
    assert_eq!(ended["raison"], "temps_expire");
    drain(&mut ws, Duration::from_millis(1000)).await;
    assert_eq!(count(&ws, "session_started", None), 1);
    assert_eq!(count(&ws, "session_terminated", None), 1);
}

/// Issue 18, item 4: a pause given through one instance reaches a workstation connected to
/// another within a second, and one that connects to that other instance afterwards is paused
/// with its welcome, until the pause is lifted.
#[tokio::test]
async fn a_pause_through_one_instance_reaches_the_workstations_on_another() {
    let Some(mut cluster) =
        Cluster::new("a_pause_through_one_instance_reaches_the_workstations_on_another").await
    else {
        return;
    };
    let a = cluster.instance().await;
    let b = cluster.instance().await;
    let mut ws = a.connect_as("127.0.0.65").await;
    let welcome = ws
        .request(json!({"type": "hello", "poste": "Poste-65", "protocole": 5}))
        .await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert!(shows_online(&cluster, &b, "Poste-65", true, Duration::from_secs(10)).await);
    let sent = Instant::now();
    cluster
        .api(&b)
        .post_ok(
            "/ateliers/pause",
            json!({"pause": true, "message": "Regardez le tableau"}),
        )
        .await;
    let (at, lock) = ws.next_of("lock", Duration::from_secs(1)).await.unwrap();
    assert!(at - sent < Duration::from_secs(1), "{:?}", at - sent);
    assert_eq!(lock["verrouille"], true, "{lock}");
    assert_eq!(lock["message"], "Regardez le tableau", "{lock}");

    // Connecting to instance A meanwhile: paused at once.
    let mut late = a.connect_as("127.0.0.66").await;
    late.send_json(json!({"type": "hello", "poste": "Poste-66", "protocole": 5}))
        .await;
    let (_, lock) = late.next_of("lock", Duration::from_secs(2)).await.unwrap();
    assert_eq!(lock["message"], "Regardez le tableau", "{lock}");

    cluster
        .api(&b)
        .post_ok("/ateliers/pause", json!({"pause": false}))
        .await;
    let (_, lifted) = ws.next_of("lock", Duration::from_secs(1)).await.unwrap();
    assert_eq!(lifted["verrouille"], false, "{lifted}");
}

/// Issue 18, item 3: staff wake a workstation through one instance while the only awake
/// workstation of its space is connected to another: that other instance asks it to relay the
/// packets, within a second, once.
#[tokio::test]
async fn a_wake_up_through_one_instance_is_relayed_by_a_workstation_on_another() {
    let Some(mut cluster) =
        Cluster::new("a_wake_up_through_one_instance_is_relayed_by_a_workstation_on_another").await
    else {
        return;
    };
    // The instances' own packets go to a loopback socket, not to the machine's network.
    let network = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let wake_address = [(
        "POWER__WAKE_ADDRESS",
        network.local_addr().unwrap().to_string(),
    )];
    let a = cluster.instance_with(&wake_address).await;
    let b = cluster.instance_with(&wake_address).await;
    let mut awake = a.connect_as("127.0.0.63").await;
    let welcome = awake
        .request(json!({"type": "hello", "poste": "Poste-63", "protocole": 5}))
        .await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert!(shows_online(&cluster, &b, "Poste-63", true, Duration::from_secs(10)).await);
    cluster
        .api(&b)
        .post_ok(
            "/postes",
            json!({"nom": "Poste-64", "mac": "52:54:00:0a:0b:64"}),
        )
        .await;

    let sent = Instant::now();
    cluster
        .api(&b)
        .post_ok("/postes/Poste-64/wake", json!({}))
        .await;
    let (at, relay) = awake.next_of("wake", Duration::from_secs(1)).await.unwrap();
    assert!(at - sent < Duration::from_secs(1), "{:?}", at - sent);
    assert_eq!(relay["mac"], json!(["52:54:00:0a:0b:64"]), "{relay}");
    // The instance staff used sent its own packets too.
    let mut packet = [0u8; 200];
    let (len, _) = tokio::time::timeout(Duration::from_secs(1), network.recv_from(&mut packet))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(len, 102);
    drain(&mut awake, Duration::from_millis(1000)).await;
    assert_eq!(count(&awake, "wake", None), 1);
}

/// Whether instance `server` reports workstation `nom` online (`/api/postes`, what the
/// dashboard shows), waiting up to `within` for it to say `online`.
async fn shows_online(
    cluster: &Cluster,
    server: &ServerProcess,
    nom: &str,
    online: bool,
    within: Duration,
) -> bool {
    let deadline = Instant::now() + within;
    loop {
        let postes = cluster.api(server).get("/postes").await.1;
        let now_online = postes["postes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["nom"] == nom && p["en_ligne"] == true);
        if now_online == online {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn every_instance_sees_the_workstations_connected_to_the_others() {
    let Some(mut cluster) =
        Cluster::new("every_instance_sees_the_workstations_connected_to_the_others").await
    else {
        return;
    };
    let mut a = cluster.instance().await;
    let b = cluster.instance().await;
    // Within a heartbeat (LEASE_MS / 3) and a poll.
    let soon = Duration::from_millis(LEASE_MS);

    let mut ws = a.connect_as("127.0.0.71").await;
    let welcome = ws
        .request(json!({"type": "hello", "poste": "Poste-71"}))
        .await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert!(shows_online(&cluster, &a, "Poste-71", true, soon).await);
    assert!(
        shows_online(&cluster, &b, "Poste-71", true, soon).await,
        "the other instance sees it online"
    );

    // Its connection closes: offline for both.
    drop(ws);
    assert!(shows_online(&cluster, &a, "Poste-71", false, soon).await);
    assert!(
        shows_online(&cluster, &b, "Poste-71", false, soon).await,
        "the other instance sees it offline"
    );

    // Connected again, then its instance is killed: the other drops it once the instance's
    // presence lapses (a lease), not before.
    let mut ws = a.connect_as("127.0.0.71").await;
    ws.request(json!({"type": "hello", "poste": "Poste-71"}))
        .await;
    assert!(shows_online(&cluster, &b, "Poste-71", true, soon).await);
    a.kill9();
    let killed = Instant::now();
    assert!(
        shows_online(
            &cluster,
            &b,
            "Poste-71",
            false,
            Duration::from_millis(3 * LEASE_MS)
        )
        .await,
        "the killed instance's workstations go offline"
    );
    eprintln!(
        "PRESENCE: a killed instance's workstations offline elsewhere after {:.1} s",
        killed.elapsed().as_secs_f64()
    );
    drop(ws);
}
