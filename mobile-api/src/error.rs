//! The service's one error type: every failure becomes an RFC 9457 problem. 4xx carry a
//! message the client can act on; 5xx a generic message, with the cause logged once here.

use axum::response::{IntoResponse, Response};
use shared::db::DbError;
use shared::domain::ValidationErrors;
use shared::web::Problem;

/// Errors of request handling.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A client error, already shaped as a problem.
    #[error("{}", .0.detail)]
    Problem(Box<Problem>),
    /// Invalid fields (422).
    #[error("invalid fields")]
    Validation(ValidationErrors),
    /// Not found, or no access (404, never telling which).
    #[error("not found")]
    NotFound,
    /// Storage failed.
    #[error("storage: {0}")]
    Db(#[from] DbError),
    /// Anything else on our side.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<Problem> for AppError {
    fn from(p: Problem) -> Self {
        AppError::Problem(Box::new(p))
    }
}

/// A blocking task that failed is a failure of the storage path it ran for.
impl From<shared::offload::TaskFailed> for AppError {
    fn from(e: shared::offload::TaskFailed) -> Self {
        AppError::Db(DbError::from(e))
    }
}

impl From<shared::offload::TaskFailed> for StartError {
    fn from(e: shared::offload::TaskFailed) -> Self {
        StartError::Db(DbError::from(e))
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        AppError::Db(DbError::from(e))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Problem(p) => p.into_response(),
            AppError::Validation(errs) => Problem::validation(errs).into_response(),
            AppError::NotFound => Problem::not_found().into_response(),
            AppError::Db(e) if e.is_unavailable() => {
                tracing::warn!(error = %e, "database unavailable");
                Problem::unavailable().into_response()
            }
            AppError::Db(e) => {
                tracing::error!(error = %e, "storage failure");
                Problem::internal().into_response()
            }
            AppError::Internal(e) => {
                tracing::error!(error = %e, "internal failure");
                Problem::internal().into_response()
            }
        }
    }
}

/// Result of a handler.
pub type AppResult<T> = Result<T, AppError>;

/// Why the service cannot start (never rendered: the operator reads it).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The database could not be opened or migrated.
    #[error("failed to open the mobile-api database: {0}")]
    Db(#[from] DbError),
    /// The signing keys or the binding key could not be loaded.
    #[error("failed to load the keys: {0}")]
    Keys(#[from] shared::token::KeyError),
    /// The rules profile could not be loaded.
    #[error(transparent)]
    Rules(#[from] shared::rules::RulesError),
    /// A verifier file could not be read (or is readable by others).
    #[error("failed to load a verifier of the gate's keys: {0}")]
    Verifier(#[from] std::io::Error),
}
