//! The wizard's routes and the layers every page gets, in one place.

use crate::html::{MAX_FORM_BODY, page_headers};
use crate::{Mode, WizardError, WizardState, steps};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// The posts that sign a token or open a stored declaration pass the service's
/// [`crate::Submit::admit`] first; over its limit: the 429 page with `Retry-After`.
async fn admit(State(st): State<WizardState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let limited = req.method() == Method::POST
        && (path == st.config.path("/review") || path == st.config.path("/declarations/edit"));
    if limited {
        let client = shared::web::client_ip(req.extensions());
        if let Err(secs) = st.submit.admit(client) {
            tracing::warn!(route = %path, "rate limit exceeded");
            let mut resp = WizardError::TooMany.into_response();
            if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return resp;
        }
    }
    next.run(req).await
}

/// The stylesheet, compiled into the binary.
async fn css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../static/wizard.css"),
    )
}

/// The wizard's pages under the configured prefix, with `other` (the service's own
/// routes that should answer like pages: `no-store`, errors as HTML pages in the
/// session's language except under `/v1/` and `/healthz`) merged in; unknown paths get
/// the 404 page. The body limit, the per-request CSP nonce and the error pages apply to
/// all of it.
pub fn mount(other: Router, state: WizardState) -> Router {
    let c = state.config.clone();
    let p = |path: &str| c.path(path);
    let mut pages = Router::new()
        .route(&p("/"), get(steps::start::get))
        .route(&p("/start"), post(steps::start::post))
        .route(
            &p("/passport"),
            get(steps::passport::get).post(steps::passport::post),
        )
        .route(&p("/trip"), get(steps::trip::get).post(steps::trip::post))
        .route(
            &p("/party"),
            get(steps::party::get).post(steps::party::post),
        )
        .route(
            &p("/questions"),
            get(steps::questions::get).post(steps::questions::post),
        )
        .route(
            &p("/items"),
            get(steps::items::get).post(steps::items::post),
        )
        .route(
            &p("/review"),
            get(steps::review::get).post(steps::review::post),
        )
        .route(
            &p("/result"),
            get(steps::result::get).post(steps::result::stay),
        )
        .route(&p("/finish"), post(steps::result::finish))
        .route(&p(c.stylesheet), get(css));
    pages = match c.mode {
        Mode::SharedTerminal => pages
            .route(&p("/result/print"), get(steps::result::print))
            .route(&p("/timeout"), get(steps::result::timeout)),
        Mode::PersonalPhone => pages
            .route(&p("/lang"), post(steps::start::switch_language))
            .route(&p("/declarations/edit"), post(steps::edit::post)),
    };
    pages
        .with_state(state.clone())
        .merge(other)
        .fallback(steps::not_found)
        .layer(DefaultBodyLimit::max(MAX_FORM_BODY))
        .layer(axum::middleware::from_fn_with_state(state.clone(), admit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::error::html_pages,
        ))
        .layer(axum::middleware::from_fn_with_state(state, page_headers))
}
