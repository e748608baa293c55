//! Kiosk configuration: `EGATE_*` environment variables with single-machine defaults.

use shared::issuer::{Validity, ValidityError};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default idle timeout of a passenger session.
pub const DEFAULT_IDLE_SECS: u64 = 120;

/// Everything the kiosk needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address (`EGATE_KIOSK_ADDR`, default `127.0.0.1:8082`).
    pub addr: SocketAddr,
    /// Internal listen address, the only one serving `/v1/internal/*` (gates' use and
    /// presentation reports): `EGATE_KIOSK_INTERNAL_ADDR`, default `127.0.0.1:8085`.
    pub internal_addr: SocketAddr,
    /// Data directory (`EGATE_DATA_DIR`, default `./data`): `binding.key` and `kiosk/`.
    pub data_dir: PathBuf,
    /// Terminal id (`EGATE_KIOSK_TERMINAL_ID`, default `T1`); the issuer is `kiosk:<id>`.
    pub terminal_id: String,
    /// Inactivity after which a session is wiped (`EGATE_KIOSK_IDLE_SECS`, default 120).
    pub idle: Duration,
    /// A replacement rules profile (`EGATE_RULES_PROFILE`), else the embedded JP-2026.
    pub rules_profile: Option<PathBuf>,
    /// How often idle sessions are swept.
    pub sweep_every: Duration,
    /// How often the key directory is re-read to pick up an operator's rotation
    /// (`EGATE_KEY_RELOAD_SECS`, default 60, 1 to 3600).
    pub key_reload_every: Duration,
    /// The verifier (SHA-256) of the gate's use-report key
    /// (`EGATE_USE_REPORT_VERIFIER`, 64 hex characters), else the
    /// `$EGATE_DATA_DIR/use-report.verifier` file. The kiosk holds no key of the gate's:
    /// a leftover `gate-api.key` is not read (docs/trust.md).
    pub use_report_verifier: Option<shared::service_keys::Verifier>,
    /// How long tokens live (`EGATE_TOKEN_GRACE_HOURS`, `EGATE_TOKEN_MAX_DAYS`: the same
    /// variables and defaults as mobile-api's).
    pub token_validity: Validity,
    /// HTTPS: certificate and key PEM files (`EGATE_TLS_CERT`, `EGATE_TLS_KEY`); plain
    /// HTTP when unset.
    pub tls: Option<shared::tls::TlsFiles>,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable is malformed or out of range.
    #[error("{0}")]
    Invalid(&'static str),
    /// The token validity is out of range.
    #[error(transparent)]
    Validity(#[from] ValidityError),
}

impl Config {
    /// Read the configuration from `EGATE_*` variables.
    pub fn from_env() -> Result<Config, ConfigError> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let addr = var("EGATE_KIOSK_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8082".into())
            .parse()
            .map_err(|_| ConfigError::Invalid("failed to parse EGATE_KIOSK_ADDR"))?;
        let data_dir = PathBuf::from(var("EGATE_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let terminal_id = var("EGATE_KIOSK_TERMINAL_ID").unwrap_or_else(|| "T1".into());
        validate_terminal_id(&terminal_id)?;
        let idle_secs = match var("EGATE_KIOSK_IDLE_SECS") {
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (10..=3600).contains(n))
                .ok_or(ConfigError::Invalid(
                    "failed to parse EGATE_KIOSK_IDLE_SECS (10 to 3600 seconds)",
                ))?,
            None => DEFAULT_IDLE_SECS,
        };
        let key_reload_secs = match var("EGATE_KEY_RELOAD_SECS") {
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=3600).contains(n))
                .ok_or(ConfigError::Invalid(
                    "failed to parse EGATE_KEY_RELOAD_SECS (1 to 3600 seconds)",
                ))?,
            None => 60,
        };
        if var("EGATE_GATE_API_KEY").is_some() {
            return Err(ConfigError::Invalid(
                shared::service_keys::RETIRED_GATE_API_KEY,
            ));
        }
        let internal_addr = var("EGATE_KIOSK_INTERNAL_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8085".into())
            .parse()
            .map_err(|_| ConfigError::Invalid("failed to parse EGATE_KIOSK_INTERNAL_ADDR"))?;
        let use_report_verifier =
            shared::service_keys::verifier_from_env(shared::service_keys::Purpose::UseReport)
                .map_err(|_| {
                    ConfigError::Invalid("EGATE_USE_REPORT_VERIFIER must be 64 hex characters")
                })?;
        Ok(Config {
            addr,
            internal_addr,
            data_dir,
            terminal_id,
            idle: Duration::from_secs(idle_secs),
            rules_profile: var("EGATE_RULES_PROFILE").map(PathBuf::from),
            sweep_every: Duration::from_secs(5),
            key_reload_every: Duration::from_secs(key_reload_secs),
            use_report_verifier,
            token_validity: Validity::from_env()?,
            tls: shared::tls::TlsFiles::from_env().map_err(|_| {
                ConfigError::Invalid("set both EGATE_TLS_CERT and EGATE_TLS_KEY, or neither")
            })?,
        })
    }

    /// A configuration for tests: port 0, data under `data_dir`, default timeouts.
    pub fn for_tests(data_dir: &Path) -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            internal_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.to_owned(),
            terminal_id: "T1".into(),
            idle: Duration::from_secs(DEFAULT_IDLE_SECS),
            rules_profile: None,
            sweep_every: Duration::from_secs(1),
            key_reload_every: Duration::from_secs(60),
            use_report_verifier: None,
            token_validity: Validity::default(),
            tls: None,
        }
    }

    /// The issuer id written into tokens: `kiosk:<terminal-id>`.
    pub fn issuer_id(&self) -> String {
        format!("kiosk:{}", self.terminal_id)
    }

    /// The kiosk's own directory under the data directory.
    pub fn kiosk_dir(&self) -> PathBuf {
        self.data_dir.join("kiosk")
    }

    /// The signing keys' directory.
    pub fn key_dir(&self) -> PathBuf {
        self.kiosk_dir().join("keys")
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.kiosk_dir().join("kiosk.db")
    }

    /// The shared passport-binding key file (the gate holds the same key).
    pub fn binding_key_path(&self) -> PathBuf {
        self.data_dir.join("binding.key")
    }
}

/// A terminal id: 1–32 characters `A–Z a–z 0–9 - _` (it ends up in every token).
fn validate_terminal_id(id: &str) -> Result<(), ConfigError> {
    let ok = (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Invalid(
            "EGATE_KIOSK_TERMINAL_ID must be 1 to 32 characters A-Z, a-z, 0-9, - or _",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuer_id_is_kiosk_and_the_terminal_id() {
        let c = Config::for_tests(Path::new("/tmp/x"));
        assert_eq!(c.issuer_id(), "kiosk:T1");
        assert!(validate_terminal_id("T-01").is_ok());
        assert!(validate_terminal_id("T 01").is_err());
        assert!(validate_terminal_id("").is_err());
    }
}
