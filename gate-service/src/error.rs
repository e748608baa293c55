//! The service's one error type: a problem+json response for every failure, with the
//! cause of a 5xx logged once here and a generic message to the client.

use axum::response::{IntoResponse, Response};
use shared::db::DbError;
use shared::web::Problem;

/// A request that could not be answered with a decision.
#[derive(Debug)]
pub enum AppError {
    /// A client mistake (4xx), safe to show.
    Problem(Problem),
    /// Our failure (5xx): logged, never shown.
    Internal(anyhow::Error),
}

impl From<Problem> for AppError {
    fn from(p: Problem) -> Self {
        AppError::Problem(p)
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        AppError::Internal(e.into())
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Problem(p) => p.into_response(),
            AppError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "request failed");
                Problem::internal().into_response()
            }
        }
    }
}
