//! A short run of `poste-consoles` against a real server, so that it cannot rot: a few spaces,
//! sessions starting and ending, consoles of every space and of one space on the live feed.
//! It also shows the feed's scoping from outside: a console of one space fetches a fraction of
//! what the console of every space does, and every change reaches the tiles that show it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use poste_loadgen::consoles::{ConsolePlan, run_consoles, set_up_site_in, space_name};
use poste_store::{Actor, NewStaff, SpaceScope, StaffRole};
use poste_testkit::TestServer;

const PASSWORD: &str = "mot de passe des écrans";

async fn screen(server: &TestServer, login: &str, scope: SpaceScope) {
    let new = NewStaff {
        login: login.to_owned(),
        nom: login.to_owned(),
        role: StaffRole::Animateur,
        password_hash: poste_server::console::hash_password(PASSWORD.to_owned())
            .await
            .unwrap(),
        scope,
    };
    server
        .store
        .create_staff(&new, &Actor::Cli, 1)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consoles_follow_a_site_of_several_spaces() {
    let server = TestServer::start().await;
    set_up_site_in(&server.store, 4, 5).await.unwrap();
    screen(&server, "ecran-tous-1", SpaceScope::Every).await;
    let first = server
        .store
        .space_by_name(&space_name(1))
        .await
        .unwrap()
        .unwrap();
    screen(&server, "ecran-001", SpaceScope::only(vec![first.id])).await;
    let plan = ConsolePlan {
        server: server.http_url(""),
        token: server.token.clone(),
        spaces: 4,
        per_space: 5,
        consoles: vec![
            ("ecran-tous-1".to_owned(), PASSWORD.to_owned(), true),
            ("ecran-001".to_owned(), PASSWORD.to_owned(), false),
        ],
        rate: 8.0,
        hold: Duration::from_secs(1),
        window: Duration::from_secs(3),
        // In-process: the CPU figures would count the load too.
        server_pid: None,
        extra: Duration::ZERO,
    };
    let report = run_consoles(&plan).await.unwrap();
    let json = report.json();
    println!("{json}");
    assert!(report.errors.is_empty(), "{json}");
    assert!(report.changes_per_sec > 4.0, "{json}");
    let every = &report.every_space;
    let one = &report.one_space;
    assert!(
        every.change_to_tile_ms.count > 0 && one.change_to_tile_ms.count > 0,
        "{json}"
    );
    // One space of four: about a quarter of the changes, so fewer events and fewer bytes.
    assert!(one.events_per_sec < every.events_per_sec, "{json}");
    assert!(one.bytes_per_sec < every.bytes_per_sec, "{json}");
    assert!(report.whole_grid_bytes > 0, "{json}");
}
