//! The live feed of the dashboard: a server-sent event stream that says what changed in the
//! spaces the console shows (a code used on a workstation, time added by a colleague, an
//! expiry, a workstation coming or going), after which the page fetches those workstations'
//! tiles again, or the whole dashboard for a change of anything (`*`). Events carry
//! workstation ids only, so nothing is sent that the page would not fetch with the staff
//! member's own session; a console hears nothing of the spaces it does not show.
//!
//! A workstation's page has a feed of its own (`?poste=ID`): the changes of that workstation
//! only, in whichever of the staff member's spaces it is, after which the page fetches its tile
//! (`/console/postes/{id}/tuile`).
//!
//! A feed ends as soon as its console session is closed (its account disabled, deleted or
//! given a new password): its last event, `fermee`, sends the page to the login form.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use poste_store::SpaceScope;
use serde::Deserialize;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::console::auth::Staff;
use crate::console::{ConsoleError, Query};
use crate::domain::change::Change;
use crate::state::AppState;

/// At most one event in this time: a change after a quiet spell goes at once, the changes of
/// a busy one go together at its end.
const COALESCE: Duration = Duration::from_millis(100);

/// What a feed waits for.
struct Feed {
    state: AppState,
    session_id: i64,
    view: SpaceScope,
    /// The workstation whose page this feed is for: its changes only, whatever the view.
    focus: Option<i64>,
    changes: broadcast::Receiver<Change>,
    closed: broadcast::Receiver<()>,
    /// The session was found closed: the `fermee` event was sent, the stream ends.
    ended: bool,
    /// When the last `change` event went.
    last_sent: Option<std::time::Instant>,
}

impl Feed {
    fn concerns(&self, change: &Change) -> bool {
        match self.focus {
            Some(poste) => change.names_poste(poste),
            None => change.concerns(&self.view, &self.state.poste_spaces.get()),
        }
    }
}

#[derive(Deserialize)]
pub struct FeedQuery {
    /// A workstation's id: the feed of its page.
    poste: Option<String>,
}

pub async fn stream(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<FeedQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ConsoleError> {
    let focus = match query.poste.as_deref() {
        None => None,
        Some(id) => {
            let id = id.trim().parse().map_err(|_| ConsoleError::BadForm)?;
            staff.require_poste(&state, id).await?;
            Some(id)
        }
    };
    let feed = Feed {
        focus,
        changes: state.hub.watch_changes(),
        closed: state.hub.watch_staff_closed(),
        session_id: staff.session.id,
        view: staff.view.clone(),
        state,
        ended: false,
        last_sent: None,
    };
    let events = futures_util::stream::unfold(feed, |mut feed| async move {
        if feed.ended {
            return None;
        }
        let mut change = loop {
            tokio::select! {
                change = feed.changes.recv() => match change {
                    Ok(change) if feed.concerns(&change) => break change,
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => break Change::Everything,
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
        };
        if let Some(last) = feed.last_sent {
            tokio::time::sleep_until(tokio::time::Instant::from_std(last + COALESCE)).await;
        }
        feed.last_sent = Some(crate::clock::monotonic());
        // Everything that arrived meanwhile goes with this one event.
        loop {
            match feed.changes.try_recv() {
                Ok(more) if feed.concerns(&more) => change = change.merge(more),
                Ok(_) => {}
                Err(broadcast::error::TryRecvError::Lagged(_)) => change = Change::Everything,
                Err(_) => break,
            }
        }
        Some((
            Ok(Event::default().event("change").data(change.event_data())),
            feed,
        ))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
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
