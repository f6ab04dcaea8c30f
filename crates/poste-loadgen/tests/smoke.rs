//! A short run of the load generator against a real server, so that it cannot rot: hundreds of
//! workstations for a few seconds, every session warned and ended on time, nothing lost.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use poste_loadgen::{Plan, run};
use poste_testkit::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_workstations_for_a_few_seconds() {
    let server = TestServer::start().await;
    let plan = Plan {
        server: server.http_url(""),
        token: server.token.clone(),
        workstations: 300,
        ramp_per_sec: 600.0,
        // Longer than the test thresholds (3 s, 1 s): both warnings, then the expiry.
        session_secs: 4,
        get_time_every: Duration::from_millis(500),
        max_run: Duration::from_secs(30),
        source_addresses: 4,
    };
    let report = run(&plan).await.unwrap();
    println!("{}", report.table());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.connected, 300);
    assert_eq!(report.sessions_started, 300);
    assert_eq!(report.sessions_ended, 300, "every session ends, once");
    assert_eq!(report.warnings, 600, "two warnings per session");
    assert_eq!(report.disconnects, 0);
    assert_eq!(report.validate.count, 300);
    assert!(report.get_time.count > 300, "{:?}", report.get_time);
    // Loose bounds: this checks that pushes come on time, not the machine's speed.
    assert!(
        report.expiry_lateness.p99 < 1000.0,
        "{:?}",
        report.expiry_lateness
    );
    let json = report.json();
    assert_eq!(json["sessions_ended"], 300);
}

#[tokio::test]
async fn a_server_that_is_not_there_is_a_clear_error() {
    let plan = Plan {
        server: format!("http://127.0.0.1:{}", poste_testkit::free_port()),
        token: "pp_x".into(),
        workstations: 10,
        ramp_per_sec: 100.0,
        session_secs: 2,
        get_time_every: Duration::from_millis(500),
        max_run: Duration::from_secs(5),
        source_addresses: 1,
    };
    let err = run(&plan).await.unwrap_err();
    assert!(
        format!("{err:#}").contains("cannot reach the server's API"),
        "{err:#}"
    );
}

#[tokio::test]
async fn a_wrong_token_is_refused_clearly() {
    let server = TestServer::start().await;
    let plan = Plan {
        server: server.http_url(""),
        token: "pp_faux".into(),
        workstations: 1,
        ramp_per_sec: 10.0,
        session_secs: 2,
        get_time_every: Duration::from_millis(500),
        max_run: Duration::from_secs(5),
        source_addresses: 1,
    };
    let err = run(&plan).await.unwrap_err();
    assert!(format!("{err:#}").contains("401"), "{err:#}");
}
