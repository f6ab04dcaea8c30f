//! `/metrics`: what a session's life and a wrong code leave in the Prometheus figures.

use poste_testkit::{TestServer, WsClient};
use serde_json::json;

async fn scrape(server: &TestServer) -> String {
    let response = reqwest::get(server.http_url("/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    response.text().await.unwrap()
}

#[tokio::test]
async fn a_session_and_a_wrong_code_show_in_the_metrics() {
    let server = TestServer::start().await;
    let before = scrape(&server).await;
    assert!(before.contains("poste_active_sessions 0\n"), "{before}");
    assert!(before.contains("poste_database_up 1\n"), "{before}");

    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    let wrong = ws
        .request(json!({"type": "validate_code", "code": "ZZZZZZ", "ip_address": "192.168.1.30"}))
        .await;
    assert_eq!(wrong["type"], "code_invalid");
    let (_, code) = server.create_session(json!({"duree": "2s"})).await;
    ws.start_with_code(&code, "192.168.1.30").await;
    let running = scrape(&server).await;
    assert!(running.contains("poste_active_sessions 1\n"), "{running}");
    assert!(running.contains("poste_connections 1\n"), "{running}");
    assert!(
        running.contains("poste_sessions_started_total 1\n"),
        "{running}"
    );
    assert!(
        running.contains("poste_codes_refused_total{raison=\"inconnu\"} 1\n"),
        "{running}"
    );

    let (_, ended) = ws
        .next_of("session_terminated", crate::REPLY)
        .await
        .unwrap();
    assert_eq!(ended["raison"], "temps_expire");
    let after = scrape(&server).await;
    assert!(after.contains("poste_active_sessions 0\n"), "{after}");
    assert!(
        after.contains("poste_sessions_ended_total{raison=\"temps_expire\"} 1\n"),
        "{after}"
    );
    // The expiry (and the critical warning of a 2 s session) went through the timer.
    let count: u64 = after
        .lines()
        .find_map(|line| line.strip_prefix("poste_timer_lateness_seconds_count "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(count >= 1, "{after}");
}
