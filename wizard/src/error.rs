//! The kiosk's one error type. A handler returns [`AppError`] wherever it runs; how the
//! error is shown depends on where it was raised:
//!
//! - under the JSON endpoints (`/v1/…`, `/healthz`) it is a problem+json response
//!   (RFC 9457), written by [`IntoResponse`];
//! - on the terminal's pages (every other path) the [`html_pages`] middleware finds the
//!   error in the response extensions (where [`IntoResponse`] also leaves it) and
//!   replaces the body with an HTML page in the session's language (Japanese, the start
//!   page's language, without a session).
//!
//! The cause of a 500 is logged where it happens; the passenger sees a generic message.

use crate::AppState;
use crate::session::cookie_value;
use askama::Template;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shared::i18n::{self, Lang};
use shared::web::Problem;

/// A request that could not be answered as asked.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// The CSRF token is missing or wrong (403).
    #[error("forbidden")]
    Forbidden,
    /// Malformed or oversized input (400).
    #[error("bad request")]
    BadRequest,
    /// No such page (404).
    #[error("not found")]
    NotFound,
    /// Something on our side failed (500); the cause was logged where it happened.
    #[error("internal error")]
    Internal,
}

impl AppError {
    /// The HTTP status of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::BadRequest => StatusCode::BAD_REQUEST,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message key of the HTML page.
    fn message_key(&self) -> &'static str {
        match self {
            AppError::Forbidden => "kiosk-error-forbidden",
            AppError::BadRequest => "kiosk-error-bad-request",
            AppError::NotFound => "kiosk-error-not-found",
            AppError::Internal => "kiosk-error-internal",
        }
    }

    /// The error as a problem document (English).
    fn problem(&self) -> Problem {
        let status = self.status();
        match self {
            AppError::NotFound => Problem::not_found(),
            AppError::Internal => Problem::internal(),
            AppError::Forbidden => Problem::new(
                status,
                "forbidden",
                "Forbidden",
                "The form is missing its CSRF token or the token is wrong.",
            ),
            AppError::BadRequest => Problem::new(
                status,
                "bad-request",
                "Bad request",
                "The input is malformed or too large.",
            ),
        }
    }

    /// The error as an HTML page in `lang`.
    pub fn page(&self, lang: Lang) -> Response {
        let status = self.status();
        let page = ErrorPage {
            lang,
            message_key: self.message_key(),
        };
        match page.render() {
            Ok(body) => (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                body,
            )
                .into_response(),
            Err(e) => {
                tracing::error!(error = %e, "failed to render the error page");
                (status, "error").into_response()
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut resp = self.problem().into_response();
        // The pages' middleware re-renders the error as an HTML page.
        resp.extensions_mut().insert(self);
        resp
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Language.
    pub lang: Lang,
    /// Key of the message.
    pub message_key: &'static str,
}

impl ErrorPage {
    /// A message in the page language.
    pub fn t(&self, key: &str) -> String {
        i18n::t(self.lang, key)
    }
}

/// Whether `path` is one of the kiosk's JSON endpoints (errors stay problem+json).
pub fn is_json_endpoint(path: &str) -> bool {
    path.starts_with("/v1/") || path == "/healthz"
}

/// Middleware: an [`AppError`] raised on a terminal page becomes the HTML error page in
/// the session's language; other headers of the response are kept.
pub async fn html_pages(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let json = is_json_endpoint(req.uri().path());
    let cookie = cookie_value(req.headers());
    let resp = next.run(req).await;
    if json {
        return resp;
    }
    let Some(err) = resp.extensions().get::<AppError>().cloned() else {
        return resp;
    };
    let lang = cookie
        .and_then(|c| st.sessions.lang(&c))
        .unwrap_or(Lang::Ja);
    let (mut parts, _) = resp.into_parts();
    let (page, body) = err.page(lang).into_parts();
    parts.status = page.status;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        page.headers
            .get(header::CONTENT_TYPE)
            .cloned()
            .unwrap_or(HeaderValue::from_static("text/plain; charset=utf-8")),
    );
    Response::from_parts(parts, Body::new(body))
}
