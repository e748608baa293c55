//! HTML plumbing shared by every page: the per-request CSP nonce and headers, the page
//! layout data, form fields with size limits, CSRF checks and redirects (errors:
//! [`crate::error`]).

use crate::error::WizardError as AppError;
use crate::session::{COOKIE, Session};
use crate::{Mode, WizardState};
use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shared::i18n::{self, Lang};

/// Largest form body accepted.
pub const MAX_FORM_BODY: usize = 32 * 1024;
/// Longest single form value accepted (the MRZ with separators is ~92 characters).
pub const MAX_FIELD_LEN: usize = 256;
/// Most form fields in one body.
pub const MAX_FIELDS: usize = 400;

/// The per-request CSP nonce, put in the request extensions by [`page_headers`].
#[derive(Debug, Clone)]
pub struct Nonce(pub String);

/// Middleware: a fresh CSP nonce per request; `Cache-Control: no-store` on every
/// response; the page CSP (with the nonce) on HTML responses; the URL prefix put in
/// front of the steps' redirects (they name paths from the wizard's root).
///
/// The phone's CSP also allows `fetch` to its own origin (the live estimate), the
/// app shell's service worker and manifest (`'self'`); scripts still need the nonce.
pub async fn page_headers(State(st): State<WizardState>, mut req: Request, next: Next) -> Response {
    let nonce = shared::web::random_token();
    req.extensions_mut().insert(Nonce(nonce.clone()));
    let mut resp = next.run(req).await;
    if !st.config.prefix.is_empty()
        && resp.extensions().get::<AtRoot>().is_none()
        && let Some(to) = resp
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
        && to.starts_with('/')
        && !to.starts_with(&st.config.prefix)
        && let Ok(v) = HeaderValue::from_str(&st.config.path(to))
    {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    let is_html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if is_html {
        let csp = match st.config.mode {
            Mode::SharedTerminal => format!(
                "default-src 'none'; style-src 'self' 'nonce-{nonce}'; script-src 'nonce-{nonce}'; \
                 img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            ),
            Mode::PersonalPhone => format!(
                "default-src 'none'; style-src 'self' 'nonce-{nonce}'; script-src 'nonce-{nonce}'; \
                 connect-src 'self'; img-src 'self' data:; manifest-src 'self'; worker-src 'self'; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            ),
        };
        if let Ok(v) = HeaderValue::from_str(&csp) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    resp
}

/// What the base layout needs.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Page language (`<html lang>`).
    pub lang: Lang,
    /// CSP nonce for the countdown script.
    pub nonce: String,
    /// CSRF token for the forms.
    pub csrf: String,
    /// Seconds until the session is wiped (0: no countdown, e.g. the start page).
    pub idle_secs: u64,
    /// Step number 1–7 of the progress line (0: none).
    pub step: u8,
    /// Key of the page title.
    pub title_key: &'static str,
    /// Phone mode (language switch, "My declarations", no countdown, no print).
    pub phone: bool,
    /// The wizard's URL prefix ("" at the root).
    pub prefix: String,
    /// The stylesheet's path.
    pub stylesheet: String,
}

impl Layout {
    /// The layout of a page of `session`. The kiosk counts the idle time down on the
    /// page; a phone does not (its session simply ends after the idle limit).
    pub fn of(
        st: &WizardState,
        session: &Session,
        nonce: &Nonce,
        step: u8,
        title_key: &'static str,
    ) -> Layout {
        let mut l = Layout::bare(st, session.lang, nonce, step, title_key);
        l.csrf = session.csrf.clone();
        if !st.phone() {
            l.idle_secs = st.idle_secs();
        }
        l
    }

    /// A layout without a session's CSRF token and without a countdown.
    pub fn bare(
        st: &WizardState,
        lang: Lang,
        nonce: &Nonce,
        step: u8,
        title_key: &'static str,
    ) -> Layout {
        Layout {
            lang,
            nonce: nonce.0.clone(),
            csrf: String::new(),
            idle_secs: 0,
            step,
            title_key,
            phone: st.phone(),
            prefix: st.config.prefix.clone(),
            stylesheet: st.config.path(st.config.stylesheet),
        }
    }

    /// The languages of the switch: (code, native name, selected).
    pub fn languages(&self) -> Vec<(&'static str, &'static str, bool)> {
        Lang::ALL
            .iter()
            .map(|l| (l.code(), l.native_name(), *l == self.lang))
            .collect()
    }

    /// The step line, e.g. "Step 2 of 7".
    pub fn step_text(&self) -> String {
        i18n::t_args(
            self.lang,
            "kiosk-step-of",
            &[("step", self.step.into()), ("total", 7u8.into())],
        )
    }
}

/// Give a page struct (with a `l: Layout` field and an `errors` list) its template
/// helpers: `t(key)`, `err(field)`.
macro_rules! page_helpers {
    ($($ty:ty),* $(,)?) => {$(
        impl $ty {
            /// A message in the page language.
            pub fn t(&self, key: &str) -> String {
                shared::i18n::t(self.l.lang, key)
            }
            /// The error message of `field`, or an empty string.
            pub fn err(&self, field: &str) -> String {
                self.errors
                    .iter()
                    .find(|(f, _)| f == field)
                    .map(|(_, m)| m.clone())
                    .unwrap_or_default()
            }
        }
    )*};
}
pub(crate) use page_helpers;

/// Render a template as a 200 HTML response (500 page if rendering fails).
pub fn render(t: &impl Template) -> Response {
    render_status(StatusCode::OK, t)
}

/// Render a template with a status.
pub fn render_status(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "failed to render a page");
            AppError::Internal.into_response()
        }
    }
}

/// `303 See Other` to a fixed path from the wizard's root (never with data in it;
/// [`page_headers`] adds the prefix).
pub fn see_other(path: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, path)]).into_response()
}

/// Marks a redirect to a path outside the wizard (the app shell's `/my`): no prefix.
#[derive(Debug, Clone, Copy)]
pub struct AtRoot;

/// `303 See Other` to a path of the service, outside the wizard's prefix.
pub fn see_other_root(path: &'static str) -> Response {
    let mut resp = see_other(path);
    resp.extensions_mut().insert(AtRoot);
    resp
}

/// The `Set-Cookie` value of a new kiosk session (session cookie: no Expires); `Secure`
/// when the kiosk serves HTTPS (the browser then never sends it in clear).
pub fn session_cookie(value: &str, secure: bool) -> String {
    session_cookie_named(COOKIE, value, secure)
}

/// The `Set-Cookie` value of a new session in cookie `name`. `SameSite=Lax` would let a
/// link from elsewhere carry it: `Strict`, as the kiosk's.
pub fn session_cookie_named(name: &str, value: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/{secure}")
}

/// The `Set-Cookie` value that deletes the session cookie `name`.
pub fn expired_cookie(name: &str) -> String {
    format!("{name}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

/// Set the session cookie of a new session on `resp`.
pub fn set_session_cookie(st: &WizardState, resp: &mut Response, cookie: &str) {
    let v = session_cookie_named(st.sessions.cookie_name(), cookie, st.config.secure_cookie);
    if let Ok(v) = HeaderValue::from_str(&v) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
}

/// `Clear-Site-Data` sent by Finish and the timeout.
pub const CLEAR_SITE_DATA: &str = "\"cache\", \"cookies\", \"storage\"";

/// Form fields of a POST body, with limits.
#[derive(Debug, Clone, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// Check the limits (count, value length).
    pub fn new(pairs: Vec<(String, String)>) -> Result<Fields, AppError> {
        if pairs.len() > MAX_FIELDS
            || pairs
                .iter()
                .any(|(k, v)| k.len() > 64 || v.chars().count() > MAX_FIELD_LEN)
        {
            return Err(AppError::BadRequest);
        }
        Ok(Fields(pairs))
    }

    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Whether the CSRF field matches `expected` (constant time).
    pub fn csrf_ok(&self, expected: &str) -> bool {
        let got = self.get("csrf");
        !got.is_empty() && shared::web::ct_eq(got.as_bytes(), expected.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::session_cookie;

    #[test]
    fn the_session_cookie_is_secure_exactly_when_the_kiosk_serves_https() {
        let https = session_cookie("abc", true);
        assert!(https.ends_with("; Secure"), "{https}");
        assert!(https.contains("HttpOnly; SameSite=Strict"));
        assert!(!session_cookie("abc", false).contains("Secure"));
    }
}
