//! Every route of the kiosk, in one place.

use crate::html::{MAX_FORM_BODY, page_headers};
use crate::{AppState, ops, steps};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower_http::trace::TraceLayer;

/// The kiosk's router.
pub fn build_app(state: AppState) -> Router {
    Router::new()
        .route("/", get(steps::start::get))
        .route("/start", post(steps::start::post))
        .route(
            "/passport",
            get(steps::passport::get).post(steps::passport::post),
        )
        .route("/trip", get(steps::trip::get).post(steps::trip::post))
        .route("/party", get(steps::party::get).post(steps::party::post))
        .route(
            "/questions",
            get(steps::questions::get).post(steps::questions::post),
        )
        .route("/items", get(steps::items::get).post(steps::items::post))
        .route("/review", get(steps::review::get).post(steps::review::post))
        .route("/result", get(steps::result::get).post(steps::result::stay))
        .route("/result/print", get(steps::result::print))
        .route("/finish", post(steps::result::finish))
        .route("/timeout", get(steps::result::timeout))
        .route("/static/kiosk.css", get(ops::css))
        .route("/healthz", get(ops::healthz))
        .merge(shared::issuer::routes::router(state.issuer_endpoints()))
        .fallback(steps::not_found)
        .layer(DefaultBodyLimit::max(MAX_FORM_BODY))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::error::html_pages,
        ))
        .layer(axum::middleware::from_fn(page_headers))
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
        .with_state(state)
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
