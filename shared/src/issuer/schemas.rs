//! The OpenAPI shapes of the issuer endpoints (and of a problem document, which every
//! service's API answers with). They describe the JSON the handlers write; the handlers
//! serialise the real types ([`crate::token::Jwks`], [`crate::feed`]).

#![allow(dead_code)] // Read by utoipa's derive only.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One revoked token.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevocationOut {
    /// Sequence number; pass the last one seen as `since`.
    pub seq: i64,
    /// Token id, standard base64 of the 16 bytes.
    pub cti: String,
    /// `superseded` (a newer revision exists), `erased`, or `used` (a gate accepted it
    /// once and reported the use: refuse it as replayed).
    pub reason: String,
    /// When (unix s).
    pub at: i64,
    /// The revoked token's expiry (unix s); absent when the issuer no longer knows the
    /// token. Past it the token cannot verify, so a gate may forget the entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
}

/// `GET /v1/revocations` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevocationsOut {
    /// Revocations after `since`, in sequence order.
    pub revocations: Vec<RevocationOut>,
    /// The `since` to use next time.
    pub next_since: i64,
    /// The feed's epoch: sequences compare only within one epoch; when it changes (the
    /// issuer's database was restored or recreated), start again from `since=0`.
    pub epoch: String,
}

/// An RFC 9457 problem (`application/problem+json`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProblemDoc {
    /// Stable problem type, `/problems/<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Summary.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What happened and what to do.
    pub detail: String,
    /// Bad fields (validation problems).
    #[schema(required = false)]
    pub errors: Vec<FieldErrorDoc>,
}

/// One bad field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldErrorDoc {
    /// JSON pointer (RFC 6901) of the field, e.g. `/items/0/quantity`.
    pub pointer: String,
    /// Stable code: `invalid`, `required`, `out_of_range`, `unknown_currency`, …
    pub code: String,
    /// Why.
    pub detail: String,
}

/// A JWK set (RFC 7517) of Ed25519 keys (RFC 8037).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JwksDoc {
    /// Keys.
    pub keys: Vec<JwkDoc>,
}

/// One public key.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JwkDoc {
    /// `OKP`.
    pub kty: String,
    /// `Ed25519`.
    pub crv: String,
    /// Public key, base64url.
    pub x: String,
    /// Key id: standard base64 of SHA-256(public key)[..8].
    pub kid: String,
    /// `EdDSA`.
    pub alg: String,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// Issuer id the key signs for (`mobile-api`, `kiosk:<terminal-id>`).
    pub iss: Option<String>,
    /// Retirement time (unix s) of a rotated key.
    pub exp: Option<i64>,
}

/// `POST /v1/internal/uses` body: tokens a gate accepted once.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UseReportDoc {
    /// The reporting gate-service instance (1 to 64 printable characters).
    pub gate: String,
    /// At most 1000 uses.
    pub uses: Vec<UseDoc>,
}

/// One use in a report.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UseDoc {
    /// Token id, standard base64 of the 16 bytes.
    pub cti: String,
    /// When the gate accepted it (unix s).
    pub used_at: i64,
}

/// `POST /v1/internal/uses` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UseReportAckDoc {
    /// Uses newly entered in the revocation feed.
    pub recorded: usize,
    /// Uses of tokens already in the feed.
    pub known: usize,
    /// Uses of tokens this issuer never issued (ignored).
    pub unknown: usize,
}

/// `POST /v1/internal/presentations` body: cases a gate opened for genuine tokens.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct PresentationReportDoc {
    /// The reporting gate-service instance (1 to 64 printable characters).
    pub gate: String,
    /// At most 1000 presentations.
    pub presentations: Vec<PresentationDoc>,
}

/// One case opened for a genuine token.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct PresentationDoc {
    /// The gate's case id (1 or more).
    pub case: i64,
    /// The declaration id in the token.
    pub declaration_id: String,
    /// Token id, standard base64 of the 16 bytes.
    pub cti: String,
    /// When the case was opened (unix s).
    pub at: i64,
}
