//! The application layer: the use cases of the server, apart from the transports that call
//! them. Staff operations (`staff`, shared by the JSON API, the console and the command line),
//! the team's accounts (`team`, for admins of the console and the command line), the public
//! spaces (`spaces`, for admins), and the
//! workstation's (`workstation`, behind a transport-free [`workstation::Caller`]: the
//! WebSocket only decodes and encodes). Each checks what it is given, writes through the store
//! and, for the workstation's, tells the hub itself.

pub mod power;
pub mod spaces;
mod staff;
pub mod team;
pub mod workshop;
pub mod workstation;

pub use staff::*;

/// The spaces of these workstations as stored now, by workstation id, read at once (for what
/// another instance relays: one read for a batch of the event log, not one a workstation).
pub(crate) async fn spaces_of(
    app: &crate::state::AppState,
    postes: impl Iterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, i64>, poste_store::StoreError> {
    let ids: std::collections::BTreeSet<i64> = postes.collect();
    Ok(app
        .store
        .postes_by_ids(&ids)
        .await?
        .into_iter()
        .map(|poste| (poste.id, poste.espace_id))
        .collect())
}
