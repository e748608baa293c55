//! [`Issuer`]: an issuer's identity (`iss`), its key ring (the key that signs at each
//! instant, the rotated-in key published ahead of its activation, retired ones still
//! published), the passport-binding key and the token policy. Signing logs the
//! issuance (declaration id, revision, kid, cti, times; never personal data).

use super::claims::{TokenRequest, assemble};
use super::policy::TokenPolicy;
use crate::domain::format_date;
use crate::feed::cti_base64;
use crate::token::{self, BindingKey, Jwks, KeyRing};
use std::sync::{Arc, RwLock};

/// Why a token cannot be issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The arrival date is outside the window a token can cover (the passenger's to fix).
    #[error("{0}")]
    ArrivalDate(#[from] super::policy::ArrivalError),
    /// Signing failed (ours).
    #[error("signing failed: {0}")]
    Sign(String),
}

/// A freshly signed token.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The QR text `CD1:…`.
    pub text: String,
    /// Token id.
    pub cti: [u8; 16],
    /// Key id (standard base64).
    pub kid: String,
    /// Issued at, unix seconds.
    pub iat: i64,
    /// Expiry, unix seconds.
    pub exp: i64,
}

impl Issued {
    /// The token id as standard base64 (the form of the store and the feed).
    pub fn cti_base64(&self) -> String {
        cti_base64(&self.cti)
    }
}

/// An issuer's signing side. Cheap to clone (the key ring is shared, so a reload is
/// seen by every clone).
#[derive(Clone)]
pub struct Issuer {
    id: Arc<str>,
    ring: Arc<RwLock<KeyRing>>,
    binding: Arc<BindingKey>,
    policy: TokenPolicy,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("id", &self.id)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Issuer {
    /// The issuer of `ring` (its id is the ring's) binding passports with `binding`,
    /// under `policy`.
    pub fn new(ring: KeyRing, binding: BindingKey, policy: TokenPolicy) -> Issuer {
        Issuer {
            id: Arc::from(ring.issuer()),
            ring: Arc::new(RwLock::new(ring)),
            binding: Arc::new(binding),
            policy,
        }
    }

    /// The issuer id written in every token (`iss`) and JWK.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The token policy.
    pub fn policy(&self) -> &TokenPolicy {
        &self.policy
    }

    /// Sign a token for `req` at `now` (blocking: call through `shared::offload::blocking`).
    /// Refuses an arrival date the policy cannot cover.
    pub fn sign(&self, req: &TokenRequest<'_>, now: i64) -> Result<Issued, IssueError> {
        let exp = self.policy.expiry(req.declaration.trip.arrival_date, now)?;
        let cti = token::new_cti();
        let claims = assemble(&self.id, req, &self.binding, now, exp, cti);
        let ring = self
            .ring
            .read()
            .map_err(|_| IssueError::Sign("key ring lock poisoned".into()))?;
        // Chosen by time: a rotated-in key signs only from its activation.
        let key = ring.signing_key(now);
        let text = token::encode(key, &claims).map_err(|e| IssueError::Sign(e.to_string()))?;
        let kid = key.kid().to_base64();
        drop(ring);
        tracing::info!(
            issuance.issuer = %self.id,
            issuance.declaration_id = req.declaration_id,
            issuance.revision = req.revision,
            issuance.kid = %kid,
            issuance.cti = %cti_base64(&cti),
            issuance.iat = now,
            issuance.exp = exp,
            issuance.arrival_date = %format_date(req.declaration.trip.arrival_date),
            "token issued"
        );
        Ok(Issued {
            text,
            cti,
            kid,
            iat: now,
            exp,
        })
    }

    /// The published JWKS at `now`: the signing key, a rotated-in key ahead of its
    /// activation and the retired ones whose tokens may still be valid, each with `iss`.
    pub fn jwks(&self, now: i64) -> Jwks {
        match self.ring.read() {
            Ok(r) => r.jwks(now, self.policy.validity().key_publish_secs()),
            Err(_) => Jwks::default(),
        }
    }

    /// The signed trust list the operator's root key made for these keys
    /// (`<key dir>/trust-list.jws`, docs/trust.md), read at each call so that a list
    /// re-signed while the issuer runs is served at once. `None` when there is none.
    pub async fn signed_trust_list(&self) -> Option<String> {
        let path = match self.ring.read() {
            Ok(r) => r.dir().join(token::signed_list::SIGNED_LIST_FILE),
            Err(_) => return None,
        };
        let text = tokio::fs::read_to_string(path).await.ok()?;
        (text.len() <= token::signed_list::MAX_SIGNED_LIST_LEN).then_some(text)
    }

    /// Every key id in the ring (standard base64).
    pub fn key_ids(&self) -> Vec<String> {
        match self.ring.read() {
            Ok(r) => r.kids().iter().map(|k| k.to_base64()).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Re-read the key directory (blocking: file I/O), to pick up an operator's rotation.
    /// On failure the current keys stay in use.
    pub fn reload(&self) {
        if let Ok(mut r) = self.ring.write()
            && let Err(e) = r.reload()
        {
            tracing::error!(issuer = %self.id, error = %e, "failed to reload the signing keys; keeping the current ones");
        }
    }
}
