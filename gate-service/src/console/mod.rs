//! The officer console at the red-lane counter (docs/flows.md): server-rendered HTML (askama)
//! under `/console/`, Japanese and English (and the other three languages of the
//! system), working without JavaScript.
//!
//! - [`auth`]: officer accounts (argon2id), sessions (only the SHA-256 of the cookie
//!   value is stored; idle and absolute expiry enforced on the server), login throttling
//!   per account and per client address;
//! - [`page`]: per-request page context (language, CSP nonce), security headers, the
//!   HTML page of an error; [`forms`]: posted forms and their CSRF check; [`cookies`];
//!   [`format`]: times and amounts;
//! - `queue`, `cases`, `outcomes`, `payments`, `search`, `dashboard`: the pages;
//!   `account` (an officer's own password), `officers` (supervisors: accounts, unlock);
//! - [`admin`]: officer accounts as the operator manages them (`egate officer …`).
//!
//! Outcomes, payments and the audit log are append-only: SQLite triggers refuse any
//! UPDATE or DELETE on them; a supervisor supersedes an outcome by a new row pointing to
//! the old one.

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};
use std::sync::Arc;

mod account;
pub mod admin;
pub mod auth;
mod cases;
pub mod cookies;
mod dashboard;
pub mod format;
pub mod forms;
mod officers;
mod outcomes;
pub mod page;
mod payments;
mod queue;
mod search;
mod store;

pub use auth::create_officer;

/// Console settings (`EGATE_CONSOLE_*` variables).
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// A session ends after this long without a request (`EGATE_CONSOLE_IDLE_SECS`, 900).
    pub idle_timeout_secs: i64,
    /// A session ends this long after sign-in whatever happens
    /// (`EGATE_CONSOLE_ABSOLUTE_SECS`, 43,200 = 12 h).
    pub absolute_timeout_secs: i64,
    /// Failed sign-ins counted over this window (`EGATE_CONSOLE_THROTTLE_WINDOW_SECS`, 900).
    pub throttle_window_secs: i64,
    /// Failures in the window, per account and per client address, before a delay is
    /// imposed (`EGATE_CONSOLE_THROTTLE_FREE`, 5).
    pub throttle_free_failures: i64,
    /// First delay after the free failures; doubles with each further failure
    /// (`EGATE_CONSOLE_THROTTLE_DELAY_SECS`, 30).
    pub throttle_base_delay_secs: i64,
    /// Failures in the window that lock the account or address
    /// (`EGATE_CONSOLE_LOCK_AFTER`, 8: reached after
    /// about 3.5 minutes of delays, well inside the window).
    pub lock_after_failures: i64,
    /// How long a lock lasts after the last failure; it then lifts by itself
    /// (`EGATE_CONSOLE_LOCK_SECS`, 900).
    pub lock_secs: i64,
    /// Local time offset for display, in minutes east of UTC
    /// (`EGATE_CONSOLE_UTC_OFFSET_MINUTES`, 540 = Japan).
    pub utc_offset_minutes: i32,
    /// Queue auto-refresh period (`EGATE_CONSOLE_REFRESH_SECS`, 30).
    pub refresh_secs: u32,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            idle_timeout_secs: 15 * 60,
            absolute_timeout_secs: 12 * 3600,
            throttle_window_secs: 15 * 60,
            throttle_free_failures: 5,
            throttle_base_delay_secs: 30,
            lock_after_failures: 8,
            lock_secs: 15 * 60,
            utc_offset_minutes: 9 * 60,
            refresh_secs: 30,
        }
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            tracing::warn!(config.var = name, "ignoring an unparsable value");
            default
        }),
        Err(_) => default,
    }
}

impl ConsoleConfig {
    /// Read the settings from `EGATE_CONSOLE_*` variables, with the defaults above.
    pub fn from_env() -> Self {
        let d = Self::default();
        Self {
            idle_timeout_secs: env_or("EGATE_CONSOLE_IDLE_SECS", d.idle_timeout_secs).max(30),
            absolute_timeout_secs: env_or("EGATE_CONSOLE_ABSOLUTE_SECS", d.absolute_timeout_secs)
                .max(60),
            throttle_window_secs: env_or(
                "EGATE_CONSOLE_THROTTLE_WINDOW_SECS",
                d.throttle_window_secs,
            )
            .max(1),
            throttle_free_failures: env_or("EGATE_CONSOLE_THROTTLE_FREE", d.throttle_free_failures)
                .max(1),
            throttle_base_delay_secs: env_or(
                "EGATE_CONSOLE_THROTTLE_DELAY_SECS",
                d.throttle_base_delay_secs,
            )
            .max(1),
            lock_after_failures: env_or("EGATE_CONSOLE_LOCK_AFTER", d.lock_after_failures).max(1),
            lock_secs: env_or("EGATE_CONSOLE_LOCK_SECS", d.lock_secs).max(1),
            utc_offset_minutes: env_or("EGATE_CONSOLE_UTC_OFFSET_MINUTES", d.utc_offset_minutes)
                .clamp(-14 * 60, 14 * 60),
            refresh_secs: env_or("EGATE_CONSOLE_REFRESH_SECS", d.refresh_secs).clamp(5, 3600),
        }
    }

    /// Settings for tests: the defaults (tests move a `FixedClock` past them).
    pub fn for_tests() -> Self {
        Self::default()
    }
}

/// The console settings of this router, as handlers extract them.
pub type Cfg = axum::Extension<Arc<ConsoleConfig>>;

/// The console's routes with settings from the environment.
pub fn router() -> Router<AppState> {
    router_with(ConsoleConfig::from_env())
}

/// The console's routes with the given settings, relative to `/console` (where
/// `build_app` nests them): `/console` itself redirects to the queue.
pub fn router_with(cfg: ConsoleConfig) -> Router<AppState> {
    Router::new()
        .route("/", get(page::to_queue))
        .route("/static/console.css", get(page::stylesheet))
        .route(
            "/login",
            get(auth::login::login_form).post(auth::login::login),
        )
        .route("/logout", post(auth::login::logout))
        .route("/account", get(account::account))
        .route("/account/password", post(account::change_password))
        .route("/accounts", get(officers::officers))
        .route("/accounts/{id}/unlock", post(officers::unlock))
        .route("/queue", get(queue::queue))
        .route("/search", get(search::search))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/cases/{id}", get(cases::case_page))
        .route("/cases/{id}/take", post(cases::take))
        .route("/cases/{id}/adjust", post(cases::adjust))
        .route("/cases/{id}/outcome", post(outcomes::record))
        .route("/cases/{id}/supersede", post(outcomes::supersede))
        .route("/cases/{id}/payment", post(payments::payment))
        .route("/payments/{id}/receipt", get(payments::receipt))
        .fallback(page::not_found)
        .layer(axum::middleware::from_fn(page::console_layer))
        .layer(axum::Extension(Arc::new(cfg)))
}
