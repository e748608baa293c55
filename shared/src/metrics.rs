//! Prometheus metrics every service exposes at `GET /metrics`: requests by route and
//! status, request latency by route, plus the service's own counters registered at
//! start-up. Built on `prometheus-client` (the Prometheus project's Rust client); the
//! exposition is OpenMetrics text, which Prometheus scrapes natively.
//!
//! ```ignore
//! let mut metrics = HttpMetrics::new("mobile_api");
//! let issued = metrics.counter("tokens_issued", "Tokens signed and returned");
//! let metrics = Arc::new(metrics);
//! router.layer(axum::middleware::from_fn_with_state(metrics.clone(), track))
//! ```

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Instant;

/// Content type of the exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Labels of the request counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

/// Labels of the latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

/// The route label when no route matched: one value for every unknown path, so that
/// random paths cannot grow the label set.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The method label: one of the standard methods, else `other`. Any client can send a
/// made-up method (`FOOBAR1`, `FOOBAR2`, ...); used as a label as is, each would be a new
/// series kept forever (a memory leak any client drives). So the set is fixed.
pub fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "other",
    }
}

fn latency_histogram() -> Histogram {
    // 0.5 ms … ~4 s in 14 doubling buckets.
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
}

/// A service's metric registry with the HTTP metrics built in.
#[derive(Debug)]
pub struct HttpMetrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
}

impl HttpMetrics {
    /// A registry whose metric names start with `prefix_` (e.g. `mobile_api_`).
    pub fn new(prefix: &str) -> Self {
        let mut registry = Registry::with_prefix(prefix);
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, matched route and status",
            requests.clone(),
        );
        let latency: Family<RouteLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method and matched route",
            latency.clone(),
        );
        Self {
            registry,
            requests,
            latency,
        }
    }

    /// Register a plain counter (call before sharing the registry).
    pub fn counter(&mut self, name: &str, help: &str) -> Counter {
        let c = Counter::default();
        self.registry.register(name, help, c.clone());
        c
    }

    /// The registry, to register other metric types.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// Record one finished request. `method` is reduced to [`method_label`]; `route` must
    /// be a matched route template or [`UNMATCHED_ROUTE`], never a raw path.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let method = method_label(method);
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method,
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "failed to encode metrics");
        }
        out
    }

    /// The exposition as an HTTP response.
    pub fn response(&self) -> Response {
        let mut resp = self.render().into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        resp
    }
}

/// Middleware (`axum::middleware::from_fn_with_state`): count and time every request
/// under its matched route template ([`UNMATCHED_ROUTE`] when no route matched) and its
/// [`method_label`], so that neither random paths nor made-up methods grow the label set.
pub async fn track(State(metrics): State<Arc<HttpMetrics>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED_ROUTE.to_owned(), |p| p.as_str().to_owned());
    let method = method_label(req.method().as_str());
    let start = Instant::now();
    let resp = next.run(req).await;
    metrics.observe(
        method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_lists_requests_latency_and_custom_counters() {
        let mut m = HttpMetrics::new("svc");
        let c = m.counter("things", "Things done");
        c.inc();
        m.observe("POST", "/v1/x", 201, 0.003);
        let text = m.render();
        assert!(
            text.contains(
                "svc_http_requests_total{method=\"POST\",route=\"/v1/x\",status=\"201\"} 1"
            )
        );
        assert!(text.contains("svc_http_request_duration_seconds_bucket"));
        assert!(text.contains("svc_things_total 1"));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn made_up_methods_share_one_label() {
        let m = HttpMetrics::new("svc");
        for i in 0..100 {
            m.observe(&format!("FOOBAR{i}"), UNMATCHED_ROUTE, 404, 0.001);
        }
        m.observe("get", UNMATCHED_ROUTE, 404, 0.001);
        let text = m.render();
        assert!(text.contains(
            "svc_http_requests_total{method=\"other\",route=\"unmatched\",status=\"404\"} 101"
        ));
        assert!(!text.contains("FOOBAR"));
        assert_eq!(method_label("DELETE"), "DELETE");
    }
}
