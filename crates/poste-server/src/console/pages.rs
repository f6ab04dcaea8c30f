//! Handlers of the console's pages and actions. Actions are plain forms: they do one thing
//! through the same operations as the API (`ops`), tell the workstations through the hub at
//! once, and redirect back with a one-shot message saying what happened.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use poste_proto::EndReason;
use poste_store::{
    NewStaff, SessionFilter, SessionStatus, SpaceScope, StaffRefusal, StaffRole, StoreError,
};
use serde::Deserialize;

use crate::clock::now_ms;
use crate::console::auth::{self, LoginRefusal, Staff, same_origin};
use crate::console::form::{Action, Flash, clear_flash, public_form, redirect_with, take_flash};
use crate::console::view::{self, SessionLine, Tile, csv_cell, spaced_code};
use crate::console::visitors::{ChosenVisitor, chosen_visitor};
use crate::console::{ConsoleError, PREFIX, render};
use crate::console::{Path, Query};
use crate::domain::duration::{format_duration, parse_duration};
use crate::domain::login_throttle::{Blocked, account_key};
use crate::ops::{self, CreateSessions, Field, OpError, SpaceChoice};
use crate::state::AppState;
use crate::text::console as t;

pub(super) const DASHBOARD: &str = "/console/";

/// What every page of a logged-in staff member shows around its content.
pub(super) struct Frame {
    pub(super) site_name: String,
    pub(super) staff_name: String,
    pub(super) is_admin: bool,
    /// An admin of every space: the site's settings and spaces are theirs.
    pub(super) is_site_admin: bool,
    pub(super) csrf: String,
    pub(super) flash: Option<Flash>,
    /// The page's entry in the navigation.
    pub(super) current: &'static str,
    /// The space switcher, for an account of several spaces: (id, name) of each.
    pub(super) spaces: Vec<(String, String)>,
    /// The space it shows (an id), or `tous`.
    pub(super) space_shown: String,
    /// Several spaces shown on different clocks: which one the page's times read.
    pub(super) clock_note: Option<String>,
}

impl Frame {
    pub(super) fn new(
        state: &AppState,
        staff: &Staff,
        headers: &HeaderMap,
        current: &'static str,
    ) -> Self {
        Frame {
            site_name: state.settings().site_name.clone(),
            staff_name: staff.account().nom.clone(),
            is_admin: staff.is_admin(),
            is_site_admin: staff.is_admin() && staff.scope == SpaceScope::Every,
            csrf: staff.csrf().to_owned(),
            flash: take_flash(headers),
            current,
            spaces: if staff.spaces.len() > 1 {
                staff
                    .spaces
                    .iter()
                    .map(|(id, nom)| (id.to_string(), nom.clone()))
                    .collect()
            } else {
                Vec::new()
            },
            space_shown: match &staff.view {
                SpaceScope::Only(ids) if ids.len() == 1 && staff.spaces.len() > 1 => {
                    ids[0].to_string()
                }
                _ => "tous".to_owned(),
            },
            clock_note: super::view::clock_note(&state.settings(), &staff.view, &staff.spaces),
        }
    }
}

#[derive(Deserialize)]
pub struct ShownSpaceForm {
    #[serde(default)]
    espace: String,
    #[serde(default)]
    retour: String,
}

/// The space switcher: shows one of the account's spaces, or all of them, on every page.
pub async fn show_space(
    State(state): State<AppState>,
    action: Action<ShownSpaceForm>,
) -> Result<Response, ConsoleError> {
    let chosen = action.form.espace.trim();
    let value = match chosen {
        "tous" => String::new(),
        id => match id.parse::<i64>() {
            Ok(id) => {
                action.staff.require_space(id)?;
                id.to_string()
            }
            Err(_) => return Err(ConsoleError::BadForm),
        },
    };
    let secure = if state.settings().secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=31536000{secure}",
        auth::VIEW_COOKIE
    );
    let mut response = (
        StatusCode::SEE_OTHER,
        [(
            header::LOCATION,
            safe_return(&action.form.retour).to_owned(),
        )],
    )
        .into_response();
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// Renders a page and clears the flash it showed.
pub(super) fn page(template: &impl Template) -> Result<Response, ConsoleError> {
    Ok(clear_flash(render(template)?))
}

// ----- login ----------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    site_name: String,
    login: String,
    error: Option<String>,
    flash: Option<Flash>,
    no_account: bool,
}

pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    let no_account = state.store.list_staff().await?.is_empty();
    page(&LoginPage {
        site_name: state.settings().site_name.clone(),
        login: String::new(),
        error: None,
        flash: take_flash(&headers),
        no_account,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    identifiant: String,
    #[serde(default)]
    mot_de_passe: String,
}

pub async fn login_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    request: Request,
) -> Result<Response, ConsoleError> {
    if !same_origin(request.headers()) {
        return Err(ConsoleError::Csrf);
    }
    let form: LoginForm = public_form(request).await?;
    let ip = peer.ip().to_string();
    match auth::login(&state, &form.identifiant, &form.mot_de_passe, &ip).await? {
        Ok((token, _session)) => {
            let mut response = Redirect::to(DASHBOARD).into_response();
            *response.status_mut() = StatusCode::SEE_OTHER;
            let cookie = HeaderValue::from_str(&auth::session_cookie(&state, &token))
                .map_err(|err| ConsoleError::Internal(err.to_string()))?;
            response.headers_mut().append(header::SET_COOKIE, cookie);
            Ok(response)
        }
        Err(refusal) => {
            let (status, error) = match refusal {
                LoginRefusal::BadCredentials => (StatusCode::UNAUTHORIZED, t::LOGIN_BAD.to_owned()),
                LoginRefusal::Throttled(secs) => {
                    (StatusCode::TOO_MANY_REQUESTS, t::login_throttled(secs))
                }
            };
            let html = LoginPage {
                site_name: state.settings().site_name.clone(),
                login: form.identifiant.chars().take(64).collect(),
                error: Some(error),
                flash: None,
                no_account: false,
            }
            .render()?;
            Ok((status, axum::response::Html(html)).into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout(
    State(state): State<AppState>,
    action: Action<Empty>,
) -> Result<Response, ConsoleError> {
    let staff = action.staff;
    state
        .store
        .delete_staff_session(&staff.session, true, now_ms())
        .await?;
    tracing::info!(login = %staff.account().login, "console logout");
    let mut response = redirect_with(&format!("{PREFIX}/connexion"), true, t::LOGGED_OUT);
    if let Ok(cookie) = HeaderValue::from_str(&auth::clear_cookie(&state)) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

// ----- dashboard ------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage {
    frame: Frame,
    /// Always the whole grid.
    partial: bool,
    /// Tiles without their buttons (more than `full_tiles_max` of them).
    compact: bool,
    tiles: Vec<Tile>,
    pending: PendingCodes,
    now_ms: i64,
    end_reasons: &'static [(&'static str, &'static str)],
    /// How long a session cut short for a power order still runs (« 2 min »).
    power_cut: String,
}

#[derive(Template)]
#[template(path = "console/tiles.html")]
struct TilesFragment {
    frame: Frame,
    /// Some workstations' tiles, not the whole grid.
    partial: bool,
    /// Tiles without their buttons, as the page they go in shows them.
    compact: bool,
    tiles: Vec<Tile>,
    pending: PendingCodes,
    now_ms: i64,
    end_reasons: &'static [(&'static str, &'static str)],
    /// How long a session cut short for a power order still runs (« 2 min »).
    power_cut: String,
}

/// The tiles of the workstations in `view`; `only`: of these workstations only.
async fn current_tiles(
    state: &AppState,
    view: &SpaceScope,
    only: Option<&BTreeSet<i64>>,
    now: i64,
) -> Result<Vec<Tile>, ConsoleError> {
    let mut postes = match only {
        Some(ids) => state.store.postes_by_ids(ids).await?,
        None => state.store.list_postes().await?,
    };
    postes.retain(|poste| view.contains(poste.espace_id));
    let requests = state.store.pending_time_requests().await?;
    let paused: BTreeSet<i64> = postes
        .iter()
        .filter(|poste| state.hub.room_lock(poste.espace_id).is_some())
        .map(|poste| poste.id)
        .collect();
    let mut tiles = view::tiles(
        postes,
        &state.hub.online_postes(),
        &state.hub.live_rows(),
        &requests,
        &state.settings(),
        now,
    );
    for tile in &mut tiles {
        tile.paused = paused.contains(&tile.poste_id);
    }
    Ok(tiles)
}

pub async fn dashboard(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    let now = now_ms();
    let tiles = current_tiles(&state, &staff.view, None, now).await?;
    let pending = pending_codes(&state, &staff.view, now).await?;
    page(&DashboardPage {
        frame: Frame::new(&state, &staff, &headers, "tableau"),
        partial: false,
        compact: state.tiles_without_buttons(tiles.len()),
        tiles,
        pending,
        now_ms: now,
        end_reasons: t::END_REASONS,
        power_cut: power_cut(&state),
    })
}

/// Ids separated by commas (`-`: none); None for anything else, or too many.
fn parse_ids(text: &str) -> Option<BTreeSet<i64>> {
    const MAX_IDS: usize = 5_000;
    if text == "-" {
        return Some(BTreeSet::new());
    }
    let ids: Option<BTreeSet<i64>> = text.split(',').map(|id| id.trim().parse().ok()).collect();
    ids.filter(|ids| ids.len() <= MAX_IDS)
}

fn power_cut(state: &AppState) -> String {
    crate::domain::duration::format_duration(
        i64::try_from(state.power.cut_secs).unwrap_or(i64::MAX),
    )
}

/// The codes not used yet, as « Codes pas encore utilisés » lists them.
#[derive(Debug)]
struct PendingCodes {
    lines: Vec<SessionLine>,
    /// When the first of them stops being valid: the page refreshes then (an expiry writes no
    /// event, so the live feed does not tell it).
    next_expiry_ms: Option<i64>,
}

async fn pending_codes(
    state: &AppState,
    view: &SpaceScope,
    now: i64,
) -> Result<PendingCodes, ConsoleError> {
    let rows: Vec<_> = state
        .store
        .list_sessions(&SessionFilter {
            status: Some(SessionStatus::EnAttente),
            scope: Some(view.clone()),
            limit: Some(50),
            ..SessionFilter::default()
        })
        .await?
        .into_iter()
        .filter(|row| row.valid_until > now)
        .collect();
    let settings = state.settings();
    Ok(PendingCodes {
        next_expiry_ms: rows.iter().map(|row| row.valid_until).min(),
        lines: rows
            .iter()
            .map(|row| SessionLine::new(row, &settings))
            .collect(),
    })
}

#[derive(Debug, Deserialize)]
pub struct TilesQuery {
    /// Workstation ids separated by commas: their tiles only (what the live feed said
    /// changed); absent, the whole grid.
    postes: Option<String>,
    /// How the page shows its tiles (`compacte`: without their buttons, `complete`), for
    /// some workstations' tiles; the whole grid's is the server's choice.
    vue: Option<String>,
}

/// What the dashboard's lists show (the tile grid, or the tiles of some workstations, and the
/// codes not used yet), fetched by its script on every change of the live feed.
pub async fn tiles(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(query): Query<TilesQuery>,
) -> Result<Response, ConsoleError> {
    let now = now_ms();
    let only = match query.postes.as_deref().map(parse_ids) {
        Some(Some(ids)) => Some(ids),
        Some(None) => return Err(ConsoleError::BadForm),
        None => None,
    };
    let partial = only.is_some();
    let shown_compact = match query.vue.as_deref() {
        None | Some("complete") => false,
        Some("compacte") => true,
        Some(_) => return Err(ConsoleError::BadForm),
    };
    let tiles = current_tiles(&state, &staff.view, only.as_ref(), now).await?;
    let compact = if partial {
        shown_compact
    } else {
        state.tiles_without_buttons(tiles.len())
    };
    let pending = pending_codes(&state, &staff.view, now).await?;
    let mut frame = Frame::new(&state, &staff, &headers, "tableau");
    // The flash belongs to the page, not to a refresh of its tiles.
    frame.flash = None;
    render(&TilesFragment {
        frame,
        partial,
        compact,
        tiles,
        pending,
        now_ms: now,
        end_reasons: t::END_REASONS,
        power_cut: power_cut(&state),
    })
}

#[derive(Template)]
#[template(path = "console/poste.html")]
struct PostePage {
    frame: Frame,
    id: i64,
    nom: String,
    /// Never: one tile, the whole grid of this page.
    partial: bool,
    /// Never: the page of a workstation is where its buttons are.
    compact: bool,
    tiles: Vec<Tile>,
    now_ms: i64,
    end_reasons: &'static [(&'static str, &'static str)],
    power_cut: String,
}

/// Workstation `id`'s tile (none if it is gone), by the staff member's spaces, not the space
/// they view: its page stays the workstation's whatever the switcher shows.
async fn poste_tiles(
    state: &AppState,
    staff: &Staff,
    id: i64,
    now: i64,
) -> Result<Vec<Tile>, ConsoleError> {
    staff.require_poste(state, id).await?;
    current_tiles(state, &staff.scope, Some(&BTreeSet::from([id])), now).await
}

/// A workstation's tile with all its buttons, where a dashboard of many workstations leads.
pub async fn poste_page(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, ConsoleError> {
    let now = now_ms();
    let tiles = poste_tiles(&state, &staff, id, now).await?;
    let Some(nom) = tiles.first().map(|tile| tile.nom.clone()) else {
        return Ok(redirect_with(DASHBOARD, false, t::POSTE_NOT_FOUND));
    };
    page(&PostePage {
        frame: Frame::new(&state, &staff, &headers, "tableau"),
        id,
        nom,
        partial: false,
        compact: false,
        tiles,
        now_ms: now,
        end_reasons: t::END_REASONS,
        power_cut: power_cut(&state),
    })
}

#[derive(Template)]
#[template(path = "console/tiles_grid.html")]
struct PosteTile {
    frame: Frame,
    /// Always: the page swaps this tile in.
    partial: bool,
    /// Never, as on its page.
    compact: bool,
    tiles: Vec<Tile>,
    now_ms: i64,
    end_reasons: &'static [(&'static str, &'static str)],
    power_cut: String,
}

/// A workstation's tile alone, as its page shows it: what the page fetches when its feed says
/// the workstation changed. A workstation deleted (404) or moved out of the staff member's
/// spaces (403) meanwhile: the page is loaded again, and says so.
pub async fn poste_tile(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, ConsoleError> {
    let now = now_ms();
    let tiles = poste_tiles(&state, &staff, id, now).await?;
    if tiles.is_empty() {
        return Err(ConsoleError::NotFound);
    }
    let mut frame = Frame::new(&state, &staff, &headers, "tableau");
    frame.flash = None;
    render(&PosteTile {
        frame,
        partial: true,
        compact: false,
        tiles,
        now_ms: now,
        end_reasons: t::END_REASONS,
        power_cut: power_cut(&state),
    })
}

// ----- actions on sessions and workstations ---------------------------------------------------

/// The French message of a refused operation, or the error to raise.
pub(super) fn session_refusal(err: OpError) -> Result<String, ConsoleError> {
    match err {
        OpError::Invalid(message)
        | OpError::Rejected { message, .. }
        | OpError::NotFound(message)
        | OpError::Conflict(message) => Ok(message),
        OpError::Store(err) => Err(ConsoleError::Store(err)),
    }
}

async fn stale_or(state: &AppState, id: i64, err: OpError) -> Result<Response, ConsoleError> {
    if let OpError::Conflict(_) = err
        && let Some(row) = state.store.session(id).await?
    {
        return Ok(redirect_with(
            DASHBOARD,
            false,
            &t::stale_session(row.status.as_str()),
        ));
    }
    let message = session_refusal(err)?;
    Ok(redirect_with(DASHBOARD, false, &message))
}

#[derive(Deserialize)]
pub struct AddTimeForm {
    #[serde(default)]
    minutes: String,
}

pub async fn session_add_time(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<AddTimeForm>,
) -> Result<Response, ConsoleError> {
    action.staff.require_session(&state, id).await?;
    let minutes = match action.form.minutes.trim().parse::<i64>() {
        Ok(minutes) if (1..=720).contains(&minutes) => minutes,
        _ => return Ok(redirect_with(DASHBOARD, false, t::MINUTES_INVALID)),
    };
    let now = now_ms();
    let actor = action.staff.actor();
    match ops::add_time(
        &state.store,
        &state.settings(),
        id,
        minutes * 60,
        &actor,
        now,
        &state.hub,
    )
    .await
    {
        Ok(row) => {
            tracing::info!(session = id, minutes, actor = %actor.label(), "console: time added");
            Ok(redirect_with(
                DASHBOARD,
                true,
                &t::time_added(minutes, row.poste_nom.as_deref()),
            ))
        }
        Err(err) => stale_or(&state, id, err).await,
    }
}

#[derive(Deserialize)]
pub struct AnswerForm {
    /// `accepter` or `refuser`.
    #[serde(default)]
    reponse: String,
    #[serde(default)]
    minutes: String,
}

/// Staff accept (with the minutes given) or refuse a visitor's request for more time.
pub async fn time_request_answer(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<AnswerForm>,
) -> Result<Response, ConsoleError> {
    if let Some(request) = state.store.time_request(id).await? {
        action
            .staff
            .require_session(&state, request.session_id)
            .await?;
    }
    let grant = match action.form.reponse.as_str() {
        "accepter" => match action.form.minutes.trim().parse::<i64>() {
            Ok(minutes) if (1..=720).contains(&minutes) => Some(minutes * 60),
            _ => return Ok(redirect_with(DASHBOARD, false, t::MINUTES_INVALID)),
        },
        "refuser" => None,
        _ => return Ok(redirect_with(DASHBOARD, false, t::BAD_FORM)),
    };
    let actor = action.staff.actor();
    match ops::answer_time_request(
        &state.store,
        &state.settings(),
        id,
        grant,
        &actor,
        now_ms(),
        &state.hub,
    )
    .await
    {
        Ok((request, _)) => {
            tracing::info!(request = id, session = request.session_id, ?grant, actor = %actor.label(), "console: time request answered");
            let poste = request.poste_nom.as_deref();
            let flash = match request.granted_minutes {
                Some(minutes) => t::request_accepted(minutes, poste),
                None => t::request_refused(poste),
            };
            Ok(redirect_with(DASHBOARD, true, &flash))
        }
        Err(err) => Ok(redirect_with(DASHBOARD, false, &session_refusal(err)?)),
    }
}

#[derive(Deserialize)]
pub struct EndForm {
    #[serde(default)]
    raison: String,
}

pub async fn session_end(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<EndForm>,
) -> Result<Response, ConsoleError> {
    action.staff.require_session(&state, id).await?;
    let reason = action.form.raison.trim();
    if !t::END_REASONS.iter().any(|(value, _)| *value == reason) {
        return Ok(redirect_with(DASHBOARD, false, t::END_REASON_REQUIRED));
    }
    let actor = action.staff.actor();
    match ops::end_session(
        &state.store,
        id,
        EndReason::TermineParAnimateur,
        Some(t::end_message_for(reason)),
        &actor,
        now_ms(),
        &state.hub,
    )
    .await
    {
        Ok(row) => {
            tracing::info!(session = id, %reason, actor = %actor.label(), "console: session ended");
            Ok(redirect_with(
                DASHBOARD,
                true,
                &t::session_ended(row.poste_nom.as_deref()),
            ))
        }
        Err(err) => stale_or(&state, id, err).await,
    }
}

#[derive(Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    retour: String,
}

pub async fn session_cancel(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<CancelForm>,
) -> Result<Response, ConsoleError> {
    action.staff.require_session(&state, id).await?;
    let back = safe_return(&action.form.retour);
    match ops::cancel_session(
        &state.store,
        id,
        &action.staff.actor(),
        now_ms(),
        &state.hub,
    )
    .await
    {
        Ok(_) => Ok(redirect_with(back, true, t::CODE_CANCELLED)),
        Err(OpError::Conflict(_)) => {
            let status = state
                .store
                .session(id)
                .await?
                .map(|row| row.status.as_str())
                .unwrap_or("inconnue");
            Ok(redirect_with(back, false, &t::stale_session(status)))
        }
        Err(err) => Ok(redirect_with(back, false, &session_refusal(err)?)),
    }
}

/// A return path given by a form: only a page of the console (never another site).
fn safe_return(path: &str) -> &str {
    if path.starts_with("/console/") && !path.contains("//") && !path.contains('\\') {
        path
    } else {
        DASHBOARD
    }
}

#[derive(Deserialize)]
pub struct MessageForm {
    #[serde(default)]
    message: String,
}

pub async fn poste_message(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<MessageForm>,
) -> Result<Response, ConsoleError> {
    action.staff.require_poste(&state, id).await?;
    let Some(poste) = state.store.poste(id).await? else {
        return Ok(redirect_with(DASHBOARD, false, t::POSTE_NOT_FOUND));
    };
    let de = action.staff.account().nom.clone();
    let actor = action.staff.actor();
    match ops::send_message(
        &state.store,
        &poste,
        &action.form.message,
        de,
        &actor,
        now_ms(),
        &state.hub,
    )
    .await
    {
        Ok(delivered) => Ok(redirect_with(
            DASHBOARD,
            delivered > 0,
            &t::message_sent(&poste.nom, delivered),
        )),
        Err(OpError::Invalid(message)) => Ok(redirect_with(DASHBOARD, false, &message)),
        Err(err) => Ok(redirect_with(DASHBOARD, false, &session_refusal(err)?)),
    }
}

#[derive(Deserialize)]
pub struct ServiceForm {
    #[serde(default)]
    hors_service: String,
}

pub async fn poste_service(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<ServiceForm>,
) -> Result<Response, ConsoleError> {
    action.staff.require_poste(&state, id).await?;
    let out = action.form.hors_service == "1";
    let actor = action.staff.actor();
    match ops::set_out_of_order(&state.store, id, out, &actor, now_ms(), &state.hub).await {
        Ok(poste) => {
            tracing::info!(poste = %poste.nom, out_of_order = out, "console: workstation service changed");
            Ok(redirect_with(
                DASHBOARD,
                true,
                &t::poste_out_of_order(&poste.nom, out),
            ))
        }
        Err(StoreError::NotFound { .. }) => Ok(redirect_with(DASHBOARD, false, t::POSTE_NOT_FOUND)),
        Err(err) => Err(err.into()),
    }
}

// ----- creating sessions and printing tickets -------------------------------------------------

/// How a preset of the session form reads to staff (`1h` → « 1 h »).
fn preset_label(value: &str) -> &str {
    PRESETS
        .iter()
        .find(|(preset, _)| *preset == value)
        .map_or(value, |(_, label)| label)
}

/// The duration presets of the session form, as (value, label).
const PRESETS: &[(&str, &str)] = &[
    ("30min", "30 min"),
    ("1h", "1 h"),
    ("2h", "2 h"),
    ("autre", "Autre durée"),
];

#[derive(Template)]
#[template(path = "console/session_form.html")]
struct SessionFormPage {
    frame: Frame,
    visitor: Option<ChosenVisitor>,
    form: SessionFormValues,
    errors: FieldErrors,
    postes: Vec<String>,
    /// The spaces shown (id, name): the form asks which one when there are several.
    spaces: Vec<(String, String)>,
    /// « Tous les espaces » is offered to those who work in every space.
    every_allowed: bool,
    presets: &'static [(&'static str, &'static str)],
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct SessionFormValues {
    #[serde(default)]
    utilisateur: String,
    #[serde(default)]
    duree: String,
    #[serde(default)]
    duree_autre: String,
    #[serde(default)]
    poste: String,
    #[serde(default)]
    nombre: String,
    /// Id of a registered visitor (from the visitors' page).
    #[serde(default)]
    visiteur: String,
    /// A space's id, `tous`, or nothing chosen.
    #[serde(default)]
    espace: String,
}

/// French messages next to the fields of a form.
#[derive(Debug, Default)]
struct FieldErrors {
    utilisateur: Option<String>,
    duree: Option<String>,
    poste: Option<String>,
    nombre: Option<String>,
    espace: Option<String>,
    general: Option<String>,
}

impl FieldErrors {
    fn any(&self) -> bool {
        self.utilisateur.is_some()
            || self.duree.is_some()
            || self.poste.is_some()
            || self.nombre.is_some()
            || self.espace.is_some()
            || self.general.is_some()
    }
}

/// The spaces of `scope` as the forms list them: (id, name).
pub(super) async fn space_options(
    state: &AppState,
    scope: &SpaceScope,
) -> Result<Vec<(String, String)>, ConsoleError> {
    Ok(state
        .store
        .list_spaces()
        .await?
        .into_iter()
        .filter(|space| scope.contains(space.id))
        .map(|space| (space.id.to_string(), space.nom))
        .collect())
}

/// The space chosen in a form's « Espace » list: an id, `tous`, or nothing.
fn chosen_space(value: &str) -> Result<Option<SpaceChoice>, String> {
    match value.trim() {
        "" => Ok(None),
        "tous" => Ok(Some(SpaceChoice::Every)),
        id => id
            .parse()
            .map(|id| Some(SpaceChoice::One(id)))
            .map_err(|_| crate::text::SPACE_NOT_FOUND.to_owned()),
    }
}

/// The names of the workstations of `view`.
pub(super) async fn poste_names(
    state: &AppState,
    view: &SpaceScope,
) -> Result<Vec<String>, ConsoleError> {
    Ok(state
        .store
        .list_postes()
        .await?
        .into_iter()
        .filter(|p| view.contains(p.espace_id))
        .map(|p| p.nom)
        .collect())
}

#[derive(Deserialize)]
pub struct SessionFormQuery {
    visiteur: Option<i64>,
}

pub async fn session_form(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(query): Query<SessionFormQuery>,
) -> Result<Response, ConsoleError> {
    let visitor = chosen_visitor(&state, query.visiteur).await?;
    page(&SessionFormPage {
        frame: Frame::new(&state, &staff, &headers, "nouvelle"),
        form: SessionFormValues {
            visiteur: visitor
                .as_ref()
                .map(|v| v.id.to_string())
                .unwrap_or_default(),
            duree: "1h".to_owned(),
            nombre: "1".to_owned(),
            ..SessionFormValues::default()
        },
        visitor,
        errors: FieldErrors::default(),
        postes: poste_names(&state, &staff.view).await?,
        spaces: space_options(&state, &staff.view).await?,
        every_allowed: staff.scope == SpaceScope::Every,
        presets: PRESETS,
    })
}

pub async fn session_create(
    State(state): State<AppState>,
    headers: HeaderMap,
    action: Action<SessionFormValues>,
) -> Result<Response, ConsoleError> {
    let form = action.form;
    let mut errors = FieldErrors::default();
    // A duration typed in « Autre durée » is a choice: never silently replaced by the preset
    // still checked beside it (the script checks « Autre durée » as one types; without it, the
    // two disagreeing are refused).
    let typed = form.duree_autre.trim();
    let duration = match (form.duree.as_str(), typed) {
        ("autre", _) | ("", _) if !typed.is_empty() => {
            parse_duration(typed).map_err(|_| crate::text::invalid_duration(typed))
        }
        ("" | "autre", _) => Err(t::DURATION_REQUIRED.to_owned()),
        (preset, "") => parse_duration(preset).map_err(|_| t::DURATION_REQUIRED.to_owned()),
        (preset, typed) => Err(t::durations_disagree(preset_label(preset), typed)),
    };
    let count = match form.nombre.trim() {
        "" => Ok(1),
        text => text
            .parse::<u32>()
            .map_err(|_| crate::text::count_out_of_range(state.settings().max_batch)),
    };
    let espace = chosen_space(&form.espace).map(|chosen| match (chosen, &action.staff.view) {
        // Where the account works in one space (or the switcher shows one), its codes are
        // that space's unless bound to a workstation, which says it.
        (None, SpaceScope::Only(ids)) if ids.len() == 1 && form.poste.trim().is_empty() => {
            Some(SpaceChoice::One(ids[0]))
        }
        (chosen, _) => chosen,
    });
    // Nothing of another space, even in a forged form: its space, its workstation, or every
    // space for an account that does not work in all of them.
    match &espace {
        Ok(Some(SpaceChoice::One(id))) => action.staff.require_space(*id)?,
        Ok(Some(SpaceChoice::Every)) if action.staff.scope != SpaceScope::Every => {
            return Err(ConsoleError::OtherSpace);
        }
        _ => {}
    }
    if !form.poste.trim().is_empty()
        && let Some(poste) = state.store.poste_by_name(form.poste.trim()).await?
    {
        action.staff.require_space(poste.espace_id)?;
    }
    match (&duration, &count, &espace) {
        (Err(message), _, _) => errors.duree = Some(message.clone()),
        (_, Err(message), _) => errors.nombre = Some(message.clone()),
        (_, _, Err(message)) => errors.espace = Some(message.clone()),
        _ => {}
    }
    if let (Ok(duration_secs), Ok(count), Ok(espace)) = (duration, count, espace) {
        let request = CreateSessions {
            utilisateur: Some(form.utilisateur.clone()),
            duration_secs,
            poste: Some(form.poste.clone()),
            count,
            valid_for_secs: None,
            visiteur_id: form.visiteur.trim().parse().ok(),
            espace,
        };
        let actor = action.staff.actor();
        match ops::create_sessions(
            &state.store,
            &state.settings(),
            &request,
            &actor,
            now_ms(),
            &state.hub,
        )
        .await
        {
            Ok(rows) => {
                tracing::info!(count = rows.len(), actor = %actor.label(), "console: sessions created");
                let ids: Vec<String> = rows.iter().map(|row| row.id.to_string()).collect();
                return Ok(redirect_with(
                    &format!("{PREFIX}/tickets?ids={}", ids.join(",")),
                    true,
                    &t::sessions_created_for(
                        rows.len(),
                        &format_duration(duration_secs),
                        rows.first().map_or("", |row| row.code.as_str()),
                    ),
                ));
            }
            Err(OpError::Rejected { field, message }) => match field {
                Field::Duration => errors.duree = Some(message),
                Field::Count => errors.nombre = Some(message),
                Field::Visitor => errors.general = Some(message),
                Field::Space => errors.espace = Some(message),
            },
            // Only the visitor's name is left to be refused as such (and it has a field only
            // when no registered visitor was chosen).
            Err(OpError::Invalid(message)) if form.visiteur.trim().is_empty() => {
                errors.utilisateur = Some(message)
            }
            Err(OpError::Invalid(message)) => errors.general = Some(message),
            Err(OpError::NotFound(message)) => errors.poste = Some(message),
            Err(OpError::Conflict(message)) => errors.general = Some(message),
            Err(OpError::Store(err)) => return Err(err.into()),
        }
    }
    debug_assert!(errors.any());
    let visitor = chosen_visitor(&state, form.visiteur.trim().parse().ok()).await?;
    let html = SessionFormPage {
        frame: Frame::new(&state, &action.staff, &headers, "nouvelle"),
        visitor,
        form,
        errors,
        postes: poste_names(&state, &action.staff.view).await?,
        spaces: space_options(&state, &action.staff.view).await?,
        every_allowed: action.staff.scope == SpaceScope::Every,
        presets: PRESETS,
    }
    .render()?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, axum::response::Html(html)).into_response())
}

#[derive(Template)]
#[template(path = "console/tickets.html")]
struct TicketsPage {
    frame: Frame,
    tickets: Vec<Ticket>,
    /// `a4` or `ticket` (80 mm receipt printers).
    format: &'static str,
    ids: String,
}

#[derive(Debug)]
struct Ticket {
    /// The public name of the space where it is valid (the site's for every space).
    place: String,
    code: String,
    duration: String,
    valid_until: String,
    poste: String,
    visitor: String,
    usable: bool,
}

#[derive(Deserialize)]
pub struct TicketsQuery {
    #[serde(default)]
    ids: String,
    #[serde(default)]
    format: String,
}

/// Most tickets on one page (a workshop batch).
const MAX_TICKETS: usize = 200;

pub async fn tickets(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(query): Query<TicketsQuery>,
) -> Result<Response, ConsoleError> {
    let ids: Vec<i64> = query
        .ids
        .split(',')
        .filter_map(|id| id.trim().parse().ok())
        .take(MAX_TICKETS)
        .collect();
    let mut tickets = Vec::with_capacity(ids.len());
    let settings = state.settings();
    let spaces = state.store.list_spaces().await?;
    for id in &ids {
        if let Some(row) = state.store.session(*id).await? {
            staff.require_session_row(&state, &row).await?;
            tickets.push(Ticket {
                place: ops::spaces::public_name(&spaces, row.space(), &settings.site_name),
                code: spaced_code(&row.code),
                duration: format_duration(row.total_secs()),
                // On the space's clock, as its gate reads it.
                valid_until: view::validity(row.valid_until, &settings.at(row.space()).timezone),
                poste: row
                    .poste_nom
                    .clone()
                    .unwrap_or_else(|| "tous les postes".to_owned()),
                visitor: row.utilisateur.clone().unwrap_or_default(),
                usable: row.status == SessionStatus::EnAttente,
            });
        }
    }
    if tickets.is_empty() {
        return Err(ConsoleError::NotFound);
    }
    page(&TicketsPage {
        frame: Frame::new(&state, &staff, &headers, "nouvelle"),
        tickets,
        format: if query.format == "ticket" {
            "ticket"
        } else {
            "a4"
        },
        ids: ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","),
    })
}

// ----- session list and CSV export ------------------------------------------------------------

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    statut: String,
    /// `AAAA-MM-JJ`: sessions created that day.
    #[serde(default)]
    jour: String,
    #[serde(default)]
    poste: String,
    #[serde(default)]
    utilisateur: String,
}

#[derive(Template)]
#[template(path = "console/sessions.html")]
struct SessionsPage {
    frame: Frame,
    query: ListQuery,
    query_string: String,
    error: Option<&'static str>,
    sessions: Vec<SessionLine>,
    postes: Vec<String>,
    statuses: &'static [(&'static str, &'static str)],
}

const STATUSES: &[(&str, &str)] = &[
    ("en_attente", "En attente"),
    ("active", "En cours"),
    ("terminee", "Terminée"),
    ("expiree", "Expirée"),
    ("annulee", "Annulée"),
];

/// The store's filter for a list query; the error is shown above the list.
async fn list_filter(
    state: &AppState,
    view: &SpaceScope,
    query: &ListQuery,
    limit: i64,
) -> Result<Result<SessionFilter, &'static str>, ConsoleError> {
    let mut filter = SessionFilter {
        scope: Some(view.clone()),
        limit: Some(limit),
        ..SessionFilter::default()
    };
    if !query.statut.is_empty() {
        match SessionStatus::parse(&query.statut) {
            Some(status) => filter.status = Some(status),
            None => return Ok(Err(t::STATUS_INVALID)),
        }
    }
    if !query.jour.trim().is_empty() {
        let Ok(day) = query.jour.trim().parse::<jiff::civil::Date>() else {
            return Ok(Err(t::DAY_INVALID));
        };
        let tz = state.settings().shown(view).timezone.clone();
        let start = day
            .to_zoned_datetime(tz.clone())
            .map_err(|_| ConsoleError::BadForm);
        let end = day
            .tomorrow()
            .and_then(|next| next.to_zoned_datetime(tz.clone()))
            .map_err(|_| ConsoleError::BadForm);
        match (start, end) {
            (Ok(start), Ok(end)) => {
                filter.created_from = Some(start.timestamp().as_millisecond());
                filter.created_to = Some(end.timestamp().as_millisecond());
            }
            _ => return Ok(Err(t::DAY_INVALID)),
        }
    }
    if !query.poste.trim().is_empty() {
        match state.store.poste_by_name(query.poste.trim()).await? {
            Some(poste) => filter.poste_id = Some(poste.id),
            // An unknown name matches nothing.
            None => filter.poste_id = Some(-1),
        }
    }
    let visitor = query.utilisateur.trim();
    if !visitor.is_empty() {
        filter.utilisateur = Some(visitor.chars().take(100).collect());
    }
    Ok(Ok(filter))
}

fn query_string(query: &ListQuery) -> String {
    serde_urlencoded::to_string([
        ("statut", query.statut.as_str()),
        ("jour", query.jour.as_str()),
        ("poste", query.poste.as_str()),
        ("utilisateur", query.utilisateur.as_str()),
    ])
    .unwrap_or_default()
}

pub async fn sessions_list(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Result<Response, ConsoleError> {
    let (sessions, error) = match list_filter(&state, &staff.view, &query, 500).await? {
        Ok(filter) => (
            state
                .store
                .list_sessions(&filter)
                .await?
                .iter()
                .map(|row| SessionLine::new(row, &state.settings()))
                .collect(),
            None,
        ),
        Err(message) => (Vec::new(), Some(message)),
    };
    page(&SessionsPage {
        frame: Frame::new(&state, &staff, &headers, "sessions"),
        query_string: query_string(&query),
        query,
        error,
        sessions,
        postes: poste_names(&state, &staff.view).await?,
        statuses: STATUSES,
    })
}

/// Most rows in one export.
const MAX_EXPORT_ROWS: i64 = 1000;

pub async fn sessions_csv(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<ListQuery>,
) -> Result<Response, ConsoleError> {
    let filter = match list_filter(&state, &staff.view, &query, MAX_EXPORT_ROWS).await? {
        Ok(filter) => filter,
        Err(_) => return Err(ConsoleError::BadForm),
    };
    let rows = state.store.list_sessions(&filter).await?;
    let settings = state.settings();
    // A byte-order mark and semicolons: what French spreadsheets open without asking.
    let mut csv = String::from("\u{feff}");
    csv.push_str(
        "id;code;visiteur;poste;statut;duree_totale_min;creee_le;creee_par;debut;fin;raison_fin\r\n",
    );
    for row in &rows {
        let line = SessionLine::new(row, &settings);
        let cells = [
            row.id.to_string(),
            row.code.clone(),
            line.visitor,
            row.poste_nom.clone().unwrap_or_default(),
            line.statut_label.to_owned(),
            (row.total_secs() / 60).to_string(),
            line.created,
            line.created_by,
            line.started,
            line.ended,
            line.reason,
        ];
        let cells: Vec<String> = cells.iter().map(|cell| csv_cell(cell)).collect();
        csv.push_str(&cells.join(";"));
        csv.push_str("\r\n");
    }
    let filename = format!(
        "sessions-{}.csv",
        view::local_datetime(now_ms(), &settings.timezone)
            .get(6..10)
            .unwrap_or("export")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        csv,
    )
        .into_response())
}

// ----- staff accounts (admin) -----------------------------------------------------------------

#[derive(Template)]
#[template(path = "console/team.html")]
struct TeamPage {
    frame: Frame,
    members: Vec<Member>,
    /// Addresses whose logins naming no account (or a disabled one) must wait.
    no_account_blocked: Vec<String>,
    form: StaffFormValues,
    errors: StaffErrors,
    /// The admin's spaces (id, name): accounts are given some when the site has several.
    spaces: Vec<(String, String)>,
    /// « Tous les espaces » is given by admins of every space.
    every_allowed: bool,
}

#[derive(Debug)]
struct Member {
    id: i64,
    /// The spaces it works in, as staff read them.
    espaces: String,
    tous_espaces: bool,
    /// Its spaces' ids, when not every space.
    espace_ids: Vec<String>,
    login: String,
    nom: String,
    role: &'static str,
    last_login: String,
    /// Addresses this account must wait at after failed logins (on this server).
    blocked: Vec<String>,
    /// Since when the account is disabled, as staff read it.
    disabled_since: Option<String>,
    /// The account of whoever looks at the page (it cannot be disabled or deleted by them).
    is_self: bool,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct StaffFormValues {
    #[serde(default)]
    identifiant: String,
    #[serde(default)]
    nom: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    mot_de_passe: String,
    #[serde(default)]
    confirmation: String,
    #[serde(flatten)]
    espaces: SpaceChecks,
}

/// The spaces ticked in a form: `tous_espaces`, and `espace-ID` for each space ticked.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct SpaceChecks(std::collections::BTreeMap<String, String>);

impl SpaceChecks {
    pub(super) fn every(&self) -> bool {
        self.0.contains_key("tous_espaces")
    }

    /// The ids ticked; a box that is not a number (a forged form) is no space.
    pub(super) fn ids(&self) -> Vec<i64> {
        self.0
            .keys()
            .filter_map(|key| key.strip_prefix("espace-"))
            .filter_map(|id| id.parse().ok())
            .collect()
    }

    /// Whether box `id` (a space's id, as the page writes it) is ticked.
    fn has(&self, id: &str) -> bool {
        self.0.contains_key(&format!("espace-{id}"))
    }
}

#[derive(Debug, Default)]
struct StaffErrors {
    identifiant: Option<String>,
    nom: Option<String>,
    role: Option<String>,
    mot_de_passe: Option<String>,
    espaces: Option<String>,
}

async fn team_page(
    state: &AppState,
    staff: &Staff,
    headers: &HeaderMap,
    form: StaffFormValues,
    errors: StaffErrors,
) -> Result<TeamPage, ConsoleError> {
    let tz = &state.settings().timezone;
    let blocked = state.login_throttle.blocked(crate::clock::monotonic());
    let blocked_line = |pair: &Blocked| {
        let secs = u64::try_from(pair.remaining.as_millis().div_ceil(1000)).unwrap_or(u64::MAX);
        t::login_blocked(&pair.address, pair.failures, secs)
    };
    let spaces = space_options(state, &staff.scope).await?;
    let mut scopes = Vec::new();
    let accounts = state.store.list_staff().await?;
    for account in &accounts {
        scopes.push(state.store.staff_scope(account).await?);
    }
    let members = accounts
        .into_iter()
        .zip(scopes)
        .map(|(m, scope)| Member {
            espaces: match &scope {
                SpaceScope::Every => crate::text::SPACE_EVERY.to_owned(),
                SpaceScope::Only(ids) => spaces
                    .iter()
                    .filter(|(id, _)| ids.iter().any(|own| own.to_string() == *id))
                    .map(|(_, nom)| nom.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            },
            tous_espaces: scope == SpaceScope::Every,
            espace_ids: match &scope {
                SpaceScope::Every => Vec::new(),
                SpaceScope::Only(ids) => ids.iter().map(i64::to_string).collect(),
            },
            blocked: blocked
                .iter()
                .filter(|pair| pair.account.as_deref() == Some(account_key(&m.login).as_str()))
                .map(blocked_line)
                .collect(),
            role: role_label(m.role),
            disabled_since: m.disabled_at.map(|at| view::local_datetime(at, tz)),
            is_self: m.id == staff.account().id,
            id: m.id,
            last_login: m
                .last_login
                .map(|at| view::local_datetime(at, tz))
                .unwrap_or_else(|| "jamais".to_owned()),
            login: m.login,
            nom: m.nom,
        })
        .collect();
    Ok(TeamPage {
        frame: Frame::new(state, staff, headers, "equipe"),
        members,
        no_account_blocked: blocked
            .iter()
            .filter(|pair| pair.account.is_none())
            .map(blocked_line)
            .collect(),
        form: StaffFormValues {
            mot_de_passe: String::new(),
            confirmation: String::new(),
            ..form
        },
        errors,
        spaces,
        every_allowed: staff.scope == SpaceScope::Every,
    })
}

fn role_label(role: StaffRole) -> &'static str {
    match role {
        StaffRole::Admin => "Administrateur",
        StaffRole::Animateur => "Animateur",
    }
}

pub async fn team(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    staff.require_admin()?;
    let form = StaffFormValues {
        role: "animateur".to_owned(),
        ..StaffFormValues::default()
    };
    page(&team_page(&state, &staff, &headers, form, StaffErrors::default()).await?)
}

/// A login: 2 to 64 letters, digits, `.`, `-`, `_`.
pub fn valid_login(login: &str) -> bool {
    (2..=64).contains(&login.chars().count())
        && login
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

pub async fn team_create(
    State(state): State<AppState>,
    headers: HeaderMap,
    action: Action<StaffFormValues>,
) -> Result<Response, ConsoleError> {
    action.staff.require_admin()?;
    let form = action.form;
    let mut errors = StaffErrors::default();
    let login = form.identifiant.trim().to_owned();
    let nom = form.nom.trim().to_owned();
    if !valid_login(&login) {
        errors.identifiant = Some(t::LOGIN_INVALID.to_owned());
    }
    if nom.is_empty() || nom.chars().count() > ops::MAX_TEXT_LEN {
        errors.nom = Some(t::NAME_REQUIRED.to_owned());
    }
    let role = StaffRole::parse(&form.role);
    if role.is_none() {
        errors.role = Some(t::ROLE_INVALID.to_owned());
    }
    if let Err(message) = auth::check_new_password(&form.mot_de_passe) {
        errors.mot_de_passe = Some(message.to_owned());
    } else if form.mot_de_passe != form.confirmation {
        errors.mot_de_passe = Some(t::PASSWORDS_DIFFER.to_owned());
    }
    let scope = match role {
        Some(role) => {
            let mut ids = form.espaces.ids();
            // An admin of one space gives that one without being asked.
            if let (SpaceScope::Only(own), true, false) =
                (&action.staff.scope, ids.is_empty(), form.espaces.every())
                && let [only] = own.as_slice()
            {
                ids.push(*only);
            }
            match ops::team::scope_choice(&state.store, form.espaces.every(), ids, role).await {
                Ok(scope) => {
                    action.staff.require_covers(&scope)?;
                    Some(scope)
                }
                Err(OpError::Store(err)) => return Err(err.into()),
                Err(refused) => {
                    errors.espaces = Some(refused.to_string());
                    None
                }
            }
        }
        None => None,
    };
    if let (Some(role), Some(scope), None, None, None) = (
        role,
        scope,
        &errors.identifiant,
        &errors.nom,
        &errors.mot_de_passe,
    ) {
        let new = NewStaff {
            login: login.clone(),
            nom,
            role,
            password_hash: auth::hash_password(form.mot_de_passe.clone()).await?,
            scope,
        };
        match state
            .store
            .create_staff(&new, &action.staff.actor(), now_ms())
            .await
        {
            Ok(created) => {
                tracing::info!(login = %created.login, by = %action.staff.account().login, "console: staff account created");
                return Ok(redirect_with(
                    &format!("{PREFIX}/equipe"),
                    true,
                    &t::staff_created(&created.login),
                ));
            }
            Err(StoreError::AlreadyExists { .. }) => {
                errors.identifiant = Some(t::staff_exists(&login));
            }
            Err(StoreError::StaffRefused(StaffRefusal::LoginOfDeletedAccount)) => {
                errors.identifiant = Some(t::staff_login_of_deleted(&login));
            }
            Err(err @ (StoreError::StaffRefused(_) | StoreError::NotFound { .. })) => {
                match ops::team::scope_refusal(err) {
                    OpError::Store(err) => return Err(err.into()),
                    refused => errors.espaces = Some(refused.to_string()),
                }
            }
            Err(err) => return Err(err.into()),
        }
    }
    let html = team_page(&state, &action.staff, &headers, form, errors)
        .await?
        .render()?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, axum::response::Html(html)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct UnblockForm {
    #[serde(default)]
    identifiant: String,
}

/// Lifts the waits of an account's console logins (every address).
pub async fn team_unblock(
    State(state): State<AppState>,
    action: Action<UnblockForm>,
) -> Result<Response, ConsoleError> {
    action.staff.require_admin()?;
    let login = action.form.identifiant.trim();
    let team = format!("{PREFIX}/equipe");
    match auth::unblock(&state, login, &action.staff.actor()).await {
        Ok(staff) => Ok(redirect_with(
            &team,
            true,
            &t::staff_unblocked(&staff.login),
        )),
        Err(StoreError::NotFound { .. }) => Ok(redirect_with(
            &team,
            false,
            &t::staff_not_found(&login.chars().take(64).collect::<String>()),
        )),
        Err(err) => Err(err.into()),
    }
}

// ----- assets ---------------------------------------------------------------------------------

pub async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/console.css"),
    )
}

pub async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/console.js"),
    )
}

/// The console's icon (the browser's tab, bookmarks), drawn for the project: also served at
/// `/favicon.ico`, which browsers ask for whatever the page says.
pub async fn favicon() -> Response {
    asset("image/svg+xml", include_str!("../../assets/favicon.svg"))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}
