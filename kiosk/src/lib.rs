//! The kiosk: the on-site electronic declaration terminal in the arrival hall.
//!
//! Server-rendered HTML (askama) for a shared touch screen: language choice, passport
//! (typed or read MRZ), trip, party, the yes/no questions, items, review and the result
//! with a signed QR (issuer `kiosk:<terminal-id>`) and an 80 mm receipt view. Answers
//! live only in a server-side session keyed by a random cookie, wiped at "Finish", at
//! the start page and after inactivity. Every response is `no-store`; HTML pages carry a
//! CSP with a per-request nonce; every POST checks the session's CSRF token.
//!
//! Also: `GET /v1/trust-list` (the kiosk's JWKS), `GET /v1/revocations` (the kiosk never
//! supersedes a token; its feed holds the tokens gates reported as used),
//! `POST /v1/internal/uses` (those reports, with the gate API key) and `GET /healthz`.

use anyhow::Context;
use shared::clock::SharedClock;
use shared::db::Db;
use shared::rules::RulesProfile;
use shared::token::{BindingKey, KeyRing};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

mod api;
mod config;
pub mod html;
pub mod issuer;
mod routes;
pub mod session;
pub mod steps;

pub use config::{Config, DEFAULT_IDLE_SECS};
pub use routes::build_app;

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The configuration.
    pub config: Arc<Config>,
    /// Time source (tests inject a fixed clock).
    pub clock: SharedClock,
    /// The active rules profile.
    pub profile: Arc<RulesProfile>,
    /// Keys and issuance log.
    pub issuer: issuer::Issuer,
    /// Passenger sessions.
    pub sessions: session::SessionStore,
    /// The secret gates present when they report used tokens.
    pub gate_api_key: Arc<str>,
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

    /// Stop the background tasks.
    pub fn stop_background(&self) {
        let _ = self.stop.send(true);
    }
}

/// Build the state with the system clock: open the database, load or generate the
/// keys, start the session sweeper and the key reloader.
pub async fn build(config: Config) -> anyhow::Result<AppState> {
    build_with_clock(config, shared::clock::system()).await
}

/// [`build`] with an injected clock.
pub async fn build_with_clock(config: Config, clock: SharedClock) -> anyhow::Result<AppState> {
    let profile = match &config.rules_profile {
        Some(path) => RulesProfile::load(path)
            .with_context(|| format!("failed to load the rules profile {}", path.display()))?,
        None => RulesProfile::jp_2026(),
    };
    let kiosk_dir = config.kiosk_dir();
    let data_dir = config.data_dir.clone();
    let issuer_id = config.issuer();
    let now = clock.unix();
    let configured_key = config.gate_api_key.clone();
    let (keys, binding, db, gate_api_key) = shared::db::blocking(move || -> anyhow::Result<_> {
        std::fs::create_dir_all(&kiosk_dir)
            .with_context(|| format!("failed to create {}", kiosk_dir.display()))?;
        let keys = KeyRing::open(&kiosk_dir.join("keys"), &issuer_id, now)
            .context("failed to open the kiosk key directory")?;
        let binding = BindingKey::load_or_generate(&data_dir.join("binding.key"))
            .context("failed to load the binding key")?;
        let db = Db::open(&kiosk_dir.join("kiosk.db"), issuer::MIGRATIONS)
            .context("failed to open the kiosk database")?;
        let gate_api_key = match configured_key {
            Some(k) => k.0,
            None => shared::feed::load_or_create_api_key(&data_dir.join("gate-api.key"))
                .context("failed to load the gate API key")?,
        };
        Ok((keys, binding, db, gate_api_key))
    })
    .await
    .context("failed to run start-up work")??;
    let (stop, _) = watch::channel(false);
    let state = AppState {
        issuer: issuer::Issuer::new(config.issuer(), keys, binding, db),
        sessions: session::SessionStore::new(clock.clone(), config.idle.as_secs()),
        gate_api_key: Arc::from(gate_api_key),
        profile: Arc::new(profile),
        config: Arc::new(config),
        clock,
        stop,
    };
    spawn_background(&state);
    Ok(state)
}

/// The session sweeper (every `sweep_every`) and the key reloader (every 60 s).
fn spawn_background(state: &AppState) {
    let st = state.clone();
    let mut stop = state.stop.subscribe();
    tokio::spawn(async move {
        let mut sweep = tokio::time::interval(st.config.sweep_every);
        let mut reload = tokio::time::interval(std::time::Duration::from_secs(60));
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
                    let _ = shared::db::blocking(move || issuer.reload_keys()).await;
                }
            }
        }
    });
}

/// Serve on an already-bound listener until `shutdown` completes; then stop the
/// background tasks and close the database.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = build_app(state.clone());
    let result = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("failed to serve the kiosk");
    state.stop_background();
    let db = state.db().clone();
    let _ = shared::db::blocking(move || db.close()).await;
    result
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    shared::web::shutdown_signal().await;
}
