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
//! - `queue`, `cases`, `outcomes`, `search`, `dashboard`: the pages;
//! - [`cli`]: `gate-service officer add|list|disable|reset-password`.
//!
//! Outcomes, payments and the audit log are append-only: SQLite triggers refuse any
//! UPDATE or DELETE on them; a supervisor supersedes an outcome by a new row pointing to
//! the old one.

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};
use std::sync::Arc;

pub mod auth;
mod cases;
pub mod cli;
pub mod cookies;
mod dashboard;
pub mod format;
pub mod forms;
mod outcomes;
pub mod page;
mod queue;
mod search;
mod store;

pub use auth::create_officer;

/// The console's tables, run after the gate's own migrations (which create `scans` and
/// `cases`). Times are unix seconds.
pub const MIGRATIONS: &[shared::db::Migration] = &[(
    "console 1: officers, sessions, login attempts, outcomes, payments, adjustments, audit",
    r#"
CREATE TABLE officers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('officer','supervisor')),
    password_hash TEXT NOT NULL,          -- argon2id PHC string
    created_at INTEGER NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,             -- SHA-256 (hex) of the cookie value
    officer_id INTEGER NOT NULL REFERENCES officers(id),
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,          -- absolute limit
    revoked INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX sessions_officer ON sessions(officer_id);
CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    at INTEGER NOT NULL,
    success INTEGER NOT NULL,
    throttled INTEGER NOT NULL DEFAULT 0  -- refused before the password was checked
);
CREATE INDEX login_attempts_user ON login_attempts(username, at);
CREATE INDEX login_attempts_ip ON login_attempts(client_ip, at);
CREATE TABLE outcomes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    kind TEXT NOT NULL CHECK (kind IN ('cleared','duty_assessed','goods_retained','referred')),
    amount_yen INTEGER CHECK (amount_yen IS NULL OR amount_yen >= 0),
    amount_source TEXT CHECK (amount_source IS NULL OR amount_source IN ('estimate','entered')),
    amount_reason TEXT,
    note TEXT NOT NULL DEFAULT '',
    officer_id INTEGER NOT NULL REFERENCES officers(id),
    recorded_at INTEGER NOT NULL,
    supersedes_id INTEGER REFERENCES outcomes(id),
    supersede_reason TEXT,
    CHECK ((supersedes_id IS NULL) = (supersede_reason IS NULL))
);
-- One first outcome per case; each outcome superseded at most once (a linear history).
CREATE UNIQUE INDEX outcomes_first ON outcomes(case_id) WHERE supersedes_id IS NULL;
CREATE UNIQUE INDEX outcomes_chain ON outcomes(supersedes_id) WHERE supersedes_id IS NOT NULL;
CREATE TABLE payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    outcome_id INTEGER NOT NULL REFERENCES outcomes(id),
    method TEXT NOT NULL CHECK (method IN ('cash','card','qr_payment')),
    reference TEXT NOT NULL DEFAULT '',
    amount_yen INTEGER NOT NULL CHECK (amount_yen > 0),
    officer_id INTEGER NOT NULL REFERENCES officers(id),
    recorded_at INTEGER NOT NULL
);
CREATE INDEX payments_outcome ON payments(outcome_id);
CREATE TABLE case_adjustments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    officer_id INTEGER NOT NULL REFERENCES officers(id),
    at INTEGER NOT NULL,
    items_json TEXT NOT NULL
);
CREATE INDEX case_adjustments_case ON case_adjustments(case_id, id);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    officer_id INTEGER,
    action TEXT NOT NULL,
    case_id INTEGER,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_case ON audit_log(case_id);
CREATE TRIGGER outcomes_no_update BEFORE UPDATE ON outcomes
BEGIN SELECT RAISE(ABORT, 'outcomes are append-only'); END;
CREATE TRIGGER outcomes_no_delete BEFORE DELETE ON outcomes
BEGIN SELECT RAISE(ABORT, 'outcomes are append-only'); END;
CREATE TRIGGER payments_no_update BEFORE UPDATE ON payments
BEGIN SELECT RAISE(ABORT, 'payments are append-only'); END;
CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments
BEGIN SELECT RAISE(ABORT, 'payments are append-only'); END;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER case_adjustments_no_update BEFORE UPDATE ON case_adjustments
BEGIN SELECT RAISE(ABORT, 'adjustments are append-only'); END;
CREATE TRIGGER case_adjustments_no_delete BEFORE DELETE ON case_adjustments
BEGIN SELECT RAISE(ABORT, 'adjustments are append-only'); END;
"#,
)];

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
        .route("/queue", get(queue::queue))
        .route("/search", get(search::search))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/cases/{id}", get(cases::case_page))
        .route("/cases/{id}/take", post(cases::take))
        .route("/cases/{id}/adjust", post(cases::adjust))
        .route("/cases/{id}/outcome", post(outcomes::record))
        .route("/cases/{id}/supersede", post(outcomes::supersede))
        .route("/cases/{id}/payment", post(outcomes::payment))
        .route("/payments/{id}/receipt", get(outcomes::receipt))
        .fallback(page::not_found)
        .layer(axum::middleware::from_fn(page::console_layer))
        .layer(axum::Extension(Arc::new(cfg)))
}
