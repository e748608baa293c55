//! Declaration handlers: create, read, revise, erase, and the QR renderings. Every
//! route but creation needs the edit token (`Authorization: Bearer …`); a missing or
//! wrong token, an unknown or an erased id all answer the same 404.

use crate::api::{
    CreatedOut, DeclarationInputDoc, DeclarationOut, LaneOut, ProblemDoc, QrOut, reasons_out,
};
use crate::error::{AppError, AppResult};
use crate::store::{Revision, Row, StoredReason, TokenRecord};
use crate::{AppState, lang_of};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shared::domain::{Declaration, DeclarationInput, ValidationErrors, parse_date};
use shared::feed::bearer;
use shared::issuer::{IssueError, TokenRequest};
use shared::rules::evaluate;
use shared::web::{ApiJson, Problem, ct_eq, token_hash, try_random_token};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Length of a declaration id: 12 URL-safe base64 characters = 72 random bits.
pub const ID_LEN: usize = 12;

/// A fresh declaration id, or 503 when the system RNG fails (never an id of zeros).
fn new_id() -> Result<String, Problem> {
    use base64::Engine as _;
    let b = shared::web::random_bytes::<9>()?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

fn plausible_id(id: &str) -> bool {
    id.len() == ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Load the declaration `id` if the request carries its edit token; 404 otherwise.
async fn authorize(state: &AppState, id: &str, headers: &HeaderMap) -> AppResult<Row> {
    authorize_token(state, id, bearer(headers)).await
}

/// Load the declaration `id` if `edit_token` is its edit token; 404 otherwise (the API's
/// bearer token, or the phone app's form field).
pub(crate) async fn authorize_token(
    state: &AppState,
    id: &str,
    edit_token: Option<&str>,
) -> AppResult<Row> {
    let presented = edit_token.map(token_hash);
    if !plausible_id(id) {
        return Err(AppError::NotFound);
    }
    let key = id.to_owned();
    let row = state.db.get(key).await?;
    // Compare against a dummy hash when there is nothing to compare with, so that the
    // work done does not depend on whether the id exists.
    let stored = row
        .as_ref()
        .and_then(|r| r.edit_token_hash.clone())
        .unwrap_or_else(|| "0".repeat(64));
    let ok = presented.is_some_and(|p| ct_eq(p.as_bytes(), stored.as_bytes()));
    match row {
        Some(r) if ok && r.erased_at.is_none() => Ok(r),
        _ => Err(AppError::NotFound),
    }
}

/// Validate the body as a whole: field checks, the profile's currency table, the
/// passport's expiry and the arrival date's window. Every bad field in one 422.
pub(crate) fn validate(
    state: &AppState,
    input: &DeclarationInput,
    now: i64,
) -> AppResult<Declaration> {
    let mut errs = ValidationErrors::default();
    let decl = match input.validate() {
        Ok(d) => Some(d),
        Err(e) => {
            errs.0.extend(e.0);
            None
        }
    };
    if let Some(d) = &decl
        && let Err(e) = state.profile.check_declared(&d.declared, "")
    {
        errs.0.extend(e.0);
    }
    let arrival = parse_date(&input.trip.arrival_date);
    if let Some(arrival) = arrival
        && let Err(e) = state.issuer.policy().expiry(arrival, now)
    {
        errs.push("/trip/arrival_date", "out_of_range", e.to_string());
    }
    if let (Some(arrival), Some(expiry)) = (arrival, parse_date(&input.passenger.passport_expiry))
        && expiry < arrival
    {
        errs.push(
            "/passenger/passport_expiry",
            "expired",
            "the passport expires before the arrival date",
        );
    }
    match decl {
        Some(d) if errs.is_empty() => Ok(d),
        _ => Err(AppError::Validation(errs)),
    }
}

/// Evaluate, sign (off the runtime) and shape a revision.
async fn make_revision(
    state: &AppState,
    id: &str,
    revision: u32,
    decl: Declaration,
    now: i64,
) -> AppResult<Revision> {
    let ev = evaluate(&state.profile, &decl.declared);
    let issuer = state.issuer.clone();
    let (id_owned, profile_id) = (id.to_owned(), ev.profile_id.clone());
    let body = DeclarationInput::from(&decl);
    let arrival_date = shared::domain::format_date(decl.trip.arrival_date);
    let issued = shared::offload::blocking(move || {
        let req = TokenRequest {
            declaration_id: &id_owned,
            revision,
            declaration: &decl,
            profile_id: &profile_id,
        };
        issuer.sign(&req, now)
    })
    .await?
    .map_err(|e| match e {
        IssueError::ArrivalDate(e) => {
            let mut errs = ValidationErrors::default();
            errs.push("/trip/arrival_date", "out_of_range", e.to_string());
            AppError::Validation(errs)
        }
        IssueError::Sign(e) => AppError::Internal(format!("token signing: {e}")),
    })?;
    state.counters.tokens_issued.inc();
    Ok(Revision {
        revision,
        body,
        arrival_date,
        profile_id: ev.profile_id.clone(),
        lane: ev.lane.code().to_owned(),
        reasons: ev.reasons.iter().map(StoredReason::from).collect(),
        duty: serde_json::to_value(&ev.duty).map_err(|e| AppError::Internal(e.to_string()))?,
        token: TokenRecord {
            cti: issued.cti_base64(),
            kid: issued.kid,
            iat: issued.iat,
            exp: issued.exp,
            text: issued.text,
        },
    })
}

fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

fn qr_out(id: &str, text: String, exp: i64) -> QrOut {
    QrOut {
        text,
        png_url: format!("/v1/declarations/{id}/qr.png"),
        svg_url: format!("/v1/declarations/{id}/qr.svg"),
        expires_at: rfc3339(exp),
    }
}

fn declaration_out(row: Row, lang: shared::i18n::Lang) -> AppResult<DeclarationOut> {
    let (Some(body), Some(text)) = (row.body, row.qr_text) else {
        return Err(AppError::NotFound);
    };
    Ok(DeclarationOut {
        qr: qr_out(&row.id, text, row.exp),
        id: row.id,
        revision: row.revision,
        declaration: body,
        lane_preview: LaneOut::from_code(&row.lane),
        reasons: reasons_out(&row.reasons, lang),
        duty_estimate: row.duty.unwrap_or_default(),
        profile_id: row.profile_id,
    })
}

/// Create a declaration and its signed QR.
#[utoipa::path(
    post, path = "/v1/declarations", tag = "declarations",
    request_body(content = DeclarationInputDoc, content_type = "application/json"),
    params(("Accept-Language" = Option<String>, Header, description = "ja, en, zh-Hans, zh-Hant or ko for reason messages")),
    responses(
        (status = 201, description = "Created; the edit token is shown only now", body = CreatedOut,
            headers(("Location" = String, description = "The declaration's URL"))),
        (status = 400, description = "Malformed JSON or unknown field", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named by JSON pointer", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = ProblemDoc, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<DeclarationInput>,
) -> AppResult<Response> {
    let now = state.clock.unix();
    let (id, edit_token, rev) = create_declaration(&state, &input, now).await?;
    let lang = lang_of(&headers);
    let out = CreatedOut {
        qr: qr_out(&id, rev.token.text, rev.token.exp),
        id: id.clone(),
        revision: 1,
        edit_token,
        lane_preview: LaneOut::from_code(&rev.lane),
        reasons: reasons_out(&rev.reasons, lang),
        duty_estimate: rev.duty,
        profile_id: rev.profile_id,
    };
    let mut resp = (StatusCode::CREATED, axum::Json(out)).into_response();
    if let Ok(loc) = HeaderValue::from_str(&format!("/v1/declarations/{id}")) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    no_store(&mut resp);
    Ok(resp)
}

/// Validate, sign and store a new declaration (the API's `POST /v1/declarations` and
/// the phone app's confirmation): its id, its edit token (shown once) and revision 1.
pub(crate) async fn create_declaration(
    state: &AppState,
    input: &DeclarationInput,
    now: i64,
) -> AppResult<(String, String, Revision)> {
    let decl = validate(state, input, now)?;
    let id = new_id()?;
    let edit_token = try_random_token().map_err(Problem::from)?;
    let rev = make_revision(state, &id, 1, decl, now).await?;
    let hash = token_hash(&edit_token);
    let (id2, rev2) = (id.clone(), rev.clone());
    state.db.insert(id2, hash, rev2, now).await?;
    state.counters.declarations_created.inc();
    Ok((id, edit_token, rev))
}

/// Validate, sign and store the next revision of `row` (the API's `PUT` and the phone
/// app's edit): the previous token is superseded in the same transaction. 409 when it
/// changed meanwhile.
pub(crate) async fn amend_declaration(
    state: &AppState,
    row: &Row,
    input: &DeclarationInput,
    now: i64,
) -> AppResult<Revision> {
    let decl = validate(state, input, now)?;
    let revision = row.revision.saturating_add(1);
    let rev = make_revision(state, &row.id, revision, decl, now).await?;
    let (id2, rev2) = (row.id.clone(), rev.clone());
    let replaced = state.db.replace(id2, rev2, now).await?;
    if !replaced {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "conflict",
            "Changed meanwhile",
            "The declaration was changed or erased by another request; fetch it and retry.",
        )
        .into());
    }
    Ok(rev)
}

fn no_store(resp: &mut Response) {
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
}

/// Read a declaration.
#[utoipa::path(
    get, path = "/v1/declarations/{id}", tag = "declarations",
    params(("id" = String, Path, description = "Declaration id")),
    security(("edit_token" = [])),
    responses(
        (status = 200, description = "The declaration", body = DeclarationOut),
        (status = 404, description = "Unknown id, erased, or missing/wrong edit token", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let row = authorize(&state, &id, &headers).await?;
    let mut resp = axum::Json(declaration_out(row, lang_of(&headers))?).into_response();
    no_store(&mut resp);
    Ok(resp)
}

/// Replace a declaration: a new revision and a new QR; the previous QR is revoked.
#[utoipa::path(
    put, path = "/v1/declarations/{id}", tag = "declarations",
    params(("id" = String, Path, description = "Declaration id")),
    request_body(content = DeclarationInputDoc, content_type = "application/json"),
    security(("edit_token" = [])),
    responses(
        (status = 200, description = "The new revision", body = DeclarationOut),
        (status = 400, description = "Malformed JSON or unknown field", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Unknown id, erased, or missing/wrong edit token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Changed concurrently; fetch and retry", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, description = "Too many edits from this client or to this declaration", body = ProblemDoc, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn put(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<DeclarationInput>,
) -> AppResult<Response> {
    let row = authorize(&state, &id, &headers).await?;
    let now = state.clock.unix();
    let rev = amend_declaration(&state, &row, &input, now).await?;
    let revision = rev.revision;
    let lang = lang_of(&headers);
    let out = DeclarationOut {
        qr: qr_out(&id, rev.token.text, rev.token.exp),
        id,
        revision,
        declaration: rev.body,
        lane_preview: LaneOut::from_code(&rev.lane),
        reasons: reasons_out(&rev.reasons, lang),
        duty_estimate: rev.duty,
        profile_id: rev.profile_id,
    };
    let mut resp = axum::Json(out).into_response();
    no_store(&mut resp);
    Ok(resp)
}

/// Erase a declaration's personal data and revoke its QR.
#[utoipa::path(
    delete, path = "/v1/declarations/{id}", tag = "declarations",
    params(("id" = String, Path, description = "Declaration id")),
    security(("edit_token" = [])),
    responses(
        (status = 204, description = "Erased; its QR is revoked"),
        (status = 404, description = "Unknown id, erased, or missing/wrong edit token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, description = "Too many edits from this client or to this declaration", body = ProblemDoc, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AppResult<StatusCode> {
    authorize(&state, &id, &headers).await?;
    let now = state.clock.unix();
    let key = id.clone();
    let erased = state.db.erase(key, now).await?;
    if !erased {
        return Err(AppError::NotFound);
    }
    state.counters.declarations_erased.inc();
    tracing::info!(declaration.id = %id, "declaration erased at the passenger's request");
    Ok(StatusCode::NO_CONTENT)
}

/// PNG options (the query string: `?scale=8`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PngQuery {
    /// Pixels per module, 1–20 (default 8).
    pub scale: Option<String>,
}

/// Default PNG scale.
pub const DEFAULT_SCALE: u32 = 8;

fn parse_scale(s: Option<&str>) -> Result<u32, Problem> {
    let Some(s) = s else {
        return Ok(DEFAULT_SCALE);
    };
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=20).contains(&n) => Ok(n),
        _ => {
            let mut p = Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-parameter",
                "Invalid query parameter",
                "`scale` must be a whole number from 1 to 20 (pixels per module).",
            );
            p.errors.push(shared::domain::FieldError {
                pointer: "scale".to_owned(),
                code: "out_of_range",
                detail: "must be a whole number from 1 to 20".to_owned(),
            });
            Err(p)
        }
    }
}

fn image_response(content_type: &'static str, body: Vec<u8>) -> Response {
    let mut resp = body.into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    no_store(&mut resp);
    resp
}

/// The QR as PNG.
#[utoipa::path(
    get, path = "/v1/declarations/{id}/qr.png", tag = "declarations",
    params(("id" = String, Path, description = "Declaration id"), PngQuery),
    security(("edit_token" = [])),
    responses(
        (status = 200, description = "PNG image", content_type = "image/png", body = Vec<u8>),
        (status = 400, description = "`scale` out of range", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Unknown id, erased, or missing/wrong edit token", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn qr_png(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<PngQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let scale = match &query {
        Ok(Query(q)) => parse_scale(q.scale.as_deref())?,
        Err(_) => parse_scale(Some(""))?,
    };
    let row = authorize(&state, &id, &headers).await?;
    let text = row.qr_text.ok_or(AppError::NotFound)?;
    let png = shared::offload::blocking(move || shared::qr::render_png(&text, scale))
        .await?
        .map_err(|e| AppError::Internal(format!("QR render: {e}")))?;
    Ok(image_response("image/png", png))
}

/// The QR as SVG.
#[utoipa::path(
    get, path = "/v1/declarations/{id}/qr.svg", tag = "declarations",
    params(("id" = String, Path, description = "Declaration id")),
    security(("edit_token" = [])),
    responses(
        (status = 200, description = "SVG image", content_type = "image/svg+xml", body = String),
        (status = 404, description = "Unknown id, erased, or missing/wrong edit token", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn qr_svg(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let row = authorize(&state, &id, &headers).await?;
    let text = row.qr_text.ok_or(AppError::NotFound)?;
    let svg = shared::offload::blocking(move || shared::qr::render_svg(&text))
        .await?
        .map_err(|e| AppError::Internal(format!("QR render: {e}")))?;
    Ok(image_response("image/svg+xml", svg.into_bytes()))
}
