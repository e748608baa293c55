//! Encoding and verification of the `CD1:` token text.

use super::keys::{Kid, SigningKey};
use super::summary::{self, Summary, as_int, as_uint};
use super::trust::TrustList;
use super::{COSE_ALG_ED25519, COSE_ALG_EDDSA, MAX_INFLATED_LEN, MAX_TEXT_LEN, PREFIX};
use ciborium::value::Value;
use coset::iana::EnumI64 as _;
use coset::{CborSerializable as _, TaggedCborSerializable as _};
use coset::{CoseSign1, CoseSign1Builder, HeaderBuilder, RegisteredLabelWithPrivate};
use ring::rand::SecureRandom as _;

/// Why a token was refused (or could not be made). Each step of verification has its
/// own variant; [`TokenError::reason_code`] gives the stable code for the gate.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TokenError {
    /// The text is longer than [`MAX_TEXT_LEN`].
    #[error("token text is too long")]
    TooLong,
    /// The text does not start with `CD1:` (unknown format or version).
    #[error("not a CD1 token")]
    BadPrefix,
    /// Not valid Base45.
    #[error("invalid Base45")]
    Base45,
    /// Bad zlib data.
    #[error("invalid zlib data")]
    Inflate,
    /// The zlib data inflates beyond [`MAX_INFLATED_LEN`].
    #[error("compressed token inflates beyond the size cap")]
    InflatedTooLarge,
    /// Not a CBOR tag 18 (COSE_Sign1).
    #[error("not a tagged COSE_Sign1")]
    NotTagged,
    /// COSE structure or header error.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The algorithm is not in the protected header (or also in the unprotected one).
    #[error("algorithm is not in the protected header")]
    AlgNotProtected,
    /// The algorithm is not EdDSA (-8) or Ed25519 (-19), or not the trust entry's.
    #[error("unsupported algorithm {0}")]
    UnsupportedAlg(i64),
    /// No key id in the protected header.
    #[error("no key id in the protected header")]
    MissingKid,
    /// The key id is not in the trust list.
    #[error("unknown key id")]
    UnknownKid,
    /// The key id is revoked.
    #[error("revoked key id")]
    RevokedKid,
    /// The token was issued after its key's expiry.
    #[error("the signing key had expired when the token was issued")]
    KeyExpired,
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// A claim is missing, ill-typed or invalid (its name).
    #[error("invalid claim {0}")]
    Claims(&'static str),
    /// The `iss` claim is not the issuer the key is trusted for.
    #[error("issuer does not match the key's issuer")]
    IssuerMismatch,
    /// Past `exp` (plus skew).
    #[error("token expired")]
    Expired,
    /// `iat` is in the future (beyond skew).
    #[error("token not yet valid")]
    NotYetValid,
    /// Encoding failed (invalid claims, or the token would be too long).
    #[error("cannot encode token: {0}")]
    Encode(String),
}

impl TokenError {
    /// Every code [`TokenError::reason_code`] may return.
    pub const REASON_CODES: &'static [&'static str] = &[
        "token.malformed",
        "token.alg_mismatch",
        "token.unknown_kid",
        "token.revoked_kid",
        "token.key_expired",
        "token.bad_signature",
        "token.issuer_mismatch",
        "token.expired",
        "token.not_yet_valid",
        "token.encode",
    ];

    /// Stable reason code (gate decisions, metrics). All structural failures, from the
    /// length cap to a bad claim, are `token.malformed`.
    pub fn reason_code(&self) -> &'static str {
        match self {
            Self::TooLong
            | Self::BadPrefix
            | Self::Base45
            | Self::Inflate
            | Self::InflatedTooLarge
            | Self::NotTagged
            | Self::Malformed(_)
            | Self::MissingKid
            | Self::Claims(_) => "token.malformed",
            Self::AlgNotProtected | Self::UnsupportedAlg(_) => "token.alg_mismatch",
            Self::UnknownKid => "token.unknown_kid",
            Self::RevokedKid => "token.revoked_kid",
            Self::KeyExpired => "token.key_expired",
            Self::BadSignature => "token.bad_signature",
            Self::IssuerMismatch => "token.issuer_mismatch",
            Self::Expired => "token.expired",
            Self::NotYetValid => "token.not_yet_valid",
            Self::Encode(_) => "token.encode",
        }
    }
}

/// The CWT claims of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// Issuer id (`mobile-api`, `kiosk:<terminal-id>`): 1–64 characters, no control characters.
    pub iss: String,
    /// Issued at, unix seconds (≥ 0).
    pub iat: i64,
    /// Expiry, unix seconds (≥ `iat`).
    pub exp: i64,
    /// Random token id (one-time use key).
    pub cti: [u8; 16],
    /// The declaration summary.
    pub summary: Summary,
}

/// Verification parameters.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions {
    /// Current time, unix seconds.
    pub now: i64,
    /// Allowed clock skew, seconds.
    pub skew_secs: i64,
}

/// A verified token.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The key that signed it.
    pub kid: Kid,
    /// The COSE algorithm in its protected header (-8 or -19).
    pub alg: i64,
    /// Its claims.
    pub claims: Claims,
    /// Whether the token was zlib-compressed.
    pub compressed: bool,
}

const CLAIM_ISS: i64 = 1;
const CLAIM_EXP: i64 = 4;
const CLAIM_IAT: i64 = 6;
const CLAIM_CTI: i64 = 7;
/// Private claim key of the declaration summary.
pub const CLAIM_SUMMARY: i64 = -65537;
const MAX_ISS: usize = 64;

/// A fresh random token id.
///
/// # Panics
/// Only if the operating system's random generator is unavailable.
pub fn new_cti() -> [u8; 16] {
    let mut cti = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut cti)
        .expect("the system random number generator is unavailable");
    cti
}

fn claims_to_payload(c: &Claims) -> Result<Vec<u8>, TokenError> {
    let uint = |n: i64, name: &str| {
        u64::try_from(n)
            .map(|n| Value::Integer(n.into()))
            .map_err(|_| TokenError::Encode(format!("{name} must not be negative")))
    };
    let map = Value::Map(vec![
        (Value::Integer(CLAIM_ISS.into()), Value::Text(c.iss.clone())),
        (Value::Integer(CLAIM_EXP.into()), uint(c.exp, "exp")?),
        (Value::Integer(CLAIM_IAT.into()), uint(c.iat, "iat")?),
        (
            Value::Integer(CLAIM_CTI.into()),
            Value::Bytes(c.cti.to_vec()),
        ),
        (
            Value::Integer(CLAIM_SUMMARY.into()),
            summary::to_value(&c.summary),
        ),
    ]);
    map.to_vec().map_err(|e| TokenError::Encode(e.to_string()))
}

/// Sign `claims` and return the token text `CD1:…`. The claims are checked by the
/// verifier's own decoder first, so an issued token always decodes to the same claims
/// (item descriptions aside, which the token does not carry).
pub fn encode(key: &SigningKey, claims: &Claims) -> Result<String, TokenError> {
    encode_with(key, claims, COSE_ALG_EDDSA, None)
}

/// `encode` with a chosen protected alg id and an optional forced compression choice
/// (tests and vectors).
pub(crate) fn encode_with(
    key: &SigningKey,
    claims: &Claims,
    alg: i64,
    compress: Option<bool>,
) -> Result<String, TokenError> {
    let payload = claims_to_payload(claims)?;
    let decoded = parse_claims(&payload).map_err(|e| TokenError::Encode(e.to_string()))?;
    let mut expected = claims.clone();
    for it in &mut expected.summary.declared.items {
        it.description = None;
    }
    if decoded != expected {
        return Err(TokenError::Encode(
            "the claims do not survive a round trip".into(),
        ));
    }
    let protected = HeaderBuilder::new()
        .algorithm_label(alg_label(alg))
        .key_id(key.kid().0.to_vec())
        .build();
    let cose = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(b"", |tbs| key.sign_raw(tbs))
        .build();
    let tagged = cose
        .to_tagged_vec()
        .map_err(|e| TokenError::Encode(e.to_string()))?;
    let text = text_of(&tagged, compress);
    if text.len() > MAX_TEXT_LEN {
        return Err(TokenError::Encode(format!(
            "the token would be {} characters, over the cap of {MAX_TEXT_LEN}",
            text.len()
        )));
    }
    Ok(text)
}

fn alg_label(alg: i64) -> coset::Algorithm {
    match coset::iana::Algorithm::from_i64(alg) {
        Some(a) => RegisteredLabelWithPrivate::Assigned(a),
        None => RegisteredLabelWithPrivate::PrivateUse(alg),
    }
}

/// Base45 text of the COSE bytes, compressed when that is smaller (or as forced).
pub(crate) fn text_of(cose: &[u8], compress: Option<bool>) -> String {
    let deflated = miniz_oxide::deflate::compress_to_vec_zlib(cose, 9);
    let use_zlib = compress.unwrap_or(deflated.len() < cose.len());
    let body = if use_zlib { &deflated[..] } else { cose };
    format!("{PREFIX}{}", base45::encode(body))
}

/// Decode and verify a token text. The steps, each failing with its own error:
/// length cap → prefix → Base45 → inflate (capped) if zlib → CBOR tag 18 →
/// COSE_Sign1 → protected alg (-8 or -19, never unprotected) → protected kid →
/// trust entry (unknown, revoked) → signature (with the entry's algorithm) → claims
/// (strict) → issuer → `exp`, `iat` → key expiry.
pub fn decode_and_verify(
    text: &str,
    trust: &TrustList,
    opts: VerifyOptions,
) -> Result<Verified, TokenError> {
    if text.len() > MAX_TEXT_LEN {
        return Err(TokenError::TooLong);
    }
    let b45 = text.strip_prefix(PREFIX).ok_or(TokenError::BadPrefix)?;
    let raw = base45::decode(b45).map_err(|_| TokenError::Base45)?;
    let (bytes, compressed) = match raw.first() {
        Some(0x78) => {
            let inflated =
                miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&raw, MAX_INFLATED_LEN)
                    .map_err(|e| match e.status {
                        miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                            TokenError::InflatedTooLarge
                        }
                        _ => TokenError::Inflate,
                    })?;
            (inflated, true)
        }
        _ => (raw, false),
    };
    // 0xD2: major type 6 (tag), value 18, in its one-byte form.
    if bytes.first() != Some(&0xD2) {
        return Err(TokenError::NotTagged);
    }
    let cose =
        CoseSign1::from_tagged_slice(&bytes).map_err(|e| TokenError::Malformed(e.to_string()))?;
    let (kid, alg) = check_headers(&cose)?;
    if trust.is_revoked(&kid) {
        return Err(TokenError::RevokedKid);
    }
    let entry = trust.get(&kid).ok_or(TokenError::UnknownKid)?;
    // The algorithm comes from the trust entry; the token's alg must be one it allows.
    if !entry.alg.accepts_cose(alg) {
        return Err(TokenError::UnsupportedAlg(alg));
    }
    let payload = cose
        .payload
        .as_deref()
        .ok_or_else(|| TokenError::Malformed("detached payload".into()))?;
    let verifier = match entry.alg {
        super::Alg::Ed25519 => &ring::signature::ED25519,
    };
    let pk = ring::signature::UnparsedPublicKey::new(verifier, &entry.public_key);
    pk.verify(&cose.tbs_data(b""), &cose.signature)
        .map_err(|_| TokenError::BadSignature)?;

    // Only now, with the signature checked, read the claims.
    let claims = parse_claims(payload)?;
    if let Some(iss) = &entry.issuer
        && *iss != claims.iss
    {
        return Err(TokenError::IssuerMismatch);
    }
    if opts.now > claims.exp.saturating_add(opts.skew_secs) {
        return Err(TokenError::Expired);
    }
    if claims.iat > opts.now.saturating_add(opts.skew_secs) {
        return Err(TokenError::NotYetValid);
    }
    // The key's expiry is the issuer's retirement time; `iat` is the issuer's clock:
    // the same skew as for `exp` and `iat`.
    if entry
        .not_after
        .is_some_and(|na| na.saturating_add(opts.skew_secs) < claims.iat)
    {
        return Err(TokenError::KeyExpired);
    }
    Ok(Verified {
        kid,
        alg,
        claims,
        compressed,
    })
}

/// Check the headers: alg and kid only, both protected. Returns the kid and COSE alg.
fn check_headers(cose: &CoseSign1) -> Result<(Kid, i64), TokenError> {
    let p = &cose.protected.header;
    let u = &cose.unprotected;
    if u.alg.is_some() {
        return Err(TokenError::AlgNotProtected);
    }
    let alg = match &p.alg {
        None => return Err(TokenError::AlgNotProtected),
        Some(RegisteredLabelWithPrivate::Assigned(a)) => a.to_i64(),
        Some(RegisteredLabelWithPrivate::PrivateUse(n)) => *n,
        Some(RegisteredLabelWithPrivate::Text(_)) => {
            return Err(TokenError::Malformed("text algorithm label".into()));
        }
    };
    if alg != COSE_ALG_EDDSA && alg != COSE_ALG_ED25519 {
        return Err(TokenError::UnsupportedAlg(alg));
    }
    if p.key_id.is_empty() {
        return Err(TokenError::MissingKid);
    }
    if !u.is_empty() {
        return Err(TokenError::Malformed(
            "the unprotected header must be empty".into(),
        ));
    }
    let only_alg_and_kid = p.crit.is_empty()
        && p.content_type.is_none()
        && p.iv.is_empty()
        && p.partial_iv.is_empty()
        && p.counter_signatures.is_empty()
        && p.rest.is_empty();
    if !only_alg_and_kid {
        return Err(TokenError::Malformed(
            "unexpected protected header parameter".into(),
        ));
    }
    let kid: [u8; 8] = p
        .key_id
        .as_slice()
        .try_into()
        .map_err(|_| TokenError::Malformed("kid must be 8 bytes".into()))?;
    Ok((Kid(kid), alg))
}

/// Parse the CWT claims strictly: exactly the five claims, each well-typed.
pub(crate) fn parse_claims(payload: &[u8]) -> Result<Claims, TokenError> {
    let value = Value::from_slice(payload).map_err(|_| TokenError::Claims("payload"))?;
    let Value::Map(entries) = value else {
        return Err(TokenError::Claims("payload"));
    };
    let (mut iss, mut exp, mut iat, mut cti, mut sum) = (None, None, None, None, None);
    for (k, v) in entries {
        let slot = match as_int(&k) {
            Some(CLAIM_ISS) => &mut iss,
            Some(CLAIM_EXP) => &mut exp,
            Some(CLAIM_IAT) => &mut iat,
            Some(CLAIM_CTI) => &mut cti,
            Some(CLAIM_SUMMARY) => &mut sum,
            _ => return Err(TokenError::Claims("payload")),
        };
        if slot.replace(v).is_some() {
            return Err(TokenError::Claims("payload"));
        }
    }
    let iss = match iss {
        Some(Value::Text(s))
            if !s.is_empty()
                && s.chars().count() <= MAX_ISS
                && !s.chars().any(char::is_control) =>
        {
            s
        }
        _ => return Err(TokenError::Claims("iss")),
    };
    let time = |v: Option<Value>, name| {
        v.as_ref()
            .and_then(as_uint)
            .and_then(|n| i64::try_from(n).ok())
            .ok_or(TokenError::Claims(name))
    };
    let exp = time(exp, "exp")?;
    let iat = time(iat, "iat")?;
    if exp < iat {
        return Err(TokenError::Claims("exp"));
    }
    let cti: [u8; 16] = match cti {
        Some(Value::Bytes(b)) => b.try_into().map_err(|_| TokenError::Claims("cti"))?,
        _ => return Err(TokenError::Claims("cti")),
    };
    let summary = summary::from_value(sum.ok_or(TokenError::Claims("summary"))?)
        .map_err(TokenError::Claims)?;
    Ok(Claims {
        iss,
        iat,
        exp,
        cti,
        summary,
    })
}
