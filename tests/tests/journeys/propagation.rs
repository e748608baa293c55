//! Propagation in seconds (docs/trust.md, "How gates follow the feeds"): gates that
//! refresh once an hour still learn of a supersession or a use at once, because they
//! follow mobile-api's feed by long polling; and the issuer bounds the requests that
//! wait. Conditions are waited for with bounded polling, never timed.

use super::*;
use serde_json::{Value, json};
use std::time::Duration;

/// A refresh period no test outlives: only the long poll can deliver the entries.
const HOURLY: u64 = 3600;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_amendment_reaches_a_gate_that_refreshes_hourly_and_the_old_qr_is_superseded() {
    let sys = System::spawn().await;
    let gate = sys.spawn_gate("G-LP-1", 20, HOURLY).await;
    let hanako = Traveller::hanako();
    let (_, created) = sys.declare(&hanako.declaration(json!([]))).await;
    let old_qr = created["qr"]["text"].as_str().unwrap().to_owned();
    let r = sys
        .http
        .put(sys.mobile.url(&format!(
            "/v1/declarations/{}",
            created["id"].as_str().unwrap()
        )))
        .bearer_auth(created["edit_token"].as_str().unwrap())
        .json(
            &hanako.declaration(json!([{"category": "whisky", "quantity": 5,
            "volume_ml": 750, "value": {"amount": 250.0, "currency": "USD"}}])),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    gate.until_held(1).await;
    let old = gate.scan(&sys.http, &old_qr, &hanako.mrz()).await;
    assert_eq!(old["decision"], "red", "{old}");
    assert!(
        codes(&old).contains(&"token.superseded".to_owned()),
        "{old}"
    );
    // The gate's health says it follows the feed by long polling (set once the poll
    // that brought the entry has ended: polled, bounded).
    let mut health = Value::Null;
    for _ in 0..200 {
        health = sys
            .http
            .get(gate.running.url("/healthz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if health["issuers"][0]["feed_waiting"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(health["issuers"][0]["feed_waiting"], true, "{health}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_use_at_one_gate_makes_another_gate_refuse_the_token_as_replayed() {
    let sys = System::spawn().await;
    let (a, b) = (
        sys.spawn_gate("G-LP-A", 20, HOURLY).await,
        sys.spawn_gate("G-LP-B", 20, HOURLY).await,
    );
    let erik = Traveller::erik();
    let (_, created) = sys.declare(&erik.declaration(json!([]))).await;
    let qr = created["qr"]["text"].as_str().unwrap().to_owned();
    let first = a.scan(&sys.http, &qr, &erik.mrz()).await;
    assert_eq!(first["decision"], "green", "{first}");
    // Gate A reports the use; mobile-api enters it in its feed; gate B's long poll
    // brings it.
    b.until_held(1).await;
    let again = b.scan(&sys.http, &qr, &erik.mrz()).await;
    assert_eq!(again["decision"], "red", "{again}");
    assert!(
        codes(&again).contains(&"token.replayed".to_owned()),
        "{again}"
    );
}

/// A waiting request to mobile-api's feed.
fn wait_request(
    sys: &System,
    client: &reqwest::Client,
    since: i64,
    wait: u64,
) -> reqwest::RequestBuilder {
    client
        .get(sys.mobile.url("/v1/revocations"))
        .query(&[("since", since), ("wait", wait as i64)])
        .timeout(Duration::from_secs(wait + 30))
}

/// A client whose connections come from `127.0.0.<last>` (the whole of 127/8 is
/// loopback): one client address as the issuer sees it.
fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, last]))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_waiting_requests_than_the_cap_get_503_and_the_issuer_stays_healthy() {
    use shared::issuer::feed_wait::{
        FEED_WAIT_HEADER, MAX_FEED_WAITERS, MAX_FEED_WAITERS_PER_CLIENT, waiting,
    };
    let sys = System::spawn().await;
    let client = reqwest::Client::new();
    // The cap's worth of gates waiting on an empty feed, spread over enough addresses
    // (127.0.0.2, .3, ...; 127.0.0.1 is the system's own gate's) that no address
    // reaches its own cap.
    let clients: Vec<reqwest::Client> = (0..MAX_FEED_WAITERS.div_ceil(MAX_FEED_WAITERS_PER_CLIENT))
        .map(|i| client_from(2 + i as u8))
        .collect();
    let mut waiters = tokio::task::JoinSet::new();
    for i in 0..MAX_FEED_WAITERS {
        let req = wait_request(&sys, &clients[i / MAX_FEED_WAITERS_PER_CLIENT], 0, 25);
        waiters.spawn(async move {
            let r = req.send().await.unwrap();
            assert!(r.headers().contains_key(FEED_WAIT_HEADER));
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        });
    }
    // Once they all wait (bounded polling of the issuer's count), one more that would
    // wait is refused with 503 and Retry-After.
    let store = sys.mobile.state.issuer_endpoints().store;
    for _ in 0..400 {
        if waiting(&store) >= MAX_FEED_WAITERS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        waiting(&store) >= MAX_FEED_WAITERS,
        "the waiters are not all waiting"
    );
    // From an address with no waiting request: the global cap refuses it.
    let fresh = client_from(2 + clients.len() as u8);
    let refused = wait_request(&sys, &fresh, 0, 1).send().await.unwrap();
    assert_eq!(
        refused.status(),
        503,
        "a request over the cap of waiting requests"
    );
    assert_eq!(refused.headers()["retry-after"], "2");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["status"], 503, "{problem}");
    // A request that does not wait is answered at once, and the service is healthy.
    let page = client
        .get(sys.mobile.url("/v1/revocations?since=0"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let health = client.get(sys.mobile.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    // A committed entry wakes every waiter with it.
    let hanako = Traveller::hanako();
    let (_, created) = sys.declare(&hanako.declaration(json!([]))).await;
    let r = sys
        .http
        .delete(sys.mobile.url(&format!(
            "/v1/declarations/{}",
            created["id"].as_str().unwrap()
        )))
        .bearer_auth(created["edit_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let mut woken = 0;
    while let Some(done) = waiters.join_next().await {
        let (status, page) = done.unwrap();
        assert_eq!(status, 200);
        assert_eq!(page["revocations"][0]["reason"], "erased", "{page}");
        woken += 1;
    }
    assert_eq!(woken, MAX_FEED_WAITERS);
    // Out-of-range waits are the caller's mistake.
    let bad = client
        .get(sys.mobile.url("/v1/revocations?since=0&wait=26"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_request_ends_with_an_empty_page_when_the_issuer_shuts_down() {
    use shared::issuer::feed_wait::waiting;
    let mut sys = System::spawn().await;
    let client = reqwest::Client::new();
    let waiter = tokio::spawn(wait_request(&sys, &client, 0, 25).send());
    // Once it waits, stop mobile-api:
    // the stop completes, well before the wait would have ended, and the waiter gets the
    // usual empty page.
    for _ in 0..100 {
        if waiting(&sys.mobile.state.issuer_endpoints().store) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::timeout(Duration::from_secs(20), sys.mobile.stop())
        .await
        .expect("shutdown is not held up by a waiting request");
    let r = waiter.await.unwrap().unwrap();
    assert_eq!(r.status(), 200);
    let page: Value = r.json().await.unwrap();
    assert_eq!(page["revocations"], json!([]), "{page}");
}

/// The feed is public: one address opening waits that never end early (a `since` far
/// ahead of the feed) must not take every slot. Its own cap refuses it; a gate at
/// another address still waits and is woken by a commit. (The system's own gate
/// follows the feed from 127.0.0.1 too: it counts as one of that address's waits.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_filling_its_share_of_waiters_does_not_stop_another_from_waiting() {
    use shared::issuer::feed_wait::{FEED_WAIT_HEADER, MAX_FEED_WAITERS_PER_CLIENT};
    let sys = System::spawn().await;
    let store = sys.mobile.state.issuer_endpoints().store;
    let attacker_ip = std::net::IpAddr::from([127, 0, 0, 1]);
    let gate_ip = std::net::IpAddr::from([127, 0, 0, 2]);
    let attacker = client_from(1);
    let mut floods = tokio::task::JoinSet::new();
    for _ in 0..MAX_FEED_WAITERS_PER_CLIENT {
        let req = wait_request(&sys, &attacker, 999_999_999_999, 25);
        floods.spawn(async move { req.send().await.map(|r| r.status().as_u16()) });
    }
    for _ in 0..400 {
        if store.client_waiters().waiting_from(attacker_ip) >= MAX_FEED_WAITERS_PER_CLIENT {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        store.client_waiters().waiting_from(attacker_ip),
        MAX_FEED_WAITERS_PER_CLIENT,
        "the attacker's waits are not all waiting"
    );
    // Its next wait is refused like the global cap's: 503, Retry-After, a problem.
    for _ in 0..8 {
        let r = wait_request(&sys, &attacker, 999_999_999_999, 25)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 503, "a wait over the address's cap");
        assert_eq!(r.headers()["retry-after"], "2");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let problem: Value = r.json().await.unwrap();
        assert_eq!(
            problem["type"]
                .as_str()
                .map(|t| t.ends_with("feed-waiters-full")),
            Some(true),
            "{problem}"
        );
    }
    assert_eq!(
        store.client_waiters().waiting_from(attacker_ip),
        MAX_FEED_WAITERS_PER_CLIENT,
        "refused requests hold no slot"
    );
    // A gate at another address waits (polled: its slot is taken) ...
    let gate = client_from(2);
    let gate_wait = tokio::spawn(wait_request(&sys, &gate, 0, 25).send());
    for _ in 0..400 {
        if store.client_waiters().waiting_from(gate_ip) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        store.client_waiters().waiting_from(gate_ip),
        1,
        "the gate is not waiting"
    );
    // ... and a commit wakes it with the entry.
    let hanako = Traveller::hanako();
    let (_, created) = sys.declare(&hanako.declaration(json!([]))).await;
    let r = sys
        .http
        .delete(sys.mobile.url(&format!(
            "/v1/declarations/{}",
            created["id"].as_str().unwrap()
        )))
        .bearer_auth(created["edit_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let woken = gate_wait.await.unwrap().unwrap();
    assert_eq!(woken.status(), 200);
    assert!(woken.headers().contains_key(FEED_WAIT_HEADER));
    let page: Value = woken.json().await.unwrap();
    assert_eq!(page["revocations"][0]["reason"], "erased", "{page}");
    // The attacker's waits are still there (a far `since` never has entries): none
    // ended with an error before the test stops them.
    assert!(floods.try_join_next().is_none_or(|r| r.unwrap().is_ok()));
    floods.abort_all();
}
