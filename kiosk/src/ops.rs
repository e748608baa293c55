//! What the kiosk serves besides its pages (the wizard's, with the stylesheet) and the
//! issuer endpoints: health.

use axum::Json;

/// `GET /healthz`.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}
