//! Attacks on the gate's trust over real HTTP (docs/trust.md): an issuer (or whoever is
//! on its path) serving a forged, rolled-back or foreign trust list, or a revocation
//! page that would skip the feed. Each is refused and the gate keeps deciding with what
//! it held.

use crate::harness::{ANNA, Harness};
use axum::extract::State;
use axum::routing::get;
use gate_service::IssuerConfig;
use serde_json::{Value, json};
use shared::token::signed_list::{ListPayload, RootPublicKey, sign_list};
use shared::token::{Jwks, SigningKey};
use std::sync::{Arc, Mutex};

/// An issuer whose answers the test sets.
#[derive(Clone, Default)]
struct Fake {
    list: Arc<Mutex<String>>,
    feed: Arc<Mutex<Value>>,
}

async fn list(State(f): State<Fake>) -> String {
    f.list.lock().unwrap().clone()
}

async fn feed(State(f): State<Fake>) -> axum::Json<Value> {
    axum::Json(f.feed.lock().unwrap().clone())
}

struct Setup {
    h: Harness,
    fake: Fake,
    root: SigningKey,
    issuer_key: SigningKey,
}

fn signed(root: &SigningKey, issuer: &str, version: i64, keys: &[&SigningKey], now: i64) -> String {
    sign_list(
        root,
        &ListPayload {
            issuer: issuer.into(),
            iat: now - 60,
            not_after: now + 86_400,
            version,
            jwks: Jwks {
                keys: keys.iter().map(|k| k.jwk()).collect(),
            },
        },
    )
}

async fn setup() -> Setup {
    let fake = Fake::default();
    *fake.feed.lock().unwrap() = json!({"revocations": [], "next_since": 0});
    let app = axum::Router::new()
        .route("/v1/trust-list", get(list))
        .route("/v1/revocations", get(feed))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let root = SigningKey::generate().unwrap();
    let root_pk = RootPublicKey::of(&root);
    let h = Harness::with(|c, _| {
        c.root_key = Some(root_pk);
        c.issuers = vec![IssuerConfig {
            id: "mobile-api".into(),
            internal_url: None,
            base_url: Some(url),
            jwks_file: None,
        }];
    })
    .await;
    let issuer_key = SigningKey::generate().unwrap();
    let now = h.state.clock.unix();
    *fake.list.lock().unwrap() = signed(&root, "mobile-api", 5, &[&issuer_key], now);
    gate_service::refresh_now(&h.state).await;
    Setup {
        h,
        fake,
        root,
        issuer_key,
    }
}

async fn decide(h: &Harness, key: &SigningKey) -> Value {
    let (_, v) = h.scan(&h.token_with(key, &ANNA, |_| {}), &ANNA.mrz()).await;
    v
}

async fn last_error(h: &Harness) -> String {
    let (_, health) = h.get("/healthz").await;
    health["issuers"][0]["last_error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_forged_a_rolled_back_and_a_foreign_trust_list_are_refused() {
    let s = setup().await;
    let now = s.h.state.clock.unix();
    assert_eq!(decide(&s.h, &s.issuer_key).await["decision"], "green");
    let attacker = SigningKey::generate().unwrap();

    // Forged: signed by another root key, with the attacker's key.
    let other_root = SigningKey::generate().unwrap();
    *s.fake.list.lock().unwrap() = signed(
        &other_root,
        "mobile-api",
        9,
        &[&s.issuer_key, &attacker],
        now,
    );
    gate_service::refresh_now(&s.h.state).await;
    assert!(
        last_error(&s.h).await.contains("signature"),
        "{}",
        last_error(&s.h).await
    );
    let v = decide(&s.h, &attacker).await;
    assert_eq!(v["reasons"][0]["code"], "token.unknown_kid", "{v}");

    // Unsigned: the plain JWKS.
    *s.fake.list.lock().unwrap() = serde_json::to_string(&Jwks {
        keys: vec![attacker.jwk()],
    })
    .unwrap();
    gate_service::refresh_now(&s.h.state).await;
    assert!(
        last_error(&s.h).await.contains("refused"),
        "{}",
        last_error(&s.h).await
    );
    assert_eq!(
        decide(&s.h, &attacker).await["reasons"][0]["code"],
        "token.unknown_kid"
    );

    // Rolled back: genuinely signed, but version 3 < the 5 held.
    *s.fake.list.lock().unwrap() = signed(&s.root, "mobile-api", 3, &[&attacker], now);
    gate_service::refresh_now(&s.h.state).await;
    assert!(
        last_error(&s.h).await.contains("rollback"),
        "{}",
        last_error(&s.h).await
    );
    assert_eq!(
        decide(&s.h, &attacker).await["reasons"][0]["code"],
        "token.unknown_kid"
    );

    // Another issuer's list served in mobile-api's place.
    *s.fake.list.lock().unwrap() = signed(&s.root, "kiosk:T1", 7, &[&attacker], now);
    gate_service::refresh_now(&s.h.state).await;
    assert!(
        last_error(&s.h).await.contains("kiosk:T1"),
        "{}",
        last_error(&s.h).await
    );
    assert_eq!(
        decide(&s.h, &attacker).await["reasons"][0]["code"],
        "token.unknown_kid"
    );

    // Throughout, the genuine key stayed trusted; a newer genuine list is taken.
    assert_eq!(decide(&s.h, &s.issuer_key).await["decision"], "green");
    let rotated = SigningKey::generate().unwrap();
    *s.fake.list.lock().unwrap() =
        signed(&s.root, "mobile-api", 6, &[&s.issuer_key, &rotated], now);
    gate_service::refresh_now(&s.h.state).await;
    assert_eq!(last_error(&s.h).await, "");
    assert_eq!(decide(&s.h, &rotated).await["decision"], "green");
    let stored =
        s.h.count("SELECT version FROM trust_lists WHERE issuer = 'mobile-api'")
            .await;
    assert_eq!(stored, 6);
}

#[tokio::test]
async fn a_huge_or_inconsistent_next_since_is_refused_and_the_cursor_stays() {
    let s = setup().await;
    let cursor = || {
        s.h.count("SELECT coalesce(max(next_since), 0) FROM revocation_marks")
    };
    // An empty page claiming the feed ends at i64::MAX would switch it off for good.
    *s.fake.feed.lock().unwrap() =
        json!({"revocations": [], "next_since": 9_223_372_036_854_775_807i64});
    gate_service::refresh_now(&s.h.state).await;
    assert!(
        last_error(&s.h).await.contains("next_since"),
        "{}",
        last_error(&s.h).await
    );
    assert_eq!(cursor().await, 0);
    // Entries out of order are refused whole.
    let cti = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [9u8; 16]);
    *s.fake.feed.lock().unwrap() = json!({"revocations": [
        {"seq": 2, "cti": cti, "reason": "superseded", "at": 1},
        {"seq": 1, "cti": cti, "reason": "superseded", "at": 1}], "next_since": 1});
    gate_service::refresh_now(&s.h.state).await;
    assert!(
        last_error(&s.h).await.contains("sequence"),
        "{}",
        last_error(&s.h).await
    );
    assert_eq!(cursor().await, 0);
    // An entry whose token id does not decode refuses the page: dropping it and moving
    // the cursor past it would leave that token unrevoked for good.
    *s.fake.feed.lock().unwrap() = json!({"revocations": [
        {"seq": 1, "cti": "not base64 of 16 bytes", "reason": "superseded", "at": 1}],
        "next_since": 1});
    gate_service::refresh_now(&s.h.state).await;
    assert!(
        last_error(&s.h).await.contains("token id"),
        "{}",
        last_error(&s.h).await
    );
    assert_eq!(cursor().await, 0);
    // The issuer's genuine entry 1 then still applies.
    *s.fake.feed.lock().unwrap() = json!({"revocations": [
        {"seq": 1, "cti": cti, "reason": "superseded", "at": 1}], "next_since": 1});
    gate_service::refresh_now(&s.h.state).await;
    assert_eq!(cursor().await, 1);
    let qr = s.h.token_with(&s.issuer_key, &ANNA, |c| c.cti = [9u8; 16]);
    let (_, v) = s.h.scan(&qr, &ANNA.mrz()).await;
    assert_eq!(v["reasons"][0]["code"], "token.superseded", "{v}");
}

#[tokio::test]
async fn a_trust_list_over_one_mebibyte_is_refused_unread() {
    let s = setup().await;
    *s.fake.list.lock().unwrap() = "A".repeat((1 << 20) + 1);
    gate_service::refresh_now(&s.h.state).await;
    assert!(
        last_error(&s.h).await.contains("over 1048576 bytes"),
        "{}",
        last_error(&s.h).await
    );
    assert_eq!(decide(&s.h, &s.issuer_key).await["decision"], "green");
}

#[tokio::test]
async fn one_issuers_feed_cannot_revoke_another_issuers_tokens() {
    // Two issuers, each serving its own signed list and feed.
    let (mobile, kiosk) = (Fake::default(), Fake::default());
    let mut urls = Vec::new();
    for fake in [&mobile, &kiosk] {
        *fake.feed.lock().unwrap() = json!({"revocations": [], "next_since": 0});
        let app = axum::Router::new()
            .route("/v1/trust-list", get(list))
            .route("/v1/revocations", get(feed))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        urls.push(format!("http://{}", listener.local_addr().unwrap()));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    }
    let root = SigningKey::generate().unwrap();
    let root_pk = RootPublicKey::of(&root);
    let h = Harness::with(|c, _| {
        c.root_key = Some(root_pk);
        c.issuers = ["mobile-api", "kiosk:T1"]
            .iter()
            .zip(&urls)
            .map(|(id, url)| IssuerConfig {
                id: (*id).into(),
                internal_url: None,
                base_url: Some(url.clone()),
                jwks_file: None,
            })
            .collect();
    })
    .await;
    let (mobile_key, kiosk_key) = (
        SigningKey::generate().unwrap(),
        SigningKey::generate().unwrap(),
    );
    let now = h.state.clock.unix();
    *mobile.list.lock().unwrap() = signed(&root, "mobile-api", 1, &[&mobile_key], now);
    *kiosk.list.lock().unwrap() = signed(&root, "kiosk:T1", 1, &[&kiosk_key], now);
    // mobile-api's feed names a token id the kiosk issued (a compromised issuer, or
    // whoever is on its path, trying to shut another issuer's passengers out), and one of
    // its own.
    let (kiosks, own) = ([7u8; 16], [8u8; 16]);
    let b64 =
        |cti: [u8; 16]| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, cti);
    *mobile.feed.lock().unwrap() = json!({"revocations": [
        {"seq": 1, "cti": b64(kiosks), "reason": "superseded", "at": 1},
        {"seq": 2, "cti": b64(own), "reason": "superseded", "at": 1}], "next_since": 2});
    gate_service::refresh_now(&h.state).await;
    let kiosk_qr = h.token_with(&kiosk_key, &ANNA, |c| {
        c.iss = "kiosk:T1".into();
        c.cti = kiosks;
    });
    let (_, v) = h.scan(&kiosk_qr, &ANNA.mrz()).await;
    assert_eq!(v["decision"], "green", "the kiosk's token stands: {v}");
    // The feed does revoke mobile-api's own token.
    let mobile_qr = h.token_with(&mobile_key, &ANNA, |c| c.cti = own);
    let (_, v) = h.scan(&mobile_qr, &ANNA.mrz()).await;
    assert_eq!(v["reasons"][0]["code"], "token.superseded", "{v}");
}

#[tokio::test]
async fn revocations_are_forgotten_a_day_after_their_tokens_expire() {
    let s = setup().await;
    let now = s.h.state.clock.unix();
    let b64 = |n: u8| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [n; 16]);
    *s.fake.feed.lock().unwrap() = json!({"revocations": [
        {"seq": 1, "cti": b64(1), "reason": "superseded", "at": 1, "exp": now - 2 * 86_400},
        {"seq": 2, "cti": b64(2), "reason": "superseded", "at": 1, "exp": now + 86_400},
        {"seq": 3, "cti": b64(3), "reason": "used", "at": 1}], "next_since": 3});
    gate_service::refresh_now(&s.h.state).await;
    assert_eq!(s.h.count("SELECT count(*) FROM revoked_tokens").await, 3);
    gate_service::purge_expired(&s.h.state, now).await.unwrap();
    // The entry whose token expired two days ago is gone; the current one and the one
    // without an expiry stay.
    assert_eq!(
        s.h.count("SELECT count(*) FROM revoked_tokens WHERE exp IS NULL OR exp > 0")
            .await,
        2
    );
    assert_eq!(
        s.h.count("SELECT count(*) FROM revoked_tokens WHERE seq = 1")
            .await,
        0
    );
}

#[tokio::test]
async fn an_issuer_restored_below_the_gates_mark_is_read_again_from_its_new_epoch() {
    let s = setup().await;
    let cursor = || {
        s.h.count("SELECT coalesce(max(next_since), 0) FROM revocation_marks")
    };
    let b64 = |n: u8| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [n; 16]);
    let entry =
        |seq: i64, n: u8| json!({"seq": seq, "cti": b64(n), "reason": "superseded", "at": 1});
    // The gate has read the feed of epoch e1 up to 3.
    *s.fake.feed.lock().unwrap() = json!({"revocations": [entry(1, 1), entry(2, 2), entry(3, 3)],
        "next_since": 3, "epoch": "e1"});
    gate_service::refresh_now(&s.h.state).await;
    assert_eq!(cursor().await, 3);
    // The issuer's database is restored from a backup holding only entry 1, under a new
    // epoch; its next supersession takes number 2 again. Asked from 3 it answers nothing
    // new, but the epoch differs: the gate reads the feed again from 0.
    let restored =
        json!({"revocations": [entry(1, 1), entry(2, 9)], "next_since": 2, "epoch": "e2"});
    let feed = s.fake.feed.clone();
    *feed.lock().unwrap() = restored;
    gate_service::refresh_now(&s.h.state).await;
    assert_eq!(cursor().await, 2, "the mark follows the new epoch");
    let qr = s.h.token_with(&s.issuer_key, &ANNA, |c| c.cti = [9u8; 16]);
    let (_, v) = s.h.scan(&qr, &ANNA.mrz()).await;
    assert_eq!(v["reasons"][0]["code"], "token.superseded", "{v}");
}
