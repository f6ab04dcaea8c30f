//! Workshops (« Atelier CV »): staff open one session of the same duration on each chosen
//! workstation of their spaces, started together with no code typed, named in the statistics.
//! The agents (protocol 5) start it at their gate as if the code had been typed. Staff may also
//! pause the room: every screen shows their words over everything until they lift it.

use std::collections::BTreeSet;

use poste_proto::{RoomLock, ServerMessage};
use poste_store::{Actor, Millis, NewWorkshop, PosteRow, SessionRow, SpaceScope, StoreError};

use crate::domain::change::Change;
use crate::domain::opening::Opening;
use crate::domain::timing::start_plan;
use crate::messages;
use crate::ops::{MAX_TEXT_LEN, OpError};
use crate::state::AppState;
use crate::text::{self, workshop_refusal as refused};

/// The first protocol whose agents start a session the server pushes unasked.
pub const WORKSHOP_SINCE: u32 = 5;

/// What staff chose: the workshop's name, its duration, its workstations (by id).
#[derive(Debug, Clone, Default)]
pub struct WorkshopRequest {
    pub nom: String,
    pub duration_secs: i64,
    pub postes: Vec<i64>,
}

/// Opens the workshop: every workstation chosen must be in `view`, in service, connected with
/// an agent of protocol 5, free, and its space open now, and the duration allowed in its space;
/// otherwise nothing is opened and every reason is said. The sessions are recorded in one
/// transaction, then pushed to the workstations connected here (those on another instance get
/// them from the event log).
pub async fn open_workshop(
    app: &AppState,
    view: &SpaceScope,
    request: &WorkshopRequest,
    actor: &Actor,
    now: Millis,
) -> Result<Vec<SessionRow>, OpError> {
    let nom = request.nom.trim();
    if nom.is_empty() {
        return Err(OpError::Invalid(text::WORKSHOP_NAME_MISSING.to_owned()));
    }
    if nom.chars().count() > MAX_TEXT_LEN || nom.chars().any(char::is_control) {
        return Err(OpError::Invalid(text::NAME_TOO_LONG.to_owned()));
    }
    let ids: BTreeSet<i64> = request.postes.iter().copied().collect();
    if ids.is_empty() {
        return Err(OpError::Invalid(text::WORKSHOP_POSTES_MISSING.to_owned()));
    }
    let settings = app.settings();
    if ids.len() > settings.max_batch as usize {
        return Err(OpError::Invalid(text::workshop_too_many(
            settings.max_batch,
        )));
    }
    let postes = chosen_postes(app, view, &ids).await?;
    let spaces = app.store.list_spaces().await.map_err(OpError::Store)?;
    let online = app.hub.online_postes();
    let mut reasons = Vec::new();
    let mut closed = BTreeSet::new();
    for poste in &postes {
        let space = settings.for_space(poste.espace_id);
        if let Err(OpError::Rejected { message, .. }) =
            crate::ops::check_duration(space, request.duration_secs)
        {
            return Err(OpError::Invalid(message));
        }
        if space.opening_hours.at(now, &space.timezone) == Opening::Closed
            && closed.insert(poste.espace_id)
        {
            let name = spaces
                .iter()
                .find(|row| row.id == poste.espace_id)
                .map_or_else(|| settings.site_name.clone(), |row| row.nom.clone());
            reasons.push(refused::space_closed(&name));
        }
        if poste.hors_service {
            reasons.push(refused::out_of_order(&poste.nom));
        } else if !online.contains(&poste.id) {
            reasons.push(refused::offline(&poste.nom));
        } else if app.hub.speaks_only_below(poste.id, WORKSHOP_SINCE) {
            reasons.push(refused::agent_too_old(&poste.nom));
        } else if app.hub.runs_session_on(poste.id) {
            reasons.push(refused::busy(&poste.nom));
        }
    }
    if !reasons.is_empty() {
        return Err(OpError::Conflict(text::workshop_refused(&reasons)));
    }
    let workshop = NewWorkshop {
        atelier: nom.to_owned(),
        duration_secs: request.duration_secs,
        postes: postes.iter().map(|poste| poste.id).collect(),
    };
    let rows = app
        .store
        .open_workshop(
            &workshop,
            &mut || crate::domain::codes::generate_code(settings.code_length),
            actor,
            now,
            |row| {
                let space = settings.at(row.poste_espace_id);
                let closes_at = match space.opening_hours.at(now, &space.timezone) {
                    Opening::OpenUntil(close) => Some(close),
                    _ => None,
                };
                start_plan(row, closes_at, space.thresholds)
            },
        )
        .await
        .map_err(|err| match err {
            // Started on one of them meanwhile (another instance's visitor).
            StoreError::WrongState(row) => {
                OpError::Conflict(text::workshop_refused(&[refused::busy(
                    row.poste_nom.as_deref().unwrap_or_default(),
                )]))
            }
            StoreError::NotFound { .. } => {
                OpError::NotFound(text::console::POSTE_NOT_FOUND.to_owned())
            }
            other => OpError::Store(other),
        })?;
    let here: BTreeSet<i64> = app.hub.online_here().into_iter().collect();
    for row in &rows {
        let Some(poste_id) = row.poste_id else {
            continue;
        };
        if here.contains(&poste_id) {
            // Owned where its workstation is connected, as a visitor's start.
            let _ = app.hub.claim_timer(row.id).await;
        }
        app.hub.apply_row(row.clone(), None);
        app.hub.mark_delivered(row.id, row.warning_level);
        deliver(app, poste_id, row, now);
    }
    tracing::info!(atelier = %nom, postes = rows.len(), secs = request.duration_secs, "workshop opened");
    app.hub.announce(
        rows.iter()
            .map(Change::of_session)
            .fold(Change::postes([]), Change::merge),
    );
    Ok(rows)
}

/// The workshop's session to the agents of its workstation connected here, which follow it
/// from then on.
fn deliver(app: &AppState, poste_id: i64, row: &SessionRow, now: Millis) {
    app.hub.send_to_poste_speaking(
        poste_id,
        WORKSHOP_SINCE,
        &messages::session_started(row, now),
    );
    app.hub.subscribe_poste(poste_id, row.id);
}

/// A workshop opened through another instance reaches its workstations connected here.
pub async fn relay_start(app: &AppState, event: &poste_store::EventRow) {
    let (Some(poste_id), Some(session_id)) = (event.poste_id, event.session_id) else {
        return;
    };
    if !app.hub.online_here().contains(&poste_id) {
        return;
    }
    match app.store.session(session_id).await {
        Ok(Some(row)) if row.status == poste_store::SessionStatus::Active => {
            let _ = app.hub.claim_timer(row.id).await;
            deliver(app, poste_id, &row, crate::clock::now_ms());
            tracing::info!(
                poste = poste_id,
                session = session_id,
                "workshop session from another instance relayed"
            );
        }
        Ok(_) => {}
        Err(err) => {
            tracing::warn!(session = session_id, error = %err, "could not relay a workshop session");
        }
    }
}

/// The chosen workstations, each in `view` and not retired; one that is not: as if it did not
/// exist (another space's id typed in a form).
async fn chosen_postes(
    app: &AppState,
    view: &SpaceScope,
    ids: &BTreeSet<i64>,
) -> Result<Vec<PosteRow>, OpError> {
    let postes = app.store.postes_by_ids(ids).await.map_err(OpError::Store)?;
    let known = postes
        .iter()
        .filter(|poste| poste.retired_at.is_none() && view.contains(poste.espace_id))
        .count();
    if known != ids.len() {
        return Err(OpError::NotFound(text::console::POSTE_NOT_FOUND.to_owned()));
    }
    let mut postes = postes;
    postes.sort_by(|a, b| a.nom.cmp(&b.nom));
    Ok(postes)
}

/// What a room's pause (or its end) reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoomLockDone {
    /// Workstations connected with an agent of protocol 5: told now (here or through another
    /// instance).
    pub reached: usize,
    /// Not connected: told when they connect again, while it lasts.
    pub offline: usize,
    /// Connected with an older agent: not paused.
    pub too_old: usize,
}

/// Staff pause (`lock`) every workstation of `view`, their screens saying `message` (or the
/// default words), or lift the pause. Kept for workstations that connect later while it
/// lasts; recorded for each workstation with its author.
pub async fn lock_room(
    app: &AppState,
    view: &SpaceScope,
    lock: bool,
    message: &str,
    actor: &Actor,
    now: Millis,
) -> Result<RoomLockDone, OpError> {
    let message = message.trim();
    if message.chars().count() > MAX_TEXT_LEN || message.chars().any(char::is_control) {
        return Err(OpError::Invalid(text::NAME_TOO_LONG.to_owned()));
    }
    let words = if message.is_empty() {
        text::ROOM_LOCK_DEFAULT
    } else {
        message
    };
    let postes: Vec<PosteRow> = app
        .store
        .list_postes()
        .await
        .map_err(OpError::Store)?
        .into_iter()
        .filter(|poste| poste.retired_at.is_none() && view.contains(poste.espace_id))
        .collect();
    let ids: Vec<i64> = postes.iter().map(|poste| poste.id).collect();
    let detail = if lock {
        format!("verrouille : {words}")
    } else {
        "deverrouille".to_owned()
    };
    app.store
        .record_room_lock(&ids, &detail, actor, now)
        .await
        .map_err(OpError::Store)?;
    // Kept by space: a workstation of it that connects later (even a new one) is paused too.
    for space in app.store.list_spaces().await.map_err(OpError::Store)? {
        if view.contains(space.id) {
            app.hub
                .set_room_lock(space.id, lock.then(|| words.to_owned()));
        }
    }
    // The consoles fetch these tiles again (« En pause (atelier) »), not their whole grid.
    app.hub.announce(Change::postes(ids.iter().copied()));
    let online = app.hub.online_postes();
    let mut done = RoomLockDone::default();
    for poste in &postes {
        if !online.contains(&poste.id) {
            done.offline += 1;
        } else if app.hub.speaks_only_below(poste.id, WORKSHOP_SINCE) {
            done.too_old += 1;
        } else {
            send_lock(app, poste.id, lock.then(|| words.to_owned()));
            done.reached += 1;
        }
    }
    tracing::info!(
        lock,
        postes = ids.len(),
        reached = done.reached,
        "room lock"
    );
    Ok(done)
}

/// The pause (or its end) to the workstation's agents connected here.
fn send_lock(app: &AppState, poste_id: i64, words: Option<String>) {
    app.hub.send_to_poste_speaking(
        poste_id,
        WORKSHOP_SINCE,
        &ServerMessage::Lock(RoomLock {
            verrouille: words.is_some(),
            message: words,
        }),
    );
}

/// Pauses given through another instance (`(workstation, detail)` from the event log, one a
/// workstation, in their order): kept here for each workstation's space, and sent to its agents
/// connected here. The spaces are read once for the whole batch, not once a workstation.
pub async fn relay_locks(app: &AppState, locks: &[(i64, String)]) {
    if locks.is_empty() {
        return;
    }
    let spaces = match super::spaces_of(app, locks.iter().map(|(poste, _)| *poste)).await {
        Ok(spaces) => spaces,
        Err(err) => {
            tracing::warn!(error = %err, "could not read the paused workstations' spaces");
            Default::default()
        }
    };
    for (poste_id, detail) in locks {
        let words = detail.strip_prefix("verrouille : ").map(str::to_owned);
        if let Some(&espace_id) = spaces.get(poste_id) {
            app.hub.set_room_lock(espace_id, words.clone());
        }
        send_lock(app, *poste_id, words);
    }
    app.hub
        .announce(Change::postes(locks.iter().map(|(poste, _)| *poste)));
}

/// The pause a workstation that connects gets with its `welcome`, while it lasts in its space.
pub fn lock_on_hello(app: &AppState, espace_id: i64, protocol: u32) -> Option<ServerMessage> {
    if protocol < WORKSHOP_SINCE {
        return None;
    }
    let words = app.hub.room_lock(espace_id)?;
    Some(ServerMessage::Lock(RoomLock {
        verrouille: true,
        message: Some(words),
    }))
}
