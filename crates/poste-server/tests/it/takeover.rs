//! Reaching a session that is not yours, as a stranger on the network would try it, with the
//! default configuration (`allow_seed_clients = true`), on both backends. Every workstation
//! here is a distinct source address on loopback (every 127.x.y.z is local on Linux), so the
//! server sees them as it would see machines of a room.
//!
//! The hole this closes: a connection claimed the victim's address in `validate_code` (with a
//! wrong code), then `start_session` with the victim's session id gave it the running session,
//! and `end_session` ended it on the victim's screen.

use std::net::IpAddr;
use std::time::Duration;

use poste_proto::{WS_PATH_CLIENT, WS_PATH_SESSIONS};
use poste_testkit::{PgDatabase, TestServer, WsClient};
use serde_json::json;

use crate::REPLY;

const VICTIM: &str = "127.0.3.10";
const VICTIM_AGENT: &str = "127.0.3.20";
const ATTACKER: &str = "127.0.3.66";

async fn connect(server: &TestServer, path: &str, from: &str) -> WsClient {
    let source: IpAddr = from.parse().unwrap();
    let mut ws = WsClient::connect_from(server.addr, path, source)
        .await
        .unwrap();
    if path == WS_PATH_CLIENT {
        ws.next_of("connection_established", REPLY).await.unwrap();
    }
    ws
}

/// Every way to name the session `id` from this connection: none may reach it.
async fn assert_out_of_reach(ws: &mut WsClient, id: i64, what: &str) {
    for request in [
        json!({"type": "start_session", "session_id": id}),
        json!({"type": "get_time", "session_id": id}),
        json!({"type": "request_time", "session_id": id, "minutes": 30}),
        json!({"type": "end_session", "session_id": id}),
    ] {
        let reply = ws.request(request.clone()).await;
        assert_eq!(reply["type"], "error", "{what}: {request} → {reply}");
        assert!(
            reply["code"] == "session_non_autorisee" || reply["code"] == "session_non_demarrable",
            "{what}: {request} → {reply}"
        );
        assert!(
            reply.get("session").is_none(),
            "{what}: nothing of the session is disclosed: {reply}"
        );
    }
}

async fn the_session_is_untouched(server: &TestServer, victim: &mut WsClient, id: i64) {
    let row = server.store.session(id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "active", "session {id}");
    assert_eq!(row.added_secs, 0);
    let pending = server.api().get("/time-requests").await.1;
    assert_eq!(
        pending["demandes"].as_array().unwrap().len(),
        0,
        "{pending}"
    );
    // Nothing ended on the victim's screen.
    assert!(
        victim
            .next_of("session_terminated", Duration::from_millis(300))
            .await
            .is_err()
    );
    let time = victim
        .request(json!({"type": "get_time", "session_id": id}))
        .await;
    assert_eq!(time["type"], "time_update", "{time}");
    assert_eq!(time["statut"], "active", "{time}");
}

async fn attacks(server: &TestServer) {
    // A seed client at its own address, in session.
    let (id, code) = server
        .create_session(json!({"duree": "1h", "utilisateur": "Jean Dupont"}))
        .await;
    let mut victim = connect(server, WS_PATH_SESSIONS, VICTIM).await;
    victim.start_with_code(&code, VICTIM).await;
    // An agent that is not enrolled (`hello` without secret), in session.
    let (agent_id, agent_code) = server.create_session(json!({"duree": "1h"})).await;
    let mut agent = connect(server, WS_PATH_CLIENT, VICTIM_AGENT).await;
    let welcome = agent
        .request(json!({"type": "hello", "poste": "Poste-V", "ip_address": VICTIM_AGENT}))
        .await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    agent.start_with_code(&agent_code, VICTIM_AGENT).await;

    for path in [WS_PATH_SESSIONS, WS_PATH_CLIENT] {
        // 1. The reported attack: the victim's address claimed with a wrong code, then its id.
        let mut attacker = connect(server, path, ATTACKER).await;
        let refused = attacker
            .request(json!({"type": "validate_code", "code": "ZZZZZZ", "ip_address": VICTIM}))
            .await;
        assert_eq!(refused["type"], "code_invalid", "{refused}");
        assert_out_of_reach(&mut attacker, id, "address claimed").await;
        assert_out_of_reach(&mut attacker, agent_id, "address claimed").await;

        // 2. The victim's code itself (read over a shoulder), with its address claimed.
        let mut attacker = connect(server, path, ATTACKER).await;
        let used = attacker
            .request(json!({"type": "validate_code", "code": code, "ip_address": VICTIM}))
            .await;
        assert_eq!(used["raison"], "deja_utilise", "{used}");
        assert_out_of_reach(&mut attacker, id, "code known").await;

        // 3. A `hello` naming the workstations, without secret, from elsewhere: refused and
        //    closed, since they are connected and in session where they are.
        for name in [VICTIM, "Poste-V"] {
            let mut attacker = connect(server, path, ATTACKER).await;
            let reply = attacker
                .request(json!({"type": "hello", "poste": name, "ip_address": VICTIM}))
                .await;
            assert_eq!(reply["type"], "error", "{name}: {reply}");
            assert_eq!(reply["code"], "poste_non_authentifie", "{name}: {reply}");
            assert_eq!(
                attacker.closed(REPLY).await.unwrap(),
                Some(1008),
                "{name}: the connection is closed"
            );
        }

        // 4. A workstation of its own whose `hello` reports the victim's address.
        let mut attacker = connect(server, path, ATTACKER).await;
        let welcome = attacker
            .request(json!({"type": "hello", "poste": "Poste-X", "ip_address": VICTIM}))
            .await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        assert_out_of_reach(&mut attacker, id, "own hello").await;
        assert_out_of_reach(&mut attacker, agent_id, "own hello").await;
    }

    the_session_is_untouched(server, &mut victim, id).await;
    the_session_is_untouched(server, &mut agent, agent_id).await;
    // The victim's register entry still names the victim's address, not a claimed one.
    let victim_row = server.store.poste_by_name(VICTIM).await.unwrap().unwrap();
    assert_eq!(victim_row.ip.as_deref(), Some(VICTIM));
    let x_row = server
        .store
        .poste_by_name("Poste-X")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        x_row.ip.as_deref(),
        Some(ATTACKER),
        "a claim is not recorded"
    );

    // The rightful workstations still take their sessions up after a reconnection (service
    // restarted): the seed client by its address alone, the agent by its hello.
    drop(victim);
    let mut again = connect(server, WS_PATH_SESSIONS, VICTIM).await;
    let time = again
        .request(json!({"type": "get_time", "session_id": id}))
        .await;
    assert_eq!(time["type"], "time_update", "{time}");
    drop(agent);
    // The hub notices the agent's connection gone before the name may be spoken for again.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut agent = connect(server, WS_PATH_CLIENT, VICTIM_AGENT).await;
    let welcome = agent
        .request(json!({"type": "hello", "poste": "Poste-V"}))
        .await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    let time = agent
        .request(json!({"type": "get_time", "session_id": agent_id}))
        .await;
    assert_eq!(time["type"], "time_update", "{time}");
}

#[tokio::test]
async fn no_connection_reaches_another_workstations_session_on_sqlite() {
    let server = TestServer::start().await;
    attacks(&server).await;
}

#[tokio::test]
async fn no_connection_reaches_another_workstations_session_on_postgres() {
    let Some(db) =
        PgDatabase::create("no_connection_reaches_another_workstations_session_on_postgres").await
    else {
        return;
    };
    let server = TestServer::start_postgres(&db).await.unwrap();
    attacks(&server).await;
}

/// Between sessions and offline, a workstation that is not enrolled may come back from another
/// address (DHCP): its name follows it. Nothing else may move it.
#[tokio::test]
async fn a_workstation_that_is_not_enrolled_may_move_only_while_idle_and_offline() {
    let server = TestServer::start().await;
    let mut first = connect(&server, WS_PATH_CLIENT, "127.0.4.1").await;
    let welcome = first
        .request(json!({"type": "hello", "poste": "Poste-M"}))
        .await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    // Connected there: another address cannot take the name.
    let mut other = connect(&server, WS_PATH_CLIENT, "127.0.4.2").await;
    let reply = other
        .request(json!({"type": "hello", "poste": "Poste-M"}))
        .await;
    assert_eq!(reply["code"], "poste_non_authentifie", "{reply}");
    drop(first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut moved = connect(&server, WS_PATH_CLIENT, "127.0.4.2").await;
    let welcome = moved
        .request(json!({"type": "hello", "poste": "Poste-M"}))
        .await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    let row = server
        .store
        .poste_by_name("Poste-M")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.ip.as_deref(), Some("127.0.4.2"));
}
