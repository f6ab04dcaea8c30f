//! Runs a case on a fresh database of each backend and cleans up, even when the case panics.

use std::future::Future;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use poste_store::Store;
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};

pub const ORIGIN: &str = "instance-test";

/// Runs `case` on a store over a new SQLite file (in a directory that does not exist yet).
pub async fn on_sqlite<F, Fut>(case: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state").join("postes.db");
    let store = Store::connect(&format!("sqlite:{}", path.display()), ORIGIN)
        .await
        .unwrap();
    let outcome = tokio::spawn(case(store.clone())).await;
    store.close().await;
    drop(dir);
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
}

/// Runs `case` on a store over a new PostgreSQL database created for it, dropped afterwards.
pub async fn on_postgres<F, Fut>(name: &str, case: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_pg_database(name, |url| async move {
        match Store::connect(&url, ORIGIN).await {
            Ok(store) => {
                let outcome = tokio::spawn(case(store.clone())).await;
                store.close().await;
                outcome.map_err(|err| err.into_panic())
            }
            Err(err) => Err(Box::new(format!("Store::connect failed: {err}")) as _),
        }
    })
    .await;
}

/// Runs `case` with the URL of a new, empty PostgreSQL database (no store opened on it yet),
/// dropped afterwards.
pub async fn on_empty_postgres<F, Fut>(name: &str, case: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_pg_database(name, |url| async move {
        tokio::spawn(case(url))
            .await
            .map_err(|err| err.into_panic())
    })
    .await;
}

type Panic = Box<dyn std::any::Any + Send>;

/// Creates a database, runs `body` with its URL, drops the database, then resumes the panic
/// `body` caught, if any. Does nothing (after a skip line) without `POSTE_TEST_PG_URL`.
async fn with_pg_database<F, Fut>(name: &str, body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<(), Panic>>,
{
    let Some(admin_url) = pg_admin_url(name) else {
        return;
    };
    let database = unique_database_name();
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|err| panic!("cannot connect to POSTE_TEST_PG_URL: {err}"));
    admin
        .execute(AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .await
        .unwrap();

    let outcome = body(with_database(&admin_url, &database)).await;

    // Best effort: a leftover database only wastes space.
    if let Err(err) = admin
        .execute(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
        )))
        .await
    {
        eprintln!("could not drop test database {database}: {err}");
    }
    let _ = admin.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// `POSTE_TEST_PG_URL`, or None after a loud skip line; a failure when PostgreSQL is required.
fn pg_admin_url(test: &str) -> Option<String> {
    match std::env::var("POSTE_TEST_PG_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().to_owned()),
        _ => {
            let required = ["CI", "POSTE_REQUIRE_PG"]
                .iter()
                .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()));
            assert!(
                !required,
                "PostgreSQL conformance tests are required (CI or POSTE_REQUIRE_PG is set) but \
                 POSTE_TEST_PG_URL is not set; run: export POSTE_TEST_PG_URL=$(scripts/pg-test-db)"
            );
            // Straight to the terminal (the test harness would swallow `eprintln!`), in one
            // write so that parallel tests do not interleave within a line.
            let line = format!(
                "postgres::{test} SKIPPED (set POSTE_TEST_PG_URL, e.g. \
                 export POSTE_TEST_PG_URL=$(scripts/pg-test-db))\n"
            );
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
            None
        }
    }
}

fn unique_database_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "poste_test_{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The same URL with another database name.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{database}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[test]
fn with_database_replaces_only_the_path() {
    assert_eq!(
        with_database("postgres://u:p@h:5432/db", "x"),
        "postgres://u:p@h:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
}

// ----- fixtures shared by the cases ----------------------------------------------------------

use poste_store::{Actor, NewPoste, NewSession, PosteRow, SessionRow, StoreError};

/// A fixed "now" (2023-11-14): cases pass time explicitly.
pub const T0: i64 = 1_700_000_000_000;
pub const HOUR_MS: i64 = 3_600_000;

pub fn staff() -> Actor {
    Actor::staff("marie")
}

/// A code generator yielding `C00001`, `C00002`, …
pub fn codes() -> impl FnMut() -> String + Send {
    let mut n = 0;
    move || {
        n += 1;
        format!("C{n:05}")
    }
}

/// An unbound hour-long session, valid for a day.
pub fn hour_session() -> NewSession {
    NewSession {
        utilisateur: Some("Alice Martin".to_owned()),
        visiteur_id: None,
        poste_id: None,
        espace_id: None,
        duration_secs: 3600,
        valid_until: T0 + 24 * HOUR_MS,
    }
}

/// Creates one session with a code unique to this call.
pub async fn create(store: &Store, new: &NewSession) -> SessionRow {
    static N: AtomicU64 = AtomicU64::new(0);
    let mut generate = || format!("U{:06}", N.fetch_add(1, Ordering::Relaxed));
    let mut rows = store
        .create_sessions(new, 1, &mut generate, &staff(), T0)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    rows.remove(0)
}

/// Creates an hour-long session and starts it at `T0` on a new workstation.
pub async fn create_active(store: &Store) -> SessionRow {
    let session = create(store, &hour_session()).await;
    store
        .start_session(session.id, None, &Actor::Cli, T0)
        .await
        .unwrap()
}

pub async fn create_poste(store: &Store, nom: &str) -> PosteRow {
    store
        .create_poste(
            &NewPoste {
                nom: nom.to_owned(),
                ip: None,
                mac: None,
            },
            &staff(),
            T0,
        )
        .await
        .unwrap()
}

/// The row carried by a `WrongState`, or a panic naming what came instead.
pub fn wrong_state<T: std::fmt::Debug>(result: Result<T, StoreError>) -> SessionRow {
    match result {
        Err(StoreError::WrongState(row)) => *row,
        other => panic!("expected WrongState, got {other:?}"),
    }
}
