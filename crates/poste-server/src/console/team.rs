//! Admin actions on the team's accounts from « Équipe »: disable, enable, delete (after a
//! confirmation), give a new password typed twice, and the spaces an account works in. Each
//! answers with a flash on « Équipe »: what was done, or why not (the account no longer exists,
//! someone changed it meanwhile, it is the admin's own or the last admin). An admin of some
//! spaces acts only on the accounts within them.

use axum::extract::State;
use axum::response::Response;
use poste_store::{SpaceScope, StaffChange};
use serde::Deserialize;

use crate::clock::now_ms;
use crate::console::Path;
use crate::console::auth::{self, Staff};
use crate::console::form::{Action, redirect_with};
use crate::console::pages::{Empty, SpaceChecks};
use crate::console::{ConsoleError, PREFIX};
use crate::ops::{OpError, team};
use crate::state::AppState;
use crate::text::console as t;

fn team_page() -> String {
    format!("{PREFIX}/equipe")
}

/// The refusals of a use case as a flash on « Équipe »; a database error stays an error page.
fn refused(err: OpError) -> Result<Response, ConsoleError> {
    match err {
        OpError::Store(err) => Err(err.into()),
        other => Ok(redirect_with(&team_page(), false, &other.to_string())),
    }
}

/// Refuses to an admin of some spaces an account that works beyond them.
async fn require_manages(state: &AppState, staff: &Staff, id: i64) -> Result<(), ConsoleError> {
    if let Some(member) = state.store.staff_by_id(id).await? {
        staff.require_covers(&state.store.staff_scope(&member).await?)?;
    }
    Ok(())
}

async fn change(
    state: &AppState,
    id: i64,
    change: StaffChange,
    action: Action<impl Sized>,
) -> Result<Response, ConsoleError> {
    action.staff.require_admin()?;
    require_manages(state, &action.staff, id).await?;
    let actor = action.staff.actor();
    match team::change_staff(&state.store, id, change, &actor, now_ms(), &state.hub).await {
        Ok(staff) => {
            tracing::info!(login = %staff.login, ?change, by = %action.staff.account().login, "console: staff account changed");
            let done = t::staff_changed(change, &staff.login);
            Ok(redirect_with(&team_page(), true, &done))
        }
        Err(err) => refused(err),
    }
}

pub async fn disable(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<Empty>,
) -> Result<Response, ConsoleError> {
    change(&state, id, StaffChange::Disable, action).await
}

pub async fn enable(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<Empty>,
) -> Result<Response, ConsoleError> {
    change(&state, id, StaffChange::Enable, action).await
}

#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirme: String,
}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<DeleteForm>,
) -> Result<Response, ConsoleError> {
    action.staff.require_admin()?;
    if action.form.confirme != "1" {
        return Ok(redirect_with(&team_page(), false, t::DELETE_UNCONFIRMED));
    }
    change(&state, id, StaffChange::Delete, action).await
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    mot_de_passe: String,
    #[serde(default)]
    confirmation: String,
}

pub async fn reset_password(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<PasswordForm>,
) -> Result<Response, ConsoleError> {
    action.staff.require_admin()?;
    require_manages(&state, &action.staff, id).await?;
    let member = match team::staff_member(&state.store, id).await {
        Ok(member) => member,
        Err(err) => return refused(err),
    };
    let form = &action.form;
    let checked = auth::check_new_password(&form.mot_de_passe).and_then(|()| {
        if form.mot_de_passe == form.confirmation {
            Ok(())
        } else {
            Err(t::PASSWORDS_DIFFER)
        }
    });
    if let Err(why) = checked {
        let message = t::staff_password_refused(&member.login, why);
        return Ok(redirect_with(&team_page(), false, &message));
    }
    let hash = auth::hash_password(form.mot_de_passe.clone()).await?;
    let actor = action.staff.actor();
    match team::reset_password(&state.store, id, &hash, &actor, now_ms(), &state.hub).await {
        Ok(staff) => {
            tracing::info!(login = %staff.login, by = %action.staff.account().login, "console: staff password reset");
            Ok(redirect_with(
                &team_page(),
                true,
                &t::staff_password_reset(&staff.login),
            ))
        }
        Err(err) => refused(err),
    }
}

#[derive(Debug, Deserialize)]
pub struct SpacesForm {
    #[serde(flatten)]
    checks: SpaceChecks,
}

/// Gives an account the spaces ticked (at least one, or every space).
pub async fn spaces(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<SpacesForm>,
) -> Result<Response, ConsoleError> {
    action.staff.require_admin()?;
    require_manages(&state, &action.staff, id).await?;
    let checks = &action.form.checks;
    let scope = if checks.every() {
        SpaceScope::Every
    } else {
        SpaceScope::only(checks.ids())
    };
    action.staff.require_covers(&scope)?;
    let actor = action.staff.actor();
    match team::set_scope(&state.store, id, &scope, &actor, now_ms(), &state.hub).await {
        Ok(staff) => {
            tracing::info!(login = %staff.login, by = %action.staff.account().login, "console: staff spaces changed");
            Ok(redirect_with(
                &team_page(),
                true,
                &t::staff_spaces_set(&staff.login),
            ))
        }
        Err(err) => refused(err),
    }
}
