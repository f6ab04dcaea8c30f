//! « Ouvrir un atelier »: a workshop's name, its duration and the workstations ticked (none
//! ticked beforehand), each listed with whether it can take the workshop now. Refused as a
//! whole with every reason, the page shown again as typed.

use std::collections::{BTreeMap, HashSet};

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use poste_store::{PosteRow, SpaceScope};
use serde::Deserialize;

use crate::clock::now_ms;
use crate::console::ConsoleError;
use crate::console::auth::Staff;
use crate::console::form::{Action, redirect_with};
use crate::console::pages::{DASHBOARD, Frame, page};
use crate::domain::duration::parse_duration;
use crate::ops::OpError;
use crate::ops::workshop::{WORKSHOP_SINCE, WorkshopRequest, open_workshop};
use crate::state::AppState;
use crate::text::{self, console as t};

/// The form as typed (kept when refused).
#[derive(Debug, Default, Deserialize)]
pub struct WorkshopForm {
    #[serde(default)]
    nom: String,
    #[serde(default)]
    duree: String,
    /// `poste-{id}` for each box ticked (and the CSRF token).
    #[serde(flatten)]
    fields: BTreeMap<String, String>,
}

impl WorkshopForm {
    /// The workstations ticked; a box that is not a number (a forged form) is none.
    fn postes(&self) -> Vec<i64> {
        self.fields
            .keys()
            .filter_map(|key| key.strip_prefix("poste-"))
            .filter_map(|id| id.parse().ok())
            .collect()
    }
}

/// A workstation as the form lists it.
#[derive(Debug)]
struct Line {
    id: i64,
    nom: String,
    /// Its room, as staff named it.
    emplacement: String,
    /// Can take the workshop now: its box can be ticked.
    free: bool,
    /// « Libre », « Session en cours »…
    state: &'static str,
    ticked: bool,
}

/// The workstations of one space.
#[derive(Debug)]
struct Group {
    /// Empty when the page shows one space.
    space: String,
    lines: Vec<Line>,
}

#[derive(Template)]
#[template(path = "console/workshop.html")]
struct WorkshopPage {
    frame: Frame,
    nom: String,
    duree: String,
    groups: Vec<Group>,
    /// Why nothing was opened.
    error: Option<String>,
}

async fn workshop_page(
    state: &AppState,
    staff: &Staff,
    headers: &HeaderMap,
    form: &WorkshopForm,
    error: Option<String>,
) -> Result<WorkshopPage, ConsoleError> {
    let ticked: HashSet<i64> = form.postes().into_iter().collect();
    let online = state.hub.online_postes();
    let busy: HashSet<i64> = state
        .store
        .active_sessions()
        .await?
        .into_iter()
        .filter_map(|row| row.poste_id)
        .collect();
    let spaces = state.store.list_spaces().await?;
    let mut postes: Vec<PosteRow> = state
        .store
        .list_postes()
        .await?
        .into_iter()
        .filter(|poste| poste.retired_at.is_none() && staff.view.contains(poste.espace_id))
        .collect();
    postes.sort_by(|a, b| a.nom.cmp(&b.nom));
    let several = !matches!(&staff.view, SpaceScope::Only(ids) if ids.len() == 1)
        && spaces.iter().filter(|s| staff.view.contains(s.id)).count() > 1;
    let mut groups = Vec::new();
    for space in spaces.iter().filter(|space| staff.view.contains(space.id)) {
        let lines: Vec<Line> = postes
            .iter()
            .filter(|poste| poste.espace_id == space.id)
            .map(|poste| {
                let state_word = if poste.hors_service {
                    t::WORKSHOP_OUT_OF_ORDER
                } else if !online.contains(&poste.id) {
                    t::WORKSHOP_OFFLINE
                } else if busy.contains(&poste.id) {
                    t::WORKSHOP_BUSY
                } else if state.hub.speaks_only_below(poste.id, WORKSHOP_SINCE) {
                    t::WORKSHOP_AGENT_TOO_OLD
                } else {
                    t::WORKSHOP_FREE
                };
                Line {
                    id: poste.id,
                    nom: poste.nom.clone(),
                    emplacement: poste.emplacement.clone().unwrap_or_default(),
                    free: state_word == t::WORKSHOP_FREE,
                    state: state_word,
                    ticked: ticked.contains(&poste.id),
                }
            })
            .collect();
        if !lines.is_empty() {
            groups.push(Group {
                space: if several {
                    space.nom.clone()
                } else {
                    String::new()
                },
                lines,
            });
        }
    }
    Ok(WorkshopPage {
        frame: Frame::new(state, staff, headers, "tableau"),
        nom: form.nom.clone(),
        duree: form.duree.clone(),
        groups,
        error,
    })
}

pub async fn form(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    page(&workshop_page(&state, &staff, &headers, &WorkshopForm::default(), None).await?)
}

pub async fn open(
    State(state): State<AppState>,
    headers: HeaderMap,
    action: Action<WorkshopForm>,
) -> Result<Response, ConsoleError> {
    let form = action.form;
    // Another space's workstation, even in a forged form: refused as every route does.
    for id in form.postes() {
        action.staff.require_poste(&state, id).await?;
    }
    let typed = form.duree.trim();
    let refused = match parse_duration(typed) {
        Err(_) => text::invalid_duration(typed),
        Ok(duration_secs) => {
            let request = WorkshopRequest {
                nom: form.nom.clone(),
                duration_secs,
                postes: form.postes(),
            };
            let now = now_ms();
            match open_workshop(
                &state,
                &action.staff.view,
                &request,
                &action.staff.actor(),
                now,
            )
            .await
            {
                Ok(rows) => {
                    // Cut by a closing: the first end, in its space's time.
                    let settings = state.settings();
                    let cut_at = rows
                        .iter()
                        .filter(|row| row.total_secs() < duration_secs)
                        .filter_map(|row| Some((row.deadline()?, row.poste_espace_id)))
                        .min()
                        .map(|(end, space)| {
                            crate::clock::local_time(end, &settings.at(space).timezone)
                        });
                    let said = text::workshop_opened(
                        request.nom.trim(),
                        rows.len(),
                        duration_secs,
                        cut_at.as_deref(),
                    );
                    return Ok(redirect_with(DASHBOARD, true, &said));
                }
                // Another space's workstation, or one retired meanwhile.
                Err(OpError::NotFound(message)) => message,
                Err(OpError::Store(err)) => return Err(err.into()),
                Err(
                    OpError::Invalid(message)
                    | OpError::Conflict(message)
                    | OpError::Rejected { message, .. },
                ) => message,
            }
        }
    };
    let html = workshop_page(&state, &action.staff, &headers, &form, Some(refused))
        .await?
        .render()?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
}
