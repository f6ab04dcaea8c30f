//! Each refusal reason of the seed's troubleshooting, told apart in French, and throttling.

use poste_testkit::{TestServer, WsClient};
use serde_json::{Value, json};

async fn validate(ws: &mut WsClient, code: &str, ip: &str) -> Value {
    ws.request(json!({"type": "validate_code", "code": code, "ip_address": ip}))
        .await
}

#[tokio::test]
async fn each_refusal_says_why_in_french() {
    let server = TestServer::start_with(|c| c.limits.code_failures = 50).await;
    let api = server.api();
    api.post_ok("/postes", json!({"nom": "Poste-03", "ip": "127.0.1.103"}))
        .await;
    let mut ws = server.connect_as("127.0.1.50").await;

    // Unknown.
    let reply = validate(&mut ws, "ZZZZZZ", "127.0.1.50").await;
    assert_eq!(reply["type"], "code_invalid");
    assert_eq!(reply["raison"], "inconnu");
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .starts_with("Code inconnu"),
        "{reply}"
    );
    // Not even a code.
    let reply = validate(&mut ws, "'; DROP TABLE sessions; --", "127.0.1.50").await;
    assert_eq!(reply["raison"], "inconnu");

    // Wrong workstation: bound to Poste-03, typed on another.
    let (_, bound) = server
        .create_session(json!({"duree": "1h", "poste": "Poste-03"}))
        .await;
    let reply = validate(&mut ws, &bound, "127.0.1.50").await;
    assert_eq!(reply["raison"], "mauvais_poste", "{reply}");
    assert_eq!(reply["message"], "Ce code est réservé au poste Poste-03.");
    // …and accepted on Poste-03.
    let mut poste03 = server.connect_as("127.0.1.103").await;
    assert_eq!(
        validate(&mut poste03, &bound, "127.0.1.103").await["type"],
        "code_valid"
    );

    // Expired: validity of 1 s, then wait.
    let (_, short) = server
        .create_session(json!({"duree": "1h", "validite": "1s"}))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let reply = validate(&mut ws, &short, "127.0.1.50").await;
    assert_eq!(reply["raison"], "expire", "{reply}");
    assert!(reply["message"].as_str().unwrap().contains("expiré"));

    // Already used: start it elsewhere, then type it again.
    let (_, used) = server.create_session(json!({"duree": "1h"})).await;
    let mut first = server.connect_as("127.0.1.60").await;
    first.start_with_code(&used, "127.0.1.60").await;
    let reply = validate(&mut ws, &used, "127.0.1.50").await;
    assert_eq!(reply["raison"], "deja_utilise", "{reply}");
    assert_eq!(reply["message"], "Ce code a déjà été utilisé.");

    // Cancelled by staff.
    let (id, cancelled) = server.create_session(json!({"duree": "1h"})).await;
    api.post_ok(&format!("/sessions/{id}/cancel"), json!({}))
        .await;
    let reply = validate(&mut ws, &cancelled, "127.0.1.50").await;
    assert_eq!(reply["raison"], "annule", "{reply}");
}

#[tokio::test]
async fn a_code_is_single_use_even_when_two_workstations_race() {
    let server = TestServer::start().await;
    let (id, code) = server.create_session(json!({"duree": "1h"})).await;
    let mut a = server.connect_as("127.0.1.71").await;
    let mut b = server.connect_as("127.0.1.72").await;
    assert_eq!(
        validate(&mut a, &code, "127.0.1.71").await["type"],
        "code_valid"
    );
    assert_eq!(
        validate(&mut b, &code, "127.0.1.72").await["type"],
        "code_valid"
    );
    a.send_json(json!({"type": "start_session", "session_id": id}))
        .await;
    b.send_json(json!({"type": "start_session", "session_id": id}))
        .await;
    let ra = a.next(crate::REPLY).await.unwrap();
    let rb = b.next(crate::REPLY).await.unwrap();
    let started = [&ra, &rb]
        .iter()
        .filter(|r| r["type"] == "session_started")
        .count();
    assert_eq!(started, 1, "{ra} {rb}");
    let loser = if ra["type"] == "session_started" {
        &rb
    } else {
        &ra
    };
    assert_eq!(loser["type"], "error");
    assert_eq!(loser["code"], "session_non_demarrable");
    assert_eq!(loser["message"], "Ce code a déjà été utilisé.");
}

#[tokio::test]
async fn wrong_codes_are_throttled_per_workstation_without_blocking_others() {
    let server = TestServer::start_with(|c| {
        c.limits.code_failures = 5;
        c.limits.code_failure_window_secs = 60;
    })
    .await;
    let (_, good) = server.create_session(json!({"duree": "1h"})).await;
    let mut ws = server.connect_as("127.0.1.80").await;
    for _ in 0..5 {
        assert_eq!(
            validate(&mut ws, "AAAAAA", "127.0.1.80").await["raison"],
            "inconnu"
        );
    }
    // The sixth try, even with the right code, waits.
    let reply = validate(&mut ws, &good, "127.0.1.80").await;
    assert_eq!(reply["raison"], "trop_d_essais", "{reply}");
    let wait = reply["reessayer_dans"].as_u64().unwrap();
    assert!((50..=60).contains(&wait), "{wait}");
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .starts_with("Trop d'essais. Réessayez dans")
    );
    // A new connection from the same workstation is still throttled.
    let mut again = server.connect_as("127.0.1.80").await;
    assert_eq!(
        validate(&mut again, &good, "127.0.1.80").await["raison"],
        "trop_d_essais"
    );
}

#[tokio::test]
async fn sessions_of_other_workstations_are_out_of_reach() {
    let server = TestServer::start().await;
    let (id, code) = server.create_session(json!({"duree": "1h"})).await;
    let (pending_id, _) = server.create_session(json!({"duree": "1h"})).await;
    let mut owner = server.connect_as("127.0.1.90").await;
    owner.start_with_code(&code, "127.0.1.90").await;

    // A connection that never validated these codes, from another workstation.
    let mut intruder = server.connect_as("127.0.1.91").await;
    intruder
        .send_json(json!({"type": "validate_code", "code": "ZZZZZZ", "ip_address": "127.0.1.91"}))
        .await;
    intruder.next(crate::REPLY).await.unwrap();
    for request in [
        json!({"type": "get_time", "session_id": id}),
        json!({"type": "start_session", "session_id": id}),
        json!({"type": "start_session", "session_id": pending_id}),
        json!({"type": "get_time", "session_id": pending_id}),
    ] {
        let reply = intruder.request(request.clone()).await;
        assert_eq!(reply["type"], "error", "{request} → {reply}");
        assert_eq!(
            reply["code"], "session_non_autorisee",
            "{request} → {reply}"
        );
    }
    let reply = intruder
        .request(json!({"type": "get_time", "session_id": 999_999}))
        .await;
    assert_eq!(reply["code"], "session_inconnue");
    // The pending session was not started by the attempt.
    let row = server.store.session(pending_id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "en_attente");
}

#[tokio::test]
async fn a_workstation_out_of_order_takes_no_code_until_back_in_service() {
    let server = TestServer::start().await;
    let mut poste = server.connect_as("127.0.1.107").await;
    let welcome = poste
        .request(json!({"type": "hello", "poste": "Poste-07"}))
        .await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    let row = server
        .store
        .poste_by_name("Poste-07")
        .await
        .unwrap()
        .unwrap();
    let staff = poste_store::Actor::staff("marie");
    server
        .store
        .set_poste_out_of_order(row.id, true, &staff, 1)
        .await
        .unwrap();
    let (_, code) = server.create_session(json!({"duree": "1h"})).await;
    let reply = validate(&mut poste, &code, "127.0.1.107").await;
    assert_eq!(reply["type"], "code_invalid", "{reply}");
    assert_eq!(reply["raison"], "hors_service");
    assert_eq!(
        reply["message"],
        "Ce poste est hors service. Adressez-vous à l'accueil pour changer de poste."
    );
    server
        .store
        .set_poste_out_of_order(row.id, false, &staff, 2)
        .await
        .unwrap();
    assert_eq!(
        validate(&mut poste, &code, "127.0.1.107").await["type"],
        "code_valid"
    );
}
