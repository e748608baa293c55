//! The other endpoints: estimate, rules, revocation feed, trust list, health, metrics,
//! OpenAPI, and the officer console's internal read.

use crate::api::{
    EstimateIn, EstimateOut, HealthOut, InternalDeclarationOut, JwksDoc, LaneOut, ProblemDoc,
    RevocationOut, RevocationsOut, UseReportAckDoc, UseReportDoc, reasons_out,
};
use crate::error::{AppError, AppResult};
use crate::store;
use crate::{AppState, lang_of};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shared::db::DbError;
use shared::domain::{ValidationErrors, validate_declared};
use shared::feed::{UseReport, UseReportAck, has_api_key};
use shared::rules::evaluate;
use shared::web::{ApiJson, Problem};

/// Lane preview, reasons and duty estimate, storing nothing.
#[utoipa::path(
    post, path = "/v1/estimate", tag = "declarations",
    request_body(content = EstimateIn, content_type = "application/json"),
    params(("Accept-Language" = Option<String>, Header, description = "Language of reason messages")),
    responses(
        (status = 200, description = "The evaluation", body = EstimateOut),
        (status = 400, description = "Malformed JSON or unknown field", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = ProblemDoc, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn estimate(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<EstimateIn>,
) -> AppResult<Response> {
    let mut errs = ValidationErrors::default();
    let declared = validate_declared(&input.party, &input.answers, &input.items, "", &mut errs);
    let declared = match declared {
        Some(d) if errs.is_empty() => d,
        _ => return Err(AppError::Validation(errs)),
    };
    state
        .profile
        .check_declared(&declared, "")
        .map_err(AppError::Validation)?;
    let ev = evaluate(&state.profile, &declared);
    Ok(axum::Json(EstimateOut::new(&ev, lang_of(&headers))).into_response())
}

/// The active rules profile.
#[utoipa::path(
    get, path = "/v1/rules", tag = "public",
    responses((status = 200, description = "Allowances, thresholds, rates, currency table, id and date", body = Object))
)]
pub async fn rules(State(state): State<AppState>) -> Response {
    axum::Json(state.profile.as_ref().clone()).into_response()
}

/// Revocation feed query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SinceQuery {
    /// Last sequence number seen (default 0: from the start).
    pub since: Option<i64>,
}

/// Most revocations in one answer.
pub const REVOCATIONS_PAGE: u32 = 1000;

/// Superseded and erased token ids after `since`.
#[utoipa::path(
    get, path = "/v1/revocations", tag = "public",
    params(SinceQuery),
    responses(
        (status = 200, description = "Revoked token ids in sequence order (at most 1000; page with next_since)", body = RevocationsOut),
        (status = 400, description = "Bad `since`", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn revocations(
    State(state): State<AppState>,
    query: Result<Query<SinceQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Response> {
    let since = match query {
        Ok(Query(q)) if q.since.is_none_or(|s| s >= 0) => q.since.unwrap_or(0),
        _ => {
            return Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-parameter",
                "Invalid query parameter",
                "`since` must be a whole number zero or greater.",
            )
            .into());
        }
    };
    let list = state
        .db
        .read(move |c| store::revocations_since(c, since, REVOCATIONS_PAGE))
        .await?;
    let next_since = list.last().map_or(since, |r| r.seq);
    let out = RevocationsOut {
        revocations: list
            .into_iter()
            .map(|r| RevocationOut {
                seq: r.seq,
                cti: r.cti,
                reason: r.reason,
                at: r.at,
            })
            .collect(),
        next_since,
    };
    Ok(axum::Json(out).into_response())
}

/// The JWKS of this issuer's public keys.
#[utoipa::path(
    get, path = "/v1/trust-list", tag = "public",
    responses((status = 200, description = "JWK set (RFC 7517/8037), each key with `iss`", body = JwksDoc, content_type = "application/jwk-set+json"))
)]
pub async fn trust_list(State(state): State<AppState>) -> Response {
    let jwks = state.issuer.jwks(state.clock.unix());
    let mut resp = axum::Json(jwks).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jwk-set+json"),
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    resp
}

/// Liveness and readiness.
#[utoipa::path(
    get, path = "/healthz", tag = "ops",
    responses(
        (status = 200, description = "Healthy", body = HealthOut),
        (status = 503, description = "Database unavailable", body = HealthOut),
    )
)]
pub async fn healthz(State(state): State<AppState>) -> Response {
    let db_ok = state
        .db
        .read(|c| {
            c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                .map_err(DbError::from)
        })
        .await
        .is_ok();
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

/// The full declaration, for the officer console (gate-service's API key).
#[utoipa::path(
    get, path = "/v1/internal/declarations/{id}", tag = "internal",
    params(("id" = String, Path, description = "Declaration id")),
    security(("gate_api_key" = [])),
    responses(
        (status = 200, description = "The declaration with its audit data (`declaration` is null once erased)", body = InternalDeclarationOut),
        (status = 404, description = "Unknown id, or missing/wrong API key", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn internal_declaration(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let ok = has_api_key(&headers, &state.gate_api_key);
    if !ok || id.len() > 64 {
        return Err(AppError::NotFound);
    }
    tracing::info!(declaration.id = %id, "officer console read a declaration");
    let key = id.clone();
    let row = state
        .db
        .read(move |c| store::get(c, &key))
        .await?
        .ok_or(AppError::NotFound)?;
    let out = InternalDeclarationOut {
        id: row.id,
        revision: row.revision,
        declaration: row.body,
        lane: LaneOut::from_code(&row.lane),
        reasons: reasons_out(&row.reasons, lang_of(&headers)),
        duty_estimate: row.duty,
        profile_id: row.profile_id,
        arrival_date: row.arrival_date,
        kid: row.kid,
        cti: row.cti,
        issued_at: row.issued_at,
        exp: row.exp,
        erased_at: row.erased_at,
    };
    let mut resp = axum::Json(out).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(resp)
}

/// Tokens a gate accepted once: each enters the revocation feed as `used`, so that a
/// gate restored from a backup (or another gate) refuses it on its next pull.
#[utoipa::path(
    post, path = "/v1/internal/uses", tag = "internal",
    request_body(content = UseReportDoc, content_type = "application/json"),
    security(("gate_api_key" = [])),
    responses(
        (status = 200, description = "What the report changed", body = UseReportAckDoc),
        (status = 400, description = "Malformed JSON or unknown field", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong API key", body = ProblemDoc, content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
        (status = 413, description = "Body over 64 KiB", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field (more than 1000 uses, a bad cti)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn internal_uses(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<ApiJson<UseReport>, Problem>,
) -> AppResult<Response> {
    if !has_api_key(&headers, &state.gate_api_key) {
        return Ok(shared::feed::api_key_required());
    }
    let ApiJson(report) = body?;
    let uses = report.validate().map_err(|e| {
        Problem::validation(ValidationErrors(vec![shared::domain::FieldError {
            pointer: e.pointer(),
            code: "invalid",
            detail: e.to_string(),
        }]))
    })?;
    let now = state.clock.unix();
    let n = uses.len();
    let done = state
        .db
        .write(move |c| store::record_uses(c, &uses, now))
        .await?;
    tracing::info!(
        gate = %report.gate,
        uses = n,
        uses.recorded = done.recorded,
        uses.known = done.known,
        uses.unknown = done.unknown,
        "use report from a gate"
    );
    Ok(axum::Json(UseReportAck {
        recorded: done.recorded,
        known: done.known,
        unknown: done.unknown,
    })
    .into_response())
}
