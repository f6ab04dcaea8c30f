//! Power orders and wake-ups: recorded with their author; an order that cuts a running session
//! short does it in the same transaction, and never lengthens it.

use poste_store::{Actor, EventKind, SessionStatus, Store};

use crate::harness::{HOUR_MS, T0, create, create_poste, hour_session, staff, wrong_state};

pub async fn power_orders_are_recorded_and_cut_sessions_short_only(store: Store) {
    let poste = create_poste(&store, "P1").await;
    let other = create_poste(&store, "P2").await;

    // No session: the order alone, its id the event's.
    let first = store
        .record_power_order(poste.id, "extinction", None, &staff(), T0)
        .await
        .unwrap();
    assert_eq!(first.session, None);
    let second = store
        .record_power_order(poste.id, "redemarrage", None, &staff(), T0 + 1)
        .await
        .unwrap();
    assert!(
        second.order_id > first.order_id,
        "ids grow: {first:?} {second:?}"
    );

    // A session running on the workstation, cut to end 2 minutes from now.
    let session = create(&store, &hour_session()).await;
    let session = store
        .start_session(session.id, Some(poste.id), &Actor::Cli, T0)
        .await
        .unwrap();
    let now = T0 + 10 * 60_000;
    let end_at = now + 120_000;
    let cut = store
        .record_power_order(
            poste.id,
            "extinction",
            Some((session.id, end_at)),
            &staff(),
            now,
        )
        .await
        .unwrap();
    let row = cut.session.expect("the session cut");
    assert_eq!(row.deadline(), Some(end_at));
    assert_eq!(row.status, SessionStatus::Active);

    // Cut again later than its end: nothing lengthens it.
    let again = store
        .record_power_order(
            poste.id,
            "extinction",
            Some((session.id, end_at + HOUR_MS)),
            &staff(),
            now,
        )
        .await
        .unwrap();
    assert_eq!(again.session, None, "nothing cut");
    let row = store.session(session.id).await.unwrap().unwrap();
    assert_eq!(row.deadline(), Some(end_at));

    // Another workstation's session, or an ended one: refused, nothing recorded.
    let before = store.last_event_id().await.unwrap();
    let refused = store
        .record_power_order(
            other.id,
            "extinction",
            Some((session.id, now)),
            &staff(),
            now,
        )
        .await;
    assert_eq!(wrong_state(refused).id, session.id);
    store
        .end_session(session.id, "termine_par_animateur", &staff(), now)
        .await
        .unwrap();
    let after_end = store.last_event_id().await.unwrap();
    let refused = store
        .record_power_order(
            poste.id,
            "extinction",
            Some((session.id, now)),
            &staff(),
            now,
        )
        .await;
    assert_eq!(wrong_state(refused).status, SessionStatus::Terminee);
    assert_eq!(store.last_event_id().await.unwrap(), after_end);
    assert!(after_end > before);

    store
        .record_wake(other.id, "52:54:00:12:34:56", &staff(), now)
        .await
        .unwrap();

    let events = store.events_after(0, 100).await.unwrap();
    let orders: Vec<_> = events
        .iter()
        .filter(|event| event.kind == EventKind::PowerOrdered)
        .map(|event| {
            (
                event.id,
                event.detail.clone().unwrap_or_default(),
                event.session_id,
            )
        })
        .collect();
    assert_eq!(
        orders,
        [
            (first.order_id, "extinction".to_owned(), None),
            (second.order_id, "redemarrage".to_owned(), None),
            (
                cut.order_id,
                "extinction ecourtee".to_owned(),
                Some(session.id)
            ),
            (again.order_id, "extinction".to_owned(), Some(session.id)),
        ]
    );
    let order = events
        .iter()
        .find(|event| event.id == cut.order_id)
        .unwrap();
    assert_eq!(order.actor, staff().label());
    assert_eq!(order.poste_id, Some(poste.id));
    // The cut is in the session's history, by the same author, once.
    let cuts: Vec<_> = events
        .iter()
        .filter(|event| event.kind == EventKind::TimeAdded && event.session_id == Some(session.id))
        .map(|event| (event.detail.as_deref(), event.actor.clone()))
        .collect();
    assert_eq!(cuts, [(Some("extinction"), staff().label())]);
    let wake = events
        .iter()
        .find(|event| event.kind == EventKind::WakeSent)
        .unwrap();
    assert_eq!(
        (wake.poste_id, wake.detail.as_deref()),
        (Some(other.id), Some("52:54:00:12:34:56"))
    );
}

pub async fn a_scheduled_action_is_claimed_once_a_day(store: Store) {
    assert!(
        store
            .claim_scheduled_power("2026-12-07", "extinction", "instance-a", T0)
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_scheduled_power("2026-12-07", "extinction", "instance-b", T0)
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_scheduled_power("2026-12-07", "extinction", "instance-a", T0 + 1)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_scheduled_power("2026-12-07", "allumage", "instance-b", T0)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_scheduled_power("2026-12-08", "extinction", "instance-b", T0)
            .await
            .unwrap()
    );
}
