//! mobile-api: the public JSON API of the phone app. Passengers declare before landing
//! and carry a signed QR (`CD1:…`, docs/token.md) to the E-Gate. No accounts: creating a
//! declaration returns a 128-bit edit token, the capability to read, revise and erase it.
//!
//! Layout: [`config`] (environment), [`routes`] (every route and the OpenAPI document),
//! handlers by what they serve: [`declarations`] (the passenger's declaration and its
//! QR), [`rules`] (profile and estimate), [`internal`] (the officer console's read),
//! [`ops`] (health, metrics, OpenAPI), [`app_shell`] (the phone app's `/my`, script,
//! service worker, manifest and icons), [`web_app`] (the passenger's declaration pages:
//! the `wizard` crate mounted at `/` in personal-phone mode); [`store`] (declarations in SQLite), `ratelimit`,
//! `api` (wire shapes), [`error`]. The issuer role (signing, token policy, issued tokens,
//! revocation feed, trust list, gates' use reports) is `shared::issuer`'s.

use axum::http::{HeaderMap, header};
use prometheus_client::metrics::counter::Counter;
use shared::clock::SharedClock;
use shared::db::Db;
use shared::i18n::Lang;
use shared::issuer::Issuer;
use shared::metrics::HttpMetrics;
use shared::rules::RulesProfile;
use shared::token::{BindingKey, KeyRing};
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub mod api;
pub mod app_shell;
pub mod config;
pub mod declarations;
pub mod error;
pub mod internal;
pub mod ops;
pub mod ratelimit;
pub mod routes;
pub mod rules;
pub mod storage;
pub mod store;
pub mod store_pg;
pub mod web_app;

pub use config::Config;
use error::{AppError, StartError};
use ratelimit::Limiter;
use shared::issuer::{IssuerEndpoints, TokenPolicy};
use shared::service_keys::{Purpose, VerifierSource};

/// Counters specific to this service (the HTTP ones are in [`HttpMetrics`]).
#[derive(Clone, Debug)]
pub struct Counters {
    /// Declarations created.
    pub declarations_created: Counter,
    /// Tokens signed (creations and revisions).
    pub tokens_issued: Counter,
    /// Declarations erased at the passenger's request.
    pub declarations_erased: Counter,
    /// Declarations whose personal data the retention purge erased.
    pub declarations_purged: Counter,
}

/// Shared state of the handlers. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Configuration.
    pub config: Arc<Config>,
    /// The store: declarations, tokens and the feed, in SQLite or PostgreSQL
    /// ([`storage`]).
    pub db: storage::Store,
    /// Time.
    pub clock: SharedClock,
    /// Active rules profile.
    pub profile: Arc<RulesProfile>,
    /// Signing keys and binding key.
    pub issuer: Issuer,
    /// Per-address limiter.
    pub limiter: Arc<Limiter>,
    /// Per-address and per-declaration limiter of PUT and DELETE.
    pub edit_limiter: Arc<ratelimit::EditLimiter>,
    /// Metric registry.
    pub metrics: Arc<HttpMetrics>,
    /// Service counters.
    pub counters: Counters,
    /// Checks the gate's use-report key (use and presentation reports).
    pub use_report: Arc<VerifierSource>,
    /// Checks the gate's declaration-read key (the officer console's reads).
    pub declaration_read: Arc<VerifierSource>,
    /// The web app's wizard sessions ([`web_app`]).
    pub web_sessions: wizard::SessionStore,
    tasks: Arc<Tasks>,
}

struct Tasks {
    stop: watch::Sender<bool>,
    handles: Mutex<Vec<JoinHandle<()>>>,
}

impl AppState {
    /// What the shared issuer endpoints (trust list, revocations, use reports) need.
    pub fn issuer_endpoints(&self) -> IssuerEndpoints {
        IssuerEndpoints {
            issuer: self.issuer.clone(),
            store: self.db.issuer().clone(),
            clock: self.clock.clone(),
            use_report: self.use_report.clone(),
            retention_secs: self.config.retention_days.saturating_mul(86_400),
        }
    }

    /// Stop the background tasks and wait for them.
    pub async fn stop_background(&self) {
        let _ = self.tasks.stop.send(true);
        let handles: Vec<JoinHandle<()>> = self
            .tasks
            .handles
            .lock()
            .map(|mut h| std::mem::take(&mut *h))
            .unwrap_or_default();
        for h in handles {
            let _ = h.await;
        }
    }
}

/// The language of reason messages for a request.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Lang::En, Lang::from_accept_language)
}

/// Open the store, load or generate the keys, load the rules, start background tasks
/// (unless `config.background_tasks` is off).
pub async fn build(config: Config) -> Result<AppState, StartError> {
    let cfg = config.clone();
    let now = config.clock.unix();
    let db = match &config.database_url {
        Some(url) => Some(storage::Store::postgres(
            shared::pg::PgDb::connect(url, store_pg::MIGRATIONS).await?,
        )),
        None => None,
    };
    let (db, ring, binding, profile, verifiers) = shared::offload::blocking(move || {
        let db = match db {
            Some(db) => db,
            None => storage::Store::sqlite(Db::open(&cfg.db_path(), store::MIGRATIONS)?),
        };
        let ring = KeyRing::open(&cfg.key_dir(), cfg.issuer_id(), now)?;
        let binding = BindingKey::load_or_generate(&cfg.binding_key_path())?;
        let profile = match &cfg.rules_profile {
            Some(p) => RulesProfile::load(p)?,
            None => RulesProfile::jp_2026(),
        };
        // Verifiers only: the keys are the gate's (docs/trust.md).
        let verifiers = (
            VerifierSource::open(&cfg.data_dir, Purpose::UseReport, cfg.use_report_verifier)?,
            VerifierSource::open(
                &cfg.data_dir,
                Purpose::DeclarationRead,
                cfg.declaration_read_verifier,
            )?,
        );
        Ok::<_, StartError>((db, ring, binding, profile, verifiers))
    })
    .await??;
    let policy = TokenPolicy::for_profile(config.token_validity, &profile);
    let issuer = Issuer::new(ring, binding, policy);
    let mut metrics = HttpMetrics::new("mobile_api");
    let counters = Counters {
        declarations_created: metrics.counter("declarations_created", "Declarations created"),
        tokens_issued: metrics.counter("tokens_issued", "Tokens signed (creations and revisions)"),
        declarations_erased: metrics
            .counter("declarations_erased", "Declarations erased on request"),
        declarations_purged: metrics.counter(
            "declarations_purged",
            "Declarations erased by the retention purge",
        ),
    };
    tracing::info!(
        profile.id = %profile.id,
        keys = ?issuer.key_ids(),
        "mobile-api ready"
    );
    let (stop, _) = watch::channel(false);
    let state = AppState {
        web_sessions: web_app::session_store(&config),
        limiter: Arc::new(Limiter::new(config.rate_limit_per_minute)),
        edit_limiter: Arc::new(ratelimit::EditLimiter::new(
            config.edit_rate_limit_per_minute,
            config.edit_rate_limit_per_declaration_per_minute,
        )),
        clock: config.clock.clone(),
        config: Arc::new(config),
        db,
        profile: Arc::new(profile),
        issuer,
        metrics: Arc::new(metrics),
        counters,
        use_report: Arc::new(verifiers.0),
        declaration_read: Arc::new(verifiers.1),
        tasks: Arc::new(Tasks {
            stop,
            handles: Mutex::new(Vec::new()),
        }),
    };
    if state.config.background_tasks {
        start_background(&state);
    }
    Ok(state)
}

/// Run `f` every `period` until the service stops.
fn every<F, Fut>(state: &AppState, period: std::time::Duration, f: F)
where
    F: Fn(AppState) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let mut stop = state.tasks.stop.subscribe();
    let st = state.clone();
    let handle = tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => f(st.clone()).await,
                _ = stop.changed() => break,
            }
        }
    });
    if let Ok(mut h) = state.tasks.handles.lock() {
        h.push(handle);
    }
}

fn start_background(state: &AppState) {
    every(state, state.config.purge_interval, |st| async move {
        let now = st.clock.now();
        if let Err(e) = purge_expired(&st, now).await {
            tracing::error!(error = %e, "retention purge failed");
        }
    });
    every(state, state.config.key_reload_interval, |st| async move {
        let issuer = st.issuer.clone();
        let _ = shared::offload::blocking(move || issuer.reload()).await;
    });
    every(state, std::time::Duration::from_secs(60), |st| async move {
        st.limiter.housekeeping();
        st.edit_limiter.housekeeping();
        st.web_sessions.sweep();
    });
}

/// Erase the personal data of declarations whose arrival date is more than
/// `retention_days` before `now` (dates in the rules profile's time zone). Returns how
/// many; logs the count.
pub async fn purge_expired(state: &AppState, now: time::OffsetDateTime) -> Result<usize, AppError> {
    let today = state.issuer.policy().today(now.unix_timestamp());
    let cutoff = today
        .checked_sub(time::Duration::days(state.config.retention_days))
        .unwrap_or(time::Date::MIN);
    let cutoff = shared::domain::format_date(cutoff);
    let at = now.unix_timestamp();
    let n = state.db.purge_before(cutoff, at).await?;
    state.counters.declarations_purged.inc_by(n as u64);
    // Presentations and the read audit are bounded by the same retention.
    let keep_after = at.saturating_sub(state.config.retention_days.saturating_mul(86_400));
    state.db.issuer().purge_presentations(keep_after).await?;
    erase_leftovers(state, at).await;
    tracing::info!(
        purge.erased = n,
        purge.retention_days = state.config.retention_days,
        "retention purge done"
    );
    Ok(n)
}

/// What erasure leaves behind, removed after each purge: free pages and old WAL frames
/// ([`shared::db::Db::erase_leftovers`]; `secure_delete` has zeroed the content), and the
/// files `egate restore` moved aside more than the retention period ago.
async fn erase_leftovers(state: &AppState, now: i64) {
    // PostgreSQL reclaims erased rows itself (autovacuum); this is SQLite's file.
    let Some(db) = state.db.sqlite_db() else {
        return;
    };
    match db.erase_leftovers().await {
        Ok(true) => {}
        Ok(false) => tracing::warn!("WAL checkpoint after the purge kept back by readers"),
        Err(e) => tracing::error!(error = %e, "vacuum after the purge failed"),
    }
    let cutoff = now.saturating_sub(state.config.retention_days.saturating_mul(86_400));
    let path = state.config.db_path();
    match shared::offload::blocking(move || shared::db::remove_replaced_files(&path, cutoff)).await
    {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "removing restore's replaced files failed"),
        Err(e) => tracing::error!(error = %e, "removing restore's replaced files failed"),
    }
}

/// The application router (every route, with its middleware).
pub fn build_app(state: AppState) -> axum::Router {
    routes::router(state)
}

/// Serve the public API alone (no internal listener: gates can neither report nor
/// read) until `shutdown` completes; see [`serve_with_internal`].
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_internal(listener, None, state, shutdown).await
}

/// Serve the public API on `listener` and `/v1/internal/*` on `internal` (when given)
/// until `shutdown` completes; then stop the background tasks and close the store.
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
    tracing::info!(
        addr = ?listener.local_addr().ok(),
        internal_addr = ?internal.as_ref().and_then(|l| l.local_addr().ok()),
        https = tls.is_some(),
        "mobile-api listening"
    );
    let internal = internal.map(|l| (l, routes::internal_router(state.clone())));
    let result =
        shared::tls::serve_public_and_internal((listener, app), internal, tls, shutdown).await;
    state.stop_background().await;
    state.db.close();
    result
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    shared::web::shutdown_signal().await;
}
