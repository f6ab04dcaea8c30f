//! What the console's settings and register change for workstations and staff: opening hours
//! (no code while closed, sessions cut at closing time), the time rules of visitor categories,
//! and settings changed elsewhere picked up by the running server.

use std::time::Duration;

use poste_store::{Actor, NewCategory, NewVisitor};
use poste_testkit::{TestServer, WsClient};
use serde_json::json;

/// Local time now in the server's zone (the test machine's).
fn local_now() -> jiff::ZonedDateTime {
    jiff::ZonedDateTime::now()
}

/// The stored opening hours with only the weekday `index` (Monday 0) open `open`–`close`.
fn one_day(index: usize, open: &str, close: &str) -> String {
    (0..7)
        .map(|day| {
            if day == index {
                format!("{open}-{close}")
            } else {
                String::new()
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn weekday_index(zoned: &jiff::ZonedDateTime) -> usize {
    usize::try_from(zoned.weekday().to_monday_zero_offset()).unwrap()
}

async fn set_setting(server: &TestServer, key: &str, value: &str) {
    server
        .store
        .set_settings(&[(key.to_owned(), value.to_owned())], &Actor::Cli, 1)
        .await
        .unwrap();
    // The server follows the event log (every 200 ms in tests).
    tokio::time::sleep(Duration::from_millis(700)).await;
}

#[tokio::test]
async fn no_code_is_taken_while_the_space_is_closed() {
    let server = TestServer::start().await;
    let now = local_now();
    // Open only on another day of the week: closed now.
    let other_day = (weekday_index(&now) + 3) % 7;
    set_setting(
        &server,
        "opening_hours",
        &one_day(other_day, "09:00", "18:00"),
    )
    .await;
    let (_, code) = server.create_session(json!({"duree": "1h"})).await;
    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    let reply = ws
        .request(json!({"type": "validate_code", "code": code, "ip_address": "192.168.1.20"}))
        .await;
    assert_eq!(reply["type"], "code_invalid", "{reply}");
    assert_eq!(reply["raison"], "ferme");
    assert_eq!(
        reply["message"],
        "L'espace est fermé : les sessions reprendront à l'ouverture."
    );
    // Always open again (no hours): accepted.
    set_setting(&server, "opening_hours", "").await;
    let reply = ws
        .request(json!({"type": "validate_code", "code": code, "ip_address": "192.168.1.20"}))
        .await;
    assert_eq!(reply["type"], "code_valid", "{reply}");
}

#[tokio::test]
async fn a_session_never_runs_past_closing_time() {
    let server = TestServer::start().await;
    let now = local_now();
    if now.hour() == 23 && now.minute() >= 58 {
        // Closing must fall on the same day; this edge is covered a minute later.
        return;
    }
    let close = now.checked_add(jiff::Span::new().minutes(2)).unwrap();
    let hours = one_day(
        weekday_index(&now),
        "00:00",
        &close.strftime("%H:%M").to_string(),
    );
    set_setting(&server, "opening_hours", &hours).await;
    let (_, code) = server.create_session(json!({"duree": "2h"})).await;
    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    let started = ws.start_with_code(&code, "192.168.1.21").await;
    let left = started["session"]["temps_restant"].as_i64().unwrap();
    // Closing is at the start of the minute two minutes from now: 60 to 120 s away.
    assert!((60..=121).contains(&left), "{started}");
    // Staff adding time cannot push it past closing either.
    let id = started["session"]["id"].as_i64().unwrap();
    let (status, body) = server
        .api()
        .post(
            &format!("/sessions/{id}/add-time"),
            json!({"duree": "30min"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("espace ferme à"),
        "{body}"
    );
}

#[tokio::test]
async fn a_warning_says_the_session_ends_for_the_break_and_when_the_space_reopens() {
    let server = TestServer::start().await;
    let mut now = local_now();
    if now.second() > 48 {
        // The break begins at the next minute: at least 12 s away.
        tokio::time::sleep(Duration::from_secs(
            61 - u64::from(now.second().unsigned_abs()),
        ))
        .await;
        now = local_now();
    }
    if now.hour() == 23 {
        // The break and the afternoon must fall on the same day; covered an hour later.
        return;
    }
    let at = |minutes: i64| {
        now.checked_add(jiff::Span::new().minutes(minutes))
            .unwrap()
            .strftime("%H:%M")
            .to_string()
    };
    let (pause, resume) = (at(1), at(31));
    let hours = one_day(weekday_index(&now), "00:00", &pause).replace(
        &format!("00:00-{pause}"),
        &format!("00:00-{pause},{resume}-23:59"),
    );
    // The first warning falls due a few seconds after the start (the settings take 1.4 s). On
    // a machine slow enough to pass it already at the start, the last one comes before the
    // break: either says why.
    let before_break = 60 - i64::from(now.second());
    set_setting(&server, "opening_hours", &hours).await;
    set_setting(&server, "warning_secs", &(before_break - 6).to_string()).await;
    let (_, code) = server.create_session(json!({"duree": "1h"})).await;
    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    ws.start_with_code(&code, "192.168.1.22").await;
    let (_, warning) = ws
        .next_of("warning", Duration::from_secs(75))
        .await
        .unwrap();
    let message = warning["message"].as_str().unwrap();
    assert!(
        message.starts_with("Il vous reste ")
            && message.ends_with(&format!(
                " : l'espace ferme à {pause} pour la pause (réouverture à {resume})"
            )),
        "{warning}"
    );
}

#[tokio::test]
async fn category_time_rules_refuse_sessions_beyond_them() {
    let server = TestServer::start().await;
    let store = &server.store;
    let staff = Actor::staff("marie");
    let jeunes = store
        .save_category(
            None,
            &NewCategory {
                nom: "Jeunes".into(),
                max_session_secs: Some(3600),
                max_day_secs: Some(5400),
                max_week_secs: None,
            },
            &staff,
            1,
        )
        .await
        .unwrap();
    let awa = store
        .save_visitor(
            None,
            &NewVisitor {
                nom: "Awa Payet".into(),
                carte: None,
                email: None,
                categorie_id: Some(jeunes.id),
                notes: None,
            },
            &staff,
            1,
        )
        .await
        .unwrap();
    let api = server.api();
    // Longer than a session may be.
    let (status, body) = api
        .post("/sessions", json!({"duree": "2h", "visiteur": awa.id}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["message"],
        "Catégorie « Jeunes » : une session dure au plus 1 h."
    );
    // One hour is fine, and carries her name.
    let created = api
        .post_ok("/sessions", json!({"duree": "1h", "visiteur": awa.id}))
        .await;
    assert_eq!(created["sessions"][0]["utilisateur"], "Awa Payet");
    // Another hour would pass 1 h 30 today.
    let (status, body) = api
        .post("/sessions", json!({"duree": "1h", "visiteur": awa.id}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["message"],
        "Catégorie « Jeunes » : 1 h 30 min par jour au plus. Déjà utilisé aujourd'hui : 1 h ; il reste 30 min."
    );
    // A batch is not for one visitor; an unknown visitor is refused.
    let (status, _) = api
        .post(
            "/sessions",
            json!({"duree": "10min", "visiteur": awa.id, "nombre": 2}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = api
        .post("/sessions", json!({"duree": "10min", "visiteur": 999}))
        .await;
    assert_eq!(status, 404);
}
