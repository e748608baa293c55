//! Every route of the kiosk, in one place: the wizard's pages (shared-terminal mode)
//! with the kiosk's own endpoints mounted among them, so that they answer as the pages
//! do (`no-store`; errors as problem+json under `/v1/` and `/healthz`).

use crate::{AppState, ops};
use axum::Router;
use axum::routing::get;
use tower_http::trace::TraceLayer;

/// The kiosk's router.
pub fn build_app(state: AppState) -> Router {
    let own = Router::new()
        .route("/healthz", get(ops::healthz))
        .merge(shared::issuer::routes::router(state.issuer_endpoints()))
        .with_state(state.clone());
    wizard::mount(own, state.wizard.clone())
        .layer(axum::middleware::from_fn(shared::web::security_headers))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let path = req
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("unmatched", |p| p.as_str());
                tracing::info_span!("http", method = %req.method(), path = %path)
            }),
        )
}

/// The internal listener's router: gates' use and presentation reports
/// (`/v1/internal/*`, problem+json), every other path 404.
pub fn build_internal_app(state: AppState) -> Router {
    Router::new()
        .merge(shared::issuer::routes::internal_router(
            state.issuer_endpoints(),
        ))
        .fallback(|| async { shared::web::Problem::not_found() })
        .layer(axum::middleware::from_fn(shared::web::security_headers))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let path = req
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("unmatched", |p| p.as_str());
                tracing::info_span!("http-internal", method = %req.method(), path = %path)
            }),
        )
        .with_state(state)
}
