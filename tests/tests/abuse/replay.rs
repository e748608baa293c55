//! Item 4: one-time use under concurrency. 200 tokens, each scanned 64 times at once
//! over real HTTP: exactly one scan per token is decided without `token.replayed`; a
//! re-encoded copy (zlib ↔ plain, the same COSE bytes) of a used token is refused too.

use super::*;
use serde_json::{Value, json};
use std::time::Instant;
use tokio::task::JoinSet;

const ROUNDS: usize = 200;
const CONCURRENT: usize = 64;

async fn post_scan(
    client: reqwest::Client,
    url: String,
    key: String,
    qr: String,
    mrz: String,
) -> Value {
    let r = client
        .post(url)
        .bearer_auth(key)
        .json(&json!({"qr": qr, "mrz": mrz}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "a scan always gets a decision");
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_scans_of_one_token_accept_exactly_one_in_each_of_200_rounds() {
    let _g = EXCLUSIVE.read().await;
    let sys = System::spawn().await;
    let hanako = Traveller::hanako();
    let mrz = hanako.mrz();
    // The tokens, issued by mobile-api over HTTP, 8 at a time.
    let started = Instant::now();
    let mut tokens = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS / 8 {
        let mut set = JoinSet::new();
        for _ in 0..8 {
            let (sys_http, url, body) = (
                sys.http.clone(),
                sys.mobile.url("/v1/declarations"),
                hanako.declaration(json!([])),
            );
            set.spawn(async move {
                let r = sys_http.post(url).json(&body).send().await.unwrap();
                assert_eq!(r.status(), 201);
                let v: Value = r.json().await.unwrap();
                v["qr"]["text"].as_str().unwrap().to_owned()
            });
        }
        while let Some(t) = set.join_next().await {
            tokens.push(t.unwrap());
        }
    }
    let issued = started.elapsed();

    // One connection per concurrent scanner (no pooling across the 64 in flight).
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENT)
        .build()
        .unwrap();
    let url = sys.gate.url("/v1/scans");
    let started = Instant::now();
    for (round, qr) in tokens.iter().enumerate() {
        let mut set = JoinSet::new();
        for _ in 0..CONCURRENT {
            set.spawn(post_scan(
                client.clone(),
                url.clone(),
                sys.gate_key.clone(),
                qr.clone(),
                mrz.clone(),
            ));
        }
        let mut accepted = 0;
        while let Some(d) = set.join_next().await {
            let d = d.unwrap();
            let c = codes(&d);
            if c.iter().any(|c| c == "token.replayed") {
                assert_eq!(d["decision"], "red", "{d}");
            } else {
                assert_eq!(d["decision"], "green", "round {round}: {d}");
                accepted += 1;
            }
        }
        assert_eq!(
            accepted, 1,
            "round {round}: exactly one scan may use the token"
        );
    }
    let scanned = started.elapsed();
    // The gate recorded one use per token and 64 scans per token.
    let (used, scans): (i64, i64) = sys
        .gate
        .state
        .db
        .read(|c| {
            Ok::<_, shared::db::DbError>((
                c.query_row("SELECT count(*) FROM used_tokens", [], |r| r.get(0))?,
                c.query_row("SELECT count(*) FROM scans", [], |r| r.get(0))?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(used as usize, ROUNDS);
    assert_eq!(scans as usize, ROUNDS * CONCURRENT);
    println!(
        "RELIABILITY item4: {ROUNDS} tokens issued in {:.2}s; {} scans ({CONCURRENT} concurrent per token) in {:.2}s = {:.0} scans/s; exactly one accepted per token",
        issued.as_secs_f64(),
        ROUNDS * CONCURRENT,
        scanned.as_secs_f64(),
        (ROUNDS * CONCURRENT) as f64 / scanned.as_secs_f64()
    );
}

#[tokio::test]
async fn a_reencoded_copy_of_a_used_token_is_refused_as_replayed() {
    let _g = EXCLUSIVE.read().await;
    let sys = System::spawn().await;
    let hanako = Traveller::hanako();
    let qr = green_qr(&sys, &hanako).await;
    let copy = reencoded(&qr);
    assert_ne!(copy, qr, "a different text");
    let first = sys.scan(&qr, &hanako.mrz()).await;
    assert_eq!(first["decision"], "green", "{first}");
    let second = sys.scan(&copy, &hanako.mrz()).await;
    assert_eq!(second["decision"], "red", "{second}");
    assert!(
        codes(&second).contains(&"token.replayed".to_owned()),
        "{second}"
    );
    // And the other way round: the re-encoded copy used first, the original refused.
    let qr2 = green_qr(&sys, &hanako).await;
    let copy2 = reencoded(&qr2);
    assert_eq!(sys.scan(&copy2, &hanako.mrz()).await["decision"], "green");
    let again = sys.scan(&qr2, &hanako.mrz()).await;
    assert!(
        codes(&again).contains(&"token.replayed".to_owned()),
        "{again}"
    );
}
