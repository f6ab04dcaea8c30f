//! Sessions: creation with unique codes, every transition and its refusals, listing.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use poste_store::{Actor, NewSession, SessionFilter, SessionStatus, Store, StoreError, Warning};

use crate::harness::{
    HOUR_MS, T0, codes, create, create_active, create_poste, hour_session, staff, wrong_state,
};

pub async fn create_batch_has_unique_codes(store: Store) {
    let poste = create_poste(&store, "Poste-01").await;
    let new = NewSession {
        poste_id: Some(poste.id),
        ..hour_session()
    };
    let rows = store
        .create_sessions(&new, 20, &mut codes(), &staff(), T0)
        .await
        .unwrap();
    assert_eq!(rows.len(), 20);
    let unique: HashSet<_> = rows.iter().map(|row| row.code.clone()).collect();
    assert_eq!(unique.len(), 20);
    for row in &rows {
        assert_eq!(row.status, SessionStatus::EnAttente);
        assert_eq!(row.utilisateur.as_deref(), Some("Alice Martin"));
        assert_eq!(row.poste_id, Some(poste.id));
        assert_eq!(row.poste_nom.as_deref(), Some("Poste-01"));
        assert_eq!((row.initial_secs, row.added_secs), (3600, 0));
        assert_eq!(row.created_at, T0);
        assert_eq!(row.valid_until, T0 + 24 * HOUR_MS);
        assert_eq!(
            (row.started_at, row.ended_at, row.end_reason.as_ref()),
            (None, None, None)
        );
        assert_eq!(row.warning_level, 0);
        assert_eq!(row.created_by, "animateur:marie");
        assert_eq!(store.session(row.id).await.unwrap().as_ref(), Some(row));
        assert_eq!(
            store.session_by_code(&row.code).await.unwrap().as_ref(),
            Some(row)
        );
    }
    assert_eq!(store.session_by_code("NOPE").await.unwrap(), None);
    assert_eq!(store.session(9_999).await.unwrap(), None);
}

pub async fn create_retries_on_taken_code(store: Store) {
    let mut first = || "TAKEN1".to_owned();
    store
        .create_sessions(&hour_session(), 1, &mut first, &staff(), T0)
        .await
        .unwrap();

    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    let mut answers = vec!["FRESH2", "TAKEN1"];
    let mut generate = move || {
        let code = answers.pop().unwrap_or("NEVER").to_owned();
        seen.lock().unwrap().push(code.clone());
        code
    };
    let rows = store
        .create_sessions(&hour_session(), 1, &mut generate, &staff(), T0)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].code, "FRESH2");
    assert_eq!(*calls.lock().unwrap(), ["TAKEN1", "FRESH2"]);
    // The old session is untouched.
    let old = store.session_by_code("TAKEN1").await.unwrap().unwrap();
    assert_ne!(old.id, rows[0].id);
}

pub async fn create_gives_up_after_20_collisions(store: Store) {
    let mut calls = 0;
    let mut same = || {
        calls += 1;
        "SAME01".to_owned()
    };
    let result = store
        .create_sessions(&hour_session(), 3, &mut same, &staff(), T0)
        .await;
    assert!(
        matches!(result, Err(StoreError::CodeSpaceExhausted)),
        "{result:?}"
    );
    // One success, then 20 collisions in a row for the second session.
    assert_eq!(calls, 21);
    // One transaction: nothing was kept, no event either.
    assert_eq!(store.session_by_code("SAME01").await.unwrap(), None);
    assert_eq!(store.last_event_id().await.unwrap(), 0);
}

pub async fn create_zero_sessions(store: Store) {
    let rows = store
        .create_sessions(&hour_session(), 0, &mut codes(), &staff(), T0)
        .await
        .unwrap();
    assert!(rows.is_empty());
}

pub async fn start_binds_unbound_session(store: Store) {
    let poste = create_poste(&store, "Poste-02").await;
    let session = create(&store, &hour_session()).await;
    assert_eq!(session.poste_id, None);
    let started = store
        .start_session(
            session.id,
            Some(poste.id),
            &Actor::Poste("Poste-02".into()),
            T0 + 1000,
        )
        .await
        .unwrap();
    assert_eq!(started.status, SessionStatus::Active);
    assert_eq!(started.started_at, Some(T0 + 1000));
    assert_eq!(started.poste_id, Some(poste.id));
    assert_eq!(started.poste_nom.as_deref(), Some("Poste-02"));
    assert_eq!(started.deadline(), Some(T0 + 1000 + HOUR_MS));
    assert_eq!(store.session(session.id).await.unwrap(), Some(started));
}

pub async fn start_on_bound_poste(store: Store) {
    let poste = create_poste(&store, "Poste-03").await;
    let new = NewSession {
        poste_id: Some(poste.id),
        ..hour_session()
    };
    let session = create(&store, &new).await;
    let started = store
        .start_session(session.id, Some(poste.id), &Actor::Cli, T0)
        .await
        .unwrap();
    assert_eq!(started.status, SessionStatus::Active);
    assert_eq!(started.poste_id, Some(poste.id));
}

pub async fn start_on_wrong_poste_is_refused(store: Store) {
    let bound = create_poste(&store, "Poste-04").await;
    let other = create_poste(&store, "Poste-05").await;
    let session = create(
        &store,
        &NewSession {
            poste_id: Some(bound.id),
            ..hour_session()
        },
    )
    .await;
    let current = wrong_state(
        store
            .start_session(session.id, Some(other.id), &Actor::Cli, T0)
            .await,
    );
    assert_eq!(current, session);
    // No poste at all is not the bound poste either.
    let current = wrong_state(store.start_session(session.id, None, &Actor::Cli, T0).await);
    assert_eq!(current.status, SessionStatus::EnAttente);
    assert_eq!(store.session(session.id).await.unwrap(), Some(session));
}

pub async fn start_after_valid_until_is_refused(store: Store) {
    let session = create(&store, &hour_session()).await;
    // `valid_until` itself is already too late.
    let current = wrong_state(
        store
            .start_session(session.id, None, &Actor::Cli, session.valid_until)
            .await,
    );
    assert_eq!(current.status, SessionStatus::EnAttente);
    assert_eq!(current.started_at, None);
    store
        .start_session(session.id, None, &Actor::Cli, session.valid_until - 1)
        .await
        .unwrap();
}

pub async fn start_twice_is_refused(store: Store) {
    let active = create_active(&store).await;
    let current = wrong_state(
        store
            .start_session(active.id, None, &Actor::Cli, T0 + 10)
            .await,
    );
    assert_eq!(current, active);
}

pub async fn start_unknown_is_not_found(store: Store) {
    let result = store.start_session(4242, None, &Actor::Cli, T0).await;
    assert!(
        matches!(&result, Err(StoreError::NotFound { what: "session", id }) if id == "4242"),
        "{result:?}"
    );
}

pub async fn add_time_while_waiting_and_active(store: Store) {
    let waiting = create(&store, &hour_session()).await;
    let row = store
        .add_time(waiting.id, 600, 0, &staff(), T0)
        .await
        .unwrap();
    assert_eq!(row.status, SessionStatus::EnAttente);
    assert_eq!((row.added_secs, row.total_secs()), (600, 4200));

    let active = create_active(&store).await;
    assert!(
        store
            .raise_warning_level(active.id, Warning::level(2), T0)
            .await
            .unwrap()
    );
    let row = store
        .add_time(active.id, 900, 1, &staff(), T0 + 10)
        .await
        .unwrap();
    assert_eq!(row.status, SessionStatus::Active);
    assert_eq!(row.added_secs, 900);
    assert_eq!(row.warning_level, 1, "reset to the caller's level");
    assert_eq!(row.deadline(), Some(T0 + HOUR_MS + 900_000));
    let row = store
        .add_time(active.id, 100, 0, &staff(), T0 + 20)
        .await
        .unwrap();
    assert_eq!((row.added_secs, row.warning_level), (1000, 0));

    // A non-positive amount is a caller bug, refused without touching the row.
    assert!(matches!(
        store.add_time(active.id, 0, 0, &staff(), T0).await,
        Err(StoreError::Database(_))
    ));
    assert!(matches!(
        store.add_time(7777, 60, 0, &staff(), T0).await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn add_time_on_ended_is_refused(store: Store) {
    let active = create_active(&store).await;
    store
        .end_session(active.id, "termine_par_animateur", &staff(), T0 + 5)
        .await
        .unwrap();
    let current = wrong_state(store.add_time(active.id, 60, 0, &staff(), T0 + 6).await);
    assert_eq!(current.status, SessionStatus::Terminee);
    assert_eq!(current.added_secs, 0);

    let cancelled = create(&store, &hour_session()).await;
    store
        .cancel_session(cancelled.id, &staff(), T0)
        .await
        .unwrap();
    let current = wrong_state(store.add_time(cancelled.id, 60, 0, &staff(), T0).await);
    assert_eq!(current.status, SessionStatus::Annulee);
}

pub async fn end_session_ends_active_only(store: Store) {
    let active = create_active(&store).await;
    let ended = store
        .end_session(
            active.id,
            "termine_par_visiteur",
            &Actor::Poste("P".into()),
            T0 + 60_000,
        )
        .await
        .unwrap();
    assert_eq!(ended.status, SessionStatus::Terminee);
    assert_eq!(ended.ended_at, Some(T0 + 60_000));
    assert_eq!(ended.end_reason.as_deref(), Some("termine_par_visiteur"));
    assert_eq!(ended.started_at, active.started_at);

    let again = wrong_state(
        store
            .end_session(active.id, "x", &staff(), T0 + 70_000)
            .await,
    );
    assert_eq!(again, ended);
    let waiting = create(&store, &hour_session()).await;
    let current = wrong_state(store.end_session(waiting.id, "x", &staff(), T0).await);
    assert_eq!(current.status, SessionStatus::EnAttente);
    assert!(matches!(
        store.end_session(5555, "x", &staff(), T0).await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn expire_session_at_deadline_once(store: Store) {
    let active = create_active(&store).await;
    let deadline = active.deadline().unwrap();
    assert_eq!(
        store.expire_session(active.id, deadline - 1).await.unwrap(),
        None
    );
    assert_eq!(
        store.session(active.id).await.unwrap().unwrap().status,
        SessionStatus::Active
    );

    // Noticed late (say, after a restart): it still ended at its deadline.
    let expired = store
        .expire_session(active.id, deadline + 5 * 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(expired.status, SessionStatus::Expiree);
    assert_eq!(expired.ended_at, Some(deadline));
    assert_eq!(expired.end_reason.as_deref(), Some("temps_expire"));
    assert_eq!(
        store
            .expire_session(active.id, deadline + 10 * 60_000)
            .await
            .unwrap(),
        None
    );

    // Time added moves the deadline: not due any more.
    let other = create_active(&store).await;
    store
        .add_time(other.id, 600, 0, &staff(), T0)
        .await
        .unwrap();
    assert_eq!(
        store.expire_session(other.id, deadline).await.unwrap(),
        None
    );
    let expired = store
        .expire_session(other.id, deadline + 600_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(expired.ended_at, Some(deadline + 600_000));

    // Not started, or unknown: nothing to do.
    let waiting = create(&store, &hour_session()).await;
    assert_eq!(
        store
            .expire_session(waiting.id, T0 + 100 * HOUR_MS)
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.expire_session(31337, T0).await.unwrap(), None);
}

pub async fn expire_after_end_does_nothing(store: Store) {
    let active = create_active(&store).await;
    let ended = store
        .end_session(active.id, "termine_par_animateur", &staff(), T0 + 1)
        .await
        .unwrap();
    assert_eq!(
        store
            .expire_session(active.id, T0 + 2 * HOUR_MS)
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.session(active.id).await.unwrap(), Some(ended));
}

pub async fn cancel_session_waiting_only(store: Store) {
    let waiting = create(&store, &hour_session()).await;
    let cancelled = store
        .cancel_session(waiting.id, &staff(), T0 + 5)
        .await
        .unwrap();
    assert_eq!(cancelled.status, SessionStatus::Annulee);
    assert!(cancelled.status.is_final());
    assert_eq!(cancelled.ended_at, Some(T0 + 5));
    let again = wrong_state(store.cancel_session(waiting.id, &staff(), T0 + 6).await);
    assert_eq!(again, cancelled);
    // A cancelled code cannot start.
    wrong_state(
        store
            .start_session(waiting.id, None, &Actor::Cli, T0 + 7)
            .await,
    );

    let active = create_active(&store).await;
    let current = wrong_state(store.cancel_session(active.id, &staff(), T0).await);
    assert_eq!(current.status, SessionStatus::Active);
    assert!(matches!(
        store.cancel_session(8888, &staff(), T0).await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn raise_warning_level_once_per_level(store: Store) {
    let active = create_active(&store).await;
    // Raised once per level, never back down.
    for (level, raised) in [(1, true), (1, false), (2, true), (1, false), (2, false)] {
        let got = store
            .raise_warning_level(active.id, Warning::level(level), T0)
            .await
            .unwrap();
        assert_eq!(got, raised, "level {level}");
    }
    assert_eq!(
        store
            .session(active.id)
            .await
            .unwrap()
            .unwrap()
            .warning_level,
        2
    );

    let waiting = create(&store, &hour_session()).await;
    assert!(
        !store
            .raise_warning_level(waiting.id, Warning::level(1), T0)
            .await
            .unwrap()
    );
    assert!(
        !store
            .raise_warning_level(9090, Warning::level(1), T0)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .session(waiting.id)
            .await
            .unwrap()
            .unwrap()
            .warning_level,
        0
    );
}

pub async fn active_sessions_lists_running_ones(store: Store) {
    assert!(store.active_sessions().await.unwrap().is_empty());
    let a = create_active(&store).await;
    let b = create_active(&store).await;
    let _waiting = create(&store, &hour_session()).await;
    let ended = create_active(&store).await;
    store
        .end_session(ended.id, "termine_par_animateur", &staff(), T0)
        .await
        .unwrap();
    assert_eq!(store.active_sessions().await.unwrap(), vec![a, b]);
}

pub async fn list_sessions_filters(store: Store) {
    let p1 = create_poste(&store, "Poste-A").await;
    let p2 = create_poste(&store, "Poste-B").await;
    let mut generate = codes();
    let mut make = async |name: &str, poste: i64, created_at: i64| {
        let new = NewSession {
            utilisateur: Some(name.to_owned()),
            poste_id: Some(poste),
            ..hour_session()
        };
        store
            .create_sessions(&new, 1, &mut generate, &staff(), created_at)
            .await
            .unwrap()
            .remove(0)
    };
    let s1 = make("Jean Dupont", p1.id, T0).await;
    let s2 = make("Jeanne Durand", p2.id, T0 + 1000).await;
    let s3 = make("Paul Martin", p1.id, T0 + 2000).await;
    let s4 = make("JEAN-PIERRE", p2.id, T0 + 2000).await;
    store
        .start_session(s3.id, Some(p1.id), &Actor::Cli, T0 + 3000)
        .await
        .unwrap();

    let ids = |rows: Vec<poste_store::SessionRow>| rows.iter().map(|r| r.id).collect::<Vec<_>>();
    let list = async |filter: SessionFilter| ids(store.list_sessions(&filter).await.unwrap());

    // Newest first; equal times by id, newest first.
    assert_eq!(
        list(SessionFilter::default()).await,
        [s4.id, s3.id, s2.id, s1.id]
    );
    assert_eq!(
        list(SessionFilter {
            status: Some(SessionStatus::Active),
            ..Default::default()
        })
        .await,
        [s3.id]
    );
    assert_eq!(
        list(SessionFilter {
            status: Some(SessionStatus::EnAttente),
            ..Default::default()
        })
        .await,
        [s4.id, s2.id, s1.id]
    );
    assert_eq!(
        list(SessionFilter {
            poste_id: Some(p1.id),
            ..Default::default()
        })
        .await,
        [s3.id, s1.id]
    );
    assert_eq!(
        list(SessionFilter {
            created_from: Some(T0 + 1000),
            created_to: Some(T0 + 2000),
            ..Default::default()
        })
        .await,
        [s2.id],
        "from inclusive, to exclusive"
    );
    assert_eq!(
        list(SessionFilter {
            utilisateur: Some("jean".to_owned()),
            ..Default::default()
        })
        .await,
        [s4.id, s2.id, s1.id],
        "substring, case-insensitive"
    );
    assert_eq!(
        list(SessionFilter {
            utilisateur: Some("DUR".to_owned()),
            poste_id: Some(p2.id),
            status: Some(SessionStatus::EnAttente),
            created_from: Some(T0),
            created_to: Some(T0 + 5000),
            ..Default::default()
        })
        .await,
        [s2.id]
    );
    assert_eq!(
        list(SessionFilter {
            limit: Some(2),
            ..Default::default()
        })
        .await,
        [s4.id, s3.id]
    );
    assert_eq!(
        list(SessionFilter {
            limit: Some(2),
            offset: Some(2),
            ..Default::default()
        })
        .await,
        [s2.id, s1.id]
    );
    assert_eq!(
        list(SessionFilter {
            offset: Some(10),
            ..Default::default()
        })
        .await,
        Vec::<i64>::new()
    );
    assert_eq!(
        list(SessionFilter {
            limit: Some(0),
            ..Default::default()
        })
        .await,
        Vec::<i64>::new()
    );
    // Rows are complete, poste name included.
    let rows = store
        .list_sessions(&SessionFilter {
            status: Some(SessionStatus::Active),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rows[0].poste_nom.as_deref(), Some("Poste-A"));
    assert_eq!(Some(&rows[0]), store.session(s3.id).await.unwrap().as_ref());
}

pub async fn list_sessions_name_filter_is_literal(store: Store) {
    let mut generate = codes();
    for name in ["100%_sur", "Zoé", "a_b", "axb", "back\\slash"] {
        let new = NewSession {
            utilisateur: Some(name.to_owned()),
            ..hour_session()
        };
        store
            .create_sessions(&new, 1, &mut generate, &staff(), T0)
            .await
            .unwrap();
    }
    let names = async |pattern: &str| {
        let mut names: Vec<String> = store
            .list_sessions(&SessionFilter {
                utilisateur: Some(pattern.to_owned()),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_iter()
            .filter_map(|row| row.utilisateur)
            .collect();
        names.sort();
        names
    };
    assert!(names("'; DROP TABLE sessions; --").await.is_empty());
    assert_eq!(names("%").await, ["100%_sur"]);
    assert_eq!(names("%_").await, ["100%_sur"]);
    assert_eq!(names("_").await, ["100%_sur", "a_b"]);
    assert_eq!(names("a_b").await, ["a_b"]);
    assert_eq!(names("\\").await, ["back\\slash"]);
    assert_eq!(names("ZO").await, ["Zoé"]);
    assert_eq!(names("").await.len(), 5);
    // The table is still there.
    assert_eq!(
        store
            .list_sessions(&SessionFilter::default())
            .await
            .unwrap()
            .len(),
        5
    );
}
