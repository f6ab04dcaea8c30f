//! The dashboard's power actions: wake, power off or restart one workstation (its tile) or
//! every workstation of the space. Nothing is preselected: an order names its action, and a
//! busy workstation's order says what becomes of its session.

use axum::extract::State;
use axum::response::Response;
use poste_proto::PowerAction;
use serde::Deserialize;

use crate::clock::now_ms;
use crate::console::ConsoleError;
use crate::console::Path;
use crate::console::form::{Action, redirect_with};
use crate::console::pages::{DASHBOARD, session_refusal};
use crate::domain::power::{Ordered, WhenBusy};
use crate::ops::OpError;
use crate::ops::power;
use crate::state::AppState;
use crate::text::{self, console as t};

#[derive(Debug, Default, Deserialize)]
pub struct PowerForm {
    #[serde(default)]
    action: String,
    /// `attendre` or `ecourter`, when a session runs.
    #[serde(default)]
    session: String,
}

fn power_action(value: &str) -> Option<PowerAction> {
    match value {
        "eteindre" => Some(PowerAction::Extinction),
        "redemarrer" => Some(PowerAction::Redemarrage),
        _ => None,
    }
}

/// A refusal said in the dashboard's banner, or the error to raise.
fn refusal(err: OpError) -> Result<Response, ConsoleError> {
    Ok(redirect_with(DASHBOARD, false, &session_refusal(err)?))
}

/// One workstation: power off or restart.
pub async fn order(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<PowerForm>,
) -> Result<Response, ConsoleError> {
    action.staff.require_poste(&state, id).await?;
    let Some(power_action) = power_action(&action.form.action) else {
        return Ok(redirect_with(DASHBOARD, false, text::POWER_ACTION_REQUIRED));
    };
    let when_busy = match action.form.session.as_str() {
        "attendre" => Some(WhenBusy::AfterSession),
        "ecourter" => Some(WhenBusy::CutShort),
        _ => None,
    };
    let now = now_ms();
    match power::order_power(
        &state,
        id,
        power_action,
        when_busy,
        &action.staff.actor(),
        now,
    )
    .await
    {
        Ok((poste, ordered)) => {
            let end_at = match ordered {
                Ordered::CutShort(at) => {
                    // On the workstation's space's clock, as its visitor reads it.
                    let settings = state.settings();
                    Some(crate::clock::local_time(
                        at,
                        &settings.for_space(poste.espace_id).timezone,
                    ))
                }
                _ => None,
            };
            let said = text::power_ordered(
                &poste.nom,
                power_action,
                &ordered,
                state.power.notice_secs,
                end_at.as_deref(),
            );
            Ok(redirect_with(DASHBOARD, true, &said))
        }
        Err(err) => refusal(err),
    }
}

/// One workstation: wake it.
pub async fn wake(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<PowerForm>,
) -> Result<Response, ConsoleError> {
    action.staff.require_poste(&state, id).await?;
    match power::wake(&state, id, &action.staff.actor(), now_ms()).await {
        Ok(poste) => Ok(redirect_with(DASHBOARD, true, &text::wake_sent(&poste.nom))),
        Err(err) => refusal(err),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct MessageAllForm {
    #[serde(default)]
    message: String,
}

/// Every connected workstation of the space: a message on its screen.
pub async fn message_all(
    State(state): State<AppState>,
    action: Action<MessageAllForm>,
) -> Result<Response, ConsoleError> {
    let de = action.staff.account().nom.clone();
    let online = state.hub.online_postes();
    let room = crate::ops::Room {
        scope: &action.staff.view,
        online: &online,
    };
    match crate::ops::send_message_to_all(
        &state.store,
        room,
        &action.form.message,
        de,
        &action.staff.actor(),
        now_ms(),
        &state.hub,
    )
    .await
    {
        Ok((reached, offline)) => Ok(redirect_with(
            DASHBOARD,
            reached > 0,
            &t::message_sent_all(reached, offline),
        )),
        Err(err) => refusal(err),
    }
}

/// Every workstation of the space: wake, power off or restart.
pub async fn all(
    State(state): State<AppState>,
    action: Action<PowerForm>,
) -> Result<Response, ConsoleError> {
    let actor = action.staff.actor();
    let now = now_ms();
    if action.form.action == "allumer" {
        return match power::wake_all(&state, &action.staff.view, &actor, now).await {
            Ok(done) => Ok(redirect_with(DASHBOARD, true, &text::woken_all(&done))),
            Err(err) => refusal(err),
        };
    }
    let Some(power_action) = power_action(&action.form.action) else {
        return Ok(redirect_with(
            DASHBOARD,
            false,
            t::POWER_ALL_ACTION_REQUIRED,
        ));
    };
    match power::order_power_all(&state, &action.staff.view, power_action, &actor, now).await {
        Ok(done) => Ok(redirect_with(
            DASHBOARD,
            done.now + done.after_session > 0,
            &text::power_ordered_all(power_action, &done),
        )),
        Err(err) => refusal(err),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PauseForm {
    /// `pause` or `reprendre`: the button pressed.
    #[serde(default)]
    action: String,
    #[serde(default)]
    message: String,
}

/// Every workstation of the space: paused for a workshop, or resumed.
pub async fn pause_all(
    State(state): State<AppState>,
    action: Action<PauseForm>,
) -> Result<Response, ConsoleError> {
    let pause = match action.form.action.as_str() {
        "pause" => true,
        "reprendre" => false,
        _ => {
            return Ok(redirect_with(
                DASHBOARD,
                false,
                text::ROOM_LOCK_ACTION_REQUIRED,
            ));
        }
    };
    match crate::ops::workshop::lock_room(
        &state,
        &action.staff.view,
        pause,
        &action.form.message,
        &action.staff.actor(),
        now_ms(),
    )
    .await
    {
        Ok(done) => Ok(redirect_with(
            DASHBOARD,
            done.reached > 0,
            &text::room_lock_done(pause, done.reached, done.offline, done.too_old),
        )),
        Err(err) => refusal(err),
    }
}
