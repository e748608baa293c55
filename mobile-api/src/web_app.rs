//! The passenger's web app: the declaration wizard (crate `wizard`, docs/wizard.md)
//! mounted at `/` in personal-phone mode. What is mobile-api's own here is the
//! wizard's [`wizard::Submit`]: confirming the review creates a declaration exactly as
//! `POST /v1/declarations` does (the same validation, signing and store), and an edit
//! amends one exactly as `PUT /v1/declarations/{id}` does (a new revision and QR, the
//! previous token superseded). The edit token is handed to the device once, in the
//! result page's data block, and otherwise lives only in the server-side session.
//!
//! Confirmations and edits count against the per-address creation limit of the API
//! (`EGATE_RATE_LIMIT_PER_MINUTE`, [`wizard::Submit::admit`]): the app is no way around
//! it; beyond it the wizard shows its 429 page with `Retry-After`.

use crate::AppState;
use crate::declarations::{amend_declaration, authorize_token, create_declaration};
use crate::error::AppError;
use axum::Router;
use axum::http::StatusCode;
use shared::pg::UNAVAILABLE_RETRY_AFTER_SECS;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use wizard::{Loaded, Receipt, Submission, Submit, SubmitError, SubmitFuture, WizardConfig};

/// The wizard's configuration in this service: personal phone, 30 minutes of
/// inactivity, the browser's language, `Secure` cookies when serving HTTPS.
pub fn wizard_config(config: &crate::Config) -> WizardConfig {
    WizardConfig::personal_phone(config.tls.is_some())
}

/// A new, empty session store for the wizard's sessions.
pub fn session_store(config: &crate::Config) -> wizard::SessionStore {
    let c = wizard_config(config);
    wizard::SessionStore::with_limits(
        config.clock.clone(),
        c.idle.as_secs(),
        c.max_sessions,
        c.mode.cookie_name(),
    )
}

/// The wizard's pages, for mobile-api's public router (they carry their own layers:
/// CSP with a nonce, `no-store`, HTML error pages, the form body limit).
pub fn router(state: AppState) -> Router {
    let wizard = wizard::WizardState {
        config: Arc::new(wizard_config(&state.config)),
        clock: state.clock.clone(),
        profile: state.profile.clone(),
        policy: *state.issuer.policy(),
        sessions: state.web_sessions.clone(),
        submit: Arc::new(PhoneSubmit {
            state: state.clone(),
        }),
    };
    wizard::mount(Router::new(), wizard)
}

/// Confirming the wizard: create or amend a stored declaration.
struct PhoneSubmit {
    state: AppState,
}

impl Submit for PhoneSubmit {
    /// The API's per-address creation limit (without connection info every request
    /// shares one key, as the API's middleware does).
    fn admit(&self, client: Option<IpAddr>) -> Result<(), u64> {
        self.state
            .limiter
            .check(client.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))
    }

    fn submit(&self, s: Submission) -> SubmitFuture<'_, Receipt> {
        Box::pin(async move {
            let st = &self.state;
            match &s.amend {
                None => {
                    let (id, edit_token, rev) = create_declaration(st, &s.input, s.now)
                        .await
                        .map_err(submit_error)?;
                    tracing::info!(declaration.id = %id, "declared in the web app");
                    Ok(Receipt {
                        declaration_id: id,
                        token: rev.token.text,
                        exp: rev.token.exp,
                        edit_token: Some(edit_token),
                    })
                }
                Some(a) => {
                    let row = authorize_token(st, &a.declaration_id, Some(&a.edit_token))
                        .await
                        .map_err(submit_error)?;
                    // Changed since the session loaded it (from another device, or the
                    // API): the passenger never saw that version, so it is not
                    // overwritten; the wizard says so (409). A change landing between
                    // this check and the store is the API's own 409, the same answer.
                    if row.revision != a.revision {
                        return Err(SubmitError::Conflict);
                    }
                    let rev = amend_declaration(st, &row, &s.input, s.now)
                        .await
                        .map_err(submit_error)?;
                    tracing::info!(declaration.id = %row.id, revision = rev.revision, "amended in the web app");
                    Ok(Receipt {
                        declaration_id: row.id,
                        token: rev.token.text,
                        exp: rev.token.exp,
                        edit_token: Some(a.edit_token.clone()),
                    })
                }
            }
        })
    }

    fn load<'a>(&'a self, id: &'a str, edit_token: &'a str) -> SubmitFuture<'a, Loaded> {
        Box::pin(async move {
            let row = authorize_token(&self.state, id, Some(edit_token))
                .await
                .map_err(submit_error)?;
            let input = row.body.ok_or(SubmitError::NotFound)?;
            Ok(Loaded {
                input,
                revision: row.revision,
            })
        })
    }
}

/// The API's errors as the wizard's: invalid fields go back to their step; an unknown or
/// erased declaration is "not found"; one changed concurrently (the API's 409) is a
/// conflict; the rest is ours.
fn submit_error(e: AppError) -> SubmitError {
    match e {
        AppError::Validation(errs) => SubmitError::Invalid(errs),
        AppError::NotFound => SubmitError::NotFound,
        AppError::Problem(p) if p.status == StatusCode::CONFLICT.as_u16() => SubmitError::Conflict,
        AppError::Problem(p) if p.status == StatusCode::SERVICE_UNAVAILABLE.as_u16() => {
            SubmitError::Unavailable(p.retry_after.unwrap_or(UNAVAILABLE_RETRY_AFTER_SECS))
        }
        AppError::Problem(p) => SubmitError::Internal(p.detail.clone()),
        // PostgreSQL down: the API's 503 + Retry-After, as a page in the language.
        AppError::Db(e) if e.is_unavailable() => {
            tracing::warn!(error = %e, "database unavailable");
            SubmitError::Unavailable(UNAVAILABLE_RETRY_AFTER_SECS)
        }
        AppError::Db(e) => SubmitError::Internal(format!("storage: {e}")),
        AppError::Internal(e) => SubmitError::Internal(e),
    }
}
