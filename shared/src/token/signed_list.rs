//! Signed trust lists (docs/trust.md): an operator **root key** (Ed25519, kept offline)
//! signs each issuer's key set; gates hold only the root public key.
//!
//! Format: a JWS in compact serialisation (RFC 7515), algorithm `EdDSA` (RFC 8037):
//!
//! ```text
//! protected header = {"alg":"EdDSA","typ":"egate-trust-list+jws","kid":<root kid>}
//! payload          = {"issuer","iat","not_after","version","jwks"}
//! ```
//!
//! Decisions fixed here:
//! - the header must say exactly `alg` `EdDSA` (no `none`, no other algorithm) and the
//!   signature is checked before the payload is read;
//! - a list is refused when its `issuer` is not the one the gate asked for, when
//!   `not_after` has passed, when `iat` lies in the future (beyond the skew) and when its
//!   `version` is lower than the one the gate holds ([`ListError::Rollback`]);
//! - every key of the list must name the list's issuer in `iss` (or none, and is tied
//!   to it): a list cannot carry keys for another issuer;
//! - the signer picks `version = max(previous + 1, iat)`, so a lost list file never
//!   makes the next list look older than the last one gates took;
//! - the text is capped at [`MAX_SIGNED_LIST_LEN`] bytes.

use super::keys::{Jwks, KeyError, Kid, SigningKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Longest signed list accepted, in bytes (1 MiB).
pub const MAX_SIGNED_LIST_LEN: usize = 1 << 20;
/// The JWS `typ` of a signed trust list.
pub const LIST_TYP: &str = "egate-trust-list+jws";
/// File name of the signed list in an issuer's key directory (what it serves).
pub const SIGNED_LIST_FILE: &str = "trust-list.jws";
/// Default validity of a signed list: 30 days.
pub const DEFAULT_LIST_VALIDITY_SECS: i64 = 30 * 86_400;

/// What the root key signs for one issuer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListPayload {
    /// The issuer these keys sign for.
    pub issuer: String,
    /// When the list was signed, unix seconds.
    pub iat: i64,
    /// After this instant the list is refused, unix seconds.
    pub not_after: i64,
    /// Increases with each list signed for this issuer.
    pub version: i64,
    /// The issuer's public keys.
    pub jwks: Jwks,
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    kid: Option<String>,
}

/// Why a signed list is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    /// Not a compact JWS, or a part that does not decode.
    #[error("not a signed trust list (compact JWS): {0}")]
    Malformed(String),
    /// Bigger than [`MAX_SIGNED_LIST_LEN`].
    #[error("the signed trust list is over {MAX_SIGNED_LIST_LEN} bytes")]
    TooLarge,
    /// `alg` is not `EdDSA` (e.g. `none`) or the signature is missing.
    #[error("the trust list is not signed with EdDSA (alg {0:?})")]
    Unsigned(String),
    /// The signature does not verify under the root key.
    #[error("the trust list's signature does not verify under the root key")]
    BadSignature,
    /// Signed for another issuer.
    #[error("the trust list is for issuer {got:?}, expected {expected:?}")]
    WrongIssuer {
        /// What the list says.
        got: String,
        /// What the gate asked for.
        expected: String,
    },
    /// A key names another issuer.
    #[error("the trust list for {0:?} holds a key of another issuer")]
    ForeignKey(String),
    /// `not_after` has passed.
    #[error("the trust list expired at {0}")]
    Expired(i64),
    /// Signed in the future.
    #[error("the trust list is signed in the future ({0})")]
    NotYetValid(i64),
    /// Lower version than the one held.
    #[error("the trust list has version {got}, lower than the {held} already held (rollback)")]
    Rollback {
        /// The list's version.
        got: i64,
        /// The version held.
        held: i64,
    },
}

/// The operator root public key a gate holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RootPublicKey(pub [u8; 32]);

impl RootPublicKey {
    /// From base64url (no padding) of the 32 raw bytes, as `egate root-key public` prints.
    pub fn from_base64url(s: &str) -> Option<RootPublicKey> {
        URL_SAFE_NO_PAD
            .decode(s.trim())
            .ok()?
            .try_into()
            .ok()
            .map(RootPublicKey)
    }

    /// A value (base64url) or the path of a file holding one.
    pub fn from_value_or_file(v: &str) -> Result<RootPublicKey, String> {
        if let Some(k) = Self::from_base64url(v) {
            return Ok(k);
        }
        let text = std::fs::read_to_string(Path::new(v.trim())).map_err(|e| {
            format!("neither a base64url Ed25519 public key nor a readable file: {e}")
        })?;
        Self::from_base64url(&text).ok_or_else(|| {
            format!(
                "{} does not hold a base64url Ed25519 public key (32 bytes)",
                v.trim()
            )
        })
    }

    /// The public key of a root signing key.
    pub fn of(root: &SigningKey) -> RootPublicKey {
        RootPublicKey(root.public_key())
    }

    /// Base64url without padding.
    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Key id (as for issuer keys).
    pub fn kid(&self) -> Kid {
        Kid::of_public_key(&self.0)
    }
}

/// Sign `payload` with the root key: a compact JWS.
pub fn sign_list(root: &SigningKey, payload: &ListPayload) -> String {
    let header = Header {
        alg: "EdDSA".into(),
        typ: Some(LIST_TYP.into()),
        kid: Some(root.kid().to_base64()),
    };
    // Serialising these plain structs cannot fail.
    let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap_or_default());
    let p = URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload).unwrap_or_default());
    let signing_input = format!("{h}.{p}");
    let sig = URL_SAFE_NO_PAD.encode(root.sign_raw(signing_input.as_bytes()));
    format!("{signing_input}.{sig}")
}

/// The payload of a signed list whose signature verifies under `root`, without the
/// checks of time, issuer and version (for reading back a list already taken).
pub fn open_list(text: &str, root: &RootPublicKey) -> Result<ListPayload, ListError> {
    if text.len() > MAX_SIGNED_LIST_LEN {
        return Err(ListError::TooLarge);
    }
    let text = text.trim();
    let mut parts = text.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ListError::Malformed(
            "expected three dot-separated parts".into(),
        ));
    };
    let decode = |part: &str, what: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| ListError::Malformed(format!("the {what} is not base64url")))
    };
    let header: Header = serde_json::from_slice(&decode(h, "header")?)
        .map_err(|e| ListError::Malformed(format!("header: {e}")))?;
    if header.alg != "EdDSA" || s.is_empty() {
        return Err(ListError::Unsigned(header.alg));
    }
    let sig = decode(s, "signature")?;
    let signing_input = &text[..h.len() + 1 + p.len()];
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, root.0)
        .verify(signing_input.as_bytes(), &sig)
        .map_err(|_| ListError::BadSignature)?;
    serde_json::from_slice(&decode(p, "payload")?)
        .map_err(|e| ListError::Malformed(format!("payload: {e}")))
}

/// Check a signed list fetched for `issuer` at `now`: signature, issuer, validity and
/// version against `held_version` (the version of the list the gate holds, if any).
/// Returns the payload with every key tied to the issuer.
pub fn verify_list(
    text: &str,
    root: &RootPublicKey,
    issuer: &str,
    now: i64,
    skew_secs: i64,
    held_version: Option<i64>,
) -> Result<ListPayload, ListError> {
    let mut list = open_list(text, root)?;
    if list.issuer != issuer {
        return Err(ListError::WrongIssuer {
            got: list.issuer,
            expected: issuer.to_owned(),
        });
    }
    if list.not_after < now {
        return Err(ListError::Expired(list.not_after));
    }
    if list.iat > now.saturating_add(skew_secs) {
        return Err(ListError::NotYetValid(list.iat));
    }
    if let Some(held) = held_version
        && list.version < held
    {
        return Err(ListError::Rollback {
            got: list.version,
            held,
        });
    }
    for k in &mut list.jwks.keys {
        match k.iss.as_deref() {
            Some(i) if i != issuer => return Err(ListError::ForeignKey(issuer.to_owned())),
            _ => k.iss = Some(issuer.to_owned()),
        }
    }
    Ok(list)
}

/// Sign the key set of the issuer whose key directory is `key_dir` and write it there
/// ([`SIGNED_LIST_FILE`], where the issuer serves it). The version follows the file's
/// previous one. Returns the payload signed.
pub fn sign_issuer_dir(
    root: &SigningKey,
    key_dir: &Path,
    issuer: &str,
    now: i64,
    validity_secs: i64,
    max_token_secs: i64,
) -> Result<ListPayload, KeyError> {
    let ring = super::KeyRing::open(key_dir, issuer, now)?;
    let path = key_dir.join(SIGNED_LIST_FILE);
    let previous = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| open_list(&t, &RootPublicKey::of(root)).ok())
        .map_or(0, |l| l.version);
    let payload = ListPayload {
        issuer: issuer.to_owned(),
        iat: now,
        not_after: now.saturating_add(validity_secs.max(1)),
        version: previous.saturating_add(1).max(now),
        jwks: ring.jwks(now, max_token_secs),
    };
    let text = sign_list(root, &payload);
    let tmp = key_dir.join(format!("{SIGNED_LIST_FILE}.{}.tmp", std::process::id()));
    let io = |p: &Path| {
        let p = p.to_owned();
        move |source| KeyError::Io { path: p, source }
    };
    std::fs::write(&tmp, text).map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(issuer: &str, version: i64) -> ListPayload {
        let k = SigningKey::generate().unwrap();
        let mut jwk = k.jwk();
        jwk.iss = Some(issuer.into());
        ListPayload {
            issuer: issuer.into(),
            iat: 1_000,
            not_after: 2_000,
            version,
            jwks: Jwks { keys: vec![jwk] },
        }
    }

    #[test]
    fn a_signed_list_verifies_and_every_attack_is_refused() {
        let root = SigningKey::generate().unwrap();
        let pk = RootPublicKey::of(&root);
        let text = sign_list(&root, &payload("mobile-api", 5));
        let ok = verify_list(&text, &pk, "mobile-api", 1_500, 0, Some(5)).unwrap();
        assert_eq!(ok.version, 5);

        let other = SigningKey::generate().unwrap();
        let forged = sign_list(&other, &payload("mobile-api", 9));
        assert_eq!(
            verify_list(&forged, &pk, "mobile-api", 1_500, 0, None),
            Err(ListError::BadSignature)
        );
        assert_eq!(
            verify_list(&text, &pk, "mobile-api", 1_500, 0, Some(6)),
            Err(ListError::Rollback { got: 5, held: 6 })
        );
        assert!(matches!(
            verify_list(&text, &pk, "kiosk:T1", 1_500, 0, None),
            Err(ListError::WrongIssuer { .. })
        ));
        assert_eq!(
            verify_list(&text, &pk, "mobile-api", 2_001, 0, None),
            Err(ListError::Expired(2_000))
        );
        assert_eq!(
            verify_list(&text, &pk, "mobile-api", 900, 0, None),
            Err(ListError::NotYetValid(1_000))
        );
        // alg none, signature stripped.
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let p = text.split('.').nth(1).unwrap();
        assert!(matches!(
            verify_list(&format!("{h}.{p}."), &pk, "mobile-api", 1_500, 0, None),
            Err(ListError::Unsigned(_))
        ));
        assert!(matches!(
            verify_list("{\"keys\":[]}", &pk, "mobile-api", 1_500, 0, None),
            Err(ListError::Malformed(_))
        ));
        // A key of another issuer inside a validly signed list.
        let mut foreign = payload("mobile-api", 7);
        foreign.jwks.keys[0].iss = Some("kiosk:T1".into());
        let t = sign_list(&root, &foreign);
        assert!(matches!(
            verify_list(&t, &pk, "mobile-api", 1_500, 0, None),
            Err(ListError::ForeignKey(_))
        ));
    }

    #[test]
    fn signing_an_issuer_directory_increases_the_version() {
        let dir = tempfile::tempdir().unwrap();
        let root = SigningKey::generate().unwrap();
        let a = sign_issuer_dir(&root, dir.path(), "kiosk:T1", 1_000, 100, 50).unwrap();
        let b = sign_issuer_dir(&root, dir.path(), "kiosk:T1", 1_000, 100, 50).unwrap();
        assert_eq!(a.version, 1_000);
        assert_eq!(b.version, 1_001);
        let text = std::fs::read_to_string(dir.path().join(SIGNED_LIST_FILE)).unwrap();
        let got = verify_list(&text, &RootPublicKey::of(&root), "kiosk:T1", 1_050, 0, None);
        assert_eq!(got.unwrap(), b);
    }
}
