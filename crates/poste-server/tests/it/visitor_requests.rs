//! The visitor's requests (protocol 2): asking for more time, which staff accept or refuse,
//! and ending the session early.

use poste_testkit::{TestServer, WsClient};
use serde_json::json;

use crate::REPLY;

const IP: &str = "127.0.1.31";

async fn running(server: &TestServer) -> (WsClient, i64) {
    let (id, code) = server.create_session(json!({"duree": "1h"})).await;
    let mut ws = server.connect_as(IP).await;
    ws.start_with_code(&code, IP).await;
    (ws, id)
}

#[tokio::test]
async fn a_request_for_more_time_is_accepted_once_and_the_time_arrives() {
    let server = TestServer::start().await;
    let (mut ws, id) = running(&server).await;
    let api = server.api();

    let pending = ws
        .request(json!({"type": "request_time", "session_id": id, "minutes": 30}))
        .await;
    assert_eq!(pending["type"], "time_request", "{pending}");
    assert_eq!(pending["statut"], "en_attente");
    assert_eq!(pending["minutes"], 30);
    assert_eq!(pending["session_id"], id);
    assert_eq!(
        pending["message"],
        "Votre demande a été transmise à l'animateur. Merci de patienter."
    );
    // Clicking again makes no second request.
    let again = ws
        .request(json!({"type": "request_time", "session_id": id, "minutes": 30}))
        .await;
    assert_eq!(again["statut"], "en_attente");
    let (status, list) = api.get("/time-requests").await;
    assert_eq!(status, 200, "{list}");
    let demandes = list["demandes"].as_array().unwrap();
    assert_eq!(demandes.len(), 1, "{list}");
    assert_eq!(demandes[0]["session_id"], id);
    assert_eq!(demandes[0]["minutes"], 30);
    let request_id = demandes[0]["id"].as_i64().unwrap();

    // Staff grant 20 minutes of the 30 asked.
    let answered = api
        .post_ok(
            &format!("/time-requests/{request_id}/accept"),
            json!({"duree": "20m"}),
        )
        .await;
    assert_eq!(answered["status"], "acceptee", "{answered}");
    let (_, update) = ws.next_of("time_update", REPLY).await.unwrap();
    assert_eq!(update["duree_totale"], 3600 + 20 * 60, "{update}");
    let (_, answer) = ws.next_of("time_request", REPLY).await.unwrap();
    assert_eq!(answer["statut"], "acceptee", "{answer}");
    assert_eq!(answer["minutes"], 20);
    assert_eq!(answer["message"], "Demande acceptée : 20 minutes de plus.");

    // A second answer to the same request is refused and adds nothing.
    let (status, body) = api
        .post(
            &format!("/time-requests/{request_id}/accept"),
            json!({"duree": "20m"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body["message"],
        "Cette demande a déjà reçu une réponse : rien n'a été fait."
    );
    let (_, session) = api.get(&format!("/sessions/{id}")).await;
    assert_eq!(session["duree_totale"], 3600 + 20 * 60, "{session}");
    let (_, list) = api.get("/time-requests").await;
    assert_eq!(list["demandes"].as_array().unwrap().len(), 0, "{list}");
}

#[tokio::test]
async fn a_refused_request_says_so_and_adds_nothing() {
    let server = TestServer::start().await;
    let (mut ws, id) = running(&server).await;
    let api = server.api();
    // No amount given: as much as staff see fit.
    let pending = ws
        .request(json!({"type": "request_time", "session_id": id}))
        .await;
    assert_eq!(pending["statut"], "en_attente", "{pending}");
    assert!(pending.get("minutes").is_none(), "{pending}");
    let (_, list) = api.get("/time-requests").await;
    let request_id = list["demandes"][0]["id"].as_i64().unwrap();
    api.post_ok(&format!("/time-requests/{request_id}/refuse"), json!({}))
        .await;
    let (_, answer) = ws.next_of("time_request", REPLY).await.unwrap();
    assert_eq!(answer["statut"], "refusee", "{answer}");
    assert_eq!(
        answer["message"],
        "Votre demande de temps supplémentaire n'a pas été acceptée."
    );
    let (_, session) = api.get(&format!("/sessions/{id}")).await;
    assert_eq!(session["duree_totale"], 3600, "{session}");
}

#[tokio::test]
async fn the_visitor_ends_the_session_early() {
    let server = TestServer::start().await;
    let (mut ws, id) = running(&server).await;
    ws.send_json(json!({"type": "end_session", "session_id": id}))
        .await;
    let (_, ended) = ws.next_of("session_terminated", REPLY).await.unwrap();
    assert_eq!(ended["raison"], "termine_par_visiteur", "{ended}");
    assert_eq!(ended["message"], "Vous avez terminé votre session");
    let (_, session) = server.api().get(&format!("/sessions/{id}")).await;
    assert_eq!(session["statut"], "terminee", "{session}");

    // Asking again after the end: told it is over, nothing recorded.
    let reply = ws
        .request(json!({"type": "request_time", "session_id": id, "minutes": 10}))
        .await;
    assert_eq!(reply["type"], "time_update", "{reply}");
    let (_, again) = ws.next_of("session_terminated", REPLY).await.unwrap();
    assert_eq!(again["raison"], "termine_par_visiteur");
    let (_, list) = server.api().get("/time-requests").await;
    assert_eq!(list["demandes"].as_array().unwrap().len(), 0, "{list}");
}

#[tokio::test]
async fn another_workstation_cannot_ask_for_or_end_a_session_and_bad_requests_are_refused() {
    let server = TestServer::start().await;
    let (mut ws, id) = running(&server).await;
    let mut other = server.connect_as("127.0.1.99").await;
    // The other workstation is known by its address (a seed client's `ip_address`).
    let (_, other_code) = server.create_session(json!({"duree": "1h"})).await;
    other.start_with_code(&other_code, "127.0.1.99").await;
    for message in [
        json!({"type": "request_time", "session_id": id, "minutes": 10}),
        json!({"type": "end_session", "session_id": id}),
    ] {
        let reply = other.request(message).await;
        assert_eq!(reply["type"], "error", "{reply}");
        assert_eq!(reply["code"], "session_non_autorisee", "{reply}");
    }
    let unknown = ws
        .request(json!({"type": "end_session", "session_id": 999_999}))
        .await;
    assert_eq!(unknown["code"], "session_inconnue", "{unknown}");
    for minutes in [json!(0), json!(-5), json!(100_000)] {
        let reply = ws
            .request(json!({"type": "request_time", "session_id": id, "minutes": minutes}))
            .await;
        assert_eq!(reply["type"], "error", "{reply}");
        assert_eq!(reply["code"], "message_invalide", "{reply}");
    }
    let mistyped = ws
        .request(json!({"type": "request_time", "session_id": id, "minutes": "beaucoup"}))
        .await;
    assert_eq!(mistyped["code"], "message_invalide", "{mistyped}");
    // The session still runs, untouched.
    let (_, session) = server.api().get(&format!("/sessions/{id}")).await;
    assert_eq!(session["statut"], "active", "{session}");
    assert_eq!(session["duree_totale"], 3600);
}
