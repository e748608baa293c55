//! The device API's OpenAPI 3.1 document, served at `GET /openapi.json`: the two scan
//! requests (JSON and multipart), the answer for every decision (`green`, `red`,
//! `retry`) and the problem documents of every refusal. It is what gate hardware
//! integrators build against (docs/flows.md has the decisions).
//!
//! The paths are described by the doc-only functions below (the handlers in
//! [`crate::routes`] stay free of annotations); a unit test keeps the document's paths
//! and the device router's routes the same, and `tests/openapi.rs` validates the
//! document with `openapi-spec-validator`.

#![allow(dead_code)] // The doc-only functions and shapes are read by utoipa's derive.

use crate::answer::{PassengerReason, ScanResponse};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use shared::issuer::schemas::{FieldErrorDoc, ProblemDoc};
use std::sync::OnceLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "E-Gate gate-service device API",
        description = "What an E-Gate calls when a passenger presents the declaration QR and \
            the passport. Every scan request carries the device's credential \
            (`Authorization: Bearer egd_…`, from `egate device add <id> --kind gate`); the \
            gate id is the credential's. The answer carries the lane and the passenger's \
            messages only. Errors are RFC 9457 `application/problem+json`.",
    ),
    paths(scan_json, scan_image, healthz, metrics, openapi_json),
    components(schemas(
        ScanRequestDoc, ScanImageDoc, ScanResponse, PassengerReason, ProblemDoc, FieldErrorDoc,
    )),
    modifiers(&DeviceKey),
    tags(
        (name = "scans", description = "Decide a passenger's scan"),
        (name = "ops", description = "Health, metrics, this document"),
    )
)]
pub struct ApiDoc;

/// Adds the device key's bearer scheme.
struct DeviceKey;

impl Modify for DeviceKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "device_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The E-Gate device's key, printed once by `egate device add <id> --kind gate`",
                    ))
                    .build(),
            ),
        );
    }
}

/// `POST /v1/scans` body (no other field is accepted).
#[derive(Serialize, ToSchema)]
#[schema(as = ScanRequest)]
pub struct ScanRequestDoc {
    /// The QR text, `CD1:…`, exactly as scanned (not trimmed).
    #[schema(example = "CD1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDE")]
    pub qr: String,
    /// The passport's two 44-character TD3 MRZ lines, `\n` between them.
    #[schema(
        example = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
    )]
    pub mrz: String,
}

/// `POST /v1/scans/image` body (`multipart/form-data`; no other field is accepted).
#[derive(Serialize, ToSchema)]
#[schema(as = ScanImageRequest)]
pub struct ScanImageDoc {
    /// The camera frame with the QR: PNG or JPEG, at most 4 MiB and 4096 pixels a side.
    #[schema(value_type = String, format = Binary)]
    pub image: Vec<u8>,
    /// The passport's two MRZ lines, as in the JSON request (at most 1024 bytes).
    pub mrz: String,
}

/// Decide a scan from the QR text and the MRZ.
#[utoipa::path(
    post, path = "/v1/scans", tag = "scans",
    request_body(content = ScanRequestDoc, content_type = "application/json"),
    params(("Accept-Language" = Option<String>, Header,
        description = "Language of the passenger messages: ja, en, zh-Hans, zh-Hant, ko (default en)")),
    security(("device_key" = [])),
    responses(
        (status = 200, description = "The decision. `green`: open the gate. `red`: the customs \
            counter (an invalid, expired or used QR, another person's passport, goods to \
            declare, a check). `retry`: the passport did not read; ask for it again \
            (`retries_left` more reads of this QR at this device before `red`). Nothing \
            officer-only is ever in it.",
            body = ScanResponse,
            examples(
                ("green" = (summary = "The gate opens", value = json!({
                    "decision": "green", "passenger_message": "Please proceed.",
                    "reasons": [], "scan_id": "bq0uN1b3Qx2b7l3rJ8Q5Aw"}))),
                ("red" = (summary = "Goods to declare", value = json!({
                    "decision": "red", "passenger_message": "Please go to the customs counter.",
                    "reasons": [{"code": "declaration.items_to_declare", "message": "You have goods to declare."}],
                    "scan_id": "Zk3oQ8m1R0yq2Wc6s9T4Ug"}))),
                ("red_selected" = (summary = "A check (random or watch rule): no reason shown", value = json!({
                    "decision": "red", "passenger_message": "Please go to the customs counter.",
                    "reasons": [], "scan_id": "p2S6fW0dL7cQ1xN9mB3vEa"}))),
                ("red_refused" = (summary = "A QR refused before it verified: no scan stored", value = json!({
                    "decision": "red", "passenger_message": "Please go to the customs counter.",
                    "reasons": [{"code": "token.bad_signature", "message": "The QR code's signature is not valid. Please see an officer."}]}))),
                ("retry" = (summary = "The passport did not read", value = json!({
                    "decision": "retry", "passenger_message": "Place your passport on the reader again.",
                    "reasons": [{"code": "mrz.check_digit", "message": "The passport could not be read correctly (check digit)."}],
                    "retries_left": 2}))),
            )),
        (status = 400, description = "The body is not the JSON expected: not JSON, or a field missing, unknown (`gate_id` included) or of the wrong type (`errors` names it)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No device key, or an unknown or revoked one (`WWW-Authenticate: Bearer`)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "A kiosk terminal's key: kiosks may not scan", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, description = "This device scans faster than its limit (`Retry-After` seconds)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
fn scan_json() {}

/// Decide a scan from a camera frame of the QR and the MRZ.
#[utoipa::path(
    post, path = "/v1/scans/image", tag = "scans",
    request_body(content = ScanImageDoc, content_type = "multipart/form-data"),
    params(("Accept-Language" = Option<String>, Header,
        description = "Language of the passenger messages: ja, en, zh-Hans, zh-Hant, ko (default en)")),
    security(("device_key" = [])),
    responses(
        (status = 200, description = "The decision, as for `POST /v1/scans`; a frame in which no \
            QR code reads is `red` `qr.unreadable` (refused, no scan stored).", body = ScanResponse),
        (status = 400, description = "Malformed multipart, an unknown field, a text field over 1024 bytes", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No device key, or an unknown or revoked one (`WWW-Authenticate: Bearer`)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "A kiosk terminal's key: kiosks may not scan", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 408, description = "The upload took longer than 10 s", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "The image is over 4 MiB or 4096 pixels a side", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 415, description = "Not multipart/form-data, or the image is not PNG or JPEG", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "`image` or `mrz` missing (`errors` names it)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, description = "This device's rate limit, or every image decoder busy (`Retry-After` seconds)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
fn scan_image() {}

/// Health: trust list, issuers, use reports.
#[utoipa::path(
    get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "Status JSON: per issuer its keys, the signed list in force, the last key load and revocation pull, `feed_waiting` (whether the gate follows the issuer's revocation feed by long polling now, or by the periodic pull only: docs/trust.md), the last error; the restore guard; use reports", body = Object)),
)]
fn healthz() {}

/// Prometheus counters.
#[utoipa::path(
    get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)),
)]
fn metrics() {}

/// This document.
#[utoipa::path(
    get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "OpenAPI 3.1", body = Object)),
)]
fn openapi_json() {}

/// The document as JSON text (built once).
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .unwrap_or_else(|e| unreachable!("the OpenAPI document serialises: {e}"))
    })
}

/// `GET /openapi.json`.
pub async fn serve() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// `(method, path)` of every `.route(…)` in the device listener's router, read from
    /// the source (axum cannot list a router's routes).
    fn device_routes() -> BTreeSet<(String, String)> {
        let src = include_str!("routes.rs");
        let start = src.find("pub fn router(").expect("routes::router");
        let body = &src[start..];
        let body = &body[..body.find("\n}\n").expect("end of routes::router")];
        let mut out = BTreeSet::new();
        for part in body.split(".route(").skip(1) {
            let path = part.split('"').nth(1).expect("a path literal").to_owned();
            for method in ["get", "post", "put", "delete", "patch"] {
                if part.contains(&format!("{method}(")) {
                    out.insert((method.to_owned(), path.clone()));
                }
            }
        }
        out
    }

    #[test]
    fn every_device_route_is_in_the_document_and_nothing_else() {
        let doc: serde_json::Value = serde_json::from_str(document()).unwrap();
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                documented.insert((method.clone(), path.clone()));
            }
        }
        assert!(!documented.is_empty());
        assert_eq!(device_routes(), documented);
    }

    #[test]
    fn the_answer_schema_has_no_officer_field() {
        let doc: serde_json::Value = serde_json::from_str(document()).unwrap();
        let props = doc["components"]["schemas"]["ScanResponse"]["properties"]
            .as_object()
            .unwrap();
        let names: BTreeSet<&str> = props.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            BTreeSet::from([
                "decision",
                "passenger_message",
                "reasons",
                "retries_left",
                "scan_id"
            ])
        );
    }
}
