//! Visitors' requests for more time: one waiting per session, answered once, accepted with
//! its time in the same transaction.

use poste_store::{
    Actor, EventKind, SessionStatus, Store, StoreError, TimeAnswer, TimeRequestStatus,
};

use crate::harness::{
    HOUR_MS, T0, create, create_active, create_poste, hour_session, staff, wrong_state,
};

fn poste_actor() -> Actor {
    Actor::Poste("Poste-01".to_owned())
}

pub async fn time_requests_wait_once_and_are_answered_once(store: Store) {
    let poste = create_poste(&store, "Poste-01").await;
    let session = create(&store, &hour_session()).await;
    store
        .start_session(session.id, Some(poste.id), &Actor::Cli, T0)
        .await
        .unwrap();

    let first = store
        .request_time(session.id, Some(30), &poste_actor(), T0 + 1000)
        .await
        .unwrap();
    assert_eq!(first.status, TimeRequestStatus::EnAttente);
    assert_eq!(first.minutes, Some(30));
    assert_eq!(first.poste_nom.as_deref(), Some("Poste-01"));
    assert_eq!(first.utilisateur.as_deref(), Some("Alice Martin"));
    // Asking again updates the same request.
    let again = store
        .request_time(session.id, None, &poste_actor(), T0 + 2000)
        .await
        .unwrap();
    assert_eq!(
        (again.id, again.minutes, again.requested_at),
        (first.id, None, T0 + 2000)
    );
    assert_eq!(
        store.pending_time_requests().await.unwrap(),
        vec![again.clone()]
    );

    let accepted = store
        .answer_time_request(
            first.id,
            TimeAnswer::Accept {
                secs: 15 * 60,
                warning_level_after: 0,
            },
            &staff(),
            T0 + 3000,
        )
        .await
        .unwrap();
    assert_eq!(accepted.status, TimeRequestStatus::Acceptee);
    assert_eq!(accepted.granted_minutes, Some(15));
    assert_eq!(accepted.answered_by.as_deref(), Some("animateur:marie"));
    assert_eq!(accepted.answered_at, Some(T0 + 3000));
    let row = store.session(session.id).await.unwrap().unwrap();
    assert_eq!(row.added_secs, 15 * 60);

    // A second answer (another staff member, a double click) changes nothing.
    for answer in [
        TimeAnswer::Refuse,
        TimeAnswer::Accept {
            secs: 600,
            warning_level_after: 0,
        },
    ] {
        let late = store
            .answer_time_request(first.id, answer, &staff(), T0 + 4000)
            .await;
        assert!(
            matches!(late, Err(StoreError::AlreadyAnswered { id, .. }) if id == first.id),
            "{late:?}"
        );
    }
    assert_eq!(
        store.session(session.id).await.unwrap().unwrap().added_secs,
        15 * 60
    );
    assert!(store.pending_time_requests().await.unwrap().is_empty());

    // A new request after an answer is a new one; refusing it adds nothing.
    let second = store
        .request_time(session.id, Some(60), &poste_actor(), T0 + 5000)
        .await
        .unwrap();
    assert_ne!(second.id, first.id);
    let refused = store
        .answer_time_request(second.id, TimeAnswer::Refuse, &staff(), T0 + 6000)
        .await
        .unwrap();
    assert_eq!(
        (refused.status, refused.granted_minutes),
        (TimeRequestStatus::Refusee, None)
    );
    assert_eq!(
        store.session(session.id).await.unwrap().unwrap().added_secs,
        15 * 60
    );
    assert_eq!(
        store
            .latest_time_request(session.id)
            .await
            .unwrap()
            .map(|r| r.id),
        Some(second.id)
    );

    let kinds: Vec<EventKind> = store
        .events_after(0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.session_id == Some(session.id))
        .map(|e| e.kind)
        .collect();
    let count = |kind| kinds.iter().filter(|k| **k == kind).count();
    assert_eq!(count(EventKind::TimeRequested), 3);
    assert_eq!(count(EventKind::TimeRequestAnswered), 2);
    assert_eq!(count(EventKind::TimeAdded), 1);
}

pub async fn time_requests_need_a_running_session(store: Store) {
    let waiting = create(&store, &hour_session()).await;
    let row = wrong_state(
        store
            .request_time(waiting.id, Some(10), &poste_actor(), T0)
            .await,
    );
    assert_eq!(row.status, SessionStatus::EnAttente);
    assert!(matches!(
        store.request_time(9_999, None, &poste_actor(), T0).await,
        Err(StoreError::NotFound { .. })
    ));

    // The session ends while the request waits: it leaves the list, and accepting it now
    // changes nothing at all (the request stays unanswered).
    let running = create_active(&store).await;
    let request = store
        .request_time(running.id, Some(10), &poste_actor(), T0 + 1000)
        .await
        .unwrap();
    store
        .end_session(
            running.id,
            "termine_par_visiteur",
            &poste_actor(),
            T0 + 2000,
        )
        .await
        .unwrap();
    assert!(store.pending_time_requests().await.unwrap().is_empty());
    let row = wrong_state(
        store
            .answer_time_request(
                request.id,
                TimeAnswer::Accept {
                    secs: 600,
                    warning_level_after: 0,
                },
                &staff(),
                T0 + 3000,
            )
            .await,
    );
    assert_eq!(row.status, SessionStatus::Terminee);
    let after = store.time_request(request.id).await.unwrap().unwrap();
    assert_eq!(after.status, TimeRequestStatus::EnAttente);
    assert!(matches!(
        store
            .answer_time_request(9_999, TimeAnswer::Refuse, &staff(), T0)
            .await,
        Err(StoreError::NotFound { .. })
    ));

    // The retention purge takes the requests with their session.
    let report = store
        .purge_before(T0 + 5 * HOUR_MS, T0 + 6 * HOUR_MS)
        .await
        .unwrap();
    assert!(report.sessions >= 1, "{report:?}");
    assert_eq!(store.time_request(request.id).await.unwrap(), None);
}
