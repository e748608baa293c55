//! The operator's endpoints: health, metrics and the OpenAPI document.

use crate::AppState;
use crate::api::HealthOut;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Liveness and readiness.
#[utoipa::path(
    get, path = "/healthz", tag = "ops",
    responses(
        (status = 200, description = "Healthy", body = HealthOut),
        (status = 503, description = "Database unavailable", body = HealthOut),
    )
)]
pub async fn healthz(State(state): State<AppState>) -> Response {
    let db_ok = state.db.issuer().ping().await.is_ok();
    let out = HealthOut {
        status: if db_ok { "ok" } else { "degraded" }.to_owned(),
        db: if db_ok { "ok" } else { "error" }.to_owned(),
        key_ids: state.issuer.key_ids(),
    };
    let status = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(out)).into_response()
}

/// Prometheus metrics.
#[utoipa::path(
    get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "OpenMetrics text: requests by route and status, latency histogram, creations, issuances", body = String, content_type = "application/openmetrics-text"))
)]
pub async fn metrics(State(state): State<AppState>) -> Response {
    state.metrics.response()
}

/// This document.
#[utoipa::path(
    get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "OpenAPI 3.1 description of this API", body = Object))
)]
pub async fn openapi() -> Response {
    use utoipa::OpenApi as _;
    axum::Json(crate::routes::ApiDoc::openapi()).into_response()
}
