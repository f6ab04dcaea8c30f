//! The team's accounts, managed by admins from « Équipe » and from the command line: disable,
//! enable, delete (the history kept), reset a password. Each writes through the store in one
//! transaction with its event, then tells the live feeds when console sessions were closed.
//! Passwords arrive hashed: the adapters check them against the password rules and hash them.

use poste_store::{
    Actor, Millis, SpaceScope, StaffChange, StaffRefusal, StaffRole, StaffRow, Store, StoreError,
};

use crate::domain::change::Change;
use crate::ops::{Announce, OpError};
use crate::text::console as t;

/// The spaces an account is given, as an admin chose them: every space, or some (by id). With
/// no choice, the site's only space is implied (every space for an admin, who then also sees
/// those made later); with several spaces, the admin must choose.
pub async fn scope_choice(
    store: &Store,
    every: bool,
    ids: Vec<i64>,
    role: StaffRole,
) -> Result<SpaceScope, OpError> {
    if every {
        return Ok(SpaceScope::Every);
    }
    if !ids.is_empty() {
        return Ok(SpaceScope::only(ids));
    }
    match store
        .list_spaces()
        .await
        .map_err(OpError::Store)?
        .as_slice()
    {
        [_] if role == StaffRole::Admin => Ok(SpaceScope::Every),
        [only] => Ok(SpaceScope::only(vec![only.id])),
        _ => Err(OpError::Invalid(t::STAFF_SPACES_REQUIRED.to_owned())),
    }
}

/// The spaces (by name, case-insensitive) given on the command line, as ids.
pub async fn space_ids_by_name(store: &Store, names: &[String]) -> Result<Vec<i64>, OpError> {
    let mut ids = Vec::with_capacity(names.len());
    for name in names {
        let space = store
            .space_by_name(name.trim())
            .await
            .map_err(OpError::Store)?
            .ok_or_else(|| OpError::NotFound(crate::text::space_unknown(name.trim())))?;
        ids.push(space.id);
    }
    Ok(ids)
}

/// Gives an account its spaces.
pub async fn set_scope(
    store: &Store,
    id: i64,
    scope: &SpaceScope,
    actor: &Actor,
    now: Millis,
    announce: &dyn Announce,
) -> Result<StaffRow, OpError> {
    let row = store
        .set_staff_scope(id, scope, actor, now)
        .await
        .map_err(scope_refusal)?;
    // What its open consoles show changes: their live feeds start again with the new scope.
    announce.changed(Change::Everything);
    Ok(row)
}

/// A refused choice of spaces, in words.
pub fn scope_refusal(err: StoreError) -> OpError {
    match err {
        StoreError::StaffRefused(StaffRefusal::NoSpace) => {
            OpError::Invalid(t::STAFF_SPACES_REQUIRED.to_owned())
        }
        StoreError::NotFound { what: "espace", .. } => {
            OpError::NotFound(crate::text::SPACE_NOT_FOUND.to_owned())
        }
        StoreError::NotFound { .. } => OpError::NotFound(t::STAFF_GONE.to_owned()),
        other => OpError::Store(other),
    }
}

/// The account with this id, or a refusal saying it no longer exists.
pub async fn staff_member(store: &Store, id: i64) -> Result<StaffRow, OpError> {
    store
        .staff_by_id(id)
        .await
        .map_err(OpError::Store)?
        .ok_or_else(|| OpError::NotFound(t::STAFF_GONE.to_owned()))
}

/// The account with this login (case-insensitive), or a refusal naming the login; deleted
/// accounts are not found.
pub async fn staff_by_login(store: &Store, login: &str) -> Result<StaffRow, OpError> {
    let login = login.trim();
    store
        .staff_credentials(login)
        .await
        .map_err(OpError::Store)?
        .map(|found| found.staff)
        .filter(|staff| staff.deleted_at.is_none())
        .ok_or_else(|| {
            OpError::NotFound(t::staff_not_found(
                &login.chars().take(64).collect::<String>(),
            ))
        })
}

/// Disables, enables or deletes account `id`. An admin of the console may not disable or
/// delete their own account; nobody may disable or delete the last enabled admin; a change
/// someone made meanwhile is refused and said.
pub async fn change_staff(
    store: &Store,
    id: i64,
    change: StaffChange,
    actor: &Actor,
    now: Millis,
    announce: &dyn Announce,
) -> Result<StaffRow, OpError> {
    let target = staff_member(store, id).await?;
    if change != StaffChange::Enable && is_self(actor, &target) {
        return Err(OpError::Conflict(t::STAFF_NOT_YOURSELF.to_owned()));
    }
    let changed = store
        .change_staff(id, change, actor, now)
        .await
        .map_err(|err| staff_error(&target.login, err))?;
    if change != StaffChange::Enable {
        announce.staff_closed();
    }
    Ok(changed)
}

/// Gives account `id` a new password (already checked and hashed); its open console sessions
/// are closed.
pub async fn reset_password(
    store: &Store,
    id: i64,
    password_hash: &str,
    actor: &Actor,
    now: Millis,
    announce: &dyn Announce,
) -> Result<StaffRow, OpError> {
    let target = staff_member(store, id).await?;
    let changed = store
        .set_staff_password(&target.login, password_hash, actor, now)
        .await
        .map_err(|err| staff_error(&target.login, err))?;
    announce.staff_closed();
    Ok(changed)
}

fn is_self(actor: &Actor, target: &StaffRow) -> bool {
    matches!(actor, Actor::Staff { login, .. } if poste_store::fold(login) == poste_store::fold(&target.login))
}

fn staff_error(login: &str, err: StoreError) -> OpError {
    match err {
        StoreError::NotFound { .. } => OpError::NotFound(t::STAFF_GONE.to_owned()),
        StoreError::StaffRefused(refusal) => OpError::Conflict(match refusal {
            StaffRefusal::AlreadyDisabled => t::staff_already_disabled(login),
            StaffRefusal::AlreadyEnabled => t::staff_already_enabled(login),
            StaffRefusal::LastAdmin => t::staff_last_admin(login),
            StaffRefusal::LoginOfDeletedAccount => t::staff_login_of_deleted(login),
            StaffRefusal::NoSpace => t::STAFF_SPACES_REQUIRED.to_owned(),
        }),
        other => OpError::Store(other),
    }
}
