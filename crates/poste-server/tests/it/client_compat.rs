//! The frames a workstation client of the system this project replaces (the `epn-core` library
//! of its Tauri client, written to the same protocol at `/ws/client/`) requires, exactly: a
//! `connection_established` greeting as soon as it connects, `code_acces` in
//! `session_started.session`, and `remaining` in every `warning`. The seed's `/ws/sessions/`
//! stays as the seed wrote it: no greeting, neither field.

use std::net::IpAddr;
use std::time::Duration;

use poste_proto::{WS_PATH_CLIENT, WS_PATH_SESSIONS};
use poste_testkit::{TestServer, WsClient};
use serde_json::{Value, json};

use crate::REPLY;

async fn connect(server: &TestServer, path: &str, from: &str) -> WsClient {
    let source: IpAddr = from.parse().unwrap();
    WsClient::connect_from(server.addr, path, source)
        .await
        .unwrap()
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn an_epn_core_client_gets_its_greeting_its_code_and_its_remaining_seconds() {
    let server = TestServer::start().await;
    // A workstation the register knows at this address (a seed client's first session).
    let (_, first) = server.create_session(json!({"duree": "1h"})).await;
    let mut earlier = connect(&server, WS_PATH_SESSIONS, "127.0.5.7").await;
    let started = earlier.start_with_code(&first, "127.0.5.7").await;
    let poste_id = server
        .store
        .poste_by_name("127.0.5.7")
        .await
        .unwrap()
        .unwrap()
        .id;
    earlier
        .request(json!({"type": "end_session", "session_id": started["session"]["id"]}))
        .await;

    // Greeted at once, before it says anything, with the workstation known at its address.
    let mut client = connect(&server, WS_PATH_CLIENT, "127.0.5.7").await;
    let greeting = client.next(Duration::from_secs(1)).await.unwrap();
    assert_eq!(greeting["type"], "connection_established", "{greeting}");
    assert_eq!(
        keys(&greeting),
        ["message", "poste_id", "poste_nom", "type"]
    );
    assert_eq!(greeting["message"], "Connexion établie avec le serveur");
    assert_eq!(greeting["poste_id"], poste_id);
    assert_eq!(greeting["poste_nom"], "127.0.5.7");
    // An address the register does not know: the same greeting, with nulls.
    let mut stranger = connect(&server, WS_PATH_CLIENT, "127.0.5.8").await;
    let greeting = stranger.next(Duration::from_secs(1)).await.unwrap();
    assert_eq!(greeting["type"], "connection_established", "{greeting}");
    assert_eq!(greeting["poste_id"], Value::Null);
    assert_eq!(greeting["poste_nom"], Value::Null);

    // A 5 s session: warnings at 3 s and 1 s (the test configuration's thresholds).
    let (id, code) = server
        .create_session(json!({"duree": "5s", "utilisateur": "Marie Payet"}))
        .await;
    let started = client.start_with_code(&code, "127.0.5.7").await;
    assert_eq!(started["session"]["code_acces"], code, "{started}");
    assert_eq!(started["session"]["id"], id);
    for level in ["warning", "critical"] {
        let (_, warning) = client
            .next_of("warning", Duration::from_secs(6))
            .await
            .unwrap();
        assert_eq!(warning["level"], level, "{warning}");
        assert_eq!(warning["remaining"], warning["temps_restant"], "{warning}");
        assert!(warning["remaining"].as_i64().unwrap() > 0, "{warning}");
    }
    let (_, ended) = client
        .next_of("session_terminated", Duration::from_secs(6))
        .await
        .unwrap();
    assert_eq!(ended["raison"], "temps_expire");
}

#[tokio::test]
async fn the_seed_endpoint_sends_the_seeds_frames_only() {
    let server = TestServer::start().await;
    let mut seed = connect(&server, WS_PATH_SESSIONS, "127.0.5.9").await;
    // No greeting: the first frame is the reply to the first message.
    let ack = seed.request(json!({"type": "heartbeat"})).await;
    assert_eq!(ack["type"], "heartbeat_ack", "{ack}");
    let (_, code) = server.create_session(json!({"duree": "4s"})).await;
    let started = seed.start_with_code(&code, "127.0.5.9").await;
    assert!(started["session"].get("code_acces").is_none(), "{started}");
    let (_, warning) = seed
        .next_of("warning", Duration::from_secs(6))
        .await
        .unwrap();
    assert!(warning.get("remaining").is_none(), "{warning}");
    assert_eq!(
        keys(&warning),
        ["level", "message", "session_id", "temps_restant", "type"]
    );
    seed.next_of("session_terminated", REPLY).await.unwrap();
}
