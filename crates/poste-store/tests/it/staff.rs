//! Staff accounts and their login sessions; workstation service state and staff messages.

use poste_store::{
    Actor, EventFilter, EventKind, NewPoste, NewStaff, RefusedLogin, StaffRole, Store, StoreError,
};

use crate::harness::{T0, staff};

fn new_staff(login: &str, role: StaffRole) -> NewStaff {
    NewStaff {
        login: login.to_owned(),
        nom: format!("Compte {login}"),
        role,
        password_hash: format!("$argon2id$fake${login}"),
    }
}

pub async fn staff_accounts_are_unique_case_insensitively(store: Store) {
    let marie = store
        .create_staff(&new_staff("Marie", StaffRole::Admin), &Actor::Cli, T0)
        .await
        .unwrap();
    assert_eq!(
        (marie.login.as_str(), marie.role),
        ("Marie", StaffRole::Admin)
    );
    assert_eq!((marie.last_login, marie.disabled_at), (None, None));
    let taken = store
        .create_staff(&new_staff("MARIE", StaffRole::Animateur), &Actor::Cli, T0)
        .await;
    assert!(
        matches!(taken, Err(StoreError::AlreadyExists { what: "staff", .. })),
        "{taken:?}"
    );
    store
        .create_staff(&new_staff("paul", StaffRole::Animateur), &Actor::Cli, T0)
        .await
        .unwrap();

    let found = store.staff_credentials("marie").await.unwrap().unwrap();
    assert_eq!(found.staff, marie);
    assert_eq!(found.password_hash, "$argon2id$fake$Marie");
    assert!(store.staff_credentials("inconnu").await.unwrap().is_none());
    // The hash never shows in a debug print (logs).
    assert!(!format!("{found:?}").contains("fake"));

    let logins: Vec<String> = store
        .list_staff()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.login)
        .collect();
    assert_eq!(logins, ["Marie", "paul"]);

    let events = store.events_after(0, 10).await.unwrap();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.kind == EventKind::StaffCreated));
    assert_eq!(events[0].detail.as_deref(), Some("Marie (admin)"));
}

pub async fn refused_logins_and_unblocks_are_in_the_history(store: Store) {
    store
        .create_staff(&new_staff("Marie", StaffRole::Animateur), &Actor::Cli, T0)
        .await
        .unwrap();
    let refusals = [
        RefusedLogin::WrongPassword("Marie".to_owned()),
        RefusedLogin::Disabled("Marie".to_owned()),
        RefusedLogin::UnknownLogin,
        RefusedLogin::Throttled {
            login: Some("Marie".to_owned()),
            wait_secs: 40,
        },
        RefusedLogin::Throttled {
            login: None,
            wait_secs: 5,
        },
    ];
    for (i, refused) in refusals.iter().enumerate() {
        store
            .record_refused_login(refused, "192.168.1.50", T0 + 1 + i64::try_from(i).unwrap())
            .await
            .unwrap();
    }
    let unblocked = store
        .unblock_staff("MARIE", &staff(), T0 + 10)
        .await
        .unwrap();
    assert_eq!(unblocked.login, "Marie");
    assert!(matches!(
        store.unblock_staff("personne", &staff(), T0 + 11).await,
        Err(StoreError::NotFound { what: "staff", .. })
    ));

    let events = store.events_after(1, 100).await.unwrap();
    assert_eq!(events.len(), refusals.len() + 1, "{events:?}");
    for (event, refused) in events.iter().zip(&refusals) {
        assert_eq!(event.kind, refused.kind());
        assert_eq!(event.actor, poste_store::ANONYMOUS);
        assert_eq!(event.ip.as_deref(), Some("192.168.1.50"));
        let detail = event.detail.as_deref().unwrap();
        assert_eq!(
            RefusedLogin::parse(event.kind, detail).as_ref(),
            Some(refused)
        );
    }
    let last = events.last().unwrap();
    assert_eq!(last.kind, EventKind::StaffUnblocked);
    assert_eq!(last.detail.as_deref(), Some("Marie"));
    // The history's filter by kind finds them.
    let throttled = store
        .list_events(&EventFilter {
            kinds: vec![EventKind::StaffLoginThrottled],
            ..EventFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(throttled.len(), 2);
}

pub async fn staff_sessions_open_touch_and_close(store: Store) {
    let paul = store
        .create_staff(&new_staff("paul", StaffRole::Animateur), &Actor::Cli, T0)
        .await
        .unwrap();
    let session = store
        .create_staff_session(&paul, "hash-1", "csrf-1", Some("192.0.2.7"), T0 + 1)
        .await
        .unwrap();
    assert_eq!(session.staff.last_login, Some(T0 + 1));
    let found = store.staff_session("hash-1").await.unwrap().unwrap();
    assert_eq!(found, session);
    assert_eq!(found.csrf_token, "csrf-1");
    assert!(store.staff_session("hash-2").await.unwrap().is_none());
    assert_eq!(
        store
            .staff_credentials("paul")
            .await
            .unwrap()
            .unwrap()
            .staff
            .last_login,
        Some(T0 + 1)
    );

    store
        .touch_staff_session(session.id, T0 + 50)
        .await
        .unwrap();
    assert_eq!(
        store
            .staff_session("hash-1")
            .await
            .unwrap()
            .unwrap()
            .last_seen,
        T0 + 50
    );

    // Idle purge keeps the recent ones.
    let other = store
        .create_staff_session(&paul, "hash-2", "csrf-2", None, T0 + 100)
        .await
        .unwrap();
    assert_eq!(store.purge_staff_sessions(T0 + 60).await.unwrap(), 1);
    assert!(store.staff_session("hash-1").await.unwrap().is_none());
    assert!(store.staff_session("hash-2").await.unwrap().is_some());

    store
        .delete_staff_session(&other, true, T0 + 200)
        .await
        .unwrap();
    assert!(store.staff_session("hash-2").await.unwrap().is_none());
    let kinds: Vec<(EventKind, String, Option<String>)> = store
        .events_after(0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.actor, e.detail))
        .collect();
    assert_eq!(
        kinds[1..],
        [
            (
                EventKind::StaffLogin,
                "animateur:paul".to_owned(),
                Some("192.0.2.7".to_owned())
            ),
            (EventKind::StaffLogin, "animateur:paul".to_owned(), None),
            (EventKind::StaffLogout, "animateur:paul".to_owned(), None),
        ]
    );
}

pub async fn password_change_closes_every_session(store: Store) {
    let paul = store
        .create_staff(&new_staff("paul", StaffRole::Animateur), &Actor::Cli, T0)
        .await
        .unwrap();
    store
        .create_staff_session(&paul, "hash-1", "csrf-1", None, T0 + 1)
        .await
        .unwrap();
    let changed = store
        .set_staff_password("PAUL", "$argon2id$new", &Actor::Cli, T0 + 2)
        .await
        .unwrap();
    assert_eq!(changed.id, paul.id);
    assert!(store.staff_session("hash-1").await.unwrap().is_none());
    assert_eq!(
        store
            .staff_credentials("paul")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "$argon2id$new"
    );
    assert!(matches!(
        store
            .set_staff_password("personne", "x", &Actor::Cli, T0)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    let last = store.events_after(0, 10).await.unwrap().pop().unwrap();
    assert_eq!(last.kind, EventKind::StaffPasswordChanged);
}

pub async fn postes_go_out_of_order_and_back(store: Store) {
    let poste = store
        .create_poste(
            &NewPoste {
                nom: "Poste-03".into(),
                ip: None,
                mac: None,
            },
            &Actor::Cli,
            T0,
        )
        .await
        .unwrap();
    assert!(!poste.hors_service);
    let out = store
        .set_poste_out_of_order(poste.id, true, &staff(), T0 + 1)
        .await
        .unwrap();
    assert!(out.hors_service);
    assert!(store.poste(poste.id).await.unwrap().unwrap().hors_service);
    let back = store
        .set_poste_out_of_order(poste.id, false, &staff(), T0 + 2)
        .await
        .unwrap();
    assert!(!back.hors_service);
    assert!(matches!(
        store
            .set_poste_out_of_order(poste.id + 1, true, &staff(), T0)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    store
        .record_message(poste.id, "Fermeture dans 10 minutes", &staff(), T0 + 3)
        .await
        .unwrap();
    let events: Vec<(EventKind, Option<i64>, Option<String>)> = store
        .events_after(0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.poste_id, e.detail))
        .collect();
    assert_eq!(
        events[1..],
        [
            (
                EventKind::PosteServiceChanged,
                Some(poste.id),
                Some("hors_service".into())
            ),
            (
                EventKind::PosteServiceChanged,
                Some(poste.id),
                Some("en_service".into())
            ),
            (
                EventKind::MessageSent,
                Some(poste.id),
                Some("Fermeture dans 10 minutes".into())
            ),
        ]
    );
}

#[test]
fn every_event_kind_parses_back() {
    for kind in EventKind::ALL {
        assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
    }
    assert_eq!(EventKind::parse("inconnu"), None);
}
