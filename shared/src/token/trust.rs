//! The verifier's trust list: issuer public keys by key id, plus revoked key ids.

use super::keys::{Jwks, KeyError, Kid, jwk_of, parse_jwk};
use std::collections::{HashMap, HashSet};

/// The signature algorithm a trusted key is used with. The verifier takes it from the
/// trust entry, never from the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    /// Ed25519 (JOSE `EdDSA`; COSE -8 `EdDSA` or -19 `Ed25519`).
    Ed25519,
}

impl Alg {
    /// The COSE algorithm ids a token may carry for a key of this algorithm.
    pub fn accepts_cose(self, cose_alg: i64) -> bool {
        match self {
            Alg::Ed25519 => {
                cose_alg == super::COSE_ALG_EDDSA || cose_alg == super::COSE_ALG_ED25519
            }
        }
    }
}

/// One trusted issuer key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustEntry {
    /// Raw Ed25519 public key.
    pub public_key: [u8; 32],
    /// Algorithm used with the key.
    pub alg: Alg,
    /// When set, the token's `iss` must equal it.
    pub issuer: Option<String>,
    /// Key expiry (unix seconds): tokens issued after it are refused.
    pub not_after: Option<i64>,
}

/// Trusted issuer keys by key id, and revoked key ids.
#[derive(Debug, Clone, Default)]
pub struct TrustList {
    entries: HashMap<Kid, TrustEntry>,
    revoked: HashSet<Kid>,
}

impl TrustList {
    /// An empty trust list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add every key of a JWKS. All keys are checked first (OKP/Ed25519, `use` `sig`,
    /// `kid` = first 8 bytes of SHA-256(x)); if one is refused nothing is added.
    /// Returns the number of keys added. A key already present is replaced.
    pub fn add_jwks(&mut self, jwks: &Jwks) -> Result<usize, KeyError> {
        let parsed = jwks
            .keys
            .iter()
            .map(|k| parse_jwk(k).map(|(kid, pk)| (kid, pk, k)))
            .collect::<Result<Vec<_>, _>>()?;
        for (kid, public_key, jwk) in &parsed {
            self.entries.insert(
                *kid,
                TrustEntry {
                    public_key: *public_key,
                    alg: Alg::Ed25519,
                    issuer: jwk.iss.clone(),
                    not_after: jwk.exp,
                },
            );
        }
        Ok(parsed.len())
    }

    /// Add one key (its kid is derived from it).
    pub fn add_key(&mut self, issuer: Option<&str>, public_key: [u8; 32], not_after: Option<i64>) {
        self.entries.insert(
            Kid::of_public_key(&public_key),
            TrustEntry {
                public_key,
                alg: Alg::Ed25519,
                issuer: issuer.map(str::to_owned),
                not_after,
            },
        );
    }

    /// Revoke a key id: tokens under it are refused even if the key is listed.
    pub fn revoke(&mut self, kid: Kid) {
        self.revoked.insert(kid);
    }

    /// Whether a key id is revoked.
    pub fn is_revoked(&self, kid: &Kid) -> bool {
        self.revoked.contains(kid)
    }

    /// The entry for a key id (revoked or not).
    pub fn get(&self, kid: &Kid) -> Option<&TrustEntry> {
        self.entries.get(kid)
    }

    /// Number of keys (revoked ones included).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list holds no key.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The key ids, sorted.
    pub fn kids(&self) -> Vec<Kid> {
        let mut v: Vec<Kid> = self.entries.keys().copied().collect();
        v.sort();
        v
    }

    /// Export the non-revoked keys as a JWKS, sorted by kid, with the `iss` and `exp`
    /// extensions when set.
    pub fn to_jwks(&self) -> Jwks {
        Jwks {
            keys: self
                .kids()
                .into_iter()
                .filter(|k| !self.is_revoked(k))
                .filter_map(|k| self.entries.get(&k))
                .map(|e| jwk_of(&e.public_key, e.issuer.as_deref(), e.not_after))
                .collect(),
        }
    }

    /// Test hook: insert an entry under an arbitrary kid.
    #[cfg(test)]
    pub(crate) fn insert_raw(&mut self, kid: Kid, entry: TrustEntry) {
        self.entries.insert(kid, entry);
    }
}
