//! Names compared without case on every letter, the same on both backends (decision 0015):
//! « ÉCOLE » is « école » (SQLite's `LOWER` folds ASCII only, so it was not there), accents
//! stay (« ecole » is another name), and « é » typed decomposed is « é ».

use poste_store::{
    EnrollmentProof, NewCategory, NewPoste, NewSpace, NewStaff, NewVisitor, PosteSighting,
    SpaceScope, StaffRole, Store, StoreError,
};

use crate::harness::{T0, create_poste, staff};

/// « É » written as E + U+0301 (combining acute), as some keyboards and macOS send it.
const DECOMPOSED_E: &str = "E\u{301}";

fn taken<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(&result, Err(StoreError::AlreadyExists { what: w, .. }) if *w == what),
        "expected {what} AlreadyExists, got {result:?}"
    );
}

fn visitor(nom: &str, carte: Option<&str>, email: Option<&str>) -> NewVisitor {
    NewVisitor {
        nom: nom.to_owned(),
        carte: carte.map(str::to_owned),
        email: email.map(str::to_owned),
        categorie_id: None,
        notes: None,
    }
}

pub async fn names_are_compared_without_case_on_every_letter(store: Store) {
    // Workstations.
    let poste = create_poste(&store, "MÉDIATHÈQUE-01").await;
    let new = |nom: &str| NewPoste {
        nom: nom.to_owned(),
        ip: None,
        mac: None,
    };
    taken(
        store
            .create_poste(&new("médiathèque-01"), &staff(), T0)
            .await,
        "poste",
    );
    let found = store.poste_by_name("Médiathèque-01").await.unwrap();
    assert_eq!(found.map(|p| p.id), Some(poste.id));
    let decomposed = "Me\u{301}diathe\u{300}que-01";
    let found = store.poste_by_name(decomposed).await.unwrap();
    assert_eq!(found.map(|p| p.id), Some(poste.id));
    // Accents stay: another name.
    assert!(
        store
            .poste_by_name("mediatheque-01")
            .await
            .unwrap()
            .is_none()
    );
    let other = store
        .create_poste(&new("Mediatheque-01"), &staff(), T0)
        .await
        .unwrap();
    // A rename keeps the key: the old spelling is free, the new one taken in any case.
    store
        .update_poste(other.id, "Aube-Z", None, &staff(), T0)
        .await
        .unwrap();
    taken(
        store
            .update_poste(poste.id, "AUBE-z", None, &staff(), T0)
            .await,
        "poste",
    );
    assert!(
        store
            .poste_by_name("mediatheque-01")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.poste_by_name("aube-z").await.unwrap().map(|p| p.id),
        Some(other.id)
    );
    // Sorted by key, not by the name as typed (« M » sorts before « a » byte-wise). Where « é »
    // sorts is left out: byte-wise on SQLite, by the database's collation on PostgreSQL.
    let names: Vec<String> = store
        .list_postes()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.nom)
        .collect();
    assert_eq!(names, ["Aube-Z", "MÉDIATHÈQUE-01"]);

    // Spaces.
    let space = |nom: &str| NewSpace {
        nom: nom.to_owned(),
        adresse: None,
    };
    let ecole = store
        .save_space(None, &space("ÉCOLE"), &staff(), T0)
        .await
        .unwrap();
    taken(
        store.save_space(None, &space("école"), &staff(), T0).await,
        "espace",
    );
    let decomposed_space = format!("{DECOMPOSED_E}cole");
    taken(
        store
            .save_space(None, &space(&decomposed_space), &staff(), T0)
            .await,
        "espace",
    );
    let found = store.space_by_name("École").await.unwrap();
    assert_eq!(found.map(|s| s.id), Some(ecole.id));
    // A deleted space frees its name, in every case.
    store.delete_space(ecole.id, &staff(), T0).await.unwrap();
    store
        .save_space(None, &space("école"), &staff(), T0)
        .await
        .unwrap();

    // Categories.
    let category = |nom: &str| NewCategory {
        nom: nom.to_owned(),
        max_session_secs: None,
        max_day_secs: None,
        max_week_secs: None,
    };
    store
        .save_category(None, &category("Élèves"), &staff(), T0)
        .await
        .unwrap();
    taken(
        store
            .save_category(None, &category("ÉLÈVES"), &staff(), T0)
            .await,
        "category",
    );

    // Visitors: the card number is unique in any case; the search folds like the names.
    let elodie = store
        .save_visitor(
            None,
            &visitor(
                "Élodie Hoarau",
                Some("MÉD-0042"),
                Some("Hoarau.E@Exemple.RE"),
            ),
            &staff(),
            T0,
        )
        .await
        .unwrap();
    taken(
        store
            .save_visitor(
                None,
                &visitor("Autre", Some("méd-0042"), None),
                &staff(),
                T0,
            )
            .await,
        "visitor card",
    );
    store
        .save_visitor(None, &visitor("Éric Payet", None, None), &staff(), T0)
        .await
        .unwrap();
    for text in ["élodie", "ÉLODIE", "hoarau", "méd-00", "exemple.re"] {
        let found = store.search_visitors(Some(text), None).await.unwrap();
        let ids: Vec<i64> = found.iter().map(|v| v.id).collect();
        assert_eq!(ids, [elodie.id], "search « {text} »");
    }
    // Accents stay in a search too; LIKE's own characters match literally.
    assert!(
        store
            .search_visitors(Some("elodie"), None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .search_visitors(Some("%"), None)
            .await
            .unwrap()
            .is_empty()
    );
    let everyone: Vec<String> = store
        .search_visitors(None, None)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.nom)
        .collect();
    assert_eq!(everyone, ["Élodie Hoarau", "Éric Payet"]);

    // Staff logins.
    let login = |login: &str| NewStaff {
        login: login.to_owned(),
        nom: "Élodie".to_owned(),
        role: StaffRole::Animateur,
        password_hash: "$argon2id$fake".to_owned(),
        scope: SpaceScope::Every,
    };
    let account = store
        .create_staff(&login("élodie"), &staff(), T0)
        .await
        .unwrap();
    taken(
        store.create_staff(&login("ÉLODIE"), &staff(), T0).await,
        "staff",
    );
    let found = store.staff_credentials("Élodie").await.unwrap();
    assert_eq!(found.map(|c| c.staff.id), Some(account.id));

    // A one-time code reserved for a name matches it in any case.
    store
        .create_enrollment_code(
            "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
            Some("salle-é1"),
            None,
            T0 + 3_600_000,
            &staff(),
            T0,
        )
        .await
        .unwrap();
    let enrolled = store
        .request_enrollment(
            &EnrollmentProof::OneTimeCode(
                "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1".to_owned(),
            ),
            &PosteSighting {
                nom: "SALLE-É1".to_owned(),
                ip: None,
                mac: None,
                version: None,
            },
            "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3",
            T0 + 1,
        )
        .await
        .unwrap();
    assert_eq!(enrolled.nom, "SALLE-É1");
    let pending: Vec<String> = store
        .pending_enrollments()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.nom)
        .collect();
    assert_eq!(pending, ["SALLE-É1"]);
}
