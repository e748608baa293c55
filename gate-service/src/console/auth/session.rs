//! The signed-in officer of a request: the session cookie checked against `sessions`
//! (idle and absolute expiry, revocation, disabled accounts) at every request. Every
//! request but the queue's automatic refresh counts as activity.

use crate::AppState;
use crate::console::page::NavOfficer;
use crate::console::{ConsoleConfig, cookies};
use crate::error::AppError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rusqlite::{OptionalExtension, params};
use std::sync::Arc;

/// Session cookie name over TLS (`__Host-` binds it to this host, path `/`, Secure).
pub const SESSION_COOKIE_SECURE: &str = "__Host-egate_session";
/// Session cookie name over plain HTTP (development, tests).
pub const SESSION_COOKIE: &str = "egate_session";
const LOGIN_CSRF_COOKIE_SECURE: &str = "__Host-egate_login_csrf";
const LOGIN_CSRF_COOKIE: &str = "egate_login_csrf";

/// Query parameter (`refresh=auto`) the queue's automatic refresh adds to its URL: such a
/// request is served, but it is not the officer's activity and does not extend the idle
/// timeout (an unattended console signs itself out).
pub const AUTO_REFRESH_PARAM: (&str, &str) = ("refresh", "auto");

/// Whether the request is an automatic refresh (a GET with [`AUTO_REFRESH_PARAM`]).
fn is_auto_refresh(parts: &Parts) -> bool {
    parts.method == axum::http::Method::GET
        && parts.uri.query().is_some_and(|q| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(q).is_ok_and(|pairs| {
                pairs
                    .iter()
                    .any(|(k, v)| k == AUTO_REFRESH_PARAM.0 && v == AUTO_REFRESH_PARAM.1)
            })
        })
}

/// The session cookie's name for this deployment.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        SESSION_COOKIE_SECURE
    } else {
        SESSION_COOKIE
    }
}

pub(super) fn login_csrf_cookie_name(secure: bool) -> &'static str {
    if secure {
        LOGIN_CSRF_COOKIE_SECURE
    } else {
        LOGIN_CSRF_COOKIE
    }
}

/// The signed-in officer of a request (extractor: no valid session → sign-in page).
#[derive(Debug, Clone)]
pub struct Officer {
    /// Officer id.
    pub id: i64,
    /// Sign-in name.
    pub username: String,
    /// Name shown in the console and on receipts.
    pub display_name: String,
    /// `officer` or `supervisor`.
    pub role: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// SHA-256 of the session cookie.
    pub session_hash: String,
}

impl Officer {
    /// Whether the officer is a supervisor.
    pub fn is_supervisor(&self) -> bool {
        self.role == "supervisor"
    }

    /// A posted form, refused unless it carries this session's CSRF token.
    pub fn verified_form(
        &self,
        body: &axum::body::Bytes,
    ) -> Result<crate::console::forms::FormData, AppError> {
        crate::console::forms::FormData::verified(body, &self.csrf)
    }
}

impl From<&Officer> for NavOfficer {
    fn from(o: &Officer) -> Self {
        NavOfficer {
            name: o.display_name.clone(),
            role: o.role.clone(),
            csrf: o.csrf.clone(),
        }
    }
}

/// A signed-in supervisor (extractor: an officer gets 403).
#[derive(Debug, Clone)]
pub struct Supervisor(pub Officer);

fn console_cfg(parts: &Parts) -> Arc<ConsoleConfig> {
    parts
        .extensions
        .get::<Arc<ConsoleConfig>>()
        .cloned()
        .unwrap_or_default()
}

impl FromRequestParts<AppState> for Officer {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let cfg = console_cfg(parts);
        let name = session_cookie_name(state.config.secure_cookies);
        let token = cookies::get(&parts.headers, name).ok_or(AppError::LoginRequired)?;
        let id_hash = shared::web::token_hash(&token);
        let now = state.clock.unix();
        let idle = cfg.idle_timeout_secs;
        let activity = !is_auto_refresh(parts);
        state
            .db
            .write(move |c| -> Result<Option<Officer>, AppError> {
                let row = c
                    .query_row(
                        "SELECT o.id, o.username, o.display_name, o.role, s.csrf_token,
                                s.last_seen_at, s.expires_at, s.revoked, o.disabled
                         FROM sessions s JOIN officers o ON o.id = s.officer_id
                         WHERE s.id_hash = ?1",
                        [&id_hash],
                        |r| {
                            Ok((
                                Officer {
                                    id: r.get(0)?,
                                    username: r.get(1)?,
                                    display_name: r.get(2)?,
                                    role: r.get(3)?,
                                    csrf: r.get(4)?,
                                    session_hash: id_hash.clone(),
                                },
                                r.get::<_, i64>(5)?,
                                r.get::<_, i64>(6)?,
                                r.get::<_, bool>(7)?,
                                r.get::<_, bool>(8)?,
                            ))
                        },
                    )
                    .optional()?;
                let Some((officer, last_seen, expires_at, revoked, disabled)) = row else {
                    return Ok(None);
                };
                if revoked || disabled || now >= expires_at || now - last_seen > idle {
                    c.execute("DELETE FROM sessions WHERE id_hash = ?1", [&id_hash])?;
                    tracing::info!(officer.id = officer.id, "console session expired");
                    return Ok(None);
                }
                if activity {
                    c.execute(
                        "UPDATE sessions SET last_seen_at = ?2 WHERE id_hash = ?1",
                        params![id_hash, now],
                    )?;
                }
                Ok(Some(officer))
            })
            .await?
            .ok_or(AppError::LoginRequired)
    }
}

impl FromRequestParts<AppState> for Supervisor {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let o = Officer::from_request_parts(parts, state).await?;
        if o.is_supervisor() {
            Ok(Supervisor(o))
        } else {
            Err(AppError::Forbidden)
        }
    }
}
