//! The team's accounts, managed by admins from « Équipe » and from the command line: disable,
//! enable, delete (the history kept), reset a password. Each writes through the store in one
//! transaction with its event, then tells the live feeds when console sessions were closed.
//! Passwords arrive hashed: the adapters check them against the password rules and hash them.

use poste_store::{Actor, Millis, StaffChange, StaffRefusal, StaffRow, Store, StoreError};

use crate::ops::{Announce, OpError};
use crate::text::console as t;

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
    matches!(actor, Actor::Staff { login, .. } if login.eq_ignore_ascii_case(&target.login))
}

fn staff_error(login: &str, err: StoreError) -> OpError {
    match err {
        StoreError::NotFound { .. } => OpError::NotFound(t::STAFF_GONE.to_owned()),
        StoreError::StaffRefused(refusal) => OpError::Conflict(match refusal {
            StaffRefusal::AlreadyDisabled => t::staff_already_disabled(login),
            StaffRefusal::AlreadyEnabled => t::staff_already_enabled(login),
            StaffRefusal::LastAdmin => t::staff_last_admin(login),
            StaffRefusal::LoginOfDeletedAccount => t::staff_login_of_deleted(login),
        }),
        other => OpError::Store(other),
    }
}
