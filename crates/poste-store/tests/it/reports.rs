//! The monthly report's claim: one instance sends a month, a failure is sent again later.

use poste_store::{Actor, EventFilter, EventKind, Store};

use crate::harness::T0;

const MINUTE: i64 = 60_000;

pub async fn a_month_is_claimed_once_and_retried_after_a_failure(store: Store) {
    // Instances racing for a new month: exactly one wins.
    let mut racers = Vec::new();
    for instance in 0..8 {
        let store = store.clone();
        racers.push(tokio::spawn(async move {
            store
                .claim_report("2026-11", &format!("srv-{instance}"), T0, T0 - 30 * MINUTE)
                .await
                .unwrap()
        }));
    }
    let mut winners = 0;
    for racer in racers {
        winners += usize::from(racer.await.unwrap());
    }
    assert_eq!(winners, 1);
    // Whoever won, a fresh claim is nobody else's.
    assert!(
        !store
            .claim_report("2026-11", "srv-9", T0 + MINUTE, T0 - 29 * MINUTE)
            .await
            .unwrap()
    );

    // A failure: not sent, and claimable again once the claim is stale.
    let claimer = "srv-a";
    let month = "2026-10";
    assert!(
        store
            .claim_report(month, claimer, T0, T0 - 30 * MINUTE)
            .await
            .unwrap()
    );
    store
        .finish_report(month, claimer, Some("connection refused"), T0 + MINUTE)
        .await
        .unwrap();
    assert_eq!(store.last_report_sent(None).await.unwrap(), None);
    assert!(
        !store
            .claim_report(month, "srv-b", T0 + 2 * MINUTE, T0 - 28 * MINUTE)
            .await
            .unwrap()
    );
    let later = T0 + 40 * MINUTE;
    assert!(
        store
            .claim_report(month, "srv-b", later, later - 30 * MINUTE)
            .await
            .unwrap()
    );
    store
        .finish_report(month, "srv-b", None, later)
        .await
        .unwrap();
    assert_eq!(
        store.last_report_sent(None).await.unwrap().as_deref(),
        Some(month)
    );
    // A space's own report of the same month is another claim; each kind reads its own last.
    for (key, space) in [("2026-11@3", 3), ("2026-12@13", 13)] {
        assert!(
            store
                .claim_report(key, claimer, later, later)
                .await
                .unwrap()
        );
        store
            .finish_report(key, claimer, None, later)
            .await
            .unwrap();
        assert_eq!(
            store
                .last_report_sent(Some(space))
                .await
                .unwrap()
                .as_deref(),
            Some(&key[..7])
        );
    }
    assert_eq!(
        store.last_report_sent(Some(3)).await.unwrap().as_deref(),
        Some("2026-11"),
        "not space 13's December"
    );
    assert_eq!(store.last_report_sent(Some(1)).await.unwrap(), None);
    assert_eq!(
        store.last_report_sent(None).await.unwrap().as_deref(),
        Some(month),
        "the spaces' reports are not the site's"
    );
    // Sent: never claimed again.
    let much_later = later + 24 * 60 * MINUTE;
    assert!(
        !store
            .claim_report(month, "srv-c", much_later, much_later)
            .await
            .unwrap()
    );

    store
        .record_report_mailed(
            "2026-09",
            None,
            &Actor::Staff {
                login: "sandrine".into(),
                ip: None,
            },
            later,
        )
        .await
        .unwrap();
    let events = store
        .list_events(&EventFilter {
            kinds: vec![EventKind::ReportSent, EventKind::ReportFailed],
            ..EventFilter::default()
        })
        .await
        .unwrap();
    let mut seen: Vec<(&str, String, String)> = events
        .into_iter()
        .map(|view| {
            (
                view.event.kind.as_str(),
                view.event.detail.unwrap_or_default(),
                view.event.actor,
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (
                "report_failed",
                "2026-10 : connection refused".into(),
                "systeme".into()
            ),
            ("report_sent", "2026-09".into(), "animateur:sandrine".into()),
            ("report_sent", "2026-10".into(), "systeme".into()),
            ("report_sent", "2026-11@3".into(), "systeme".into()),
            ("report_sent", "2026-12@13".into(), "systeme".into()),
        ]
    );
}
