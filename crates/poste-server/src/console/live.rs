//! The live feed of the dashboard: a server-sent event stream that says "something changed"
//! (a code used on a workstation, time added by a colleague, an expiry, a workstation coming
//! or going), after which the page fetches its lists again. Events carry no data, so nothing
//! is sent that the page would not fetch with the staff member's own session.
//!
//! A feed ends as soon as its console session is closed (its account disabled, deleted or
//! given a new password): its last event, `fermee`, sends the page to the login form.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::console::auth::Staff;
use crate::state::AppState;

/// Changes closer together than this are sent as one event.
const COALESCE: Duration = Duration::from_millis(100);

/// What a feed waits for.
struct Feed {
    state: AppState,
    session_id: i64,
    changes: broadcast::Receiver<()>,
    closed: broadcast::Receiver<()>,
    /// The session was found closed: the `fermee` event was sent, the stream ends.
    ended: bool,
}

pub async fn stream(
    State(state): State<AppState>,
    staff: Staff,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let feed = Feed {
        changes: state.hub.watch_changes(),
        closed: state.hub.watch_staff_closed(),
        session_id: staff.session.id,
        state,
        ended: false,
    };
    let events = futures_util::stream::unfold(feed, |mut feed| async move {
        if feed.ended {
            return None;
        }
        loop {
            tokio::select! {
                change = feed.changes.recv() => match change {
                    Ok(()) | Err(RecvError::Lagged(_)) => break,
                    Err(RecvError::Closed) => return None,
                },
                closed = feed.closed.recv() => match closed {
                    Ok(()) | Err(RecvError::Lagged(_)) => {
                        if !session_stands(&feed).await {
                            feed.ended = true;
                            return Some((Ok(Event::default().event("fermee").data("1")), feed));
                        }
                    }
                    Err(RecvError::Closed) => return None,
                },
            }
        }
        tokio::time::sleep(COALESCE).await;
        // Everything that arrived meanwhile is covered by this one event.
        while feed.changes.try_recv().is_ok() {}
        // An event without data is never dispatched by browsers (HTML, server-sent events).
        Some((Ok(Event::default().event("change").data("1")), feed))
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// Whether the feed's console session is still open. A database that cannot tell keeps the
/// feed: the page's next request is checked anyway.
async fn session_stands(feed: &Feed) -> bool {
    match feed.state.store.staff_session_open(feed.session_id).await {
        Ok(open) => open,
        Err(err) => {
            tracing::warn!(error = %err, "console feed: cannot check its session");
            true
        }
    }
}
