//! Step 0: the start page, the language choice. Opening it wipes any previous session
//! and starts a blank one (holding only a CSRF token); choosing a language replaces
//! that with a fresh session in the chosen language.

use crate::AppState;
use crate::error::AppError;
use crate::html::{Fields, Layout, Nonce, render, see_other, session_cookie};
use crate::session::cookie_value;
use askama::Template;
use axum::extract::{Extension, Form, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use shared::i18n::{self, Lang};

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
    /// The page title in the other languages (the heading shows it in Japanese).
    pub fn titles(&self) -> Vec<(&'static str, String)> {
        Lang::ALL
            .iter()
            .filter(|l| **l != Lang::Ja)
            .map(|l| (l.code(), i18n::t(*l, "kiosk-start-title")))
            .collect()
    }
}

/// `GET /`: wipe any session, start a blank one, show the language buttons.
pub async fn get(
    State(st): State<AppState>,
    Extension(nonce): Extension<Nonce>,
    headers: HeaderMap,
) -> Response {
    if let Some(old) = cookie_value(&headers) {
        st.sessions.remove(&old);
    }
    let cookie = st.sessions.create(Lang::Ja);
    let csrf = st
        .sessions
        .with(&cookie, |s| s.csrf.clone())
        .unwrap_or_default();
    let page = StartPage {
        l: Layout {
            lang: Lang::Ja,
            nonce: nonce.0,
            csrf,
            idle_secs: 0,
            step: 0,
            title_key: "kiosk-start-title",
        },
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
    if let Ok(v) = HeaderValue::from_str(&session_cookie(&cookie, st.config.tls.is_some())) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// `POST /start`: a fresh session in the chosen language (new cookie), then the passport.
pub async fn post(
    State(st): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let fields = match Fields::new(form) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let Some(old) = cookie_value(&headers) else {
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
    if let Ok(v) = HeaderValue::from_str(&session_cookie(&cookie, st.config.tls.is_some())) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}
