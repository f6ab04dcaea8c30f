//! A visitor's address cannot keep an animateur out of the console, on both backends: wrong
//! passwords from one address make only that (account, address) pair wait; the same account
//! from another address logs in at once; every refusal is in the history with its address;
//! an admin unblocks the account from « Équipe », and the command line (through the event
//! log) does it for a running server. Each browser here is a distinct source address on
//! loopback (every 127.x.y.z is local on Linux), as the server would see the machines of a
//! room.

use std::net::IpAddr;
use std::time::Duration;

use poste_store::{Actor, EventFilter, EventKind, NewStaff, StaffRole};
use poste_testkit::{PgDatabase, TestServer};

/// A public workstation.
const VISITOR: &str = "127.0.4.66";
/// The staff room.
const STAFF_ROOM: &str = "127.0.4.10";
pub(crate) const FORM: &str = "application/x-www-form-urlencoded";
const PASSWORD: &str = "mot de passe de marie";
const ADMIN_PASSWORD: &str = "mot de passe de sandrine";

/// A browser at `from`, without following redirects (the login answers 303).
pub(crate) fn browser(from: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(from.parse::<IpAddr>().unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub(crate) async fn add_staff(server: &TestServer, login: &str, password: &str, role: StaffRole) {
    let new = NewStaff {
        login: login.to_owned(),
        nom: login.to_owned(),
        role,
        password_hash: poste_server::console::hash_password(password.to_owned())
            .await
            .unwrap(),
        scope: poste_store::SpaceScope::Every,
    };
    server
        .store
        .create_staff(&new, &Actor::Cli, 1)
        .await
        .unwrap();
}

/// Posts the login form; returns the status, the body and the session cookie if any.
pub(crate) async fn login(
    server: &TestServer,
    http: &reqwest::Client,
    user: &str,
    password: &str,
) -> (u16, String, Option<String>) {
    let base = server.http_url("");
    let response = http
        .post(server.http_url("/console/connexion"))
        .header("origin", &base)
        .header("content-type", FORM)
        .body(
            serde_urlencoded::to_string([("identifiant", user), ("mot_de_passe", password)])
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let cookie = first_cookie(&response);
    (status, response.text().await.unwrap(), cookie)
}

/// `name=value` of the response's first `Set-Cookie`.
pub(crate) fn first_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

pub(crate) async fn page(
    server: &TestServer,
    http: &reqwest::Client,
    cookie: &str,
    path: &str,
) -> String {
    let response = http
        .get(server.http_url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

pub(crate) fn csrf(html: &str) -> String {
    let at = html
        .find(r#"name="csrf" value=""#)
        .expect("a form with its token")
        + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

async fn refusals(server: &TestServer) -> Vec<(EventKind, String, String)> {
    let filter = EventFilter {
        kinds: vec![EventKind::StaffLoginFailed, EventKind::StaffLoginThrottled],
        limit: Some(1000),
        ..EventFilter::default()
    };
    let mut rows: Vec<(EventKind, String, String)> = server
        .store
        .list_events(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|view| {
            let event = view.event;
            (
                event.kind,
                event.ip.unwrap_or_default(),
                event.detail.unwrap_or_default(),
            )
        })
        .collect();
    rows.reverse();
    rows
}

async fn a_visitor_cannot_keep_an_animateur_out(server: TestServer) {
    add_staff(&server, "marie", PASSWORD, StaffRole::Animateur).await;
    add_staff(&server, "sandrine", ADMIN_PASSWORD, StaffRole::Admin).await;
    let visitor = browser(VISITOR);
    let staff_room = browser(STAFF_ROOM);

    // A visitor floods an unknown account, then tries passwords for marie (5 free failures
    // by default, then a wait of 5 s), and keeps trying.
    for i in 0..7 {
        login(&server, &visitor, "personne", &format!("essai {i}")).await;
    }
    for _ in 0..5 {
        let (status, body, _) = login(&server, &visitor, "marie", "devinette").await;
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("Identifiant ou mot de passe incorrect."));
    }
    for _ in 0..10 {
        let (status, body, _) = login(&server, &visitor, "Marie", "devinette").await;
        assert_eq!(status, 429);
        assert!(body.contains("essais : réessayez dans "), "{body}");
    }
    // Marie's right password from the visitor's address waits too, and is told how long.
    let (status, body, cookie) = login(&server, &visitor, "marie", PASSWORD).await;
    assert_eq!(status, 429, "{body}");
    assert!(cookie.is_none());

    // From the staff room: at once.
    let started = std::time::Instant::now();
    let (status, body, cookie) = login(&server, &staff_room, "marie", PASSWORD).await;
    assert_eq!(status, 303, "{body}");
    assert!(cookie.is_some());
    assert!(started.elapsed() < Duration::from_secs(3));

    // Every refusal is in the history with its address: the five wrong passwords, the first
    // refusal of the wait (the others only repeat it), the unknown login (what was typed not
    // kept).
    let rows = refusals(&server).await;
    let wrong: Vec<_> = rows
        .iter()
        .filter(|(kind, ip, detail)| {
            *kind == EventKind::StaffLoginFailed && ip == VISITOR && detail == "mot_de_passe:marie"
        })
        .collect();
    assert_eq!(wrong.len(), 5, "{rows:?}");
    assert!(
        rows.iter()
            .any(|(kind, ip, detail)| *kind == EventKind::StaffLoginThrottled
                && ip == VISITOR
                && detail.starts_with("attente:")
                && detail.ends_with(":marie")),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|(_, ip, detail)| ip == VISITOR && detail == "inconnu"),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .all(|(_, _, detail)| !detail.contains("personne")
                && !detail.contains("essai")
                && !detail.contains("devinette")),
        "nothing typed is kept: {rows:?}"
    );
    assert!(rows.iter().all(|(_, ip, _)| ip == VISITOR), "{rows:?}");

    // An admin sees them in French in the history, and unblocks marie from « Équipe ».
    let (status, _, admin) = login(&server, &staff_room, "sandrine", ADMIN_PASSWORD).await;
    assert_eq!(status, 303);
    let admin = admin.unwrap();
    let history = page(
        &server,
        &staff_room,
        &admin,
        "/console/historique?groupe=equipe",
    )
    .await;
    for text in [
        "Connexion refusée",
        "Compte « marie » : mot de passe incorrect",
        "Connexion retenue (trop d&#39;essais)",
        VISITOR,
    ] {
        assert!(
            history.contains(text) || history.contains(&text.replace("&#39;", "'")),
            "{text} in {history}"
        );
    }
    // One more wrong password once the wait is over: a fresh wait (10 s), so that « Équipe »
    // is sure to find marie still waiting on a slow machine.
    while login(&server, &visitor, "marie", "devinette").await.0 == 429 {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let team = page(&server, &staff_room, &admin, "/console/equipe").await;
    assert!(
        team.contains(&format!("6 essais refusés depuis {VISITOR}")),
        "{team}"
    );
    let response = staff_room
        .post(server.http_url("/console/equipe/debloquer"))
        .header("origin", server.http_url(""))
        .header("cookie", &admin)
        .header("content-type", FORM)
        .body(
            serde_urlencoded::to_string([("csrf", csrf(&team).as_str()), ("identifiant", "marie")])
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    // The confirmation travels in a cookie to the page the browser is sent back to.
    let flash = first_cookie(&response).unwrap();
    let team = page(
        &server,
        &staff_room,
        &format!("{admin}; {flash}"),
        "/console/equipe",
    )
    .await;
    assert!(team.contains("Compte « marie » débloqué"), "{team}");
    assert!(!team.contains("essais refusés depuis"), "{team}");
    let (status, body, _) = login(&server, &visitor, "marie", PASSWORD).await;
    assert_eq!(status, 303, "unblocked: {body}");

    // The command line unblocks through the event log, which the running server follows.
    for _ in 0..5 {
        assert_eq!(login(&server, &visitor, "marie", "devinette").await.0, 401);
    }
    let waiting_since = std::time::Instant::now();
    assert_eq!(login(&server, &visitor, "marie", PASSWORD).await.0, 429);
    server
        .store
        .unblock_staff("MARIE", &Actor::Cli, 2)
        .await
        .unwrap();
    // The server follows the event log (every 200 ms in tests).
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (status, body, _) = login(&server, &visitor, "marie", PASSWORD).await;
    assert_eq!(status, 303, "unblocked by the command line: {body}");
    assert!(
        waiting_since.elapsed() < Duration::from_secs(5),
        "the wait itself had ended: inconclusive"
    );
    let unblocked = server
        .store
        .list_events(&EventFilter {
            kinds: vec![EventKind::StaffUnblocked],
            ..EventFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(unblocked.len(), 2);
    assert!(
        unblocked
            .iter()
            .all(|view| view.event.detail.as_deref() == Some("marie"))
    );
    server.stop().await;
}

/// Made-up names from one address share one budget: after the free failures (5 by default)
/// they are refused without a password check, so the history gets one row per check and one
/// for the wait, whatever the number of names; the real account from that address is not
/// held back by them.
async fn made_up_names_share_one_budget_per_address(server: TestServer) {
    const FREE_FAILURES: usize = 5;
    add_staff(&server, "marie", PASSWORD, StaffRole::Animateur).await;
    let visitor = browser(VISITOR);
    let mut checked = 0;
    let mut throttled = 0;
    for i in 0..50 {
        let (status, body, cookie) = login(&server, &visitor, &format!("a{i}"), "essai").await;
        assert!(cookie.is_none());
        match status {
            401 => checked += 1,
            429 => {
                throttled += 1;
                assert!(body.contains("essais : réessayez dans "), "{body}");
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(checked, FREE_FAILURES, "only the free failures are checked");
    assert_eq!(throttled, 50 - FREE_FAILURES);
    let rows = refusals(&server).await;
    assert!(rows.len() <= FREE_FAILURES + 1, "{rows:?}");
    assert_eq!(
        rows.iter()
            .filter(|(kind, _, detail)| *kind == EventKind::StaffLoginFailed && detail == "inconnu")
            .count(),
        FREE_FAILURES,
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|(kind, ip, detail)| *kind == EventKind::StaffLoginThrottled
                && ip == VISITOR
                && detail.starts_with("attente:")
                && !detail.trim_start_matches("attente:").contains(':')),
        "the wait recorded without a name: {rows:?}"
    );

    // Marie from that same address: at once, with her right password.
    let started = std::time::Instant::now();
    let (status, body, cookie) = login(&server, &visitor, "marie", PASSWORD).await;
    assert_eq!(status, 303, "{body}");
    assert!(cookie.is_some());
    assert!(started.elapsed() < Duration::from_secs(3));
    // A wrong password for her from there is checked: her pair has its own budget.
    let (status, _, _) = login(&server, &visitor, "marie", "devinette").await;
    assert_eq!(status, 401);
    // Made-up names from the staff room have their own budget too.
    let staff_room = browser(STAFF_ROOM);
    let (status, _, _) = login(&server, &staff_room, "a0", "essai").await;
    assert_eq!(status, 401);
    // « Équipe » shows the visitor's address waiting for made-up names, apart from the team.
    add_staff(&server, "sandrine", ADMIN_PASSWORD, StaffRole::Admin).await;
    let (_, _, admin) = login(&server, &staff_room, "sandrine", ADMIN_PASSWORD).await;
    let team = page(&server, &staff_room, &admin.unwrap(), "/console/equipe").await;
    assert!(
        team.contains("Identifiants inconnus ou comptes désactivés")
            && team.contains(&format!("{FREE_FAILURES} essais refusés depuis {VISITOR}")),
        "{team}"
    );
    server.stop().await;
}

#[tokio::test]
async fn made_up_names_share_one_budget_per_address_on_sqlite() {
    made_up_names_share_one_budget_per_address(TestServer::start().await).await;
}

#[tokio::test]
async fn made_up_names_share_one_budget_per_address_on_postgres() {
    let Some(db) =
        PgDatabase::create("made_up_names_share_one_budget_per_address_on_postgres").await
    else {
        return;
    };
    let server = TestServer::start_postgres(&db).await.unwrap();
    made_up_names_share_one_budget_per_address(server).await;
}

#[tokio::test]
async fn a_visitors_address_cannot_keep_an_animateur_out_on_sqlite() {
    a_visitor_cannot_keep_an_animateur_out(TestServer::start().await).await;
}

#[tokio::test]
async fn a_visitors_address_cannot_keep_an_animateur_out_on_postgres() {
    let Some(db) =
        PgDatabase::create("a_visitors_address_cannot_keep_an_animateur_out_on_postgres").await
    else {
        return;
    };
    let server = TestServer::start_postgres(&db).await.unwrap();
    a_visitor_cannot_keep_an_animateur_out(server).await;
}

/// A page left open is not someone at the console: the live feeds and the tiles they fetch
/// (the dashboard's, a workstation page's) leave the session's last activity where it was, so
/// the idle timeout still closes it; a page staff open moves it.
#[tokio::test]
async fn a_page_left_open_does_not_keep_its_session_alive() {
    let server = TestServer::start().await;
    add_staff(&server, "marie", PASSWORD, StaffRole::Animateur).await;
    let http = browser(STAFF_ROOM);
    let (status, _, cookie) = login(&server, &http, "marie", PASSWORD).await;
    assert_eq!(status, 303);
    let cookie = cookie.expect("a session cookie");
    let token = cookie.split_once('=').unwrap().1;
    let hash = poste_server::domain::codes::token_hash(token);
    let session = server.store.staff_session(&hash).await.unwrap().unwrap();
    let last_seen = || async {
        server
            .store
            .staff_session(&hash)
            .await
            .unwrap()
            .unwrap()
            .last_seen
    };
    // Its last activity put 40 s back (the server writes it at most every 30 s).
    let back = poste_server::clock::now_ms() - 40_000;
    server
        .store
        .touch_staff_session(session.id, back)
        .await
        .unwrap();

    for path in [
        "/console/tuiles",
        "/console/tuiles?postes=1",
        "/console/postes/1/tuile",
    ] {
        http.get(server.http_url(path))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(last_seen().await, back, "{path} counted as activity");
    }
    for path in ["/console/flux", "/console/flux?poste=1"] {
        let feed = http
            .get(server.http_url(path))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(feed.status(), 200, "{path}");
        drop(feed);
        assert_eq!(last_seen().await, back, "{path} counted as activity");
    }

    page(&server, &http, &cookie, "/console/").await;
    assert!(
        last_seen().await > back,
        "opening the dashboard is activity"
    );
    server.stop().await;
}
