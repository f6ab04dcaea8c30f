//! Pure logic of the server: no I/O, no clock reads (`now` is always a parameter).

pub mod access;
pub mod change;
pub mod codes;
pub mod duration;
pub mod feed;
pub mod holidays;
pub mod login_throttle;
pub mod opening;
pub mod power;
pub mod throttle;
pub mod timing;
pub mod validity;

/// A session row for unit tests: 1 h held, created a minute before `now`, started at `now`
/// unless pending.
#[cfg(test)]
pub(crate) fn test_row(
    status: poste_store::SessionStatus,
    now: poste_store::Millis,
) -> poste_store::SessionRow {
    poste_store::SessionRow {
        id: 7,
        code: "K7P2MX".to_owned(),
        utilisateur: None,
        poste_id: None,
        poste_nom: None,
        status,
        initial_secs: 3600,
        added_secs: 0,
        created_at: now - 60_000,
        valid_until: now + 3_600_000,
        started_at: (status != poste_store::SessionStatus::EnAttente).then_some(now),
        ended_at: None,
        end_reason: None,
        warning_level: 0,
        created_by: "test".to_owned(),
        visiteur_id: None,
        espace_id: None,
        poste_espace_id: None,
        atelier: None,
    }
}
