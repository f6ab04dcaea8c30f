//! A start writes its closing-time cut and its warning level in its own transaction: a write
//! that fails between the start and its cut (injected by a trigger on the real database) leaves
//! nothing of the start behind, on both backends.

use poste_store::{Actor, EventKind, SessionStatus, StartPlan, Store};
use sqlx::{AssertSqlSafe, Connection, Executor};

use crate::harness::{ORIGIN, T0, create, hour_session, on_empty_postgres};

/// The cut fails: any update of `added_secs` is refused by the database.
const SQLITE_FAULT: &str = "CREATE TRIGGER inject_cut_failure BEFORE UPDATE OF added_secs \
    ON sessions BEGIN SELECT RAISE(ABORT, 'injected failure'); END";
const POSTGRES_FAULT: [&str; 2] = [
    "CREATE FUNCTION inject_failure() RETURNS trigger LANGUAGE plpgsql AS \
     $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$",
    "CREATE TRIGGER inject_cut_failure BEFORE UPDATE OF added_secs ON sessions \
     FOR EACH ROW EXECUTE FUNCTION inject_failure()",
];

/// A connection of its own to the store's database, as a DBA would open one.
enum Side {
    Sqlite(String),
    Postgres(String),
}

impl Side {
    async fn run(&self, statements: &[&str]) {
        match self {
            Side::Sqlite(url) => {
                let mut side = sqlx::SqliteConnection::connect(url).await.unwrap();
                for statement in statements {
                    side.execute(AssertSqlSafe(*statement)).await.unwrap();
                }
            }
            Side::Postgres(url) => {
                let mut side = sqlx::PgConnection::connect(url).await.unwrap();
                for statement in statements {
                    side.execute(AssertSqlSafe(*statement)).await.unwrap();
                }
            }
        }
    }

    async fn inject(&self) {
        match self {
            Side::Sqlite(_) => self.run(&[SQLITE_FAULT]).await,
            Side::Postgres(_) => self.run(&POSTGRES_FAULT).await,
        }
    }

    async fn heal(&self) {
        match self {
            Side::Sqlite(_) => self.run(&["DROP TRIGGER inject_cut_failure"]).await,
            Side::Postgres(_) => {
                self.run(&["DROP TRIGGER inject_cut_failure ON sessions"])
                    .await;
            }
        }
    }
}

async fn a_failed_cut_undoes_the_start(store: Store, side: Side) {
    let session = create(&store, &hour_session()).await;
    let before = store.last_event_id().await.unwrap();
    let plan = StartPlan {
        end_at_most: Some(T0 + 2_400_000),
        warning_level: 1,
        warning_before_end_secs: None,
    };
    side.inject().await;
    let failed = store
        .start_session_with(session.id, None, &Actor::Cli, T0, |_| plan)
        .await;
    assert!(failed.is_err(), "{failed:?}");
    // Nothing of the start was kept: still pending, no event.
    let row = store.session(session.id).await.unwrap().unwrap();
    assert_eq!(row.status, SessionStatus::EnAttente);
    assert_eq!(row.started_at, None);
    assert_eq!(row.warning_level, 0);
    assert!(store.events_after(before, 10).await.unwrap().is_empty());

    // Mended, the same start is taken whole: started, cut, its level recorded.
    side.heal().await;
    let started = store
        .start_session_with(session.id, None, &Actor::Cli, T0, |_| plan)
        .await
        .unwrap();
    assert_eq!(started.status, SessionStatus::Active);
    assert_eq!(started.deadline(), Some(T0 + 2_400_000));
    assert_eq!(started.warning_level, 1);
    let kinds: Vec<_> = store
        .events_after(before, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            EventKind::SessionStarted,
            EventKind::TimeAdded,
            EventKind::WarningSent
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_cut_undoes_the_start_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("postes.db").display());
    let store = Store::connect(&url, ORIGIN).await.unwrap();
    a_failed_cut_undoes_the_start(store.clone(), Side::Sqlite(url)).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_cut_undoes_the_start_on_postgres() {
    on_empty_postgres("a_failed_cut_undoes_the_start", |url| async move {
        let store = Store::connect(&url, ORIGIN).await.unwrap();
        a_failed_cut_undoes_the_start(store.clone(), Side::Postgres(url)).await;
        store.close().await;
    })
    .await;
}
