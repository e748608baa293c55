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
        issuer::jwks,
        ops::healthz,
        ops::metrics,
        ops::openapi,
        internal::internal_declaration,
        issuer::internal_uses,
        issuer::internal_presentations,
    ),
    components(schemas(
        api::CreatedOut, api::DeclarationOut, api::InternalDeclarationOut, api::EstimateIn,
        api::EstimateOut, api::RevocationsOut, api::RevocationOut, api::HealthOut,
        api::ProblemDoc, api::FieldErrorDoc, api::JwksDoc, api::JwkDoc, api::QrOut,
        api::ReasonOut, api::LaneOut, api::DeclarationInputDoc, api::PassengerInputDoc,
        api::TripInputDoc, api::PartyDoc, api::AnswersDoc, api::ItemInputDoc,
        api::MoneyInputDoc, api::UseReportDoc, api::UseDoc, api::UseReportAckDoc,
        shared::issuer::schemas::PresentationReportDoc, shared::issuer::schemas::PresentationDoc,
    )),
    modifiers(&SecuritySchemes),
    tags(
        (name = "declarations", description = "Create, read, revise, erase declarations; their QR"),
        (name = "public", description = "Rules, revocations, trust list"),
        (name = "ops", description = "Health, metrics, this document"),
        (name = "internal", description = "For gate-service only, served on the internal listener (EGATE_MOBILE_API_INTERNAL_ADDR); 404 on the public one"),
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
            "use_report_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "gate-service's use-report key; this service holds only its SHA-256 \
                         ($EGATE_DATA_DIR/use-report.verifier or EGATE_USE_REPORT_VERIFIER)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "declaration_read_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "gate-service's declaration-read key; this service holds only its SHA-256 \
                         ($EGATE_DATA_DIR/declaration-read.verifier or EGATE_DECLARATION_READ_VERIFIER)",
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
    let public = Router::new()
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
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .merge(issuer::router(state.issuer_endpoints()))
        .merge(crate::app_shell::router())
        .with_state(state.clone())
        // The passenger's pages at `/`, with their own layers; their fallback answers
        // unknown paths (an HTML page, or problem+json under `/v1/`).
        .merge(crate::web_app::router(state.clone()));
    with_common_layers(public, &state)
}

/// The internal listener's router: `/v1/internal/*` only (gates' reports with the
/// use-report key, the console's reads with the declaration-read key), every other path
/// 404, as the public listener answers for these.
pub fn internal_router(state: AppState) -> Router {
    let internal = Router::new()
        .route(
            "/v1/internal/declarations/{id}",
            get(internal::internal_declaration),
        )
        .merge(issuer::internal_router(state.issuer_endpoints()))
        .fallback(|| async { shared::web::Problem::not_found() })
        .with_state(state.clone());
    with_common_layers(internal, &state)
}

/// Metrics, tracing and security headers.
fn with_common_layers(routes: Router, state: &AppState) -> Router {
    routes
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
}
