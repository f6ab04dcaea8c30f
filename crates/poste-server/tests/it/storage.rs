//! Storage faults under a running server: its SQLite file on a small tmpfs that fills up. The
//! server answers clear errors (`service_indisponible` on the
//! WebSocket, 503 on the API), keeps serving running sessions from memory, pushes the end of a
//! session on time, records it once space is back, and loses nothing already committed.

use std::time::{Duration, Instant};

use poste_testkit::disk::Tmpfs;
use poste_testkit::{TestServer, WsClient};
use serde_json::json;

/// Creates a batch of sessions through the API: `Ok(ids)` or `Err((status, body))`.
async fn create_batch(server: &TestServer, count: u32) -> Result<Vec<i64>, (u16, String)> {
    let (status, body) = server
        .api()
        .post(
            "/sessions",
            json!({"duree": "1h", "nombre": count, "utilisateur": "Remplissage du disque"}),
        )
        .await;
    if status == 201 || status == 200 {
        Ok(body["sessions"]
            .as_array()
            .map(|all| all.iter().filter_map(|s| s["id"].as_i64()).collect())
            .unwrap_or_default())
    } else {
        Err((status, body.to_string()))
    }
}

async fn wait_status(server: &TestServer, id: i64, status: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(Some(row)) = server.store.session(id).await
            && row.status.as_str() == status
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

// A read-only remount mid-run is not here: Linux refuses it ("mount point is busy") while the
// server holds its database open for writing, as it always does.
#[tokio::test]
async fn a_full_disk_gives_clear_errors_and_loses_nothing() {
    let Some(disk) = Tmpfs::mount_or_skip("a_full_disk_gives_clear_errors_and_loses_nothing", "6m")
    else {
        return;
    };
    let config = poste_testkit::fast_config(disk.path());
    let server = TestServer::start_config(config, None).await.unwrap();
    let (short_id, short) = server.create_session(json!({"duree": "6s"})).await;
    let (long_id, long) = server.create_session(json!({"duree": "1h"})).await;
    let (_, spare) = server.create_session(json!({"duree": "1h"})).await;
    let mut a = WsClient::connect(&server.ws_url()).await.unwrap();
    a.start_with_code(&short, "192.168.1.171").await;
    let mut b = WsClient::connect(&server.ws_url()).await.unwrap();
    b.start_with_code(&long, "192.168.1.172").await;
    let mut committed = vec![short_id, long_id];

    // --- The disk fills up.
    let filled = disk.fill();
    assert!(filled > 0, "the filler wrote nothing");
    // Writes fail with a clear 503 (a batch or two may still fit in pages already allocated).
    let mut refused = None;
    for _ in 0..50 {
        match create_batch(&server, 200).await {
            Ok(ids) => committed.extend(ids),
            Err(refusal) => {
                refused = Some(refusal);
                break;
            }
        }
    }
    let (status, body) = refused.expect("a full disk never refused a write");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("service_indisponible"), "{body}");
    // Running sessions are served from memory.
    let update = b
        .request(json!({"type": "get_time", "session_id": long_id}))
        .await;
    assert_eq!(update["type"], "time_update", "{update}");
    assert_eq!(update["statut"], "active");
    // A new session cannot be recorded: a clear error on the WebSocket.
    let mut c = WsClient::connect(&server.ws_url()).await.unwrap();
    let valid = c
        .request(json!({"type": "validate_code", "code": spare, "ip_address": "192.168.1.173"}))
        .await;
    let reply = if valid["type"] == "code_valid" {
        c.request(json!({"type": "start_session", "session_id": valid["session"]["id"]}))
            .await
    } else {
        valid
    };
    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["code"], "service_indisponible", "{reply}");
    // The end of the short session is pushed on time, though it cannot be written.
    let (_, ended) = a
        .next_of("session_terminated", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(ended["raison"], "temps_expire");
    assert!(
        reqwest::get(server.http_url("/healthz"))
            .await
            .unwrap()
            .status()
            .is_success()
    );

    // --- Space comes back: the expiry is recorded, at its deadline; writes work again.
    disk.free();
    assert!(
        wait_status(&server, short_id, "expiree", Duration::from_secs(20)).await,
        "the expiry was not recorded once space came back"
    );
    let row = server.store.session(short_id).await.unwrap().unwrap();
    assert_eq!(row.ended_at, row.deadline());
    committed.extend(create_batch(&server, 10).await.unwrap());

    // Running sessions kept on, and the disk can fill up again: the store still works.
    let update = b
        .request(json!({"type": "get_time", "session_id": long_id}))
        .await;
    assert_eq!(update["type"], "time_update", "{update}");
    let again = c
        .request(json!({"type": "validate_code", "code": spare, "ip_address": "192.168.1.173"}))
        .await;
    assert_eq!(again["type"], "code_valid", "{again}");
    let started = c
        .request(json!({"type": "start_session", "session_id": again["session"]["id"]}))
        .await;
    assert_eq!(started["type"], "session_started", "{started}");

    // Nothing committed was lost, and the running session kept its time.
    for id in &committed {
        assert!(
            server.store.session(*id).await.unwrap().is_some(),
            "session {id} lost"
        );
    }
    let row = server.store.session(long_id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "active");
    assert_eq!(row.total_secs(), 3600);
    eprintln!(
        "STORAGE: {} bytes of filler, {} sessions committed before/after the faults, all kept",
        filled,
        committed.len()
    );
    server.stop().await;
}
