//! The JSON API under `/api/`, for scripts and, until the web console exists, for staff tools.
//! Authenticated by API tokens (`Authorization: Bearer pp_…`), stored hashed. Field names are
//! French like the protocol's; errors are `{"erreur": code, "message": French text}`.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use poste_proto::{EndReason, PROTOCOL_VERSION, PowerAction};
use poste_store::{
    Actor, Millis, PosteRow, SessionFilter, SessionRow, SessionStatus, SpaceScope, StoreError,
    TimeRequestRow,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::clock::{now_ms, rfc3339};
use crate::domain::codes::token_hash;
use crate::domain::duration::parse_duration;
use crate::domain::power::{Ordered, WhenBusy};
use crate::messages::time_left;
use crate::ops::power;
use crate::ops::workshop::WorkshopRequest;
use crate::ops::{self, CreateSessions, OpError};
use crate::state::AppState;
use crate::text;

pub fn router(state: AppState) -> Router<AppState> {
    let protected = Router::new()
        .route("/sessions", post(create_sessions).get(list_sessions))
        .route("/sessions/{id}", get(show_session))
        .route("/sessions/{id}/add-time", post(add_time))
        .route("/sessions/{id}/end", post(end_session))
        .route("/sessions/{id}/cancel", post(cancel_session))
        .route("/time-requests", get(list_time_requests))
        .route("/time-requests/{id}/accept", post(accept_time_request))
        .route("/time-requests/{id}/refuse", post(refuse_time_request))
        .route("/postes", get(list_postes).post(create_poste))
        .route("/postes/{nom}/message", post(message_poste))
        .route("/postes/{nom}/power", post(power_poste))
        .route("/postes/{nom}/wake", post(wake_poste))
        .route("/postes/{nom}/approve", post(approve_poste))
        .route("/postes/{nom}/reset", post(reset_poste))
        .route("/enrollment-codes", post(create_enrollment_code))
        .route("/ateliers", post(open_workshop))
        .route("/ateliers/pause", post(pause_room))
        .route_layer(middleware::from_fn_with_state(state, authenticate));
    Router::new()
        .route("/", get(index))
        .merge(protected)
        .fallback(not_found)
}

// ----- errors ---------------------------------------------------------------------------------

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "erreur": self.code, "message": self.message });
        (self.status, Json(body)).into_response()
    }
}

impl From<OpError> for ApiError {
    fn from(err: OpError) -> Self {
        match err {
            OpError::Invalid(message) | OpError::Rejected { message, .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, "requete_invalide", message)
            }
            OpError::NotFound(message) => {
                ApiError::new(StatusCode::NOT_FOUND, "introuvable", message)
            }
            OpError::Conflict(message) => ApiError::new(StatusCode::CONFLICT, "conflit", message),
            OpError::Store(err) => err.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(_) => {
                tracing::warn!(error = %err, "API: database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "service_indisponible",
                    text::API_UNAVAILABLE,
                )
            }
            other => {
                tracing::error!(error = %other, "API: database error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "erreur_interne",
                    text::API_INTERNAL,
                )
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "json_invalide",
            format!("Corps JSON invalide : {}", rejection.body_text()),
        )
    }
}

/// `Json` whose rejection is an [`ApiError`].
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(T);

type ApiResult<T> = Result<T, ApiError>;

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "introuvable", text::API_NOT_FOUND)
}

// ----- authentication -------------------------------------------------------------------------

async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty());
    let Some(token) = token else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "non_authentifie",
            text::API_UNAUTHENTICATED,
        )
        .into_response();
    };
    match state.store.token_by_hash(&token_hash(token)).await {
        Ok(Some(row)) => {
            let now = now_ms();
            if row.last_used.is_none_or(|at| now - at > 60_000)
                && let Err(err) = state.store.touch_token(row.id, now).await
            {
                tracing::debug!(error = %err, "could not record token use");
            }
            request.extensions_mut().insert(Actor::ApiToken(row.nom));
            next.run(request).await
        }
        Ok(None) => {
            tracing::warn!("API: unknown or revoked token");
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "jeton_invalide",
                text::API_BAD_TOKEN,
            )
            .into_response()
        }
        Err(err) => ApiError::from(err).into_response(),
    }
}

// ----- views ----------------------------------------------------------------------------------

/// A session as the API shows it.
#[derive(Debug, Serialize)]
pub struct SessionView {
    pub id: i64,
    pub code_acces: String,
    pub utilisateur: Option<String>,
    pub poste: Option<String>,
    pub statut: &'static str,
    pub duree_initiale: i64,
    pub duree_ajoutee: i64,
    pub duree_totale: i64,
    pub temps_restant: i64,
    pub cree_le: String,
    pub cree_par: String,
    pub valide_jusqu_a: String,
    pub debut_session: Option<String>,
    pub fin_prevue: Option<String>,
    pub fin_session: Option<String>,
    pub raison_fin: Option<String>,
    /// The workshop it was opened for (`POST /api/ateliers`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub atelier: Option<String>,
}

impl SessionView {
    pub fn new(row: &SessionRow, now: Millis) -> Self {
        SessionView {
            id: row.id,
            code_acces: row.code.clone(),
            utilisateur: row.utilisateur.clone(),
            poste: row.poste_nom.clone(),
            statut: row.status.as_str(),
            duree_initiale: row.initial_secs,
            duree_ajoutee: row.added_secs,
            duree_totale: row.total_secs(),
            temps_restant: time_left(row, now),
            cree_le: rfc3339(row.created_at),
            cree_par: row.created_by.clone(),
            valide_jusqu_a: rfc3339(row.valid_until),
            debut_session: row.started_at.map(rfc3339),
            fin_prevue: row
                .deadline()
                .filter(|_| row.status == SessionStatus::Active)
                .map(rfc3339),
            fin_session: row.ended_at.map(rfc3339),
            raison_fin: row.end_reason.clone(),
            atelier: row.atelier.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
struct PosteView {
    id: i64,
    nom: String,
    ip: Option<String>,
    mac: Option<String>,
    version: Option<String>,
    en_ligne: bool,
    hors_service: bool,
    enrolement: &'static str,
    /// The id of its space (decision 0013).
    espace_id: i64,
    vu_le: Option<String>,
    cree_le: String,
}

impl PosteView {
    fn new(row: PosteRow, online: bool) -> Self {
        PosteView {
            id: row.id,
            en_ligne: online,
            enrolement: row.enrollment.as_str(),
            espace_id: row.espace_id,
            vu_le: row.last_seen.map(rfc3339),
            cree_le: rfc3339(row.created_at),
            nom: row.nom,
            ip: row.ip,
            mac: row.mac,
            version: row.version,
            hors_service: row.hors_service,
        }
    }
}

// ----- handlers -------------------------------------------------------------------------------

pub async fn index() -> Json<serde_json::Value> {
    Json(json!({
        "service": "poste-server",
        "version": env!("CARGO_PKG_VERSION"),
        "protocole": PROTOCOL_VERSION,
    }))
}

/// A duration given as a number of seconds or as text (`2h`, `90min`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum DurationInput {
    Secs(i64),
    Text(String),
}

impl DurationInput {
    fn secs(&self) -> Result<i64, ApiError> {
        match self {
            DurationInput::Secs(secs) => Ok(*secs),
            DurationInput::Text(text) => parse_duration(text).map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "requete_invalide",
                    text::invalid_duration(text),
                )
            }),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    utilisateur: Option<String>,
    duree: DurationInput,
    poste: Option<String>,
    #[serde(alias = "count")]
    nombre: Option<u32>,
    validite: Option<DurationInput>,
    /// Id of a registered visitor (their category's time rules apply).
    visiteur: Option<i64>,
    /// The space the codes are valid in, by name (needed when the site has several and no
    /// workstation is given).
    espace: Option<String>,
    /// The codes are valid in every space.
    #[serde(default)]
    tous_espaces: bool,
}

async fn create_sessions(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let request = CreateSessions {
        utilisateur: body.utilisateur,
        duration_secs: body.duree.secs()?,
        poste: body.poste,
        count: body.nombre.unwrap_or(1),
        valid_for_secs: body
            .validite
            .as_ref()
            .map(DurationInput::secs)
            .transpose()?,
        visiteur_id: body.visiteur,
        espace: ops::space_choice(&state.store, body.espace.as_deref(), body.tous_espaces).await?,
    };
    let now = now_ms();
    let rows = ops::create_sessions(
        &state.store,
        &state.settings(),
        &request,
        &actor,
        now,
        &state.hub,
    )
    .await?;
    tracing::info!(count = rows.len(), actor = %actor.label(), "sessions created");
    let sessions: Vec<SessionView> = rows.iter().map(|row| SessionView::new(row, now)).collect();
    Ok((StatusCode::CREATED, Json(json!({ "sessions": sessions }))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    statut: Option<String>,
    poste: Option<String>,
    utilisateur: Option<String>,
    /// RFC 3339 instant or date (`2026-11-24`): created at or after.
    depuis: Option<String>,
    /// Created strictly before.
    jusqu_a: Option<String>,
    limite: Option<i64>,
    decalage: Option<i64>,
}

fn parse_instant(field: &str, value: &str, state: &AppState) -> Result<Millis, ApiError> {
    if let Ok(ts) = value.parse::<jiff::Timestamp>() {
        return Ok(ts.as_millisecond());
    }
    value
        .parse::<jiff::civil::Date>()
        .ok()
        .and_then(|date| {
            date.to_zoned_datetime(state.settings().timezone.clone())
                .ok()
        })
        .map(|zoned| zoned.timestamp().as_millisecond())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "requete_invalide",
                format!("« {field} » : date attendue (2026-11-24 ou 2026-11-24T10:00:00Z)"),
            )
        })
}

async fn list_sessions(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let Query(query) = query.map_err(|rejection| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "requete_invalide",
            rejection.body_text(),
        )
    })?;
    let status = match query.statut.as_deref() {
        Some(text) => Some(SessionStatus::parse(text).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "requete_invalide",
                "statut : en_attente, active, terminee, expiree ou annulee",
            )
        })?),
        None => None,
    };
    let poste_id = match query.poste.as_deref() {
        Some(name) => Some(ops::find_poste(&state.store, name).await?.id),
        None => None,
    };
    let filter = SessionFilter {
        status,
        poste_id,
        created_from: query
            .depuis
            .as_deref()
            .map(|v| parse_instant("depuis", v, &state))
            .transpose()?,
        created_to: query
            .jusqu_a
            .as_deref()
            .map(|v| parse_instant("jusqu_a", v, &state))
            .transpose()?,
        utilisateur: query.utilisateur,
        visiteur_id: None,
        // The API's tokens are IT's, for the whole site.
        scope: None,
        limit: query.limite,
        offset: query.decalage,
    };
    let now = now_ms();
    let rows = state.store.list_sessions(&filter).await?;
    let sessions: Vec<SessionView> = rows.iter().map(|row| SessionView::new(row, now)).collect();
    Ok(Json(json!({ "sessions": sessions })))
}

/// A numeric id from the path (a session, a request); anything else is not found.
fn path_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "introuvable", text::API_NOT_FOUND))
}

async fn show_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionView>> {
    let row = ops::session(&state.store, path_id(&id)?).await?;
    Ok(Json(SessionView::new(&row, now_ms())))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddTimeBody {
    duree: DurationInput,
}

async fn add_time(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AddTimeBody>,
) -> ApiResult<Json<SessionView>> {
    let now = now_ms();
    let row = ops::add_time(
        &state.store,
        &state.settings(),
        path_id(&id)?,
        body.duree.secs()?,
        &actor,
        now,
        &state.hub,
    )
    .await?;
    tracing::info!(session = row.id, added = row.added_secs, actor = %actor.label(), "time added");
    Ok(Json(SessionView::new(&row, now)))
}

/// Visitors' requests for more time waiting for an answer, oldest first.
async fn list_time_requests(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let requests = state.store.pending_time_requests().await?;
    Ok(Json(json!({ "demandes": requests })))
}

async fn accept_time_request(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AddTimeBody>,
) -> ApiResult<Json<TimeRequestRow>> {
    answer_time_request(state, actor, &id, Some(body.duree.secs()?)).await
}

async fn refuse_time_request(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult<Json<TimeRequestRow>> {
    answer_time_request(state, actor, &id, None).await
}

async fn answer_time_request(
    state: AppState,
    actor: Actor,
    id: &str,
    grant_secs: Option<i64>,
) -> ApiResult<Json<TimeRequestRow>> {
    let (request, _) = ops::answer_time_request(
        &state.store,
        &state.settings(),
        path_id(id)?,
        grant_secs,
        &actor,
        now_ms(),
        &state.hub,
    )
    .await?;
    tracing::info!(request = request.id, session = request.session_id, ?grant_secs, actor = %actor.label(), "time request answered");
    Ok(Json(request))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndBody {
    /// Shown to the visitor instead of the default text.
    message: Option<String>,
}

/// A JSON body that may be left out (empty: the defaults).
fn optional_body<T: Default + serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|err| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "json_invalide",
            format!("Corps JSON invalide : {err}"),
        )
    })
}

async fn end_session(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<SessionView>> {
    // The body is optional: an empty one ends the session with the default message.
    let body: EndBody = optional_body(&body)?;
    let message = body
        .message
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty());
    if message
        .as_ref()
        .is_some_and(|m| m.chars().count() > ops::MAX_TEXT_LEN)
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "requete_invalide",
            text::NAME_TOO_LONG,
        ));
    }
    let now = now_ms();
    let row = ops::end_session(
        &state.store,
        path_id(&id)?,
        EndReason::TermineParAnimateur,
        message.as_deref(),
        &actor,
        now,
        &state.hub,
    )
    .await?;
    tracing::info!(session = row.id, actor = %actor.label(), "session ended by staff");
    Ok(Json(SessionView::new(&row, now)))
}

async fn cancel_session(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionView>> {
    let now = now_ms();
    let row = ops::cancel_session(&state.store, path_id(&id)?, &actor, now, &state.hub).await?;
    Ok(Json(SessionView::new(&row, now)))
}

async fn list_postes(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let online = state.hub.online_postes();
    let postes: Vec<PosteView> = state
        .store
        .list_postes()
        .await?
        .into_iter()
        .map(|row| {
            let is_online = online.contains(&row.id);
            PosteView::new(row, is_online)
        })
        .collect();
    Ok(Json(json!({ "postes": postes })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreatePosteBody {
    nom: String,
    ip: Option<String>,
    mac: Option<String>,
}

async fn create_poste(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiJson(body): ApiJson<CreatePosteBody>,
) -> ApiResult<(StatusCode, Json<PosteView>)> {
    let row = ops::create_poste(
        &state.store,
        &body.nom,
        body.ip.as_deref(),
        body.mac.as_deref(),
        &actor,
        now_ms(),
        &state.hub,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(PosteView::new(row, false))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageBody {
    message: String,
}

async fn message_poste(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(nom): Path<String>,
    ApiJson(body): ApiJson<MessageBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let poste = ops::find_poste(&state.store, &nom).await?;
    let delivered = ops::send_message(
        &state.store,
        &poste,
        &body.message,
        actor.label(),
        &actor,
        now_ms(),
        &state.hub,
    )
    .await?;
    Ok(Json(json!({ "poste": poste.nom, "livre": delivered })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PowerBody {
    /// `extinction` or `redemarrage`.
    action: String,
    /// When a session runs: `attendre` (after it) or `ecourter` (cut short, the visitor
    /// warned). Required then: the API does not choose for the caller.
    #[serde(default)]
    session: Option<String>,
}

async fn power_poste(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(nom): Path<String>,
    ApiJson(body): ApiJson<PowerBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let poste = ops::find_poste(&state.store, &nom).await?;
    let action = match body.action.as_str() {
        "extinction" => PowerAction::Extinction,
        "redemarrage" => PowerAction::Redemarrage,
        _ => return Err(OpError::Invalid(text::POWER_ACTION_REQUIRED.to_owned()).into()),
    };
    let when_busy = match body.session.as_deref() {
        None => None,
        Some("attendre") => Some(WhenBusy::AfterSession),
        Some("ecourter") => Some(WhenBusy::CutShort),
        Some(_) => {
            return Err(OpError::Invalid(text::power_session_choice(&poste.nom)).into());
        }
    };
    let (poste, ordered) =
        power::order_power(&state, poste.id, action, when_busy, &actor, now_ms()).await?;
    let (quand, fin) = match ordered {
        Ordered::Now => ("maintenant", None),
        Ordered::AfterSession => ("fin_de_session", None),
        Ordered::CutShort(at) => ("fin_de_session", Some(rfc3339(at))),
    };
    Ok(Json(
        json!({ "poste": poste.nom, "action": body.action, "quand": quand, "fin_session": fin }),
    ))
}

async fn wake_poste(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(nom): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let poste = ops::find_poste(&state.store, &nom).await?;
    let poste = power::wake(&state, poste.id, &actor, now_ms()).await?;
    Ok(Json(json!({ "poste": poste.nom, "mac": poste.mac })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkshopBody {
    /// « Atelier CV ».
    nom: String,
    duree: DurationInput,
    /// The workstations, by name.
    postes: Vec<String>,
}

/// A workshop: one session of `duree` on each workstation named, started together.
async fn open_workshop(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiJson(body): ApiJson<WorkshopBody>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let mut postes = Vec::with_capacity(body.postes.len());
    for nom in &body.postes {
        postes.push(ops::find_poste(&state.store, nom).await?.id);
    }
    let request = WorkshopRequest {
        nom: body.nom,
        duration_secs: body.duree.secs()?,
        postes,
    };
    let now = now_ms();
    let rows =
        ops::workshop::open_workshop(&state, &SpaceScope::Every, &request, &actor, now).await?;
    let sessions: Vec<SessionView> = rows.iter().map(|row| SessionView::new(row, now)).collect();
    Ok((StatusCode::CREATED, Json(json!({ "sessions": sessions }))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PauseBody {
    /// `true`: pause the workstations; `false`: lift the pause.
    pause: bool,
    /// What their screens say (default words when absent).
    message: Option<String>,
    /// Only this space's workstations, by name; absent: every space's.
    espace: Option<String>,
}

/// Pauses (or resumes) every workstation of the site or of one space for a workshop.
async fn pause_room(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiJson(body): ApiJson<PauseBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let view = match ops::space_choice(&state.store, body.espace.as_deref(), false).await? {
        Some(ops::SpaceChoice::One(id)) => SpaceScope::Only(vec![id]),
        _ => SpaceScope::Every,
    };
    let done = ops::workshop::lock_room(
        &state,
        &view,
        body.pause,
        body.message.as_deref().unwrap_or_default(),
        &actor,
        now_ms(),
    )
    .await?;
    Ok(Json(json!({
        "pause": body.pause,
        "atteints": done.reached,
        "hors_ligne": done.offline,
        "agent_trop_ancien": done.too_old,
    })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproveBody {
    /// The space the workstation serves in, by name: required on a site of several spaces.
    espace: Option<String>,
}

async fn approve_poste(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(nom): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<PosteView>> {
    let body: ApproveBody = optional_body(&body)?;
    let row = ops::spaces::approve_by_names(
        &state.store,
        &nom,
        body.espace.as_deref(),
        &actor,
        now_ms(),
        &state.hub,
    )
    .await?;
    tracing::info!(poste = %row.nom, actor = %actor.label(), "enrollment approved");
    let online = state.hub.online_postes().contains(&row.id);
    Ok(Json(PosteView::new(row, online)))
}

async fn reset_poste(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(nom): Path<String>,
) -> ApiResult<Json<PosteView>> {
    let row = ops::reset_enrollment(&state.store, &nom, &actor, now_ms(), &state.hub).await?;
    tracing::info!(poste = %row.nom, actor = %actor.label(), "enrollment reset");
    let online = state.hub.online_postes().contains(&row.id);
    Ok(Json(PosteView::new(row, online)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrollmentCodeBody {
    poste: Option<String>,
    /// The space a new workstation waits in for its approval, by name.
    espace: Option<String>,
    validite: Option<DurationInput>,
}

async fn create_enrollment_code(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiJson(body): ApiJson<EnrollmentCodeBody>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let secs = body
        .validite
        .as_ref()
        .map(DurationInput::secs)
        .transpose()?;
    let (row, code) = ops::create_enrollment_code(
        &state.store,
        &state.settings(),
        body.poste.as_deref(),
        body.espace.as_deref(),
        secs,
        &actor,
        now_ms(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "code": code, "poste": row.poste_nom, "espace_id": row.espace_id, "expire_le": rfc3339(row.expires_at) }),
        ),
    ))
}
