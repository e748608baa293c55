//! The signed-in officer's own account: changing their password.
//!
//! The current password is checked through the sign-in throttle (a stolen session
//! cannot be used to guess it faster than the sign-in page allows); the new one follows
//! the account rules and is hashed with argon2id. Every other session of the officer
//! ends (whoever else held one is signed out); the current one stays. Audited.

use super::auth::throttle::{AuthResult, authenticate};
use super::auth::{Officer, check_password_strength, hash_password};
use super::page::{self, PageCtx, PageResult};
use super::{Cfg, store};
use crate::AppState;
use crate::error::AppError;
use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use rusqlite::params;
use serde::Deserialize;

/// The account page.
#[derive(Template)]
#[template(path = "console/account.html")]
pub struct AccountPage {
    /// Page context.
    pub ctx: PageCtx,
    /// CSRF token.
    pub csrf: String,
    /// Sign-in name.
    pub username: String,
    /// Message after a refused change.
    pub error: Option<String>,
    /// Whether the password was just changed.
    pub changed: bool,
}

/// Query of the account page.
#[derive(Debug, Default, Deserialize)]
pub struct AccountQuery {
    /// Set after a successful change.
    #[serde(default)]
    pub changed: Option<String>,
}

fn render(
    ctx: PageCtx,
    officer: &Officer,
    status: StatusCode,
    error: Option<String>,
    changed: bool,
) -> PageResult {
    let page = AccountPage {
        ctx: ctx.with_officer(officer),
        csrf: officer.csrf.clone(),
        username: officer.username.clone(),
        error,
        changed,
    };
    page::html(status, &page)
}

/// `GET /console/account`.
pub async fn account(
    Extension(ctx): Extension<PageCtx>,
    officer: Officer,
    Query(q): Query<AccountQuery>,
) -> PageResult {
    render(ctx, &officer, StatusCode::OK, None, q.changed.is_some())
}

fn raw_field(form: &super::forms::FormData, name: &str) -> String {
    // Passwords are taken as typed (no trimming).
    form.0
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// `POST /console/account/password`: current password, new password twice.
pub async fn change_password(
    State(state): State<AppState>,
    Extension(ctx): Extension<PageCtx>,
    Extension(cfg): Cfg,
    officer: Officer,
    extensions: axum::http::Extensions,
    body: Bytes,
) -> PageResult {
    let form = officer.verified_form(&body)?;
    let current = raw_field(&form, "current_password");
    let new = raw_field(&form, "new_password");
    let confirm = raw_field(&form, "new_password_confirm");
    let refuse = |key: &str| {
        let msg = ctx.t(key);
        render(
            ctx.clone(),
            &officer,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(msg),
            false,
        )
    };
    if new != confirm {
        return refuse("console-password-mismatch");
    }
    if check_password_strength(&new).is_err() {
        return refuse("console-password-weak");
    }
    let ip =
        shared::web::client_ip(&extensions).map_or_else(|| "unknown".into(), |a| a.to_string());
    match authenticate(&state, &cfg, &officer.username, &current, &ip).await? {
        AuthResult::Ok(id) if id == officer.id => {}
        AuthResult::Throttled(wait) => {
            let msg = ctx.t1("console-login-throttled", "seconds", &wait.to_string());
            let mut resp = render(
                ctx.clone(),
                &officer,
                StatusCode::TOO_MANY_REQUESTS,
                Some(msg),
                false,
            )?;
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return Ok(resp);
        }
        _ => return refuse("console-password-current-wrong"),
    }
    let hash = shared::offload::blocking(move || hash_password(&new))
        .await?
        .map_err(AppError::internal)?;
    let now = state.clock.unix();
    let (oid, keep) = (officer.id, officer.session_hash.clone());
    state
        .db
        .write(move |c| -> Result<(), AppError> {
            c.execute(
                "UPDATE officers SET password_hash = ?2 WHERE id = ?1",
                params![oid, hash],
            )?;
            let ended = c.execute(
                "DELETE FROM sessions WHERE officer_id = ?1 AND id_hash <> ?2",
                params![oid, keep],
            )?;
            store::audit(
                c,
                now,
                Some(oid),
                "officer.password_changed",
                None,
                &format!("officer {oid}; {ended} other session(s) ended"),
            )?;
            Ok(())
        })
        .await?;
    tracing::info!(officer.id = oid, "console password changed");
    Ok(page::see_other("/console/account?changed=1"))
}
