//! The same server behaviour on PostgreSQL (`--database postgres://…`): the seed flow, time
//! added, warnings and expiry on time, and recovery after a restart.

use std::time::Duration;

use poste_testkit::{PgDatabase, TestServer, WsClient};
use serde_json::json;

use crate::REPLY;

#[tokio::test]
async fn the_seed_flow_timers_and_recovery_work_on_postgres() {
    let Some(db) = PgDatabase::create("the_seed_flow_timers_and_recovery_work_on_postgres").await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = poste_testkit::fast_config(dir.path());
    config.database = Some(db.url.clone());
    let server = TestServer::start_config(config.clone(), None)
        .await
        .unwrap();
    assert_eq!(server.store.backend(), poste_store::Backend::Postgres);

    server
        .api()
        .post_ok("/postes", json!({"nom": "Poste-03", "ip": "192.168.1.103"}))
        .await;
    let (_, wrong) = server
        .create_session(json!({"duree": "1h", "poste": "Poste-03"}))
        .await;
    let (short_id, short) = server
        .create_session(json!({"utilisateur": "Jean Dupont", "duree": "4s"}))
        .await;
    let (long_id, long) = server.create_session(json!({"duree": "1h"})).await;

    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    let refused = ws
        .request(json!({"type": "validate_code", "code": wrong, "ip_address": "192.168.1.50"}))
        .await;
    assert_eq!(refused["raison"], "mauvais_poste");
    let started = ws.start_with_code(&short, "192.168.1.50").await;
    assert_eq!(started["session"]["temps_restant"], 4);
    server
        .api()
        .post_ok(
            &format!("/sessions/{short_id}/add-time"),
            json!({"duree": "2s"}),
        )
        .await;
    let (_, update) = ws.next_of("time_update", REPLY).await.unwrap();
    assert!(update["temps_restant"].as_i64().unwrap() >= 5);
    let (_, warning) = ws.next_of("warning", Duration::from_secs(8)).await.unwrap();
    assert_eq!(warning["level"], "warning");
    let (_, critical) = ws.next_of("warning", Duration::from_secs(8)).await.unwrap();
    assert_eq!(critical["level"], "critical");
    let (_, ended) = ws
        .next_of("session_terminated", Duration::from_secs(8))
        .await
        .unwrap();
    assert_eq!(ended["raison"], "temps_expire");
    let row = server.store.session(short_id).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.total_secs()), ("expiree", 6));

    let mut other = WsClient::connect(&server.ws_url()).await.unwrap();
    other.start_with_code(&long, "192.168.1.51").await;
    server.stop().await;

    // A new server on the same database resumes the running session.
    let server = TestServer::start_config(config, None).await.unwrap();
    let mut again = WsClient::connect(&server.ws_url()).await.unwrap();
    let valid = again
        .request(json!({"type": "validate_code", "code": long, "ip_address": "192.168.1.51"}))
        .await;
    assert_eq!(valid["session"]["statut"], "active", "{valid}");
    let update = again
        .request(json!({"type": "get_time", "session_id": long_id}))
        .await;
    assert!(update["temps_restant"].as_i64().unwrap() > 3590);
    server.stop().await;
}

#[tokio::test]
async fn a_dead_database_gives_clear_errors_and_loses_nothing() {
    let Some(db) = PgDatabase::create("a_dead_database_gives_clear_errors_and_loses_nothing").await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = poste_testkit::fast_config(dir.path());
    config.database = Some(db.url.clone());
    let server = TestServer::start_config(config, None).await.unwrap();
    let (id, code) = server.create_session(json!({"duree": "5s"})).await;
    let (_, spare) = server.create_session(json!({"duree": "1h"})).await;
    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    ws.start_with_code(&code, "192.168.1.160").await;

    db.set_reachable(false).await;

    // The running session is still served from memory…
    let update = ws
        .request(json!({"type": "get_time", "session_id": id}))
        .await;
    assert_eq!(update["type"], "time_update", "{update}");
    // …a new code cannot be checked: a clear error, not a crash or a wrong refusal.
    let mut other = WsClient::connect(&server.ws_url()).await.unwrap();
    let reply = other
        .request(json!({"type": "validate_code", "code": spare, "ip_address": "192.168.1.161"}))
        .await;
    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["code"], "service_indisponible");
    // The API says so in French, with 503.
    let (status, body) = server.api().get("/sessions").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["erreur"], "service_indisponible");
    let readyz = reqwest::get(server.http_url("/readyz")).await.unwrap();
    assert_eq!(readyz.status(), 503);

    // The server is the clock even without its database: the end is pushed on time…
    let (_, ended) = ws
        .next_of("session_terminated", Duration::from_secs(8))
        .await
        .unwrap();
    assert_eq!(ended["raison"], "temps_expire");

    // …and recorded once the database is back.
    db.set_reachable(true).await;
    let mut recorded = false;
    for _ in 0..100 {
        let direct = poste_store::Store::connect(&db.url, "check").await.unwrap();
        let row = direct.session(id).await.unwrap().unwrap();
        direct.close().await;
        if row.status.as_str() == "expiree" {
            assert_eq!(row.ended_at, row.deadline());
            recorded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        recorded,
        "the expiry was not recorded after the database came back"
    );
    let reply = other
        .request(json!({"type": "validate_code", "code": spare, "ip_address": "192.168.1.161"}))
        .await;
    assert_eq!(reply["type"], "code_valid", "service resumes: {reply}");
    // Exactly one end was pushed.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        ws.received
            .iter()
            .filter(|(_, v)| v["type"] == "session_terminated")
            .count(),
        1
    );
    server.stop().await;
}
