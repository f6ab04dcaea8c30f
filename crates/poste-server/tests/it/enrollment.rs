//! Workstation enrollment: a one-time code, staff approval, a secret collected once, and no
//! way to speak for an enrolled workstation without it.

use poste_testkit::{TestServer, WsClient};
use serde_json::{Value, json};

use crate::REPLY;

async fn enroll(ws: &mut WsClient, poste: &str, proof: Value, demande: &str) -> Value {
    let mut message =
        json!({"type": "enroll", "poste": poste, "mac": "52:54:00:aa:bb:cc", "demande": demande});
    for (key, value) in proof.as_object().unwrap() {
        message[key] = value.clone();
    }
    ws.request(message).await
}

/// `reply` refuses the enrollment, saying `words`.
fn assert_refused(reply: &Value, words: &str) {
    assert_eq!(reply["statut"], "refuse", "{reply}");
    assert!(
        reply["message"]
            .as_str()
            .unwrap_or_default()
            .contains(words),
        "{reply}"
    );
}

/// A server with the site's install token `jeton-installation-du-site-2026` (the directory
/// holding its file, kept while the server runs).
async fn server_with_install_token() -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("install-token");
    std::fs::write(&token_file, "jeton-installation-du-site-2026\n").unwrap();
    let server =
        TestServer::start_with(|c| c.enrollment.install_token_file = Some(token_file.clone()))
            .await;
    (server, dir)
}

/// Enrolls `poste` through the protocol and the API; returns its secret.
async fn enrolled(server: &TestServer, poste: &str) -> String {
    let api = server.api();
    let code = api
        .post_ok("/enrollment-codes", json!({"poste": poste}))
        .await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut agent = WsClient::connect(&server.ws_url()).await.unwrap();
    let demande = "demande-de-test-0123456789";
    let reply = enroll(
        &mut agent,
        poste,
        json!({"code_enrolement": code.to_lowercase()}),
        demande,
    )
    .await;
    assert_eq!(reply["statut"], "en_attente", "{reply}");
    api.post_ok(&format!("/postes/{poste}/approve"), json!({}))
        .await;
    let reply = enroll(&mut agent, poste, json!({}), demande).await;
    assert_eq!(reply["statut"], "enrole", "{reply}");
    reply["secret"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_workstation_enrolls_with_a_one_time_code_and_staff_approval() {
    let server = TestServer::start().await;
    let api = server.api();
    let created = api
        .post_ok("/enrollment-codes", json!({"poste": "Poste-03"}))
        .await;
    let code = created["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 11, "XXXXX-XXXXX: {code}");

    let mut agent = WsClient::connect(&server.ws_url()).await.unwrap();
    let demande = "cle-de-demande-aleatoire-42";
    // Without any proof: refused.
    let reply = enroll(&mut agent, "Poste-03", json!({}), demande).await;
    assert_eq!(reply["statut"], "refuse", "{reply}");
    // A code reserved for another workstation: refused, and not used up.
    let reply = enroll(
        &mut agent,
        "Poste-04",
        json!({"code_enrolement": code}),
        demande,
    )
    .await;
    assert_eq!(reply["statut"], "refuse");
    assert!(
        reply["message"].as_str().unwrap().contains("autre poste"),
        "{reply}"
    );
    // The right one: pending until staff approve; asking again changes nothing.
    let reply = enroll(
        &mut agent,
        "Poste-03",
        json!({"code_enrolement": code}),
        demande,
    )
    .await;
    assert_eq!(reply["statut"], "en_attente", "{reply}");
    assert!(reply.get("secret").is_none());
    let reply = enroll(&mut agent, "Poste-03", json!({}), demande).await;
    assert_eq!(reply["statut"], "en_attente");
    let postes = api.get("/postes").await.1;
    let poste = postes["postes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["nom"] == "Poste-03")
        .unwrap()
        .clone();
    assert_eq!(poste["enrolement"], "en_attente");

    // A code is single-use, and the refusal says what to do (IT reads it on the gate).
    let mut other = WsClient::connect(&server.ws_url()).await.unwrap();
    let reply = enroll(
        &mut other,
        "Poste-05",
        json!({"code_enrolement": code}),
        "une-autre-demande-123456",
    )
    .await;
    assert_eq!(reply["statut"], "refuse");
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains("chaque code ne sert qu'une fois) : vérifiez-le, ou demandez-en un nouveau."),
        "{reply}"
    );

    api.post_ok("/postes/Poste-03/approve", json!({})).await;
    // Someone else cannot collect the secret with another request key.
    let reply = enroll(
        &mut other,
        "Poste-03",
        json!({}),
        "une-autre-demande-123456",
    )
    .await;
    assert_eq!(reply["statut"], "refuse", "{reply}");
    // The agent that asked does, once.
    let reply = enroll(&mut agent, "Poste-03", json!({}), demande).await;
    assert_eq!(reply["statut"], "enrole", "{reply}");
    let secret = reply["secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 32);
    let reply = enroll(&mut agent, "Poste-03", json!({}), demande).await;
    assert_eq!(
        reply["statut"], "refuse",
        "a second collection gets nothing: {reply}"
    );
    assert!(reply.get("secret").is_none());

    // The stored hash is not the secret.
    let row = server
        .store
        .poste_by_name("Poste-03")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.enrollment.as_str(), "enrole");
    assert_ne!(row.secret_hash.as_deref(), Some(secret.as_str()));

    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    let welcome = ws
        .request(json!({"type": "hello", "poste": "poste-03", "secret": secret}))
        .await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
}

#[tokio::test]
async fn an_enrolled_workstation_cannot_be_impersonated_by_name_ip_or_mac() {
    let server = TestServer::start().await;
    let secret = enrolled(&server, "Poste-07").await;
    // The real workstation connects (from 192.168.1.107) and runs a session bound to it.
    let (id, code) = server
        .create_session(json!({"duree": "1h", "poste": "Poste-07"}))
        .await;
    let mut real = WsClient::connect(&server.ws_url()).await.unwrap();
    let welcome = real
        .request(json!({"type": "hello", "poste": "Poste-07", "ip_address": "192.168.1.107", "mac": "52:54:00:aa:bb:cc", "secret": secret}))
        .await;
    assert_eq!(welcome["type"], "welcome");

    // By name, without or with a wrong secret: refused, and the connection is closed.
    for attempt in [
        json!({"type": "hello", "poste": "Poste-07", "mac": "52:54:00:aa:bb:cc"}),
        json!({"type": "hello", "poste": "POSTE-07", "secret": "pp_devine"}),
    ] {
        let mut fake = WsClient::connect(&server.ws_url()).await.unwrap();
        let reply = fake.request(attempt.clone()).await;
        assert_eq!(
            reply["code"], "poste_non_authentifie",
            "{attempt} → {reply}"
        );
        assert_eq!(fake.closed(REPLY).await.unwrap(), Some(1008));
    }
    // By IP, as a seed client: the code bound to Poste-07 is refused to it.
    let mut fake = WsClient::connect(&server.ws_url()).await.unwrap();
    let reply = fake
        .request(json!({"type": "validate_code", "code": code, "ip_address": "192.168.1.107"}))
        .await;
    assert_eq!(reply["raison"], "mauvais_poste", "{reply}");
    // The real one is accepted, and its session cannot be followed by the impostor.
    let started = real.start_with_code(&code, "192.168.1.107").await;
    assert_eq!(started["session"]["poste"], "Poste-07");
    let reply = fake
        .request(json!({"type": "get_time", "session_id": id}))
        .await;
    assert_eq!(reply["code"], "session_non_autorisee", "{reply}");

    // Staff reset a stolen workstation: its secret no longer works.
    server
        .api()
        .post_ok("/postes/Poste-07/reset", json!({}))
        .await;
    let mut stolen = WsClient::connect(&server.ws_url()).await.unwrap();
    let reply = stolen
        .request(json!({"type": "hello", "poste": "Poste-07", "secret": secret}))
        .await;
    assert_eq!(reply["code"], "poste_non_authentifie", "{reply}");
}

#[tokio::test]
async fn a_site_can_refuse_workstations_that_are_not_enrolled() {
    let server = TestServer::start_with(|c| c.enrollment.allow_seed_clients = false).await;
    let secret = enrolled(&server, "Poste-01").await;
    let (_, code) = server.create_session(json!({"duree": "1h"})).await;
    // A seed client: refused before anything else.
    let mut seed = WsClient::connect(&server.ws_url()).await.unwrap();
    let reply = seed
        .request(json!({"type": "validate_code", "code": code, "ip_address": "192.168.1.50"}))
        .await;
    assert_eq!(reply["code"], "poste_non_enrole", "{reply}");
    assert_eq!(seed.closed(REPLY).await.unwrap(), Some(1008));
    // A hello for a workstation that is not enrolled: refused too.
    let mut unknown = WsClient::connect(&server.ws_url()).await.unwrap();
    let reply = unknown
        .request(json!({"type": "hello", "poste": "Poste-99"}))
        .await;
    assert_eq!(reply["code"], "poste_non_enrole", "{reply}");
    // The enrolled one works.
    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    assert_eq!(
        ws.request(json!({"type": "hello", "poste": "Poste-01", "secret": secret}))
            .await["type"],
        "welcome"
    );
    ws.start_with_code(&code, "192.168.1.51").await;
}

#[tokio::test]
async fn unattended_installs_enroll_with_the_site_token() {
    let (server, _dir) = server_with_install_token().await;
    let mut agent = WsClient::connect(&server.ws_url()).await.unwrap();
    let reply = enroll(
        &mut agent,
        "Poste-12",
        json!({"jeton_installation": "mauvais-jeton-0000000000"}),
        "demande-000000000000001",
    )
    .await;
    assert_eq!(reply["statut"], "refuse");
    let reply = enroll(
        &mut agent,
        "Poste-12",
        json!({"jeton_installation": "jeton-installation-du-site-2026"}),
        "demande-000000000000001",
    )
    .await;
    assert_eq!(reply["statut"], "en_attente", "{reply}");
    // Still needs staff.
    let pending = server.store.pending_enrollments().await.unwrap();
    assert_eq!(pending.len(), 1);
}

/// Issue 18, item 1: an agent configured with its space (`espace`) and enrolling with the
/// install token waits for approval in that space; a name no space has is refused in words,
/// nothing recorded, and the same agent, its name corrected, is taken.
#[tokio::test]
async fn an_agent_naming_its_space_waits_for_approval_there() {
    let (server, _dir) = server_with_install_token().await;
    let quartier = server.create_space("Maison de quartier").await;
    let mut agent = WsClient::connect(&server.ws_url()).await.unwrap();
    let token = "jeton-installation-du-site-2026";
    let reply = enroll(
        &mut agent,
        "MDQ-12",
        json!({"jeton_installation": token, "espace": "Maison de qaurtier"}),
        "demande-mdq-12-000000001",
    )
    .await;
    assert_refused(&reply, "Aucun espace ne s'appelle « Maison de qaurtier »");
    assert_eq!(server.store.poste_by_name("MDQ-12").await.unwrap(), None);

    let reply = enroll(
        &mut agent,
        "MDQ-12",
        json!({"jeton_installation": token, "espace": "maison de quartier"}),
        "demande-mdq-12-000000001",
    )
    .await;
    assert_eq!(reply["statut"], "en_attente", "{reply}");
    let row = server.store.poste_by_name("MDQ-12").await.unwrap().unwrap();
    assert_eq!(row.espace_id, quartier.id);
    assert_eq!(row.enrollment.as_str(), "en_attente");
}

/// An agent naming its space (`espace`) and enrolling with a one-time code: a code made for
/// no space takes the agent's; one made for another space is refused in words and stays
/// usable; a space that does not exist is refused before the code is looked at.
#[tokio::test]
async fn an_agent_naming_its_space_with_a_one_time_code() {
    let server = TestServer::start().await;
    let quartier = server.create_space("Maison de quartier").await;
    let annexe = server.create_space("Annexe").await;
    let api = server.api();
    let code = |body: Value| {
        let api = api.clone();
        async move {
            api.post_ok("/enrollment-codes", body).await["code"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let mut agent = WsClient::connect(&server.ws_url()).await.unwrap();

    let for_quartier = code(json!({"espace": "Maison de quartier"})).await;
    let reply = enroll(
        &mut agent,
        "ANX-01",
        json!({"code_enrolement": for_quartier, "espace": "Annexe"}),
        "demande-anx-01-000000001",
    )
    .await;
    assert_refused(&reply, "a été fait pour un autre espace");
    assert_eq!(server.store.poste_by_name("ANX-01").await.unwrap(), None);
    let reply = enroll(
        &mut agent,
        "ANX-01",
        json!({"code_enrolement": for_quartier, "espace": "Ailleurs"}),
        "demande-anx-01-000000001",
    )
    .await;
    assert_refused(&reply, "Aucun espace ne s'appelle « Ailleurs »");
    // The code was not used up: named right, it enrolls.
    let reply = enroll(
        &mut agent,
        "MDQ-21",
        json!({"code_enrolement": for_quartier, "espace": "maison de quartier"}),
        "demande-mdq-21-000000001",
    )
    .await;
    assert_eq!(reply["statut"], "en_attente", "{reply}");
    let row = server.store.poste_by_name("MDQ-21").await.unwrap().unwrap();
    assert_eq!(row.espace_id, quartier.id);

    let spaceless = code(json!({})).await;
    let mut other = WsClient::connect(&server.ws_url()).await.unwrap();
    let reply = enroll(
        &mut other,
        "ANX-02",
        json!({"code_enrolement": spaceless, "espace": "Annexe"}),
        "demande-anx-02-000000001",
    )
    .await;
    assert_eq!(reply["statut"], "en_attente", "{reply}");
    let row = server.store.poste_by_name("ANX-02").await.unwrap().unwrap();
    assert_eq!(row.espace_id, annexe.id);
}

/// Wrong install tokens sent from one address over 20 connections at once: the per-address
/// limit (5 a minute) holds, because each try is counted as it is checked; the rest are told
/// to wait. A right token afterwards from that address is told to wait too.
#[tokio::test]
async fn parallel_enrollment_guesses_from_one_address_are_throttled() {
    let (server, _dir) = server_with_install_token().await;
    let mut agents = Vec::new();
    for _ in 0..20 {
        agents.push(WsClient::connect(&server.ws_url()).await.unwrap());
    }
    let tries = agents.iter_mut().enumerate().map(|(i, agent)| async move {
        enroll(
            agent,
            &format!("Poste-{i}"),
            json!({"jeton_installation": format!("mauvais-jeton-{i:012}")}),
            &format!("demande-{i:020}"),
        )
        .await
    });
    let replies = futures_util::future::join_all(tries).await;
    let judged = replies
        .iter()
        .filter(|reply| {
            reply["message"]
                .as_str()
                .is_some_and(|m| !m.contains("essais"))
        })
        .count();
    assert!(
        replies.iter().all(|reply| reply["statut"] == "refuse"),
        "{replies:#?}"
    );
    assert_eq!(judged, 5, "tokens actually checked: {replies:#?}");
    let reply = enroll(
        &mut agents[0],
        "Poste-30",
        json!({"jeton_installation": "jeton-installation-du-site-2026"}),
        "demande-000000000000030",
    )
    .await;
    assert_eq!(reply["statut"], "refuse", "{reply}");
}

#[tokio::test]
async fn with_several_spaces_an_enrollment_is_approved_in_the_space_staff_name() {
    let server = TestServer::start().await;
    let api = server.api();
    let quartier = server.create_space("Maison de quartier").await;
    let code = api
        .post_ok("/enrollment-codes", json!({"poste": "MDQ-03"}))
        .await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut agent = WsClient::connect(&server.ws_url()).await.unwrap();
    let demande = "demande-de-mdq-03-0123456789";
    let reply = enroll(
        &mut agent,
        "MDQ-03",
        json!({"code_enrolement": code}),
        demande,
    )
    .await;
    assert_eq!(reply["statut"], "en_attente", "{reply}");

    // No space named: refused in words, nothing approved, nothing moved.
    let (status, body) = api.post("/postes/MDQ-03/approve", json!({})).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("plusieurs espaces"),
        "{body}"
    );
    // A space that does not exist: the same.
    let (status, body) = api
        .post("/postes/MDQ-03/approve", json!({"espace": "Annexe"}))
        .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("Annexe"),
        "{body}"
    );
    let row = server.store.poste_by_name("MDQ-03").await.unwrap().unwrap();
    assert_eq!(row.enrollment.as_str(), "en_attente");
    assert_eq!(row.espace_id, poste_store::DEFAULT_SPACE);
    let reply = enroll(&mut agent, "MDQ-03", json!({}), demande).await;
    assert_eq!(reply["statut"], "en_attente", "still waiting: {reply}");

    // Named (any case): moved there, then approved; the agent collects its secret.
    let approved = api
        .post_ok(
            "/postes/MDQ-03/approve",
            json!({"espace": "maison de QUARTIER"}),
        )
        .await;
    assert_eq!(approved["enrolement"], "approuve", "{approved}");
    assert_eq!(approved["espace_id"], quartier.id, "{approved}");
    let row = server.store.poste_by_name("MDQ-03").await.unwrap().unwrap();
    assert_eq!(row.espace_id, quartier.id);
    let reply = enroll(&mut agent, "MDQ-03", json!({}), demande).await;
    assert_eq!(reply["statut"], "enrole", "{reply}");

    // A code made for a space: a new workstation waits for its approval there.
    let (status, body) = api
        .post("/enrollment-codes", json!({"espace": "Annexe"}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("Annexe"),
        "{body}"
    );
    let made = api
        .post_ok("/enrollment-codes", json!({"espace": "Maison de quartier"}))
        .await;
    assert_eq!(made["espace_id"], quartier.id, "{made}");
    let mut newcomer = WsClient::connect(&server.ws_url()).await.unwrap();
    let reply = enroll(
        &mut newcomer,
        "MDQ-04",
        json!({"code_enrolement": made["code"]}),
        "demande-de-mdq-04-0123456789",
    )
    .await;
    assert_eq!(reply["statut"], "en_attente", "{reply}");
    let row = server.store.poste_by_name("MDQ-04").await.unwrap().unwrap();
    assert_eq!(row.espace_id, quartier.id);
}

/// IT runs `enroll` again on a workstation still waiting for staff (it corrected the space in
/// its configuration): the new request, with a proof of its own, replaces the waiting one; the
/// workstation stays where it waits, the space now named is kept beside it for the console, and
/// the secret goes to the new request once approved. Asked again without a proof, another
/// request key is refused; the waiting request's own key still only hears « en attente ».
#[tokio::test]
async fn enroll_run_again_while_waiting_replaces_the_request() {
    let (server, _token_dir) = server_with_install_token().await;
    let annexe = server.create_space("Annexe").await;
    let token =
        json!({"jeton_installation": "jeton-installation-du-site-2026", "espace": "annexe"});
    let mut first = WsClient::connect(&server.ws_url()).await.unwrap();
    let reply = enroll(
        &mut first,
        "ANX-07",
        token.clone(),
        "demande-anx-07-premiere",
    )
    .await;
    assert_eq!(reply["statut"], "en_attente", "{reply}");
    // The same request asked again, with or without its proof: still waiting.
    let reply = enroll(&mut first, "ANX-07", token, "demande-anx-07-premiere").await;
    assert_eq!(reply["statut"], "en_attente", "{reply}");
    let reply = enroll(&mut first, "ANX-07", json!({}), "demande-anx-07-premiere").await;
    assert_eq!(reply["statut"], "en_attente", "{reply}");

    let mut again = WsClient::connect(&server.ws_url()).await.unwrap();
    let corrected = json!({"jeton_installation": "jeton-installation-du-site-2026", "espace": "Espace principal"});
    let reply = enroll(&mut again, "ANX-07", corrected, "demande-anx-07-seconde").await;
    assert_eq!(reply["statut"], "en_attente", "{reply}");
    let waiting = server.store.poste_by_name("ANX-07").await.unwrap().unwrap();
    assert_eq!(
        (waiting.espace_id, waiting.requested_space),
        (annexe.id, Some(poste_store::DEFAULT_SPACE))
    );
    // Another key without a proof is no request.
    let reply = enroll(&mut first, "ANX-07", json!({}), "demande-anx-07-intruse").await;
    assert_eq!(reply["statut"], "refuse", "{reply}");

    server
        .api()
        .post_ok(
            "/postes/ANX-07/approve",
            json!({"espace": "Espace principal"}),
        )
        .await;
    // The replaced request collects nothing; the new one its secret.
    let reply = enroll(&mut first, "ANX-07", json!({}), "demande-anx-07-premiere").await;
    assert_eq!(reply["statut"], "refuse", "{reply}");
    let reply = enroll(&mut again, "ANX-07", json!({}), "demande-anx-07-seconde").await;
    assert_eq!(reply["statut"], "enrole", "{reply}");
    let enrolled = server.store.poste_by_name("ANX-07").await.unwrap().unwrap();
    assert_eq!(enrolled.espace_id, poste_store::DEFAULT_SPACE);
}
