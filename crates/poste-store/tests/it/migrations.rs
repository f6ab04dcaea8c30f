//! Upgrading a database that an earlier release created (only `0001_init` applied), on both
//! backends: `Store::connect` applies the later migrations and keeps the rows.

use std::path::Path;

use poste_store::{Enrollment, EnrollmentProof, NamedThing, PosteSighting, Store, StoreError};
use sqlx::AnyPool;
use sqlx::migrate::Migrator;

use crate::harness::{ORIGIN, T0, staff};

/// The migrations of `flavour`, applied through `conn_url` up to `version` only (an earlier
/// release's schema), and a pool on it.
async fn schema_at(conn_url: &str, flavour: &str, version: i64) -> (Migrator, AnyPool) {
    sqlx::any::install_default_drivers();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(flavour);
    let migrator = Migrator::new(dir.as_path()).await.unwrap();
    // A pool: `&AnyPool` is `Acquire` for any lifetime, which keeps the future `Send`.
    let pool = AnyPool::connect(conn_url).await.unwrap();
    migrator.run_to(version, &pool).await.unwrap();
    (migrator, pool)
}

/// One test per backend of an upgrade `$case(conn_url, store_url, flavour)`: a SQLite file, and
/// a new PostgreSQL database.
macro_rules! upgrade_tests {
    ($sqlite:ident, $postgres:ident, $case:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $sqlite() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("ancien.db");
            $case(
                &format!("sqlite://{}?mode=rwc", path.display()),
                &format!("sqlite:{}", path.display()),
                "sqlite",
            )
            .await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $postgres() {
            crate::harness::on_empty_postgres(stringify!($postgres), |url| async move {
                $case(&url, &url, "postgres").await;
            })
            .await;
        }
    };
}

/// Creates the 0001 schema through `conn_url` with a workstation in it, then opens the store on
/// `store_url` (twice) and checks the upgrade.
async fn upgrade_from_0001(conn_url: &str, store_url: &str, flavour: &str) {
    let (migrator, pool) = schema_at(conn_url, flavour, 1).await;
    assert!(migrator.iter().any(|m| m.version == 2), "0002 exists");
    let old_schema: i64 =
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM _sqlx_migrations")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(old_schema, 1);
    sqlx::query(
        "INSERT INTO postes (nom, ip, created_at, last_seen, hors_service) \
         VALUES ('Ancien', '10.0.0.9', $1, $1, 0)",
    )
    .bind(T0)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let store = Store::connect(store_url, ORIGIN).await.unwrap();
    let old = store.poste_by_name("ancien").await.unwrap().unwrap();
    assert_eq!(old.nom, "Ancien");
    assert_eq!(old.ip.as_deref(), Some("10.0.0.9"));
    assert_eq!((old.created_at, old.last_seen), (T0, Some(T0)));
    assert_eq!(old.enrollment, Enrollment::Aucun);
    assert_eq!(old.secret_hash, None);
    assert!(store.pending_enrollments().await.unwrap().is_empty());
    // The new table and columns work.
    store
        .create_enrollment_code("c0de", Some("Ancien"), None, T0 + 60_000, &staff(), T0)
        .await
        .unwrap();
    let pending = store
        .request_enrollment(
            &EnrollmentProof::OneTimeCode("c0de".to_owned()),
            &PosteSighting {
                nom: "Ancien".to_owned(),
                ip: None,
                mac: None,
                version: None,
            },
            "demande",
            T0 + 1,
        )
        .await
        .unwrap();
    assert_eq!(pending.id, old.id);
    store
        .approve_enrollment("Ancien", &staff(), T0 + 2)
        .await
        .unwrap();
    let enrolled = store
        .complete_enrollment("Ancien", "demande", "secret", T0 + 3)
        .await
        .unwrap();
    store.close().await;

    // Opening again applies nothing and finds everything.
    let store = Store::connect(store_url, ORIGIN).await.unwrap();
    assert_eq!(store.poste(old.id).await.unwrap(), Some(enrolled.clone()));
    assert_eq!(enrolled.enrollment, Enrollment::Enrole);
    assert_eq!(enrolled.secret_hash.as_deref(), Some("secret"));
    store.close().await;

    let pool = AnyPool::connect(conn_url).await.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(applied, i64::try_from(migrator.iter().count()).unwrap());
    // The enrollment column only takes the four states.
    let bad = sqlx::query("UPDATE postes SET enrollment = 'bidon'")
        .execute(&pool)
        .await;
    assert!(bad.is_err(), "{bad:?}");
    pool.close().await;
}

upgrade_tests!(
    sqlite_database_from_0001_is_upgraded,
    postgres_database_from_0001_is_upgraded,
    upgrade_from_0001
);

/// A register filled before cards were unique (schema 0007) with the same card on three
/// visitors: the upgrade leaves it to the oldest, tells the others why in their notes, and
/// then refuses a new duplicate.
async fn upgrade_with_duplicate_cards(conn_url: &str, store_url: &str, flavour: &str) {
    let (_, pool) = schema_at(conn_url, flavour, 7).await;
    for (nom, carte, notes) in [
        ("Awa", Some("C-1"), None),
        ("Jean", Some("c-1"), Some("Atelier CV")),
        ("Léa", Some("C-1"), None),
        ("Paul", Some("C-2"), None),
        ("Marie", None, None),
    ] {
        sqlx::query(
            "INSERT INTO visiteurs (nom, carte, notes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(nom)
        .bind(carte)
        .bind(notes)
        .bind(T0)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;

    let store = Store::connect(store_url, ORIGIN).await.unwrap();
    let visitors = store.search_visitors(None, None).await.unwrap();
    let find = |nom: &str| visitors.iter().find(|v| v.nom == nom).unwrap().clone();
    let awa = find("Awa");
    assert_eq!(awa.carte.as_deref(), Some("C-1"));
    assert_eq!(awa.notes, None);
    let jean = find("Jean");
    assert_eq!(jean.carte, None);
    assert_eq!(
        jean.notes.as_deref(),
        Some(&*format!(
            "Atelier CV — Carte « c-1 » retirée à la mise à jour : c'est déjà celle du visiteur n° {}. À vérifier.",
            awa.id
        ))
    );
    let lea = find("Léa");
    assert_eq!(lea.carte, None);
    assert_eq!(
        lea.notes.as_deref(),
        Some(&*format!(
            "Carte « C-1 » retirée à la mise à jour : c'est déjà celle du visiteur n° {}. À vérifier.",
            awa.id
        ))
    );
    assert_eq!(find("Paul").carte.as_deref(), Some("C-2"));
    assert_eq!(find("Marie").carte, None);
    let again = store
        .save_visitor(
            Some(lea.id),
            &poste_store::NewVisitor {
                nom: "Léa".into(),
                carte: Some("C-2".into()),
                email: None,
                categorie_id: None,
                notes: None,
            },
            &staff(),
            T0,
        )
        .await;
    assert!(
        matches!(again, Err(poste_store::StoreError::AlreadyExists { .. })),
        "{again:?}"
    );
    store.close().await;
}

upgrade_tests!(
    sqlite_duplicate_cards_are_settled_by_the_upgrade,
    postgres_duplicate_cards_are_settled_by_the_upgrade,
    upgrade_with_duplicate_cards
);

/// A site from before spaces (schema 0011), named in the console, with a workstation and a
/// waiting code: the upgrade makes it the default space, under that name, with both in it; the
/// next space made is another one.
async fn upgrade_into_the_default_space(conn_url: &str, store_url: &str, flavour: &str) {
    let (_, pool) = schema_at(conn_url, flavour, 11).await;
    sqlx::query(
        "INSERT INTO settings (cle, valeur, updated_at, updated_by) \
         VALUES ('site_name', ' Médiathèque de Saint-Leu ', $1, 'marie')",
    )
    .bind(T0)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO postes (nom, created_at, hors_service) VALUES ('Ancien', $1, 0)")
        .bind(T0)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO sessions (code, statut, initial_secs, created_at, valid_until, created_by) \
         VALUES ('ANCIEN', 'en_attente', 3600, $1, $2, 'marie')",
    )
    .bind(T0)
    .bind(T0 + 3_600_000)
    .execute(&pool)
    .await
    .unwrap();
    for (login, role) in [("sandrine", "admin"), ("paul", "animateur")] {
        sqlx::query(
            "INSERT INTO staff (login, nom, role, password_hash, created_at) \
             VALUES ($1, $1, $2, 'x', $3)",
        )
        .bind(login)
        .bind(role)
        .bind(T0)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;

    let store = Store::connect(store_url, ORIGIN).await.unwrap();
    // Admins keep every space, those made later included; animateurs the one there was.
    let team = store.list_staff().await.unwrap();
    let scope_of = |login: &str| team.iter().find(|s| s.login == login).unwrap().clone();
    assert_eq!(
        store.staff_scope(&scope_of("sandrine")).await.unwrap(),
        poste_store::SpaceScope::Every
    );
    assert_eq!(
        store.staff_scope(&scope_of("paul")).await.unwrap(),
        poste_store::SpaceScope::Only(vec![poste_store::DEFAULT_SPACE])
    );
    let spaces = store.list_spaces().await.unwrap();
    assert_eq!(spaces.len(), 1);
    assert_eq!(
        (spaces[0].id, spaces[0].nom.as_str()),
        (poste_store::DEFAULT_SPACE, "Médiathèque de Saint-Leu")
    );
    let poste = store.poste_by_name("Ancien").await.unwrap().unwrap();
    assert_eq!(poste.espace_id, poste_store::DEFAULT_SPACE);
    let code = store.session_by_code("ANCIEN").await.unwrap().unwrap();
    assert_eq!(code.espace_id, Some(poste_store::DEFAULT_SPACE));
    let next = store
        .save_space(
            None,
            &poste_store::NewSpace {
                nom: "Annexe".to_owned(),
                adresse: None,
            },
            &staff(),
            T0,
        )
        .await
        .unwrap();
    assert!(next.id > poste_store::DEFAULT_SPACE, "{next:?}");
}

upgrade_tests!(
    sqlite_site_becomes_the_default_space,
    postgres_site_becomes_the_default_space,
    upgrade_into_the_default_space
);

/// A site from before the name keys (0016), whose names fold alike (NFC « École-01 » and NFD
/// « École-01 », two names for both backends' `LOWER`, one name by `fold`): the store refuses
/// to open, naming both rows and changing nothing, until one is renamed by hand; then it writes
/// every key and finds the names in any case.
async fn upgrade_with_names_that_fold_alike(conn_url: &str, store_url: &str, flavour: &str) {
    let (_, pool) = schema_at(conn_url, flavour, 16).await;
    for nom in ["École-01", "E\u{301}COLE-01", "Salle-B"] {
        sqlx::query("INSERT INTO postes (nom, created_at, hors_service) VALUES ($1, $2, 0)")
            .bind(nom)
            .bind(T0)
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::query(
        "INSERT INTO staff (login, nom, role, password_hash, created_at) \
         VALUES ('Élodie', 'Élodie', 'admin', 'x', $1)",
    )
    .bind(T0)
    .execute(&pool)
    .await
    .unwrap();

    for _ in 0..2 {
        let refused = Store::connect(store_url, ORIGIN).await;
        let Err(StoreError::NamesFoldAlike(clashes)) = refused else {
            panic!("expected NamesFoldAlike, got {refused:?}");
        };
        assert_eq!(clashes.len(), 1, "{clashes:?}");
        assert_eq!(
            (clashes[0].what, clashes[0].table, clashes[0].column),
            (NamedThing::Workstation, "postes", "nom")
        );
        assert_eq!(
            clashes[0].rows,
            [
                (1, "École-01".to_owned()),
                (2, "E\u{301}COLE-01".to_owned())
            ]
        );
        // Nothing was written: no key yet.
        let keyed: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM postes WHERE nom_cle IS NOT NULL",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(keyed, 0);
    }

    sqlx::query("UPDATE postes SET nom = 'École-02' WHERE id = 2")
        .execute(&pool)
        .await
        .unwrap();
    let store = Store::connect(store_url, ORIGIN).await.unwrap();
    for (asked, id) in [("ÉCOLE-01", 1), ("école-02", 2), ("salle-b", 3)] {
        let found = store.poste_by_name(asked).await.unwrap();
        assert_eq!(found.map(|p| p.id), Some(id), "{asked}");
    }
    let found = store.staff_credentials("ÉLODIE").await.unwrap();
    assert_eq!(found.map(|c| c.staff.login), Some("Élodie".to_owned()));
    // The default space made by 0012 has its key as well.
    assert!(
        store
            .space_by_name("ESPACE PRINCIPAL")
            .await
            .unwrap()
            .is_some()
    );

    // A name changed by hand while the server was stopped: its key follows at the next start.
    sqlx::query("UPDATE postes SET nom = 'Étage-03' WHERE id = 3")
        .execute(&pool)
        .await
        .unwrap();
    store.close().await;
    let store = Store::connect(store_url, ORIGIN).await.unwrap();
    let found = store.poste_by_name("ÉTAGE-03").await.unwrap();
    assert_eq!(found.map(|p| p.id), Some(3));
    assert!(store.poste_by_name("salle-b").await.unwrap().is_none());
    pool.close().await;
}

upgrade_tests!(
    sqlite_names_that_fold_alike_hold_the_upgrade,
    postgres_names_that_fold_alike_hold_the_upgrade,
    upgrade_with_names_that_fold_alike
);
