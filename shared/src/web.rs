//! HTTP pieces every service shares: RFC 9457 problem responses, a JSON extractor that
//! names the bad field by JSON pointer and enforces content type and size, security
//! headers, and the client address (never taken from `X-Forwarded-For`).

use crate::domain::{FieldError, ValidationErrors};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};

/// Largest JSON body accepted by [`ApiJson`].
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// Stable problem type (a relative URI, `/problems/<code>`).
    #[serde(rename = "type")]
    pub type_: String,
    /// Short summary for the problem type.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What happened and what to do, for a person.
    pub detail: String,
    /// Bad fields, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Seconds to wait (429), also sent as `Retry-After`.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// A problem of type `/problems/{code}`.
    pub fn new(status: StatusCode, code: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            type_: format!("/problems/{code}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// 422 with field errors.
    pub fn validation(errors: ValidationErrors) -> Self {
        let n = errors.0.len();
        let mut p = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-failed",
            "The request has invalid fields",
            format!("{n} field(s) are invalid; see `errors` for each field and why."),
        );
        p.errors = errors.0;
        p
    }

    /// 400: the body is not the JSON expected.
    pub fn bad_json(pointer: String, detail: String) -> Self {
        let mut p = Self::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "The request body is not valid for this endpoint",
            detail.clone(),
        );
        p.errors.push(FieldError {
            pointer,
            code: "malformed",
            detail,
        });
        p
    }

    /// 404 without revealing whether the resource exists.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            "No such resource, or the credentials do not grant access to it.",
        )
    }

    /// 500 with a generic message (log the cause once where it happens).
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "Something went wrong on our side; the request was not applied. Try again.",
        )
    }

    /// 503 with `Retry-After`: the database is unavailable (down, restarting,
    /// unreachable); the request was not applied.
    pub fn unavailable() -> Self {
        let secs = crate::pg::UNAVAILABLE_RETRY_AFTER_SECS;
        let mut p = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            format!(
                "The service cannot reach its database just now; the request was not applied. Retry after {secs} s."
            ),
        );
        p.retry_after = Some(secs);
        p
    }

    /// 429 with `Retry-After`.
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut p = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            format!("Too many requests from this address; retry after {retry_after_secs} s."),
        );
        p.retry_after = Some(retry_after_secs);
        p
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut resp = (status, body).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            h.insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

/// JSON body extractor: requires `application/json` (415), at most [`MAX_JSON_BODY`]
/// bytes (413), and on a type error answers 400 naming the field by JSON pointer.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
        .unwrap_or(false)
}

fn too_large() -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body-too-large",
        "Request body too large",
        format!("The body must be at most {MAX_JSON_BODY} bytes."),
    )
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "Send the body as JSON with `Content-Type: application/json`.",
            ));
        }
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared_len.is_some_and(|n| n > MAX_JSON_BODY as u64) {
            return Err(too_large());
        }
        let bytes: Bytes = axum::body::to_bytes(req.into_body(), MAX_JSON_BODY)
            .await
            .map_err(|_| too_large())?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parse JSON, mapping errors to a 400 problem with the JSON pointer of the bad field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let pointer = to_pointer(e.path());
        let inner = e.into_inner();
        let detail = match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                format!("The body is not well-formed JSON: {inner}")
            }
            _ => inner.to_string(),
        };
        Problem::bad_json(pointer, detail)
    })
}

fn to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                out.push('/');
                out.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Enum { variant } => {
                out.push('/');
                out.push_str(variant);
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// Middleware: headers every response carries. Handlers that render HTML set their own
/// `Content-Security-Policy` (with a nonce); everything else gets a deny-all policy.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'none'; frame-ancestors 'none'",
        ));
    resp
}

/// The peer address of the TCP connection (requires `into_make_service_with_connect_info`).
/// `X-Forwarded-For` is deliberately ignored: a client can set it to anything.
pub fn client_ip(req_extensions: &axum::http::Extensions) -> Option<IpAddr> {
    req_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip())
}

/// Resolves on Ctrl-C or SIGTERM: the shutdown signal of every service binary.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}

/// The operating system's random number generator failed. Nothing random may be made
/// then: a session id, CSRF token, edit token or declaration id of zeros would be
/// guessable by anyone. Answers 503 as a problem.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the operating system random number generator failed")]
pub struct RngError;

impl From<RngError> for Problem {
    fn from(_: RngError) -> Self {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "rng-unavailable",
            "Service unavailable",
            "The server cannot make a secret right now; nothing was stored. Try again later.",
        )
    }
}

impl IntoResponse for RngError {
    fn into_response(self) -> Response {
        Problem::from(self).into_response()
    }
}

#[cfg(any(test, feature = "testing"))]
thread_local! {
    static RNG_FAILS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Tests only: make every [`random_bytes`] on this thread fail (`true`) or work again
/// (`false`). Per thread, so that tests running in parallel are not affected; a server
/// under a current-thread runtime runs its handlers on the test's thread.
#[cfg(any(test, feature = "testing"))]
pub fn simulate_rng_failure(fail: bool) {
    RNG_FAILS.with(|f| f.set(fail));
}

/// The one place secrets and identifiers get their randomness: `N` bytes from the
/// operating system, or [`RngError`] (never zeros, never a fallback).
pub fn random_bytes<const N: usize>() -> Result<[u8; N], RngError> {
    #[cfg(any(test, feature = "testing"))]
    if RNG_FAILS.with(std::cell::Cell::get) {
        tracing::error!("operating system random number generator failed (simulated)");
        return Err(RngError);
    }
    let mut b = [0u8; N];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).map_err(|_| {
        tracing::error!("operating system random number generator failed");
        RngError
    })?;
    Ok(b)
}

/// A random 128-bit token, URL-safe base64 without padding (session ids, CSRF tokens,
/// edit tokens), or [`RngError`].
pub fn try_random_token() -> Result<String, RngError> {
    use base64::Engine;
    let b = random_bytes::<16>()?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

/// [`try_random_token`] for callers that cannot return an error: fails closed.
///
/// # Panics
/// If the operating system's random generator fails: the request (its connection task)
/// is aborted rather than handed a predictable token. Prefer [`try_random_token`].
pub fn random_token() -> String {
    match try_random_token() {
        Ok(t) => t,
        Err(e) => panic!("{e}: refusing to make a predictable token"),
    }
}

/// SHA-256 of a secret token, hex (store this, never the token).
pub fn token_hash(token: &str) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        token.as_bytes(),
    ))
}

/// Constant-time equality of two byte strings.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DeclarationInput;

    #[test]
    fn type_errors_name_the_field_by_pointer() {
        let body = br#"{"passenger":{},"trip":{},"answers":{},"items":[{"category":"gin","quantity":-1}]}"#;
        let p = parse_json::<DeclarationInput>(body).unwrap_err();
        assert_eq!(p.status, 400);
        assert!(!p.errors[0].pointer.is_empty());
        let body = br#"{"items":[{"category":"gin","quantity":-1,"value":{"amount":1,"currency":"JPY"}}]}"#;
        let p = parse_json::<Vec<crate::domain::ItemInput>>(&body[9..body.len() - 1]).unwrap_err();
        assert_eq!(p.errors[0].pointer, "/0/quantity");
    }

    #[test]
    fn syntax_errors_are_400() {
        let p = parse_json::<serde_json::Value>(b"{nope").unwrap_err();
        assert_eq!(p.status, 400);
        assert_eq!(p.type_, "/problems/malformed-json");
    }

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let a = random_token();
        assert_ne!(a, random_token());
        assert_eq!(a.len(), 22);
        assert_eq!(token_hash("x"), token_hash("x"));
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }

    #[test]
    fn a_failing_rng_yields_an_error_never_zeros() {
        simulate_rng_failure(true);
        let token = try_random_token();
        let bytes = random_bytes::<9>();
        let panicked = std::panic::catch_unwind(random_token);
        simulate_rng_failure(false);
        assert!(token.is_err());
        assert!(bytes.is_err());
        assert!(panicked.is_err(), "random_token must not hand out zeros");
        let p = Problem::from(RngError);
        assert_eq!(p.status, 503);
        assert!(try_random_token().is_ok());
    }
}
