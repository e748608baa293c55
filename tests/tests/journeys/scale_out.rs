//! Stateless mobile-api instances on one PostgreSQL database (docs/DEPLOYMENT.md): a
//! declaration made on one instance is amended on another, both serve the same feed, and
//! gates following either refuse the old QR; the database restarted under running
//! instances answers 503 problem+json with Retry-After meanwhile (never a hang), and the
//! instances recover on their own. Conditions are waited for with bounded polling.

use super::*;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tests::pg_server::PgServer;

async fn feed_of(sys: &System, addr: SocketAddr) -> Value {
    sys.http
        .get(format!("http://{addr}/v1/revocations?since=0"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_create_on_a_amend_on_b_and_gates_following_either_refuse_the_old_qr()
 {
    let url = shared::pg::testing::fresh_database().await;
    let sys = System::spawn_with(|c| c.database_url = Some(url)).await;
    let b = sys.spawn_mobile_instance().await;
    let gate_a = sys.spawn_gate("G-A", 20, 3600).await;
    let gate_b = sys
        .spawn_gate_following("G-B", 20, 3600, b.running.addr, b.internal)
        .await;
    let hanako = Traveller::hanako();
    // Created on A.
    let (status, created) = sys.declare(&hanako.declaration(json!([]))).await;
    assert_eq!(status, 201, "{created}");
    let (id, edit) = (
        created["id"].as_str().unwrap().to_owned(),
        created["edit_token"].as_str().unwrap().to_owned(),
    );
    let old_qr = created["qr"]["text"].as_str().unwrap().to_owned();
    // Read and amended on B.
    let on_b = b.running.url(&format!("/v1/declarations/{id}"));
    let read = sys.http.get(&on_b).bearer_auth(&edit).send().await.unwrap();
    assert_eq!(read.status(), 200);
    let amended = sys
        .http
        .put(&on_b)
        .bearer_auth(&edit)
        .json(
            &hanako.declaration(json!([{"category": "whisky", "quantity": 5,
            "volume_ml": 750, "value": {"amount": 250.0, "currency": "USD"}}])),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(amended.status(), 200);
    let amended: Value = amended.json().await.unwrap();
    assert_eq!(amended["revision"], 2);
    let new_qr = amended["qr"]["text"].as_str().unwrap().to_owned();
    // The same feed from either instance (entries and epoch).
    let (feed_a, feed_b) = (
        feed_of(&sys, sys.mobile.addr).await,
        feed_of(&sys, b.running.addr).await,
    );
    assert_eq!(feed_a, feed_b);
    assert_eq!(
        feed_a["revocations"].as_array().unwrap().len(),
        1,
        "{feed_a}"
    );
    assert_eq!(feed_a["revocations"][0]["reason"], "superseded");
    // A gate following A and a gate following B both learn of it (long polling: B's
    // write wakes A's waiter through the database) and refuse the old QR.
    gate_a.until_held(1).await;
    gate_b.until_held(1).await;
    for gate in [&gate_a, &gate_b] {
        let old = gate.scan(&sys.http, &old_qr, &hanako.mrz()).await;
        assert_eq!(old["decision"], "red", "{old}");
        assert!(
            codes(&old).contains(&"token.superseded".to_owned()),
            "{old}"
        );
    }
    let new = gate_b.scan(&sys.http, &new_qr, &hanako.mrz()).await;
    assert!(
        !codes(&new).contains(&"token.superseded".to_owned()),
        "{new}"
    );
    // The use gate B reported reaches A's feed too.
    let mut used = false;
    for _ in 0..600 {
        let feed = feed_of(&sys, sys.mobile.addr).await;
        if feed["revocations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["reason"] == "used")
        {
            used = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(used, "gate B's use report is in the feed A serves");
}

/// What a request during the outage must get: 503 problem+json with Retry-After.
fn assert_unavailable(r: &reqwest::Response, what: &str) {
    assert_eq!(r.status(), 503, "{what}");
    assert_eq!(
        r.headers()[reqwest::header::CONTENT_TYPE],
        "application/problem+json",
        "{what}"
    );
    assert!(
        r.headers().contains_key(reqwest::header::RETRY_AFTER),
        "{what}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_restarted_under_two_instances_answers_503_with_retry_after_and_they_recover()
{
    // A server of this test's own: the shared one must stay up for the other tests.
    let server = PgServer::start_new();
    let url = server.url();
    let sys = System::spawn_with(|c| c.database_url = Some(url)).await;
    let b = sys.spawn_mobile_instance().await;
    let hanako = Traveller::hanako();
    let (status, created) = sys.declare(&hanako.declaration(json!([]))).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let edit = created["edit_token"].as_str().unwrap().to_owned();
    // Every request is bounded by the client: a hang fails the test.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    server.stop();
    for base in [sys.mobile.addr, b.running.addr] {
        let r = http
            .post(format!("http://{base}/v1/declarations"))
            .json(&hanako.declaration(json!([])))
            .send()
            .await
            .expect("answered, not hung");
        assert_unavailable(&r, "a creation during the outage");
        let r = http
            .get(format!("http://{base}/v1/declarations/{id}"))
            .bearer_auth(&edit)
            .send()
            .await
            .expect("answered, not hung");
        assert_unavailable(&r, "a read during the outage");
        let r = http
            .get(format!("http://{base}/v1/revocations?since=0"))
            .send()
            .await
            .expect("answered, not hung");
        assert_unavailable(&r, "the feed during the outage");
        // The phone's web app: opening the declaration to change it (the wizard asks
        // the store, as "Confirm" does) is a 503 page in the passenger's language with
        // Retry-After, not a 500.
        let r = http
            .post(format!("http://{base}/declarations/edit"))
            .header("origin", format!("http://{base}"))
            .header("accept-language", "ko")
            .form(&[
                ("declaration_id", id.as_str()),
                ("edit_token", edit.as_str()),
                ("lang", "ko"),
            ])
            .send()
            .await
            .expect("answered, not hung");
        assert_eq!(r.status(), 503, "the web app during the outage");
        assert!(r.headers().contains_key(reqwest::header::RETRY_AFTER));
        let page = r.text().await.unwrap();
        assert!(page.contains("<html lang=\"ko\""), "{page}");
        assert!(
            page.contains(&shared::i18n::t(
                shared::i18n::Lang::Ko,
                "kiosk-error-unavailable"
            )),
            "{page}"
        );
        let health = http
            .get(format!("http://{base}/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 503);
    }
    server.start();
    // Both instances serve again by themselves (bounded polling, no restart).
    for base in [sys.mobile.addr, b.running.addr] {
        let mut status = 0;
        for _ in 0..300 {
            let r = http
                .post(format!("http://{base}/v1/declarations"))
                .json(&hanako.declaration(json!([])))
                .send()
                .await
                .expect("answered, not hung");
            status = r.status().as_u16();
            if status == 201 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(status, 201, "instance {base} did not recover");
        let r = http
            .get(format!("http://{base}/v1/declarations/{id}"))
            .bearer_auth(&edit)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            200,
            "the declaration made before the outage is there"
        );
    }
}
