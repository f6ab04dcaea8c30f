//! The public spaces of the site, for admins: create, rename, delete an empty one, and move a
//! workstation from one to another. Each refusal is a French sentence; nothing is half-changed.

use poste_store::{
    Actor, Enrollment, Millis, NewSpace, PosteRow, SpaceRefusal, SpaceRow, Store, StoreError,
};

use super::{Announce, MAX_TEXT_LEN, OpError};
use crate::domain::change::Change;
use crate::text;

/// The longest name of a space (it is shown on the gate and on tickets).
pub const MAX_SPACE_NAME: usize = 64;

/// The public name the gate shows and a ticket bears, where `espace_id` is (`None`: every
/// space): the space's name on a site of several spaces, the site's name (« Réglages ») on a
/// site of one, which sees no difference from before spaces (decision 0013).
pub fn public_name(spaces: &[SpaceRow], espace_id: Option<i64>, site_name: &str) -> String {
    let space = espace_id.and_then(|id| spaces.iter().find(|space| space.id == id));
    match space {
        Some(space) if spaces.len() > 1 => space.nom.clone(),
        _ => site_name.to_owned(),
    }
}

/// Creates a space (`id` None) or renames and readdresses one.
pub async fn save_space(
    store: &Store,
    id: Option<i64>,
    nom: &str,
    adresse: &str,
    actor: &Actor,
    now: Millis,
) -> Result<SpaceRow, OpError> {
    let nom = nom.trim();
    let adresse = adresse.trim();
    if nom.is_empty() {
        return Err(OpError::Invalid(text::SPACE_NAME_REQUIRED.to_owned()));
    }
    if nom.chars().count() > MAX_SPACE_NAME
        || adresse.chars().count() > MAX_TEXT_LEN
        || nom.chars().chain(adresse.chars()).any(char::is_control)
    {
        return Err(OpError::Invalid(text::SPACE_NAME_INVALID.to_owned()));
    }
    let space = NewSpace {
        nom: nom.to_owned(),
        adresse: (!adresse.is_empty()).then(|| adresse.to_owned()),
    };
    store
        .save_space(id, &space, actor, now)
        .await
        .map_err(|err| match err {
            StoreError::AlreadyExists { .. } => OpError::Conflict(text::space_name_taken(nom)),
            StoreError::NotFound { .. } => OpError::NotFound(text::SPACE_NOT_FOUND.to_owned()),
            other => OpError::Store(other),
        })
}

/// Deletes an empty space, never the last one.
pub async fn delete_space(
    store: &Store,
    id: i64,
    actor: &Actor,
    now: Millis,
) -> Result<SpaceRow, OpError> {
    store
        .delete_space(id, actor, now)
        .await
        .map_err(|err| match err {
            StoreError::SpaceRefused(refusal) => OpError::Conflict(space_refusal(refusal)),
            StoreError::NotFound { .. } => OpError::NotFound(text::SPACE_NOT_FOUND.to_owned()),
            other => OpError::Store(other),
        })
}

/// Moves a workstation to another space, unless a session runs on it or a code waits for it.
pub async fn move_poste(
    store: &Store,
    poste_id: i64,
    espace_id: i64,
    actor: &Actor,
    now: Millis,
    announce: &dyn Announce,
) -> Result<PosteRow, OpError> {
    let moved = store
        .move_poste(poste_id, espace_id, actor, now)
        .await
        .map_err(|err| match err {
            StoreError::SpaceRefused(refusal) => OpError::Conflict(space_refusal(refusal)),
            StoreError::NotFound { what: "espace", .. } => {
                OpError::NotFound(text::SPACE_NOT_FOUND.to_owned())
            }
            StoreError::NotFound { .. } => {
                OpError::NotFound(text::console::POSTE_NOT_FOUND.to_owned())
            }
            other => OpError::Store(other),
        })?;
    announce.changed(Change::Everything);
    Ok(moved)
}

/// Approves a workstation's pending enrollment in the space staff chose for it (`None`: where
/// it is, for a site of one space). It is moved first: it never serves, even once, in a space
/// nobody chose; should the approval then fail, it waits in the chosen space, still pending.
pub async fn approve_in_space(
    store: &Store,
    poste: &PosteRow,
    espace_id: Option<i64>,
    actor: &Actor,
    now: Millis,
    announce: &dyn Announce,
) -> Result<PosteRow, OpError> {
    // One approved meanwhile by someone else is not moved: the approval below says so.
    if poste.enrollment == Enrollment::EnAttente
        && let Some(espace_id) = espace_id
        && espace_id != poste.espace_id
    {
        move_poste(store, poste.id, espace_id, actor, now, announce).await?;
    }
    super::approve_enrollment(store, &poste.nom, actor, now, announce).await
}

/// The CLI's approval: the workstation and the space by their names. The space is required on
/// a site of several spaces, implied on a site of one.
pub async fn approve_by_names(
    store: &Store,
    nom: &str,
    espace: Option<&str>,
    actor: &Actor,
    now: Millis,
    announce: &dyn Announce,
) -> Result<PosteRow, OpError> {
    let espace_id = match espace.map(str::trim).filter(|name| !name.is_empty()) {
        Some(name) => match store.space_by_name(name).await.map_err(OpError::Store)? {
            Some(space) => Some(space.id),
            None => return Err(OpError::NotFound(text::space_unknown(name))),
        },
        None if store.list_spaces().await.map_err(OpError::Store)?.len() > 1 => {
            return Err(OpError::Invalid(text::APPROVAL_SPACE_MISSING.to_owned()));
        }
        None => None,
    };
    let poste = store
        .poste_by_name(nom.trim())
        .await
        .map_err(OpError::Store)?
        .ok_or_else(|| OpError::NotFound(text::poste_not_found(nom.trim())))?;
    approve_in_space(store, &poste, espace_id, actor, now, announce).await
}

fn space_refusal(refusal: SpaceRefusal) -> String {
    match refusal {
        SpaceRefusal::HasWorkstations(count) => text::space_has_workstations(count),
        SpaceRefusal::HasSessions(count) => text::space_has_sessions(count),
        SpaceRefusal::LastSpace => text::SPACE_LAST.to_owned(),
        SpaceRefusal::OnlySpaceOfStaff(count) => text::space_only_of_staff(count),
        SpaceRefusal::WorkstationBusy => text::SPACE_WORKSTATION_BUSY.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_is_said_in_french() {
        assert!(space_refusal(SpaceRefusal::HasWorkstations(3)).contains("3 postes"));
        assert!(space_refusal(SpaceRefusal::HasSessions(1)).contains("1 code en attente"));
        assert!(space_refusal(SpaceRefusal::LastSpace).contains("seul espace"));
        assert!(space_refusal(SpaceRefusal::OnlySpaceOfStaff(2)).contains("2 comptes"));
        assert!(space_refusal(SpaceRefusal::WorkstationBusy).contains("session en cours"));
    }

    fn space(id: i64, nom: &str) -> SpaceRow {
        SpaceRow {
            id,
            nom: nom.to_owned(),
            adresse: None,
            created_at: 0,
            deleted_at: None,
        }
    }

    #[test]
    fn the_public_name_is_the_spaces_with_several_and_the_sites_with_one() {
        let one = [space(1, "Espace principal")];
        assert_eq!(
            public_name(&one, Some(1), "EPN de Saint-Leu"),
            "EPN de Saint-Leu"
        );
        let two = [space(1, "Médiathèque"), space(2, "Maison de quartier")];
        assert_eq!(
            public_name(&two, Some(2), "EPN de Saint-Leu"),
            "Maison de quartier"
        );
        // A code of every space, or a space gone: the site's name.
        assert_eq!(
            public_name(&two, None, "EPN de Saint-Leu"),
            "EPN de Saint-Leu"
        );
        assert_eq!(
            public_name(&two, Some(9), "EPN de Saint-Leu"),
            "EPN de Saint-Leu"
        );
    }
}
