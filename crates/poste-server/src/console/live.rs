//! The live feed of the dashboard: a server-sent event stream that says "something changed"
//! (a code used on a workstation, time added by a colleague, an expiry, a workstation coming
//! or going), after which the page fetches its tiles again. Events carry no data, so nothing
//! is sent that the page would not fetch with the staff member's own session.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use crate::console::auth::Staff;
use crate::state::AppState;

/// Changes closer together than this are sent as one event.
const COALESCE: Duration = Duration::from_millis(100);

pub async fn stream(
    State(state): State<AppState>,
    _staff: Staff,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let changes = state.hub.watch_changes();
    let events = futures_util::stream::unfold(changes, |mut changes| async move {
        match changes.recv().await {
            Ok(()) | Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return None,
        }
        tokio::time::sleep(COALESCE).await;
        // Everything that arrived meanwhile is covered by this one event.
        while changes.try_recv().is_ok() {}
        // An event without data is never dispatched by browsers (HTML, server-sent events).
        Some((Ok(Event::default().event("change").data("1")), changes))
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
