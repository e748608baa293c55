//! How a gate follows issuer feeds (docs/trust.md, "How gates follow the feeds"): an
//! issuer that ignores `wait`, or fails it, still reaches the gate by the periodic pull;
//! and one-time use is per issuer, so two issuers' tokens with the same id are each
//! spent once.

use crate::harness::{ANNA, Harness};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use gate_service::IssuerConfig;
use serde_json::{Value, json};
use shared::token::signed_list::{ListPayload, RootPublicKey, sign_list};
use shared::token::{Jwks, SigningKey};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An issuer that does not wait: `fail_waits` answers 500 to requests with `wait`, else
/// `wait` is ignored (an issuer from before long polling).
#[derive(Clone, Default)]
struct OldIssuer {
    list: Arc<Mutex<String>>,
    feed: Arc<Mutex<Value>>,
    fail_waits: bool,
    asked_to_wait: Arc<AtomicUsize>,
}

async fn list(State(f): State<OldIssuer>) -> String {
    f.list.lock().unwrap().clone()
}

async fn feed(State(f): State<OldIssuer>, Query(q): Query<HashMap<String, String>>) -> Response {
    if q.contains_key("wait") {
        f.asked_to_wait.fetch_add(1, Ordering::Relaxed);
        if f.fail_waits {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    // The whole feed, whatever `since` (entries are idempotent at the gate), unless
    // `since` is past its end.
    let feed = f.feed.lock().unwrap().clone();
    let since: i64 = q.get("since").and_then(|s| s.parse().ok()).unwrap_or(0);
    if since >= feed["next_since"].as_i64().unwrap_or(0) {
        return axum::Json(json!({"revocations": [], "next_since": since})).into_response();
    }
    axum::Json(feed).into_response()
}

/// A gate with its background tasks on (long polls asked, a 1 s periodic refresh)
/// following `issuer`; returns the gate and the issuer's signing key.
async fn gate_following(issuer: &OldIssuer) -> (Harness, SigningKey) {
    let app = axum::Router::new()
        .route("/v1/trust-list", get(list))
        .route("/v1/revocations", get(feed))
        .with_state(issuer.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let root = SigningKey::generate().unwrap();
    let key = SigningKey::generate().unwrap();
    // The harness's clock.
    let now = time::macros::datetime!(2026-11-01 09:00 UTC).unix_timestamp();
    *issuer.list.lock().unwrap() = sign_list(
        &root,
        &ListPayload {
            issuer: "mobile-api".into(),
            iat: now - 60,
            not_after: now + 86_400,
            version: 1,
            jwks: Jwks {
                keys: vec![key.jwk()],
            },
        },
    );
    *issuer.feed.lock().unwrap() = json!({"revocations": [], "next_since": 0});
    let h = Harness::with(|c, _| {
        c.root_key = Some(RootPublicKey::of(&root));
        c.issuers = vec![IssuerConfig {
            id: "mobile-api".into(),
            internal_url: None,
            base_url: Some(url),
            jwks_file: None,
        }];
        c.background_tasks = true;
        c.refresh_secs = 1;
        c.feed_wait_secs = 20;
    })
    .await;
    (h, key)
}

/// Revoke token id [9; 16] in `issuer`'s feed, wait (bounded) until the gate holds it,
/// and check the token is refused as superseded.
async fn revoked_through_the_fallback(h: &Harness, issuer: &OldIssuer, key: &SigningKey) {
    let cti = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [9u8; 16]);
    *issuer.feed.lock().unwrap() = json!({"revocations": [
        {"seq": 1, "cti": cti, "reason": "superseded", "at": 1}], "next_since": 1});
    for _ in 0..400 {
        if h.count("SELECT count(*) FROM revoked_tokens").await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let qr = h.token_with(key, &ANNA, |c| c.cti = [9u8; 16]);
    let (_, v) = h.scan(&qr, &ANNA.mrz()).await;
    assert_eq!(v["reasons"][0]["code"], "token.superseded", "{v}");
    // The gate did ask it to wait, and knows it does not.
    assert!(issuer.asked_to_wait.load(Ordering::Relaxed) > 0);
    let (_, health) = h.get("/healthz").await;
    assert_eq!(health["issuers"][0]["feed_waiting"], false, "{health}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issuer_that_ignores_wait_reaches_the_gate_by_the_periodic_pull() {
    let issuer = OldIssuer::default();
    let (h, key) = gate_following(&issuer).await;
    revoked_through_the_fallback(&h, &issuer, &key).await;
    h.state.tasks.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issuer_failing_long_polls_reaches_the_gate_by_the_periodic_pull() {
    let issuer = OldIssuer {
        fail_waits: true,
        ..OldIssuer::default()
    };
    let (h, key) = gate_following(&issuer).await;
    revoked_through_the_fallback(&h, &issuer, &key).await;
    h.state.tasks.stop().await;
}

#[tokio::test]
async fn two_issuers_tokens_with_the_same_id_are_each_spent_once() {
    let kiosk_key = SigningKey::generate().unwrap();
    let h = Harness::with(|c, _| {
        let path = c.data_dir.join("kiosk.jwks.json");
        std::fs::write(
            &path,
            serde_json::to_vec(&Jwks {
                keys: vec![kiosk_key.jwk()],
            })
            .unwrap(),
        )
        .unwrap();
        c.issuers.push(IssuerConfig {
            id: "kiosk:T1".into(),
            internal_url: None,
            base_url: None,
            jwks_file: Some(path),
        });
    })
    .await;
    let same = [4u8; 16];
    let mobile_qr = h.token_with(&h.key, &ANNA, |c| c.cti = same);
    let kiosk_qr = h.token_with(&kiosk_key, &ANNA, |c| {
        c.iss = "kiosk:T1".into();
        c.cti = same;
    });
    for qr in [&mobile_qr, &kiosk_qr] {
        let (_, v) = h.scan(qr, &ANNA.mrz()).await;
        assert_eq!(
            v["decision"], "green",
            "each issuer's token is spent once: {v}"
        );
    }
    for qr in [&mobile_qr, &kiosk_qr] {
        let (_, v) = h.scan(qr, &ANNA.mrz()).await;
        assert_eq!(v["reasons"][0]["code"], "token.replayed", "{v}");
    }
    assert_eq!(h.count("SELECT count(*) FROM used_tokens").await, 2);
}

/// A feed holding entries 1 and 2 whose answers to `since=0`, once armed, wait until two
/// such requests are in (so two pulls have both read the cursor before either stores).
#[derive(Clone)]
struct RacedFeed {
    armed: Arc<std::sync::atomic::AtomicBool>,
    both_in: Arc<tokio::sync::Barrier>,
}

async fn raced_feed(
    State(f): State<RacedFeed>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let since: i64 = q.get("since").and_then(|s| s.parse().ok()).unwrap_or(0);
    if since > 0 || !f.armed.load(Ordering::Relaxed) {
        return axum::Json(json!({"revocations": [], "next_since": since})).into_response();
    }
    f.both_in.wait().await;
    let b64 = |n: u8| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [n; 16]);
    axum::Json(json!({"revocations": [
        {"seq": 1, "cti": b64(1), "reason": "superseded", "at": 1},
        {"seq": 2, "cti": b64(2), "reason": "used", "at": 1}], "next_since": 2}))
    .into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_pulls_of_one_feed_at_once_store_it_once_and_the_cursor_never_goes_back() {
    let feed = RacedFeed {
        armed: Arc::default(),
        both_in: Arc::new(tokio::sync::Barrier::new(2)),
    };
    let app = axum::Router::new()
        .route("/v1/revocations", get(raced_feed))
        .with_state(feed.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let issuer = IssuerConfig {
        id: "mobile-api".into(),
        internal_url: None,
        base_url: Some(url.clone()),
        jwks_file: None,
    };
    let h = Harness::with(|c, _| c.issuers = vec![issuer.clone()]).await;
    feed.armed.store(true, Ordering::Relaxed);
    // The follower's pull and the periodic refresh's, at once.
    let (a, b) = tokio::join!(
        gate_service::follow::pull_revocations(&h.state, &issuer, &url, None),
        gate_service::follow::pull_revocations(&h.state, &issuer, &url, None),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(
        a.raced != b.raced,
        "exactly one pull stores the page: {a:?} {b:?}"
    );
    assert_eq!(a.new + b.new, 2);
    assert_eq!(h.count("SELECT count(*) FROM revoked_tokens").await, 2);
    assert_eq!(
        h.count("SELECT next_since FROM revocation_marks WHERE issuer = 'mobile-api'")
            .await,
        2
    );
}
