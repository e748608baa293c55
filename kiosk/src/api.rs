//! The machine endpoints: trust list (JWKS), revocations (always empty), health, CSS.

use crate::AppState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;
use shared::token::Jwks;

/// `GET /v1/trust-list`: the kiosk's public keys (current and recently retired).
pub async fn trust_list(State(st): State<AppState>) -> Json<Jwks> {
    Json(st.issuer.jwks(st.clock.unix()))
}

/// Query of `GET /v1/revocations`.
#[derive(Debug, Deserialize)]
pub struct Since {
    /// Last sequence number seen.
    #[serde(default)]
    since: u64,
}

/// `GET /v1/revocations?since=N`: the kiosk never supersedes a token, so the list is
/// always empty; it exists so that gates poll every issuer the same way.
pub async fn revocations(Query(q): Query<Since>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "revocations": [], "next_since": q.since }))
}

/// `GET /healthz`.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// `GET /static/kiosk.css`, compiled into the binary.
pub async fn css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../static/kiosk.css"),
    )
}
