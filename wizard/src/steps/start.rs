//! Step 0: the start page, the language choice. On a shared terminal opening it wipes
//! any previous session and starts a blank one (holding only a CSRF token); on a phone
//! it keeps a live session (the passenger's own) or starts one in the browser's
//! language. Choosing a language replaces it with a fresh session in that language.
//! Also the phone's language switch, on every page.

use crate::WizardState;
use crate::error::WizardError as AppError;
use crate::html::{Fields, Layout, Nonce, render, see_other, set_session_cookie};
use crate::session::Refused;
use askama::Template;
use axum::extract::{ConnectInfo, Extension, Form, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use shared::i18n::{self, Lang};
use std::net::SocketAddr;

/// One language button.
#[derive(Debug, Clone)]
pub struct LangChoice {
    /// BCP 47 code.
    pub code: &'static str,
    /// Native name.
    pub name: &'static str,
    /// "Start" in that language.
    pub welcome: String,
}

/// The start page.
#[derive(Template)]
#[template(path = "start.html")]
pub struct StartPage {
    /// Layout.
    pub l: Layout,
    /// The five languages.
    pub langs: Vec<LangChoice>,
    /// Always empty (the layout macros expect it).
    pub errors: Vec<(String, String)>,
}
crate::html::page_helpers!(StartPage);

impl StartPage {
    /// The page title in the other languages (the heading shows it in the page's).
    pub fn titles(&self) -> Vec<(&'static str, String)> {
        Lang::ALL
            .iter()
            .filter(|l| **l != self.l.lang)
            .map(|l| (l.code(), i18n::t(*l, "kiosk-start-title")))
            .collect()
    }
}

/// `GET /`: the language buttons. A kiosk wipes any session and starts a blank one; a
/// phone keeps its live session or starts one in the browser's language.
pub async fn get(
    State(st): State<WizardState>,
    Extension(nonce): Extension<Nonce>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> Response {
    let old = st.sessions.cookie(&headers);
    let kept = match &old {
        Some(c) if st.phone() => st.sessions.with(c, |s| (s.lang, s.csrf.clone())),
        _ => None,
    };
    let (cookie, lang, csrf) = match kept {
        Some((lang, csrf)) => (None, lang, csrf),
        None => {
            if let Some(old) = &old {
                st.sessions.remove(old);
            }
            let lang = crate::error::initial_lang(&st, &headers);
            // The TCP peer (`X-Forwarded-For` is never trusted).
            let client = connect.map(|Extension(ConnectInfo(a))| a.ip());
            let cookie = match st.sessions.start(
                lang,
                client,
                st.config.new_sessions_per_client_per_minute,
                st.config.evict_live_sessions,
            ) {
                Ok(cookie) => cookie,
                Err(refused) => return refused_page(refused),
            };
            let csrf = st
                .sessions
                .with(&cookie, |s| s.csrf.clone())
                .unwrap_or_default();
            (Some(cookie), lang, csrf)
        }
    };
    let mut l = Layout::bare(&st, lang, &nonce, 0, "kiosk-start-title");
    l.csrf = csrf;
    let page = StartPage {
        l,
        langs: Lang::ALL
            .iter()
            .map(|l| LangChoice {
                code: l.code(),
                name: l.native_name(),
                welcome: i18n::t(*l, "kiosk-start-button"),
            })
            .collect(),
        errors: Vec::new(),
    };
    let mut resp = render(&page);
    if let Some(cookie) = cookie {
        set_session_cookie(&st, &mut resp, &cookie);
    }
    resp
}

/// No new session (phone): over the address's share of new sessions, the 429 page;
/// at the cap of sessions, the 503 page; both in the request's language (the pages'
/// middleware) with `Retry-After`.
fn refused_page(refused: Refused) -> Response {
    let (err, secs) = match refused {
        Refused::TooMany(secs) => {
            tracing::warn!("new sessions from one client address over the limit");
            (AppError::TooMany, secs)
        }
        Refused::Full(secs) => {
            tracing::warn!("session store full: a new session refused");
            (AppError::Unavailable, secs)
        }
    };
    let mut resp = err.into_response();
    resp.headers_mut()
        .insert(axum::http::header::RETRY_AFTER, secs.max(1).into());
    resp
}

/// `POST /start`: a fresh session in the chosen language (new cookie), then the passport.
pub async fn post(
    State(st): State<WizardState>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let fields = match Fields::new(form) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let Some(old) = st.sessions.cookie(&headers) else {
        return see_other("/");
    };
    let Some(csrf_ok) = st.sessions.with(&old, |s| fields.csrf_ok(&s.csrf)) else {
        return see_other("/");
    };
    if !csrf_ok {
        return AppError::Forbidden.into_response();
    }
    let Some(lang) = Lang::from_code(fields.get("lang")) else {
        return AppError::BadRequest.into_response();
    };
    st.sessions.remove(&old);
    let cookie = st.sessions.create(lang);
    st.sessions.with(&cookie, |s| s.started = true);
    let mut resp = see_other("/passport");
    set_session_cookie(&st, &mut resp, &cookie);
    resp
}

/// The `Set-Cookie` value of the device's remembered language (`POST /lang`).
pub fn lang_cookie(name: &str, lang: Lang, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{name}={}; Path=/; SameSite=Lax; Max-Age=31536000{secure}",
        lang.code()
    )
}

/// `POST /lang` (phone): switch the session's language (`lang`) and go back to the page
/// it was asked on (`step`, 0–7: a step number, never a URL).
pub async fn switch_language(
    State(st): State<WizardState>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let fields = match Fields::new(form) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let Some(cookie) = st.sessions.cookie(&headers) else {
        return see_other("/");
    };
    let lang = Lang::from_code(fields.get("lang"));
    let back = match fields.get("step").parse::<u8>() {
        Ok(n @ 1..=7) => super::step_path(n),
        _ => "/",
    };
    let r = st.sessions.with(&cookie, |s| {
        if !fields.csrf_ok(&s.csrf) {
            return Err(AppError::Forbidden);
        }
        let Some(lang) = lang else {
            return Err(AppError::BadRequest);
        };
        s.lang = lang;
        // Messages of the page being left were in the old language.
        s.errors.clear();
        Ok(if s.started { back } else { "/" })
    });
    match r {
        None => see_other("/"),
        Some(Ok(to)) => {
            let mut resp = see_other(to);
            if let (Some(name), Some(lang)) = (st.config.lang_cookie, lang) {
                // A preference, not a secret: the app shell's pages read it too. Like
                // the session cookie, `Secure` when the service serves HTTPS.
                let v = lang_cookie(name, lang, st.config.secure_cookie);
                if let Ok(v) = axum::http::HeaderValue::from_str(&v) {
                    resp.headers_mut().append(axum::http::header::SET_COOKIE, v);
                }
            }
            resp
        }
        Some(Err(e)) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_cookie_is_secure_exactly_when_the_service_serves_https() {
        let https = lang_cookie("egate_lang", Lang::Ko, true);
        assert_eq!(
            https,
            "egate_lang=ko; Path=/; SameSite=Lax; Max-Age=31536000; Secure"
        );
        assert!(!lang_cookie("egate_lang", Lang::Ko, false).contains("Secure"));
    }
}
