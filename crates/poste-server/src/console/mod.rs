//! The staff web console, in French, served under `/console/` by the server itself: HTML pages
//! rendered on the server (askama templates in `templates/console/`, escaped by default), a
//! stylesheet and one small script embedded in the binary (no CDN: the workstations' network
//! may have no internet), and a server-sent event stream that makes every open dashboard
//! follow changes live.
//!
//! Every page works without the script (plain forms, POST then redirect); the script only adds
//! the live refresh and the ticking countdowns. Every form carries the session's CSRF token,
//! and every non-GET request must come from this origin.

mod auth;
mod calendar;
mod form;
mod live;
mod manage;
mod monthly;
mod pages;
mod power;
mod reports;
mod team;
mod view;
mod visitors;
mod workshop;

pub use auth::{check_new_password, hash_password};
pub use pages::valid_login;

use askama::Template;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use poste_store::StoreError;

use crate::ops::OpError;
use crate::state::AppState;
use crate::text::console as t;

/// Where the console lives (its router is merged at the root of the server's).
pub const PREFIX: &str = "/console";

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(pages::dashboard))
        .route(
            "/console/connexion",
            get(pages::login_page).post(pages::login_submit),
        )
        .route("/console/deconnexion", post(pages::logout))
        .route("/console/espace", post(pages::show_space))
        .route("/console/tuiles", get(pages::tiles))
        .route("/console/flux", get(live::stream))
        .route(
            "/console/sessions",
            get(pages::sessions_list).post(pages::session_create),
        )
        .route("/console/sessions.csv", get(pages::sessions_csv))
        .route("/console/sessions/nouvelle", get(pages::session_form))
        .route(
            "/console/sessions/{id}/ajouter",
            post(pages::session_add_time),
        )
        .route("/console/sessions/{id}/terminer", post(pages::session_end))
        .route(
            "/console/sessions/{id}/annuler",
            post(pages::session_cancel),
        )
        .route("/console/demandes/{id}", post(pages::time_request_answer))
        .route("/console/tickets", get(pages::tickets))
        .route("/console/postes/{id}/message", post(pages::poste_message))
        .route("/console/postes/{id}/service", post(pages::poste_service))
        .route("/console/postes/{id}/alimentation", post(power::order))
        .route("/console/postes/{id}/allumer", post(power::wake))
        .route("/console/postes/tous", post(power::all))
        .route("/console/postes/tous/message", post(power::message_all))
        .route("/console/postes/tous/pause", post(power::pause_all))
        .route(
            "/console/ateliers",
            get(workshop::form).post(workshop::open),
        )
        .route("/console/equipe", get(pages::team).post(pages::team_create))
        .route("/console/equipe/debloquer", post(pages::team_unblock))
        .route("/console/equipe/{id}/desactiver", post(team::disable))
        .route("/console/equipe/{id}/reactiver", post(team::enable))
        .route("/console/equipe/{id}/supprimer", post(team::delete))
        .route("/console/equipe/{id}/espaces", post(team::spaces))
        .route(
            "/console/equipe/{id}/mot-de-passe",
            post(team::reset_password),
        )
        .route("/console/postes", get(manage::postes))
        .route(
            "/console/postes/{id}",
            get(pages::poste_page).post(manage::poste_save),
        )
        .route("/console/postes/{id}/tuile", get(pages::poste_tile))
        .route("/console/postes/{id}/valider", post(manage::poste_approve))
        .route("/console/postes/{id}/retirer", post(manage::poste_retire))
        .route("/console/postes/{id}/espace", post(manage::poste_move))
        .route("/console/espaces", post(manage::space_create))
        .route("/console/espaces/{id}", post(manage::space_update))
        .route(
            "/console/espaces/{id}/supprimer",
            post(manage::space_delete),
        )
        .route(
            "/console/reglages",
            get(manage::settings).post(manage::settings_save),
        )
        .route(
            "/console/reglages/commun",
            post(manage::settings_follow_common),
        )
        .route("/console/reglages/jours", post(calendar::special_day_add))
        .route(
            "/console/reglages/jours/retirer",
            post(calendar::special_day_remove),
        )
        .route(
            "/console/reglages/jours/feries",
            post(calendar::holidays_add),
        )
        .route("/console/categories", post(manage::category_create))
        .route("/console/categories/{id}", post(manage::category_update))
        .route(
            "/console/categories/{id}/supprimer",
            post(manage::category_delete),
        )
        .route(
            "/console/visiteurs",
            get(visitors::visitors).post(visitors::visitor_create),
        )
        .route(
            "/console/visiteurs/{id}",
            get(visitors::visitor).post(visitors::visitor_update),
        )
        .route(
            "/console/visiteurs/{id}/effacer",
            post(visitors::visitor_erase),
        )
        .route("/console/historique", get(reports::history))
        .route("/console/historique.csv", get(reports::history_csv))
        .route("/console/statistiques", get(reports::stats))
        .route("/console/statistiques.csv", get(reports::stats_csv))
        .route("/console/statistiques/imprimer", get(reports::stats_print))
        .route(
            "/console/statistiques/rapport.pdf",
            get(monthly::report_pdf),
        )
        .route(
            "/console/statistiques/rapport/envoyer",
            post(monthly::report_send),
        )
        .route("/console/static/console.css", get(pages::stylesheet))
        .route("/console/static/console.js", get(pages::script))
        .route("/console/static/favicon.svg", get(pages::favicon))
        .route("/favicon.ico", get(pages::favicon))
        .route("/console/{*rest}", get(not_found).post(not_found))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Headers on every console response: a strict content security policy (only this origin's
/// script and stylesheet, no inline code, no framing), no MIME sniffing, no referrer outside,
/// and no caching of pages that hold visitors' names.
async fn security_headers(request: axum::extract::Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    );
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    response
}

async fn not_found() -> ConsoleError {
    ConsoleError::NotFound
}

/// A path's parameters, as axum's `Path`; one that does not parse (`/console/postes/abc`) is
/// the console's page « introuvable » in French, not axum's rejection in English.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ConsoleError))]
pub(crate) struct Path<T>(pub T);

impl From<axum::extract::rejection::PathRejection> for ConsoleError {
    fn from(rejection: axum::extract::rejection::PathRejection) -> Self {
        tracing::debug!(%rejection, "console: a path that names nothing");
        ConsoleError::NotFound
    }
}

/// A query string, as axum's `Query`; one that does not parse (`?postes=1&postes=2`, a number
/// that is not one) is the console's « Formulaire invalide » in French, not axum's rejection in
/// English.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ConsoleError))]
pub(crate) struct Query<T>(pub T);

impl From<axum::extract::rejection::QueryRejection> for ConsoleError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        tracing::debug!(%rejection, "console: a query string that does not parse");
        ConsoleError::BadForm
    }
}

/// Why a console request failed; each renders as a French page with the right status.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No live session: pages redirect to the login page, the script's requests get 401.
    #[error("login required")]
    LoginRequired,
    #[error("admin role required")]
    Forbidden,
    /// A workstation, session or space of a space the account does not work in.
    #[error("another space")]
    OtherSpace,
    #[error("CSRF check failed")]
    Csrf,
    #[error("not found")]
    NotFound,
    #[error("bad form")]
    BadForm,
    /// A month typed in a link or a form that names none, or one not begun (French reason).
    #[error("bad month: {0}")]
    BadMonth(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

impl ConsoleError {
    fn status_and_message(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ConsoleError::LoginRequired => (
                StatusCode::UNAUTHORIZED,
                "Connexion requise",
                t::LOGIN_REQUIRED,
            ),
            ConsoleError::Forbidden => (StatusCode::FORBIDDEN, "Accès refusé", t::FORBIDDEN),
            ConsoleError::OtherSpace => (StatusCode::FORBIDDEN, "Accès refusé", t::OTHER_SPACE),
            ConsoleError::Csrf => (StatusCode::FORBIDDEN, "Action refusée", t::CSRF),
            ConsoleError::NotFound => (StatusCode::NOT_FOUND, "Page introuvable", t::NOT_FOUND),
            ConsoleError::BadForm => (StatusCode::BAD_REQUEST, "Formulaire invalide", t::BAD_FORM),
            ConsoleError::BadMonth(reason) => (StatusCode::BAD_REQUEST, "Mois invalide", reason),
            ConsoleError::Store(StoreError::Unavailable(_)) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Service indisponible",
                t::UNAVAILABLE,
            ),
            ConsoleError::Store(_) | ConsoleError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Erreur interne",
                t::INTERNAL,
            ),
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        match &self {
            ConsoleError::Store(err) => tracing::error!(error = %err, "console: database error"),
            ConsoleError::Internal(err) => tracing::error!(error = %err, "console: internal error"),
            _ => {}
        }
        let (status, title, message) = self.status_and_message();
        if matches!(self, ConsoleError::LoginRequired) {
            // A page asked by a person goes to the login form; the status stays visible to the
            // script (it follows no redirect for its fetches).
            let mut response = Redirect::to(&format!("{PREFIX}/connexion")).into_response();
            *response.status_mut() = StatusCode::SEE_OTHER;
            response
                .headers_mut()
                .insert("x-poste-login", HeaderValue::from_static("1"));
            return response;
        }
        let page = ErrorPage { title, message };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, message).into_response(),
        }
    }
}

impl From<OpError> for ConsoleError {
    fn from(err: OpError) -> Self {
        match err {
            OpError::Store(err) => ConsoleError::Store(err),
            // The others carry a French message for a field or a flash; callers handle them.
            other => ConsoleError::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for ConsoleError {
    fn from(err: askama::Error) -> Self {
        ConsoleError::Internal(format!("template: {err}"))
    }
}

/// Renders a template as an HTML response.
fn render(template: &impl Template) -> Result<Response, ConsoleError> {
    Ok(Html(template.render()?).into_response())
}
