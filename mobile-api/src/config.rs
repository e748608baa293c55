//! Configuration from `EGATE_*` environment variables, with defaults that run on one
//! machine out of the box, and [`Config::for_tests`] for in-process tests.

use shared::clock::SharedClock;
use shared::issuer::Validity;
use shared::service_keys::{Purpose, Verifier};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The service's configuration.
#[derive(Clone)]
pub struct Config {
    /// Listen address (`EGATE_MOBILE_API_ADDR`, default `127.0.0.1:8080`).
    pub addr: SocketAddr,
    /// Internal listen address, the only one serving `/v1/internal/*` (the gate's
    /// reports and declaration reads): `EGATE_MOBILE_API_INTERNAL_ADDR`, default
    /// `127.0.0.1:8084`.
    pub internal_addr: SocketAddr,
    /// Data directory (`EGATE_DATA_DIR`, default `./data`); this service keeps its files
    /// under `mobile-api/`, and reads the shared `binding.key` and the verifiers of the
    /// gate's keys (`use-report.verifier`, `declaration-read.verifier`).
    pub data_dir: PathBuf,
    /// How long tokens live: the grace after the end of the arrival date
    /// (`EGATE_TOKEN_GRACE_HOURS`, default 24) and the longest validity from issue, also
    /// how far ahead an arrival date may be (`EGATE_TOKEN_MAX_DAYS`, default 30).
    pub token_validity: Validity,
    /// Declaration creations and estimates per client address per minute
    /// (`EGATE_RATE_LIMIT_PER_MINUTE`, default 30).
    pub rate_limit_per_minute: u32,
    /// Revisions and erasures (PUT, DELETE) per client address per minute
    /// (`EGATE_EDIT_RATE_LIMIT_PER_MINUTE`, default 60).
    pub edit_rate_limit_per_minute: u32,
    /// Revisions and erasures of one declaration per minute
    /// (`EGATE_EDIT_RATE_LIMIT_PER_DECLARATION_PER_MINUTE`, default 10).
    pub edit_rate_limit_per_declaration_per_minute: u32,
    /// Days after the arrival date at which personal data is erased
    /// (`EGATE_RETENTION_DAYS`, default 30).
    pub retention_days: i64,
    /// How often the retention purge runs (1 hour).
    pub purge_interval: Duration,
    /// How often the key ring is re-read to pick up an operator's rotation
    /// (`EGATE_KEY_RELOAD_SECS`, default 60, 1 to 3600; `egate rotate-key` derives its
    /// default publication lead from it).
    pub key_reload_interval: Duration,
    /// Whether [`crate::build`] starts the background tasks (retention purge, key
    /// reload, rate-limit housekeeping). `egate purge` turns them off to purge alone.
    pub background_tasks: bool,
    /// A replacement rules profile (`EGATE_RULES_PROFILE`, a TOML file path).
    pub rules_profile: Option<PathBuf>,
    /// The verifier of the gate's use-report key (`EGATE_USE_REPORT_VERIFIER`, 64 hex
    /// characters); when unset, `$EGATE_DATA_DIR/use-report.verifier`.
    pub use_report_verifier: Option<Verifier>,
    /// The verifier of the gate's declaration-read key
    /// (`EGATE_DECLARATION_READ_VERIFIER`); when unset,
    /// `$EGATE_DATA_DIR/declaration-read.verifier`.
    pub declaration_read_verifier: Option<Verifier>,
    /// The source of time.
    pub clock: SharedClock,
    /// HTTPS: certificate and key PEM files (`EGATE_TLS_CERT`, `EGATE_TLS_KEY`); plain
    /// HTTP when unset.
    pub tls: Option<shared::tls::TlsFiles>,
    /// PostgreSQL instead of the SQLite file (`EGATE_DATABASE_URL=postgres://…`;
    /// docs/storage.md): declarations, tokens and the feed in one database that any
    /// number of instances share. Unset: SQLite under the data directory.
    pub database_url: Option<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("data_dir", &self.data_dir)
            // Never the URL itself: it may carry a password.
            .field(
                "database",
                &if self.database_url.is_some() {
                    "postgres"
                } else {
                    "sqlite"
                },
            )
            .field("token_validity", &self.token_validity)
            .field("rate_limit_per_minute", &self.rate_limit_per_minute)
            .field(
                "edit_rate_limit_per_minute",
                &self.edit_rate_limit_per_minute,
            )
            .field(
                "edit_rate_limit_per_declaration_per_minute",
                &self.edit_rate_limit_per_declaration_per_minute,
            )
            .field("retention_days", &self.retention_days)
            .field("rules_profile", &self.rules_profile)
            .field("internal_addr", &self.internal_addr)
            .field("use_report_verifier", &self.use_report_verifier)
            .field("declaration_read_verifier", &self.declaration_read_verifier)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable does not parse or is out of range.
    #[error("{name}={value:?} is invalid: {why}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What it held.
        value: String,
        /// Why it is refused.
        why: String,
    },
    /// The token validity is out of range.
    #[error(transparent)]
    Validity(#[from] shared::issuer::ValidityError),
}

fn env_parse<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse::<T>().map_err(|e| ConfigError::Invalid {
            name,
            why: e.to_string(),
            value: v,
        }),
        _ => Ok(default),
    }
}

/// `Ok` when `ok`, else the variable `name` holding `value` is refused because `why`.
fn ensure(
    ok: bool,
    name: &'static str,
    value: impl ToString,
    why: &str,
) -> Result<(), ConfigError> {
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            name,
            value: value.to_string(),
            why: why.to_owned(),
        })
    }
}

impl Config {
    /// Read the configuration from the environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        let addr = env_parse(
            "EGATE_MOBILE_API_ADDR",
            SocketAddr::from(([127, 0, 0, 1], 8080)),
        )?;
        let data_dir =
            PathBuf::from(std::env::var("EGATE_DATA_DIR").unwrap_or_else(|_| "./data".to_owned()));
        let token_validity = Validity::from_env()?;
        let rate_limit_per_minute = env_parse("EGATE_RATE_LIMIT_PER_MINUTE", 30u32)?;
        let retention_days = env_parse("EGATE_RETENTION_DAYS", 30i64)?;
        let key_reload_secs = env_parse("EGATE_KEY_RELOAD_SECS", 60u64)?;
        ensure(
            (1..=3600).contains(&key_reload_secs),
            "EGATE_KEY_RELOAD_SECS",
            key_reload_secs,
            "must be 1 to 3600",
        )?;
        let edit_rate_limit_per_minute = env_parse("EGATE_EDIT_RATE_LIMIT_PER_MINUTE", 60u32)?;
        ensure(
            edit_rate_limit_per_minute >= 1,
            "EGATE_EDIT_RATE_LIMIT_PER_MINUTE",
            edit_rate_limit_per_minute,
            "must be at least 1",
        )?;
        let edit_rate_limit_per_declaration_per_minute =
            env_parse("EGATE_EDIT_RATE_LIMIT_PER_DECLARATION_PER_MINUTE", 10u32)?;
        ensure(
            edit_rate_limit_per_declaration_per_minute >= 1,
            "EGATE_EDIT_RATE_LIMIT_PER_DECLARATION_PER_MINUTE",
            edit_rate_limit_per_declaration_per_minute,
            "must be at least 1",
        )?;
        ensure(
            rate_limit_per_minute >= 1,
            "EGATE_RATE_LIMIT_PER_MINUTE",
            rate_limit_per_minute,
            "must be at least 1",
        )?;
        ensure(
            (1..=3650).contains(&retention_days),
            "EGATE_RETENTION_DAYS",
            retention_days,
            "must be 1 to 3650",
        )?;
        let rules_profile = std::env::var("EGATE_RULES_PROFILE")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .map(PathBuf::from);
        ensure(
            std::env::var("EGATE_GATE_API_KEY").map_or(true, |v| v.trim().is_empty()),
            "EGATE_GATE_API_KEY",
            "<redacted>",
            shared::service_keys::RETIRED_GATE_API_KEY,
        )?;
        let internal_addr = env_parse(
            "EGATE_MOBILE_API_INTERNAL_ADDR",
            SocketAddr::from(([127, 0, 0, 1], 8084)),
        )?;
        let verifier = |p: Purpose| {
            shared::service_keys::verifier_from_env(p).map_err(|why| ConfigError::Invalid {
                name: p.verifier_env(),
                value: "<redacted>".into(),
                why,
            })
        };
        let use_report_verifier = verifier(Purpose::UseReport)?;
        let declaration_read_verifier = verifier(Purpose::DeclarationRead)?;
        let database_url = std::env::var("EGATE_DATABASE_URL")
            .ok()
            .filter(|s| !s.trim().is_empty());
        ensure(
            database_url
                .as_deref()
                .is_none_or(shared::pg::is_postgres_url),
            "EGATE_DATABASE_URL",
            "<redacted>",
            "must be a postgres:// or postgresql:// URL (unset: SQLite under EGATE_DATA_DIR)",
        )?;
        Ok(Config {
            database_url,
            addr,
            internal_addr,
            data_dir,
            token_validity,
            rate_limit_per_minute,
            edit_rate_limit_per_minute,
            edit_rate_limit_per_declaration_per_minute,
            retention_days,
            purge_interval: Duration::from_secs(3600),
            key_reload_interval: Duration::from_secs(key_reload_secs),
            background_tasks: true,
            rules_profile,
            use_report_verifier,
            declaration_read_verifier,
            clock: shared::clock::system(),
            tls: shared::tls::TlsFiles::from_env().map_err(|e| ConfigError::Invalid {
                name: "EGATE_TLS_CERT",
                value: "<files>".into(),
                why: e.to_string(),
            })?,
        })
    }

    /// Configuration for in-process tests: data in `data_dir`, port 0, a generous rate
    /// limit, the system clock (replace `clock` to move time).
    pub fn for_tests(data_dir: &Path) -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            internal_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.to_owned(),
            token_validity: Validity::default(),
            rate_limit_per_minute: 10_000,
            edit_rate_limit_per_minute: 10_000,
            edit_rate_limit_per_declaration_per_minute: 10_000,
            retention_days: 30,
            purge_interval: Duration::from_secs(3600),
            key_reload_interval: Duration::from_secs(60),
            background_tasks: true,
            rules_profile: None,
            use_report_verifier: None,
            declaration_read_verifier: None,
            database_url: None,
            clock: shared::clock::system(),
            tls: None,
        }
    }

    /// This service's own directory under the data directory.
    pub fn service_dir(&self) -> PathBuf {
        self.data_dir.join("mobile-api")
    }

    /// The issuer id written in every token (`iss`) and JWK.
    pub fn issuer_id(&self) -> &'static str {
        "mobile-api"
    }

    /// The signing keys' directory.
    pub fn key_dir(&self) -> PathBuf {
        self.service_dir().join("keys")
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.service_dir().join("mobile-api.db")
    }

    /// The shared passport-binding key file (the gate holds the same key).
    pub fn binding_key_path(&self) -> PathBuf {
        self.data_dir.join("binding.key")
    }
}
