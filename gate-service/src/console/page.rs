//! What every console page shares: the per-request context (language, CSP nonce, the
//! signed-in officer for the navigation bar), the security headers, and the HTML page
//! an [`AppError`] raised under `/console/` becomes.

use super::cookies;
use crate::error::AppError;
use askama::Template;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use shared::i18n::{self, FluentArg, Lang};

/// Cookie holding the chosen console language.
const LANG_COOKIE: &str = "egate_console_lang";

/// The signed-in officer as the navigation bar shows them.
#[derive(Debug, Clone)]
pub struct NavOfficer {
    /// Display name.
    pub name: String,
    /// `officer` or `supervisor`.
    pub role: String,
    /// The session's CSRF token (logout form).
    pub csrf: String,
}

/// Per-request page context, put in the request extensions by [`console_layer`].
#[derive(Debug, Clone)]
pub struct PageCtx {
    /// The page language.
    pub lang: Lang,
    /// CSP nonce of this response.
    pub nonce: String,
    /// The request path (language links point back to it).
    pub path: String,
    /// The signed-in officer, when there is one.
    pub officer: Option<NavOfficer>,
}

impl PageCtx {
    /// A message in the page language.
    pub fn t(&self, key: &str) -> String {
        i18n::t(self.lang, key)
    }

    /// A message with one argument.
    pub fn t1(&self, key: &str, name: &str, value: &str) -> String {
        i18n::t_args(self.lang, key, &[(name, FluentArg::Str(value.to_owned()))])
    }

    /// The `lang` attribute of `<html>`.
    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }

    /// Languages offered by the switch: code, native name, whether current.
    pub fn languages(&self) -> Vec<(&'static str, &'static str, bool)> {
        Lang::ALL
            .iter()
            .map(|l| (l.code(), l.native_name(), *l == self.lang))
            .collect()
    }

    /// Whether the signed-in officer is a supervisor.
    pub fn is_supervisor(&self) -> bool {
        self.officer
            .as_ref()
            .is_some_and(|o| o.role == "supervisor")
    }

    /// The officer's role, localised.
    pub fn role_label(&self, role: &str) -> String {
        self.t(&format!("console-role-{role}"))
    }

    /// The context with the signed-in officer set.
    pub fn with_officer(mut self, o: impl Into<NavOfficer>) -> Self {
        self.officer = Some(o.into());
        self
    }
}

/// The result of a console handler.
pub type PageResult = Result<Response, AppError>;

/// The error page.
#[derive(Template)]
#[template(path = "console/error.html")]
pub struct ErrorPage {
    /// Page context.
    pub ctx: PageCtx,
    /// HTTP status code.
    pub status: u16,
    /// Heading.
    pub title: String,
    /// What happened and what to do.
    pub details: Vec<String>,
}

/// Render a template to an HTML response with `status`.
pub fn html(status: StatusCode, t: &impl Template) -> PageResult {
    match t.render() {
        Ok(body) => Ok((
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response()),
        Err(e) => Err(AppError::internal(e)),
    }
}

fn error_page(ctx: PageCtx, err: &AppError) -> Response {
    let (title, details): (String, Vec<String>) = match err {
        AppError::LoginRequired => (
            ctx.t("console-error-login-title"),
            vec![ctx.t("console-error-login-detail")],
        ),
        // Device credentials are not used under the console; shown as a refusal.
        AppError::Forbidden | AppError::Unauthorized | AppError::DeviceForbidden => (
            ctx.t("console-error-forbidden-title"),
            vec![ctx.t("console-error-forbidden-detail")],
        ),
        AppError::Csrf => (
            ctx.t("console-error-csrf-title"),
            vec![ctx.t("console-error-csrf-detail")],
        ),
        AppError::NotFound => (
            ctx.t("console-error-not-found-title"),
            vec![ctx.t("console-error-not-found-detail")],
        ),
        AppError::Conflict(key) => (ctx.t("console-error-conflict-title"), vec![ctx.t(key)]),
        AppError::Invalid(msgs) => (
            ctx.t("console-error-invalid-title"),
            msgs.iter()
                .map(|m| {
                    if m.starts_with("console-") {
                        ctx.t(m)
                    } else {
                        m.clone()
                    }
                })
                .collect(),
        ),
        AppError::Internal => (
            ctx.t("console-error-internal-title"),
            vec![ctx.t("console-error-internal-detail")],
        ),
        // The scan API's problems are not raised under the console; shown as they are.
        AppError::Problem(p) => (p.title.clone(), vec![p.detail.clone()]),
    };
    let status = err.status();
    let page = ErrorPage {
        ctx,
        status: status.as_u16(),
        title,
        details,
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

/// Middleware on every console route: picks the language, makes the CSP nonce, renders
/// [`AppError`]s as HTML pages, and sets the security headers.
pub async fn console_layer(mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let (lang, remember) = pick_lang(&method, req.uri().query(), req.headers());
    let nonce = shared::web::random_token();
    let ctx = PageCtx {
        lang,
        nonce: nonce.clone(),
        // Nested under `/console`: the original URI has the full path.
        path: req
            .extensions()
            .get::<axum::extract::OriginalUri>()
            .map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned()),
        officer: None,
    };
    req.extensions_mut().insert(ctx.clone());
    let mut resp = next.run(req).await;
    if let Some(err) = resp.extensions_mut().remove::<AppError>() {
        resp = match err {
            AppError::LoginRequired if method == Method::GET || method == Method::HEAD => {
                Redirect::to("/console/login").into_response()
            }
            other => error_page(ctx, &other),
        };
    }
    let h = resp.headers_mut();
    let csp = format!(
        "default-src 'none'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if remember {
        let cookie = format!(
            "{LANG_COOKIE}={}; Path=/; SameSite=Strict; Max-Age=31536000",
            lang.code()
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            h.append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// The language: `?lang=` on a GET (remembered in a cookie), else the cookie, else
/// `Accept-Language`. Returns whether to (re)set the cookie.
fn pick_lang(method: &Method, query: Option<&str>, headers: &HeaderMap) -> (Lang, bool) {
    if method == Method::GET {
        let asked = query
            .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
            .and_then(|pairs| {
                pairs
                    .into_iter()
                    .find(|(k, _)| k == "lang")
                    .and_then(|(_, v)| Lang::from_code(&v))
            });
        if let Some(l) = asked {
            return (l, true);
        }
    }
    if let Some(l) = cookies::get(headers, LANG_COOKIE).and_then(|v| Lang::from_code(&v)) {
        return (l, false);
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    (Lang::from_accept_language(accept), false)
}

/// A 303 redirect after a successful post.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// `/console` → the queue.
pub async fn to_queue() -> Response {
    see_other("/console/queue")
}

/// Unknown console paths: the HTML 404 page.
pub async fn not_found() -> AppError {
    AppError::NotFound
}

/// The stylesheet, served from the binary.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        include_str!("../../static/console.css"),
    )
        .into_response()
}
