//! Per-purpose credentials between services, over real HTTP (docs/trust.md): the
//! kiosk's files read no declaration and report no use, each of the gate's keys does
//! only its job, a declaration read is allowed only for the case that scanned it and
//! audited either way, and `/v1/internal/*` exists only on the internal listeners.

use super::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Every internal endpoint, on the listener that serves it.
const INTERNAL: &[(&str, &str)] = &[
    ("GET", "/v1/internal/declarations/{id}"),
    ("POST", "/v1/internal/uses"),
    ("POST", "/v1/internal/presentations"),
];

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// The bodies the reports take (valid shapes, a made-up token).
fn report_body(path: &str) -> Value {
    let cti = shared::feed::cti_base64(&[9u8; 16]);
    if path.ends_with("/uses") {
        json!({"gate": "attacker", "uses": [{"cti": cti, "used_at": 1}]})
    } else {
        json!({"gate": "attacker", "presentations": [
            {"case": 1, "declaration_id": "x", "cti": cti, "at": 1}]})
    }
}

/// A red case for `who`'s declaration, scanned with someone else's passport: (the
/// declaration id, the gate's case id).
async fn red_case(sys: &System, who: &Traveller, other: &Traveller) -> (String, i64) {
    let (status, created) = sys.declare(&who.declaration(json!([]))).await;
    assert_eq!(status, 201, "{created}");
    let decl = created["id"].as_str().unwrap().to_owned();
    let d = sys
        .scan(created["qr"]["text"].as_str().unwrap(), &other.mrz())
        .await;
    assert_eq!(d["decision"], "red", "{d}");
    let key = decl.clone();
    let case: i64 = sys
        .gate
        .state
        .db
        .read(move |c| {
            c.query_row(
                "SELECT id FROM cases WHERE declaration_id = ?1",
                [&key],
                |r| r.get(0),
            )
            .map_err(shared::db::DbError::from)
        })
        .await
        .unwrap();
    (decl, case)
}

/// A declaration read as the console sends it, with `key`.
async fn read(sys: &System, key: &str, decl: &str, case: i64, officer: &str) -> StatusCode {
    client()
        .get(format!(
            "http://{}/v1/internal/declarations/{decl}",
            sys.mobile_internal
        ))
        .bearer_auth(key)
        .header("X-Egate-Gate", &sys.gate.state.config.instance)
        .header("X-Egate-Case", case.to_string())
        .header("X-Egate-Officer", officer)
        .send()
        .await
        .unwrap()
        .status()
}

/// mobile-api's audit rows of `decl`, newest first.
async fn audit(sys: &System, decl: &str) -> Vec<shared::issuer::presentations::ReadAudit> {
    sys.mobile
        .state
        .db
        .issuer()
        .reads_of(decl.to_owned(), 100)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_kiosks_files_read_no_declaration_and_report_no_use() {
    let _g = EXCLUSIVE.read().await;
    let sys = System::spawn().await;
    let (decl, case) = red_case(&sys, &Traveller::hanako(), &Traveller::erik()).await;
    gate_service::report_uses_now(&sys.gate.state).await;
    // Everything the kiosk reads from the data directory that could pass for a key: the
    // verifier (it holds no key of the gate's), and a leftover single key of an old
    // deployment, which it no longer loads.
    let dir = sys.dir.path();
    let verifier = std::fs::read_to_string(dir.join("use-report.verifier")).unwrap();
    assert_eq!(verifier.trim().len(), 64);
    let kiosk_secrets = [verifier.trim().to_owned(), "0".repeat(64)];
    for secret in &kiosk_secrets {
        assert_eq!(
            read(&sys, secret, &decl, case, "tanaka").await,
            StatusCode::UNAUTHORIZED
        );
        for base in [sys.mobile_internal, sys.kiosk_internal] {
            let r = client()
                .post(format!("http://{base}/v1/internal/uses"))
                .bearer_auth(secret)
                .json(&report_body("/uses"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{base}");
            assert!(r.headers().contains_key("www-authenticate"));
        }
    }
    // The kiosk's state holds the use-report verifier only: its file matches the gate's
    // key, and no key file of the gate's is under the kiosk's directory.
    assert!(!dir.join("kiosk/use-report.key").exists());
    assert!(std::fs::read_dir(dir.join("kiosk")).unwrap().all(|e| {
        let n = e.unwrap().file_name();
        let n = n.to_string_lossy();
        !n.contains("use-report") && !n.contains("declaration-read") && !n.contains("gate-api")
    }));
    // Nothing was recorded: the token is not in any feed as used by these attempts.
    assert!(audit(&sys, &decl).await.is_empty(), "refused before audit");
    println!(
        "RELIABILITY keys: {} kiosk-held secrets x 3 attempts (1 read, 2 use reports): all 401",
        kiosk_secrets.len()
    );
}

#[tokio::test]
async fn each_of_the_gates_keys_does_only_its_job() {
    let _g = EXCLUSIVE.read().await;
    let sys = System::spawn().await;
    let (decl, case) = red_case(&sys, &Traveller::hanako(), &Traveller::erik()).await;
    gate_service::report_uses_now(&sys.gate.state).await;
    let keys = &sys.gate.state.service_keys;
    let (uses, reads) = (keys.use_report.expose(), keys.declaration_read.expose());
    // The use-report key cannot read a declaration, even for the right case.
    assert_eq!(
        read(&sys, uses, &decl, case, "tanaka").await,
        StatusCode::UNAUTHORIZED
    );
    // The declaration-read key cannot post a report to any issuer.
    for base in [sys.mobile_internal, sys.kiosk_internal] {
        for path in ["/v1/internal/uses", "/v1/internal/presentations"] {
            let r = client()
                .post(format!("http://{base}{path}"))
                .bearer_auth(reads)
                .json(&report_body(path))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{base}{path}");
            // Its own key is taken (the made-up token is ignored as unknown).
            let r = client()
                .post(format!("http://{base}{path}"))
                .bearer_auth(uses)
                .json(&report_body(path))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{base}{path}");
            let ack: Value = r.json().await.unwrap();
            assert_eq!(ack["unknown"], 1, "{ack}");
        }
    }
    // And the read key reads, for the right case.
    assert_eq!(
        read(&sys, reads, &decl, case, "tanaka").await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_read_for_a_case_that_did_not_scan_the_declaration_is_refused_and_audited() {
    let _g = EXCLUSIVE.read().await;
    let sys = System::spawn().await;
    let (hanako_decl, hanako_case) = red_case(&sys, &Traveller::hanako(), &Traveller::erik()).await;
    let (erik_decl, _) = red_case(&sys, &Traveller::erik(), &Traveller::hanako()).await;
    gate_service::report_uses_now(&sys.gate.state).await;
    let key = sys.gate.state.service_keys.declaration_read.expose();

    // Hanako's case asks for Erik's declaration (an id read off a photographed QR).
    assert_eq!(
        read(&sys, key, &erik_decl, hanako_case, "tanaka").await,
        StatusCode::FORBIDDEN
    );
    // A case that does not exist, and another gate instance's case of the same number.
    assert_eq!(
        read(&sys, key, &hanako_decl, 999_999, "tanaka").await,
        StatusCode::FORBIDDEN
    );
    let other_gate = client()
        .get(format!(
            "http://{}/v1/internal/declarations/{hanako_decl}",
            sys.mobile_internal
        ))
        .bearer_auth(key)
        .header("X-Egate-Gate", "another-gate")
        .header("X-Egate-Case", hanako_case.to_string())
        .header("X-Egate-Officer", "tanaka")
        .send()
        .await
        .unwrap();
    assert_eq!(other_gate.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        other_gate.headers()["content-type"],
        "application/problem+json"
    );
    // Without the case and officer: 400, before anything is read.
    let bare = client()
        .get(format!(
            "http://{}/v1/internal/declarations/{hanako_decl}",
            sys.mobile_internal
        ))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), StatusCode::BAD_REQUEST);

    let refused = audit(&sys, &erik_decl).await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(!refused[0].allowed);
    assert_eq!(refused[0].reason, "not_presented");
    assert_eq!(refused[0].case_id, hanako_case);
    assert_eq!(refused[0].officer, "tanaka");
    let on_hanako = audit(&sys, &hanako_decl).await;
    assert_eq!(on_hanako.len(), 2, "{on_hanako:?}");
    assert!(on_hanako.iter().all(|a| !a.allowed));
    println!(
        "RELIABILITY keys: 3 reads for cases that did not scan the declaration: 403, 3 audit rows (allowed = 0)"
    );
}

#[tokio::test]
async fn the_console_reads_a_fresh_case_at_once_and_the_issuer_audits_case_and_officer() {
    let _g = EXCLUSIVE.read().await;
    let sys = System::spawn().await;
    gate_service::console::create_officer(
        &sys.gate.state.db,
        "tanaka",
        "Tanaka",
        "officer",
        "correct horse battery staple",
    )
    .await
    .unwrap();
    // The case is opened and read at once: no report flush by the test.
    let (decl, case) = red_case(&sys, &Traveller::hanako(), &Traveller::erik()).await;
    let officer = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = officer
        .get(sys.console_url("/console/login"))
        .send()
        .await
        .unwrap();
    let csrf = tests::csrf_of(&form.text().await.unwrap());
    let r = officer
        .post(sys.console_url("/console/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "tanaka"),
            ("password", "correct horse battery staple"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = officer
        .get(sys.console_url(&format!("/console/cases/{case}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let rows = audit(&sys, &decl).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert!(row.allowed, "{row:?}");
    assert_eq!(
        (row.case_id, row.officer.as_str(), row.reason.as_str()),
        (case, "tanaka", "presented")
    );
    assert_eq!(row.gate, sys.gate.state.config.instance);
    println!(
        "RELIABILITY keys: a case read in the console right after its scan: 200, audited with case {case} and officer tanaka"
    );
}

#[tokio::test]
async fn internal_endpoints_answer_404_on_the_public_listeners_even_with_the_right_key() {
    let _g = EXCLUSIVE.read().await;
    let sys = System::spawn().await;
    let (decl, case) = red_case(&sys, &Traveller::hanako(), &Traveller::erik()).await;
    gate_service::report_uses_now(&sys.gate.state).await;
    let keys = &sys.gate.state.service_keys;
    let mut checked = 0;
    for (method, pattern) in INTERNAL {
        let path = pattern.replace("{id}", &decl);
        let key = if *method == "GET" {
            keys.declaration_read.expose()
        } else {
            keys.use_report.expose()
        };
        for base in [sys.mobile.url(""), sys.kiosk.url("")] {
            let req = client()
                .request(
                    reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                    format!("{base}{path}"),
                )
                .bearer_auth(key)
                .header("X-Egate-Gate", &sys.gate.state.config.instance)
                .header("X-Egate-Case", case.to_string())
                .header("X-Egate-Officer", "tanaka");
            let req = if *method == "POST" {
                req.json(&report_body(&path))
            } else {
                req
            };
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{method} {base}{path}");
            checked += 1;
        }
    }
    // The public OpenAPI still documents them (for gate integrators), tagged internal.
    let doc: Value = client()
        .get(sys.mobile.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/v1/internal/presentations"].is_object());
    println!("RELIABILITY keys: {checked} internal requests on the public listeners: all 404");
}
