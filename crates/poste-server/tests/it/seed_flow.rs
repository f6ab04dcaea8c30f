//! The seed's flow, exactly as its document describes it, on both WebSocket paths.

use poste_testkit::{TestServer, WsClient};
use serde_json::json;

use crate::REPLY;

#[tokio::test]
async fn seed_flow_validate_start_get_time_heartbeat() {
    let server = TestServer::start().await;
    server
        .api()
        .post_ok("/postes", json!({"nom": "Poste-03", "ip": "127.0.1.103"}))
        .await;
    let (id, code) = server
        .create_session(json!({"utilisateur": "Jean Dupont", "duree": 7200, "poste": "Poste-03"}))
        .await;

    let mut ws = server.connect_as("127.0.1.103").await;
    // The seed's validate_code, with the code typed in lower case and spaces around it.
    let valid = ws
        .request(json!({"type": "validate_code", "code": format!("  {}  ", code.to_lowercase()), "ip_address": "127.0.1.103"}))
        .await;
    assert_eq!(valid["type"], "code_valid", "{valid}");
    let session = &valid["session"];
    assert_eq!(session["id"], id);
    assert_eq!(session["code_acces"], code.as_str());
    assert_eq!(session["utilisateur"], "Jean Dupont");
    assert_eq!(session["poste"], "Poste-03");
    assert_eq!(session["duree_initiale"], 7200);
    assert_eq!(session["temps_restant"], 7200);
    assert_eq!(session["statut"], "en_attente");

    let started = ws
        .request(json!({"type": "start_session", "session_id": id}))
        .await;
    assert_eq!(started["type"], "session_started", "{started}");
    assert_eq!(started["session"]["id"], id);
    assert_eq!(started["session"]["statut"], "active");
    let left = started["session"]["temps_restant"].as_i64().unwrap();
    assert!((7199..=7200).contains(&left), "{left}");
    let debut = started["session"]["debut_session"].as_str().unwrap();
    assert!(
        debut.parse::<jiff::Timestamp>().is_ok() && debut.ends_with('Z'),
        "RFC 3339: {debut}"
    );

    let update = ws
        .request(json!({"type": "get_time", "session_id": id}))
        .await;
    assert_eq!(update["type"], "time_update", "{update}");
    let left = update["temps_restant"].as_i64().unwrap();
    assert!((7198..=7200).contains(&left));
    assert_eq!(update["temps_restant_minutes"], left / 60);
    assert_eq!(update["pourcentage_utilise"], 0);
    assert_eq!(update["statut"], "active");

    let ack = ws.request(json!({"type": "heartbeat"})).await;
    assert_eq!(ack["type"], "heartbeat_ack");
    assert!(
        ack["timestamp"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .is_ok()
    );

    // The store agrees: the server keeps the start instant and the time held.
    let row = server.store.session(id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "active");
    assert_eq!(row.initial_secs, 7200);
    assert!(row.started_at.is_some());
}

#[tokio::test]
async fn client_path_serves_the_same_protocol_and_hello_is_additive() {
    let server = TestServer::start().await;
    let (id, code) = server.create_session(json!({"duree": "1h"})).await;
    let url = format!("ws://{}{}", server.addr, poste_proto::WS_PATH_CLIENT);
    let mut ws = WsClient::connect(&url).await.unwrap();
    ws.next_of("connection_established", REPLY).await.unwrap();
    let welcome = ws
        .request(json!({"type": "hello", "poste": "Poste-07", "mac": "52:54:00:12:34:56", "version": "0.1.0"}))
        .await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert_eq!(welcome["poste"], "Poste-07");
    assert_eq!(welcome["seuils"]["avertissement"], 3);
    assert_eq!(welcome["seuils"]["critique"], 1);

    let started = ws.start_with_code(&code, "10.0.0.7").await;
    assert_eq!(started["session"]["poste"], "Poste-07");
    assert_eq!(started["session"]["utilisateur"], "Visiteur");

    let postes = server.api().get("/postes").await.1;
    let poste = postes["postes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["nom"] == "Poste-07")
        .unwrap()
        .clone();
    assert_eq!(poste["mac"], "52:54:00:12:34:56");
    assert_eq!(poste["version"], "0.1.0");
    assert_eq!(poste["en_ligne"], true);
    let session = server.api().get(&format!("/sessions/{id}")).await.1;
    assert_eq!(session["poste"], "Poste-07");
    drop(ws);
    // Online state follows the live connection.
    let mut online = true;
    for _ in 0..50 {
        let postes = server.api().get("/postes").await.1;
        online = postes["postes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["nom"] == "Poste-07" && p["en_ligne"] == true);
        if !online {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        !online,
        "workstation still online after its connection closed"
    );
}

#[tokio::test]
async fn a_seed_client_becomes_a_known_workstation_and_resumes_after_reconnecting() {
    let server = TestServer::start().await;
    let (id, code) = server.create_session(json!({"duree": "30min"})).await;
    let mut first = server.connect_as("127.0.1.101").await;
    first.start_with_code(&code, "127.0.1.101").await;
    drop(first);

    // Registered under its IP address.
    let postes = server.api().get("/postes").await.1;
    assert!(
        postes["postes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["nom"] == "127.0.1.101" && p["ip"] == "127.0.1.101")
    );

    // A new connection from the same workstation re-validates its code (agent restarted)…
    let mut again = server.connect_as("127.0.1.101").await;
    let valid = again
        .request(json!({"type": "validate_code", "code": code, "ip_address": "127.0.1.101"}))
        .await;
    assert_eq!(valid["type"], "code_valid", "{valid}");
    assert_eq!(valid["session"]["statut"], "active");
    // …and start_session gives the running session back, not a new start.
    let started = again
        .request(json!({"type": "start_session", "session_id": id}))
        .await;
    assert_eq!(started["type"], "session_started");
    let left = started["session"]["temps_restant"].as_i64().unwrap();
    assert!(left <= 1800 && left > 1790, "{left}");

    // Another workstation cannot take it up.
    let mut other = server.connect_as("127.0.1.102").await;
    let refused = other
        .request(json!({"type": "validate_code", "code": code, "ip_address": "127.0.1.102"}))
        .await;
    assert_eq!(refused["type"], "code_invalid");
    assert_eq!(refused["raison"], "deja_utilise");
    let refused = other
        .request(json!({"type": "get_time", "session_id": id}))
        .await;
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["code"], "session_non_autorisee");
}

#[tokio::test]
async fn every_follower_of_a_session_gets_its_pushes() {
    let server = TestServer::start().await;
    let (id, code) = server.create_session(json!({"duree": "1h"})).await;
    let mut agent = server.connect_as("127.0.1.110").await;
    agent.start_with_code(&code, "127.0.1.110").await;
    // A second connection of the same workstation (e.g. the visitor's helper) follows it.
    let mut helper = server.connect_as("127.0.1.110").await;
    helper
        .send_json(json!({"type": "validate_code", "code": code, "ip_address": "127.0.1.110"}))
        .await;
    helper.next_of("code_valid", REPLY).await.unwrap();

    server
        .api()
        .post_ok(
            &format!("/sessions/{id}/end"),
            json!({"message": "Fermeture exceptionnelle"}),
        )
        .await;
    for ws in [&mut agent, &mut helper] {
        let (_, ended) = ws.next_of("session_terminated", REPLY).await.unwrap();
        assert_eq!(ended["raison"], "termine_par_animateur");
        assert_eq!(ended["message"], "Fermeture exceptionnelle");
        assert_eq!(ended["session_id"], id);
    }
}
