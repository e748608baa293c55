//! Per-purpose credentials between services (docs/trust.md, "The parties and their
//! secrets"): one bearer key per job, held by the gate only; the issuers hold
//! **verifiers** (the SHA-256 of a key), never the key.
//!
//! - [`Purpose::UseReport`]: the gate's reports to an issuer (token uses and case
//!   presentations, `POST /v1/internal/uses|presentations`). Every issuer holds its
//!   verifier.
//! - [`Purpose::DeclarationRead`]: the officer console's read of a full declaration
//!   (`GET /v1/internal/declarations/{id}` at mobile-api). Only mobile-api holds its
//!   verifier.
//!
//! Decisions:
//! - A verifier is not a secret in the cryptographic sense (a 256-bit random key cannot
//!   be found from its hash), so a kiosk in a public hall that loses its disk loses no
//!   credential; the file is still written 0600 ([`crate::secret_file`]) like every key
//!   file, so one rule covers the data directory.
//! - The presented key is hashed and the hashes compared in constant time.
//! - The gate creates both keys when missing and writes their verifiers next to the
//!   issuers' files in the same data directory (one machine, `egate up`); on separate
//!   machines the operator copies the verifier files (or sets the `…_VERIFIER`
//!   variables). An issuer that starts before any verifier exists re-reads the file at
//!   the next internal request, so the start order of the services does not matter.

use crate::feed::{MIN_API_KEY_LEN, bearer};
use axum::http::HeaderMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

/// What a key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Use and presentation reports, gate → every issuer.
    UseReport,
    /// The console's read of a full declaration, gate → mobile-api.
    DeclarationRead,
}

impl Purpose {
    /// The key file under the data directory (the gate's own directory).
    pub fn key_file(self) -> &'static str {
        match self {
            Purpose::UseReport => "gate/use-report.key",
            Purpose::DeclarationRead => "gate/declaration-read.key",
        }
    }

    /// The verifier file under the data directory (read by the issuers).
    pub fn verifier_file(self) -> &'static str {
        match self {
            Purpose::UseReport => "use-report.verifier",
            Purpose::DeclarationRead => "declaration-read.verifier",
        }
    }

    /// The variable that gives the gate the key directly.
    pub fn key_env(self) -> &'static str {
        match self {
            Purpose::UseReport => "EGATE_USE_REPORT_KEY",
            Purpose::DeclarationRead => "EGATE_DECLARATION_READ_KEY",
        }
    }

    /// The variable that gives an issuer the verifier directly (64 hex characters).
    pub fn verifier_env(self) -> &'static str {
        match self {
            Purpose::UseReport => "EGATE_USE_REPORT_VERIFIER",
            Purpose::DeclarationRead => "EGATE_DECLARATION_READ_VERIFIER",
        }
    }

    /// For messages.
    pub fn label(self) -> &'static str {
        match self {
            Purpose::UseReport => "use-report key",
            Purpose::DeclarationRead => "declaration-read key",
        }
    }
}

/// A bearer key the gate presents; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceKey(String);

impl std::fmt::Debug for ServiceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServiceKey(<redacted>)")
    }
}

impl ServiceKey {
    /// A key given in the configuration: at least [`MIN_API_KEY_LEN`] characters.
    pub fn new(key: &str) -> Option<ServiceKey> {
        let key = key.trim();
        (key.len() >= MIN_API_KEY_LEN).then(|| ServiceKey(key.to_owned()))
    }

    /// The key, for an `Authorization: Bearer` header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Its verifier.
    pub fn verifier(&self) -> Verifier {
        Verifier::of(self.0.as_bytes())
    }
}

/// The SHA-256 of a key: what an issuer holds to check it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Verifier([u8; 32]);

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Verifier({})", self.to_hex())
    }
}

impl Verifier {
    fn of(key: &[u8]) -> Verifier {
        let d = ring::digest::digest(&ring::digest::SHA256, key);
        let mut b = [0u8; 32];
        b.copy_from_slice(d.as_ref());
        Verifier(b)
    }

    /// From 64 hex characters.
    pub fn from_hex(s: &str) -> Option<Verifier> {
        let b = hex::decode(s.trim()).ok()?;
        Some(Verifier(b.try_into().ok()?))
    }

    /// As 64 hex characters (the file's content).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Whether `key` is the key this verifier was made from (constant-time compare of
    /// the hashes).
    pub fn accepts(&self, key: &str) -> bool {
        !key.is_empty() && crate::web::ct_eq(&Verifier::of(key.as_bytes()).0, &self.0)
    }
}

/// Read the gate's key for `purpose` from `data_dir`, or create it (32 random bytes as
/// hex, 0600), and write its verifier file when missing. A verifier file that does not
/// match the key is left alone and logged: the issuers reading it refuse this gate.
pub fn load_or_create_key(data_dir: &Path, purpose: Purpose) -> std::io::Result<ServiceKey> {
    let path = data_dir.join(purpose.key_file());
    let key = crate::feed::load_or_create_api_key(&path)?;
    let key = ServiceKey(key);
    write_verifier(data_dir, purpose, &key)?;
    Ok(key)
}

/// Write the verifier file of `key` when it does not exist yet.
pub fn write_verifier(data_dir: &Path, purpose: Purpose, key: &ServiceKey) -> std::io::Result<()> {
    let path = data_dir.join(purpose.verifier_file());
    let hex = key.verifier().to_hex();
    match crate::secret_file::create_private(&path, hex.as_bytes()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let on_disk = read_verifier_file(&path)?;
            if on_disk != Some(key.verifier()) {
                tracing::warn!(
                    path = %path.display(),
                    purpose = purpose.label(),
                    "the verifier file does not match this gate's key: issuers reading it refuse this gate"
                );
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

fn read_verifier_file(path: &Path) -> std::io::Result<Option<Verifier>> {
    // Another process may be writing it this instant: an empty file reads as absent.
    let text = crate::secret_file::read_private_to_string(path)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    Verifier::from_hex(&text).map(Some).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} must hold 64 hex characters", path.display()),
        )
    })
}

/// Where an issuer gets a verifier: the configured one, or the data directory's file,
/// re-read until found.
#[derive(Debug)]
pub struct VerifierSource {
    purpose: Purpose,
    path: PathBuf,
    loaded: RwLock<Option<Verifier>>,
}

impl VerifierSource {
    /// From the configuration (`configured`, e.g. from the `…_VERIFIER` variable) or the
    /// file of `purpose` under `data_dir`. A file present but unreadable or too open is an
    /// error (the service does not start); a missing file is not.
    pub fn open(
        data_dir: &Path,
        purpose: Purpose,
        configured: Option<Verifier>,
    ) -> std::io::Result<VerifierSource> {
        let path = data_dir.join(purpose.verifier_file());
        let loaded = match configured {
            Some(v) => Some(v),
            None => match read_verifier_file(&path) {
                Ok(v) => v,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(e),
            },
        };
        if loaded.is_none() {
            tracing::warn!(
                path = %path.display(),
                purpose = purpose.label(),
                "no verifier yet: requests with this key are refused until the file exists"
            );
        }
        Ok(VerifierSource {
            purpose,
            path,
            loaded: RwLock::new(loaded),
        })
    }

    /// A source that accepts exactly `key` (tests).
    pub fn for_key(purpose: Purpose, key: &ServiceKey) -> VerifierSource {
        VerifierSource {
            purpose,
            path: PathBuf::new(),
            loaded: RwLock::new(Some(key.verifier())),
        }
    }

    fn current(&self) -> Option<Verifier> {
        if let Some(v) = self.loaded.read().ok().and_then(|g| *g) {
            return Some(v);
        }
        if self.path.as_os_str().is_empty() {
            return None;
        }
        match read_verifier_file(&self.path) {
            Ok(Some(v)) => {
                tracing::info!(purpose = self.purpose.label(), "verifier loaded");
                if let Ok(mut g) = self.loaded.write() {
                    *g = Some(v);
                }
                Some(v)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::debug!(error = %e, "verifier not readable yet");
                None
            }
        }
    }

    /// Whether the request carries, as its bearer token, the key this source verifies.
    pub fn accepts(&self, headers: &HeaderMap) -> bool {
        match (bearer(headers), self.current()) {
            (Some(key), Some(v)) => v.accepts(key),
            _ => false,
        }
    }
}

/// A verifier from the variable of `purpose` (64 hex characters) if set.
pub fn verifier_from_env(purpose: Purpose) -> Result<Option<Verifier>, String> {
    match std::env::var(purpose.verifier_env()) {
        Ok(v) if !v.trim().is_empty() => Verifier::from_hex(&v)
            .map(Some)
            .ok_or_else(|| format!("{} must be 64 hex characters", purpose.verifier_env())),
        _ => Ok(None),
    }
}

/// The refusal of the retired single key's variable, naming its replacements.
pub const RETIRED_GATE_API_KEY: &str = "EGATE_GATE_API_KEY is no longer read: one key per purpose \
     replaces it (gate: EGATE_USE_REPORT_KEY and EGATE_DECLARATION_READ_KEY; issuers: \
     EGATE_USE_REPORT_VERIFIER and EGATE_DECLARATION_READ_VERIFIER; see docs/trust.md)";

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;
    use std::os::unix::fs::PermissionsExt as _;

    fn with_bearer(k: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            format!("Bearer {k}").parse().unwrap(),
        );
        h
    }

    #[test]
    fn the_gate_creates_each_key_and_its_verifier_0600_and_the_issuer_checks_only_that_key() {
        let dir = tempfile::tempdir().unwrap();
        let uses = load_or_create_key(dir.path(), Purpose::UseReport).unwrap();
        let reads = load_or_create_key(dir.path(), Purpose::DeclarationRead).unwrap();
        assert_ne!(uses, reads);
        assert_eq!(
            load_or_create_key(dir.path(), Purpose::UseReport).unwrap(),
            uses
        );
        for p in [Purpose::UseReport, Purpose::DeclarationRead] {
            for f in [p.key_file(), p.verifier_file()] {
                let mode = std::fs::metadata(dir.path().join(f))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{f}");
            }
        }
        let verifier_text =
            std::fs::read_to_string(dir.path().join(Purpose::UseReport.verifier_file())).unwrap();
        assert!(!verifier_text.contains(uses.expose()));
        let src = VerifierSource::open(dir.path(), Purpose::UseReport, None).unwrap();
        assert!(src.accepts(&with_bearer(uses.expose())));
        assert!(!src.accepts(&with_bearer(reads.expose())));
        assert!(!src.accepts(&HeaderMap::new()));
        assert!(!src.accepts(&with_bearer(&verifier_text)));
    }

    #[test]
    fn an_issuer_started_first_picks_up_the_verifier_later() {
        let dir = tempfile::tempdir().unwrap();
        let src = VerifierSource::open(dir.path(), Purpose::DeclarationRead, None).unwrap();
        let key = load_or_create_key(dir.path(), Purpose::DeclarationRead).unwrap();
        assert!(src.accepts(&with_bearer(key.expose())));
    }

    #[test]
    fn keys_never_show_in_debug_output_and_short_keys_are_refused() {
        let k = ServiceKey::new(&"s3cr3t-".repeat(8)).unwrap();
        assert!(!format!("{k:?}").contains("s3cr3t"));
        assert!(ServiceKey::new("short").is_none());
        assert_eq!(
            Verifier::from_hex(&k.verifier().to_hex()),
            Some(k.verifier())
        );
        assert!(Verifier::from_hex("abc").is_none());
    }
}
