//! The team managed by admins (issue #17, item 7), on both backends: from « Équipe », an admin
//! disables, re-enables, deletes and gives a new password; a closed account's open console
//! sessions end at once (its next request goes to the login page, its live feed closes), also
//! when the command line or another instance closed it (through the event log); an admin
//! cannot close their own account; a change made meanwhile and an account that no longer
//! exists are refused in words; a deleted account's history stays and its login is not given
//! again; an animateur is refused every one of these routes. The command line's
//! `admin disable | enable | delete` is driven as the built binary.

use std::time::Duration;

use poste_store::{Actor, EventFilter, EventKind, StaffChange, StaffRole};
use poste_testkit::{PgDatabase, ServerProcess, TestServer};

use crate::console_login::{FORM, add_staff, browser, csrf, first_cookie, login, page};

const ROOM: &str = "127.0.5.10";
const ADMIN_PASSWORD: &str = "mot de passe de sandrine";
const MARIE_PASSWORD: &str = "mot de passe de marie";
const PAUL_PASSWORD: &str = "mot de passe de paul";
const NEW_PASSWORD: &str = "nouveau mot de passe de marie";

/// A logged-in browser: its client and cookie.
struct Console {
    http: reqwest::Client,
    cookie: String,
}

async fn log_in(server: &TestServer, user: &str, password: &str) -> Console {
    let http = browser(ROOM);
    let (status, body, cookie) = login(server, &http, user, password).await;
    assert_eq!(status, 303, "{user}: {body}");
    Console {
        http,
        cookie: cookie.unwrap(),
    }
}

impl Console {
    /// Posts a form of « Équipe » with the page's CSRF token; returns the status and the
    /// flash shown on the page it redirects to.
    async fn post(
        &self,
        server: &TestServer,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (u16, String) {
        let team = page(server, &self.http, &self.cookie, "/console/equipe").await;
        let token = csrf(&team);
        let mut form = vec![("csrf", token.as_str())];
        form.extend_from_slice(fields);
        let response = self
            .http
            .post(server.http_url(path))
            .header("origin", server.http_url(""))
            .header("cookie", &self.cookie)
            .header("content-type", FORM)
            .body(serde_urlencoded::to_string(&form).unwrap())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        if status != 303 {
            return (status, response.text().await.unwrap());
        }
        let flash = first_cookie(&response).unwrap_or_default();
        let cookie = format!("{}; {flash}", self.cookie);
        let team = page(server, &self.http, &cookie, "/console/equipe").await;
        (status, team.replace("&#39;", "'"))
    }

    /// Opens the live feed of the dashboard.
    async fn feed(&self, server: &TestServer) -> reqwest::Response {
        let response = self
            .http
            .get(server.http_url("/console/flux"))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response
    }

    /// The status of a page of the console and where it redirects to.
    async fn status(&self, server: &TestServer, path: &str) -> (u16, String) {
        let response = self
            .http
            .get(server.http_url(path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (response.status().as_u16(), location)
    }
}

/// Reads the feed until it sends `fermee` and ends, within a few seconds.
async fn feed_closes(mut feed: reqwest::Response) {
    let mut text = String::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(chunk) = feed.chunk().await.unwrap() {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(read.is_ok(), "the feed is still open: {text:?}");
    assert!(text.contains("event: fermee"), "{text:?}");
}

async fn id_of(server: &TestServer, login: &str) -> i64 {
    server
        .store
        .staff_credentials(login)
        .await
        .unwrap()
        .unwrap()
        .staff
        .id
}

async fn the_team_is_managed_from_equipe(server: TestServer) {
    add_staff(&server, "sandrine", ADMIN_PASSWORD, StaffRole::Admin).await;
    add_staff(&server, "marie", MARIE_PASSWORD, StaffRole::Animateur).await;
    add_staff(&server, "paul", PAUL_PASSWORD, StaffRole::Animateur).await;
    let (sandrine, marie_id) = (
        id_of(&server, "sandrine").await,
        id_of(&server, "marie").await,
    );
    let admin = log_in(&server, "sandrine", ADMIN_PASSWORD).await;

    // An animateur is refused every new route, even with a valid form.
    let paul = log_in(&server, "paul", PAUL_PASSWORD).await;
    for action in ["desactiver", "reactiver", "supprimer", "mot-de-passe"] {
        let path = format!("/console/equipe/{marie_id}/{action}");
        let response = paul
            .http
            .post(server.http_url(&path))
            .header("origin", server.http_url(""))
            .header("cookie", &paul.cookie)
            .header("content-type", FORM)
            .body({
                let home = page(&server, &paul.http, &paul.cookie, "/console/").await;
                serde_urlencoded::to_string([
                    ("csrf", csrf(&home).as_str()),
                    ("confirme", "1"),
                    ("mot_de_passe", NEW_PASSWORD),
                    ("confirmation", NEW_PASSWORD),
                ])
                .unwrap()
            })
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{path}");
    }

    // Disabled: marie's open console ends at once, her feed closes, she cannot log in.
    let marie = log_in(&server, "marie", MARIE_PASSWORD).await;
    let feed = marie.feed(&server).await;
    let path = format!("/console/equipe/{marie_id}/desactiver");
    let (status, team) = admin.post(&server, &path, &[]).await;
    assert_eq!(status, 303);
    assert!(team.contains("Compte « marie » désactivé"), "{team}");
    assert!(team.contains("Désactivé depuis le"), "{team}");
    feed_closes(feed).await;
    assert_eq!(
        marie.status(&server, "/console/").await,
        (303, "/console/connexion".to_owned())
    );
    let (status, _, _) = login(&server, &browser(ROOM), "marie", MARIE_PASSWORD).await;
    assert_eq!(status, 401);
    // Done twice (a second admin's page left open): said, nothing changes.
    let (_, team) = admin.post(&server, &path, &[]).await;
    assert!(team.contains("« marie » est déjà désactivé"), "{team}");

    // Enabled again.
    let enable = format!("/console/equipe/{marie_id}/reactiver");
    let (_, team) = admin.post(&server, &enable, &[]).await;
    assert!(team.contains("Compte « marie » réactivé"), "{team}");
    let (_, team) = admin.post(&server, &enable, &[]).await;
    assert!(team.contains("« marie » est déjà actif"), "{team}");

    // A new password typed twice, with the password rules; her sessions end.
    let marie = log_in(&server, "marie", MARIE_PASSWORD).await;
    let feed = marie.feed(&server).await;
    let reset = format!("/console/equipe/{marie_id}/mot-de-passe");
    let (_, team) = admin
        .post(
            &server,
            &reset,
            &[
                ("mot_de_passe", NEW_PASSWORD),
                ("confirmation", "autre chose encore"),
            ],
        )
        .await;
    assert!(
        team.contains(
            "Mot de passe de « marie » non changé : Les deux mots de passe ne sont pas identiques."
        ),
        "{team}"
    );
    let (_, team) = admin
        .post(
            &server,
            &reset,
            &[("mot_de_passe", "court"), ("confirmation", "court")],
        )
        .await;
    assert!(
        team.contains("non changé : Le mot de passe doit avoir au moins 10"),
        "{team}"
    );
    assert_eq!(
        marie.status(&server, "/console/").await.0,
        200,
        "nothing changed yet"
    );
    let (_, team) = admin
        .post(
            &server,
            &reset,
            &[
                ("mot_de_passe", NEW_PASSWORD),
                ("confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert!(
        team.contains("Nouveau mot de passe de « marie » enregistré"),
        "{team}"
    );
    feed_closes(feed).await;
    assert_eq!(marie.status(&server, "/console/").await.0, 303);
    assert_eq!(
        login(&server, &browser(ROOM), "marie", MARIE_PASSWORD)
            .await
            .0,
        401
    );
    let marie = log_in(&server, "marie", NEW_PASSWORD).await;

    // An admin cannot close their own account.
    for action in ["desactiver", "supprimer"] {
        let own = format!("/console/equipe/{sandrine}/{action}");
        let (_, team) = admin.post(&server, &own, &[("confirme", "1")]).await;
        assert!(
            team.contains("Vous ne pouvez pas désactiver ni supprimer votre propre compte"),
            "{team}"
        );
    }

    // Deleted after a confirmation; the history keeps what she did, her login stays hers.
    let delete = format!("/console/equipe/{marie_id}/supprimer");
    let (_, team) = admin.post(&server, &delete, &[]).await;
    assert!(team.contains("Cochez la case de confirmation"), "{team}");
    assert!(team.contains("<td>marie</td>"), "still there: {team}");
    let feed = marie.feed(&server).await;
    let (_, team) = admin.post(&server, &delete, &[("confirme", "1")]).await;
    assert!(team.contains("Compte « marie » supprimé"), "{team}");
    assert!(!team.contains("<td>marie</td>"), "{team}");
    feed_closes(feed).await;
    let (_, team) = admin.post(&server, &delete, &[("confirme", "1")]).await;
    assert!(team.contains("Ce compte n'existe plus"), "{team}");
    let (_, team) = admin
        .post(&server, "/console/equipe/999999/desactiver", &[])
        .await;
    assert!(team.contains("Ce compte n'existe plus"), "{team}");
    let (status, team) = admin
        .post(
            &server,
            "/console/equipe",
            &[
                ("identifiant", "Marie"),
                ("nom", "Une autre Marie"),
                ("role", "animateur"),
                ("mot_de_passe", NEW_PASSWORD),
                ("confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        team.replace("&#39;", "'")
            .contains("était celui d'un compte supprimé"),
        "{team}"
    );
    let history = page(
        &server,
        &admin.http,
        &admin.cookie,
        "/console/historique?groupe=equipe",
    )
    .await
    .replace("&#39;", "'");
    for text in [
        "Compte désactivé",
        "Compte réactivé",
        "Compte supprimé",
        "Mot de passe changé",
        "Compte « marie » : désactivé, ses sessions de la console fermées",
        "Compte « marie » : supprimé (son historique est gardé, son identifiant reste réservé)",
    ] {
        assert!(history.contains(text), "{text} in {history}");
    }
    // Her own logins are still hers in the history.
    let logins = server
        .store
        .list_events(&EventFilter {
            kinds: vec![EventKind::StaffLogin],
            ..EventFilter::default()
        })
        .await
        .unwrap();
    assert!(
        logins
            .iter()
            .filter(|view| view.event.actor == "animateur:marie")
            .count()
            >= 3
    );
    assert!(history.contains("<td>marie</td>"), "{history}");

    // Closed from the command line (or another instance): the running server follows the
    // event log and closes paul's feed and console.
    let feed = paul.feed(&server).await;
    let paul_id = id_of(&server, "paul").await;
    server
        .store
        .change_staff(paul_id, StaffChange::Disable, &Actor::Cli, 2)
        .await
        .unwrap();
    feed_closes(feed).await;
    assert_eq!(paul.status(&server, "/console/").await.0, 303);
    server.stop().await;
}

#[tokio::test]
async fn the_team_is_managed_from_equipe_on_sqlite() {
    the_team_is_managed_from_equipe(TestServer::start().await).await;
}

#[tokio::test]
async fn the_team_is_managed_from_equipe_on_postgres() {
    let Some(db) = PgDatabase::create("the_team_is_managed_from_equipe_on_postgres").await else {
        return;
    };
    let server = TestServer::start_postgres(&db).await.unwrap();
    the_team_is_managed_from_equipe(server).await;
}

/// `poste-server admin disable | enable | delete` on the database, as the built binary.
#[test]
fn the_command_line_disables_enables_and_deletes_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let cli = |args: &[&str], input: &str| {
        use std::io::Write;
        let mut child = ServerProcess::command(dir.path())
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr),
        )
    };
    for (login, role) in [("sandrine", "admin"), ("marie", "animateur")] {
        let (ok, out) = cli(
            &[
                "admin",
                "create",
                "--identifiant",
                login,
                "--nom",
                login,
                "--role",
                role,
                "--mot-de-passe-stdin",
            ],
            "mot de passe assez long\n",
        );
        assert!(ok, "{out}");
    }
    let (ok, out) = cli(&["admin", "disable", "marie"], "");
    assert!(ok && out.contains("Compte « marie » désactivé"), "{out}");
    let (ok, out) = cli(&["admin", "desactiver", "MARIE"], "");
    assert!(!ok && out.contains("« marie » est déjà désactivé"), "{out}");
    let (ok, out) = cli(&["admin", "enable", "marie"], "");
    assert!(ok && out.contains("Compte « marie » réactivé"), "{out}");
    // The last enabled admin stays.
    let (ok, out) = cli(&["admin", "disable", "sandrine"], "");
    assert!(!ok && out.contains("dernier administrateur actif"), "{out}");
    let (ok, out) = cli(&["admin", "delete", "sandrine", "--oui"], "");
    assert!(!ok && out.contains("dernier administrateur actif"), "{out}");
    // Deleting asks for a confirmation: without a terminal, only --oui gives it.
    let (ok, out) = cli(&["admin", "delete", "marie"], "marie\n");
    assert!(!ok && out.contains("ajoutez --oui"), "{out}");
    let (ok, out) = cli(&["admin", "supprimer", "marie", "--oui"], "");
    assert!(ok && out.contains("Compte « marie » supprimé"), "{out}");
    let (ok, out) = cli(&["admin", "list"], "");
    assert!(ok && !out.contains("marie"), "{out}");
    let (ok, out) = cli(&["admin", "enable", "marie"], "");
    assert!(!ok && out.contains("Aucun compte « marie »"), "{out}");
    let (ok, out) = cli(
        &[
            "admin",
            "create",
            "--identifiant",
            "marie",
            "--nom",
            "Marie",
            "--role",
            "animateur",
            "--mot-de-passe-stdin",
        ],
        "mot de passe assez long\n",
    );
    assert!(
        !ok && out.contains("était celui d'un compte supprimé"),
        "{out}"
    );
    let (ok, out) = cli(&["admin", "disable", "personne"], "");
    assert!(!ok && out.contains("Aucun compte « personne »"), "{out}");
}
