//! Staff accounts and their login sessions; workstation service state and staff messages.

use poste_store::{
    Actor, EventFilter, EventKind, NewPoste, NewStaff, RefusedLogin, SpaceScope, StaffChange,
    StaffRefusal, StaffRole, Store, StoreError,
};

use crate::harness::{T0, staff};

fn new_staff(login: &str, role: StaffRole) -> NewStaff {
    NewStaff {
        login: login.to_owned(),
        nom: format!("Compte {login}"),
        role,
        password_hash: format!("$argon2id$fake${login}"),
        scope: SpaceScope::Every,
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

fn refusal<T: std::fmt::Debug>(result: Result<T, StoreError>) -> StaffRefusal {
    match result {
        Err(StoreError::StaffRefused(refusal)) => refusal,
        other => panic!("not a refusal: {other:?}"),
    }
}

/// Disable, enable, delete: each once, the sessions of a closed account closed with it, the
/// last enabled admin kept, a deleted account's login reserved and its events kept.
pub async fn staff_accounts_are_disabled_enabled_and_deleted(store: Store) {
    let sandrine = store
        .create_staff(&new_staff("sandrine", StaffRole::Admin), &Actor::Cli, T0)
        .await
        .unwrap();
    let paul = store
        .create_staff(&new_staff("paul", StaffRole::Animateur), &Actor::Cli, T0)
        .await
        .unwrap();
    store
        .create_staff_session(&paul, "hash-paul", "csrf", None, T0 + 1)
        .await
        .unwrap();
    let by = Actor::staff("sandrine");

    let disabled = store
        .change_staff(paul.id, StaffChange::Disable, &by, T0 + 2)
        .await
        .unwrap();
    assert_eq!(disabled.disabled_at, Some(T0 + 2));
    assert!(store.staff_session("hash-paul").await.unwrap().is_none());
    assert_eq!(
        refusal(
            store
                .change_staff(paul.id, StaffChange::Disable, &by, T0 + 3)
                .await
        ),
        StaffRefusal::AlreadyDisabled
    );
    let enabled = store
        .change_staff(paul.id, StaffChange::Enable, &by, T0 + 4)
        .await
        .unwrap();
    assert_eq!(enabled.disabled_at, None);
    assert_eq!(
        refusal(
            store
                .change_staff(paul.id, StaffChange::Enable, &by, T0 + 5)
                .await
        ),
        StaffRefusal::AlreadyEnabled
    );

    // The only enabled admin can be neither disabled nor deleted; a disabled admin does not
    // count.
    for change in [StaffChange::Disable, StaffChange::Delete] {
        assert_eq!(
            refusal(store.change_staff(sandrine.id, change, &by, T0 + 6).await),
            StaffRefusal::LastAdmin
        );
    }
    let other = store
        .create_staff(&new_staff("rose", StaffRole::Admin), &Actor::Cli, T0 + 7)
        .await
        .unwrap();
    store
        .change_staff(other.id, StaffChange::Disable, &by, T0 + 8)
        .await
        .unwrap();
    assert_eq!(
        refusal(
            store
                .change_staff(sandrine.id, StaffChange::Disable, &Actor::Cli, T0 + 9)
                .await
        ),
        StaffRefusal::LastAdmin
    );

    // Deleted: gone from the team, no password, login reserved, unknown to every change.
    store
        .create_staff_session(&paul, "hash-paul-2", "csrf", None, T0 + 10)
        .await
        .unwrap();
    let deleted = store
        .change_staff(paul.id, StaffChange::Delete, &by, T0 + 11)
        .await
        .unwrap();
    assert_eq!(deleted.deleted_at, Some(T0 + 11));
    assert_eq!(deleted.disabled_at, Some(T0 + 11));
    assert!(store.staff_session("hash-paul-2").await.unwrap().is_none());
    assert!(store.staff_by_id(paul.id).await.unwrap().is_none());
    assert!(
        store
            .list_staff()
            .await
            .unwrap()
            .iter()
            .all(|s| s.id != paul.id)
    );
    let credentials = store.staff_credentials("paul").await.unwrap().unwrap();
    assert_eq!(credentials.password_hash, "");
    assert!(credentials.staff.disabled_at.is_some());
    for change in [
        StaffChange::Enable,
        StaffChange::Disable,
        StaffChange::Delete,
    ] {
        assert!(matches!(
            store.change_staff(paul.id, change, &by, T0 + 12).await,
            Err(StoreError::NotFound { what: "staff", .. })
        ));
    }
    assert!(matches!(
        store.set_staff_password("paul", "x", &by, T0 + 12).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.unblock_staff("paul", &by, T0 + 12).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(
        refusal(
            store
                .create_staff(
                    &new_staff("Paul", StaffRole::Animateur),
                    &Actor::Cli,
                    T0 + 13
                )
                .await
        ),
        StaffRefusal::LoginOfDeletedAccount
    );

    // Every change is in the history, by whoever made it, naming the account.
    let events = store.events_after(0, 100).await.unwrap();
    let changes: Vec<(EventKind, &str, &str)> = events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::StaffDisabled | EventKind::StaffEnabled | EventKind::StaffDeleted
            )
        })
        .map(|e| (e.kind, e.actor.as_str(), e.detail.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        changes,
        [
            (EventKind::StaffDisabled, "animateur:sandrine", "paul"),
            (EventKind::StaffEnabled, "animateur:sandrine", "paul"),
            (EventKind::StaffDisabled, "animateur:sandrine", "rose"),
            (EventKind::StaffDeleted, "animateur:sandrine", "paul"),
        ]
    );
}

/// Two admins disabling each other at the same moment: one of them stays enabled.
pub async fn two_admins_cannot_disable_each_other(store: Store) {
    let mut survivor: Option<i64> = None;
    for round in 0..5 {
        let a = store
            .create_staff(
                &new_staff(&format!("a{round}"), StaffRole::Admin),
                &Actor::Cli,
                T0,
            )
            .await
            .unwrap();
        let b = store
            .create_staff(
                &new_staff(&format!("b{round}"), StaffRole::Admin),
                &Actor::Cli,
                T0,
            )
            .await
            .unwrap();
        // The previous round's survivor leaves: a and b are the only enabled admins.
        if let Some(id) = survivor {
            store
                .change_staff(id, StaffChange::Delete, &Actor::Cli, T0 + 1)
                .await
                .unwrap();
        }
        let (one, two) = (store.clone(), store.clone());
        let first = tokio::spawn(async move {
            one.change_staff(a.id, StaffChange::Disable, &Actor::Cli, T0 + 2)
                .await
        });
        let second = tokio::spawn(async move {
            two.change_staff(b.id, StaffChange::Disable, &Actor::Cli, T0 + 2)
                .await
        });
        let outcomes = [first.await.unwrap(), second.await.unwrap()];
        assert_eq!(
            outcomes.iter().filter(|o| o.is_ok()).count(),
            1,
            "round {round}: {outcomes:?}"
        );
        let enabled: Vec<i64> = store
            .list_staff()
            .await
            .unwrap()
            .into_iter()
            .filter(|s| s.role == StaffRole::Admin && s.disabled_at.is_none())
            .map(|s| s.id)
            .collect();
        assert_eq!(enabled.len(), 1, "round {round}");
        survivor = enabled.first().copied();
    }
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
