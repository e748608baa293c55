//! One router for the issuer endpoints every issuer serves, with their OpenAPI docs:
//! - `GET /v1/trust-list`: the JWKS of the issuer's keys (`application/jwk-set+json`);
//! - `GET /v1/revocations?since=N&wait=S`: the revocation feed, a page of at most
//!   [`REVOCATIONS_PAGE`] entries in sequence order, with the `next_since` to pass;
//!   with `wait`, held until a new entry is committed ([`super::feed_wait`]);
//! - `POST /v1/internal/uses`: a gate's use report;
//! - `POST /v1/internal/presentations`: the cases a gate opened for this issuer's
//!   genuine tokens, which allow the console's declaration reads (docs/trust.md).
//!
//! The first two are [`router`], for the public listener; the `/v1/internal/*` ones are
//! [`internal_router`], for the internal listener only, and take the gate's use-report
//! key (checked against its verifier; 401 without it). A service mounts each with
//! `Router::merge`; its own middleware (metrics, headers, tracing) then wraps these
//! routes as it wraps its own.

use super::schemas::{
    JwksDoc, PresentationReportDoc, ProblemDoc, RevocationOut, RevocationsOut, UseReportAckDoc,
    UseReportDoc,
};
use super::signing::Issuer;
use super::store::IssuerStore;
use crate::clock::SharedClock;
use crate::db::DbError;
use crate::domain::{FieldError, ValidationErrors};
use crate::feed::{PresentationAck, PresentationReport, UseReport, api_key_required};
use crate::service_keys::VerifierSource;
use crate::web::{ApiJson, Problem};
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;

/// Most revocations in one answer.
pub const REVOCATIONS_PAGE: u32 = 1000;

/// Why an issuer endpoint failed, rendered as a problem document.
#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    /// A client error, already shaped as a problem.
    #[error("{}", .0.detail)]
    Problem(Box<Problem>),
    /// Storage failed (500; the cause is logged here).
    #[error("storage: {0}")]
    Db(#[from] DbError),
}

impl From<Problem> for IssuerError {
    fn from(p: Problem) -> Self {
        IssuerError::Problem(Box::new(p))
    }
}

impl IntoResponse for IssuerError {
    fn into_response(self) -> Response {
        match self {
            IssuerError::Problem(p) => p.into_response(),
            IssuerError::Db(e) if e.is_unavailable() => {
                tracing::warn!(error = %e, "issuer database unavailable");
                crate::web::Problem::unavailable().into_response()
            }
            IssuerError::Db(e) => {
                tracing::error!(error = %e, "issuer storage failure");
                Problem::internal().into_response()
            }
        }
    }
}

/// What the issuer endpoints need. Cheap to clone.
#[derive(Clone)]
pub struct IssuerEndpoints {
    /// The keys.
    pub issuer: Issuer,
    /// Tokens and feed.
    pub store: IssuerStore,
    /// Time (the trust list depends on it: retired keys drop out).
    pub clock: SharedClock,
    /// Checks the use-report key gates present with their reports.
    pub use_report: Arc<VerifierSource>,
    /// How long presentations and the read audit are kept, seconds.
    pub retention_secs: i64,
}

/// The public issuer endpoints (trust list, revocations), ready to merge into a
/// service's public router.
pub fn router<S>(endpoints: IssuerEndpoints) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/v1/trust-list", get(trust_list))
        .route("/v1/jwks", get(jwks))
        .route("/v1/revocations", get(revocations))
        .with_state(endpoints)
}

/// The internal issuer endpoints (gates' reports), for the internal listener only.
pub fn internal_router<S>(endpoints: IssuerEndpoints) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/v1/internal/uses", post(internal_uses))
        .route("/v1/internal/presentations", post(internal_presentations))
        .with_state(endpoints)
}

/// This issuer's key set as signed by the operator's root key (a compact JWS,
/// docs/trust.md): what gates trust. 404 while no list has been signed.
#[utoipa::path(
    get, path = "/v1/trust-list", tag = "public",
    responses(
        (status = 200, description = "Signed trust list: compact JWS (EdDSA, root key) over {issuer, iat, not_after, version, jwks}", body = String, content_type = "application/jose"),
        (status = 404, description = "No signed trust list yet (`egate trust-list sign`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn trust_list(State(ep): State<IssuerEndpoints>) -> Response {
    let Some(text) = ep.issuer.signed_trust_list().await else {
        return Problem::new(
            StatusCode::NOT_FOUND,
            "no-signed-trust-list",
            "No signed trust list",
            "The operator has not signed this issuer's keys yet (`egate trust-list sign`).",
        )
        .into_response();
    };
    let mut resp = text.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jose"),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// The JWKS of this issuer's public keys, unsigned: for inspection and for the
/// operator's signing; gates never trust it.
#[utoipa::path(
    get, path = "/v1/jwks", tag = "public",
    responses((status = 200, description = "JWK set (RFC 7517/8037), each key with `iss`; unsigned, not trusted by gates", body = JwksDoc, content_type = "application/jwk-set+json"))
)]
pub async fn jwks(State(ep): State<IssuerEndpoints>) -> Response {
    let jwks = ep.issuer.jwks(ep.clock.unix());
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

/// Revocation feed query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SinceQuery {
    /// Last sequence number seen (default 0: from the start).
    pub since: Option<i64>,
    /// Long polling: when no entry follows `since`, hold the request up to this many
    /// seconds (0 to 25; default 0: answer at once) until one is committed. The answer
    /// carries `X-Egate-Feed-Wait` with the wait granted.
    #[param(maximum = 25, minimum = 0)]
    pub wait: Option<u64>,
}

/// Superseded, erased and used token ids after `since`; with `wait`, held until there
/// are some (long polling, docs/trust.md).
#[utoipa::path(
    get, path = "/v1/revocations", tag = "public",
    params(SinceQuery),
    responses(
        (status = 200, description = "Revoked token ids in sequence order (at most 1000; page with next_since). With `wait`: answered at once when entries follow `since`, else when one is committed, the wait ends (an empty page) or the issuer shuts down (an empty page)", body = RevocationsOut,
            headers(("X-Egate-Feed-Wait" = u64, description = "The wait granted, seconds (present whenever `wait` was asked for)"))),
        (status = 400, description = "Bad `since` or `wait`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "Already 256 requests waiting in this issuer process, or 32 from the client's address: retry after `Retry-After` seconds (asked without `wait`, the page is always answered)", body = ProblemDoc, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds"))),
    )
)]
pub async fn revocations(
    State(ep): State<IssuerEndpoints>,
    draining: Option<axum::Extension<crate::tls::Draining>>,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    query: Result<Query<SinceQuery>, QueryRejection>,
) -> Result<Response, IssuerError> {
    use super::feed_wait::{FEED_WAIT_HEADER, FULL_RETRY_AFTER_SECS, MAX_FEED_WAIT_SECS, Polled};
    let (since, wait) = match query {
        Ok(Query(q))
            if q.since.is_none_or(|s| s >= 0) && q.wait.is_none_or(|w| w <= MAX_FEED_WAIT_SECS) =>
        {
            (q.since.unwrap_or(0), q.wait)
        }
        _ => {
            return Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-parameter",
                "Invalid query parameter",
                format!(
                    "`since` must be a whole number zero or greater, `wait` a whole number of seconds from 0 to {MAX_FEED_WAIT_SECS}."
                ),
            )
            .into());
        }
    };
    let granted = std::time::Duration::from_secs(wait.unwrap_or(0));
    // The TCP peer (`X-Forwarded-For` is never trusted): the per-address cap's key.
    let client = connect.map(|axum::Extension(ConnectInfo(a))| a.ip());
    let polled = super::feed_wait::poll_from(
        &ep.store,
        client,
        since,
        REVOCATIONS_PAGE,
        granted,
        draining.map(|axum::Extension(d)| d),
    )
    .await?;
    let list = match polled {
        Polled::Page(list) => list,
        Polled::Full => {
            let mut p = Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "feed-waiters-full",
                "Too many waiting requests",
                "Too many requests are waiting on this feed; retry after the given delay (a request without `wait` is answered at once).",
            );
            p.retry_after = Some(FULL_RETRY_AFTER_SECS);
            return Err(p.into());
        }
        Polled::ClientFull => {
            tracing::warn!("feed waiters from one client address at their cap");
            let mut p = Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "feed-waiters-full",
                "Too many waiting requests",
                "Too many requests from this address are waiting on this feed; retry after the given delay (a request without `wait` is answered at once).",
            );
            p.retry_after = Some(FULL_RETRY_AFTER_SECS);
            return Err(p.into());
        }
    };
    // Read after the wait: `egate restore` gives a restored copy a new epoch.
    let epoch = ep.store.feed_epoch().await?;
    let next_since = list.last().map_or(since, |r| r.seq);
    let out = RevocationsOut {
        revocations: list
            .into_iter()
            .map(|r| RevocationOut {
                seq: r.seq,
                cti: r.cti,
                reason: r.reason,
                at: r.at,
                exp: r.exp,
            })
            .collect(),
        next_since,
        epoch,
    };
    let mut resp = axum::Json(out).into_response();
    if let Some(w) = wait {
        resp.headers_mut().insert(
            FEED_WAIT_HEADER,
            HeaderValue::from(granted.as_secs().min(w)),
        );
    }
    Ok(resp)
}

/// Tokens a gate accepted once: each enters the revocation feed as `used`, so that a
/// gate restored from a backup (or another gate) refuses it on its next pull.
#[utoipa::path(
    post, path = "/v1/internal/uses", tag = "internal",
    request_body(content = UseReportDoc, content_type = "application/json"),
    security(("use_report_key" = [])),
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
    State(ep): State<IssuerEndpoints>,
    headers: HeaderMap,
    body: Result<ApiJson<UseReport>, Problem>,
) -> Result<Response, IssuerError> {
    // Without the key, the answer says only that the key is needed, whatever the body.
    if !ep.use_report.accepts(&headers) {
        return Ok(api_key_required());
    }
    let ApiJson(report) = body?;
    let uses = report.validate().map_err(|e| {
        Problem::validation(ValidationErrors(vec![FieldError {
            pointer: e.pointer(),
            code: "invalid",
            detail: e.to_string(),
        }]))
    })?;
    let n = uses.len();
    let ack = ep.store.record_uses(uses, ep.clock.unix()).await?;
    tracing::info!(
        issuer = %ep.issuer.id(),
        gate = %report.gate,
        uses = n,
        uses.recorded = ack.recorded,
        uses.known = ack.known,
        uses.unknown = ack.unknown,
        "use report from a gate"
    );
    Ok(axum::Json(ack).into_response())
}

/// Cases a gate opened for genuine tokens of this issuer: each allows the officer
/// console to read that declaration for that case (and only that case).
#[utoipa::path(
    post, path = "/v1/internal/presentations", tag = "internal",
    request_body(content = PresentationReportDoc, content_type = "application/json"),
    security(("use_report_key" = [])),
    responses(
        (status = 200, description = "What the report changed", body = UseReportAckDoc),
        (status = 400, description = "Malformed JSON or unknown field", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong use-report key", body = ProblemDoc, content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
        (status = 413, description = "Body over 64 KiB", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field (more than 1000 presentations, a bad cti or case)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn internal_presentations(
    State(ep): State<IssuerEndpoints>,
    headers: HeaderMap,
    body: Result<ApiJson<PresentationReport>, Problem>,
) -> Result<Response, IssuerError> {
    if !ep.use_report.accepts(&headers) {
        return Ok(api_key_required());
    }
    let ApiJson(report) = body?;
    let list = report.validate().map_err(|e| {
        Problem::validation(ValidationErrors(vec![FieldError {
            pointer: e.pointer(),
            code: "invalid",
            detail: e.to_string(),
        }]))
    })?;
    let keep_after = ep.clock.unix() - ep.retention_secs;
    let gate = report.gate.clone();
    let (recorded, known, unknown) = ep
        .store
        .record_presentations(gate, list, keep_after)
        .await?;
    tracing::info!(
        issuer = %ep.issuer.id(),
        gate = %report.gate,
        presentations.recorded = recorded,
        presentations.known = known,
        presentations.unknown = unknown,
        "presentation report from a gate"
    );
    Ok(axum::Json(PresentationAck {
        recorded,
        known,
        unknown,
    })
    .into_response())
}
