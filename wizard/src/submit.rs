//! The service's part of confirming a declaration: [`Submit`]. The kiosk signs a token
//! with its own issuer; mobile-api stores the declaration (as `POST /v1/declarations`
//! does) and amends it on an edit (as `PUT /v1/declarations/{id}` does: a new token, the
//! previous one superseded).

use shared::domain::{Declaration, DeclarationInput, ValidationErrors};
use shared::rules::Evaluation;
use std::future::Future;
use std::pin::Pin;

/// The future a [`Submit`] method returns.
pub type SubmitFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SubmitError>> + Send + 'a>>;

/// A declaration being edited: its id, the capability to change it (held only in the
/// server-side session, never in a URL or a log) and the revision the session loaded.
#[derive(Clone)]
pub struct Amend {
    /// Declaration id.
    pub declaration_id: String,
    /// The edit token.
    pub edit_token: String,
    /// The revision loaded into the session: confirming amends that one only, so a
    /// change made meanwhile elsewhere (another device, the API) is never overwritten
    /// unseen ([`SubmitError::Conflict`]).
    pub revision: u32,
}

/// A stored declaration loaded for editing.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Its answers.
    pub input: DeclarationInput,
    /// Its current revision.
    pub revision: u32,
}

impl std::fmt::Debug for Amend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Amend")
            .field("declaration_id", &self.declaration_id)
            .field("revision", &self.revision)
            .finish_non_exhaustive()
    }
}

/// A complete, validated declaration to issue.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The wire shape (what mobile-api stores and validates as its API does).
    pub input: DeclarationInput,
    /// The validated declaration.
    pub declaration: Declaration,
    /// The rules' verdict on it.
    pub evaluation: Evaluation,
    /// The declaration this one replaces, when editing.
    pub amend: Option<Amend>,
    /// Now, unix seconds.
    pub now: i64,
}

/// What was issued.
#[derive(Clone)]
pub struct Receipt {
    /// Declaration id (the same one when amending).
    pub declaration_id: String,
    /// The token text (`CD1:…`), the QR's payload.
    pub token: String,
    /// Token expiry, unix seconds.
    pub exp: i64,
    /// The edit token (phone mode: the device keeps it), if the service has one.
    pub edit_token: Option<String>,
}

impl std::fmt::Debug for Receipt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receipt")
            .field("declaration_id", &self.declaration_id)
            .field("exp", &self.exp)
            .finish_non_exhaustive()
    }
}

/// Why a submission was not issued.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The service refused fields the wizard's own checks let through (e.g. the arrival
    /// date outside the token policy): shown next to the fields, by JSON pointer.
    #[error("invalid fields")]
    Invalid(ValidationErrors),
    /// The declaration to amend or load is unknown, erased, or the edit token is wrong.
    #[error("no such declaration")]
    NotFound,
    /// The declaration to amend changed since the session loaded it (edited elsewhere):
    /// nothing was stored.
    #[error("changed meanwhile")]
    Conflict,
    /// Something on the service's side failed (logged there).
    #[error("internal: {0}")]
    Internal(String),
    /// The service cannot reach what it needs just now (its database down): nothing
    /// was stored; the passenger may retry after these seconds (a 503 page).
    #[error("unavailable")]
    Unavailable(u64),
}

/// The service's part: issue (and, where the service keeps declarations, load and
/// amend).
pub trait Submit: Send + Sync + 'static {
    /// Issue a token for a new declaration, or amend `submission.amend`.
    fn submit(&self, submission: Submission) -> SubmitFuture<'_, Receipt>;

    /// Whether a client (by address, when the service knows it) may post another
    /// confirmation or edit now; `Err(seconds to wait)` when over the service's limit.
    /// The default: no limit.
    fn admit(&self, client: Option<std::net::IpAddr>) -> Result<(), u64> {
        let _ = client;
        Ok(())
    }

    /// The stored declaration `id` and its revision if `edit_token` is its edit token
    /// (phone mode's "Change"). The default: the service keeps no declarations.
    fn load<'a>(&'a self, id: &'a str, edit_token: &'a str) -> SubmitFuture<'a, Loaded> {
        let _ = (id, edit_token);
        Box::pin(async { Err(SubmitError::NotFound) })
    }
}
