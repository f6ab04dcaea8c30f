//! Code guessing from many source addresses at once (every 127.0.0.x is loopback on Linux,
//! so each simulated guesser is a distinct peer to the server): the per-address and
//! per-workstation throttles bound each guesser, and the global failure budget bounds them
//! all together, whatever their number. The figures are in docs/security.md.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Barrier;

use poste_testkit::{TestServer, WsClient};
use serde_json::{Value, json};

/// Tries `tries` wrong codes from `source` (as fast as replies come); returns the raisons.
async fn guess_from(
    server: std::net::SocketAddr,
    source: String,
    hello: Option<String>,
    tries: usize,
    all_done: Arc<Barrier>,
) -> Vec<String> {
    let mut ws = WsClient::connect_from(
        server,
        poste_proto::WS_PATH_SESSIONS,
        source.parse().unwrap(),
    )
    .await
    .unwrap();
    let raisons = guesses(&mut ws, &source, hello, tries).await;
    // Every connection stays open until all guessers are done: a name held by one of them is
    // still held when the last one says `hello`.
    all_done.wait().await;
    drop(ws);
    raisons
}

async fn guesses(
    ws: &mut WsClient,
    source: &str,
    hello: Option<String>,
    tries: usize,
) -> Vec<String> {
    let mut raisons = Vec::new();
    if let Some(name) = hello {
        let reply = ws
            .request(json!({"type": "hello", "poste": name, "version": "guess"}))
            .await;
        if reply["type"] != "welcome" {
            // The name is spoken for at another address: refused and closed.
            assert_eq!(reply["code"], "poste_non_authentifie", "{reply}");
            raisons.push("nom_refuse".to_owned());
            return raisons;
        }
    }
    for n in 0..tries {
        // Wrong codes of the right shape, each guesser reporting its own address.
        let code = format!("ZZZZ{:02}", n % 90 + 2);
        let reply: Value = ws
            .request(json!({"type": "validate_code", "code": code, "ip_address": source}))
            .await;
        raisons.push(reply["raison"].as_str().unwrap_or("?").to_owned());
    }
    raisons
}

/// `count` guessers from 127.0.{subnet}.1 …, each trying `tries` codes, all at once.
async fn swarm(
    server: &TestServer,
    subnet: u8,
    count: u8,
    tries: usize,
    hello: Option<&str>,
) -> Vec<Vec<String>> {
    let all_done = Arc::new(Barrier::new(usize::from(count)));
    let tasks: Vec<_> = (1..=count)
        .map(|host| {
            tokio::spawn(guess_from(
                server.addr,
                format!("127.0.{subnet}.{host}"),
                hello.map(str::to_owned),
                tries,
                all_done.clone(),
            ))
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.push(task.await.unwrap());
    }
    all
}

fn evaluated(raisons: &[String]) -> usize {
    raisons.iter().filter(|r| *r == "inconnu").count()
}

#[tokio::test]
async fn guesses_from_many_addresses_are_bounded_per_address_and_in_all() {
    // Without a global budget (set out of reach), each address gets its own 5 per minute:
    // the number of guesses grows with the number of addresses.
    let server = TestServer::start_with(|c| {
        c.limits.code_failures = 5;
        c.limits.code_failure_window_secs = 60;
        c.limits.code_failures_global = 1_000_000;
    })
    .await;
    let started = Instant::now();
    let per_address = swarm(&server, 10, 100, 8, None).await;
    let unbounded: usize = per_address.iter().map(|r| evaluated(r)).sum();
    assert!(per_address.iter().all(|r| evaluated(r) <= 5), "per address");
    assert_eq!(unbounded, 500, "5 per address, 100 addresses");
    eprintln!(
        "GUESSING: per-address throttle only: 100 addresses, {unbounded} codes tried in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    server.stop().await;

    // With the default global budget (60 per minute), 100 addresses get 60 in all, and then
    // every address that failed waits; a workstation that did not guess is not held back.
    let server = TestServer::start_with(|c| {
        c.limits.code_failures = 5;
        c.limits.code_failure_window_secs = 60;
    })
    .await;
    assert_eq!(server.config.limits.code_failures_global, 60);
    let (_, good) = server.create_session(json!({"duree": "1h"})).await;
    let started = Instant::now();
    let bounded = swarm(&server, 20, 100, 8, None).await;
    let total: usize = bounded.iter().map(|r| evaluated(r)).sum();
    let elapsed = started.elapsed();
    // 60, plus at most the tries in flight when the budget ran out (one per address).
    assert!(
        (60..=160).contains(&total),
        "the global budget bounds all addresses together: {total}"
    );
    assert!(bounded.iter().all(|r| evaluated(r) <= 5));
    // A guesser, even with its right code now, waits.
    let mut guesser = WsClient::connect_from(
        server.addr,
        poste_proto::WS_PATH_SESSIONS,
        "127.0.20.1".parse().unwrap(),
    )
    .await
    .unwrap();
    let reply = guesser
        .request(json!({"type": "validate_code", "code": good, "ip_address": "127.0.20.1"}))
        .await;
    assert_eq!(reply["raison"], "trop_d_essais", "{reply}");
    assert!(reply["reessayer_dans"].as_u64().unwrap() <= 60);
    // Another workstation's visitor, with a right code, is not held back by the guessers...
    let mut visitor = WsClient::connect(&server.ws_url()).await.unwrap();
    let reply = visitor
        .request(json!({"type": "validate_code", "code": good, "ip_address": "192.168.1.9"}))
        .await;
    assert_eq!(reply["type"], "code_valid", "{reply}");
    // ...but a fresh address gets one wrong try, then waits too.
    let mut fresh = WsClient::connect_from(
        server.addr,
        poste_proto::WS_PATH_SESSIONS,
        "127.0.21.1".parse().unwrap(),
    )
    .await
    .unwrap();
    let mut raisons = Vec::new();
    for code in ["ZZZZ22", "ZZZZ23", "ZZZZ24"] {
        let reply = fresh
            .request(json!({"type": "validate_code", "code": code, "ip_address": "127.0.21.1"}))
            .await;
        raisons.push(reply["raison"].as_str().unwrap_or("?").to_owned());
    }
    assert_eq!(raisons, ["inconnu", "trop_d_essais", "trop_d_essais"]);
    eprintln!(
        "GUESSING: global budget: 100 addresses, {total} codes tried in {:.1} s, then all wait",
        elapsed.as_secs_f64()
    );
    server.stop().await;
}

#[tokio::test]
async fn many_addresses_cannot_speak_for_one_workstation_and_its_budget_holds() {
    let server = TestServer::start_with(|c| {
        c.limits.code_failures = 5;
        c.limits.code_failures_global = 1_000_000;
    })
    .await;
    server
        .api()
        .post_ok("/postes", json!({"nom": "Poste-07"}))
        .await;
    let all = swarm(&server, 30, 20, 4, Some("Poste-07")).await;
    let total: usize = all.iter().map(|r| evaluated(r)).sum();
    assert!(
        total <= 5,
        "one workstation, 5 tries, from however many addresses: {total}"
    );
    // A name without secret is spoken for from one address at a time (docs/security.md §2):
    // the first guesser's `hello` holds it, every other one is refused.
    let refused = all.iter().filter(|r| *r == &["nom_refuse"]).count();
    assert_eq!(refused, 19, "{all:?}");
    // Another workstation is not slowed down.
    let (_, good) = server.create_session(json!({"duree": "1h"})).await;
    let mut other = WsClient::connect(&server.ws_url()).await.unwrap();
    let reply = other
        .request(json!({"type": "validate_code", "code": good, "ip_address": "192.168.1.8"}))
        .await;
    assert_eq!(reply["type"], "code_valid", "{reply}");
}
