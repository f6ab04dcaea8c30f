//! SQL metacharacters and hostile strings in every filter and search field of the console and
//! the API, on SQLite and on PostgreSQL: each answer is clear (200 with the right rows, or a
//! 4xx that says why), never a 500, and a `%` or `_` matches itself, not everything.

use std::time::Duration;

use poste_store::{Actor, NewStaff, NewVisitor, StaffRole};
use poste_testkit::{PgDatabase, TestServer};
use serde_json::json;

/// What an attacker or a clumsy hand types into a search box.
fn hostile() -> Vec<String> {
    vec![
        "' OR 1=1 --".into(),
        "'; DROP TABLE sessions; --".into(),
        "\" OR \"\"=\"".into(),
        "%".into(),
        "_".into(),
        "\\".into(),
        "\\%".into(),
        "\"".into(),
        "a\0b".into(),
        "\0".into(),
        "%' UNION SELECT password_hash FROM staff --".into(),
        "é".repeat(2000),
        // Long, yet within what an HTTP client sends in a URL.
        "x".repeat(8000),
    ]
}

const PASSWORD: &str = "correct horse battery";

struct Console {
    base: String,
    cookie: String,
    http: reqwest::Client,
}

impl Console {
    async fn login(server: &TestServer) -> Console {
        let hash = poste_server::console::hash_password(PASSWORD.to_owned())
            .await
            .unwrap();
        server
            .store
            .create_staff(
                &NewStaff {
                    login: "sandrine".into(),
                    nom: "Sandrine".into(),
                    role: StaffRole::Admin,
                    password_hash: hash,
                    scope: poste_store::SpaceScope::Every,
                },
                &Actor::Cli,
                poste_server::clock::now_ms(),
            )
            .await
            .unwrap();
        let base = server.http_url("");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let response = http
            .post(format!("{base}/console/connexion"))
            .header("origin", &base)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                serde_urlencoded::to_string([
                    ("identifiant", "sandrine"),
                    ("mot_de_passe", PASSWORD),
                ])
                .unwrap(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        Console { base, cookie, http }
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> (u16, String) {
        let response = self
            .http
            .get(format!(
                "{}{path}?{}",
                self.base,
                serde_urlencoded::to_string(query).unwrap()
            ))
            .header("cookie", &self.cookie)
            .send()
            .await
            .map_err(|err| format!("{path}: {:.100}", err.to_string()))
            .unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }
}

async fn check_every_filter(server: &TestServer) {
    let now = poste_server::clock::now_ms();
    for (nom, carte) in [
        ("Jean Dupont", "C-0001"),
        ("Remise 100% Martin", "C-0002"),
        ("Anne_Marie Durand", "C-0003"),
        ("Paul \\ Barre", "C-0004"),
    ] {
        server
            .store
            .save_visitor(
                None,
                &NewVisitor {
                    nom: nom.into(),
                    carte: Some(carte.into()),
                    email: None,
                    categorie_id: None,
                    notes: None,
                },
                &Actor::Cli,
                now,
            )
            .await
            .unwrap();
    }
    for user in ["Jean Dupont", "Remise 100% Martin", "Anne_Marie Durand"] {
        server
            .create_session(json!({"duree": "1h", "utilisateur": user}))
            .await;
    }
    let console = Console::login(server).await;
    let api = server.api();
    let mut problems = Vec::new();

    // Console pages and exports, each filter field in turn.
    let fields: &[(&str, &[&str])] = &[
        ("/console/visiteurs", &["q"]),
        (
            "/console/sessions",
            &["statut", "jour", "poste", "utilisateur"],
        ),
        (
            "/console/sessions.csv",
            &["statut", "jour", "poste", "utilisateur"],
        ),
        (
            "/console/historique",
            &["groupe", "du", "au", "poste", "acteur"],
        ),
        (
            "/console/historique.csv",
            &["groupe", "du", "au", "poste", "acteur"],
        ),
        ("/console/statistiques", &["periode"]),
        ("/console/statistiques.csv", &["periode"]),
        ("/console/statistiques/imprimer", &["periode"]),
        ("/console/tickets", &["ids", "format"]),
    ];
    for value in hostile() {
        for (path, names) in fields {
            for name in *names {
                let (status, body) = console.get(path, &[(name, &value)]).await;
                if status >= 500 || !(200..500).contains(&status) {
                    problems.push(format!(
                        "{path}?{name}={:.30?}: {status} {:.200}",
                        value, body
                    ));
                }
            }
        }
        for name in [
            "statut",
            "poste",
            "utilisateur",
            "depuis",
            "jusqu_a",
            "limite",
            "decalage",
        ] {
            let path = format!(
                "/sessions?{}",
                serde_urlencoded::to_string([(name, value.as_str())]).unwrap()
            );
            let (status, body) = api.get(&path).await;
            if !(200..500).contains(&status) {
                problems.push(format!("/api{path:.60}: {status} {body:.200}"));
            } else if status >= 400 && body["message"].as_str().is_none_or(str::is_empty) {
                problems.push(format!(
                    "/api{path:.60}: {status} without a message: {body}"
                ));
            }
            if status == 200 && name == "utilisateur" {
                let count = body["sessions"].as_array().map_or(0, Vec::len);
                let expected = match value.as_str() {
                    "%" => 1,
                    "_" => 1,
                    _ => 0,
                };
                if count != expected {
                    problems.push(format!(
                        "/api/sessions?utilisateur={value:.30?}: {count} rows, expected {expected}"
                    ));
                }
            }
        }
    }

    // Wrong rows: a literal `%`, `_` or `\` matches only the names that contain it.
    for (typed, only) in [
        ("%", "Remise 100% Martin"),
        ("_", "Anne_Marie Durand"),
        ("\\", "Paul \\ Barre"),
    ] {
        let (status, body) = console.get("/console/visiteurs", &[("q", typed)]).await;
        assert_eq!(status, 200, "{body:.300}");
        let shown: Vec<&str> = [
            "Jean Dupont",
            "Remise 100% Martin",
            "Anne_Marie Durand",
            "Paul \\ Barre",
        ]
        .into_iter()
        .filter(|name| body.contains(&name.replace('\\', "&#92;")) || body.contains(name))
        .collect();
        if shown != [only] {
            problems.push(format!("visitor search {typed:?} shows {shown:?}"));
        }
        let (status, csv) = console
            .get("/console/sessions.csv", &[("utilisateur", typed)])
            .await;
        assert_eq!(status, 200);
        let lines = csv
            .lines()
            .filter(|l| l.contains("Dupont") || l.contains("Martin") || l.contains("Durand"))
            .count();
        let expected = usize::from(typed != "\\");
        if lines != expected {
            problems.push(format!(
                "sessions CSV utilisateur={typed:?}: {lines} rows, expected {expected}"
            ));
        }
    }
    // Nothing was dropped or changed by all this.
    let (status, body) = api.get("/sessions").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sessions"].as_array().unwrap().len(), 3);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test]
async fn sql_metacharacters_in_every_filter_on_sqlite() {
    let server = TestServer::start().await;
    check_every_filter(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn sql_metacharacters_in_every_filter_on_postgres() {
    let Some(db) = PgDatabase::create("sql_metacharacters_in_every_filter_on_postgres").await
    else {
        return;
    };
    let server = TestServer::start_postgres(&db).await.unwrap();
    check_every_filter(&server).await;
    server.stop().await;
}
