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

use crate::app::AppState;

/// Largest HTTP request body accepted by the API.
const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(WS_PATH_SESSIONS, get(ws::upgrade))
        .route(WS_PATH_SESSIONS.trim_end_matches('/'), get(ws::upgrade))
        .route(WS_PATH_CLIENT, get(ws::upgrade))
        .route(WS_PATH_CLIENT.trim_end_matches('/'), get(ws::upgrade))
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

/// The process is up and serving (it binds only once the database is open and migrated).
async fn healthz() -> &'static str {
    "ok"
}

/// Prometheus metrics (text exposition format).
async fn metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    let mut gauges = state.hub.gauges();
    let started = std::time::Instant::now();
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
