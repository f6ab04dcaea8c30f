//! Power from staff: Wake-on-LAN packets really sent (received here on a loopback UDP socket),
//! and power orders pushed to the workstation's agent, never cutting a session staff did not
//! choose to cut, each recorded with its author.

use poste_store::EventKind;
use poste_testkit::{TestServer, WsClient};
use serde_json::{Value, json};
use tokio::net::UdpSocket;

use crate::REPLY;

/// The details of the events of `kind`, each by the test's API token.
async fn history(server: &TestServer, kind: EventKind) -> Vec<Option<String>> {
    let events = server.store.events_after(0, 1000).await.unwrap();
    events
        .into_iter()
        .filter(|event| event.kind == kind)
        .map(|event| {
            assert!(event.actor.starts_with("api:test-"), "{event:?}");
            event.detail
        })
        .collect()
}

#[tokio::test]
async fn wake_on_lan_packets_reach_the_network_with_the_workstations_mac() {
    let network = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = network.local_addr().unwrap();
    let server = TestServer::start_with(|config| config.power.wake_address = address).await;
    let api = server.api();
    api.post_ok("/postes", json!({"nom": "P1", "mac": "52-54-00-AB-CD-01"}))
        .await;
    api.post_ok("/postes", json!({"nom": "P2"})).await;

    let woken = api.post_ok("/postes/P1/wake", json!({})).await;
    assert_eq!(woken["poste"], "P1");
    let mut packet = [0u8; 200];
    for _ in 0..3 {
        let (len, _) = tokio::time::timeout(REPLY, network.recv_from(&mut packet))
            .await
            .expect("a magic packet")
            .unwrap();
        assert_eq!(len, 102);
        assert_eq!(&packet[..6], &[0xFF; 6]);
        for repeat in packet[6..len].chunks(6) {
            assert_eq!(repeat, &[0x52, 0x54, 0x00, 0xAB, 0xCD, 0x01]);
        }
    }

    // No MAC known: said so, nothing sent.
    let (status, body) = api.post("/postes/P2/wake", json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("L'adresse MAC de P2 n'est pas connue"),
        "{body}"
    );
    // Connected: it is on already.
    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    ws.request(json!({"type": "hello", "poste": "P1", "protocole": 3}))
        .await;
    let (status, body) = api.post("/postes/P1/wake", json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("déjà allumé"),
        "{body}"
    );
    let mut extra = [0u8; 200];
    assert!(
        tokio::time::timeout(
            std::time::Duration::from_millis(300),
            network.recv_from(&mut extra)
        )
        .await
        .is_err(),
        "no packet for a refused wake"
    );

    assert_eq!(
        history(&server, EventKind::WakeSent).await,
        [Some("52:54:00:ab:cd:01".to_owned())]
    );
}

/// A workstation's agent speaking protocol `version`.
async fn agent(server: &TestServer, poste: &str, version: u32) -> WsClient {
    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    let welcome = ws
        .request(json!({"type": "hello", "poste": poste, "protocole": version}))
        .await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    ws
}

fn refused(body: &Value, words: &str) {
    assert!(
        body["message"].as_str().unwrap_or_default().contains(words),
        "{words:?} in {body}"
    );
}

#[tokio::test]
async fn power_orders_reach_the_agent_and_never_cut_a_session_unless_chosen() {
    let server = TestServer::start_with(|config| {
        config.power.notice_secs = 1;
        config.power.cut_secs = 20;
    })
    .await;
    let api = server.api();
    let mut p1 = agent(&server, "P1", 3).await;

    // Idle: the order goes at once, with the gate's notice.
    let reply = api
        .post_ok("/postes/P1/power", json!({"action": "extinction"}))
        .await;
    assert_eq!(reply["quand"], "maintenant");
    let (_, order) = p1.next_of("power", REPLY).await.unwrap();
    assert_eq!(order["action"], "extinction");
    assert_eq!(order["delai_secondes"], 1);
    let first_order = order["ordre"].as_i64().unwrap();

    // Nothing else than the two actions.
    let (status, body) = api
        .post("/postes/P1/power", json!({"action": "veille"}))
        .await;
    assert_eq!(status, 400, "{body}");
    refused(&body, "Choisissez d'éteindre ou de redémarrer");

    // A session running: staff must say what becomes of it.
    let (_, code) = server
        .create_session(json!({"duree": "1h", "utilisateur": "Awa"}))
        .await;
    p1.start_with_code(&code, "127.0.0.1").await;
    let (status, body) = api
        .post("/postes/P1/power", json!({"action": "redemarrage"}))
        .await;
    assert_eq!(status, 400, "{body}");
    refused(&body, "Une session est en cours sur P1");

    // After the session: the order goes, the session is untouched.
    let reply = api
        .post_ok(
            "/postes/P1/power",
            json!({"action": "redemarrage", "session": "attendre"}),
        )
        .await;
    assert_eq!(reply["quand"], "fin_de_session");
    assert_eq!(reply["fin_session"], Value::Null);
    let (_, order) = p1.next_of("power", REPLY).await.unwrap();
    assert_eq!(order["action"], "redemarrage");
    assert!(order["ordre"].as_i64().unwrap() > first_order);
    let time = p1
        .request(json!({"type": "get_time", "session_id": order_session(&server).await}))
        .await;
    assert!(time["temps_restant"].as_i64().unwrap() > 3000, "{time}");

    // Cut short: the visitor's time drops to 20 s, they are told why, then the order.
    let reply = api
        .post_ok(
            "/postes/P1/power",
            json!({"action": "extinction", "session": "ecourter"}),
        )
        .await;
    assert!(reply["fin_session"].is_string(), "{reply}");
    let (_, update) = p1.next_of("time_update", REPLY).await.unwrap();
    let left = update["temps_restant"].as_i64().unwrap();
    assert!((18..=20).contains(&left), "{update}");
    let (_, notice) = p1.next_of("message", REPLY).await.unwrap();
    assert!(
        notice["message"]
            .as_str()
            .unwrap()
            .contains("votre session se termine dans 20 s"),
        "{notice}"
    );
    p1.next_of("power", REPLY).await.unwrap();

    // An older agent is not sent what it would not understand; an offline one cannot be.
    let _p2 = agent(&server, "P2", 2).await;
    let (status, body) = api
        .post("/postes/P2/power", json!({"action": "extinction"}))
        .await;
    assert_eq!(status, 409, "{body}");
    refused(&body, "trop ancien");
    api.post_ok("/postes", json!({"nom": "P3"})).await;
    let (status, body) = api
        .post("/postes/P3/power", json!({"action": "extinction"}))
        .await;
    assert_eq!(status, 409, "{body}");
    refused(&body, "P3 n'est pas connecté");

    assert_eq!(
        history(&server, EventKind::PowerOrdered).await,
        [
            Some("extinction".to_owned()),
            Some("redemarrage".to_owned()),
            Some("extinction ecourtee".to_owned()),
        ]
    );
}

async fn order_session(server: &TestServer) -> i64 {
    server.store.active_sessions().await.unwrap()[0].id
}

/// A fixed-offset zone where it is about noon now, so that hours set around "now" never cross
/// midnight whenever the test runs.
fn zone_at_noon() -> (String, jiff::civil::DateTime) {
    let utc_hour = i32::from(
        jiff::Timestamp::now()
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .hour(),
    );
    let offset = (12 - utc_hour).clamp(-12, 14);
    // POSIX sign: Etc/GMT-3 is three hours ahead of UTC.
    let name = match offset {
        0 => "Etc/GMT".to_owned(),
        east if east > 0 => format!("Etc/GMT-{east}"),
        west => format!("Etc/GMT+{}", -west),
    };
    let zone = jiff::tz::TimeZone::get(&name).unwrap();
    (
        name,
        jiff::Timestamp::now().to_zoned_datetime(zone).datetime(),
    )
}

#[tokio::test]
async fn the_room_is_powered_off_after_the_closing_once_and_not_woken_late() {
    let (zone, local) = zone_at_noon();
    let server = TestServer::start_with(|config| {
        config.timezone = Some(zone);
        config.power.schedule_check_secs = 1;
        config.power.notice_secs = 1;
    })
    .await;
    let mut p1 = agent(&server, "P1", 3).await;
    // Every day: open an hour, closed a minute ago.
    let close = local.time() - jiff::SignedDuration::from_secs(60);
    let open = close - jiff::SignedDuration::from_secs(3600);
    let period = format!("{}-{}", open.strftime("%H:%M"), close.strftime("%H:%M"));
    let week = vec![period; 7].join(";");
    server
        .store
        .set_settings(
            &[
                ("opening_hours".to_owned(), week),
                // Due 61 minutes ago: too late, skipped.
                ("power_wake_before".to_owned(), "0".to_owned()),
                ("power_off_after".to_owned(), "0".to_owned()),
            ],
            &poste_store::Actor::Cli,
            poste_server::clock::now_ms(),
        )
        .await
        .unwrap();

    let (_, order) = p1
        .next_of("power", std::time::Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(order["action"], "extinction");
    // Checked every second: still one order, and no wake-up.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert!(
        p1.next_of("power", std::time::Duration::from_millis(10))
            .await
            .is_err()
    );
    let events = server.store.events_after(0, 1000).await.unwrap();
    let orders: Vec<_> = events
        .iter()
        .filter(|event| event.kind == EventKind::PowerOrdered)
        .map(|event| event.actor.as_str())
        .collect();
    assert_eq!(orders, ["systeme"]);
    assert!(!events.iter().any(|event| event.kind == EventKind::WakeSent));
}

/// A server not on the workstations' network: an awake workstation of the same space, whose
/// agent speaks protocol 4, is asked to send the packets on its own network; one of another
/// space, or too old, is not.
#[tokio::test]
async fn an_awake_workstation_of_the_space_relays_the_wake_up() {
    let network = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = network.local_addr().unwrap();
    let server = TestServer::start_with(|config| config.power.wake_address = address).await;
    let api = server.api();
    let hello = |poste: &'static str, protocole: u32| {
        let url = server.ws_url();
        async move {
            let mut ws = WsClient::connect(&url).await.unwrap();
            ws.request(json!({"type": "hello", "poste": poste, "protocole": protocole}))
                .await;
            ws
        }
    };
    let mut old = hello("MDQ-ANCIEN", 3).await;
    let mut awake = hello("MDQ-ACCUEIL", 4).await;
    let mut elsewhere = hello("MED-ACCUEIL", 4).await;
    api.post_ok(
        "/postes",
        json!({"nom": "MDQ-07", "mac": "52:54:00:0a:0b:07"}),
    )
    .await;
    let quartier = server.create_space("Maison de quartier").await;
    for poste in ["MDQ-ANCIEN", "MDQ-ACCUEIL", "MDQ-07"] {
        let id = server.poste_id(poste).await;
        server
            .store
            .move_poste(id, quartier.id, &poste_store::Actor::Cli, 0)
            .await
            .unwrap();
    }

    api.post_ok("/postes/MDQ-07/wake", json!({})).await;
    let (_, relay) = awake.next_of("wake", REPLY).await.unwrap();
    assert_eq!(relay["mac"], json!(["52:54:00:0a:0b:07"]), "{relay}");
    for (ws, who) in [(&mut old, "protocol 3"), (&mut elsewhere, "another space")] {
        assert!(
            ws.next_of("wake", std::time::Duration::from_millis(300))
                .await
                .is_err(),
            "{who} relays nothing"
        );
    }
    // The server's own packets went too.
    let mut packet = [0u8; 200];
    let (len, _) = tokio::time::timeout(REPLY, network.recv_from(&mut packet))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(len, 102);
}
