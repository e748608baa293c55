//! The officer console's read of a whole declaration (gate-service's API key). The
//! other internal endpoint, gates' use reports, is the shared issuer router's.

use crate::api::{InternalDeclarationOut, LaneOut, ProblemDoc, reasons_out};
use crate::error::{AppError, AppResult};
use crate::store;
use crate::{AppState, lang_of};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use shared::feed::has_api_key;

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
