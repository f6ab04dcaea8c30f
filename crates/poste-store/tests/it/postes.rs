//! Workstations: creation, case-insensitive names, sightings.

use poste_store::{EventKind, NewPoste, PosteSighting, Store, StoreError};

use crate::harness::{T0, create_poste, staff};

pub async fn create_poste_and_find_it(store: Store) {
    let poste = store
        .create_poste(
            &NewPoste {
                nom: "Accueil-1".to_owned(),
                ip: Some("10.0.0.11".to_owned()),
                mac: Some("aa:bb:cc:dd:ee:01".to_owned()),
            },
            &staff(),
            T0,
        )
        .await
        .unwrap();
    assert_eq!(poste.nom, "Accueil-1");
    assert_eq!(poste.ip.as_deref(), Some("10.0.0.11"));
    assert_eq!(poste.mac.as_deref(), Some("aa:bb:cc:dd:ee:01"));
    assert_eq!((poste.version, poste.last_seen), (None, None));
    assert_eq!(poste.created_at, T0);
    assert!(!poste.hors_service);

    let poste = store.poste(poste.id).await.unwrap().unwrap();
    assert_eq!(
        store.poste_by_name("accueil-1").await.unwrap(),
        Some(poste.clone())
    );
    assert_eq!(
        store.poste_by_name("ACCUEIL-1").await.unwrap(),
        Some(poste.clone())
    );
    assert_eq!(
        store.poste_by_ip("10.0.0.11").await.unwrap(),
        Some(poste.clone())
    );
    assert_eq!(store.poste_by_name("Accueil-2").await.unwrap(), None);
    assert_eq!(store.poste_by_ip("10.0.0.12").await.unwrap(), None);
    assert_eq!(store.poste(poste.id + 100).await.unwrap(), None);

    let b = create_poste(&store, "bureau").await;
    let c = create_poste(&store, "Cafe").await;
    let names: Vec<_> = store
        .list_postes()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(names, [poste.id, b.id, c.id], "by name, ignoring case");
}

pub async fn postes_are_read_by_their_ids(store: Store) {
    let cafe = create_poste(&store, "Cafe").await;
    let accueil = create_poste(&store, "accueil").await;
    let bureau = create_poste(&store, "Bureau").await;
    let ids = |ids: &[i64]| {
        ids.iter()
            .copied()
            .collect::<std::collections::BTreeSet<i64>>()
    };
    let names =
        |postes: Vec<poste_store::PosteRow>| postes.into_iter().map(|p| p.nom).collect::<Vec<_>>();
    // By name, ignoring case; an id that names none is left out.
    let read = store
        .postes_by_ids(&ids(&[cafe.id, accueil.id, cafe.id + 1000]))
        .await
        .unwrap();
    assert_eq!(names(read), ["accueil", "Cafe"]);
    assert!(store.postes_by_ids(&ids(&[])).await.unwrap().is_empty());
    // A retired workstation is not on the dashboard.
    store.retire_poste(bureau.id, &staff(), T0).await.unwrap();
    assert!(
        store
            .postes_by_ids(&ids(&[bureau.id]))
            .await
            .unwrap()
            .is_empty()
    );
    // More ids than one query binds: the same answer.
    let many: std::collections::BTreeSet<i64> = (1..=1000).chain([accueil.id]).collect();
    let read = store.postes_by_ids(&many).await.unwrap();
    assert!(names(read).contains(&"accueil".to_owned()));
}

pub async fn poste_names_are_case_insensitive_unique(store: Store) {
    create_poste(&store, "Poste-01").await;
    let result = store
        .create_poste(
            &NewPoste {
                nom: "POSTE-01".to_owned(),
                ip: None,
                mac: None,
            },
            &staff(),
            T0,
        )
        .await;
    assert!(
        matches!(&result, Err(StoreError::AlreadyExists { what: "poste", name }) if name == "POSTE-01"),
        "{result:?}"
    );
    assert_eq!(store.list_postes().await.unwrap().len(), 1);
    // The refused creation logged nothing.
    let kinds: Vec<_> = store
        .events_after(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, [EventKind::PosteCreated]);
}

pub async fn record_poste_seen_creates_then_updates(store: Store) {
    let seen = store
        .record_poste_seen(
            &PosteSighting {
                nom: "Salle-3".to_owned(),
                ip: Some("10.0.0.3".to_owned()),
                mac: Some("aa:aa:aa:aa:aa:03".to_owned()),
                version: Some("1.0.0".to_owned()),
            },
            T0,
        )
        .await
        .unwrap();
    assert_eq!(seen.nom, "Salle-3");
    assert_eq!(seen.created_at, T0);
    assert_eq!(seen.last_seen, Some(T0));
    assert_eq!(seen.version.as_deref(), Some("1.0.0"));
    let events = store.events_after(0, 100).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::PosteCreated);
    assert_eq!(events[0].actor, "poste:Salle-3");
    assert_eq!(events[0].poste_id, Some(seen.id));

    // Known (in another case): None keeps old values, last_seen moves, no event.
    let again = store
        .record_poste_seen(
            &PosteSighting {
                nom: "salle-3".to_owned(),
                ip: None,
                mac: None,
                version: Some("1.1.0".to_owned()),
            },
            T0 + 60_000,
        )
        .await
        .unwrap();
    assert_eq!(again.id, seen.id);
    assert_eq!(again.nom, "Salle-3", "the stored spelling stays");
    assert_eq!(again.ip.as_deref(), Some("10.0.0.3"));
    assert_eq!(again.mac.as_deref(), Some("aa:aa:aa:aa:aa:03"));
    assert_eq!(again.version.as_deref(), Some("1.1.0"));
    assert_eq!(again.last_seen, Some(T0 + 60_000));
    assert_eq!(again.created_at, T0);
    let again = store
        .record_poste_seen(
            &PosteSighting {
                nom: "Salle-3".to_owned(),
                ip: Some("10.0.0.33".to_owned()),
                mac: None,
                version: None,
            },
            T0 + 120_000,
        )
        .await
        .unwrap();
    assert_eq!(again.ip.as_deref(), Some("10.0.0.33"));
    assert_eq!(again.version.as_deref(), Some("1.1.0"));
    assert_eq!(store.poste(seen.id).await.unwrap(), Some(again));
    assert_eq!(store.events_after(0, 100).await.unwrap().len(), 1);
    assert_eq!(store.list_postes().await.unwrap().len(), 1);
}

pub async fn poste_by_ip_is_the_last_seen(store: Store) {
    let sighting = |nom: &str| PosteSighting {
        nom: nom.to_owned(),
        ip: Some("192.168.1.50".to_owned()),
        mac: None,
        version: None,
    };
    store.record_poste_seen(&sighting("old"), T0).await.unwrap();
    let recent = store
        .record_poste_seen(&sighting("new"), T0 + 1000)
        .await
        .unwrap();
    assert_eq!(
        store.poste_by_ip("192.168.1.50").await.unwrap(),
        Some(recent)
    );
    let old = store
        .record_poste_seen(&sighting("OLD"), T0 + 2000)
        .await
        .unwrap();
    assert_eq!(old.nom, "old");
    assert_eq!(store.poste_by_ip("192.168.1.50").await.unwrap(), Some(old));
}

pub async fn touch_postes_updates_last_seen_in_one_go(store: Store) {
    let postes = [
        create_poste(&store, "Poste-T1").await,
        create_poste(&store, "Poste-T2").await,
        create_poste(&store, "Poste-T3").await,
    ];
    let before = store.last_event_id().await.unwrap();
    // More ids than one statement takes, an unknown id among them.
    let mut ids: Vec<i64> = (1_000_000..1_001_200).collect();
    ids.push(postes[0].id);
    ids.push(postes[2].id);
    assert_eq!(store.touch_postes(&ids, T0 + 42).await.unwrap(), 2);
    let untouched = postes[1].last_seen;
    for (poste, seen) in postes.iter().zip([Some(T0 + 42), untouched, Some(T0 + 42)]) {
        let after = store.poste(poste.id).await.unwrap().unwrap();
        assert_eq!(after.last_seen, seen, "{}", poste.nom);
        assert_eq!(after.nom, poste.nom);
    }
    assert_eq!(store.last_event_id().await.unwrap(), before, "no event");
    assert_eq!(store.touch_postes(&[], T0).await.unwrap(), 0);
}
