//! Two `egate run mobile-api` processes on one PostgreSQL database under load, one of
//! them killed with SIGKILL half way (docs/DEPLOYMENT.md): every declaration either
//! instance acknowledged (201) is there afterwards, read through the survivor, which
//! keeps serving. Needs `EGATE_TEST_DATABASE_URL` (scripts/test.sh starts a server);
//! fails without it.

mod binary_support;

use binary_support::*;
use std::sync::{Arc, Mutex};

/// Load clients per instance.
const CLIENTS: usize = 4;
/// Acknowledged creations before the kill.
const BEFORE_KILL: usize = 60;
/// Acknowledged creations on the survivor after the kill.
const AFTER_KILL: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_killed_under_load_loses_no_acknowledged_declaration_and_the_other_serves_on() {
    let db = shared::pg::testing::fresh_database().await;
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let env = [
        ("EGATE_DATABASE_URL", db.as_str()),
        ("EGATE_RATE_LIMIT_PER_MINUTE", "1000000"),
    ];
    // A first (it makes the signing key), then B on the same data directory.
    let mut a = Process::spawn(d, &["run", "mobile-api"], &env);
    let a_url = url_in(
        &a.wait_for_line("A's URL", |l| l.starts_with("mobile-api on http://"))
            .await,
    );
    let mut b = Process::spawn(d, &["run", "mobile-api"], &env);
    let b_url = url_in(
        &b.wait_for_line("B's URL", |l| l.starts_with("mobile-api on http://"))
            .await,
    );
    let arrival = japan_date(2);
    let body = declaration(&arrival, "NH 212", serde_json::json!([]));
    // (instance, id, edit token) of every 201.
    let acked: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = tokio::task::JoinSet::new();
    for base in [a_url.clone(), b_url.clone()] {
        for _ in 0..CLIENTS {
            let (acked, stop, base, body) =
                (acked.clone(), stop.clone(), base.clone(), body.clone());
            load.spawn(async move {
                let http = client();
                let mut refused = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Acquire) {
                    match http
                        .post(format!("{base}/v1/declarations"))
                        .json(&body)
                        .send()
                        .await
                    {
                        Ok(r) if r.status() == 201 => {
                            let v: serde_json::Value = r.json().await.unwrap();
                            let id = v["id"].as_str().unwrap().to_owned();
                            let edit = v["edit_token"].as_str().unwrap().to_owned();
                            acked.lock().unwrap().push((base.clone(), id, edit));
                        }
                        Ok(r) => panic!("{base} answered {} under load", r.status()),
                        // The killed instance: connections refused or cut (never acknowledged).
                        Err(_) => {
                            refused += 1;
                            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        }
                    }
                }
                refused
            });
        }
    }
    let count = |base: &str| {
        acked
            .lock()
            .unwrap()
            .iter()
            .filter(|(b, _, _)| b == base)
            .count()
    };
    poll("creations before the kill", || {
        let n = acked.lock().unwrap().len();
        async move { (n >= BEFORE_KILL).then_some(()) }
    })
    .await;
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &a.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let _ = a.wait_exit().await;
    let on_b_at_kill = count(&b_url);
    poll("creations on the survivor after the kill", || {
        let n = count(&b_url);
        async move { (n >= on_b_at_kill + AFTER_KILL).then_some(()) }
    })
    .await;
    stop.store(true, std::sync::atomic::Ordering::Release);
    while let Some(r) = load.join_next().await {
        r.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let on_a = acked.iter().filter(|(b, _, _)| *b == a_url).count();
    assert!(on_a > 0, "A acknowledged creations before it was killed");
    // Every acknowledged declaration, whichever instance took it, reads back from B.
    let http = client();
    let mut missing = 0;
    for (_, id, edit) in &acked {
        let r = http
            .get(format!("{b_url}/v1/declarations/{id}"))
            .bearer_auth(edit)
            .send()
            .await
            .unwrap();
        if r.status() != 200 {
            missing += 1;
        }
    }
    println!(
        "binary_scale_out: {} acknowledged ({on_a} by the killed instance), {missing} missing",
        acked.len()
    );
    assert_eq!(missing, 0, "acknowledged declarations lost");
    b.stop().await;
}
