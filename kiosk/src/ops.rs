//! What the kiosk serves besides its pages and the issuer endpoints: health and the
//! stylesheet.

use axum::Json;
use axum::http::header;
use axum::response::IntoResponse;

/// `GET /healthz`.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// `GET /static/kiosk.css`, compiled into the binary.
pub async fn css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../static/kiosk.css"),
    )
}
