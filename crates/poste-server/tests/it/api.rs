//! The JSON API: tokens, validation of what staff send, clear French errors.

use poste_testkit::TestServer;
use serde_json::json;

#[tokio::test]
async fn the_api_requires_a_valid_token() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    // The seed's troubleshooting `curl …/api/` answers without a token.
    let index = http.get(server.http_url("/api/")).send().await.unwrap();
    assert_eq!(index.status(), 200);
    for (token, code) in [
        (None, "non_authentifie"),
        (Some("pp_wrong"), "jeton_invalide"),
    ] {
        let mut request = http.get(server.http_url("/api/sessions"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["erreur"], code);
    }
    // A revoked token stops working.
    let token = poste_testkit::create_token(&server.store).await.unwrap();
    let ok = http
        .get(server.http_url("/api/sessions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let name = server
        .store
        .list_tokens()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.last_used.is_some() && t.revoked_at.is_none())
        .unwrap()
        .nom;
    server
        .store
        .revoke_token(&name, &poste_store::Actor::Cli, 0)
        .await
        .unwrap();
    let revoked = http
        .get(server.http_url("/api/sessions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 401);
}

#[tokio::test]
async fn sessions_are_created_in_batches_listed_and_shown() {
    let server = TestServer::start().await;
    let api = server.api();
    api.post_ok("/postes", json!({"nom": "Poste-03"})).await;
    let created = api
        .post_ok(
            "/sessions",
            json!({"utilisateur": "Atelier CV", "duree": "1h30", "nombre": 20}),
        )
        .await;
    let sessions = created["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 20);
    let codes: std::collections::HashSet<_> = sessions
        .iter()
        .map(|s| s["code_acces"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 20, "codes are unique");
    for code in &codes {
        assert_eq!(code.len(), 6);
        assert!(
            code.bytes()
                .all(|b| poste_proto::CODE_ALPHABET.contains(&b)),
            "{code}"
        );
    }
    assert_eq!(sessions[0]["duree_initiale"], 5400);
    assert_eq!(sessions[0]["statut"], "en_attente");

    let bound = api
        .post_ok("/sessions", json!({"duree": 600, "poste": "poste-03"}))
        .await;
    assert_eq!(bound["sessions"][0]["poste"], "Poste-03");

    let (_, list) = api.get("/sessions?statut=en_attente&limite=5").await;
    assert_eq!(list["sessions"].as_array().unwrap().len(), 5);
    let (_, list) = api.get("/sessions?utilisateur=atelier").await;
    assert_eq!(list["sessions"].as_array().unwrap().len(), 20);
    let (_, list) = api.get("/sessions?poste=Poste-03").await;
    assert_eq!(list["sessions"].as_array().unwrap().len(), 1);
    let id = bound["sessions"][0]["id"].as_i64().unwrap();
    let (status, shown) = api.get(&format!("/sessions/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(shown["duree_totale"], 600);
    assert_eq!(
        shown["cree_par"].as_str().unwrap().split(':').next(),
        Some("api")
    );
}

#[tokio::test]
async fn bad_requests_get_french_errors() {
    let server = TestServer::start_with(|c| c.sessions.max_batch = 50).await;
    let api = server.api();
    let cases = [
        (json!({"duree": "120"}), 400, "écrivez par exemple 2h"),
        (json!({"duree": "2 jours"}), 400, "invalide"),
        (
            json!({"duree": 0}),
            400,
            "La durée doit être de 12 h au plus, et ne peut pas être nulle.",
        ),
        (
            json!({"duree": "13h"}),
            400,
            "La durée doit être de 12 h au plus, et ne peut pas être nulle.",
        ),
        // An empty field is a duration missing, not « » invalid.
        (
            json!({"duree": " "}),
            400,
            "Indiquez une durée, par exemple 2h, 1h30, 90min ou 45s.",
        ),
        (json!({"duree": "1h", "nombre": 51}), 400, "entre 1 et 50"),
        (json!({"duree": "1h", "nombre": 0}), 400, "entre 1 et 50"),
        (json!({"duree": "1h", "poste": "Fantôme"}), 404, "Fantôme"),
        (
            json!({"duree": "1h", "utilisateur": "x".repeat(201)}),
            400,
            "trop long",
        ),
        (json!({"duree": "1h", "inconnu": true}), 400, "inconnu"),
        (json!({"utilisateur": "sans durée"}), 400, "duree"),
    ];
    for (body, status, needle) in cases {
        let (got, reply) = api.post("/sessions", body.clone()).await;
        assert_eq!(got, status, "{body} → {reply}");
        let message = reply["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{body} → {reply}");
    }
    // Not JSON at all.
    let response = api
        .http
        .post(format!("{}/sessions", api.base))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    // Actions on the wrong state or an unknown session.
    let (id, _) = server.create_session(json!({"duree": "1h"})).await;
    let (status, reply) = api.post(&format!("/sessions/{id}/end"), json!({})).await;
    assert_eq!(status, 409, "{reply}");
    assert!(reply["message"].as_str().unwrap().contains("en attente"));
    let (status, _) = api
        .post("/sessions/987654/add-time", json!({"duree": "15min"}))
        .await;
    assert_eq!(status, 404);
    let (status, _) = api.get("/sessions/abc").await;
    assert_eq!(status, 404);
    let (status, _) = api.get("/nothing-here").await;
    assert_eq!(status, 404);
    let (status, reply) = api.get("/sessions?statut=bizarre").await;
    assert_eq!(status, 400, "{reply}");
    // A body over the limit is refused before parsing.
    let huge = json!({"duree": "1h", "utilisateur": "x".repeat(100_000)});
    let (status, _) = api.post("/sessions", huge).await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn staff_messages_reach_the_workstation() {
    let server = TestServer::start().await;
    let mut ws = poste_testkit::WsClient::connect(&server.ws_url())
        .await
        .unwrap();
    ws.request(json!({"type": "hello", "poste": "Poste-09"}))
        .await;
    let reply = server
        .api()
        .post_ok(
            "/postes/Poste-09/message",
            json!({"message": "Fermeture dans 10 minutes"}),
        )
        .await;
    assert_eq!(reply["livre"], 1);
    let (_, message) = ws.next_of("message", crate::REPLY).await.unwrap();
    assert_eq!(message["message"], "Fermeture dans 10 minutes");
}
