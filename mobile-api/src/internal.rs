//! The officer console's read of a whole declaration, on the internal listener only.
//! The other internal endpoints, gates' use and presentation reports, are the shared
//! issuer router's.
//!
//! A read carries the gate's declaration-read key (checked against its verifier) and
//! names the gate instance, the case and the officer in headers (`X-Egate-Gate`,
//! `X-Egate-Case`, `X-Egate-Officer`: never in the URL, which ends up in logs). It is
//! allowed only when that case presented that declaration's token (the gate's
//! presentation report), and audited either way (`shared::issuer::presentations`).

use crate::api::{InternalDeclarationOut, LaneOut, ProblemDoc, reasons_out};
use crate::error::{AppError, AppResult};
use crate::{AppState, lang_of};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::feed::{
    HEADER_CASE, HEADER_GATE, HEADER_OFFICER, is_declaration_id, is_short_printable,
};
use shared::issuer::presentations::ReadRequest;
use shared::web::Problem;

/// The full declaration, for the officer console: declaration-read key, and the case
/// that presented it.
#[utoipa::path(
    get, path = "/v1/internal/declarations/{id}", tag = "internal",
    params(
        ("id" = String, Path, description = "Declaration id"),
        ("X-Egate-Gate" = String, Header, description = "The gate-service instance (1 to 64 printable characters)"),
        ("X-Egate-Case" = i64, Header, description = "The gate's case id that scanned this declaration"),
        ("X-Egate-Officer" = String, Header, description = "The officer's user name (1 to 64 printable characters)"),
    ),
    security(("declaration_read_key" = [])),
    responses(
        (status = 200, description = "The declaration with its audit data (`declaration` is null once erased)", body = InternalDeclarationOut),
        (status = 400, description = "A missing or malformed X-Egate-* header, or a malformed id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong declaration-read key", body = ProblemDoc, content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
        (status = 403, description = "That case did not scan this declaration (the refusal is audited)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Unknown id", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn internal_declaration(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    if !state.declaration_read.accepts(&headers) {
        return Ok(shared::feed::api_key_required());
    }
    let req = read_request(&headers, &id)?;
    let now = state.clock.unix();
    let audited = req.clone();
    let allowed = state.db.issuer().authorize_read(audited, now).await?;
    tracing::info!(
        gate = %req.gate,
        case.id = req.case_id,
        declaration.id = %req.declaration_id,
        allowed,
        "officer console read of a declaration"
    );
    if !allowed {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "not-presented",
            "Not presented by this case",
            "This case did not scan this declaration: a declaration is read only for the \
             case its token opened. The refusal is recorded.",
        )
        .into());
    }
    let key = id.clone();
    let row = state.db.get(key).await?.ok_or(AppError::NotFound)?;
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

/// The gate, case and officer of a read, from its headers; 400 when one is missing or
/// malformed.
fn read_request(headers: &HeaderMap, id: &str) -> Result<ReadRequest, AppError> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| is_short_printable(v))
    };
    let bad = |detail: &str| -> AppError {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-read-request",
            "Invalid declaration read",
            detail.to_owned(),
        )
        .into()
    };
    if !is_declaration_id(id) {
        return Err(bad("The declaration id is malformed."));
    }
    let gate = text(HEADER_GATE).ok_or_else(|| {
        bad("X-Egate-Gate must name the gate instance (1 to 64 printable characters).")
    })?;
    let officer = text(HEADER_OFFICER).ok_or_else(|| {
        bad("X-Egate-Officer must name the officer (1 to 64 printable characters).")
    })?;
    let case_id = text(HEADER_CASE)
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|n| *n >= 1)
        .ok_or_else(|| bad("X-Egate-Case must be the case id, a whole number of 1 or more."))?;
    Ok(ReadRequest {
        gate: gate.to_owned(),
        case_id,
        officer: officer.to_owned(),
        declaration_id: id.to_owned(),
    })
}
