//! Who may use a code, and who may act on a session: the rules behind every workstation
//! request that names a session. Pure: the caller's proven workstation and `now` are
//! parameters.
//!
//! A connection speaks for a workstation only when it proved it: an enrolled workstation by its
//! secret, a workstation that is not enrolled by the socket address it is recorded at. What a
//! client *claims* (`validate_code.ip_address`, a `hello` without secret naming a workstation
//! that is elsewhere) never makes it speak for one (docs/security.md §2).

use poste_proto::RefusalReason;
use poste_store::{Millis, SessionRow, SessionStatus};

/// Why a code is refused, with the workstation it is bound to when that is the reason.
pub type CodeRefusal = (RefusalReason, Option<String>);

/// Whether a code may be used from workstation `poste_id` (the one the connection proved it
/// is, if any) at `now`.
pub fn check_code(row: &SessionRow, poste_id: Option<i64>, now: Millis) -> Result<(), CodeRefusal> {
    match row.status {
        SessionStatus::Annulee => Err((RefusalReason::Annule, None)),
        SessionStatus::Terminee | SessionStatus::Expiree => Err((RefusalReason::DejaUtilise, None)),
        // A running session may be taken up again by the workstation it runs on (the agent
        // restarted); anywhere else its code is used up.
        SessionStatus::Active if row.poste_id.is_some() && row.poste_id == poste_id => Ok(()),
        SessionStatus::Active => Err((RefusalReason::DejaUtilise, None)),
        SessionStatus::EnAttente if row.valid_until <= now => Err((RefusalReason::Expire, None)),
        SessionStatus::EnAttente => match row.poste_id {
            Some(bound) if Some(bound) != poste_id => {
                Err((RefusalReason::MauvaisPoste, row.poste_nom.clone()))
            }
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

    #[test]
    fn codes_are_checked_against_the_proven_workstation_and_now() {
        let running = row(SessionStatus::Active, Some(3));
        assert_eq!(check_code(&running, Some(3), NOW), Ok(()));
        assert_eq!(
            check_code(&running, None, NOW),
            Err((RefusalReason::DejaUtilise, None))
        );
        let bound = row(SessionStatus::EnAttente, Some(3));
        assert_eq!(check_code(&bound, Some(3), NOW), Ok(()));
        assert_eq!(
            check_code(&bound, None, NOW),
            Err((RefusalReason::MauvaisPoste, Some("Poste-03".to_owned())))
        );
        assert_eq!(
            check_code(&bound, Some(3), NOW + 60_000),
            Err((RefusalReason::Expire, None))
        );
        assert_eq!(
            check_code(&row(SessionStatus::Annulee, None), None, NOW),
            Err((RefusalReason::Annule, None))
        );
        assert_eq!(
            check_code(&row(SessionStatus::Terminee, Some(3)), Some(3), NOW),
            Err((RefusalReason::DejaUtilise, None))
        );
    }
}
