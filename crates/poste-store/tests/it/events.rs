//! The event log: one row per change, with its actor and origin; paging for followers.

use poste_store::{Actor, EventKind, EventRow, NewPoste, PosteSighting, Store, Warning};

use crate::harness::{ORIGIN, T0, codes, hour_session, staff};

pub async fn every_mutation_is_logged(store: Store) {
    assert_eq!(store.last_event_id().await.unwrap(), 0);
    assert!(store.events_after(0, 10).await.unwrap().is_empty());
    assert_eq!(store.origin(), ORIGIN);

    let poste = store
        .create_poste(
            &NewPoste {
                nom: "P1".into(),
                ip: None,
                mac: None,
            },
            &Actor::Cli,
            T0,
        )
        .await
        .unwrap();
    let sessions = store
        .create_sessions(&hour_session(), 2, &mut codes(), &staff(), T0 + 1)
        .await
        .unwrap();
    let (a, b) = (sessions[0].id, sessions[1].id);
    let poste_actor = Actor::Poste("P1".into());
    store
        .start_session(a, Some(poste.id), &poste_actor, T0 + 2)
        .await
        .unwrap();
    store
        .add_time(a, 300, 0, &Actor::ApiToken("tableau".into()), T0 + 3)
        .await
        .unwrap();
    let warning = Warning {
        level: 1,
        before_end_secs: Some(300),
    };
    store.raise_warning_level(a, warning, T0 + 4).await.unwrap();
    store
        .end_session(a, "termine_par_visiteur", &poste_actor, T0 + 5)
        .await
        .unwrap();
    store.cancel_session(b, &staff(), T0 + 6).await.unwrap();
    let c = crate::harness::create_active(&store).await;
    store
        .expire_session(c.id, c.deadline().unwrap())
        .await
        .unwrap()
        .unwrap();
    store
        .record_poste_seen(
            &PosteSighting {
                nom: "P2".into(),
                ip: None,
                mac: None,
                version: None,
            },
            T0 + 7,
        )
        .await
        .unwrap();
    // Refused transitions and mere sightings write nothing.
    let before_noise = store.last_event_id().await.unwrap();
    let _ = store.cancel_session(a, &staff(), T0 + 8).await.unwrap_err();
    assert!(
        !store
            .raise_warning_level(a, Warning::level(2), T0 + 8)
            .await
            .unwrap()
    );
    store
        .record_poste_seen(
            &PosteSighting {
                nom: "p1".into(),
                ip: None,
                mac: None,
                version: None,
            },
            T0 + 8,
        )
        .await
        .unwrap();
    assert_eq!(store.last_event_id().await.unwrap(), before_noise);
    store
        .create_token("tableau", "00ff", &staff(), T0 + 9)
        .await
        .unwrap();
    store
        .revoke_token("tableau", &Actor::Cli, T0 + 10)
        .await
        .unwrap();

    let events = store.events_after(0, 1000).await.unwrap();
    let summary: Vec<_> = events
        .iter()
        .map(|e| (e.kind, e.session_id, e.actor.as_str(), e.detail.as_deref()))
        .collect();
    let p2 = store.poste_by_name("P2").await.unwrap().unwrap();
    assert_eq!(
        summary,
        [
            (EventKind::PosteCreated, None, "cli", Some("P1")),
            (EventKind::SessionCreated, Some(a), "animateur:marie", None),
            (EventKind::SessionCreated, Some(b), "animateur:marie", None),
            (EventKind::SessionStarted, Some(a), "poste:P1", None),
            (EventKind::TimeAdded, Some(a), "api:tableau", Some("+300")),
            (EventKind::WarningSent, Some(a), "systeme", Some("1:300")),
            (
                EventKind::SessionEnded,
                Some(a),
                "poste:P1",
                Some("termine_par_visiteur")
            ),
            (EventKind::CodeCancelled, Some(b), "animateur:marie", None),
            (
                EventKind::SessionCreated,
                Some(c.id),
                "animateur:marie",
                None
            ),
            (EventKind::SessionStarted, Some(c.id), "cli", None),
            (
                EventKind::SessionEnded,
                Some(c.id),
                "systeme",
                Some("temps_expire")
            ),
            (EventKind::PosteCreated, None, "poste:P2", Some("P2")),
            (
                EventKind::TokenCreated,
                None,
                "animateur:marie",
                Some("tableau")
            ),
            (EventKind::TokenRevoked, None, "cli", Some("tableau")),
        ]
    );
    assert!(events.iter().all(|e| e.origin == ORIGIN));
    let at: Vec<_> = events.iter().map(|e| e.at).collect();
    assert_eq!(
        at[..8],
        [T0, T0 + 1, T0 + 1, T0 + 2, T0 + 3, T0 + 4, T0 + 5, T0 + 6]
    );
    // The expiry is logged when noticed, while the session ended at its deadline.
    assert_eq!(at[10], c.deadline().unwrap());
    let poste_ids: Vec<_> = events.iter().map(|e| e.poste_id).collect();
    assert_eq!(poste_ids[0], Some(poste.id));
    assert_eq!(
        poste_ids[3..7],
        [Some(poste.id); 4],
        "the poste the session runs on"
    );
    assert_eq!(poste_ids[11], Some(p2.id));
    assert_eq!(
        store.last_event_id().await.unwrap(),
        events.last().unwrap().id
    );
}

pub async fn events_after_pages_in_order(store: Store) {
    store
        .create_sessions(&hour_session(), 7, &mut codes(), &staff(), T0)
        .await
        .unwrap();
    let mut seen: Vec<EventRow> = Vec::new();
    let mut after = 0;
    loop {
        let page = store.events_after(after, 3).await.unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        after = last.id;
        seen.extend(page);
    }
    assert_eq!(seen, store.events_after(0, 100).await.unwrap());
    assert_eq!(seen.len(), 7);
    assert!(seen.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(after, store.last_event_id().await.unwrap());
    assert!(store.events_after(after, 10).await.unwrap().is_empty());
    assert_eq!(store.events_after(seen[4].id, 10).await.unwrap(), seen[5..]);
    assert!(store.events_after(0, 0).await.unwrap().is_empty());
}
