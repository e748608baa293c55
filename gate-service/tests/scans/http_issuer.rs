//! The gate against an issuer over HTTP: keys and revocations are pulled; when the
//! issuer fails, the last good keys stay and `/healthz` says so.

use crate::harness::{ANNA, Harness};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use base64::Engine as _;
use gate_service::IssuerConfig;
use serde_json::{Value, json};
use shared::token::{Jwks, SigningKey};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Clone)]
struct Issuer {
    jwks: Jwks,
    root: Arc<SigningKey>,
    revoked: Arc<Mutex<Vec<[u8; 16]>>>,
    up: Arc<Mutex<bool>>,
}

/// The key set signed by the operator root key, as a gate takes it.
async fn trust_list(State(s): State<Issuer>) -> Result<String, StatusCode> {
    if !*s.up.lock().unwrap() {
        return Err(StatusCode::SERVICE_UNAVAILABLE);
    }
    let payload = shared::token::signed_list::ListPayload {
        issuer: "mobile-api".into(),
        iat: 0,
        not_after: i64::MAX / 2,
        version: 1,
        jwks: s.jwks.clone(),
    };
    Ok(shared::token::signed_list::sign_list(&s.root, &payload))
}

async fn revocations(
    State(s): State<Issuer>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, StatusCode> {
    if !*s.up.lock().unwrap() {
        return Err(StatusCode::SERVICE_UNAVAILABLE);
    }
    let since: usize = q.get("since").and_then(|s| s.parse().ok()).unwrap_or(0);
    let all = s.revoked.lock().unwrap().clone();
    let page: Vec<Value> = all
        .iter()
        .enumerate()
        .skip(since)
        .map(|(i, cti)| {
            json!({
                "seq": i + 1,
                "cti": base64::engine::general_purpose::STANDARD.encode(cti),
                "reason": "superseded",
            })
        })
        .collect();
    Ok(Json(
        json!({ "revocations": page, "next_since": all.len() }),
    ))
}

#[tokio::test]
async fn revocations_pulled_from_an_issuer_refuse_the_token_and_a_failing_issuer_keeps_its_keys() {
    let key = SigningKey::generate().unwrap();
    let issuer = Issuer {
        jwks: Jwks {
            keys: vec![key.jwk()],
        },
        root: Arc::new(SigningKey::generate().unwrap()),
        revoked: Arc::default(),
        up: Arc::new(Mutex::new(true)),
    };
    let app = axum::Router::new()
        .route("/v1/trust-list", get(trust_list))
        .route("/v1/revocations", get(revocations))
        .with_state(issuer.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let root_key = shared::token::signed_list::RootPublicKey::of(&issuer.root);
    let h = Harness::with(|c, _| {
        c.root_key = Some(root_key);
        c.issuers = vec![IssuerConfig {
            id: "mobile-api".into(),
            internal_url: None,
            base_url: Some(url.clone()),
            jwks_file: None,
        }];
    })
    .await;
    let cti = [4u8; 16];
    let revoked_qr = h.token_with(&key, &ANNA, |c| c.cti = cti);
    issuer.revoked.lock().unwrap().push(cti);
    gate_service::refresh_now(&h.state).await;
    let (_, v) = h.scan(&revoked_qr, &ANNA.mrz()).await;
    assert_eq!(v["reasons"][0]["code"], "token.superseded", "{v}");

    *issuer.up.lock().unwrap() = false;
    h.clock.advance(time::Duration::seconds(90));
    gate_service::refresh_now(&h.state).await;
    let (_, v) = h
        .scan(&h.token_with(&key, &ANNA, |_| {}), &ANNA.mrz())
        .await;
    assert_eq!(v["decision"], "green", "last good keys stay: {v}");
    let (_, health) = h.get("/healthz").await;
    let st = &health["issuers"][0];
    assert_eq!(st["keys"], 1);
    assert_eq!(st["keys_age_secs"], 90);
    assert!(st["last_error"].as_str().is_some(), "{health}");
}
