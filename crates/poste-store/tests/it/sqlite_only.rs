//! SQLite specifics: the file, its directory, WAL, the accepted URL forms, reopening.

use poste_store::{Backend, SessionFilter, Store};
use sqlx::{Connection, SqliteConnection};

use crate::harness::{ORIGIN, create, create_active, hour_session};

async fn journal_mode(path: &std::path::Path) -> String {
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    mode
}

#[tokio::test]
async fn file_is_created_in_wal_mode_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a").join("b").join("postes.db");
    let url = format!("sqlite:{}", path.display());
    let store = Store::connect(&url, ORIGIN).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    assert!(path.is_file());
    let session = create_active(&store).await;
    store.close().await;
    assert_eq!(journal_mode(&path).await, "wal");

    // Reopening runs the migrations again (a no-op) and finds the data.
    let store = Store::connect(&url, ORIGIN).await.unwrap();
    assert_eq!(store.session(session.id).await.unwrap(), Some(session));
    store.close().await;
}

#[tokio::test]
async fn url_forms_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();
    let urls = [
        format!("sqlite://{root}/triple/x.db"),
        format!("sqlite://{root}/rwc/x.db?mode=rwc"),
        format!("sqlite://{root}/rw/x.db?mode=rw"),
        format!("sqlite:{root}/with space/x%20y.db"),
    ];
    for url in &urls {
        let store = Store::connect(url, ORIGIN)
            .await
            .unwrap_or_else(|err| panic!("{url}: {err}"));
        create(&store, &hour_session()).await;
        store.close().await;
    }
    assert!(dir.path().join("triple/x.db").is_file());
    assert!(dir.path().join("rwc/x.db").is_file());
    assert!(dir.path().join("rw/x.db").is_file());
    assert!(dir.path().join("with space/x y.db").is_file());
    assert_eq!(journal_mode(&dir.path().join("rwc/x.db")).await, "wal");

    // Same file through another spelling of the URL.
    let store = Store::connect(&format!("sqlite:{root}/triple/x.db"), ORIGIN)
        .await
        .unwrap();
    assert_eq!(
        store
            .list_sessions(&SessionFilter::default())
            .await
            .unwrap()
            .len(),
        1
    );
    store.close().await;
}

#[tokio::test]
async fn unsupported_urls_are_refused() {
    for url in ["mysql://localhost/db", "postes.db", "http://x"] {
        let result = Store::connect(url, ORIGIN).await;
        assert!(
            matches!(result, Err(poste_store::StoreError::UnsupportedUrl(_))),
            "{url}: {result:?}"
        );
    }
}

/// A write lock held elsewhere past the busy timeout (5 s) is `Unavailable`, not a bug; and
/// the store works again once the lock is gone. Checks the classification through `Any`.
#[tokio::test]
async fn locked_database_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.db");
    let store = Store::connect(&format!("sqlite:{}", path.display()), ORIGIN)
        .await
        .unwrap();
    let mut other = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let result = store
        .create_sessions(
            &hour_session(),
            1,
            &mut crate::harness::codes(),
            &crate::harness::staff(),
            crate::harness::T0,
        )
        .await;
    assert!(
        matches!(result, Err(poste_store::StoreError::Unavailable(_))),
        "{result:?}"
    );
    sqlx::raw_sql("ROLLBACK").execute(&mut other).await.unwrap();
    other.close().await.unwrap();
    create(&store, &hour_session()).await;
    store.close().await;
}
