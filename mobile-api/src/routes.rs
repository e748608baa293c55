//! Every route of the service in one place, and the OpenAPI document generated from the
//! handlers' annotations.

use crate::{AppState, api, declarations, internal, ops, ratelimit, rules};
use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::routing::{get, post, put};
use shared::issuer::routes as issuer;
use tower_http::trace::TraceLayer;
use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "E-Gate mobile-api",
        description = "Advance customs declarations and signed QR codes for the phone app. \
            Errors are RFC 9457 `application/problem+json`.",
    ),
    paths(
        declarations::create,
        declarations::get,
        declarations::put,
        declarations::delete,
        declarations::qr_png,
        declarations::qr_svg,
        rules::estimate,
        rules::rules,
        issuer::revocations,
        issuer::trust_list,
        ops::healthz,
        ops::metrics,
        ops::openapi,
        internal::internal_declaration,
        issuer::internal_uses,
    ),
    components(schemas(
        api::CreatedOut, api::DeclarationOut, api::InternalDeclarationOut, api::EstimateIn,
        api::EstimateOut, api::RevocationsOut, api::RevocationOut, api::HealthOut,
        api::ProblemDoc, api::FieldErrorDoc, api::JwksDoc, api::JwkDoc, api::QrOut,
        api::ReasonOut, api::LaneOut, api::DeclarationInputDoc, api::PassengerInputDoc,
        api::TripInputDoc, api::PartyDoc, api::AnswersDoc, api::ItemInputDoc,
        api::MoneyInputDoc, api::UseReportDoc, api::UseDoc, api::UseReportAckDoc,
    )),
    modifiers(&SecuritySchemes),
    tags(
        (name = "declarations", description = "Create, read, revise, erase declarations; their QR"),
        (name = "public", description = "Rules, revocations, trust list"),
        (name = "ops", description = "Health, metrics, this document"),
        (name = "internal", description = "For the officer console (gate-service)"),
    )
)]
pub struct ApiDoc;

/// Adds the two bearer schemes.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "edit_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The edit token returned once by POST /v1/declarations",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "gate_api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "gate-service's API key ($EGATE_DATA_DIR/gate-api.key or EGATE_GATE_API_KEY)",
                    ))
                    .build(),
            ),
        );
    }
}

/// The application router.
pub fn router(state: AppState) -> Router {
    let limited = Router::new()
        .route("/v1/declarations", post(declarations::create))
        .route("/v1/estimate", post(rules::estimate))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ratelimit::limit,
        ));
    Router::new()
        .merge(limited)
        .route(
            "/v1/declarations/{id}",
            get(declarations::get).merge(
                put(declarations::put)
                    .delete(declarations::delete)
                    .route_layer(axum::middleware::from_fn_with_state(
                        state.clone(),
                        ratelimit::limit_edits,
                    )),
            ),
        )
        .route("/v1/declarations/{id}/qr.png", get(declarations::qr_png))
        .route("/v1/declarations/{id}/qr.svg", get(declarations::qr_svg))
        .route("/v1/rules", get(rules::rules))
        .route(
            "/v1/internal/declarations/{id}",
            get(internal::internal_declaration),
        )
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .merge(issuer::router(state.issuer_endpoints()))
        .fallback(|| async { shared::web::Problem::not_found() })
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            shared::metrics::track,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map(MatchedPath::as_str)
                .unwrap_or("unmatched");
            tracing::info_span!("request", method = %req.method(), route = %route)
        }))
        .layer(axum::middleware::from_fn(shared::web::security_headers))
        .with_state(state)
}
