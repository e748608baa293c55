//! The two listeners' routers and the scan API handlers. The device listener:
//! `POST /v1/scans` (JSON), `POST /v1/scans/image` (multipart), both for an E-Gate's
//! credential ([`AuthenticatedGate`]), `GET /healthz`, `GET /metrics`. The console
//! listener: the officer console under `/console` (and `/` redirecting to it), so a
//! network policy can put the devices and the officers on different networks.

use crate::AppState;
use crate::devices::AuthenticatedGate;
use crate::error::AppError;
use crate::scan::{self, QrInput, ScanInput};
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, MatchedPath, Multipart, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::domain::ValidationErrors;
use shared::i18n::Lang;
use shared::qr::QrError;
use shared::web::{ApiJson, Problem};
use tower_http::trace::TraceLayer;

/// Largest camera image accepted by `POST /v1/scans/image`.
pub const MAX_IMAGE_BYTES: usize = 4 * 1024 * 1024;
/// Largest MRZ text field in a multipart scan.
const MAX_TEXT_FIELD: usize = 1024;

/// The device listener's router: the scan API, health and metrics.
pub fn router(state: AppState) -> Router {
    let app = Router::new()
        .route("/v1/scans", post(scan_json))
        .route(
            "/v1/scans/image",
            post(scan_image).layer(DefaultBodyLimit::max(MAX_IMAGE_BYTES + 64 * 1024)),
        )
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(crate::openapi::serve))
        // Unknown paths (`/console` included): a 404 problem document.
        .fallback(crate::error::not_found)
        .with_state(state);
    common_layers(app)
}

/// The console listener's router: the officer console under `/console`, `/` redirecting
/// to it; any other path is the console's 404 page.
pub fn console_router(state: AppState) -> Router {
    let app = Router::new()
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/console/") }),
        )
        // The address officers are given (the README's link): a nested router's own "/"
        // answers `/console` only, not `/console/`.
        .route(
            "/console/",
            get(|| async { axum::response::Redirect::to("/console/queue") }),
        )
        .nest("/console", crate::console::router())
        .fallback(crate::error::not_found)
        .with_state(state);
    common_layers(app)
}

fn common_layers(app: Router) -> Router {
    app.layer(axum::middleware::from_fn(shared::web::security_headers))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let path = req
                .extensions()
                .get::<MatchedPath>()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "unmatched".into());
            tracing::info_span!("http", http.method = %req.method(), http.route = %path)
        }))
}

/// `POST /v1/scans` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    /// The QR text, `CD1:…`, exactly as scanned.
    pub qr: String,
    /// The two MRZ lines (`\n` between them).
    pub mrz: String,
}

// The answer (lane and passenger messages only) is built in `crate::answer`.
pub use crate::answer::{PassengerReason, ScanResponse, response_of};

fn lang_of(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or(Lang::En)
}

async fn scan_json(
    State(state): State<AppState>,
    AuthenticatedGate(gate_id): AuthenticatedGate,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ScanRequest>,
) -> Result<Json<ScanResponse>, AppError> {
    let input = ScanInput {
        qr: QrInput::Text(req.qr),
        mrz: req.mrz,
        gate_id,
    };
    let outcome = scan::run_scan(&state, input).await?;
    Ok(Json(response_of(outcome, lang_of(&headers))))
}

/// Longest an image scan's upload may take (a gate on the local network sends 4 MiB in
/// well under a second).
const IMAGE_UPLOAD_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// 408 for an upload past [`IMAGE_UPLOAD_DEADLINE`].
fn upload_too_slow() -> AppError {
    Problem::new(
        StatusCode::REQUEST_TIMEOUT,
        "upload-too-slow",
        "Upload too slow",
        format!(
            "The image and MRZ must arrive within {} s.",
            IMAGE_UPLOAD_DEADLINE.as_secs()
        ),
    )
    .into()
}

/// The multipart scan form: the image (at most [`MAX_IMAGE_BYTES`]) and the MRZ; any
/// other field is refused.
async fn read_scan_form(req: Request) -> Result<(Option<Vec<u8>>, Option<String>), AppError> {
    let mut mp = Multipart::from_request(req, &())
        .await
        .map_err(|e| multipart_problem(e.body_text()))?;
    let (mut image, mut mrz) = (None, None);
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|e| multipart_problem(e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "image" => {
                let mut buf = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| {
                    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        image_too_large()
                    } else {
                        multipart_problem(e.body_text())
                    }
                })? {
                    if buf.len() + chunk.len() > MAX_IMAGE_BYTES {
                        return Err(image_too_large());
                    }
                    buf.extend_from_slice(&chunk);
                }
                image = Some(buf);
            }
            "mrz" => mrz = Some(read_text(field, "mrz").await?),
            other => {
                return Err(multipart_problem(format!(
                    "unknown field `{other}`; expected image and mrz"
                )));
            }
        }
    }
    Ok((image, mrz))
}

fn multipart_problem(detail: impl Into<String>) -> AppError {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "malformed-multipart",
        "The request body is not valid for this endpoint",
        detail,
    )
    .into()
}

fn image_too_large() -> AppError {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "image-too-large",
        "Image too large",
        format!(
            "The image must be at most {MAX_IMAGE_BYTES} bytes and {} pixels on a side.",
            shared::qr::MAX_IMAGE_SIDE
        ),
    )
    .into()
}

async fn read_text(
    field: axum::extract::multipart::Field<'_>,
    name: &str,
) -> Result<String, AppError> {
    let bytes = field
        .bytes()
        .await
        .map_err(|e| multipart_problem(format!("field `{name}`: {e}")))?;
    if bytes.len() > MAX_TEXT_FIELD {
        return Err(multipart_problem(format!("field `{name}` is too long")));
    }
    String::from_utf8(bytes.to_vec())
        .map_err(|_| multipart_problem(format!("field `{name}` is not UTF-8 text")))
}

/// `POST /v1/scans/image`: `multipart/form-data` with `image` (PNG or JPEG, ≤ 4 MiB)
/// and `mrz`. A decode slot is taken before the body is read and held through the
/// decode, so at most `EGATE_GATE_IMAGE_DECODES` images are in memory and decoding.
async fn scan_image(
    State(state): State<AppState>,
    AuthenticatedGate(gate_id): AuthenticatedGate,
    req: Request,
) -> Result<Json<ScanResponse>, AppError> {
    let lang = lang_of(req.headers());
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "Send the image as multipart/form-data with the fields image and mrz.",
        )
        .into());
    }
    // The slot is held from before the upload to the end of the decode: it bounds the
    // memory of uploads and decodes together. The upload has a deadline, so a device that
    // sends slowly cannot hold the slots from every other gate.
    let decode_slot = state.scan_limits.image_slot()?;
    let (image, mrz) = tokio::time::timeout(IMAGE_UPLOAD_DEADLINE, read_scan_form(req))
        .await
        .map_err(|_| upload_too_slow())??;
    let mut errs = ValidationErrors::default();
    for (present, name) in [(image.is_some(), "image"), (mrz.is_some(), "mrz")] {
        if !present {
            errs.push(format!("/{name}"), "required", "is required");
        }
    }
    let (Some(image), Some(mrz)) = (image, mrz) else {
        return Err(Problem::validation(errs).into());
    };
    // The slot moves into the blocking task: a client that hangs up cannot free it
    // while its decode still runs.
    let decoded = shared::offload::blocking(move || {
        let _slot = decode_slot;
        shared::qr::decode_image(&image)
    })
    .await?;
    let qr = match decoded {
        Ok(text) => QrInput::Text(text),
        Err(QrError::ImageTooLarge) => return Err(image_too_large()),
        Err(QrError::ImageFormat(_)) => {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-image",
                "Unsupported image",
                "The image must be a PNG or JPEG file.",
            )
            .into());
        }
        Err(_) => QrInput::Unreadable,
    };
    let input = ScanInput { qr, mrz, gate_id };
    let outcome = scan::run_scan(&state, input).await?;
    Ok(Json(response_of(outcome, lang)))
}

async fn healthz(State(state): State<AppState>) -> Response {
    let now = state.clock.unix();
    let issuers: Vec<Value> = state
        .trust
        .status()
        .into_iter()
        .map(|s| {
            json!({
                "id": s.id,
                "source": s.source,
                "keys": s.keys,
                "keys_refused": s.keys_refused,
                "keys_refreshed_at": s.keys_refreshed_at,
                "keys_age_secs": s.keys_refreshed_at.map(|t| now - t),
                "revocations_refreshed_at": s.revocations_refreshed_at,
                "revocations_age_secs": s.revocations_refreshed_at.map(|t| now - t),
                "feed_waiting": s.feed_waiting,
                "last_error": s.last_error,
            })
        })
        .collect();
    let trusted = state.trust.current().len();
    let pending_reports = crate::reports::pending(&state).await.ok();
    let body = json!({
        "status": if trusted > 0 { "ok" } else { "no_trusted_keys" },
        "service": "gate-service",
        "trusted_keys": trusted,
        "revoked_kids": state.trust.revoked_kids(),
        "issuers": issuers,
        "watch_rules": state.selection.rules().len(),
        "selection_rate": state.selection.rate(),
        "rules_profile": state.profile.id,
        "use_reports": {
            "pending": pending_reports,
            "sent": state.reporter.sent(),
            "failures": state.reporter.failures(),
        },
        "restore": state.restore.status(),
    });
    ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}
