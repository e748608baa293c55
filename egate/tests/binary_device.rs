//! `egate device …` run as the operator runs it, against a gate running in another
//! process: a key printed once and never listed, a device revoked or added while the
//! gate runs counts at its next request, bad ids and duplicates refused.

mod binary_support;

use binary_support::*;
use serde_json::json;

async fn scan_status(gate: &str, key: &str) -> u16 {
    client()
        .post(format!("{gate}/v1/scans"))
        .bearer_auth(key)
        .json(&json!({"qr": "CD1:X", "mrz": MRZ}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn devices_added_listed_and_revoked_by_the_operator_count_while_the_gate_runs() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let key = add_gate_device(d, "G-01");
    assert!(key.starts_with("egd_") && key.len() == 47, "{key}");
    let kiosk = run_ok(d, &["device", "add", "K-01", "--kind", "kiosk"], &[]);
    assert!(kiosk.contains("kiosk"), "{kiosk}");
    // Refused: an id taken, an id with a space, a kind that does not exist.
    for args in [
        &["device", "add", "G-01", "--kind", "gate"][..],
        &["device", "add", "gate 1", "--kind", "gate"],
        &["device", "add", "G-09", "--kind", "printer"],
        &["device", "revoke", "G-NONE"],
    ] {
        let out = run(d, args, &[]);
        assert!(!out.status.success(), "{args:?} must fail");
    }
    let list = run_ok(d, &["device", "list"], &[]);
    assert!(list.contains("G-01") && list.contains("K-01"), "{list}");
    assert!(
        !list.contains(&key[4..]),
        "the key is never listed:\n{list}"
    );

    let mut gate = Process::spawn(d, &["run", "gate"], &[]);
    let url = url_in(
        &gate
            .wait_for_line("the gate URL", |l| l.starts_with("gate-service on http://"))
            .await,
    );
    assert_eq!(scan_status(&url, &key).await, 200);

    // Revoked by the operator's command while the gate runs: refused at the next scan.
    run_ok(d, &["device", "revoke", "G-01"], &[]);
    assert_eq!(scan_status(&url, &key).await, 401);
    // Added while the gate runs: accepted at once.
    let new_key = add_gate_device(d, "G-02");
    assert_eq!(scan_status(&url, &new_key).await, 200);
    let list = run_ok(d, &["device", "list"], &[]);
    let g01 = list.lines().find(|l| l.starts_with("G-01")).unwrap();
    assert_eq!(
        g01.split_whitespace().filter(|w| w.contains('T')).count(),
        3,
        "created, revoked and last seen: {g01}"
    );
    println!(
        "RELIABILITY devices (binary): revoke -> 401 at the next scan, add -> 200 at once, no restart\n{list}"
    );
    gate.stop().await;
}
