//! The sign-in page, sign-in (double-submit CSRF, throttle, password, a new session)
//! and sign-out.

use super::session::{Officer, login_csrf_cookie_name, session_cookie_name};
use super::throttle::{AuthResult, authenticate};
use crate::AppState;
use crate::console::Cfg;
use crate::console::forms::FormData;
use crate::console::page::{self, PageCtx, PageResult};
use crate::console::{cookies, store};
use crate::error::AppError;
use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use rusqlite::params;

/// The sign-in page.
#[derive(Template)]
#[template(path = "console/login.html")]
pub struct LoginPage {
    /// Page context.
    pub ctx: PageCtx,
    /// The pre-session CSRF token (also in a cookie: double submit).
    pub csrf: String,
    /// The user name typed (kept after a failure).
    pub username: String,
    /// Message shown above the form.
    pub error: Option<String>,
}

fn login_page(
    state: &AppState,
    ctx: PageCtx,
    status: StatusCode,
    username: String,
    error: Option<String>,
) -> PageResult {
    let csrf = shared::web::random_token();
    let page = LoginPage {
        ctx,
        csrf: csrf.clone(),
        username,
        error,
    };
    let mut resp = page::html(status, &page)?;
    let cookie = cookies::set(
        login_csrf_cookie_name(state.config.secure_cookies),
        &csrf,
        state.config.secure_cookies,
        Some(3600),
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// `GET /console/login`.
pub async fn login_form(
    State(state): State<AppState>,
    Extension(ctx): Extension<PageCtx>,
) -> PageResult {
    login_page(&state, ctx, StatusCode::OK, String::new(), None)
}

/// `POST /console/login`: double-submit CSRF check, throttle, password, new session.
pub async fn login(
    State(state): State<AppState>,
    Extension(ctx): Extension<PageCtx>,
    Extension(cfg): Cfg,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    body: Bytes,
) -> PageResult {
    // The TCP peer address; absent only for in-process requests without connect info.
    let ip = shared::web::client_ip(&extensions).map(|a| a.to_string());
    let secure = state.config.secure_cookies;
    let form = FormData::parse(&body).map_err(|_| AppError::Csrf)?;
    let cookie_token = cookies::get(&headers, login_csrf_cookie_name(secure)).unwrap_or_default();
    if cookie_token.is_empty() {
        return Err(AppError::Csrf);
    }
    form.check_csrf(&cookie_token)?;
    let username = form.get("username");
    let password = form
        .0
        .iter()
        .find(|(k, _)| k == "password")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let ip = ip.unwrap_or_else(|| "unknown".into());
    let officer_id = match authenticate(&state, &cfg, &username, &password, &ip).await? {
        AuthResult::Ok(id) => id,
        AuthResult::Wrong => {
            let msg = ctx.t("console-login-wrong");
            return login_page(&state, ctx, StatusCode::UNAUTHORIZED, username, Some(msg));
        }
        AuthResult::Throttled(wait) => {
            let msg = ctx.t1("console-login-throttled", "seconds", &wait.to_string());
            let mut resp = login_page(
                &state,
                ctx,
                StatusCode::TOO_MANY_REQUESTS,
                username,
                Some(msg),
            )?;
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return Ok(resp);
        }
    };
    // A new session id at every sign-in; the browser's previous session ends.
    let old =
        cookies::get(&headers, session_cookie_name(secure)).map(|t| shared::web::token_hash(&t));
    let token = shared::web::random_token();
    let id_hash = shared::web::token_hash(&token);
    let csrf = shared::web::random_token();
    let now = state.clock.unix();
    let expires = now + cfg.absolute_timeout_secs;
    state
        .db
        .write(move |c| -> Result<(), AppError> {
            if let Some(old) = old {
                c.execute("DELETE FROM sessions WHERE id_hash = ?1", [old])?;
            }
            c.execute(
                "INSERT INTO sessions (id_hash, officer_id, csrf_token, created_at, last_seen_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
                params![id_hash, officer_id, csrf, now, expires],
            )?;
            store::audit(c, now, Some(officer_id), "session.login", None, "")?;
            Ok(())
        })
        .await?;
    let mut resp = page::see_other("/console/queue");
    let h = resp.headers_mut();
    for c in [
        cookies::set(session_cookie_name(secure), &token, secure, None),
        cookies::set(login_csrf_cookie_name(secure), "", secure, Some(0)),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    Ok(resp)
}

/// `POST /console/logout`: deletes the server session and the cookie.
pub async fn logout(State(state): State<AppState>, officer: Officer, body: Bytes) -> PageResult {
    officer.verified_form(&body)?;
    let now = state.clock.unix();
    let (hash, id) = (officer.session_hash.clone(), officer.id);
    state
        .db
        .write(move |c| -> Result<(), AppError> {
            c.execute("DELETE FROM sessions WHERE id_hash = ?1", [hash])?;
            store::audit(c, now, Some(id), "session.logout", None, "")?;
            Ok(())
        })
        .await?;
    let secure = state.config.secure_cookies;
    let mut resp = page::see_other("/console/login");
    if let Ok(v) = HeaderValue::from_str(&cookies::set(
        session_cookie_name(secure),
        "",
        secure,
        Some(0),
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp.into_response())
}
