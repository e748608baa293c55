//! The signed QR token (docs/token.md), format version 1:
//!
//! ```text
//! QR text = "CD1:" + base45( [zlib]( CBOR tag 18 COSE_Sign1 ) )
//! protected header = { 1: -8 (EdDSA), 4: kid }     kid = SHA-256(raw public key)[..8]
//! payload = CWT claims { 1 iss, 4 exp, 6 iat, 7 cti, -65537 summary }
//! ```
//!
//! The summary's CBOR form is specified in CDDL in `docs/token.cddl`.
//!
//! Decisions fixed here:
//! - zlib is used only when it makes the COSE bytes smaller; the verifier tells the two
//!   apart by the first byte (0x78 zlib, 0xD2 tag 18) and inflates at most
//!   [`MAX_INFLATED_LEN`] bytes.
//! - the text is capped at [`MAX_TEXT_LEN`] bytes (4,296: the alphanumeric capacity of
//!   a version-40 QR at level L, the most any QR can carry); the issuer refuses to make
//!   a longer token. It is never trimmed or normalised (Base45 contains spaces).
//! - `alg` and `kid` must both be in the protected header; the unprotected header must
//!   be empty (it is not signed, so nothing in it could be trusted); no other header
//!   parameter is accepted. The token's alg must be -8 (EdDSA) or -19 (Ed25519,
//!   RFC 9864); the key's algorithm itself comes from the trust list.
//! - the signature is checked before any claim is read; claims are then parsed
//!   strictly (exactly the five claims, unknown keys refused) and the summary is
//!   re-validated through the domain constructors.
//! - keys: [`SigningKey`] (PKCS#8 file, 0600), trust list as JWKS ([`Jwks`]) with two
//!   optional extensions per key: `iss` (the issuer the key signs for) and `exp`
//!   (key expiry, unix seconds; tokens issued after it are refused).

mod codec;
mod keyring;
mod keys;
pub mod signed_list;
mod summary;
mod trust;

pub use codec::{
    CLAIM_SUMMARY, Claims, TokenError, Verified, VerifyOptions, decode_and_verify, encode, new_cti,
};
pub use keyring::{KeyRing, default_publish_lead};
pub use keys::{BindingKey, Jwk, Jwks, KeyError, Kid, SigningKey};
pub use summary::{MAX_DECLARATION_ID, MAX_PROFILE_ID, Summary};
pub use trust::{Alg, TrustEntry, TrustList};

/// Prefix of a format-version-1 token.
pub const PREFIX: &str = "CD1:";
/// Longest token text accepted or produced, in bytes: 4,296, the alphanumeric capacity
/// of a version-40 QR code at error-correction level L.
pub const MAX_TEXT_LEN: usize = 4296;
/// Most bytes a compressed token may inflate to.
pub const MAX_INFLATED_LEN: usize = 8 * 1024;
/// COSE algorithm id EdDSA (RFC 9053), what issuers write.
pub const COSE_ALG_EDDSA: i64 = -8;
/// COSE algorithm id Ed25519 (RFC 9864), also accepted.
pub const COSE_ALG_ED25519: i64 = -19;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod proptests;
