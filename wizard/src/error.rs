//! The wizard's one error type (the kiosk's error type). A handler returns [`WizardError`] wherever it runs; how the
//! error is shown depends on where it was raised:
//!
//! - under the JSON endpoints (`/v1/…`, `/healthz`) it is a problem+json response
//!   (RFC 9457), written by [`IntoResponse`];
//! - on the terminal's pages (every other path) the [`html_pages`] middleware finds the
//!   error in the response extensions (where [`IntoResponse`] also leaves it) and
//!   replaces the body with an HTML page in the session's language (without a session:
//!   the kiosk's Japanese, the start page's language, or the phone browser's
//!   `Accept-Language`).
//!
//! The cause of a 500 is logged where it happens; the passenger sees a generic message.

use crate::{LanguagePolicy, WizardState};
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
pub enum WizardError {
    /// The CSRF token is missing or wrong (403).
    #[error("forbidden")]
    Forbidden,
    /// Malformed or oversized input (400).
    #[error("bad request")]
    BadRequest,
    /// No such page (404).
    #[error("not found")]
    NotFound,
    /// The declaration being amended was changed elsewhere since it was opened (409;
    /// phone mode): nothing was stored, the page leads back to "My declarations".
    #[error("conflict")]
    Conflict,
    /// Over the service's rate limit (429; the service adds `Retry-After`).
    #[error("too many requests")]
    TooMany,
    /// Something on our side failed (500); the cause was logged where it happened.
    #[error("internal error")]
    Internal,
    /// Busy or a dependency down (503; the handler adds `Retry-After`): the phone's
    /// cap of sessions reached, or its database unreachable. Nothing was changed.
    #[error("unavailable")]
    Unavailable,
}

impl WizardError {
    /// The HTTP status of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            WizardError::Forbidden => StatusCode::FORBIDDEN,
            WizardError::BadRequest => StatusCode::BAD_REQUEST,
            WizardError::NotFound => StatusCode::NOT_FOUND,
            WizardError::Conflict => StatusCode::CONFLICT,
            WizardError::TooMany => StatusCode::TOO_MANY_REQUESTS,
            WizardError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            WizardError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The message key of the HTML page.
    fn message_key(&self) -> &'static str {
        match self {
            WizardError::Forbidden => "kiosk-error-forbidden",
            WizardError::BadRequest => "kiosk-error-bad-request",
            WizardError::NotFound => "kiosk-error-not-found",
            WizardError::Conflict => "kiosk-error-conflict",
            WizardError::TooMany => "kiosk-error-too-many",
            WizardError::Internal => "kiosk-error-internal",
            WizardError::Unavailable => "kiosk-error-unavailable",
        }
    }

    /// The error as a problem document (English).
    fn problem(&self) -> Problem {
        let status = self.status();
        match self {
            WizardError::NotFound => Problem::not_found(),
            WizardError::TooMany => Problem::too_many_requests(60),
            WizardError::Internal => Problem::internal(),
            WizardError::Unavailable => Problem::new(
                status,
                "unavailable",
                "Service unavailable",
                "The service cannot take this request just now; nothing was changed. Retry after the given delay.",
            ),
            WizardError::Forbidden => Problem::new(
                status,
                "forbidden",
                "Forbidden",
                "The form is missing its CSRF token or the token is wrong.",
            ),
            WizardError::Conflict => Problem::new(
                status,
                "conflict",
                "Changed meanwhile",
                "The declaration was changed elsewhere since it was opened; open it again.",
            ),
            WizardError::BadRequest => Problem::new(
                status,
                "bad-request",
                "Bad request",
                "The input is malformed or too large.",
            ),
        }
    }

    /// The error as an HTML page in `lang` (the kiosk's stylesheet, links to `/`).
    pub fn page(&self, lang: Lang) -> Response {
        self.page_at(lang, "", "/static/kiosk.css")
    }

    /// The error as an HTML page in `lang`, its links under `prefix`.
    pub fn page_at(&self, lang: Lang, prefix: &str, stylesheet: &str) -> Response {
        let status = self.status();
        let page = ErrorPage {
            lang,
            message_key: self.message_key(),
            help_key: match self {
                WizardError::Conflict => Some("kiosk-error-conflict-help"),
                _ => None,
            },
            // A declaration is opened again from the app shell's list (outside the
            // wizard: no prefix).
            my_declarations: matches!(self, WizardError::Conflict),
            prefix: prefix.to_owned(),
            stylesheet: stylesheet.to_owned(),
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

impl IntoResponse for WizardError {
    fn into_response(self) -> Response {
        let mut resp = self.problem().into_response();
        // The pages' middleware re-renders the error as an HTML page.
        resp.extensions_mut().insert(self);
        resp
    }
}

/// [`WizardError::Unavailable`] with `Retry-After: retry_after_secs` (the pages'
/// middleware renders it in the request's language and keeps the header).
pub fn unavailable(retry_after_secs: u64) -> Response {
    let mut resp = WizardError::Unavailable.into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, retry_after_secs.max(1).into());
    resp
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Language.
    pub lang: Lang,
    /// Key of the message.
    pub message_key: &'static str,
    /// Key of a paragraph below it, if any.
    pub help_key: Option<&'static str>,
    /// Whether the page leads to "My declarations" (`/my`) instead of the start.
    pub my_declarations: bool,
    /// The wizard's URL prefix.
    pub prefix: String,
    /// The stylesheet's path.
    pub stylesheet: String,
}

impl ErrorPage {
    /// A message in the page language.
    pub fn t(&self, key: &str) -> String {
        i18n::t(self.lang, key)
    }
}

/// Whether `path` is one of the services' JSON endpoints (errors stay problem+json).
pub fn is_json_endpoint(path: &str) -> bool {
    path.starts_with("/v1/") || path == "/healthz"
}

/// Middleware: an [`WizardError`] raised on a terminal page becomes the HTML error page in
/// the session's language; other headers of the response are kept.
pub async fn html_pages(State(st): State<WizardState>, req: Request, next: Next) -> Response {
    let json = is_json_endpoint(req.uri().path());
    let cookie = st.sessions.cookie(req.headers());
    let fallback = initial_lang(&st, req.headers());
    let resp = next.run(req).await;
    if json {
        return resp;
    }
    let Some(err) = resp.extensions().get::<WizardError>().cloned() else {
        return resp;
    };
    let lang = cookie
        .and_then(|c| st.sessions.lang(&c))
        .unwrap_or(fallback);
    let (mut parts, _) = resp.into_parts();
    let stylesheet = st.config.path(st.config.stylesheet);
    let (page, body) = err
        .page_at(lang, &st.config.prefix, &stylesheet)
        .into_parts();
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

/// The language of a new session: the configured one, or on a phone the device's
/// remembered choice (the language cookie), then `Accept-Language`.
pub fn initial_lang(st: &WizardState, headers: &axum::http::HeaderMap) -> Lang {
    match st.config.language {
        LanguagePolicy::Fixed(l) => l,
        LanguagePolicy::AcceptLanguage => st
            .config
            .lang_cookie
            .and_then(|name| crate::session::cookie_named(headers, name))
            .and_then(|v| Lang::from_code(&v))
            .unwrap_or_else(|| accept_language(headers)),
    }
}

/// The language of a request's `Accept-Language` (English when none matches).
pub fn accept_language(headers: &axum::http::HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Lang::En, Lang::from_accept_language)
}
