//! The console's register: categories, visitors and their erasure, usage, workstation details
//! and retirement, settings, the history with addresses, statistics rows, the retention purge.

use poste_store::{
    Actor, EventFilter, EventKind, NewCategory, NewSession, NewVisitor, SessionStatus, StartPlan,
    Store, StoreError,
};

use crate::harness::{HOUR_MS, T0, create, create_poste, hour_session, staff};

fn category(nom: &str, day: Option<i64>) -> NewCategory {
    NewCategory {
        nom: nom.to_owned(),
        max_session_secs: Some(3600),
        max_day_secs: day,
        max_week_secs: None,
    }
}

fn visitor(nom: &str, categorie_id: Option<i64>) -> NewVisitor {
    NewVisitor {
        nom: nom.to_owned(),
        // One card a visitor: C-1234-AWA, C-1234-JEAN…
        carte: Some(format!(
            "C-1234-{}",
            nom.split(' ').next().unwrap_or_default().to_uppercase()
        )),
        email: Some(format!(
            "{}@exemple.fr",
            nom.to_lowercase().replace(' ', ".")
        )),
        categorie_id,
        notes: None,
    }
}

fn console_staff() -> Actor {
    Actor::Staff {
        login: "lea".to_owned(),
        ip: Some("192.0.2.10".to_owned()),
    }
}

pub async fn categories_are_saved_unique_and_deleted(store: Store) {
    let jeunes = store
        .save_category(None, &category("Jeunes", Some(7200)), &staff(), T0)
        .await
        .unwrap();
    assert_eq!(jeunes.max_day_secs, Some(7200));
    let taken = store
        .save_category(None, &category("JEUNES", None), &staff(), T0)
        .await;
    assert!(
        matches!(taken, Err(StoreError::AlreadyExists { .. })),
        "{taken:?}"
    );
    let renamed = store
        .save_category(
            Some(jeunes.id),
            &category("Jeunes (-18 ans)", None),
            &staff(),
            T0,
        )
        .await
        .unwrap();
    assert_eq!((renamed.id, renamed.max_day_secs), (jeunes.id, None));
    assert!(matches!(
        store
            .save_category(Some(999), &category("Autre", None), &staff(), T0)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    let member = store
        .save_visitor(None, &visitor("Awa Payet", Some(jeunes.id)), &staff(), T0)
        .await
        .unwrap();
    assert_eq!(member.categorie_nom.as_deref(), Some("Jeunes (-18 ans)"));
    store
        .delete_category(jeunes.id, &staff(), T0)
        .await
        .unwrap();
    assert!(store.list_categories().await.unwrap().is_empty());
    let member = store.visitor(member.id).await.unwrap().unwrap();
    assert_eq!(
        member.categorie_id, None,
        "its visitors keep no dangling category"
    );
}

pub async fn visitors_are_found_updated_and_erased(store: Store) {
    let awa = store
        .save_visitor(None, &visitor("Awa Payet", None), &console_staff(), T0)
        .await
        .unwrap();
    store
        .save_visitor(None, &visitor("Jean Dupont", None), &staff(), T0)
        .await
        .unwrap();
    let found = store.search_visitors(Some("payet"), None).await.unwrap();
    assert_eq!(found.iter().map(|v| v.id).collect::<Vec<_>>(), [awa.id]);
    // By card number and e-mail too; `%` is literal.
    assert_eq!(
        store
            .search_visitors(Some("c-1234"), None)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store
            .search_visitors(Some("jean.dupont@"), None)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .search_visitors(Some("%"), None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.search_visitors(None, None).await.unwrap().len(), 2);

    let edited = store
        .save_visitor(
            Some(awa.id),
            &NewVisitor {
                notes: Some("Atelier CV".into()),
                ..visitor("Awa Payet-Hoarau", None)
            },
            &staff(),
            T0 + 1,
        )
        .await
        .unwrap();
    assert_eq!(
        (edited.nom.as_str(), edited.updated_at),
        ("Awa Payet-Hoarau", T0 + 1)
    );

    // Two sessions for her, one walk-in.
    let mine = NewSession {
        utilisateur: Some("Awa Payet-Hoarau".into()),
        visiteur_id: Some(awa.id),
        ..hour_session()
    };
    let a = create(&store, &mine).await;
    create(&store, &mine).await;
    let walk_in = create(&store, &hour_session()).await;
    assert_eq!(a.visiteur_id, Some(awa.id));

    let anonymised = store
        .erase_visitor(awa.id, &console_staff(), T0 + 2)
        .await
        .unwrap();
    assert_eq!(anonymised, 2);
    assert!(store.visitor(awa.id).await.unwrap().is_none());
    let a = store.session(a.id).await.unwrap().unwrap();
    assert_eq!(
        (a.utilisateur, a.visiteur_id),
        (None, None),
        "the session stays, anonymous"
    );
    let walk_in = store.session(walk_in.id).await.unwrap().unwrap();
    assert_eq!(walk_in.utilisateur.as_deref(), Some("Alice Martin"));
    assert!(matches!(
        store.erase_visitor(awa.id, &staff(), T0).await,
        Err(StoreError::NotFound { .. })
    ));
    // No personal data in the log.
    let events = store.events_after(0, 100).await.unwrap();
    assert!(
        events
            .iter()
            .all(|e| !e.detail.as_deref().unwrap_or_default().contains("Awa"))
    );
    let erased = events
        .iter()
        .find(|e| e.kind == EventKind::VisitorErased)
        .unwrap();
    assert_eq!(erased.ip.as_deref(), Some("192.0.2.10"));
}

/// A card number names one visitor: the same card (in any case) is refused to a second one,
/// on creation and on update, and is free again once its owner is erased.
pub async fn visitor_cards_are_one_visitors(store: Store) {
    let with_card = |nom: &str, carte: Option<&str>| NewVisitor {
        carte: carte.map(str::to_owned),
        ..visitor(nom, None)
    };
    let awa = store
        .save_visitor(None, &with_card("Awa", Some("C-77")), &staff(), T0)
        .await
        .unwrap();
    let refused = store
        .save_visitor(None, &with_card("Jean", Some("c-77")), &staff(), T0)
        .await;
    assert!(
        matches!(&refused, Err(StoreError::AlreadyExists { name, .. }) if name == "c-77"),
        "{refused:?}"
    );
    let jean = store
        .save_visitor(None, &with_card("Jean", Some("C-78")), &staff(), T0)
        .await
        .unwrap();
    let refused = store
        .save_visitor(
            Some(jean.id),
            &with_card("Jean", Some("C-77")),
            &staff(),
            T0,
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::AlreadyExists { .. })),
        "{refused:?}"
    );
    assert_eq!(
        store
            .visitor(jean.id)
            .await
            .unwrap()
            .unwrap()
            .carte
            .as_deref(),
        Some("C-78")
    );
    // A visitor keeps their own card when saved again; visitors without a card are many.
    store
        .save_visitor(
            Some(awa.id),
            &with_card("Awa P.", Some("C-77")),
            &staff(),
            T0,
        )
        .await
        .unwrap();
    for nom in ["Sans carte 1", "Sans carte 2"] {
        store
            .save_visitor(None, &with_card(nom, None), &staff(), T0)
            .await
            .unwrap();
    }
    store.erase_visitor(awa.id, &staff(), T0).await.unwrap();
    store
        .save_visitor(
            Some(jean.id),
            &with_card("Jean", Some("C-77")),
            &staff(),
            T0,
        )
        .await
        .unwrap();
}

pub async fn visitor_usage_counts_time_held_and_used(store: Store) {
    let awa = store
        .save_visitor(None, &visitor("Awa", None), &staff(), T0)
        .await
        .unwrap();
    let mine = NewSession {
        visiteur_id: Some(awa.id),
        ..hour_session()
    };
    // Ended after 20 minutes: 1200 s count, not the hour held.
    let ended = create(&store, &mine).await;
    store
        .start_session(ended.id, None, &Actor::Cli, T0)
        .await
        .unwrap();
    store
        .end_session(
            ended.id,
            "termine_par_visiteur",
            &Actor::Cli,
            T0 + 1_200_000,
        )
        .await
        .unwrap();
    // Running: the whole hour.
    let running = create(&store, &mine).await;
    store
        .start_session(running.id, None, &Actor::Cli, T0)
        .await
        .unwrap();
    // A usable code: its hour; a cancelled one: nothing.
    create(&store, &mine).await;
    let cancelled = create(&store, &mine).await;
    store
        .cancel_session(cancelled.id, &staff(), T0)
        .await
        .unwrap();
    assert_eq!(
        store
            .visitor_usage_secs(awa.id, T0 - HOUR_MS, T0 + 1)
            .await
            .unwrap(),
        1200 + 3600 + 3600
    );
    // Created before `since`: not counted.
    assert_eq!(
        store
            .visitor_usage_secs(awa.id, T0 + 1, T0 + 1)
            .await
            .unwrap(),
        0
    );
}

pub async fn postes_are_renamed_located_and_retired(store: Store) {
    let p1 = create_poste(&store, "P1").await;
    create_poste(&store, "P2").await;
    let moved = store
        .update_poste(p1.id, "Accueil-01", Some("Salle A"), &console_staff(), T0)
        .await
        .unwrap();
    assert_eq!(
        (moved.nom.as_str(), moved.emplacement.as_deref()),
        ("Accueil-01", Some("Salle A"))
    );
    assert!(matches!(
        store.update_poste(p1.id, "p2", None, &staff(), T0).await,
        Err(StoreError::AlreadyExists { .. })
    ));
    // Not while a session runs on it.
    let session = create(&store, &hour_session()).await;
    store
        .start_session(session.id, Some(p1.id), &Actor::Cli, T0)
        .await
        .unwrap();
    assert_eq!(store.retire_poste(p1.id, &staff(), T0).await.unwrap(), None);
    store
        .end_session(session.id, "termine_par_animateur", &staff(), T0 + 1)
        .await
        .unwrap();
    let retired = store
        .retire_poste(p1.id, &staff(), T0 + 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(retired.retired_at, Some(T0 + 2));
    assert_eq!(retired.nom, format!("Accueil-01 (retiré {})", p1.id));
    let names: Vec<String> = store
        .list_postes()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.nom)
        .collect();
    assert_eq!(names, ["P2"]);
    // The name is free again, the history keeps the old one.
    create_poste(&store, "Accueil-01").await;
    let ended = store.session(session.id).await.unwrap().unwrap();
    assert_eq!(ended.poste_nom, Some(retired.nom.clone()));
    assert!(matches!(
        store.retire_poste(p1.id, &staff(), T0).await,
        Err(StoreError::NotFound { .. })
    ));
    let updated = store
        .list_events(&EventFilter {
            kinds: vec![EventKind::PosteUpdated],
            ..EventFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0].event.ip.as_deref(), Some("192.0.2.10"));
    assert_eq!(
        updated[0].event.detail.as_deref(),
        Some("Accueil-01 (Salle A)")
    );
}

pub async fn settings_are_stored_and_replaced(store: Store) {
    assert!(store.settings().await.unwrap().is_empty());
    let values = vec![
        ("warning_secs".to_owned(), "600".to_owned()),
        ("site_name".to_owned(), "EPN du Port".to_owned()),
    ];
    store
        .set_settings(&values, &console_staff(), T0)
        .await
        .unwrap();
    store
        .set_settings(&[("warning_secs".into(), "420".into())], &staff(), T0 + 1)
        .await
        .unwrap();
    assert_eq!(
        store.settings().await.unwrap(),
        [
            ("site_name".to_owned(), "EPN du Port".to_owned()),
            ("warning_secs".to_owned(), "420".to_owned()),
        ]
    );
    let changed = store
        .list_events(&EventFilter {
            kinds: vec![EventKind::SettingsChanged],
            ..EventFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(changed.len(), 2);
    assert_eq!(
        changed[1].event.detail.as_deref(),
        Some("warning_secs, site_name")
    );
}

pub async fn history_filters_by_kind_time_poste_and_actor(store: Store) {
    let p1 = create_poste(&store, "P1").await;
    let session = create(
        &store,
        &NewSession {
            poste_id: Some(p1.id),
            ..hour_session()
        },
    )
    .await;
    store
        .start_session(session.id, Some(p1.id), &Actor::Poste("P1".into()), T0 + 10)
        .await
        .unwrap();
    store
        .add_time(session.id, 600, 0, &console_staff(), T0 + 20)
        .await
        .unwrap();
    let all = store.list_events(&EventFilter::default()).await.unwrap();
    assert_eq!(all.len(), 4, "{all:?}");
    assert!(
        all.windows(2).all(|w| w[0].event.id > w[1].event.id),
        "newest first"
    );
    let sessions_only = store
        .list_events(&EventFilter {
            kinds: vec![EventKind::SessionStarted, EventKind::TimeAdded],
            ..EventFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(sessions_only.len(), 2);
    assert!(
        sessions_only
            .iter()
            .all(|e| e.poste_nom.as_deref() == Some("P1") || e.event.kind == EventKind::TimeAdded)
    );
    let by_lea = store
        .list_events(&EventFilter {
            actor: Some("LEA".into()),
            ..EventFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(by_lea.len(), 1);
    assert_eq!(by_lea[0].event.kind, EventKind::TimeAdded);
    assert_eq!(by_lea[0].event.ip.as_deref(), Some("192.0.2.10"));
    let late = store
        .list_events(&EventFilter {
            from: Some(T0 + 15),
            to: Some(T0 + 25),
            ..EventFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(late.len(), 1);
    let on_p1 = store
        .list_events(&EventFilter {
            poste_id: Some(p1.id),
            limit: Some(2),
            ..EventFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(on_p1.len(), 2);
    // SQL metacharacters are plain text.
    let nothing = store
        .list_events(&EventFilter {
            actor: Some("' OR 1=1 --".into()),
            ..EventFilter::default()
        })
        .await
        .unwrap();
    assert!(nothing.is_empty());
}

pub async fn usage_rows_and_retention_purge(store: Store) {
    let p1 = create_poste(&store, "P1").await;
    let jeunes = store
        .save_category(None, &category("Jeunes", None), &staff(), T0)
        .await
        .unwrap();
    let awa = store
        .save_visitor(None, &visitor("Awa", Some(jeunes.id)), &staff(), T0)
        .await
        .unwrap();
    let old = create(&store, &hour_session()).await;
    store
        .start_session(old.id, Some(p1.id), &Actor::Cli, T0)
        .await
        .unwrap();
    store
        .end_session(old.id, "termine_par_visiteur", &Actor::Cli, T0 + HOUR_MS)
        .await
        .unwrap();
    let recent = create(
        &store,
        &NewSession {
            visiteur_id: Some(awa.id),
            ..hour_session()
        },
    )
    .await;
    store
        .start_session(recent.id, Some(p1.id), &Actor::Cli, T0 + 10 * HOUR_MS)
        .await
        .unwrap();

    let usage = store
        .usage(T0 + 5 * HOUR_MS, T0 + 20 * HOUR_MS)
        .await
        .unwrap();
    assert_eq!(usage.len(), 1);
    assert_eq!(usage[0].session_id, recent.id);
    assert_eq!(usage[0].poste_nom.as_deref(), Some("P1"));
    assert_eq!(usage[0].categorie_nom.as_deref(), Some("Jeunes"));
    assert_eq!(usage[0].visiteur_id, Some(awa.id));
    assert_eq!((usage[0].ended_at, usage[0].total_secs), (None, 3600));

    // Purge what ended before T0 + 5 h: the old session and the events before it.
    let report = store
        .purge_before(T0 + 5 * HOUR_MS, T0 + 30 * HOUR_MS)
        .await
        .unwrap();
    assert_eq!(report.sessions, 1);
    assert!(report.events >= 4, "{report:?}");
    assert!(store.session(old.id).await.unwrap().is_none());
    let running = store.session(recent.id).await.unwrap().unwrap();
    assert_eq!(
        running.status,
        SessionStatus::Active,
        "running sessions are never purged"
    );
    let events = store.events_after(0, 100).await.unwrap();
    assert!(events.iter().all(|e| e.at >= T0 + 5 * HOUR_MS));
    assert_eq!(events.last().unwrap().kind, EventKind::RetentionPurge);
    // Nothing left to purge: no event.
    let again = store
        .purge_before(T0 + 5 * HOUR_MS, T0 + 31 * HOUR_MS)
        .await
        .unwrap();
    assert_eq!((again.sessions, again.events), (0, 0));
    assert_eq!(
        store.events_after(0, 100).await.unwrap().len(),
        events.len()
    );
}

pub async fn sessions_are_capped_at_closing_time(store: Store) {
    // Closing in 40 minutes: the hour becomes 40 minutes, with the start, in one transaction.
    let active = create(&store, &hour_session()).await;
    let before = store.last_event_id().await.unwrap();
    let plan = StartPlan {
        end_at_most: Some(T0 + 2_400_000),
        warning_level: 0,
        warning_before_end_secs: None,
    };
    let capped = store
        .start_session_with(active.id, None, &Actor::Cli, T0, |_| plan)
        .await
        .unwrap();
    assert_eq!(capped.total_secs(), 2400);
    assert_eq!(capped.deadline(), Some(T0 + 2_400_000));
    let events = store.events_after(before, 10).await.unwrap();
    let kinds: Vec<_> = events.iter().map(|e| (e.kind, e.detail.clone())).collect();
    assert_eq!(
        kinds,
        [
            (EventKind::SessionStarted, None),
            (EventKind::TimeAdded, Some("fermeture".to_owned()))
        ]
    );
    // Already ends in time: nothing cut; a warning level already passed is recorded with it.
    let in_time = create(&store, &hour_session()).await;
    let plan = StartPlan {
        end_at_most: Some(T0 + 3_700_000),
        warning_level: 1,
        warning_before_end_secs: None,
    };
    let started = store
        .start_session_with(in_time.id, None, &Actor::Cli, T0, |_| plan)
        .await
        .unwrap();
    assert_eq!(started.total_secs(), 3600);
    assert_eq!(started.warning_level, 1);
}
