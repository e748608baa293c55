//! The service's one error type. A handler returns [`AppError`] wherever it runs; how
//! the error is shown depends on where it was raised:
//!
//! - under the scan API (and any path outside the console) it is a problem+json
//!   response (RFC 9457), written by [`IntoResponse`];
//! - under `/console/` the console's middleware finds the error in the response
//!   extensions (where [`IntoResponse`] also leaves it) and replaces the body with an
//!   HTML page in the officer's language.
//!
//! The cause of a 5xx is logged once, where the error is made; the client sees a
//! generic message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shared::db::DbError;
use shared::web::Problem;

/// A request that could not be answered as asked.
#[derive(Debug, Clone)]
pub enum AppError {
    /// A client mistake of the scan API, with its problem document.
    Problem(Problem),
    /// Not signed in (console GET: redirect to the sign-in page; otherwise 403).
    LoginRequired,
    /// The scan API without an accepted device credential: 401 with
    /// `WWW-Authenticate: Bearer`.
    Unauthorized,
    /// A device credential of a kind that may not call this API (a kiosk at the scan API).
    DeviceForbidden,
    /// Signed in, but the role does not allow this.
    Forbidden,
    /// A form post without the right CSRF token.
    Csrf,
    /// No such path or record.
    NotFound,
    /// A request that cannot be applied now; the message key says why.
    Conflict(&'static str),
    /// A form not filled in correctly: message keys (`console-…`) or texts.
    Invalid(Vec<String>),
    /// Our failure (5xx): the cause was logged when the error was made.
    Internal,
}

impl AppError {
    /// A 500 whose cause is logged once, here.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        AppError::Internal
    }

    /// The HTTP status of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Problem(p) => {
                StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST)
            }
            AppError::LoginRequired
            | AppError::Forbidden
            | AppError::DeviceForbidden
            | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The error as a problem document (messages in English, keys as they are).
    fn problem(&self) -> Problem {
        let status = self.status();
        match self {
            AppError::Problem(p) => p.clone(),
            AppError::NotFound => Problem::not_found(),
            AppError::Internal => Problem::internal(),
            AppError::LoginRequired => Problem::new(
                status,
                "login-required",
                "Sign-in required",
                "Sign in to the officer console first.",
            ),
            AppError::Forbidden => Problem::new(
                status,
                "forbidden",
                "Forbidden",
                "Your role does not allow this.",
            ),
            AppError::Unauthorized => Problem::new(
                status,
                "device-unauthorized",
                "Device credential required",
                "Send the device's key as `Authorization: Bearer <key>`; a missing, unknown or revoked key is refused.",
            ),
            AppError::DeviceForbidden => Problem::new(
                status,
                "device-forbidden",
                "Not allowed for this device",
                "This device's credential does not allow this API (only an E-Gate may scan).",
            ),
            AppError::Csrf => Problem::new(
                status,
                "csrf",
                "Form expired",
                "The form is missing its CSRF token or the token is wrong.",
            ),
            AppError::Conflict(key) => Problem::new(status, "conflict", "Conflict", *key),
            AppError::Invalid(msgs) => {
                Problem::new(status, "invalid-form", "Invalid form", msgs.join("; "))
            }
        }
    }
}

impl From<Problem> for AppError {
    fn from(p: Problem) -> Self {
        AppError::Problem(p)
    }
}

/// A blocking task that failed is a failure of the storage path it ran for.
impl From<shared::offload::TaskFailed> for AppError {
    fn from(e: shared::offload::TaskFailed) -> Self {
        AppError::from(DbError::from(e))
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        AppError::internal(e)
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        AppError::internal(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut resp = self.problem().into_response();
        if matches!(self, AppError::Unauthorized) {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        // The console's middleware re-renders the error as an HTML page.
        resp.extensions_mut().insert(self);
        resp
    }
}

/// Unknown paths outside the console: a 404 problem document.
pub async fn not_found() -> AppError {
    AppError::NotFound
}

/// Why the gate cannot start (never rendered: the operator reads it). Each message names
/// the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The gate's data directory could not be created.
    #[error("failed to create the gate data directory {}: {source}", path.display())]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The database could not be opened, migrated or read.
    #[error("failed to open the gate database {}: {source}", path.display())]
    Db {
        /// The database file.
        path: std::path::PathBuf,
        /// The cause.
        source: DbError,
    },
    /// The restore state (whether this database is a restored backup) could not be read.
    #[error("failed to read the restore state: {0}")]
    RestoreState(#[source] DbError),
    /// The passport binding key could not be loaded or created.
    #[error("failed to load the binding key: {0}")]
    BindingKey(#[source] shared::token::KeyError),
    /// The selection key could not be loaded or created.
    #[error("failed to load the selection key: {0}")]
    SelectionKey(#[source] shared::token::KeyError),
    /// A key file of the gate's (use-report, declaration-read) could not be read or
    /// created.
    #[error("failed to load the key {}: {source}", path.display())]
    ApiKey {
        /// The key file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The rules profile (`EGATE_RULES_PROFILE`) could not be loaded.
    #[error(transparent)]
    Rules(#[from] shared::rules::RulesError),
    /// The watch-rules file may be read by group or others (or cannot be checked).
    #[error("the watch-rules file is refused: {0}")]
    Watchlist(#[source] std::io::Error),
    /// The HTTP client for the issuers could not be built.
    #[error("failed to build the HTTP client for the issuers: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// The start-up work on the blocking pool failed.
    #[error("the start-up task failed: {0}")]
    Task(#[source] shared::offload::TaskFailed),
}
