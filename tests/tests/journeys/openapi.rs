//! Both services' OpenAPI documents, fetched over HTTP from the running services, pass an
//! off-the-shelf validator: `openapi-spec-validator` (PyPI), which `scripts/test.sh`
//! installs into `target/venv` and names in `EGATE_OPENAPI_SPEC_VALIDATOR`. A missing
//! validator fails the test; it never skips.

use super::*;
use std::path::PathBuf;

/// The validator: `$EGATE_OPENAPI_SPEC_VALIDATOR`, else `target/venv/bin/…` of the
/// workspace. Panics, saying how to install it, when neither exists.
fn validator() -> PathBuf {
    let path = std::env::var_os("EGATE_OPENAPI_SPEC_VALIDATOR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../target/venv/bin/openapi-spec-validator")
        });
    assert!(
        path.is_file(),
        "openapi-spec-validator is missing at {}: run the tests with `bash scripts/test.sh` \
         (it installs it into target/venv), or `python3 -m venv target/venv && \
         target/venv/bin/pip install openapi-spec-validator`",
        path.display()
    );
    path
}

async fn validate(sys: &System, url: String, name: &str) -> serde_json::Value {
    let r = sys.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    let text = r.text().await.unwrap();
    let file = sys.dir.path().join(format!("{name}.openapi.json"));
    std::fs::write(&file, &text).unwrap();
    let out = std::process::Command::new(validator())
        .arg(&file)
        .output()
        .expect("openapi-spec-validator runs");
    assert!(
        out.status.success(),
        "{name}'s OpenAPI document is not valid:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn both_services_openapi_documents_pass_openapi_spec_validator() {
    let sys = System::spawn().await;
    let mobile = validate(&sys, sys.mobile.url("/openapi.json"), "mobile-api").await;
    let gate = validate(&sys, sys.gate.url("/openapi.json"), "gate-service").await;
    // `scale` of the QR PNG is a query parameter.
    let png = &mobile["paths"]["/v1/declarations/{id}/qr.png"]["get"]["parameters"];
    let scale = png
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "scale")
        .expect("scale documented");
    assert_eq!(scale["in"], "query");
    // The device API: both scan requests, every decision, every refusal.
    for (path, statuses) in [
        (
            "/v1/scans",
            &["200", "400", "401", "403", "413", "415", "429"][..],
        ),
        (
            "/v1/scans/image",
            &["200", "400", "401", "403", "413", "415", "422", "429"][..],
        ),
    ] {
        let op = &gate["paths"][path]["post"];
        for status in statuses {
            assert!(op["responses"][*status].is_object(), "{path} {status}");
        }
    }
    let examples = &gate["paths"]["/v1/scans"]["post"]["responses"]["200"]["content"]["application/json"]
        ["examples"];
    for decision in ["green", "red", "retry"] {
        assert!(
            examples
                .as_object()
                .unwrap()
                .values()
                .any(|e| e["value"]["decision"] == decision),
            "no {decision} example"
        );
    }
    assert!(
        gate["paths"]["/v1/scans/image"]["post"]["requestBody"]["content"]["multipart/form-data"]
            .is_object()
    );
}
