//! Races between tasks (standing for two instances) and a dead database.

use poste_store::{
    Actor, Enrollment, EnrollmentProof, EnrollmentRefusal, EventKind, PosteSighting, SessionStatus,
    Store, StoreError, Warning,
};

use crate::harness::{T0, create_active, staff};

pub async fn racing_expire_and_end_one_wins(store: Store) {
    for round in 0..10 {
        let session = create_active(&store).await;
        let due = session.deadline().unwrap();
        let (a, b) = (store.clone(), store.clone());
        let expire = tokio::spawn(async move { a.expire_session(session.id, due).await });
        let end = tokio::spawn(async move {
            b.end_session(session.id, "termine_par_animateur", &staff(), due)
                .await
        });
        let expired = expire.await.unwrap().unwrap();
        let ended = end.await.unwrap();
        let final_row = store.session(session.id).await.unwrap().unwrap();
        match (expired, ended) {
            (Some(row), Err(StoreError::WrongState(current))) => {
                assert_eq!(row.status, SessionStatus::Expiree);
                assert_eq!(*current, row);
                assert_eq!(final_row, row);
            }
            (None, Ok(row)) => {
                assert_eq!(row.status, SessionStatus::Terminee);
                assert_eq!(final_row, row);
            }
            other => panic!("round {round}: not exactly one winner: {other:?}"),
        }
        let ends = store
            .events_after(0, 10_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| {
                e.session_id == Some(session.id) && e.kind == poste_store::EventKind::SessionEnded
            })
            .count();
        assert_eq!(ends, 1, "round {round}");
    }
}

pub async fn racing_same_transition_one_wins(store: Store) {
    let session = create_active(&store).await;
    let due = session.deadline().unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.expire_session(session.id, due).await })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        if task.await.unwrap().unwrap().is_some() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);

    let session = create_active(&store).await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .raise_warning_level(session.id, Warning::level(1), T0)
                    .await
            })
        })
        .collect();
    let mut raised = 0;
    for task in tasks {
        if task.await.unwrap().unwrap() {
            raised += 1;
        }
    }
    assert_eq!(raised, 1);
}

pub async fn racing_record_poste_seen_creates_one(store: Store) {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .record_poste_seen(
                        &PosteSighting {
                            nom: if i % 2 == 0 { "Borne" } else { "BORNE" }.to_owned(),
                            ip: Some(format!("10.1.1.{i}")),
                            mac: None,
                            version: None,
                        },
                        T0 + i,
                    )
                    .await
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap().unwrap().id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    assert_eq!(store.list_postes().await.unwrap().len(), 1);
    assert_eq!(store.events_after(0, 100).await.unwrap().len(), 1);
}

pub async fn racing_enrollment_requests_create_one(store: Store) {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .request_enrollment(
                        &EnrollmentProof::SiteToken,
                        &PosteSighting {
                            nom: if i % 2 == 0 { "Borne" } else { "BORNE" }.to_owned(),
                            ip: Some(format!("10.1.1.{i}")),
                            mac: None,
                            version: None,
                        },
                        &format!("{i:064}"),
                        T0 + i,
                    )
                    .await
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        let row = task.await.unwrap().unwrap();
        assert_eq!(row.enrollment, Enrollment::EnAttente);
        ids.push(row.id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    assert_eq!(store.pending_enrollments().await.unwrap().len(), 1);
    let events = store.events_after(0, 100).await.unwrap();
    assert_eq!(events.len(), 8);
    assert!(
        events
            .iter()
            .all(|e| e.kind == EventKind::EnrollmentRequested && e.poste_id == Some(ids[0]))
    );
}

pub async fn racing_requests_with_one_code_one_wins(store: Store) {
    const CODE: &str = "9999999999999999999999999999999999999999999999999999999999999999";
    store
        .create_enrollment_code(CODE, None, None, T0 + 60_000, &staff(), T0)
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .request_enrollment(
                        &EnrollmentProof::OneTimeCode(CODE.to_owned()),
                        &PosteSighting {
                            nom: format!("Poste-{i}"),
                            ip: None,
                            mac: None,
                            version: None,
                        },
                        &format!("{i:064}"),
                        T0 + 1,
                    )
                    .await
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => winners += 1,
            Err(StoreError::EnrollmentRefused(EnrollmentRefusal::UnknownCode)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(store.list_postes().await.unwrap().len(), 1);
    assert_eq!(store.pending_enrollments().await.unwrap().len(), 1);
}

pub async fn closed_store_is_unavailable(store: Store) {
    let session = create_active(&store).await;
    store.ping().await.unwrap();
    store.close().await;
    let result = store.ping().await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    let result = store.session(session.id).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    let result = store.end_session(session.id, "x", &Actor::System, T0).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    let result = store.expire_session(session.id, T0 * 2).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}
