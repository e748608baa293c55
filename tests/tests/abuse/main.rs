//! Abuse, fault and hardening tests (the fast items of RELIABILITY.md): one-time use under
//! concurrency, security headers and CSRF on every route, oversized input, backup and
//! restore, login abuse. The real services run on port 0 (`tests::System`).
//!
//! The oversized-input test measures the process's resident memory, so it runs alone:
//! every test takes [`EXCLUSIVE`] for reading, that one for writing.

mod backup;
mod hardening;
mod login;
mod oversized;
mod replay;
mod service_keys;
mod trust_restart;

pub use tests::{System, Traveller, codes};

/// Serialises the memory measurement against the other tests of this binary.
pub static EXCLUSIVE: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// Declare for `who` with no items (a GREEN declaration) and return its QR text.
pub async fn green_qr(sys: &System, who: &Traveller) -> String {
    let (status, created) = sys.declare(&who.declaration(serde_json::json!([]))).await;
    assert_eq!(status, 201, "{created}");
    created["qr"]["text"].as_str().unwrap().to_owned()
}

/// The same COSE bytes in the other encoding: plain if the token is zlib-compressed,
/// zlib if it is plain (docs/token.md: the verifier tells them apart by the first byte).
pub fn reencoded(qr: &str) -> String {
    let raw = base45::decode(qr.strip_prefix(shared::token::PREFIX).unwrap()).unwrap();
    let other = if raw[0] == 0x78 {
        miniz_oxide::inflate::decompress_to_vec_zlib(&raw).unwrap()
    } else {
        miniz_oxide::deflate::compress_to_vec_zlib(&raw, 6)
    };
    assert_ne!(other, raw);
    format!("{}{}", shared::token::PREFIX, base45::encode(&other))
}
