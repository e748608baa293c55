//! The kiosk: the on-site electronic declaration terminal in the arrival hall.
//!
//! The passenger's pages are the `wizard` library mounted in shared-terminal mode
//! (docs/wizard.md): language choice, passport (typed or read MRZ), trip, party, the
//! yes/no questions, items, review and the result with a signed QR (issuer
//! `kiosk:<terminal-id>`) and an 80 mm receipt view. Answers live only in a server-side
//! session keyed by a random cookie, wiped at "Finish", at the start page and after
//! inactivity. Every response is `no-store`; HTML pages carry a CSP with a per-request
//! nonce; every POST checks the session's CSRF token. What is the kiosk's own: the
//! issuer behind the wizard's [`wizard::Submit`] ([`issuance`]), its configuration and
//! its endpoints.
//!
//! Also the shared issuer endpoints (`shared::issuer::routes`: the kiosk's JWKS and its
//! revocation feed, which holds only the tokens gates reported as used since the kiosk
//! never supersedes a token) and `GET /healthz`; gates' use and presentation reports
//! only on the internal listener (`EGATE_KIOSK_INTERNAL_ADDR`), checked against the
//! use-report verifier: the kiosk holds no key of the gate's.

use shared::clock::SharedClock;
use shared::db::{Db, DbError};
use shared::issuer::{Issuer, IssuerEndpoints, TokenPolicy};
use shared::rules::RulesProfile;
use shared::service_keys::{Purpose, VerifierSource};
use shared::token::{BindingKey, KeyRing};
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

mod config;
pub mod issuance;
mod ops;
mod routes;

pub use config::{Config, ConfigError, DEFAULT_IDLE_SECS};
pub use routes::{build_app, build_internal_app};
/// The kiosk's one error type: its pages are the wizard's.
pub use wizard::WizardError as AppError;
pub use wizard::session;

/// How long the kiosk keeps gates' presentation reports (it serves no declaration
/// reads, so they only need to outlive a token).
pub const PRESENTATION_RETENTION_SECS: i64 = 30 * 86_400;

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The configuration.
    pub config: Arc<Config>,
    /// Time source (tests inject a fixed clock).
    pub clock: SharedClock,
    /// The active rules profile.
    pub profile: Arc<RulesProfile>,
    /// Keys, token policy and issuance log.
    pub issuer: issuance::Issuance,
    /// Passenger sessions (the wizard's store).
    pub sessions: session::SessionStore,
    /// The passenger's pages (the wizard in shared-terminal mode).
    pub wizard: wizard::WizardState,
    /// Checks the use-report key gates present with their reports (the kiosk holds
    /// only its verifier).
    pub use_report: Arc<VerifierSource>,
    /// Set to `true` at shutdown: background tasks stop.
    stop: watch::Sender<bool>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The database (closed by [`serve`] after the server has stopped).
    pub fn db(&self) -> &Db {
        self.issuer.db()
    }

    /// The token policy (the time zone dates are counted in, among others).
    pub fn policy(&self) -> &TokenPolicy {
        self.issuer.issuer().policy()
    }

    /// What the shared issuer endpoints (trust list, revocations, use reports) need.
    pub fn issuer_endpoints(&self) -> IssuerEndpoints {
        IssuerEndpoints {
            issuer: self.issuer.issuer().clone(),
            store: self.issuer.store().clone(),
            clock: self.clock.clone(),
            use_report: self.use_report.clone(),
            retention_secs: PRESENTATION_RETENTION_SECS,
        }
    }

    /// Stop the background tasks.
    pub fn stop_background(&self) {
        let _ = self.stop.send(true);
    }
}

/// Why the kiosk cannot start (never rendered: the operator reads it).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The rules profile could not be loaded.
    #[error(transparent)]
    Rules(#[from] shared::rules::RulesError),
    /// The database could not be opened or migrated.
    #[error("failed to open the kiosk database: {0}")]
    Db(#[from] DbError),
    /// The signing keys or the binding key could not be loaded.
    #[error("failed to load the keys: {0}")]
    Keys(#[from] shared::token::KeyError),
    /// The use-report verifier file could not be read (or is readable by others).
    #[error("failed to load the use-report verifier: {0}")]
    Verifier(#[from] std::io::Error),
}

impl From<shared::offload::TaskFailed> for StartError {
    fn from(e: shared::offload::TaskFailed) -> Self {
        StartError::Db(DbError::from(e))
    }
}

/// Build the state with the system clock: open the database, load or generate the
/// keys, start the session sweeper and the key reloader.
pub async fn build(config: Config) -> Result<AppState, StartError> {
    build_with_clock(config, shared::clock::system()).await
}

/// [`build`] with an injected clock.
pub async fn build_with_clock(config: Config, clock: SharedClock) -> Result<AppState, StartError> {
    let profile = match &config.rules_profile {
        Some(path) => RulesProfile::load(path)?,
        None => RulesProfile::jp_2026(),
    };
    let cfg = config.clone();
    let now = clock.unix();
    let (keys, binding, db, use_report) = shared::offload::blocking(move || {
        let keys = KeyRing::open(&cfg.key_dir(), &cfg.issuer_id(), now)?;
        let binding = BindingKey::load_or_generate(&cfg.binding_key_path())?;
        let db = Db::open(&cfg.db_path(), issuance::MIGRATIONS)?;
        let use_report =
            VerifierSource::open(&cfg.data_dir, Purpose::UseReport, cfg.use_report_verifier)?;
        Ok::<_, StartError>((keys, binding, db, use_report))
    })
    .await??;
    let policy = TokenPolicy::for_profile(config.token_validity, &profile);
    let (stop, _) = watch::channel(false);
    let issuer = issuance::Issuance::new(Issuer::new(keys, binding, policy), db);
    let profile = Arc::new(profile);
    let wizard = wizard::WizardState::new(
        wizard::WizardConfig::shared_terminal(config.idle, config.tls.is_some()),
        clock.clone(),
        profile.clone(),
        policy,
        Arc::new(issuer.clone()),
    );
    let state = AppState {
        issuer,
        sessions: wizard.sessions.clone(),
        wizard,
        use_report: Arc::new(use_report),
        profile,
        config: Arc::new(config),
        clock,
        stop,
    };
    spawn_background(&state);
    Ok(state)
}

/// The session sweeper (every `sweep_every`) and the key reloader (every
/// `key_reload_every`).
fn spawn_background(state: &AppState) {
    let st = state.clone();
    let mut stop = state.stop.subscribe();
    tokio::spawn(async move {
        let mut sweep = tokio::time::interval(st.config.sweep_every);
        let mut reload = tokio::time::interval(st.config.key_reload_every);
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                _ = sweep.tick() => {
                    let n = st.sessions.sweep();
                    if n > 0 {
                        tracing::info!(sessions.wiped = n, "wiped idle kiosk sessions");
                    }
                }
                _ = reload.tick() => {
                    let issuer = st.issuer.clone();
                    let _ = shared::offload::blocking(move || issuer.reload_keys()).await;
                }
            }
        }
    });
}

/// Serve the terminal's pages and public endpoints alone (no internal listener: gates
/// cannot report); see [`serve_with_internal`].
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_internal(listener, None, state, shutdown).await
}

/// Serve the public listener and `/v1/internal/*` on `internal` (when given) until
/// `shutdown` completes; then stop the background tasks and close the database.
pub async fn serve_with_internal(
    listener: TcpListener,
    internal: Option<TcpListener>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = build_app(state.clone());
    let tls = match &state.config.tls {
        Some(files) => Some(files.server_config().map_err(std::io::Error::other)?),
        None => None,
    };
    let internal = internal.map(|l| (l, routes::build_internal_app(state.clone())));
    let result =
        shared::tls::serve_public_and_internal((listener, app), internal, tls, shutdown).await;
    state.stop_background();
    let db = state.db().clone();
    let _ = shared::offload::blocking(move || db.close()).await;
    result
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    shared::web::shutdown_signal().await;
}
