//! Posted forms: parsing and the CSRF check every post passes first.

use crate::error::AppError;
use axum::body::Bytes;

/// A posted `application/x-www-form-urlencoded` body, as name/value pairs in order.
#[derive(Debug, Clone, Default)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// Parse a form body (a malformed body is a 400-class error, not a 500).
    pub fn parse(body: &Bytes) -> Result<FormData, AppError> {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .map(FormData)
            .map_err(|_| AppError::Invalid(vec!["console-error-form-malformed".into()]))
    }

    /// Parse a form and check its CSRF token against the session's, `expected`. A body
    /// that does not parse has no valid token either: it is refused as CSRF.
    pub fn verified(body: &Bytes, expected: &str) -> Result<FormData, AppError> {
        let form = FormData::parse(body).map_err(|_| AppError::Csrf)?;
        form.check_csrf(expected)?;
        Ok(form)
    }

    /// The first value of field `name`, trimmed (empty when absent).
    pub fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    /// Whether the field is present (checkboxes).
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// Check the `csrf` field against the expected token in constant time.
    pub fn check_csrf(&self, expected: &str) -> Result<(), AppError> {
        let given = self.get("csrf");
        if !given.is_empty() && shared::web::ct_eq(given.as_bytes(), expected.as_bytes()) {
            Ok(())
        } else {
            tracing::warn!("console form post refused: missing or wrong CSRF token");
            Err(AppError::Csrf)
        }
    }
}
