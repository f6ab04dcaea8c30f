//! Several public spaces on one server: a code made for one space is refused on another space's
//! workstation, in words a visitor understands, and taken on its own; a code of every space is
//! taken anywhere; staff say which space when the site has several. A space with settings of
//! its own has its hours, thresholds and public name on its workstations.

use std::time::{Duration, Instant};

use poste_store::{Actor, SpaceRow};
use poste_testkit::{TestServer, WsClient};
use serde_json::json;

/// A workstation's agent, connected and greeted.
async fn agent(server: &TestServer, poste: &str) -> WsClient {
    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    let welcome = ws.request(json!({"type": "hello", "poste": poste})).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    ws
}

/// A second space, « Maison de quartier », with the workstation `poste` moved into it.
async fn maison_de_quartier_with(server: &TestServer, poste: &str) -> SpaceRow {
    let quartier = server.create_space("Maison de quartier").await;
    let id = server.poste_id(poste).await;
    server
        .store
        .move_poste(id, quartier.id, &Actor::Cli, 0)
        .await
        .unwrap();
    quartier
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

    maison_de_quartier_with(&server, "MDQ-01").await;

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

/// The `welcome` a workstation gets now.
async fn welcome(server: &TestServer, poste: &str) -> serde_json::Value {
    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    ws.request(json!({"type": "hello", "poste": poste})).await
}

#[tokio::test]
async fn a_space_with_its_own_settings_has_its_hours_thresholds_and_name() {
    let server = TestServer::start().await;
    let mut media = agent(&server, "MED-01").await;
    let mut mdq = agent(&server, "MDQ-01").await;
    let common = welcome(&server, "MED-01").await["seuils"].clone();
    assert_ne!(common["avertissement"], 600, "{common}");
    let quartier = maison_de_quartier_with(&server, "MDQ-01").await;
    // The maison de quartier opens on Mondays only, at another hour than now in its time zone
    // on another day than today: closed now, whatever the test machine's day.
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Paris").unwrap())
        .weekday()
        .to_monday_zero_offset();
    let open_day = usize::try_from((today + 3) % 7).unwrap();
    let hours: Vec<String> = (0..7)
        .map(|day| {
            if day == open_day {
                "09:00-12:00,13:30-17:00".to_owned()
            } else {
                String::new()
            }
        })
        .collect();
    let own = |key: &str, value: &str| (key.to_owned(), value.to_owned());
    server
        .store
        .set_space_settings(
            quartier.id,
            &[
                own("opening_hours", &hours.join(";")),
                own("warning_secs", "600"),
                own("critical_secs", "120"),
                own("timezone", "Europe/Paris"),
            ],
            &Actor::Cli,
            1,
        )
        .await
        .unwrap();
    // The server follows the event log: its workstations' welcome says when it has.
    let deadline = Instant::now() + Duration::from_secs(10);
    let greeted = loop {
        let greeted = welcome(&server, "MDQ-01").await;
        if greeted["seuils"]["avertissement"] == 600 || Instant::now() > deadline {
            break greeted;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(greeted["espace"], "Maison de quartier", "{greeted}");
    assert_eq!(greeted["seuils"]["avertissement"], 600, "{greeted}");
    assert_eq!(greeted["seuils"]["critique"], 120, "{greeted}");
    // The médiathèque follows the common settings: always open, the same thresholds as before.
    let greeted = welcome(&server, "MED-01").await;
    assert_eq!(greeted["espace"], "Espace principal", "{greeted}");
    assert_eq!(greeted["seuils"], common, "{greeted}");

    let (_, everywhere) = server
        .create_session(json!({"duree": "1h", "tous_espaces": true}))
        .await;
    let refused = mdq
        .request(json!({"type": "validate_code", "code": everywhere, "ip_address": "10.0.0.2"}))
        .await;
    assert_eq!(refused["type"], "code_invalid", "{refused}");
    assert_eq!(refused["raison"], "ferme", "{refused}");
    media.start_with_code(&everywhere, "10.0.0.1").await;

    // Following the common settings again: the maison de quartier takes codes.
    server
        .store
        .set_space_settings(quartier.id, &[], &Actor::Cli, 2)
        .await
        .unwrap();
    let (_, again) = server
        .create_session(json!({"duree": "1h", "tous_espaces": true}))
        .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = mdq
            .request(json!({"type": "validate_code", "code": again, "ip_address": "10.0.0.2"}))
            .await;
        if reply["type"] == "code_valid" {
            break;
        }
        assert_eq!(reply["raison"], "ferme", "{reply}");
        assert!(Instant::now() < deadline, "still closed: {reply}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
