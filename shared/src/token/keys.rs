//! Issuer signing keys (Ed25519, PKCS#8 files), key ids, JWK/JWKS export and import,
//! and the passport binding key.
//!
//! Key files are created with mode 0600, atomically: the new key is written to a
//! temporary file in the same directory (`create_new`, mode 0600), synced, then
//! hard-linked to its final name. `link` fails if the name already exists, so two
//! processes starting together never overwrite each other: the loser loads the
//! winner's key. A key file readable or writable by group or others is refused.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

/// Errors of key generation, key files and key import.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing a key file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The key file may be read or written by group or others.
    #[error("{}", crate::secret_file::refusal(path, *mode))]
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The bytes are not a usable key (bad PKCS#8, wrong length).
    #[error("invalid key: {0}")]
    BadKey(String),
    /// The system random generator failed.
    #[error("the system random number generator failed")]
    Rng,
    /// A JWK is not an Ed25519 signing key we accept.
    #[error("unsupported JWK: {0}")]
    UnsupportedKey(String),
    /// A JWK's `kid` is not the key id of its `x`.
    #[error("JWK kid {0} does not match its public key")]
    KidMismatch(String),
    /// A key id is not standard base64 of 8 bytes.
    #[error("invalid key id {0:?}: expected standard base64 of 8 bytes")]
    BadKid(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Key identifier: the first 8 bytes of SHA-256 of the raw 32-byte Ed25519 public key.
/// Displayed as standard base64 (as in the JWKS `kid`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Kid(pub [u8; 8]);

impl Kid {
    /// The key id of a raw Ed25519 public key.
    pub fn of_public_key(public_key: &[u8; 32]) -> Kid {
        let d = ring::digest::digest(&ring::digest::SHA256, public_key);
        let mut kid = [0u8; 8];
        kid.copy_from_slice(&d.as_ref()[..8]);
        Kid(kid)
    }

    /// Standard base64 (with padding) of the 8 bytes.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Parse standard base64 of exactly 8 bytes.
    pub fn from_base64(s: &str) -> Result<Kid, KeyError> {
        let bytes = STANDARD
            .decode(s)
            .map_err(|_| KeyError::BadKid(s.to_owned()))?;
        let arr: [u8; 8] = bytes
            .try_into()
            .map_err(|_| KeyError::BadKid(s.to_owned()))?;
        Ok(Kid(arr))
    }
}

impl fmt::Display for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

/// One public key in JWK form (RFC 7517, OKP keys of RFC 8037).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Jwk {
    /// Key type: `OKP`.
    pub kty: String,
    /// Curve: `Ed25519`.
    pub crv: String,
    /// The raw 32-byte public key, base64url without padding.
    pub x: String,
    /// Key id: standard base64 of the first 8 bytes of SHA-256(raw public key).
    pub kid: String,
    /// `EdDSA` (also accepted on import: `Ed25519`, RFC 9864).
    pub alg: String,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// Extension: the issuer id this key signs for (`iss` claim); when present the
    /// verifier requires the token's `iss` to be equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Extension: key expiry, unix seconds. Tokens issued (`iat`) after it are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
}

/// A JWK set: the trust list format (`GET /v1/trust-list`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// An issuer's Ed25519 signing key (ring key pair plus its PKCS#8 document).
pub struct SigningKey {
    pair: Ed25519KeyPair,
    pkcs8: Vec<u8>,
    kid: Kid,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the private key.
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generate a fresh key.
    pub fn generate() -> Result<SigningKey, KeyError> {
        let doc =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyError::Rng)?;
        Self::from_pkcs8(doc.as_ref())
    }

    /// Load a PKCS#8 (v1 or v2) DER document.
    pub fn from_pkcs8(der: &[u8]) -> Result<SigningKey, KeyError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map_err(|e| KeyError::BadKey(format!("not an Ed25519 PKCS#8 key: {e}")))?;
        let kid = Kid::of_public_key(&public_key_of(&pair));
        Ok(SigningKey {
            pair,
            pkcs8: der.to_vec(),
            kid,
        })
    }

    /// Load the PKCS#8 DER key at `path`, or generate one and store it there (mode 0600,
    /// parent directories created). A file accessible to group or others is refused.
    pub fn load_or_generate(path: &Path) -> Result<SigningKey, KeyError> {
        if let Some(der) = read_private_file(path)? {
            return Self::from_pkcs8(&der);
        }
        let key = Self::generate()?;
        match write_private_file(path, &key.pkcs8)? {
            Written::Created => Ok(key),
            // Another process created it first: use that one.
            Written::Exists => Self::load_or_generate_existing(path),
        }
    }

    fn load_or_generate_existing(path: &Path) -> Result<SigningKey, KeyError> {
        let der =
            read_private_file(path)?.ok_or_else(|| KeyError::BadKey("key file vanished".into()))?;
        Self::from_pkcs8(&der)
    }

    /// The PKCS#8 DER document (for writing the key elsewhere).
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The key id.
    pub fn kid(&self) -> Kid {
        self.kid
    }

    /// The raw 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        public_key_of(&self.pair)
    }

    /// The public key as a JWK (`alg` `EdDSA`, `use` `sig`, no extensions).
    pub fn jwk(&self) -> Jwk {
        jwk_of(&self.public_key(), None, None)
    }

    /// Sign `msg` with Ed25519 (64-byte signature).
    pub fn sign_raw(&self, msg: &[u8]) -> Vec<u8> {
        self.pair.sign(msg).as_ref().to_vec()
    }
}

fn public_key_of(pair: &Ed25519KeyPair) -> [u8; 32] {
    let mut pk = [0u8; 32];
    // An Ed25519 public key is always 32 bytes.
    let src = pair.public_key().as_ref();
    if src.len() == 32 {
        pk.copy_from_slice(src);
    }
    pk
}

/// The JWK of a raw Ed25519 public key.
pub(crate) fn jwk_of(public_key: &[u8; 32], iss: Option<&str>, exp: Option<i64>) -> Jwk {
    Jwk {
        kty: "OKP".into(),
        crv: "Ed25519".into(),
        x: URL_SAFE_NO_PAD.encode(public_key),
        kid: Kid::of_public_key(public_key).to_base64(),
        alg: "EdDSA".into(),
        use_: "sig".into(),
        iss: iss.map(str::to_owned),
        exp,
    }
}

/// Check a JWK and return its key id and raw public key.
pub(crate) fn parse_jwk(jwk: &Jwk) -> Result<(Kid, [u8; 32]), KeyError> {
    if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
        return Err(KeyError::UnsupportedKey(format!(
            "kty {:?} crv {:?}: only OKP Ed25519 keys are accepted",
            jwk.kty, jwk.crv
        )));
    }
    if jwk.alg != "EdDSA" && jwk.alg != "Ed25519" {
        return Err(KeyError::UnsupportedKey(format!(
            "alg {:?}: expected EdDSA",
            jwk.alg
        )));
    }
    if jwk.use_ != "sig" {
        return Err(KeyError::UnsupportedKey(format!(
            "use {:?}: expected sig",
            jwk.use_
        )));
    }
    let x = URL_SAFE_NO_PAD
        .decode(&jwk.x)
        .map_err(|_| KeyError::UnsupportedKey("x is not base64url without padding".into()))?;
    let pk: [u8; 32] = x
        .try_into()
        .map_err(|_| KeyError::UnsupportedKey("x must be 32 bytes".into()))?;
    let kid = Kid::from_base64(&jwk.kid)?;
    if kid != Kid::of_public_key(&pk) {
        return Err(KeyError::KidMismatch(jwk.kid.clone()));
    }
    Ok((kid, pk))
}

/// The secret key of the passport binding (HMAC-SHA256), shared by issuers and gates.
#[derive(Clone)]
pub struct BindingKey([u8; 32]);

impl fmt::Debug for BindingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BindingKey(..)")
    }
}

impl BindingKey {
    /// A fresh random key.
    ///
    /// # Panics
    /// Only if the operating system's random generator is unavailable, which leaves
    /// no safe way to make a secret key (a weak key would be worse than stopping).
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        SystemRandom::new()
            .fill(&mut k)
            .expect("the system random number generator is unavailable");
        Self(k)
    }

    /// From raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Load the raw 32-byte key at `path`, or generate and store one (mode 0600).
    pub fn load_or_generate(path: &Path) -> Result<Self, KeyError> {
        let parse = |b: Vec<u8>| -> Result<Self, KeyError> {
            let arr: [u8; 32] = b.try_into().map_err(|_| {
                KeyError::BadKey("a binding key file must hold exactly 32 bytes".into())
            })?;
            Ok(Self(arr))
        };
        if let Some(b) = read_private_file(path)? {
            return parse(b);
        }
        let mut k = [0u8; 32];
        SystemRandom::new()
            .fill(&mut k)
            .map_err(|_| KeyError::Rng)?;
        match write_private_file(path, &k)? {
            Written::Created => Ok(Self(k)),
            Written::Exists => parse(
                read_private_file(path)?
                    .ok_or_else(|| KeyError::BadKey("key file vanished".into()))?,
            ),
        }
    }

    /// The passport binding: the first 16 bytes of
    /// HMAC-SHA256(key, `"NAT|NUMBER|YYYY-MM-DD"`).
    pub fn bind(
        &self,
        nationality: &str,
        passport_number: &str,
        birth_date: time::Date,
    ) -> [u8; 16] {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.0);
        let msg = format!(
            "{nationality}|{passport_number}|{}",
            crate::domain::format_date(birth_date)
        );
        let tag = ring::hmac::sign(&key, msg.as_bytes());
        let mut out = [0u8; 16];
        out.copy_from_slice(&tag.as_ref()[..16]);
        out
    }
}

/// Read a private key file; `None` if it does not exist. Refuses group/other access.
fn read_private_file(path: &Path) -> Result<Option<Vec<u8>>, KeyError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path)(e)),
    };
    if let Some(mode) = crate::secret_file::too_open(&meta) {
        return Err(KeyError::InsecurePermissions {
            path: path.to_owned(),
            mode,
        });
    }
    std::fs::read(path).map(Some).map_err(io_err(path))
}

enum Written {
    Created,
    Exists,
}

/// Write `bytes` to `path` with mode 0600, atomically and without replacing an
/// existing file.
fn write_private_file(path: &Path, bytes: &[u8]) -> Result<Written, KeyError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let mut suffix = [0u8; 8];
    SystemRandom::new()
        .fill(&mut suffix)
        .map_err(|_| KeyError::Rng)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "key".into());
    let tmp = dir.join(format!(".{file_name}.{}.tmp", hex::encode(suffix)));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io_err(&tmp))?;
        f.write_all(bytes).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
        match std::fs::hard_link(&tmp, path) {
            Ok(()) => {
                // Make the new name durable; failure here is not fatal to correctness.
                if let Ok(d) = std::fs::File::open(&dir) {
                    let _ = d.sync_all();
                }
                Ok(Written::Created)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Written::Exists),
            Err(e) => Err(io_err(path)(e)),
        }
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}
