//! The rules without a declaration: the active rules profile, and the estimate (lane
//! preview, reasons, duty) of what a passenger might declare, storing nothing.

use crate::api::{EstimateIn, EstimateOut, ProblemDoc};
use crate::error::{AppError, AppResult};
use crate::{AppState, lang_of};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use shared::domain::{ValidationErrors, validate_declared};
use shared::rules::evaluate;
use shared::web::ApiJson;

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
