//! Several public spaces on one server: a code made for one space is refused on another space's
//! workstation, in words a visitor understands, and taken on its own; a code of every space is
//! taken anywhere; staff say which space when the site has several.

use poste_store::{Actor, NewSpace};
use poste_testkit::{TestServer, WsClient};
use serde_json::json;

/// A workstation's agent, connected and greeted.
async fn agent(server: &TestServer, poste: &str) -> WsClient {
    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    let welcome = ws.request(json!({"type": "hello", "poste": poste})).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    ws
}

#[tokio::test]
async fn a_code_of_one_space_is_refused_on_another_spaces_workstation() {
    let server = TestServer::start().await;
    let api = server.api();
    let mut media = agent(&server, "MED-01").await;
    let mut quartier_poste = agent(&server, "MDQ-01").await;

    // One space: nothing to choose, the code is the space's.
    let (_, only) = server.create_session(json!({"duree": "1h"})).await;
    let row = server.store.session_by_code(&only).await.unwrap().unwrap();
    assert_eq!(row.espace_id, Some(poste_store::DEFAULT_SPACE));

    let quartier = server
        .store
        .save_space(
            None,
            &NewSpace {
                nom: "Maison de quartier".to_owned(),
                adresse: None,
            },
            &Actor::Cli,
            0,
        )
        .await
        .unwrap();
    let mdq = server.poste_id("MDQ-01").await;
    server
        .store
        .move_poste(mdq, quartier.id, &Actor::Cli, 0)
        .await
        .unwrap();

    // Two spaces: staff must say which one, or that it is valid in every space.
    let (status, body) = api.post("/sessions", json!({"duree": "1h"})).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Choisissez l'espace"),
        "{body}"
    );
    let (status, body) = api
        .post("/sessions", json!({"duree": "1h", "espace": "Atlantide"}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("« Atlantide »"),
        "{body}"
    );
    let (status, body) = api
        .post(
            "/sessions",
            json!({"duree": "1h", "poste": "MED-01", "espace": "Maison de quartier"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("MED-01 est dans un autre espace"),
        "{body}"
    );

    let (_, of_quartier) = server
        .create_session(json!({"duree": "1h", "espace": "maison de quartier"}))
        .await;
    let refused = media
        .request(json!({"type": "validate_code", "code": of_quartier, "ip_address": "10.0.0.1"}))
        .await;
    assert_eq!(refused["type"], "code_invalid", "{refused}");
    assert_eq!(refused["raison"], "mauvais_poste", "{refused}");
    assert_eq!(
        refused["message"],
        "Ce code est valable dans un autre espace. Adressez-vous à l'accueil."
    );
    quartier_poste
        .start_with_code(&of_quartier, "10.0.0.2")
        .await;

    let (_, everywhere) = server
        .create_session(json!({"duree": "1h", "tous_espaces": true}))
        .await;
    let row = server
        .store
        .session_by_code(&everywhere)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.espace_id, None);
    media.start_with_code(&everywhere, "10.0.0.1").await;
}
