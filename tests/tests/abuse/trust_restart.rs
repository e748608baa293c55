//! Persisted trust (docs/trust.md, "When a party is down"): a gate restarted while every
//! issuer is down decides as before, from the signed trust lists and the revocations it
//! stored in its database: GREEN for a valid token, RED for one revised before the
//! restart. Over real HTTP: the issuers and both gate runs are real servers.

use super::*;
use serde_json::json;

#[tokio::test]
async fn a_gate_restarted_with_every_issuer_down_still_decides() {
    let mut sys = System::spawn().await;
    let hanako = Traveller::hanako();
    let erik = Traveller::erik();
    let (_, valid) = sys.declare(&hanako.declaration(json!([]))).await;
    let (_, revised) = sys.declare(&erik.declaration(json!([]))).await;
    let old_qr = revised["qr"]["text"].as_str().unwrap().to_owned();
    let id = revised["id"].as_str().unwrap();
    let r = sys
        .http
        .put(sys.mobile.url(&format!("/v1/declarations/{id}")))
        .bearer_auth(revised["edit_token"].as_str().unwrap())
        .json(&erik.declaration(json!([])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    sys.gate_refresh().await;

    // Stop the gate, then every issuer.
    sys.gate.stop().await;
    let db = sys.gate.state.db.clone();
    shared::offload::blocking(move || db.close()).await.unwrap();
    sys.mobile.stop().await;
    sys.kiosk.stop().await;

    // Start the gate again on its data directory, with the same configuration.
    let mut cfg = gate_service::Config::for_tests(sys.dir.path());
    cfg.issuers = gate_service::IssuerConfig::parse_list(&format!(
        "mobile-api={};internal=http://{},kiosk:T1={};internal=http://{}",
        sys.mobile.url(""),
        sys.mobile_internal,
        sys.kiosk.url(""),
        sys.kiosk_internal
    ))
    .unwrap();
    cfg.root_key = Some(shared::token::signed_list::RootPublicKey::of(
        &sys.trust_root,
    ));
    let listeners = gate_service::Listeners::bind(&cfg).await.unwrap();
    let scans = format!("http://{}/v1/scans", listeners.device.local_addr().unwrap());
    let state = gate_service::build(cfg).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(gate_service::serve(listeners, state.clone(), async move {
        let _ = rx.await;
    }));
    let health = state.trust.status();
    assert!(
        health.iter().all(|s| s.last_error.is_some() && s.keys > 0),
        "issuers unreachable, their stored keys in force: {health:?}"
    );

    let scan = |qr: String, mrz: String| {
        let (http, url, key) = (sys.http.clone(), scans.clone(), sys.gate_key.clone());
        async move {
            let r = http
                .post(url)
                .bearer_auth(key)
                .json(&json!({"qr": qr, "mrz": mrz}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let green = scan(
        valid["qr"]["text"].as_str().unwrap().to_owned(),
        hanako.mrz(),
    )
    .await;
    assert_eq!(green["decision"], "green", "{green}");
    let red = scan(old_qr, erik.mrz()).await;
    assert_eq!(red["decision"], "red", "{red}");
    assert!(
        codes(&red).contains(&"token.superseded".to_owned()),
        "{red}"
    );

    let _ = tx.send(());
    task.await.unwrap().unwrap();
}
