//! The machine endpoints: trust list (JWKS), revocations (tokens gates reported as used),
//! gates' use reports, health, CSS.

use crate::{AppState, issuer};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shared::db::DbError;
use shared::domain::{FieldError, ValidationErrors};
use shared::feed::{UseReport, has_api_key};
use shared::token::Jwks;
use shared::web::{ApiJson, Problem};

/// `GET /v1/trust-list`: the kiosk's public keys (current and recently retired).
pub async fn trust_list(State(st): State<AppState>) -> Json<Jwks> {
    Json(st.issuer.jwks(st.clock.unix()))
}

/// Query of `GET /v1/revocations`.
#[derive(Debug, Deserialize)]
pub struct Since {
    /// Last sequence number seen.
    #[serde(default)]
    since: i64,
}

/// Most revocations in one answer.
const REVOCATIONS_PAGE: u32 = 1000;

fn storage_failed(e: &DbError) -> Response {
    tracing::error!(error = %e, "kiosk storage failure");
    Problem::internal().into_response()
}

/// `GET /v1/revocations?since=N`: the kiosk never supersedes a token, so its feed holds
/// only the tokens gates reported as used (reason `used`), in sequence order.
pub async fn revocations(
    State(st): State<AppState>,
    q: Result<Query<Since>, QueryRejection>,
) -> Response {
    let since = match q {
        Ok(Query(q)) if q.since >= 0 => q.since,
        _ => {
            return Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-parameter",
                "Invalid query parameter",
                "`since` must be a whole number zero or greater.",
            )
            .into_response();
        }
    };
    match st
        .db()
        .read(move |c| issuer::revocations_since(c, since, REVOCATIONS_PAGE))
        .await
    {
        Ok(list) => {
            let next_since = list.last().map_or(since, |r| r.seq);
            Json(serde_json::json!({ "revocations": list, "next_since": next_since }))
                .into_response()
        }
        Err(e) => storage_failed(&e),
    }
}

/// `POST /v1/internal/uses`: tokens a gate accepted once (gate API key; 401 without it).
pub async fn uses(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Result<ApiJson<UseReport>, Problem>,
) -> Response {
    if !has_api_key(&headers, &st.gate_api_key) {
        return shared::feed::api_key_required();
    }
    let report = match body {
        Ok(ApiJson(r)) => r,
        Err(p) => return p.into_response(),
    };
    let uses = match report.validate() {
        Ok(u) => u,
        Err(e) => {
            return Problem::validation(ValidationErrors(vec![FieldError {
                pointer: e.pointer(),
                code: "invalid",
                detail: e.to_string(),
            }]))
            .into_response();
        }
    };
    let now = st.clock.unix();
    match st
        .db()
        .write(move |c| issuer::record_uses(c, &uses, now))
        .await
    {
        Ok(ack) => {
            tracing::info!(
                gate = %report.gate,
                uses.recorded = ack.recorded,
                uses.known = ack.known,
                uses.unknown = ack.unknown,
                "use report from a gate"
            );
            Json(ack).into_response()
        }
        Err(e) => storage_failed(&e),
    }
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
