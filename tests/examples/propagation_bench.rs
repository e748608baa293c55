//! The propagation benchmark (bench/propagation.sh; figures in BENCHMARKS.md): one
//! mobile-api and four gate-service instances, in this process on port 0, under a
//! steady stream of amendments (PUT of a declaration: its old token superseded) and
//! scans (a first use at one gate: the token enters the feed as used). It measures, per
//! (amendment, gate), the time from the amendment's acknowledgement to the gate having
//! stored the feed entry (the moment its scans refuse the old token; the gate's database
//! is read every 10 ms), and per (use, other gate) the time from
//! the scan's answer to the same. Twice: gates following the feed by long polling, then,
//! as the baseline of the same run, gates with long polling off that pull every
//! `FALLBACK_SECS`.
//!
//! Environment: `SECS` (default 30) of stream per mode, `AMEND_PER_SEC` (5),
//! `SCANS_PER_SEC` (2), `FALLBACK_SECS` (5), `WAIT_SECS` (20).

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tests::gates::Gate;
use tests::{System, Traveller};

const GATES: usize = 4;
/// How often each gate's database is read for new feed entries (the resolution).
const PROBE_EVERY: Duration = Duration::from_millis(10);

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// An entry to follow: kind, token id, when it was acknowledged, and the gate that does
/// not count (the one that scanned a used token).
type Event = (&'static str, String, Instant, Option<usize>);

/// When each gate stored each token id's feed entry: (gate, cti) → instant.
type Applied = Arc<Mutex<HashMap<(usize, String), Instant>>>;

/// Record when `gate` stores each of mobile-api's feed entries: its database read every
/// [`PROBE_EVERY`] (the gate's `revoked_tokens` has no row ids, so SQLite's update hook,
/// and with it the database's change signal, does not see it).
fn watch(gate: &Gate, index: usize, applied: Applied) -> tokio::task::JoinHandle<()> {
    let db = gate.running.state.db.clone();
    tokio::spawn(async move {
        let mut last = 0i64;
        loop {
            let after = last;
            let rows: Vec<(Vec<u8>, i64)> = db
                .read(move |c| -> Result<_, shared::db::DbError> {
                    let mut s = c.prepare_cached(
                        "SELECT cti, seq FROM revoked_tokens
                          WHERE issuer = 'mobile-api' AND seq > ?1 ORDER BY seq",
                    )?;
                    let rows = s
                        .query_map([after], |r| Ok((r.get(0)?, r.get(1)?)))?
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok(rows)
                })
                .await
                .unwrap_or_default();
            let now = Instant::now();
            if let Ok(mut a) = applied.lock() {
                for (cti, seq) in rows {
                    last = last.max(seq);
                    a.entry((index, shared::feed::cti_base64(&cti)))
                        .or_insert(now);
                }
            }
            tokio::time::sleep(PROBE_EVERY).await;
        }
    })
}

/// The token id (standard base64) of a QR text issued by mobile-api (verified with its
/// published keys).
fn cti_of(qr: &str, trust: &shared::token::TrustList) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let opts = shared::token::VerifyOptions { now, skew_secs: 60 };
    let v = shared::token::decode_and_verify(qr, trust, opts).expect("mobile-api's token");
    shared::feed::cti_base64(&v.claims.cti)
}

struct Figures {
    count: usize,
    missing: usize,
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
}

fn figures(mut ms: Vec<f64>, missing: usize) -> Figures {
    ms.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| {
        if ms.is_empty() {
            return f64::NAN;
        }
        let rank = ((q * ms.len() as f64).ceil() as usize).clamp(1, ms.len());
        ms[rank - 1]
    };
    Figures {
        count: ms.len(),
        missing,
        p50: at(0.50),
        p90: at(0.90),
        p99: at(0.99),
        max: at(1.0),
    }
}

/// One mode: four gates asking `wait` (0: none) and refreshing every `refresh`.
async fn run(sys: &System, label: &str, wait: u64, refresh: u64) -> (Figures, Figures) {
    let secs: u64 = env_or("SECS", 30);
    let amend_rate: f64 = env_or("AMEND_PER_SEC", 5.0);
    let scan_rate: f64 = env_or("SCANS_PER_SEC", 2.0);
    let mut gates = Vec::new();
    for i in 0..GATES {
        gates.push(
            sys.spawn_gate(&format!("G-BENCH-{label}-{i}"), wait, refresh)
                .await,
        );
    }
    let applied: Applied = Arc::default();
    let watchers: Vec<_> = gates
        .iter()
        .enumerate()
        .map(|(i, g)| watch(g, i, applied.clone()))
        .collect();
    let keys: shared::token::Jwks = sys
        .http
        .get(sys.mobile.url("/v1/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut trust = shared::token::TrustList::new();
    trust.add_jwks(&keys).unwrap();
    let trust = Arc::new(trust);
    let hanako = Traveller::hanako();
    // The declarations amended (round robin) and those whose QR is scanned once.
    let mut amended = Vec::new();
    for _ in 0..20 {
        let (_, d) = sys.declare(&hanako.declaration(json!([]))).await;
        amended.push((
            d["id"].as_str().unwrap().to_owned(),
            d["edit_token"].as_str().unwrap().to_owned(),
            1i64,
            d["qr"]["text"].as_str().unwrap().to_owned(),
        ));
    }
    let n_scans = (scan_rate * secs as f64).ceil() as usize;
    let mut to_scan = Vec::new();
    for _ in 0..n_scans {
        let (_, d) = sys.declare(&hanako.declaration(json!([]))).await;
        let qr = d["qr"]["text"].as_str().unwrap().to_owned();
        to_scan.push((cti_of(&qr, &trust), qr));
    }
    // Long polling: start once every gate's poll waits at the issuer.
    if wait > 0 {
        let store = sys.mobile.state.issuer_endpoints().store;
        for _ in 0..200 {
            if shared::issuer::feed_wait::waiting(&store) >= GATES {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // (kind, cti, acknowledged at, gates that count: all, or all but the scanning one).
    let events: Arc<Mutex<Vec<Event>>> = Arc::default();
    let start = Instant::now();
    let end = start + Duration::from_secs(secs);
    let amend = {
        let events = events.clone();
        let http = sys.http.clone();
        let url = sys.mobile.url("/v1/declarations/");
        let hanako = hanako.clone();
        let trust = trust.clone();
        async move {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / amend_rate));
            let mut i = 0usize;
            while Instant::now() < end {
                tick.tick().await;
                let (id, token, rev, qr) = &mut amended[i % 20];
                i += 1;
                let items = if *rev % 2 == 1 {
                    json!([{"category": "whisky", "quantity": 1, "volume_ml": 750,
                        "value": {"amount": 30.0, "currency": "USD"}}])
                } else {
                    json!([])
                };
                let r = http
                    .put(format!("{url}{id}"))
                    .bearer_auth(&*token)
                    .json(&hanako.declaration(items))
                    .send()
                    .await
                    .unwrap();
                let acked = Instant::now();
                assert_eq!(r.status(), 200, "amendment refused");
                let revised: Value = r.json().await.unwrap();
                *rev += 1;
                // The previous QR's token is the one superseded.
                let cti = cti_of(qr, &trust);
                *qr = revised["qr"]["text"].as_str().unwrap().to_owned();
                events.lock().unwrap().push(("amendment", cti, acked, None));
            }
        }
    };
    let scan = {
        let events = events.clone();
        let http = sys.http.clone();
        let targets: Vec<(String, String)> = gates
            .iter()
            .map(|g| (g.running.url("/v1/scans"), g.device_key.clone()))
            .collect();
        let mrz = hanako.mrz();
        async move {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / scan_rate));
            for (i, (cti, qr)) in to_scan.into_iter().enumerate() {
                tick.tick().await;
                if Instant::now() >= end {
                    break;
                }
                let (url, key) = &targets[i % GATES];
                let r = http
                    .post(url)
                    .bearer_auth(key)
                    .json(&json!({"qr": qr, "mrz": mrz}))
                    .send()
                    .await
                    .unwrap();
                let answered = Instant::now();
                let v: Value = r.json().await.unwrap();
                assert_eq!(v["decision"], "green", "a first use is GREEN: {v}");
                events
                    .lock()
                    .unwrap()
                    .push(("use", cti, answered, Some(i % GATES)));
            }
        }
    };
    tokio::join!(amend, scan);
    let events: Vec<_> = events.lock().unwrap().clone();
    let expected = |kind: &str| {
        events
            .iter()
            .filter(|e| e.0 == kind)
            .map(|e| GATES - usize::from(e.3.is_some()))
            .sum::<usize>()
    };
    let seen = |kind: &str| {
        let a = applied.lock().unwrap();
        events
            .iter()
            .filter(|e| e.0 == kind)
            .flat_map(|e| {
                (0..GATES)
                    .filter(move |g| Some(*g) != e.3)
                    .map(move |g| (e, g))
            })
            .filter(|(e, g)| a.contains_key(&(*g, e.1.clone())))
            .count()
    };
    // Drain: at most the fallback period and 10 s more for the last entries.
    let drain_until = Instant::now() + Duration::from_secs(refresh.min(60) + 10);
    while Instant::now() < drain_until
        && (seen("amendment") < expected("amendment") || seen("use") < expected("use"))
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let a = applied.lock().unwrap().clone();
    let latencies = |kind: &str| {
        let mut ms = Vec::new();
        let mut missing = 0;
        for e in events.iter().filter(|e| e.0 == kind) {
            for g in (0..GATES).filter(|g| Some(*g) != e.3) {
                match a.get(&(g, e.1.clone())) {
                    // Stored before the acknowledgement reached the client: 0.
                    Some(t) => ms.push(t.saturating_duration_since(e.2).as_secs_f64() * 1000.0),
                    None => missing += 1,
                }
            }
        }
        figures(ms, missing)
    };
    let out = (latencies("amendment"), latencies("use"));
    for w in watchers {
        w.abort();
    }
    for mut g in gates {
        g.running.stop().await;
    }
    out
}

fn row(mode: &str, what: &str, f: &Figures) {
    println!(
        "| {mode} | {what} | {} | {} | {:.0} | {:.0} | {:.0} | {:.0} |",
        f.count, f.missing, f.p50, f.p90, f.p99, f.max
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let fallback: u64 = env_or("FALLBACK_SECS", 5);
    let sys = System::spawn().await;
    let started = Instant::now();
    let wait: u64 = env_or("WAIT_SECS", 20);
    let (lp_amend, lp_use) = run(&sys, "lp", wait, 3600).await;
    let (poll_amend, poll_use) = run(&sys, "poll", 0, fallback).await;
    println!(
        "| mode | entry | samples | missing | p50 ms | p90 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|---|"
    );
    let lp = format!("long polling (wait {wait} s, refresh 3600 s)");
    row(&lp, "amendment → 4 gates", &lp_amend);
    row(&lp, "use → 3 other gates", &lp_use);
    row(
        &format!("polling only (refresh {fallback} s)"),
        "amendment → 4 gates",
        &poll_amend,
    );
    row(
        &format!("polling only (refresh {fallback} s)"),
        "use → 3 other gates",
        &poll_use,
    );
    println!(
        "p99 ratio polling/long polling (amendments): {:.1}x; run {:.0} s",
        poll_amend.p99 / lp_amend.p99.max(1.0),
        started.elapsed().as_secs_f64()
    );
    let ok = lp_amend.missing == 0 && lp_amend.p99 <= 2000.0;
    println!(
        "target p99 <= 2000 ms with long polling: {}",
        if ok { "met" } else { "NOT met" }
    );
}
