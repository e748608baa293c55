//! Field-level validation errors, each naming its field by JSON pointer (RFC 6901).

use serde::Serialize;

/// One bad field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON pointer to the field, e.g. `/items/0/quantity`.
    pub pointer: String,
    /// Stable machine code, e.g. `invalid`, `out_of_range`, `required`.
    pub code: &'static str,
    /// What is wrong, in words a person can act on.
    pub detail: String,
}

/// Every bad field of one input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{} invalid field(s)", .0.len())]
#[serde(transparent)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// Record an error.
    pub fn push(
        &mut self,
        pointer: impl Into<String>,
        code: &'static str,
        detail: impl Into<String>,
    ) {
        self.0.push(FieldError {
            pointer: pointer.into(),
            code,
            detail: detail.into(),
        });
    }

    /// Keep `Ok` values; record `Err` as an `invalid` error at `{prefix}/{field}`.
    pub fn check<T>(&mut self, prefix: &str, field: &str, r: Result<T, &'static str>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(msg) => {
                self.push(format!("{prefix}/{field}"), "invalid", msg);
                None
            }
        }
    }

    /// No errors recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The errors.
    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }
}
