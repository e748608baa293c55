//! Officer accounts, sign-in and sessions.
//!
//! - Passwords: argon2id with the crate defaults (m = 19 MiB, t = 2, p = 1, the OWASP
//!   recommendation), PHC strings; hashing and checking run off the async runtime.
//! - Sessions: a random 128-bit cookie value; the database keeps only its SHA-256. A new
//!   id at every sign-in (the previous session of the browser is revoked); idle and
//!   absolute expiry are checked on the server at every request; sign-out deletes it.
//! - Throttling, per account and per client address (the TCP peer, never
//!   `X-Forwarded-For`): after `throttle_free_failures` failures in the window each
//!   further attempt waits a delay that doubles, and `lock_after_failures` failures lock
//!   for `lock_secs` after the last one. Refused attempts are recorded but do not count,
//!   so a lock lifts by itself after its period. Every attempt is logged (hash of the
//!   user name, never the password) and recorded in `login_attempts`.

use super::page::{self, Cfg, ConsoleError, FormData, PageCtx, PageResult};
use super::{ConsoleConfig, store};
use crate::AppState;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use rusqlite::{OptionalExtension, params};
use shared::db::Db;
use std::sync::{Arc, LazyLock};

/// Session cookie name over TLS (`__Host-` binds it to this host, path `/`, Secure).
pub const SESSION_COOKIE_SECURE: &str = "__Host-egate_session";
/// Session cookie name over plain HTTP (development, tests).
pub const SESSION_COOKIE: &str = "egate_session";
const LOGIN_CSRF_COOKIE_SECURE: &str = "__Host-egate_login_csrf";
const LOGIN_CSRF_COOKIE: &str = "egate_login_csrf";
/// Shortest password accepted for an account.
pub const MIN_PASSWORD_LEN: usize = 12;

/// The session cookie's name for this deployment.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        SESSION_COOKIE_SECURE
    } else {
        SESSION_COOKIE
    }
}

fn login_csrf_cookie_name(secure: bool) -> &'static str {
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
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let cfg = console_cfg(parts);
        let name = session_cookie_name(state.config.secure_cookies);
        let token = page::cookie(&parts.headers, name).ok_or(ConsoleError::LoginRequired)?;
        let id_hash = shared::web::token_hash(&token);
        let now = state.clock.unix();
        let idle = cfg.idle_timeout_secs;
        state
            .db
            .write(move |c| -> Result<Option<Officer>, ConsoleError> {
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
                c.execute(
                    "UPDATE sessions SET last_seen_at = ?2 WHERE id_hash = ?1",
                    params![id_hash, now],
                )?;
                Ok(Some(officer))
            })
            .await?
            .ok_or(ConsoleError::LoginRequired)
    }
}

impl FromRequestParts<AppState> for Supervisor {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let o = Officer::from_request_parts(parts, state).await?;
        if o.is_supervisor() {
            Ok(Supervisor(o))
        } else {
            Err(ConsoleError::Forbidden)
        }
    }
}

fn argon2() -> Argon2<'static> {
    // Argon2id, version 0x13, m = 19,456 KiB, t = 2, p = 1 (OWASP's recommendation).
    Argon2::default()
}

/// Hash a password as an argon2id PHC string (blocking: call through `blocking`).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
        .map_err(|_| anyhow::anyhow!("failed to read random bytes for a salt"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let hash = argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("failed to hash a password: {e}"))?;
    Ok(hash.to_string())
}

/// Check a password against a PHC string (blocking). A malformed hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// Checked against when the user name is unknown, so that both cases take as long.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password(&shared::web::random_token()).unwrap_or_default());

/// Normalise a user name: trimmed, lower case.
pub fn normalise_username(u: &str) -> String {
    u.trim().to_lowercase()
}

fn valid_username(u: &str) -> bool {
    (1..=64).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// Create an officer account; returns its id. The password must have at least
/// [`MIN_PASSWORD_LEN`] characters.
pub async fn create_officer(
    db: &Db,
    username: &str,
    display_name: &str,
    role: &str,
    password: &str,
) -> anyhow::Result<i64> {
    let username = normalise_username(username);
    if !valid_username(&username) {
        anyhow::bail!("the user name must be 1 to 64 characters a-z, 0-9, '.', '_' or '-'");
    }
    if role != "officer" && role != "supervisor" {
        anyhow::bail!("the role must be officer or supervisor");
    }
    let display_name = display_name.trim();
    let display_name = if display_name.is_empty() {
        username.clone()
    } else {
        display_name.chars().take(100).collect()
    };
    check_password_strength(password)?;
    let pw = password.to_owned();
    let hash = shared::db::blocking(move || hash_password(&pw)).await??;
    let role = role.to_owned();
    let now = unix_now();
    let id = db
        .write(move |c| -> anyhow::Result<i64> {
            let exists: Option<i64> = c
                .query_row(
                    "SELECT id FROM officers WHERE username = ?1",
                    [&username],
                    |r| r.get(0),
                )
                .optional()?;
            if exists.is_some() {
                anyhow::bail!("an officer named {username} already exists");
            }
            c.execute(
                "INSERT INTO officers (username, display_name, role, password_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![username, display_name, role, hash, now],
            )?;
            let id = c.last_insert_rowid();
            store::audit(
                c,
                now,
                None,
                "officer.created",
                None,
                &format!("officer {id} ({role})"),
            )?;
            Ok(id)
        })
        .await?;
    Ok(id)
}

/// Refuse passwords shorter than [`MIN_PASSWORD_LEN`] characters.
pub fn check_password_strength(password: &str) -> anyhow::Result<()> {
    if password.chars().count() < MIN_PASSWORD_LEN || password.len() > 1024 {
        anyhow::bail!("the password must have {MIN_PASSWORD_LEN} to 1024 characters");
    }
    Ok(())
}

/// Seconds since the epoch from the system clock (CLI paths that have no `AppState`).
pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// How long (seconds) an attempt must still wait, from the failures counted in the
/// window (`count`, the latest at `last`).
fn wait_secs(cfg: &ConsoleConfig, count: i64, last: i64, now: i64) -> i64 {
    if count < cfg.throttle_free_failures {
        return 0;
    }
    let until = if count >= cfg.lock_after_failures {
        last + cfg.lock_secs
    } else {
        let steps = (count - cfg.throttle_free_failures).min(20) as u32;
        let delay = cfg.throttle_base_delay_secs.saturating_mul(1i64 << steps);
        last + delay.min(cfg.lock_secs)
    };
    (until - now).max(0)
}

/// The wait imposed on `username` from `ip` now (0 = may try). Failures are counted in
/// the window that ends at the *latest* failure, so a lock lasts its full period even as
/// the earliest failures age, and lifts by itself afterwards (refused attempts are not
/// failures: hammering a locked account does not extend the lock).
fn throttle(
    c: &rusqlite::Connection,
    cfg: &ConsoleConfig,
    username: &str,
    ip: &str,
    now: i64,
) -> rusqlite::Result<i64> {
    // Older failures cannot matter: a wait never exceeds the lock period.
    let horizon = now - cfg.throttle_window_secs - cfg.lock_secs;
    // Per account: failures since the account's last success.
    let (n_user, last_user): (i64, Option<i64>) = c.query_row(
        "WITH f AS (SELECT at FROM login_attempts
                    WHERE username = ?1 AND success = 0 AND throttled = 0 AND at > ?2
                      AND at >= (SELECT coalesce(max(at), 0) FROM login_attempts
                                 WHERE username = ?1 AND success = 1))
         SELECT count(*), max(at) FROM f WHERE at > (SELECT max(at) FROM f) - ?3",
        params![username, horizon, cfg.throttle_window_secs],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    // Per client address: every failure (a success does not reset it).
    let (n_ip, last_ip): (i64, Option<i64>) = c.query_row(
        "WITH f AS (SELECT at FROM login_attempts
                    WHERE client_ip = ?1 AND success = 0 AND throttled = 0 AND at > ?2)
         SELECT count(*), max(at) FROM f WHERE at > (SELECT max(at) FROM f) - ?3",
        params![ip, horizon, cfg.throttle_window_secs],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(
        wait_secs(cfg, n_user, last_user.unwrap_or(now), now).max(wait_secs(
            cfg,
            n_ip,
            last_ip.unwrap_or(now),
            now,
        )),
    )
}

/// The throttle's answer inside the write: the attempt id and the officer (id, hash)
/// when the attempt may go ahead, or the seconds to wait.
type Gate = Result<(i64, Option<(i64, String)>), i64>;

/// How a user name that belongs to no account is kept in `login_attempts`: `#` (which
/// no user name contains) and the first 16 hex digits of its HMAC-SHA256 under a key
/// derived from the gate's own secret (`gate/selection.key`): a password typed as the
/// user name can be neither read nor guessed back from a copy of the database.
pub fn unknown_user_key(state: &AppState, username: &str) -> String {
    let tag = ring::hmac::sign(&state.login_name_key, username.as_bytes());
    format!("#{}", &hex::encode(tag.as_ref())[..16])
}

/// What [`authenticate`] decided.
#[derive(Debug)]
pub enum AuthResult {
    /// The password is right: the officer id.
    Ok(i64),
    /// Wrong user name or password.
    Wrong,
    /// Too many failures: wait this many seconds.
    Throttled(i64),
}

/// Check a user name and password under the throttle. Every path that authenticates an
/// officer goes through here. The attempt is recorded as a failure *before* the
/// password is checked (so concurrent guesses all count) and marked a success after.
pub async fn authenticate(
    state: &AppState,
    cfg: &ConsoleConfig,
    username: &str,
    password: &str,
    ip: &str,
) -> Result<AuthResult, ConsoleError> {
    let username: String = normalise_username(username).chars().take(64).collect();
    // The log carries the keyed hash of the name typed, never the name.
    let user_tag = unknown_user_key(state, &username)[1..].to_owned();
    let now = state.clock.unix();
    let unknown_key = unknown_user_key(state, &username);
    let (cfg2, u, ip2) = (cfg.clone(), username.clone(), ip.to_owned());
    let gate = state
        .db
        .write(move |c| -> Result<Gate, ConsoleError> {
            // A name that is no account's is recorded and throttled under its hash: a
            // password typed into the user-name field by mistake is never stored.
            let known: Option<i64> = c
                .query_row("SELECT 1 FROM officers WHERE username = ?1", [&u], |r| {
                    r.get(0)
                })
                .optional()?;
            let u = if known.is_some() { u } else { unknown_key };
            let wait = throttle(c, &cfg2, &u, &ip2, now)?;
            if wait > 0 {
                c.execute(
                    "INSERT INTO login_attempts (username, client_ip, at, success, throttled)
                     VALUES (?1, ?2, ?3, 0, 1)",
                    params![u, ip2, now],
                )?;
                return Ok(Err(wait));
            }
            c.execute(
                "INSERT INTO login_attempts (username, client_ip, at, success) VALUES (?1, ?2, ?3, 0)",
                params![u, ip2, now],
            )?;
            let attempt = c.last_insert_rowid();
            let officer = c
                .query_row(
                    "SELECT id, password_hash FROM officers WHERE username = ?1 AND disabled = 0",
                    [&u],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            Ok(Ok((attempt, officer)))
        })
        .await?;
    let (attempt, officer) = match gate {
        Err(wait) => {
            tracing::warn!(login.user = %user_tag, client.ip = %ip, login.wait_s = wait, "console sign-in throttled");
            return Ok(AuthResult::Throttled(wait));
        }
        Ok(v) => v,
    };
    let pw = password.to_owned();
    let (officer_id, phc) = match officer {
        Some((id, phc)) => (Some(id), phc),
        None => (None, DUMMY_HASH.clone()),
    };
    let ok =
        shared::db::blocking(move || verify_password(&pw, &phc)).await? && officer_id.is_some();
    match (ok, officer_id) {
        (true, Some(id)) => {
            state
                .db
                .write(move |c| -> Result<usize, ConsoleError> {
                    Ok(c.execute(
                        "UPDATE login_attempts SET success = 1 WHERE id = ?1",
                        [attempt],
                    )?)
                })
                .await?;
            tracing::info!(login.user = %user_tag, officer.id = id, client.ip = %ip, "console sign-in succeeded");
            Ok(AuthResult::Ok(id))
        }
        _ => {
            tracing::warn!(login.user = %user_tag, client.ip = %ip, "console sign-in failed");
            Ok(AuthResult::Wrong)
        }
    }
}

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
    let cookie = page::set_cookie(
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
    let form = FormData::parse(&body).map_err(|_| ConsoleError::Csrf)?;
    let cookie_token = page::cookie(&headers, login_csrf_cookie_name(secure)).unwrap_or_default();
    if cookie_token.is_empty() {
        return Err(ConsoleError::Csrf);
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
        page::cookie(&headers, session_cookie_name(secure)).map(|t| shared::web::token_hash(&t));
    let token = shared::web::random_token();
    let id_hash = shared::web::token_hash(&token);
    let csrf = shared::web::random_token();
    let now = state.clock.unix();
    let expires = now + cfg.absolute_timeout_secs;
    state
        .db
        .write(move |c| -> Result<(), ConsoleError> {
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
        page::set_cookie(session_cookie_name(secure), &token, secure, None),
        page::set_cookie(login_csrf_cookie_name(secure), "", secure, Some(0)),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    Ok(resp)
}

/// `POST /console/logout`: deletes the server session and the cookie.
pub async fn logout(State(state): State<AppState>, officer: Officer, body: Bytes) -> PageResult {
    page::verified_form(&officer, &body)?;
    let now = state.clock.unix();
    let (hash, id) = (officer.session_hash.clone(), officer.id);
    state
        .db
        .write(move |c| -> Result<(), ConsoleError> {
            c.execute("DELETE FROM sessions WHERE id_hash = ?1", [hash])?;
            store::audit(c, now, Some(id), "session.logout", None, "")?;
            Ok(())
        })
        .await?;
    let secure = state.config.secure_cookies;
    let mut resp = page::see_other("/console/login");
    if let Ok(v) = HeaderValue::from_str(&page::set_cookie(
        session_cookie_name(secure),
        "",
        secure,
        Some(0),
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_as_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn the_wait_grows_then_locks_and_lifts_after_the_period() {
        let cfg = ConsoleConfig::default();
        assert_eq!(wait_secs(&cfg, 4, 1000, 1000), 0);
        assert_eq!(wait_secs(&cfg, 5, 1000, 1000), 30);
        assert_eq!(wait_secs(&cfg, 6, 1000, 1000), 60);
        assert_eq!(wait_secs(&cfg, 7, 1000, 1010), 110);
        assert_eq!(wait_secs(&cfg, 8, 1000, 1000), 900);
        assert_eq!(wait_secs(&cfg, 50, 1000, 1900), 0);
    }
}
