//! Telling the world about staff's answer to a visitor's request for more time: the new time
//! first (`time_update`, through the hub), then the answer itself (`time_request`) to the
//! workstation, and the dashboards. The same path serves an answer given on this instance
//! (console, API) and one read from the event log (another instance).

use std::sync::Arc;

use poste_store::{SessionRow, StoreError, TimeRequestStatus};

use crate::domain::change::Change;
use crate::hub::Hub;
use crate::messages;

/// `session` is the session as it is after the time was added (None for a refusal).
pub fn announce_answer(
    hub: &Arc<Hub>,
    request: &poste_store::TimeRequestRow,
    session: Option<SessionRow>,
) {
    if let Some(row) = session {
        hub.apply_row(row, None);
    }
    if let Some(poste) = request.poste_id {
        hub.send_to_poste(poste, &messages::time_request(request));
    }
    hub.announce(Change::postes(request.poste_id));
}

/// An answer given elsewhere (the event log says so): tells this instance's connections of
/// the workstation. The added time itself comes with its own `TimeAdded` event.
pub async fn announce_answer_from_elsewhere(
    hub: &Arc<Hub>,
    session_id: i64,
) -> Result<(), StoreError> {
    if let Some(request) = hub.store().latest_time_request(session_id).await?
        && request.status != TimeRequestStatus::EnAttente
        && let Some(poste) = request.poste_id
    {
        hub.send_to_poste(poste, &messages::time_request(&request));
    }
    Ok(())
}
