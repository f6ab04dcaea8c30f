//! Builds protocol messages from store rows: the only place that maps a `SessionRow` to the
//! seed's fields.

use poste_proto::{
    EndReason, ServerMessage, SessionId, SessionInfo, SessionStarted, SessionTerminated, Statut,
    TimeRequestReply, TimeRequestStatus as ProtoRequestStatus, TimeUpdate, Warning, WarningLevel,
};
use poste_store::{Millis, SessionRow, SessionStatus, TimeRequestRow, TimeRequestStatus};

use crate::clock::rfc3339;
use crate::domain::opening::Closing;
use crate::domain::timing::{percent_used, remaining_minutes, remaining_ms, remaining_secs};
use crate::text;

pub fn statut(status: SessionStatus) -> Statut {
    match status {
        SessionStatus::EnAttente => Statut::EnAttente,
        SessionStatus::Active => Statut::Active,
        SessionStatus::Terminee => Statut::Terminee,
        SessionStatus::Expiree => Statut::Expiree,
        SessionStatus::Annulee => Statut::Annulee,
    }
}

/// Time left in milliseconds while running (None otherwise).
fn time_left_ms(row: &SessionRow, now: Millis) -> Option<i64> {
    (row.status == SessionStatus::Active)
        .then(|| row.deadline().map(|deadline| remaining_ms(deadline, now)))
        .flatten()
}

/// Time left in seconds: the whole time held before start, nothing once ended.
pub fn time_left(row: &SessionRow, now: Millis) -> i64 {
    match row.status {
        SessionStatus::EnAttente => row.total_secs(),
        SessionStatus::Active => row
            .deadline()
            .map(|deadline| remaining_secs(deadline, now))
            .unwrap_or(0),
        _ => 0,
    }
}

/// The name the workstation shows: the visitor's, else the workshop's, else « Visiteur ».
fn visitor(row: &SessionRow) -> String {
    row.shown_name()
        .unwrap_or(text::ANONYMOUS_VISITOR)
        .to_owned()
}

pub fn end_reason(row: &SessionRow) -> EndReason {
    match row.end_reason.as_deref() {
        Some("temps_expire") => EndReason::TempsExpire,
        Some("termine_par_animateur") => EndReason::TermineParAnimateur,
        Some("termine_par_visiteur") => EndReason::TermineParVisiteur,
        _ if row.status == SessionStatus::Expiree => EndReason::TempsExpire,
        _ => EndReason::Autre,
    }
}

/// The wire name of an end reason, as stored in `sessions.end_reason`.
pub fn end_reason_str(reason: EndReason) -> &'static str {
    match reason {
        EndReason::TempsExpire => "temps_expire",
        EndReason::TermineParAnimateur => "termine_par_animateur",
        EndReason::TermineParVisiteur => "termine_par_visiteur",
        EndReason::Autre => "autre",
    }
}

pub fn code_valid(row: &SessionRow, poste_name: Option<&str>, now: Millis) -> ServerMessage {
    ServerMessage::CodeValid {
        session: SessionInfo {
            id: SessionId(row.id),
            code_acces: row.code.clone(),
            utilisateur: visitor(row),
            poste: row
                .poste_nom
                .clone()
                .or_else(|| poste_name.map(str::to_owned)),
            duree_initiale: row.initial_secs,
            temps_restant: time_left(row, now),
            statut: statut(row.status),
            duree_totale: Some(row.total_secs()),
        },
    }
}

pub fn session_started(row: &SessionRow, now: Millis) -> ServerMessage {
    ServerMessage::SessionStarted {
        session: SessionStarted {
            id: SessionId(row.id),
            statut: statut(row.status),
            temps_restant: time_left(row, now),
            debut_session: row.started_at.map(rfc3339).unwrap_or_default(),
            utilisateur: Some(visitor(row)),
            poste: row.poste_nom.clone(),
            duree_initiale: Some(row.initial_secs),
            duree_totale: Some(row.total_secs()),
            fin_prevue: row.deadline().map(rfc3339),
            temps_restant_ms: time_left_ms(row, now),
            // Stripped on the seed's endpoint (`http::ws::for_endpoint`).
            code_acces: Some(row.code.clone()),
        },
    }
}

pub fn time_update(row: &SessionRow, now: Millis) -> ServerMessage {
    let left = time_left(row, now);
    ServerMessage::TimeUpdate(TimeUpdate {
        temps_restant: left,
        temps_restant_minutes: remaining_minutes(left),
        pourcentage_utilise: match row.status {
            SessionStatus::EnAttente => 0,
            SessionStatus::Active => percent_used(row.total_secs(), left),
            _ => 100,
        },
        statut: statut(row.status),
        session_id: Some(SessionId(row.id)),
        duree_totale: Some(row.total_secs()),
        fin_prevue: row
            .deadline()
            .filter(|_| row.status == SessionStatus::Active)
            .map(rfc3339),
        temps_restant_ms: time_left_ms(row, now),
    })
}

pub fn terminated(row: &SessionRow, message: Option<&str>) -> ServerMessage {
    let raison = end_reason(row);
    let default = if row.status == SessionStatus::Annulee {
        text::refusal(poste_proto::RefusalReason::Annule, None, 0)
    } else {
        text::end_message(raison).to_owned()
    };
    ServerMessage::SessionTerminated(SessionTerminated {
        raison,
        message: message.map(str::to_owned).unwrap_or(default),
        session_id: Some(SessionId(row.id)),
    })
}

/// A warning; `closing` (`18:00`) when the session ends because the space closes.
pub fn warning(
    row_id: i64,
    level: WarningLevel,
    remaining: i64,
    closing: Option<&(String, Closing)>,
) -> ServerMessage {
    ServerMessage::Warning(Warning {
        level,
        message: match closing {
            Some((time, why)) => text::warning_closing(level, remaining, time, why),
            None => text::warning(level, remaining),
        },
        temps_restant: remaining,
        session_id: Some(SessionId(row_id)),
        remaining: None,
    })
}

/// Where a visitor's request for more time stands, for its workstation.
pub fn time_request(row: &TimeRequestRow) -> ServerMessage {
    let (statut, minutes) = match row.status {
        TimeRequestStatus::EnAttente => (ProtoRequestStatus::EnAttente, row.minutes),
        TimeRequestStatus::Acceptee => (ProtoRequestStatus::Acceptee, row.granted_minutes),
        TimeRequestStatus::Refusee => (ProtoRequestStatus::Refusee, None),
    };
    ServerMessage::TimeRequest(TimeRequestReply {
        session_id: SessionId(row.session_id),
        statut,
        minutes,
        message: text::time_request(statut, minutes),
    })
}
