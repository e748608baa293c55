//! What every console page shares: the per-request context (language, CSP nonce, the
//! signed-in officer for the navigation bar), the security headers, CSRF checks on form
//! posts, cookies, and the HTML error pages (the console's `AppError`).

use super::ConsoleConfig;
use askama::Template;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use shared::i18n::{self, FluentArg, Lang};
use std::sync::Arc;

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
    pub fn with_officer(mut self, o: &super::auth::Officer) -> Self {
        self.officer = Some(NavOfficer {
            name: o.display_name.clone(),
            role: o.role.clone(),
            csrf: o.csrf.clone(),
        });
        self
    }
}

/// The console's error: rendered as an HTML page by [`console_layer`] (which knows the
/// language and the nonce); the same kinds the JSON API renders as problem+json.
#[derive(Debug, Clone)]
pub enum ConsoleError {
    /// Not signed in (GET: redirect to the sign-in page; other methods: 403).
    LoginRequired,
    /// Signed in, but the role does not allow this.
    Forbidden,
    /// A form post without the right CSRF token.
    Csrf,
    /// No such page or record.
    NotFound,
    /// A request that cannot be applied now; the message key says why.
    Conflict(&'static str),
    /// The form was not filled in correctly; message keys or texts.
    Invalid(Vec<String>),
    /// Something failed on our side (the cause is logged once here).
    Internal,
}

impl ConsoleError {
    /// A 500 whose cause is logged once.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "console request failed");
        ConsoleError::Internal
    }

    fn status(&self) -> StatusCode {
        match self {
            ConsoleError::LoginRequired | ConsoleError::Forbidden | ConsoleError::Csrf => {
                StatusCode::FORBIDDEN
            }
            ConsoleError::NotFound => StatusCode::NOT_FOUND,
            ConsoleError::Conflict(_) => StatusCode::CONFLICT,
            ConsoleError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ConsoleError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<shared::db::DbError> for ConsoleError {
    fn from(e: shared::db::DbError) -> Self {
        ConsoleError::internal(e)
    }
}

impl From<rusqlite::Error> for ConsoleError {
    fn from(e: rusqlite::Error) -> Self {
        ConsoleError::internal(e)
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let mut resp = self.status().into_response();
        resp.extensions_mut().insert(self);
        resp
    }
}

/// The result of a console handler.
pub type PageResult = Result<Response, ConsoleError>;

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
        Err(e) => Err(ConsoleError::internal(e)),
    }
}

fn error_page(ctx: PageCtx, err: &ConsoleError) -> Response {
    let (title, details): (String, Vec<String>) = match err {
        ConsoleError::LoginRequired => (
            ctx.t("console-error-login-title"),
            vec![ctx.t("console-error-login-detail")],
        ),
        ConsoleError::Forbidden => (
            ctx.t("console-error-forbidden-title"),
            vec![ctx.t("console-error-forbidden-detail")],
        ),
        ConsoleError::Csrf => (
            ctx.t("console-error-csrf-title"),
            vec![ctx.t("console-error-csrf-detail")],
        ),
        ConsoleError::NotFound => (
            ctx.t("console-error-not-found-title"),
            vec![ctx.t("console-error-not-found-detail")],
        ),
        ConsoleError::Conflict(key) => (ctx.t("console-error-conflict-title"), vec![ctx.t(key)]),
        ConsoleError::Invalid(msgs) => (
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
        ConsoleError::Internal => (
            ctx.t("console-error-internal-title"),
            vec![ctx.t("console-error-internal-detail")],
        ),
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
/// [`ConsoleError`]s as HTML pages, and sets the security headers.
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
    if let Some(err) = resp.extensions_mut().remove::<ConsoleError>() {
        resp = match err {
            ConsoleError::LoginRequired if method == Method::GET || method == Method::HEAD => {
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
    if let Some(l) = cookie(headers, LANG_COOKIE).and_then(|v| Lang::from_code(&v)) {
        return (l, false);
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    (Lang::from_accept_language(accept), false)
}

/// The value of cookie `name` in the request, if any.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, Secure when `secure`.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

/// A posted `application/x-www-form-urlencoded` body, as name/value pairs in order.
#[derive(Debug, Clone, Default)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// Parse a form body (a malformed body is a 400-class error, not a 500).
    pub fn parse(body: &Bytes) -> Result<FormData, ConsoleError> {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .map(FormData)
            .map_err(|_| ConsoleError::Invalid(vec!["console-error-form-malformed".into()]))
    }

    /// The first value of field `name`, trimmed (empty when absent).
    pub fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    /// Whether the field is present (checkboxes).
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// Check the `csrf` field against the expected token in constant time.
    pub fn check_csrf(&self, expected: &str) -> Result<(), ConsoleError> {
        let given = self.get("csrf");
        if !given.is_empty() && shared::web::ct_eq(given.as_bytes(), expected.as_bytes()) {
            Ok(())
        } else {
            tracing::warn!("console form post refused: missing or wrong CSRF token");
            Err(ConsoleError::Csrf)
        }
    }
}

/// Parse a form and check its CSRF token against the officer's session.
pub fn verified_form(
    officer: &super::auth::Officer,
    body: &Bytes,
) -> Result<FormData, ConsoleError> {
    // A body that does not parse has no valid token either: refuse it as CSRF first.
    let form = FormData::parse(body).map_err(|_| ConsoleError::Csrf)?;
    form.check_csrf(&officer.csrf)?;
    Ok(form)
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
pub async fn not_found() -> ConsoleError {
    ConsoleError::NotFound
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

/// Unix seconds as local `YYYY-MM-DD HH:MM` (offset from the console settings).
pub fn fmt_time(cfg: &ConsoleConfig, unix: i64) -> String {
    let offset = time::UtcOffset::from_whole_seconds(cfg.utc_offset_minutes * 60)
        .unwrap_or(time::UtcOffset::UTC);
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => {
            let t = t.to_offset(offset);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        }
        Err(_) => "-".into(),
    }
}

/// `¥1,234`.
pub fn yen(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    format!(
        "{sign}¥{}",
        shared::rules::group_thousands(n.unsigned_abs())
    )
}

/// The console settings of this router.
pub type Cfg = axum::Extension<Arc<ConsoleConfig>>;
