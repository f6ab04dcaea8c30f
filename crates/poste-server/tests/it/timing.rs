//! The server is the clock: warnings and expiry pushed on time by its own timers; time added
//! reaches the workstation at once.

use std::time::{Duration, Instant};

use poste_testkit::{TestServer, WsClient};
use serde_json::json;

use crate::REPLY;

/// Pushes may be this late (the target is 100 ms; loaded CI machines get some slack).
const LATE: Duration = Duration::from_millis(100);

#[tokio::test]
async fn warnings_and_expiry_arrive_on_time() {
    // Thresholds: warning at 3 s, critical at 1 s (fast_config). Session: 5 s.
    let server = TestServer::start().await;
    let (id, code) = server.create_session(json!({"duree": "5s"})).await;
    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    let sent = Instant::now();
    ws.start_with_code(&code, "192.168.1.120").await;
    let row = server.store.session(id).await.unwrap().unwrap();
    // Due instants from the stored start, mapped onto this process's monotonic clock.
    let started_ms = row.started_at.unwrap();
    let now_ms = poste_server::clock::now_ms();
    let start = Instant::now() - Duration::from_millis(u64::try_from(now_ms - started_ms).unwrap());
    assert!(start >= sent - Duration::from_millis(50));

    let (at, warning) = ws
        .next_of("warning", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(warning["level"], "warning");
    assert_eq!(warning["temps_restant"], 3);
    assert_eq!(warning["message"], "Il vous reste 3 secondes");
    check_on_time(at, start + Duration::from_secs(2));

    let (at, critical) = ws
        .next_of("warning", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(critical["level"], "critical");
    assert_eq!(critical["temps_restant"], 1);
    check_on_time(at, start + Duration::from_secs(4));

    let (at, ended) = ws
        .next_of("session_terminated", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(ended["raison"], "temps_expire");
    assert_eq!(ended["message"], "Votre temps est écoulé");
    check_on_time(at, start + Duration::from_secs(5));

    // Nothing else: one warning of each level, one end.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let kinds: Vec<_> = ws
        .received
        .iter()
        .map(|(_, v)| v["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "warning").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "session_terminated").count(),
        1,
        "{kinds:?}"
    );

    let row = server.store.session(id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "expiree");
    assert_eq!(row.ended_at, row.deadline());
    let update = ws
        .request(json!({"type": "get_time", "session_id": id}))
        .await;
    assert_eq!(update["statut"], "expiree");
    assert_eq!(update["temps_restant"], 0);
    assert_eq!(update["pourcentage_utilise"], 100);
}

fn check_on_time(arrived: Instant, due: Instant) {
    assert!(
        arrived + Duration::from_millis(5) >= due,
        "early by {:?}",
        due - arrived
    );
    let late = arrived.saturating_duration_since(due);
    assert!(late <= LATE, "late by {late:?}");
}

#[tokio::test]
async fn time_added_mid_session_reaches_the_client_and_moves_the_deadline() {
    let server = TestServer::start().await;
    let (id, code) = server.create_session(json!({"duree": "4s"})).await;
    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    ws.start_with_code(&code, "192.168.1.121").await;
    // Critical (1 s) would come at 3 s, expiry at 4 s; add 10 s after the first warning.
    let (_, first) = ws.next_of("warning", Duration::from_secs(5)).await.unwrap();
    assert_eq!(first["level"], "warning");
    let added_at = Instant::now();
    let view = server
        .api()
        .post_ok(&format!("/sessions/{id}/add-time"), json!({"duree": "10s"}))
        .await;
    assert_eq!(view["duree_ajoutee"], 10);
    assert_eq!(view["duree_totale"], 14);

    let (at, update) = ws.next_of("time_update", REPLY).await.unwrap();
    assert!(
        at - added_at < Duration::from_millis(500),
        "push took {:?}",
        at - added_at
    );
    let left = update["temps_restant"].as_i64().unwrap();
    assert!((11..=13).contains(&left), "{left}");
    assert_eq!(update["statut"], "active");

    // The warnings are armed again for the new deadline, then it expires at start + 14 s.
    let (_, again) = ws
        .next_of("warning", Duration::from_secs(15))
        .await
        .unwrap();
    assert_eq!(again["level"], "warning", "{again}");
    let (_, critical) = ws
        .next_of("warning", Duration::from_secs(15))
        .await
        .unwrap();
    assert_eq!(critical["level"], "critical");
    let (ended_at, _) = ws
        .next_of("session_terminated", Duration::from_secs(15))
        .await
        .unwrap();
    let row = server.store.session(id).await.unwrap().unwrap();
    assert_eq!(row.total_secs(), 14);
    assert_eq!(row.status.as_str(), "expiree");
    assert!(ended_at - added_at > Duration::from_secs(9));
}

#[tokio::test]
async fn a_change_made_from_another_process_reaches_the_workstation() {
    // The command line writes to the database; the server follows the event log.
    let server = TestServer::start().await;
    let (id, code) = server.create_session(json!({"duree": "1h"})).await;
    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    ws.start_with_code(&code, "192.168.1.122").await;

    let other = poste_store::Store::connect(&server.config.database_url(), "cli-test")
        .await
        .unwrap();
    let settings = poste_server::settings::Settings::from_config(&server.config).unwrap();
    let now = poste_server::clock::now_ms();
    let cli = poste_store::Actor::Cli;
    let announce = poste_server::ops::EventLogOnly;
    poste_server::ops::add_time(&other, &settings, id, 600, &cli, now, &announce)
        .await
        .unwrap();
    let (_, update) = ws
        .next_of("time_update", Duration::from_secs(3))
        .await
        .unwrap();
    assert!(update["temps_restant"].as_i64().unwrap() > 4100);

    poste_server::ops::end_session(
        &other,
        id,
        poste_proto::EndReason::TermineParAnimateur,
        None,
        &cli,
        now,
        &announce,
    )
    .await
    .unwrap();
    let (_, ended) = ws
        .next_of("session_terminated", Duration::from_secs(3))
        .await
        .unwrap();
    assert_eq!(ended["raison"], "termine_par_animateur");
}

#[tokio::test]
async fn a_session_shorter_than_the_warning_is_not_warned_at_its_start() {
    let server = TestServer::start().await;
    let (_, code) = server.create_session(json!({"duree": "2s"})).await;
    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    let started = ws.start_with_code(&code, "192.168.1.123").await;
    // A seed client asks for its time right away: still no warning.
    ws.send_json(json!({"type": "get_time", "session_id": started["session"]["id"]}))
        .await;
    // 2 s < warning (3 s): no first warning; critical at 1 s left; then the end.
    let (_, warning) = ws.next_of("warning", Duration::from_secs(3)).await.unwrap();
    assert_eq!(warning["level"], "critical");
    ws.next_of("session_terminated", Duration::from_secs(3))
        .await
        .unwrap();
    assert!(ws.received.iter().all(|(_, v)| v["level"] != "warning"));
}

#[tokio::test]
async fn a_warning_due_while_the_server_was_down_reaches_the_workstation_when_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let config = poste_testkit::fast_config(dir.path());
    let server = TestServer::start_config(config.clone(), None)
        .await
        .unwrap();
    // 8 s: first warning due at 5 s (3 s left), critical at 7 s.
    let (id, code) = server.create_session(json!({"duree": "8s"})).await;
    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    ws.start_with_code(&code, "192.168.1.170").await;
    let started = Instant::now();
    server.stop().await;
    drop(ws);

    tokio::time::sleep_until((started + Duration::from_millis(5500)).into()).await;
    let server = TestServer::start_config(config, None).await.unwrap();
    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    // The agent comes back and takes its session up again.
    let valid = ws
        .request(json!({"type": "validate_code", "code": code, "ip_address": "192.168.1.170"}))
        .await;
    assert_eq!(valid["session"]["statut"], "active", "{valid}");
    let (_, warning) = ws.next_of("warning", REPLY).await.unwrap();
    assert_eq!(warning["level"], "warning", "owed warning: {warning}");
    assert_eq!(warning["session_id"], id);
    // Then the rest, on time, once each.
    let (_, critical) = ws.next_of("warning", Duration::from_secs(4)).await.unwrap();
    assert_eq!(critical["level"], "critical");
    ws.next_of("session_terminated", Duration::from_secs(4))
        .await
        .unwrap();
    let warnings = ws
        .received
        .iter()
        .filter(|(_, v)| v["type"] == "warning")
        .count();
    assert_eq!(warnings, 2);
}
