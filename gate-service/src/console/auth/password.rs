//! Password hashing: argon2id PHC strings. Both calls are CPU-heavy: run them through
//! `shared::offload::blocking`, off the async runtime.

use super::accounts::AccountError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::LazyLock;

/// Shortest password accepted for an account.
pub const MIN_PASSWORD_LEN: usize = 12;

fn argon2() -> Argon2<'static> {
    // Argon2id, version 0x13, m = 19,456 KiB, t = 2, p = 1 (OWASP's recommendation).
    Argon2::default()
}

/// Hash a password as an argon2id PHC string (blocking).
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let mut salt = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
        .map_err(|_| AccountError::Hash("the system random generator failed".into()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AccountError::Hash(e.to_string()))?;
    let hash = argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| AccountError::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

/// Check a password against a PHC string (blocking). A malformed hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// Checked against when the user name is unknown, so that both cases take as long.
pub(super) static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password(&shared::web::random_token()).unwrap_or_default());

/// Refuse passwords shorter than [`MIN_PASSWORD_LEN`] characters (or absurdly long).
pub fn check_password_strength(password: &str) -> Result<(), AccountError> {
    if password.chars().count() < MIN_PASSWORD_LEN || password.len() > 1024 {
        return Err(AccountError::WeakPassword);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_as_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("x", "not a phc string"));
    }
}
