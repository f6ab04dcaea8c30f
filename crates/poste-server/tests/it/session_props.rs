//! Property tests of the time arithmetic of sessions, against the real store on SQLite: random
//! interleavings of start, added time, the clock moving, timer expiry, staff ending a session,
//! a workstation disconnecting and a restart's recovery, on three sessions at once, compared
//! step by step with a model of what must be true. Few cases (each opens a fresh SQLite file);
//! the pure arithmetic of `domain::timing` gets many more below.

use poste_server::domain::timing::{
    Thresholds, level_for_remaining, next_action, remaining_ms, remaining_secs,
};
use poste_server::messages::time_left;
use poste_store::{Actor, EventKind, NewSession, SessionRow, SessionStatus, Store, StoreError};
use proptest::prelude::*;

const T: Thresholds = Thresholds {
    warning_ms: 300_000,
    critical_ms: 60_000,
};
const SESSIONS: usize = 3;
const START: i64 = 1_800_000_000_000;

#[derive(Debug, Clone)]
enum Op {
    Start(usize),
    Advance(i64),
    AddTime(usize, i64),
    /// The session's timer fires now (it may be early: time was added since it was armed).
    Expire(usize),
    StaffEnd(usize),
    /// The workstation goes away: nothing may change for the session (the server is the clock).
    Disconnect(usize),
    /// A restart: every active session whose deadline passed is expired, as `Hub::recover` does.
    Recover,
}

fn op() -> impl Strategy<Value = Op> {
    let i = 0..SESSIONS;
    prop_oneof![
        i.clone().prop_map(Op::Start),
        (1i64..400_000).prop_map(Op::Advance),
        (i.clone(), 1i64..900).prop_map(|(i, s)| Op::AddTime(i, s)),
        i.clone().prop_map(Op::Expire),
        i.clone().prop_map(Op::StaffEnd),
        i.prop_map(Op::Disconnect),
        Just(Op::Recover),
    ]
}

/// What must be true of one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Model {
    status: SessionStatus,
    initial_secs: i64,
    added_secs: i64,
    started_at: Option<i64>,
    ended_at: Option<i64>,
}

impl Model {
    fn deadline(&self) -> Option<i64> {
        self.started_at
            .map(|start| start + (self.initial_secs + self.added_secs) * 1000)
    }
}

fn check_row(row: &SessionRow, model: &Model, now: i64) -> Result<(), TestCaseError> {
    prop_assert_eq!(row.status, model.status);
    prop_assert_eq!(row.initial_secs, model.initial_secs);
    prop_assert_eq!(
        row.added_secs,
        model.added_secs,
        "added time lost or doubled"
    );
    prop_assert_eq!(row.started_at, model.started_at);
    prop_assert_eq!(row.ended_at, model.ended_at);
    let left = time_left(row, now);
    prop_assert!(left >= 0, "negative time left: {}", left);
    let expected = match (model.status, model.deadline()) {
        (SessionStatus::EnAttente, _) => model.initial_secs + model.added_secs,
        (SessionStatus::Active, Some(deadline)) => remaining_secs(deadline, now),
        _ => 0,
    };
    prop_assert_eq!(left, expected);
    Ok(())
}

fn wrong_state<T: std::fmt::Debug>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::WrongState(_)))
}

async fn run_case(initial: [i64; SESSIONS], ops: Vec<Op>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite:{}?mode=rwc",
        dir.path().join("props.sqlite").display()
    );
    let store = Store::connect(&url, "props").await.unwrap();
    let actor = Actor::Staff {
        login: "animateur".into(),
        ip: None,
    };
    let mut now = START;
    let mut ids = Vec::new();
    let mut models = Vec::new();
    for secs in initial {
        let new = NewSession {
            utilisateur: None,
            visiteur_id: None,
            poste_id: None,
            espace_id: None,
            duration_secs: secs,
            valid_until: i64::MAX / 2,
        };
        let mut code = format!("PROP{}", ids.len());
        let mut next_code = move || std::mem::take(&mut code);
        let rows = store
            .create_sessions(&new, 1, &mut next_code, &actor, now)
            .await
            .unwrap();
        ids.push(rows[0].id);
        models.push(Model {
            status: SessionStatus::EnAttente,
            initial_secs: secs,
            added_secs: 0,
            started_at: None,
            ended_at: None,
        });
    }

    let mut all_ops = ops;
    // Whatever happened, the clock then runs past every deadline and a restart recovers: every
    // session that started must then have ended, once.
    all_ops.push(Op::Recover);
    for step in 0..all_ops.len() {
        let op = all_ops[step].clone();
        if step + 1 == all_ops.len() {
            let horizon = models.iter().filter_map(Model::deadline).max();
            now = now.max(horizon.unwrap_or(now)) + 1;
        }
        match op {
            Op::Advance(ms) => now += ms,
            Op::Start(i) => {
                let result = store.start_session(ids[i], None, &actor, now).await;
                if models[i].status == SessionStatus::EnAttente {
                    prop_assert!(result.is_ok(), "{:?}", result);
                    models[i].status = SessionStatus::Active;
                    models[i].started_at = Some(now);
                } else {
                    prop_assert!(wrong_state(&result), "{:?}", result);
                }
            }
            Op::AddTime(i, secs) => {
                let level = models[i]
                    .deadline()
                    .map(|d| level_for_remaining(d + secs * 1000 - now, T))
                    .unwrap_or(0);
                let result = store.add_time(ids[i], secs, level, &actor, now).await;
                match models[i].status {
                    SessionStatus::EnAttente | SessionStatus::Active => {
                        prop_assert!(result.is_ok(), "{:?}", result);
                        models[i].added_secs += secs;
                    }
                    _ => prop_assert!(wrong_state(&result), "time added after the end"),
                }
            }
            Op::Expire(i) => {
                let expired = store.expire_session(ids[i], now).await.unwrap();
                let due = models[i].status == SessionStatus::Active
                    && models[i].deadline().is_some_and(|d| d <= now);
                prop_assert_eq!(expired.is_some(), due, "expiry at the wrong time");
                if due {
                    models[i].status = SessionStatus::Expiree;
                    // A session that expired while nobody looked ended at its deadline.
                    models[i].ended_at = models[i].deadline();
                }
            }
            Op::StaffEnd(i) => {
                let result = store
                    .end_session(ids[i], "termine_par_animateur", &actor, now)
                    .await;
                if models[i].status == SessionStatus::Active {
                    prop_assert!(result.is_ok(), "{:?}", result);
                    models[i].status = SessionStatus::Terminee;
                    models[i].ended_at = Some(now);
                } else {
                    prop_assert!(wrong_state(&result), "ended twice: {:?}", result);
                }
            }
            Op::Disconnect(i) => {
                // No store transition: the agent that comes back reads the same session.
                let row = store.session(ids[i]).await.unwrap().unwrap();
                prop_assert_eq!(
                    row.status,
                    models[i].status,
                    "a disconnect changed the session"
                );
            }
            Op::Recover => {
                for row in store.active_sessions().await.unwrap() {
                    let i = ids.iter().position(|id| *id == row.id).unwrap();
                    let expired = store.expire_session(row.id, now).await.unwrap();
                    let due = models[i].deadline().is_some_and(|d| d <= now);
                    prop_assert_eq!(expired.is_some(), due);
                    if due {
                        models[i].status = SessionStatus::Expiree;
                        models[i].ended_at = models[i].deadline();
                    }
                }
            }
        }
        for (i, id) in ids.iter().enumerate() {
            let row = store.session(*id).await.unwrap().unwrap();
            check_row(&row, &models[i], now)?;
        }
    }

    let events = store.events_after(0, 10_000).await.unwrap();
    for (i, id) in ids.iter().enumerate() {
        let ends = events
            .iter()
            .filter(|e| e.session_id == Some(*id) && e.kind == EventKind::SessionEnded)
            .count();
        let started = models[i].started_at.is_some();
        prop_assert_eq!(
            ends,
            usize::from(started),
            "session {} ended {} times",
            id,
            ends
        );
        if started {
            prop_assert!(matches!(
                models[i].status,
                SessionStatus::Expiree | SessionStatus::Terminee
            ));
        }
        let added: i64 = events
            .iter()
            .filter(|e| e.session_id == Some(*id) && e.kind == EventKind::TimeAdded)
            .filter_map(|e| e.detail.as_deref()?.strip_prefix('+')?.parse::<i64>().ok())
            .sum();
        prop_assert_eq!(added, models[i].added_secs, "the log lost added time");
    }
    store.close().await;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn sessions_in_the_store_end_once_and_keep_their_time(
        initial in proptest::array::uniform3(1i64..1_200),
        ops in proptest::collection::vec(op(), 1..40),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(run_case(initial, ops))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// Added time is never lost: however it is split and in whatever order it comes, the time
    /// left grows by exactly the sum, and the warnings are re-armed from the new deadline.
    #[test]
    fn added_time_sums_in_any_order(
        started in 0i64..1_000_000_000,
        initial in 1i64..100_000,
        additions in proptest::collection::vec(1i64..10_000, 0..12),
        elapsed in 0i64..200_000_000,
    ) {
        let now = started + elapsed;
        let total: i64 = additions.iter().sum();
        let base = started + initial * 1000;
        let mut reversed = additions.clone();
        reversed.reverse();
        for order in [additions, reversed] {
            let deadline = order.iter().fold(base, |d, secs| d + secs * 1000);
            prop_assert_eq!(deadline, base + total * 1000);
            prop_assert_eq!(remaining_ms(deadline, now), (base + total * 1000 - now).max(0));
        }
        // Seconds shown never jump more than the time added, and never go below 0.
        let before = remaining_secs(base, now);
        let after = remaining_secs(base + total * 1000, now);
        prop_assert!(after >= before && after <= before + total);
        if now < base {
            prop_assert_eq!(after, before + total);
        }
    }

    /// Remaining time never negative, and never increasing while nothing is added.
    #[test]
    fn remaining_time_only_goes_down(deadline in any::<i64>(), now in any::<i64>(), dt in 0i64..10_000_000) {
        let later = now.saturating_add(dt);
        prop_assert!(remaining_ms(deadline, now) >= 0);
        prop_assert!(remaining_secs(deadline, later) <= remaining_secs(deadline, now));
        prop_assert!(remaining_ms(deadline, later) <= remaining_ms(deadline, now));
    }

    /// Following the timer with time added at random moments: exactly one expiry, at the final
    /// deadline, and never a warning level repeated for the same deadline.
    #[test]
    fn timer_with_added_time_expires_once_at_the_final_deadline(
        initial in 1i64..2_000_000,
        additions in proptest::collection::vec((0i64..2_000_000, 1i64..600), 0..5),
    ) {
        let mut deadline = initial;
        let mut pending = additions;
        pending.sort();
        let (mut now, mut level, mut expiries) = (0i64, 0i64, 0);
        for _ in 0..64 {
            let (due, action) = next_action(deadline, level, T, now);
            // Time added before the timer fires: the caller recomputes the level.
            if let Some(&(at, secs)) = pending.first().filter(|(at, _)| *at < due && *at >= now) {
                pending.remove(0);
                now = at;
                deadline += secs * 1000;
                level = level_for_remaining(deadline - now, T);
                continue;
            }
            prop_assert!(due >= now);
            now = due;
            match action {
                poste_server::domain::timing::TimerAction::Warn(w) => {
                    let n = poste_server::domain::timing::level_number(w);
                    prop_assert!(n > level, "warning {} repeated", n);
                    level = n;
                }
                poste_server::domain::timing::TimerAction::Expire => {
                    expiries += 1;
                    break;
                }
            }
        }
        prop_assert_eq!(expiries, 1);
        prop_assert_eq!(now, deadline, "expired before or after its deadline");
    }
}
