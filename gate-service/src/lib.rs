//! gate-service: what the E-Gate hardware calls when a passenger presents the QR and the
//! passport. It decides GREEN or RED offline, from the signed token, the passport MRZ,
//! its trust list, the rules profile and risk selection, and serves the
//! officer console of the red-lane counter under `/console` (docs/flows.md).
//!
//! - [`config`]: `EGATE_*` configuration;
//! - [`scan`]: the decision pipeline and its single write; [`case_record`]: what a RED
//!   scan keeps for the officer, typed; [`attempts`]: the refused-scan log and a token's
//!   misreads and mismatches;
//! - [`trust`]: issuer keys and revocations, refreshed in the background; [`follow`]:
//!   each issuer's feed pulled, and followed by long polling;
//! - [`selection`]: random draw and watch rules;
//! - [`routes`]: the HTTP API; [`answer`]: what a device is told; [`openapi`]: the
//!   device API's OpenAPI document; [`devices`]: device credentials (the scan API's
//!   `Authorization: Bearer`); [`scan_limits`]: per-device rate and image-decode cap;
//! - [`reports`]: used tokens reported to their issuers; [`restore`]: a gate started on
//!   a restored backup;
//! - [`db`]: the schema and the backup; [`tasks`]: background refresh, reports and
//!   retention purge.

pub mod answer;
pub mod attempts;
pub mod case_record;
pub mod cli;
pub mod config;
pub mod console;
pub mod db;
pub mod devices;
pub mod error;
pub mod feed_pages;
pub mod follow;
pub mod metrics;
pub mod openapi;
pub mod presentations;
pub mod reports;
pub mod restore;
pub mod routes;
pub mod scan;
pub mod scan_limits;
pub mod selection;
pub mod signed_lists;
pub mod tasks;
pub mod trust;

pub use config::{Config, ConfigError, IssuerConfig};
pub use error::StartError;
pub use reports::report_uses_now;
pub use tasks::{purge_expired, refresh_now};

use shared::clock::SharedClock;
use shared::db::Db;
use shared::rules::RulesProfile;
use shared::service_keys::{Purpose, ServiceKey};
use shared::token::BindingKey;
use std::sync::{Arc, Mutex};

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The gate's database (scans, cases, and the console's tables).
    pub db: Db,
    /// Time (tests inject a fixed clock).
    pub clock: SharedClock,
    /// Configuration.
    pub config: Arc<Config>,
    /// The gate's rules profile (it wins over the issuer's).
    pub profile: Arc<RulesProfile>,
    /// The trusted issuers.
    pub issuers: Arc<Vec<IssuerConfig>>,
    /// Trust list and revocations.
    pub trust: Arc<trust::TrustStore>,
    /// Passport binding key (shared with the issuers).
    pub binding_key: Arc<BindingKey>,
    /// Risk selection.
    pub selection: Arc<selection::Selection>,
    /// Scan counters.
    pub metrics: Arc<metrics::Metrics>,
    /// Background tasks, stopped by [`serve`] at shutdown.
    pub tasks: Arc<tasks::Tasks>,
    /// The secret presented to the issuers (use reports, the console's declaration read).
    pub service_keys: Arc<ServiceKeys>,
    /// Use reports to the issuers.
    pub reporter: Arc<reports::Reporter>,
    /// Whether this database is a restored backup still waiting for the issuers.
    pub restore: Arc<restore::RestoreGuard>,
    /// Keys the hash under which unknown user names of sign-in attempts are stored.
    pub login_name_key: Arc<ring::hmac::Key>,
    /// The scan API's per-device rate and image-decode cap.
    pub scan_limits: Arc<scan_limits::ScanLimits>,
    /// The scan API's device key lookup (its own read-only connection).
    pub device_keys: Arc<devices::KeyLookup>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("db", &self.db)
            .field("profile", &self.profile.id)
            .finish_non_exhaustive()
    }
}

/// Build the state with the system clock: open the database, load keys, load the trust
/// list (a failing issuer is logged, not fatal) and start the background tasks.
pub async fn build(config: Config) -> Result<AppState, StartError> {
    build_with_clock(config, shared::clock::system()).await
}

/// [`build`] with a chosen clock.
pub async fn build_with_clock(config: Config, clock: SharedClock) -> Result<AppState, StartError> {
    let cfg = config.clone();
    let now = clock.unix();
    let (db, binding_key, selection_key, profile, service_keys) =
        shared::offload::blocking(move || -> Result<_, StartError> {
            std::fs::create_dir_all(cfg.gate_dir()).map_err(|source| StartError::DataDir {
                path: cfg.gate_dir(),
                source,
            })?;
            let db = Db::open(&cfg.db_path(), db::MIGRATIONS).map_err(|source| StartError::Db {
                path: cfg.db_path(),
                source,
            })?;
            let binding_key = BindingKey::load_or_generate(&cfg.binding_key_path())
                .map_err(StartError::BindingKey)?;
            let selection_key = selection::load_or_generate_key(&cfg.selection_key_path())
                .map_err(StartError::SelectionKey)?;
            let service_keys = ServiceKeys::load(&cfg)?;
            // The profile's errors name its file.
            let profile = match &cfg.rules_profile {
                Some(p) => RulesProfile::load(p)?,
                None => RulesProfile::jp_2026(),
            };
            Ok((db, binding_key, selection_key, profile, service_keys))
        })
        .await
        .map_err(StartError::Task)??;
    let restore = db
        .write(move |c| -> Result<_, shared::db::DbError> {
            Ok(restore::RestoreGuard::load(c, now)?)
        })
        .await
        .map_err(StartError::RestoreState)?;
    // The watch rules can name people: refuse to start on a file others may read (the
    // refusal names the file and the chmod that fixes it).
    if config.watchlist_file.exists() {
        shared::secret_file::ensure_private(&config.watchlist_file)
            .map_err(StartError::Watchlist)?;
    }
    let selection = selection::Selection::new(
        &selection_key,
        config.selection_rate,
        &config.watchlist_file,
    );
    let trust = trust::TrustStore::new(&config.issuers, config.fetch_timeout_secs)
        .map_err(StartError::HttpClient)?;
    let state = AppState {
        db,
        clock,
        profile: Arc::new(profile),
        issuers: Arc::new(config.issuers.clone()),
        trust: Arc::new(trust),
        binding_key: Arc::new(binding_key),
        selection: Arc::new(selection),
        metrics: Arc::new(metrics::Metrics::default()),
        tasks: Arc::new(tasks::Tasks::default()),
        service_keys: Arc::new(service_keys),
        login_name_key: Arc::new(ring::hmac::Key::new(
            ring::hmac::HMAC_SHA256,
            ring::hmac::sign(
                &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &selection_key),
                b"egate console: unknown user names of sign-in attempts",
            )
            .as_ref(),
        )),
        reporter: Arc::new(reports::Reporter::default()),
        restore: Arc::new(restore),
        device_keys: Arc::new(devices::KeyLookup::open(&config.db_path()).map_err(|e| {
            StartError::Db {
                path: config.db_path(),
                source: e.into(),
            }
        })?),
        scan_limits: Arc::new(scan_limits::ScanLimits::new(
            config.scan_rate_per_sec,
            config.scan_burst,
            config.image_decodes,
        )),
        config: Arc::new(config),
    };
    match reports::settle_unreportable(&state).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            uses = n,
            "uses no configured issuer can take were marked reported"
        ),
        Err(e) => tracing::warn!(error = %e, "failed to settle unreportable uses"),
    }
    if let Err(e) = presentations::settle_unreportable(&state).await {
        tracing::warn!(error = %e, "failed to settle unreportable presentations");
    }
    if let Some(taken) = state.restore.backup_taken_at
        && state.restore.pending()
    {
        tracing::warn!(
            backup.taken_at = taken,
            restore.at = state.restore.restored_at,
            "this gate database is a restored backup: tokens issued before the restore go to the red lane until every issuer's revocations are pulled"
        );
    }
    refresh_now(&state).await;
    if state.config.background_tasks {
        tasks::start(&state);
    }
    Ok(state)
}

/// The device listener's application (the scan API, health, metrics).
pub fn build_app(state: AppState) -> axum::Router {
    routes::router(state)
}

/// The console listener's application (the officer console).
pub fn build_console_app(state: AppState) -> axum::Router {
    routes::console_router(state)
}

/// The two listeners of the gate: the devices' and the officers'.
#[derive(Debug)]
pub struct Listeners {
    /// The scan API (`EGATE_GATE_ADDR`).
    pub device: tokio::net::TcpListener,
    /// The officer console (`EGATE_CONSOLE_ADDR`).
    pub console: tokio::net::TcpListener,
}

impl Listeners {
    /// Bind both addresses of `config`.
    pub async fn bind(config: &Config) -> std::io::Result<Listeners> {
        let bind = |addr: std::net::SocketAddr| async move {
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| std::io::Error::new(e.kind(), format!("failed to bind {addr}: {e}")))
        };
        Ok(Listeners {
            device: bind(config.addr).await?,
            console: bind(config.console_addr).await?,
        })
    }
}

/// Serve on both already-bound listeners until `shutdown` completes; then stop the
/// background tasks and close the database.
pub async fn serve(
    listeners: Listeners,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    tracing::info!(
        device = ?listeners.device.local_addr().ok(),
        console = ?listeners.console.local_addr().ok(),
        "gate-service listening"
    );
    let tls = match &state.config.tls {
        Some(files) => Some(files.server_config().map_err(std::io::Error::other)?),
        None => None,
    };
    // Either listener ending (an accept error) stops the other too, as the signal does.
    let stop_tx = std::sync::Arc::new(stop_tx);
    let serve_one = |listener, app, tls, stop: std::sync::Arc<tokio::sync::watch::Sender<bool>>| {
        let rx = stop.subscribe();
        async move {
            let served = shared::tls::serve(listener, app, tls, stopped(rx)).await;
            let _ = stop.send(true);
            served
        }
    };
    let device = serve_one(
        listeners.device,
        build_app(state.clone()),
        tls.clone(),
        stop_tx.clone(),
    );
    let console = serve_one(
        listeners.console,
        build_console_app(state.clone()),
        tls,
        stop_tx.clone(),
    );
    let signal = async move {
        tokio::select! {
            () = shutdown => {}
            () = stopped(stop_rx) => {}
        }
        let _ = stop_tx.send(true);
    };
    let ((), device, console) = tokio::join!(signal, device, console);
    let served = device.and(console);
    state.tasks.stop().await;
    let db = state.db.clone();
    let _ = shared::offload::blocking(move || db.close()).await;
    served
}

/// Stops on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    shared::web::shutdown_signal().await;
}

/// A guard-free mutex helper for the task list.
pub(crate) type TaskList = Mutex<Vec<tokio::task::JoinHandle<()>>>;

/// The gate's per-purpose keys to the issuers (docs/trust.md): the issuers hold only
/// their verifiers.
#[derive(Debug, Clone)]
pub struct ServiceKeys {
    /// Use and presentation reports (`/v1/internal/uses|presentations`, every issuer).
    pub use_report: ServiceKey,
    /// The console's declaration reads (`/v1/internal/declarations/{id}`, mobile-api).
    pub declaration_read: ServiceKey,
}

impl ServiceKeys {
    /// The configured keys, else the files under the data directory (created with their
    /// verifiers when missing). A leftover single key (`gate-api.key`) is not read.
    pub fn load(cfg: &Config) -> Result<ServiceKeys, StartError> {
        let load =
            |configured: &Option<ServiceKey>, purpose: Purpose| match configured {
                Some(k) => Ok(k.clone()),
                None => shared::service_keys::load_or_create_key(&cfg.data_dir, purpose).map_err(
                    |source| StartError::ApiKey {
                        path: cfg.data_dir.join(purpose.key_file()),
                        source,
                    },
                ),
            };
        let keys = ServiceKeys {
            use_report: load(&cfg.use_report_key, Purpose::UseReport)?,
            declaration_read: load(&cfg.declaration_read_key, Purpose::DeclarationRead)?,
        };
        let leftover = cfg.data_dir.join("gate-api.key");
        if leftover.exists() {
            tracing::warn!(
                path = %leftover.display(),
                "the single gate API key is no longer used (one key per purpose replaced it): delete the file from every machine"
            );
        }
        Ok(keys)
    }
}
