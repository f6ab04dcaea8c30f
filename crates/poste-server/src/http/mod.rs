//! HTTP surface: health checks, metrics, the WebSocket endpoints, the JSON API and the web
//! console.

pub mod api;
pub mod ws;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use poste_proto::{WS_PATH_CLIENT, WS_PATH_SESSIONS};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// Largest HTTP request body accepted by the API.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Everything, `/metrics` included.
pub fn router(state: AppState) -> Router {
    router_with(state, true)
}

/// Everything; `/metrics` only if `with_metrics` (off when a separate metrics listener serves it).
pub fn router_with(state: AppState, with_metrics: bool) -> Router {
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz));
    let router = if with_metrics {
        router.route("/metrics", get(metrics))
    } else {
        router
    };
    router
        .route(WS_PATH_SESSIONS, get(ws::upgrade_seed))
        .route(
            WS_PATH_SESSIONS.trim_end_matches('/'),
            get(ws::upgrade_seed),
        )
        .route(WS_PATH_CLIENT, get(ws::upgrade_client))
        .route(
            WS_PATH_CLIENT.trim_end_matches('/'),
            get(ws::upgrade_client),
        )
        // `nest` serves the API's index at `/api`; the seed's troubleshooting asks for `/api/`.
        .route("/api/", get(api::index))
        .nest("/api", api::router(state.clone()))
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/console/") }),
        )
        .merge(crate::console::router(state.clone()))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The separate metrics listener (`metrics.listen`): `/metrics` and the health checks only.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// How long `/healthz` waits for the database before calling it unreachable.
const HEALTH_DB_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Liveness, and whether the database answers: always 200 while the process serves (it binds
/// only once the database is open and migrated; restarting it would not bring a database
/// back), with `{"status":"ok","database":"ok"|"unreachable"}`. `/readyz` is the check that
/// fails (503) without the database.
async fn healthz(State(state): State<AppState>) -> axum::Json<serde_json::Value> {
    let database = match tokio::time::timeout(HEALTH_DB_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => "ok",
        _ => "unreachable",
    };
    axum::Json(serde_json::json!({"status": "ok", "database": database}))
}

/// Prometheus metrics (text exposition format).
async fn metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    let mut gauges = state.hub.gauges();
    let started = crate::clock::monotonic();
    if state.store.ping().await.is_ok() {
        gauges.database_secs = Some(started.elapsed().as_secs_f64());
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.hub.metrics().render(gauges),
    )
}

/// The database answers.
async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}
