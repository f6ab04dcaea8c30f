//! Who may use a code, and who may act on a session: the rules behind every workstation
//! request that names a session. Pure: the caller's proven workstation and `now` are
//! parameters.
//!
//! A connection speaks for a workstation only when it proved it: an enrolled workstation by its
//! secret, a workstation that is not enrolled by the socket address it is recorded at. What a
//! client *claims* (`validate_code.ip_address`, a `hello` without secret naming a workstation
//! that is elsewhere) never makes it speak for one (docs/security.md §2).

use poste_proto::RefusalReason;
use poste_store::{DEFAULT_SPACE, Millis, PosteRow, SessionRow, SessionStatus};

/// Why a code is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRefusal {
    pub reason: RefusalReason,
    /// The workstation the code is bound to, when that is the reason.
    pub bound_to: Option<String>,
    /// The code was made for another space (reason `MauvaisPoste`, which a client of the seed
    /// protocol knows).
    pub other_space: bool,
}

impl From<RefusalReason> for CodeRefusal {
    fn from(reason: RefusalReason) -> Self {
        CodeRefusal {
            reason,
            bound_to: None,
            other_space: false,
        }
    }
}

/// Where a code is typed: the workstation the connection proved it is, if any, and its space
/// ([`DEFAULT_SPACE`] when it proved none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub poste_id: Option<i64>,
    pub espace_id: i64,
}

impl Place {
    pub fn of(poste: Option<&PosteRow>) -> Place {
        Place {
            poste_id: poste.map(|poste| poste.id),
            espace_id: poste.map_or(DEFAULT_SPACE, |poste| poste.espace_id),
        }
    }
}

/// Whether a code may be used at `place` at `now`.
pub fn check_code(row: &SessionRow, place: Place, now: Millis) -> Result<(), CodeRefusal> {
    let poste_id = place.poste_id;
    match row.status {
        SessionStatus::Annulee => Err(RefusalReason::Annule.into()),
        SessionStatus::Terminee | SessionStatus::Expiree => Err(RefusalReason::DejaUtilise.into()),
        // A running session may be taken up again by the workstation it runs on (the agent
        // restarted); anywhere else its code is used up.
        SessionStatus::Active if row.poste_id.is_some() && row.poste_id == poste_id => Ok(()),
        SessionStatus::Active => Err(RefusalReason::DejaUtilise.into()),
        SessionStatus::EnAttente if row.valid_until <= now => Err(RefusalReason::Expire.into()),
        SessionStatus::EnAttente => match (row.poste_id, row.espace_id) {
            (Some(bound), _) if Some(bound) != poste_id => Err(CodeRefusal {
                reason: RefusalReason::MauvaisPoste,
                bound_to: row.poste_nom.clone(),
                other_space: false,
            }),
            (_, Some(space)) if space != place.espace_id => Err(CodeRefusal {
                reason: RefusalReason::MauvaisPoste,
                bound_to: None,
                other_space: true,
            }),
            _ => Ok(()),
        },
    }
}

/// What a connection may do with a session it names by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionAccess {
    Allowed,
    /// Its code was validated on this connection, but another workstation started it first.
    LostRace,
    Refused,
}

/// Before it starts, a session is reached only by the connection that validated its code;
/// once started, only by connections that speak for the workstation it runs on.
pub fn session_access(
    row: &SessionRow,
    validated_here: bool,
    proven_poste: Option<i64>,
) -> SessionAccess {
    let allowed = if row.status == SessionStatus::EnAttente {
        validated_here
    } else {
        row.poste_id.is_some() && row.poste_id == proven_poste
    };
    if allowed {
        SessionAccess::Allowed
    } else if validated_here {
        SessionAccess::LostRace
    } else {
        SessionAccess::Refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_800_000_000_000;

    fn row(status: SessionStatus, poste_id: Option<i64>) -> SessionRow {
        let mut row = crate::domain::test_row(status, NOW);
        row.poste_id = poste_id;
        row.poste_nom = poste_id.map(|id| format!("Poste-{id:02}"));
        row.valid_until = NOW + 60_000;
        row
    }

    #[test]
    fn a_running_session_belongs_to_its_workstation_only() {
        let running = row(SessionStatus::Active, Some(3));
        assert_eq!(
            session_access(&running, false, Some(3)),
            SessionAccess::Allowed
        );
        // A connection that proved nothing reaches no running session, whatever it claims.
        assert_eq!(
            session_access(&running, false, None),
            SessionAccess::Refused
        );
        assert_eq!(
            session_access(&running, false, Some(4)),
            SessionAccess::Refused
        );
        // Validating the code elsewhere does not give it: the race is lost.
        assert_eq!(
            session_access(&running, true, Some(4)),
            SessionAccess::LostRace
        );
        let ended = row(SessionStatus::Expiree, Some(3));
        assert_eq!(
            session_access(&ended, false, Some(3)),
            SessionAccess::Allowed
        );
        assert_eq!(session_access(&ended, false, None), SessionAccess::Refused);
    }

    #[test]
    fn a_pending_session_is_reached_by_the_connection_that_validated_its_code() {
        let pending = row(SessionStatus::EnAttente, None);
        assert_eq!(session_access(&pending, true, None), SessionAccess::Allowed);
        assert_eq!(
            session_access(&pending, false, Some(3)),
            SessionAccess::Refused
        );
    }

    fn at(poste_id: Option<i64>) -> Place {
        Place {
            poste_id,
            espace_id: DEFAULT_SPACE,
        }
    }

    #[test]
    fn codes_are_checked_against_the_proven_workstation_and_now() {
        let running = row(SessionStatus::Active, Some(3));
        assert_eq!(check_code(&running, at(Some(3)), NOW), Ok(()));
        assert_eq!(
            check_code(&running, at(None), NOW),
            Err(RefusalReason::DejaUtilise.into())
        );
        let bound = row(SessionStatus::EnAttente, Some(3));
        assert_eq!(check_code(&bound, at(Some(3)), NOW), Ok(()));
        assert_eq!(
            check_code(&bound, at(None), NOW),
            Err(CodeRefusal {
                reason: RefusalReason::MauvaisPoste,
                bound_to: Some("Poste-03".to_owned()),
                other_space: false,
            })
        );
        assert_eq!(
            check_code(&bound, at(Some(3)), NOW + 60_000),
            Err(RefusalReason::Expire.into())
        );
        assert_eq!(
            check_code(&row(SessionStatus::Annulee, None), at(None), NOW),
            Err(RefusalReason::Annule.into())
        );
        assert_eq!(
            check_code(&row(SessionStatus::Terminee, Some(3)), at(Some(3)), NOW),
            Err(RefusalReason::DejaUtilise.into())
        );
    }

    #[test]
    fn a_code_of_one_space_is_refused_in_another_and_one_of_every_space_is_not() {
        let mut made_for_2 = row(SessionStatus::EnAttente, None);
        made_for_2.espace_id = Some(2);
        let in_2 = Place {
            poste_id: Some(7),
            espace_id: 2,
        };
        assert_eq!(check_code(&made_for_2, in_2, NOW), Ok(()));
        let refused = check_code(&made_for_2, at(Some(3)), NOW).unwrap_err();
        assert_eq!(refused.reason, RefusalReason::MauvaisPoste);
        assert!(refused.other_space);
        // A connection that proves no workstation is in the default space.
        assert!(check_code(&made_for_2, at(None), NOW).is_err());
        let mut everywhere = made_for_2.clone();
        everywhere.espace_id = None;
        assert_eq!(check_code(&everywhere, at(Some(3)), NOW), Ok(()));
        assert_eq!(check_code(&everywhere, in_2, NOW), Ok(()));
    }
}
