//! Public spaces: what a site had is the default space; spaces are named uniquely, deleted only
//! when empty and never the last; a workstation moves between them unless it is busy; a code of
//! one space starts on that space's workstations only, a code of every space on any.

use poste_store::{
    Actor, DEFAULT_SPACE, EventFilter, EventKind, NewSession, NewSpace, NewWorkshop, SessionStatus,
    SpaceRefusal, StartPlan, Store, StoreError,
};

use crate::harness::{T0, codes, create, create_poste, hour_session, staff, wrong_state};

fn named(nom: &str) -> NewSpace {
    NewSpace {
        nom: nom.to_owned(),
        adresse: None,
    }
}

fn refusal<T: std::fmt::Debug>(result: Result<T, StoreError>) -> SpaceRefusal {
    match result {
        Err(StoreError::SpaceRefused(refusal)) => refusal,
        other => panic!("expected SpaceRefused, got {other:?}"),
    }
}

pub async fn spaces_are_named_uniquely_and_deleted_only_when_empty(store: Store) {
    // A new site has its default space, and its workstations are in it.
    let spaces = store.list_spaces().await.unwrap();
    assert_eq!(spaces.len(), 1);
    assert_eq!(spaces[0].id, DEFAULT_SPACE);
    assert_eq!(spaces[0].nom, "Espace principal");
    let poste = create_poste(&store, "P1").await;
    assert_eq!(poste.espace_id, DEFAULT_SPACE);
    // The last space is never deleted.
    assert_eq!(
        refusal(store.delete_space(DEFAULT_SPACE, &staff(), T0).await),
        SpaceRefusal::LastSpace
    );

    let quartier = store
        .save_space(
            None,
            &NewSpace {
                nom: "Maison de quartier".to_owned(),
                adresse: Some("12 rue des Lilas, Saint-Paul".to_owned()),
            },
            &staff(),
            T0,
        )
        .await
        .unwrap();
    assert_ne!(quartier.id, DEFAULT_SPACE);
    assert!(matches!(
        store
            .save_space(None, &named("maison DE quartier"), &staff(), T0)
            .await,
        Err(StoreError::AlreadyExists { .. })
    ));
    assert!(matches!(
        store
            .save_space(
                Some(DEFAULT_SPACE),
                &named("Maison de quartier"),
                &staff(),
                T0
            )
            .await,
        Err(StoreError::AlreadyExists { .. })
    ));
    let renamed = store
        .save_space(Some(DEFAULT_SPACE), &named("Médiathèque"), &staff(), T0)
        .await
        .unwrap();
    assert_eq!(renamed.nom, "Médiathèque");
    assert_eq!(
        store
            .space_by_name("médiathèque")
            .await
            .unwrap()
            .map(|s| s.id),
        Some(DEFAULT_SPACE)
    );
    assert!(matches!(
        store.save_space(Some(999), &named("X"), &staff(), T0).await,
        Err(StoreError::NotFound { .. })
    ));

    // A workstation in it, then a code of it: each keeps it.
    store
        .move_poste(poste.id, quartier.id, &staff(), T0)
        .await
        .unwrap();
    assert_eq!(
        refusal(store.delete_space(quartier.id, &staff(), T0).await),
        SpaceRefusal::HasWorkstations(1)
    );
    store
        .move_poste(poste.id, DEFAULT_SPACE, &staff(), T0)
        .await
        .unwrap();
    let code = create(
        &store,
        &NewSession {
            espace_id: Some(quartier.id),
            ..hour_session()
        },
    )
    .await;
    assert_eq!(code.espace_id, Some(quartier.id));
    assert_eq!(
        refusal(store.delete_space(quartier.id, &staff(), T0).await),
        SpaceRefusal::HasSessions(1)
    );
    // Nothing was half-changed by the refusals.
    assert!(store.space(quartier.id).await.unwrap().is_some());
    store.cancel_session(code.id, &staff(), T0).await.unwrap();

    let deleted = store.delete_space(quartier.id, &staff(), T0).await.unwrap();
    assert_eq!(deleted.deleted_at, Some(T0));
    assert_eq!(store.space(quartier.id).await.unwrap(), None);
    assert_eq!(store.list_spaces().await.unwrap().len(), 1);
    assert!(matches!(
        store.delete_space(quartier.id, &staff(), T0).await,
        Err(StoreError::NotFound { .. })
    ));
    // Its name is free again; no code is made for a deleted space.
    store
        .save_space(None, &named("Maison de quartier"), &staff(), T0)
        .await
        .unwrap();
    let mut generate = || "Z00001".to_owned();
    assert!(matches!(
        store
            .create_sessions(
                &NewSession {
                    espace_id: Some(quartier.id),
                    ..hour_session()
                },
                1,
                &mut generate,
                &staff(),
                T0,
            )
            .await,
        Err(StoreError::NotFound { .. })
    ));

    let changes = store
        .list_events(&EventFilter {
            kinds: vec![EventKind::SpaceChanged],
            ..EventFilter::default()
        })
        .await
        .unwrap();
    let details: Vec<&str> = changes
        .iter()
        .filter_map(|event| event.event.detail.as_deref())
        .collect();
    assert!(
        details.contains(&"Maison de quartier (supprimé)") && details.contains(&"Médiathèque"),
        "{details:?}"
    );
}

pub async fn a_code_starts_in_its_own_space_only(store: Store) {
    let quartier = store
        .save_space(None, &named("Maison de quartier"), &staff(), T0)
        .await
        .unwrap();
    let media = create_poste(&store, "MED-01").await;
    let mdq = create_poste(&store, "MDQ-01").await;
    store
        .move_poste(mdq.id, quartier.id, &staff(), T0)
        .await
        .unwrap();

    let of_media = create(
        &store,
        &NewSession {
            espace_id: Some(DEFAULT_SPACE),
            ..hour_session()
        },
    )
    .await;
    let refused = wrong_state(
        store
            .start_session(of_media.id, Some(mdq.id), &Actor::Cli, T0)
            .await,
    );
    assert_eq!(refused.status, SessionStatus::EnAttente);
    assert_eq!(refused.poste_id, None, "the refused start bound nothing");
    let started = store
        .start_session(of_media.id, Some(media.id), &Actor::Cli, T0)
        .await
        .unwrap();
    assert_eq!(started.poste_id, Some(media.id));

    // A start that proves no workstation is in the default space.
    let of_quartier = create(
        &store,
        &NewSession {
            espace_id: Some(quartier.id),
            ..hour_session()
        },
    )
    .await;
    wrong_state(
        store
            .start_session(of_quartier.id, None, &Actor::Cli, T0)
            .await,
    );
    store
        .start_session(of_quartier.id, Some(mdq.id), &Actor::Cli, T0)
        .await
        .unwrap();

    // A code of every space starts anywhere.
    for poste in [None, Some(media.id)] {
        let everywhere = create(&store, &hour_session()).await;
        assert_eq!(everywhere.espace_id, None);
        let started = store
            .start_session(everywhere.id, poste, &Actor::Cli, T0)
            .await
            .unwrap();
        assert_eq!(started.status, SessionStatus::Active);
    }
}

pub async fn a_busy_workstation_does_not_move(store: Store) {
    let quartier = store
        .save_space(None, &named("Maison de quartier"), &staff(), T0)
        .await
        .unwrap();
    let poste = create_poste(&store, "P1").await;

    // A code bound to it for its space waits: it would be left in the wrong space.
    let bound = create(
        &store,
        &NewSession {
            poste_id: Some(poste.id),
            espace_id: Some(DEFAULT_SPACE),
            ..hour_session()
        },
    )
    .await;
    assert_eq!(
        refusal(store.move_poste(poste.id, quartier.id, &staff(), T0).await),
        SpaceRefusal::WorkstationBusy
    );
    assert_eq!(
        store.poste(poste.id).await.unwrap().unwrap().espace_id,
        DEFAULT_SPACE,
        "nothing half-changed"
    );
    // Running, it waits too.
    store
        .start_session(bound.id, Some(poste.id), &Actor::Cli, T0)
        .await
        .unwrap();
    assert_eq!(
        refusal(store.move_poste(poste.id, quartier.id, &staff(), T0).await),
        SpaceRefusal::WorkstationBusy
    );
    store
        .end_session(bound.id, "termine_par_animateur", &staff(), T0 + 1)
        .await
        .unwrap();
    let moved = store
        .move_poste(poste.id, quartier.id, &staff(), T0 + 2)
        .await
        .unwrap();
    assert_eq!(moved.espace_id, quartier.id);
    // Where it is already: nothing recorded; unknown workstation or space: not found.
    let events_before = store
        .list_events(&EventFilter::default())
        .await
        .unwrap()
        .len();
    store
        .move_poste(poste.id, quartier.id, &staff(), T0 + 3)
        .await
        .unwrap();
    assert_eq!(
        store
            .list_events(&EventFilter::default())
            .await
            .unwrap()
            .len(),
        events_before
    );
    assert!(matches!(
        store.move_poste(poste.id, 999, &staff(), T0).await,
        Err(StoreError::NotFound { what: "espace", .. })
    ));
    assert!(matches!(
        store.move_poste(999, quartier.id, &staff(), T0).await,
        Err(StoreError::NotFound { what: "poste", .. })
    ));
}

pub async fn staff_work_in_their_spaces_and_lists_show_those_only(store: Store) {
    use poste_store::{EventFilter, NewStaff, SessionFilter, SpaceScope, StaffRefusal, StaffRole};

    let quartier = store
        .save_space(None, &named("Maison de quartier"), &staff(), T0)
        .await
        .unwrap();
    let new = |login: &str, scope: SpaceScope| NewStaff {
        login: login.to_owned(),
        nom: login.to_owned(),
        role: StaffRole::Animateur,
        password_hash: "$argon2id$fake".to_owned(),
        scope,
    };
    let paul = store
        .create_staff(
            &new("paul", SpaceScope::only(vec![quartier.id])),
            &Actor::Cli,
            T0,
        )
        .await
        .unwrap();
    assert!(!paul.tous_espaces);
    assert_eq!(
        store.staff_scope(&paul).await.unwrap(),
        SpaceScope::Only(vec![quartier.id])
    );
    let sandrine = store
        .create_staff(&new("sandrine", SpaceScope::Every), &Actor::Cli, T0)
        .await
        .unwrap();
    assert!(sandrine.tous_espaces);
    assert_eq!(
        store.staff_scope(&sandrine).await.unwrap(),
        SpaceScope::Every
    );
    // At least one space, and real ones: nothing half-changed.
    assert!(matches!(
        store
            .set_staff_scope(paul.id, &SpaceScope::Only(Vec::new()), &staff(), T0)
            .await,
        Err(StoreError::StaffRefused(StaffRefusal::NoSpace))
    ));
    assert!(matches!(
        store
            .set_staff_scope(
                paul.id,
                &SpaceScope::only(vec![DEFAULT_SPACE, 999]),
                &staff(),
                T0
            )
            .await,
        Err(StoreError::NotFound { what: "espace", .. })
    ));
    assert_eq!(
        store.staff_scope(&paul).await.unwrap(),
        SpaceScope::Only(vec![quartier.id])
    );
    // The space that is Paul's only one is not deleted from under him.
    let empty = store.list_postes().await.unwrap();
    assert!(empty.is_empty());
    assert_eq!(
        refusal(store.delete_space(quartier.id, &staff(), T0).await),
        SpaceRefusal::OnlySpaceOfStaff(1)
    );

    // A session of each space, one of every space running in the quartier, one waiting.
    let media_poste = create_poste(&store, "MED-01").await;
    let mdq_poste = create_poste(&store, "MDQ-01").await;
    store
        .move_poste(mdq_poste.id, quartier.id, &staff(), T0)
        .await
        .unwrap();
    let of = |espace_id| NewSession {
        espace_id,
        ..hour_session()
    };
    let media_code = create(&store, &of(Some(DEFAULT_SPACE))).await;
    let mdq_code = create(&store, &of(Some(quartier.id))).await;
    let everywhere_running = create(&store, &of(None)).await;
    store
        .start_session(everywhere_running.id, Some(mdq_poste.id), &Actor::Cli, T0)
        .await
        .unwrap();
    let everywhere_waiting = create(&store, &of(None)).await;
    store
        .start_session(media_code.id, Some(media_poste.id), &Actor::Cli, T0)
        .await
        .unwrap();

    let seen = |scope: SpaceScope| {
        let store = store.clone();
        async move {
            let mut ids: Vec<i64> = store
                .list_sessions(&SessionFilter {
                    scope: Some(scope),
                    ..SessionFilter::default()
                })
                .await
                .unwrap()
                .iter()
                .map(|row| row.id)
                .collect();
            ids.sort_unstable();
            ids
        }
    };
    let mut quartier_ids = vec![mdq_code.id, everywhere_running.id, everywhere_waiting.id];
    quartier_ids.sort_unstable();
    assert_eq!(
        seen(SpaceScope::only(vec![quartier.id])).await,
        quartier_ids
    );
    let mut media_ids = vec![media_code.id, everywhere_waiting.id];
    media_ids.sort_unstable();
    assert_eq!(seen(SpaceScope::only(vec![DEFAULT_SPACE])).await, media_ids);
    assert_eq!(seen(SpaceScope::Every).await.len(), 4);

    // The history: the quartier's workstation's events, not the médiathèque's.
    let events = store
        .list_events(&EventFilter {
            scope: Some(SpaceScope::only(vec![quartier.id])),
            ..EventFilter::default()
        })
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.event.poste_id == Some(mdq_poste.id))
    );
    assert!(
        events
            .iter()
            .all(|e| e.event.poste_id != Some(media_poste.id)
                && e.event.session_id != Some(media_code.id)),
        "{events:?}"
    );
    // Usage rows carry their workstation's space.
    let usage = store.usage(T0 - 1, T0 + 1).await.unwrap();
    let of_mdq = usage
        .iter()
        .find(|row| row.session_id == everywhere_running.id)
        .unwrap();
    assert_eq!(of_mdq.espace_id, Some(quartier.id));
}

pub async fn a_space_has_its_own_settings_or_the_common_ones(store: Store) {
    let quartier = store
        .save_space(None, &named("Maison de quartier"), &staff(), T0)
        .await
        .unwrap();
    assert!(store.space_settings().await.unwrap().is_empty());
    let own = |key: &str, value: &str| (key.to_owned(), value.to_owned());
    store
        .set_space_settings(
            quartier.id,
            &[own("warning_secs", "600"), own("timezone", "Europe/Paris")],
            &staff(),
            T0,
        )
        .await
        .unwrap();
    // Saving again replaces the whole set: a key left out follows the common settings.
    store
        .set_space_settings(
            quartier.id,
            &[
                own("critical_secs", "120"),
                own("timezone", "Indian/Reunion"),
            ],
            &staff(),
            T0 + 1,
        )
        .await
        .unwrap();
    assert_eq!(
        store.space_settings().await.unwrap(),
        vec![
            (quartier.id, "critical_secs".to_owned(), "120".to_owned()),
            (
                quartier.id,
                "timezone".to_owned(),
                "Indian/Reunion".to_owned()
            ),
        ]
    );
    // The site's common settings are apart.
    assert!(store.settings().await.unwrap().is_empty());
    let changes = store
        .list_events(&EventFilter {
            kinds: vec![EventKind::SettingsChanged],
            ..EventFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(
        changes[0].event.detail.as_deref(),
        Some("Maison de quartier : critical_secs, timezone")
    );

    // An unknown or deleted space is refused, and nothing is written.
    assert!(matches!(
        store
            .set_space_settings(9999, &[own("warning_secs", "600")], &staff(), T0)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    // Back to the common settings: no values.
    store
        .set_space_settings(quartier.id, &[], &staff(), T0 + 2)
        .await
        .unwrap();
    assert!(store.space_settings().await.unwrap().is_empty());
    store
        .set_space_settings(quartier.id, &[own("warning_secs", "600")], &staff(), T0 + 3)
        .await
        .unwrap();
    store
        .delete_space(quartier.id, &staff(), T0 + 4)
        .await
        .unwrap();
    assert!(store.space_settings().await.unwrap().is_empty());
    assert!(matches!(
        store
            .set_space_settings(quartier.id, &[own("warning_secs", "600")], &staff(), T0 + 5)
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn a_workshop_starts_a_session_on_each_workstation_together(store: Store) {
    let quartier = store
        .save_space(None, &named("Maison de quartier"), &staff(), T0)
        .await
        .unwrap();
    let p1 = create_poste(&store, "MDQ-01").await;
    let p2 = create_poste(&store, "MDQ-02").await;
    let busy = create_poste(&store, "MDQ-03").await;
    for poste in [&p1, &p2, &busy] {
        store
            .move_poste(poste.id, quartier.id, &staff(), T0)
            .await
            .unwrap();
    }
    let visitor = create(
        &store,
        &NewSession {
            poste_id: Some(busy.id),
            ..hour_session()
        },
    )
    .await;
    let visitor = store
        .start_session(visitor.id, Some(busy.id), &Actor::Cli, T0)
        .await
        .unwrap();
    let workshop = |postes: Vec<i64>| NewWorkshop {
        atelier: "Atelier CV".to_owned(),
        duration_secs: 5400,
        postes,
    };
    let events_before = store.events_after(0, 1000).await.unwrap().len();

    // A busy workstation among them refuses the whole workshop: nothing is recorded.
    let refused = store
        .open_workshop(
            &workshop(vec![p1.id, busy.id]),
            &mut codes(),
            &staff(),
            T0 + 1000,
            |_| StartPlan::default(),
        )
        .await;
    assert_eq!(wrong_state(refused).id, visitor.id);
    // So does one unknown, or retired.
    store.retire_poste(p2.id, &staff(), T0).await.unwrap();
    assert!(matches!(
        store
            .open_workshop(
                &workshop(vec![p1.id, p2.id]),
                &mut codes(),
                &staff(),
                T0 + 1000,
                |_| StartPlan::default(),
            )
            .await,
        Err(StoreError::NotFound { what: "poste", .. })
    ));
    let events = store.events_after(0, 1000).await.unwrap();
    // Only the retirement was recorded.
    assert_eq!(events.len(), events_before + 1);
    assert!(
        store
            .list_sessions(&Default::default())
            .await
            .unwrap()
            .iter()
            .all(|row| row.atelier.is_none())
    );

    // Free workstations: one session each, active from now, in their space, the end capped by
    // what the plan says (its space's closing).
    let p4 = create_poste(&store, "MDQ-04").await;
    let close = T0 + 1000 + 3600 * 1000;
    let rows = store
        .open_workshop(
            &workshop(vec![p1.id, p4.id]),
            &mut codes(),
            &staff(),
            T0 + 1000,
            |row| StartPlan {
                end_at_most: (row.espace_id == Some(quartier.id)).then_some(close),
                ..StartPlan::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    for (row, poste) in rows.iter().zip([&p1, &p4]) {
        assert_eq!(row.status, SessionStatus::Active);
        assert_eq!(row.poste_id, Some(poste.id));
        assert_eq!(row.started_at, Some(T0 + 1000));
        assert_eq!(row.atelier.as_deref(), Some("Atelier CV"));
        assert_eq!(row.utilisateur, None);
        assert_eq!(row.created_by, staff().label());
    }
    assert_eq!(rows[0].espace_id, Some(quartier.id));
    assert_eq!(rows[0].total_secs(), 3600, "cut at the quartier's closing");
    assert_eq!(rows[1].espace_id, Some(DEFAULT_SPACE));
    assert_eq!(rows[1].total_secs(), 5400);
    assert_ne!(rows[0].code, rows[1].code);
    let started: Vec<_> = store
        .events_after(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|event| event.kind == EventKind::SessionStarted)
        .filter(|event| event.detail.as_deref() == Some("atelier"))
        .filter_map(|event| event.session_id)
        .collect();
    assert_eq!(started, vec![rows[0].id, rows[1].id]);
    // The statistics read the workshop's name.
    let usage = store.usage(T0, T0 + 2000).await.unwrap();
    let named: Vec<_> = usage
        .iter()
        .filter_map(|row| row.atelier.as_deref())
        .collect();
    assert_eq!(named, vec!["Atelier CV", "Atelier CV"]);
    // A workstation running the workshop is busy for the next.
    let again = store
        .open_workshop(
            &workshop(vec![p4.id]),
            &mut codes(),
            &staff(),
            T0 + 2000,
            |_| StartPlan::default(),
        )
        .await;
    assert_eq!(wrong_state(again).id, rows[1].id);
}
