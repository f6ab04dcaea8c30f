//! Staff power a workstation on (Wake-on-LAN) or off, or restart it: one workstation, or every
//! workstation of the space. A running session is never cut unless staff choose to, and then
//! it ends `[power] cut_secs` later, the visitor warned; the agent carries an order out once
//! the session has ended (docs/protocol.md, `power`).

use poste_proto::wol::Mac;
use poste_proto::{PowerAction, PowerOrder, ServerMessage, StaffMessage, WakeRelay};
use poste_store::{Actor, DEFAULT_SPACE, Millis, PosteRow, SessionRow, SpaceScope, StoreError};

use crate::domain::change::Change;
use crate::domain::power::{
    Ordered, Scheduled, SpaceOrdered, SpaceWoken, WhenBusy, action_word, due_actions,
    parse_order_detail,
};
use crate::ops::OpError;
use crate::state::AppState;
use crate::text;

/// First protocol version whose agents carry power orders out.
pub const POWER_SINCE: u32 = 3;
/// First protocol version whose agents wake others of their space on the server's behalf.
pub const WAKE_RELAY_SINCE: u32 = 4;

async fn poste(app: &AppState, id: i64) -> Result<PosteRow, OpError> {
    match app.store.poste(id).await.map_err(OpError::Store)? {
        Some(poste) if poste.retired_at.is_none() => Ok(poste),
        _ => Err(OpError::NotFound(text::console::POSTE_NOT_FOUND.to_owned())),
    }
}

async fn running_session(app: &AppState, poste_id: i64) -> Result<Option<SessionRow>, OpError> {
    let active = app.store.active_sessions().await.map_err(OpError::Store)?;
    Ok(active
        .into_iter()
        .find(|row| row.poste_id == Some(poste_id)))
}

/// Staff order one workstation to power off or restart. Refused when it is not connected, when
/// its agent is too old to understand, and when a session runs on it and staff did not say
/// what to do with it (`when_busy`).
pub async fn order_power(
    app: &AppState,
    poste_id: i64,
    action: PowerAction,
    when_busy: Option<WhenBusy>,
    actor: &Actor,
    now: Millis,
) -> Result<(PosteRow, Ordered), OpError> {
    if action == PowerAction::Autre {
        return Err(OpError::Invalid(text::POWER_ACTION_REQUIRED.to_owned()));
    }
    let poste = poste(app, poste_id).await?;
    check_reachable(app, &poste)?;
    let session = running_session(app, poste_id).await?;
    let ordered = match (&session, when_busy) {
        (None, _) => Ordered::Now,
        (Some(_), None) => {
            return Err(OpError::Invalid(text::power_session_choice(&poste.nom)));
        }
        (Some(_), Some(WhenBusy::AfterSession)) => Ordered::AfterSession,
        (Some(_), Some(WhenBusy::CutShort)) => {
            let cut_ms = i64::try_from(app.power.cut_secs)
                .unwrap_or(i64::MAX / 1000)
                .saturating_mul(1000);
            Ordered::CutShort(now.saturating_add(cut_ms))
        }
    };
    let cut = send_order(app, &poste, action, session.as_ref(), &ordered, actor, now).await?;
    // Asked to cut a session that ends sooner anyway: it goes down after it, as it is.
    let ordered = match ordered {
        Ordered::CutShort(_) if !cut => Ordered::AfterSession,
        other => other,
    };
    Ok((poste, ordered))
}

/// Online here with an agent that understands, or online on another instance (which relays
/// the order from the event log): else refused, nothing recorded.
fn check_reachable(app: &AppState, poste: &PosteRow) -> Result<(), OpError> {
    if !app.hub.online_postes().contains(&poste.id) {
        return Err(OpError::Conflict(text::power_offline(&poste.nom)));
    }
    if app.hub.speaks_only_below(poste.id, POWER_SINCE) {
        return Err(OpError::Conflict(text::power_agent_too_old(&poste.nom)));
    }
    Ok(())
}

fn power_message(app: &AppState, order_id: i64, action: PowerAction) -> ServerMessage {
    ServerMessage::Power(PowerOrder {
        ordre: order_id,
        action,
        delai_secondes: i64::try_from(app.power.notice_secs).unwrap_or(0),
    })
}

fn cut_notice(app: &AppState, action: PowerAction, session_id: Option<i64>) -> ServerMessage {
    ServerMessage::Message(StaffMessage {
        message: text::power_cut_notice(action, app.power.cut_secs),
        de: None,
        session_id: session_id.map(poste_proto::SessionId),
    })
}

/// A power order given through another instance reaches this instance's connections of that
/// workstation (the order's id makes a second delivery harmless: the agent carries it out
/// once).
pub fn relay_order(app: &AppState, event: &poste_store::EventRow) {
    let (Some(poste_id), Some(detail)) = (event.poste_id, event.detail.as_deref()) else {
        return;
    };
    if !app.hub.online_here().contains(&poste_id) {
        return;
    }
    let Some((action, cut)) = parse_order_detail(detail) else {
        return;
    };
    if cut {
        app.hub
            .send_to_poste(poste_id, &cut_notice(app, action, event.session_id));
    }
    let delivery = app.hub.send_to_poste_speaking(
        poste_id,
        POWER_SINCE,
        &power_message(app, event.id, action),
    );
    tracing::info!(
        poste = poste_id,
        order = event.id,
        sent = delivery.sent,
        "power order from another instance relayed"
    );
}

/// Records the order (and the cut, when asked), tells the hub, sends it; whether the session
/// was cut.
async fn send_order(
    app: &AppState,
    poste: &PosteRow,
    action: PowerAction,
    session: Option<&SessionRow>,
    ordered: &Ordered,
    actor: &Actor,
    now: Millis,
) -> Result<bool, OpError> {
    let cut = match (ordered, session) {
        (Ordered::CutShort(end_at), Some(session)) => Some((session.id, *end_at)),
        _ => None,
    };
    let recorded = app
        .store
        .record_power_order(poste.id, action_word(action), cut, actor, now)
        .await
        .map_err(|err| match err {
            // The session ended meanwhile: nothing was recorded; staff try again.
            StoreError::WrongState(_) => OpError::Conflict(text::power_session_changed(&poste.nom)),
            other => OpError::Store(other),
        })?;
    if let Some(row) = &recorded.session {
        app.hub.apply_row(row.clone(), None);
        app.hub
            .send_to_poste(poste.id, &cut_notice(app, action, Some(row.id)));
    }
    let order = power_message(app, recorded.order_id, action);
    let delivery = app
        .hub
        .send_to_poste_speaking(poste.id, POWER_SINCE, &order);
    tracing::info!(
        poste = %poste.nom,
        order = recorded.order_id,
        ?action,
        sent_here = delivery.sent,
        "power order"
    );
    app.hub.announce(Change::postes([poste.id]));
    Ok(recorded.session.is_some())
}

/// Staff order every workstation of the space to power off or restart. Sessions are never cut
/// from here: each busy workstation goes down after its session.
pub async fn order_power_all(
    app: &AppState,
    scope: &SpaceScope,
    action: PowerAction,
    actor: &Actor,
    now: Millis,
) -> Result<SpaceOrdered, OpError> {
    if action == PowerAction::Autre {
        return Err(OpError::Invalid(text::POWER_ACTION_REQUIRED.to_owned()));
    }
    let mut postes = app.store.list_postes().await.map_err(OpError::Store)?;
    postes.retain(|poste| scope.contains(poste.espace_id));
    let active = app.store.active_sessions().await.map_err(OpError::Store)?;
    // Read once: the site's view is rebuilt at each call.
    let online = app.hub.online_postes();
    let mut done = SpaceOrdered::default();
    for poste in postes.iter().filter(|poste| poste.retired_at.is_none()) {
        if !online.contains(&poste.id) {
            done.offline += 1;
            continue;
        }
        if app.hub.speaks_only_below(poste.id, POWER_SINCE) {
            done.too_old += 1;
            continue;
        }
        let session = active.iter().find(|row| row.poste_id == Some(poste.id));
        let ordered = if session.is_some() {
            done.after_session += 1;
            Ordered::AfterSession
        } else {
            done.now += 1;
            Ordered::Now
        };
        send_order(app, poste, action, session, &ordered, actor, now).await?;
    }
    Ok(done)
}

/// Staff wake one workstation: magic packets to its MAC address. Refused when it is connected
/// already, and when its MAC address is not known.
pub async fn wake(
    app: &AppState,
    poste_id: i64,
    actor: &Actor,
    now: Millis,
) -> Result<PosteRow, OpError> {
    let poste = poste(app, poste_id).await?;
    if app.hub.online_postes().contains(&poste.id) {
        return Err(OpError::Conflict(text::wake_already_on(&poste.nom)));
    }
    let mac = poste_mac(&poste)?;
    send_wake(app, &poste, mac, actor, now).await?;
    relay_wake(app, poste.espace_id, &[mac]).await;
    Ok(poste)
}

fn poste_mac(poste: &PosteRow) -> Result<Mac, OpError> {
    poste
        .mac
        .as_deref()
        .and_then(Mac::parse)
        .ok_or_else(|| OpError::Conflict(text::wake_no_mac(&poste.nom)))
}

async fn send_wake(
    app: &AppState,
    poste: &PosteRow,
    mac: Mac,
    actor: &Actor,
    now: Millis,
) -> Result<(), OpError> {
    if let Err(err) = app.waker.wake(mac).await {
        tracing::warn!(poste = %poste.nom, %mac, error = %err, "Wake-on-LAN packets not sent");
        return Err(OpError::Conflict(text::wake_failed(&poste.nom, &err)));
    }
    tracing::info!(poste = %poste.nom, %mac, "Wake-on-LAN packets sent");
    app.store
        .record_wake(poste.id, &mac.to_string(), actor, now)
        .await
        .map_err(OpError::Store)
}

/// Asks one awake workstation of the space, connected here and recent enough, to send the
/// packets of `macs` on its own network too (`[power] wake_relay`).
async fn relay_wake(app: &AppState, espace_id: i64, macs: &[Mac]) {
    if !app.power.wake_relay || macs.is_empty() {
        return;
    }
    let message = ServerMessage::Wake(WakeRelay {
        mac: macs.iter().map(Mac::to_string).collect(),
    });
    let online: std::collections::BTreeSet<i64> = app.hub.online_postes().into_iter().collect();
    // Their spaces as stored now (a workstation moved a moment ago is where it is now).
    let candidates = match app.store.postes_by_ids(&online).await {
        Ok(postes) => postes,
        Err(err) => {
            tracing::warn!(error = %err, "Wake-on-LAN relay: cannot read the workstations' spaces");
            return;
        }
    };
    let relay = candidates
        .into_iter()
        .filter(|poste| poste.espace_id == espace_id)
        .map(|poste| poste.id)
        .find(|&poste| {
            app.hub
                .send_to_poste_speaking(poste, WAKE_RELAY_SINCE, &message)
                .sent
                > 0
        });
    match relay {
        Some(poste) => tracing::info!(
            relay = poste,
            espace_id,
            count = macs.len(),
            "Wake-on-LAN relayed by an awake workstation of the space"
        ),
        None => tracing::info!(
            espace_id,
            "no awake workstation of the space to relay Wake-on-LAN"
        ),
    }
}

/// Wake-ups sent through another instance (`(workstation, MAC)` from the event log): that
/// instance could only ask the awake workstations connected to it to relay them, so this one
/// asks one of its own, per space. A workstation may then get the packets twice: they wake,
/// they cannot harm.
pub async fn relay_wakes_from_elsewhere(app: &AppState, woken: &[(i64, String)]) {
    if !app.power.wake_relay || woken.is_empty() {
        return;
    }
    let spaces = match super::spaces_of(app, woken.iter().map(|(poste, _)| *poste)).await {
        Ok(spaces) => spaces,
        Err(err) => {
            tracing::warn!(error = %err, "Wake-on-LAN relay: cannot read the workstations' spaces");
            return;
        }
    };
    let mut by_space: std::collections::BTreeMap<i64, Vec<Mac>> = Default::default();
    for (poste, mac) in woken {
        if let (Some(&espace_id), Some(mac)) = (spaces.get(poste), Mac::parse(mac)) {
            by_space.entry(espace_id).or_default().push(mac);
        }
    }
    for (espace_id, macs) in by_space {
        relay_wake(app, espace_id, &macs).await;
    }
}

/// Staff wake every workstation of the space that is not connected.
pub async fn wake_all(
    app: &AppState,
    scope: &SpaceScope,
    actor: &Actor,
    now: Millis,
) -> Result<SpaceWoken, OpError> {
    let mut postes = app.store.list_postes().await.map_err(OpError::Store)?;
    postes.retain(|poste| scope.contains(poste.espace_id));
    let online = app.hub.online_postes();
    let mut done = SpaceWoken::default();
    let mut by_space: std::collections::BTreeMap<i64, Vec<Mac>> = Default::default();
    for poste in postes.iter().filter(|poste| poste.retired_at.is_none()) {
        if online.contains(&poste.id) {
            done.on += 1;
            continue;
        }
        match poste_mac(poste) {
            Ok(mac) => {
                send_wake(app, poste, mac, actor, now).await?;
                by_space.entry(poste.espace_id).or_default().push(mac);
                done.woken += 1;
            }
            Err(_) => done.no_mac.push(poste.nom.clone()),
        }
    }
    // One relay a space, with all of its workstations to wake.
    for (espace_id, macs) in by_space {
        relay_wake(app, espace_id, &macs).await;
    }
    Ok(done)
}

/// Does each space's scheduled wake-up or power-off of the day once it is due (« Réglages »:
/// minutes before the opening, after the closing, in the space's hours and time zone), once
/// across the instances: each is claimed first, by `instance`. Returns what was done, by space.
pub async fn run_schedule(
    app: &AppState,
    instance: &str,
    now: Millis,
) -> Result<Vec<(i64, Scheduled)>, OpError> {
    let settings = app.settings();
    let spaces = app.store.list_spaces().await.map_err(OpError::Store)?;
    let mut done = Vec::new();
    for space in spaces {
        let settings = settings.for_space(space.id);
        let due = due_actions(
            settings.power_schedule,
            &settings.opening_hours,
            &settings.timezone,
            now,
        );
        for (day, action) in due {
            // The default space's claims keep the key they had before spaces.
            let key = if space.id == DEFAULT_SPACE {
                day.to_string()
            } else {
                format!("{day} espace {}", space.id)
            };
            let claimed = app
                .store
                .claim_scheduled_power(&key, action.as_str(), instance, now)
                .await
                .map_err(OpError::Store)?;
            if !claimed {
                continue;
            }
            let scope = SpaceScope::Only(vec![space.id]);
            match action {
                Scheduled::Wake => {
                    let woken = wake_all(app, &scope, &Actor::System, now).await?;
                    tracing::info!(%day, space = %space.nom, woken = woken.woken, on = woken.on, no_mac = ?woken.no_mac, "scheduled wake-up before the opening");
                }
                Scheduled::PowerOff => {
                    let ordered =
                        order_power_all(app, &scope, PowerAction::Extinction, &Actor::System, now)
                            .await?;
                    tracing::info!(%day, space = %space.nom, now = ordered.now, after_session = ordered.after_session, offline = ordered.offline, too_old = ordered.too_old, "scheduled power-off after the closing");
                }
            }
            done.push((space.id, action));
        }
    }
    Ok(done)
}

/// The background task of the power schedule: looks every `every` for an action due.
pub async fn schedule_task(app: AppState, instance: String, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(err) = run_schedule(&app, &instance, crate::clock::now_ms()).await {
            tracing::warn!(error = %err, "power schedule: could not check or act; will try again");
        }
    }
}
