//! Storage faults under a running server: its SQLite file on a small tmpfs that fills up, on
//! an ext4 filesystem the kernel turns read-only (then repaired), and a PostgreSQL database made
//! read-only. The server answers clear errors (`service_indisponible` on the WebSocket, 503 on
//! the API), keeps serving running sessions from memory, pushes the end of a session on time,
//! records it once the database is writable again, and loses nothing already committed.

use std::time::{Duration, Instant};

use poste_testkit::disk::{LoopDisk, Tmpfs};
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

/// The sessions a storage test runs: one ending during the fault, one running through it, one
/// code not used yet; each on its own workstation.
struct Running {
    short_id: i64,
    long_id: i64,
    spare: String,
    a: WsClient,
    b: WsClient,
    /// For the code not used yet.
    c: WsClient,
    /// Every session the database confirmed: none may be lost.
    committed: Vec<i64>,
}

async fn run_sessions(server: &TestServer, short: &str) -> Running {
    let (short_id, short_code) = server.create_session(json!({"duree": short})).await;
    let (long_id, long) = server.create_session(json!({"duree": "1h"})).await;
    let (_, spare) = server.create_session(json!({"duree": "1h"})).await;
    let mut a = server.connect_as("127.0.1.171").await;
    a.start_with_code(&short_code, "127.0.1.171").await;
    let mut b = server.connect_as("127.0.1.172").await;
    b.start_with_code(&long, "127.0.1.172").await;
    let c = server.connect_as("127.0.1.173").await;
    Running {
        short_id,
        long_id,
        spare,
        a,
        b,
        c,
        committed: vec![short_id, long_id],
    }
}

/// What a server whose database cannot be written shows, whatever the cause: writes through
/// the API refused with a clear 503, the running session served from memory, a new session
/// refused with `service_indisponible`, and the end of the short session pushed on time.
async fn while_unwritable(server: &TestServer, run: &mut Running) {
    // A batch or two may still fit in pages already allocated.
    let mut refused = None;
    for _ in 0..50 {
        match create_batch(server, 200).await {
            Ok(ids) => run.committed.extend(ids),
            Err(refusal) => {
                refused = Some(refusal);
                break;
            }
        }
    }
    let (status, body) = refused.expect("the database never refused a write");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("service_indisponible"), "{body}");
    let update = run
        .b
        .request(json!({"type": "get_time", "session_id": run.long_id}))
        .await;
    assert_eq!(update["type"], "time_update", "{update}");
    assert_eq!(update["statut"], "active");
    let valid = run
        .c
        .request(json!({"type": "validate_code", "code": run.spare, "ip_address": "127.0.1.173"}))
        .await;
    let reply = if valid["type"] == "code_valid" {
        run.c
            .request(json!({"type": "start_session", "session_id": valid["session"]["id"]}))
            .await
    } else {
        valid
    };
    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["code"], "service_indisponible", "{reply}");
    let (_, ended) = run
        .a
        .next_of("session_terminated", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(ended["raison"], "temps_expire");
}

/// Once the database is writable again: the short session's expiry is recorded at its
/// deadline, the spare code opens a session, and nothing committed was lost.
async fn after_recovery(server: &TestServer, run: &mut Running) {
    let mut c = server.connect_as("127.0.1.173").await;
    assert!(
        wait_status(server, run.short_id, "expiree", Duration::from_secs(20)).await,
        "the expiry was not recorded once the database was writable again: {:?}",
        server.store.session(run.short_id).await
    );
    let row = server.store.session(run.short_id).await.unwrap().unwrap();
    assert_eq!(row.ended_at, row.deadline());
    run.committed
        .extend(create_batch(server, 10).await.unwrap());
    let again = c
        .request(json!({"type": "validate_code", "code": run.spare, "ip_address": "127.0.1.173"}))
        .await;
    assert_eq!(again["type"], "code_valid", "{again}");
    let started = c
        .request(json!({"type": "start_session", "session_id": again["session"]["id"]}))
        .await;
    assert_eq!(started["type"], "session_started", "{started}");
    for id in &run.committed {
        assert!(
            server.store.session(*id).await.unwrap().is_some(),
            "session {id} lost"
        );
    }
    let row = server.store.session(run.long_id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "active");
    assert_eq!(row.total_secs(), 3600);
}

#[tokio::test]
async fn a_full_disk_gives_clear_errors_and_loses_nothing() {
    let Some(disk) = Tmpfs::mount_or_skip("a_full_disk_gives_clear_errors_and_loses_nothing", "6m")
    else {
        return;
    };
    let config = poste_testkit::fast_config(disk.path());
    let server = TestServer::start_config(config, None).await.unwrap();
    let mut run = run_sessions(&server, "6s").await;

    // --- The disk fills up.
    let filled = disk.fill();
    assert!(filled > 0, "the filler wrote nothing");
    while_unwritable(&server, &mut run).await;
    assert!(
        reqwest::get(server.http_url("/healthz"))
            .await
            .unwrap()
            .status()
            .is_success()
    );

    // --- Space comes back, on the same server and connections.
    disk.free();
    after_recovery(&server, &mut run).await;
    eprintln!(
        "STORAGE: {} bytes of filler, {} sessions committed before/after the faults, all kept",
        filled,
        run.committed.len()
    );
    server.stop().await;
}

/// The SQLite file's filesystem turned read-only by the kernel mid-run, as on a disk error
/// (`errors=remount-ro`): clear errors while it lasts; then the administrator's repair (server
/// stopped, `e2fsck`, mount, server started) finds an intact database that lost nothing, and
/// the session that expired meanwhile ends at its deadline.
#[tokio::test]
async fn a_filesystem_gone_read_only_gives_clear_errors_and_the_repaired_database_lost_nothing() {
    let test =
        "a_filesystem_gone_read_only_gives_clear_errors_and_the_repaired_database_lost_nothing";
    let Some(disk) = LoopDisk::mount_or_skip(test, 64) else {
        return;
    };
    let config = poste_testkit::fast_config(&disk.path());
    let server = TestServer::start_config(config.clone(), None)
        .await
        .unwrap();
    let mut run = run_sessions(&server, "6s").await;

    // --- The kernel turns the filesystem read-only.
    disk.fail().unwrap();
    while_unwritable(&server, &mut run).await;
    // `/healthz` is liveness: the process still serves the running sessions from memory and a
    // restart would not mend the disk, so it answers 200 (as with a full disk above).
    let health = reqwest::get(server.http_url("/healthz")).await.unwrap();
    assert_eq!(health.status().as_u16(), 200, "/healthz");
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["status"], "ok", "{body}");

    // --- Repair: stop, fsck, mount, start on the same files.
    server.stop().await;
    disk.repair().unwrap();
    let integrity = poste_testkit::sqlite_integrity(&config.database_url()).await;
    assert_eq!(integrity, "ok", "the database file after the fault");
    let server = TestServer::start_config(config, None).await.unwrap();
    after_recovery(&server, &mut run).await;
    eprintln!(
        "STORAGE: read-only filesystem mid-run, repaired; {} sessions committed, all kept",
        run.committed.len()
    );
    server.stop().await;
}

/// The PostgreSQL database turned read-only mid-run (maintenance, a failed-over standby):
/// clear errors while it lasts, and the same server resumes when it is writable again.
#[tokio::test]
async fn a_read_only_postgres_database_gives_clear_errors_then_service_resumes() {
    let Some(db) = poste_testkit::PgDatabase::create(
        "a_read_only_postgres_database_gives_clear_errors_then_service_resumes",
    )
    .await
    else {
        return;
    };
    let server = TestServer::start_postgres(&db).await.unwrap();
    let mut run = run_sessions(&server, "6s").await;
    db.set_read_only(true).await;
    while_unwritable(&server, &mut run).await;
    db.set_read_only(false).await;
    after_recovery(&server, &mut run).await;
    server.stop().await;
}
