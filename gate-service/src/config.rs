//! Configuration of the gate service, from `EGATE_*` environment variables with defaults
//! that work on one machine.

use shared::service_keys::{Purpose, ServiceKey};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Default listening address of the gate service (the device API).
pub const DEFAULT_ADDR: &str = "127.0.0.1:8081";
/// Default listening address of the officer console.
pub const DEFAULT_CONSOLE_ADDR: &str = "127.0.0.1:8083";
/// Default trusted issuers on one machine.
pub const DEFAULT_ISSUERS: &str = "mobile-api=http://127.0.0.1:8080;internal=http://127.0.0.1:8084,\
     kiosk:T1=http://127.0.0.1:8082;internal=http://127.0.0.1:8085";

/// One trusted issuer: its id (the token's `iss`) and where its keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerConfig {
    /// Issuer id, e.g. `mobile-api`, `kiosk:T1`; tokens under its keys must carry it as `iss`.
    pub id: String,
    /// Base URL of the issuer (`{url}/v1/trust-list`, `{url}/v1/revocations`), e.g.
    /// `http://127.0.0.1:8080`.
    pub base_url: Option<String>,
    /// Base URL of the issuer's internal listener (`;internal=URL` after the source):
    /// where use and presentation reports go (`{url}/v1/internal/uses|presentations`)
    /// and, for mobile-api, the console's declaration reads. Without it the gate reports
    /// nothing to this issuer and reads no declaration from it.
    pub internal_url: Option<String>,
    /// A JWKS file, when the keys are installed as a file instead of fetched.
    pub jwks_file: Option<PathBuf>,
}

impl IssuerConfig {
    /// Parse `id=source[;internal=url]` (source: an `http(s)://` base URL or a JWKS file
    /// path; the internal URL: the issuer's internal listener).
    pub fn parse(spec: &str) -> Result<IssuerConfig, IssuerSpecError> {
        let refused = || IssuerSpecError {
            spec: spec.to_owned(),
        };
        let is_web = |s: &str| s.starts_with("http://") || s.starts_with("https://");
        let (id, rest) = spec.split_once('=').ok_or_else(refused)?;
        let (source, internal) = match rest.split_once(';') {
            Some((source, internal)) => {
                let url = internal
                    .trim()
                    .strip_prefix("internal=")
                    .map(str::trim)
                    .filter(|u| is_web(u))
                    .ok_or_else(refused)?;
                (source, Some(url.trim_end_matches('/').to_owned()))
            }
            None => (rest, None),
        };
        let (id, source) = (id.trim(), source.trim());
        if id.is_empty() || id.len() > 64 || source.is_empty() {
            return Err(refused());
        }
        let web = is_web(source);
        if !plain_http_only_to_loopback(source)
            || !internal.as_deref().is_none_or(plain_http_only_to_loopback)
        {
            return Err(refused());
        }
        Ok(IssuerConfig {
            id: id.to_owned(),
            internal_url: internal,
            base_url: web.then(|| source.trim_end_matches('/').to_owned()),
            jwks_file: (!web).then(|| PathBuf::from(source)),
        })
    }

    /// Parse a comma-separated list of `id=source`.
    pub fn parse_list(list: &str) -> Result<Vec<IssuerConfig>, IssuerSpecError> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(IssuerConfig::parse)
            .collect()
    }
}

/// Whether `url` is `https://`, or `http://` to a loopback host (docs/trust.md: plain
/// HTTP to an issuer only on one machine). Anything not a URL passes (a file).
pub fn plain_http_only_to_loopback(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return true;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or_default()
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// An issuer that is not written `id=url-or-file`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "issuer `{spec}` must be written id=url-or-file or id=url-or-file;internal=url \
     (id of 1 to 64 characters; plain http:// only to a loopback address, otherwise https://)"
)]
pub struct IssuerSpecError {
    /// The refused entry, as written.
    pub spec: String,
}

/// A configuration the gate cannot start with: names the variable and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable that does not parse.
    #[error("{name}={value} is not valid: {why}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What it held.
        value: String,
        /// Why it does not parse.
        why: String,
    },
    /// A variable out of its range (its value is not repeated: it may be a secret).
    #[error("{name} must be {expected}")]
    OutOfRange {
        /// The variable.
        name: &'static str,
        /// What it must hold.
        expected: &'static str,
    },
    /// An entry of `EGATE_GATE_ISSUERS` is malformed.
    #[error("failed to parse EGATE_GATE_ISSUERS: {0}")]
    Issuers(#[from] IssuerSpecError),
    /// `EGATE_TLS_CERT` / `EGATE_TLS_KEY` set by halves.
    #[error(transparent)]
    Tls(#[from] shared::tls::TlsError),
}

/// Gate service configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `EGATE_DATA_DIR` (default `./data`); the gate keeps its files in `gate/` below it.
    pub data_dir: PathBuf,
    /// `EGATE_GATE_ADDR` (default `127.0.0.1:8081`).
    pub addr: SocketAddr,
    /// `EGATE_CONSOLE_ADDR` (default `127.0.0.1:8083`): the officer console's listener.
    pub console_addr: SocketAddr,
    /// `EGATE_USE_REPORT_KEY` (at least 32 characters): the key of the use and
    /// presentation reports to the issuers; when unset, `$EGATE_DATA_DIR/gate/use-report.key`,
    /// created if missing with its verifier `$EGATE_DATA_DIR/use-report.verifier`.
    pub use_report_key: Option<ServiceKey>,
    /// `EGATE_DECLARATION_READ_KEY` (at least 32 characters): the key of the console's
    /// declaration reads at mobile-api; when unset,
    /// `$EGATE_DATA_DIR/gate/declaration-read.key` (and its verifier), as above.
    pub declaration_read_key: Option<ServiceKey>,
    /// Mark console cookies `Secure`: always when HTTPS is on (`tls`), and when forced
    /// with `EGATE_SECURE_COOKIES=1` (HTTPS terminated by a proxy in front).
    pub secure_cookies: bool,
    /// HTTPS: certificate and key PEM files (`EGATE_TLS_CERT`, `EGATE_TLS_KEY`); plain
    /// HTTP when unset.
    pub tls: Option<shared::tls::TlsFiles>,

    /// `EGATE_GATE_ISSUERS`: trusted issuers (`id=url-or-file`, comma-separated).
    pub issuers: Vec<IssuerConfig>,
    /// `EGATE_GATE_ROOT_KEY` (base64url Ed25519 public key, or a file holding one;
    /// default: the file `$EGATE_DATA_DIR/gate/trust-root.pub` when present): the
    /// operator root key that signs every issuer's trust list (docs/trust.md). Without
    /// it no URL issuer's keys are trusted.
    pub root_key: Option<shared::token::signed_list::RootPublicKey>,
    /// `EGATE_GATE_REVOKED_KIDS`: revoked key ids (standard base64), in addition to the
    /// `revoked_kids` file in the gate data directory.
    pub revoked_kids: Vec<String>,
    /// `EGATE_GATE_REFRESH_SECS` (default 60): trust list, revocations and watch rules.
    pub refresh_secs: u64,
    /// `EGATE_GATE_FEED_WAIT_SECS` (default 20, at most 25; 0: off): how long each long
    /// poll of an issuer's feed asks the issuer to wait for a new entry (docs/trust.md).
    pub feed_wait_secs: u64,
    /// `EGATE_GATE_SKEW_SECS` (default 120): clock skew allowed on `exp` and `iat`.
    pub skew_secs: i64,
    /// `EGATE_GATE_SELECTION_RATE` (default 0.01): random selection rate, 0 to 1.
    pub selection_rate: f64,
    /// `EGATE_GATE_WATCHLIST` (default `$EGATE_DATA_DIR/gate/watchlist.toml`).
    pub watchlist_file: PathBuf,
    /// `EGATE_RETENTION_DAYS` (default 30): RED-case identity kept this long.
    pub retention_days: i64,
    /// `EGATE_RULES_PROFILE`: a rules profile TOML replacing the embedded JP-2026 one.
    pub rules_profile: Option<PathBuf>,
    /// Timeout of each HTTP request to an issuer, seconds (`EGATE_GATE_FETCH_TIMEOUT_SECS`, default 3).
    pub fetch_timeout_secs: u64,
    /// `EGATE_GATE_INSTANCE` (default `gate-service`): this instance's name in the use
    /// reports it sends to issuers.
    pub instance: String,
    /// `EGATE_GATE_SCAN_RATE` (default 5): scans a second per device.
    pub scan_rate_per_sec: u32,
    /// `EGATE_GATE_SCAN_BURST` (default 20): scans a device may make at once.
    pub scan_burst: u32,
    /// `EGATE_GATE_IMAGE_DECODES` (default 2): image scans read and decoded at once.
    pub image_decodes: usize,
    /// Whether [`crate::build`] starts the background refresh and purge tasks (tests
    /// turn them off and call [`crate::refresh_now`] / [`crate::purge_expired`]).
    pub background_tasks: bool,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn env_parse<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match env(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|e: T::Err| ConfigError::Invalid {
            name,
            why: e.to_string(),
            value: v,
        }),
    }
}

impl Config {
    /// Read the configuration from the environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        let data_dir = PathBuf::from(env("EGATE_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let addr: SocketAddr =
            env_parse("EGATE_GATE_ADDR", SocketAddr::from(([127, 0, 0, 1], 8081)))?;
        let issuers = IssuerConfig::parse_list(
            &env("EGATE_GATE_ISSUERS").unwrap_or_else(|| DEFAULT_ISSUERS.into()),
        )?;
        let revoked_kids = env("EGATE_GATE_REVOKED_KIDS")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let selection_rate: f64 = env_parse("EGATE_GATE_SELECTION_RATE", 0.01)?;
        if !(0.0..=1.0).contains(&selection_rate) {
            return Err(ConfigError::OutOfRange {
                name: "EGATE_GATE_SELECTION_RATE",
                expected: "between 0 and 1",
            });
        }
        let secure_cookies = matches!(
            env("EGATE_SECURE_COOKIES").as_deref().map(str::trim),
            Some("1" | "true" | "yes" | "on")
        );
        let mut c = Config::defaults(&data_dir);
        c.addr = addr;
        c.console_addr = env_parse(
            "EGATE_CONSOLE_ADDR",
            SocketAddr::from(([127, 0, 0, 1], 8083)),
        )?;
        c.tls = shared::tls::TlsFiles::from_env()?;
        c.secure_cookies = secure_cookies || c.tls.is_some();
        c.issuers = issuers;
        c.revoked_kids = revoked_kids;
        let default_root = c.root_key_path();
        c.root_key = match env("EGATE_GATE_ROOT_KEY") {
            Some(v) => Some(
                shared::token::signed_list::RootPublicKey::from_value_or_file(&v).map_err(
                    |why| ConfigError::Invalid {
                        name: "EGATE_GATE_ROOT_KEY",
                        value: v,
                        why,
                    },
                )?,
            ),
            None if default_root.exists() => Some(
                shared::token::signed_list::RootPublicKey::from_value_or_file(
                    &default_root.to_string_lossy(),
                )
                .map_err(|why| ConfigError::Invalid {
                    name: "EGATE_GATE_ROOT_KEY",
                    value: default_root.display().to_string(),
                    why,
                })?,
            ),
            None => None,
        };
        c.refresh_secs = env_parse("EGATE_GATE_REFRESH_SECS", 60u64)?.max(1);
        c.feed_wait_secs = env_parse("EGATE_GATE_FEED_WAIT_SECS", 20u64)?;
        if c.feed_wait_secs > shared::issuer::feed_wait::MAX_FEED_WAIT_SECS {
            return Err(ConfigError::Invalid {
                name: "EGATE_GATE_FEED_WAIT_SECS",
                value: c.feed_wait_secs.to_string(),
                why: format!(
                    "at most {} (seconds; 0 turns long polling off)",
                    shared::issuer::feed_wait::MAX_FEED_WAIT_SECS
                ),
            });
        }
        c.skew_secs = env_parse("EGATE_GATE_SKEW_SECS", 120i64)?.clamp(0, 86_400);
        c.selection_rate = selection_rate;
        if let Some(w) = env("EGATE_GATE_WATCHLIST") {
            c.watchlist_file = PathBuf::from(w);
        }
        c.retention_days = env_parse("EGATE_RETENTION_DAYS", 30i64)?.max(0);
        c.rules_profile = env("EGATE_RULES_PROFILE").map(PathBuf::from);
        c.fetch_timeout_secs = env_parse("EGATE_GATE_FETCH_TIMEOUT_SECS", 3u64)?.max(1);
        if env("EGATE_GATE_API_KEY").is_some() {
            return Err(ConfigError::Invalid {
                name: "EGATE_GATE_API_KEY",
                value: "<redacted>".into(),
                why: shared::service_keys::RETIRED_GATE_API_KEY.into(),
            });
        }
        for purpose in [Purpose::UseReport, Purpose::DeclarationRead] {
            let Some(k) = env(purpose.key_env()) else {
                continue;
            };
            let key = ServiceKey::new(&k).ok_or(ConfigError::OutOfRange {
                name: purpose.key_env(),
                expected: "at least 32 characters",
            })?;
            match purpose {
                Purpose::UseReport => c.use_report_key = Some(key),
                Purpose::DeclarationRead => c.declaration_read_key = Some(key),
            }
        }
        c.scan_rate_per_sec = env_parse("EGATE_GATE_SCAN_RATE", 5u32)?.max(1);
        c.scan_burst = env_parse("EGATE_GATE_SCAN_BURST", 20u32)?.max(1);
        c.image_decodes = env_parse("EGATE_GATE_IMAGE_DECODES", 2usize)?.clamp(1, 64);
        if let Some(name) = env("EGATE_GATE_INSTANCE") {
            let name = name.trim().to_owned();
            if name.len() > 64 || !name.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(ConfigError::OutOfRange {
                    name: "EGATE_GATE_INSTANCE",
                    expected: "1 to 64 printable ASCII characters without spaces",
                });
            }
            c.instance = name;
        }
        Ok(c)
    }

    fn defaults(data_dir: &Path) -> Config {
        Config {
            data_dir: data_dir.to_owned(),
            addr: SocketAddr::from(([127, 0, 0, 1], 8081)),
            console_addr: SocketAddr::from(([127, 0, 0, 1], 8083)),
            use_report_key: None,
            declaration_read_key: None,
            secure_cookies: false,
            tls: None,
            issuers: Vec::new(),
            revoked_kids: Vec::new(),
            root_key: None,
            refresh_secs: 60,
            feed_wait_secs: 20,
            skew_secs: 120,
            selection_rate: 0.01,
            watchlist_file: data_dir.join("gate").join("watchlist.toml"),
            retention_days: 30,
            rules_profile: None,
            fetch_timeout_secs: 3,
            instance: "gate-service".into(),
            scan_rate_per_sec: 5,
            scan_burst: 20,
            image_decodes: 2,
            background_tasks: true,
        }
    }

    /// Configuration for tests: data under `data_dir`, port 0, no issuers, no random
    /// selection, no background tasks.
    pub fn for_tests(data_dir: &Path) -> Config {
        let mut c = Config::defaults(data_dir);
        c.addr = SocketAddr::from(([127, 0, 0, 1], 0));
        c.console_addr = SocketAddr::from(([127, 0, 0, 1], 0));
        c.selection_rate = 0.0;
        // Tests scan in bulk from one device; the rate test sets its own limit.
        c.scan_rate_per_sec = 1_000_000;
        c.scan_burst = 1_000_000;
        c.background_tasks = false;
        c.fetch_timeout_secs = 1;
        c
    }

    /// The gate's own directory, `$EGATE_DATA_DIR/gate`.
    pub fn gate_dir(&self) -> PathBuf {
        self.data_dir.join("gate")
    }

    /// The database file, `$EGATE_DATA_DIR/gate/gate.db`.
    pub fn db_path(&self) -> PathBuf {
        self.gate_dir().join("gate.db")
    }

    /// The passport binding key, `$EGATE_DATA_DIR/binding.key` (shared with the issuers).
    pub fn binding_key_path(&self) -> PathBuf {
        self.data_dir.join("binding.key")
    }

    /// The risk-selection key, `$EGATE_DATA_DIR/gate/selection.key`.
    pub fn selection_key_path(&self) -> PathBuf {
        self.gate_dir().join("selection.key")
    }

    /// The operator root public key's default file, `$EGATE_DATA_DIR/gate/trust-root.pub`.
    pub fn root_key_path(&self) -> PathBuf {
        self.gate_dir().join("trust-root.pub")
    }

    /// The revoked key ids file, `$EGATE_DATA_DIR/gate/revoked_kids` (one per line).
    pub fn revoked_kids_path(&self) -> PathBuf {
        self.gate_dir().join("revoked_kids")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_specs_are_urls_or_files() {
        let list = IssuerConfig::parse_list(DEFAULT_ISSUERS).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].id, "kiosk:T1");
        assert_eq!(list[1].base_url.as_deref(), Some("http://127.0.0.1:8082"));
        assert_eq!(
            list[1].internal_url.as_deref(),
            Some("http://127.0.0.1:8085")
        );
        let plain = IssuerConfig::parse("m=https://a:1").unwrap();
        assert!(plain.internal_url.is_none());
        assert!(IssuerConfig::parse("m=https://a:1;internal=ftp://x").is_err());
        assert!(IssuerConfig::parse("m=https://a:1;http://b").is_err());
        let f = IssuerConfig::parse("x=/etc/jwks.json").unwrap();
        assert_eq!(f.jwks_file, Some(PathBuf::from("/etc/jwks.json")));
        assert!(f.base_url.is_none());
        assert!(IssuerConfig::parse("nosource").is_err());
        // Plain HTTP only to loopback.
        assert!(IssuerConfig::parse("m=http://10.0.0.5:8080").is_err());
        assert!(IssuerConfig::parse("m=https://issuer.example;internal=http://10.0.0.5").is_err());
        assert!(IssuerConfig::parse("m=http://[::1]:80;internal=http://localhost:1").is_ok());
        assert!(IssuerConfig::parse("m=https://issuer.example").is_ok());
        assert!(IssuerConfig::parse("=http://x").is_err());
        assert_eq!(
            ConfigError::from(IssuerConfig::parse_list("a=b,nosource").unwrap_err()).to_string(),
            "failed to parse EGATE_GATE_ISSUERS: issuer `nosource` must be written \
             id=url-or-file or id=url-or-file;internal=url (id of 1 to 64 characters; \
             plain http:// only to a loopback address, otherwise https://)"
        );
    }
}
