//! App passengers: declare on the phone, carry the QR to the gate.

use super::*;
use serde_json::json;

async fn qr_png(sys: &System, created: &serde_json::Value) -> Vec<u8> {
    let id = created["id"].as_str().unwrap();
    let r = sys
        .http
        .get(
            sys.mobile
                .url(&format!("/v1/declarations/{id}/qr.png?scale=4")),
        )
        .bearer_auth(created["edit_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn an_app_passenger_with_nothing_to_declare_passes_the_gate_green_from_the_qr_image() {
    let sys = System::spawn().await;
    let hanako = Traveller::hanako();
    let (status, created) = sys.declare(&hanako.declaration(json!([]))).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["lane_preview"], "green");
    let png = qr_png(&sys, &created).await;
    // The served PNG holds exactly the QR text the API returned.
    assert_eq!(
        shared::qr::decode_image(&png).unwrap(),
        created["qr"]["text"].as_str().unwrap()
    );
    let d = sys.scan_image(png, &hanako.mrz()).await;
    assert_eq!(d["decision"], "green", "{d}");
    assert!(codes(&d).is_empty(), "{d}");
    // A GREEN scan keeps no identity anywhere: no case was opened.
    let cases: i64 = sys
        .gate
        .state
        .db
        .read(|c| {
            c.query_row("SELECT count(*) FROM cases", [], |r| r.get(0))
                .map_err(shared::db::DbError::from)
        })
        .await
        .unwrap();
    assert_eq!(cases, 0);
}

#[tokio::test]
async fn the_same_qr_scanned_twice_is_refused_the_second_time_as_replayed() {
    let sys = System::spawn().await;
    let hanako = Traveller::hanako();
    let (_, created) = sys.declare(&hanako.declaration(json!([]))).await;
    let qr = created["qr"]["text"].as_str().unwrap();
    let first = sys.scan(qr, &hanako.mrz()).await;
    assert_eq!(first["decision"], "green", "{first}");
    let second = sys.scan(qr, &hanako.mrz()).await;
    assert_eq!(second["decision"], "red");
    assert!(
        codes(&second).contains(&"token.replayed".to_owned()),
        "{second}"
    );
}

#[tokio::test]
async fn a_qr_presented_with_someone_elses_passport_is_refused_as_a_mismatch() {
    let sys = System::spawn().await;
    let (_, created) = sys
        .declare(&Traveller::hanako().declaration(json!([])))
        .await;
    let d = sys
        .scan(
            created["qr"]["text"].as_str().unwrap(),
            &Traveller::erik().mrz(),
        )
        .await;
    assert_eq!(d["decision"], "red");
    assert!(codes(&d).contains(&"passport.mismatch".to_owned()), "{d}");
}

#[tokio::test]
async fn an_edited_declaration_routes_red_and_its_old_qr_is_refused_once_revocations_are_pulled() {
    let sys = System::spawn().await;
    let hanako = Traveller::hanako();
    let (_, created) = sys.declare(&hanako.declaration(json!([]))).await;
    let old_qr = created["qr"]["text"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap();
    // Items added after issue: five bottles of whisky, over the allowance.
    let edited = hanako.declaration(
        json!([{"category": "whisky", "quantity": 5, "volume_ml": 750,
        "value": {"amount": 250.0, "currency": "USD"}}]),
    );
    let r = sys
        .http
        .put(sys.mobile.url(&format!("/v1/declarations/{id}")))
        .bearer_auth(created["edit_token"].as_str().unwrap())
        .json(&edited)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let revised: serde_json::Value = r.json().await.unwrap();
    assert_eq!(revised["revision"], 2);
    assert_eq!(revised["lane_preview"], "red");
    let new_qr = revised["qr"]["text"].as_str().unwrap();
    assert_ne!(new_qr, old_qr);

    sys.gate_refresh().await;
    let old = sys.scan(&old_qr, &hanako.mrz()).await;
    assert_eq!(old["decision"], "red");
    assert!(
        codes(&old).contains(&"token.superseded".to_owned()),
        "{old}"
    );
    let new = sys.scan(new_qr, &hanako.mrz()).await;
    assert_eq!(new["decision"], "red");
    assert!(
        codes(&new).contains(&"declaration.items_to_declare".to_owned()),
        "{new}"
    );
    assert!(
        sys.case_of(&new).await.is_some(),
        "a RED scan opens a case: {new}"
    );
}

#[tokio::test]
async fn the_gate_keeps_deciding_offline_while_mobile_api_is_stopped() {
    let mut sys = System::spawn().await;
    let hanako = Traveller::hanako();
    let (_, created) = sys.declare(&hanako.declaration(json!([]))).await;
    let (_, other) = sys.declare(&Traveller::erik().declaration(json!([]))).await;
    sys.mobile.stop().await;
    assert!(
        sys.http
            .get(sys.mobile.url("/healthz"))
            .send()
            .await
            .is_err(),
        "mobile-api is down"
    );
    // A refresh against a dead issuer keeps the last good trust list.
    sys.gate_refresh().await;
    let d = sys
        .scan(created["qr"]["text"].as_str().unwrap(), &hanako.mrz())
        .await;
    assert_eq!(d["decision"], "green", "{d}");
    let d = sys
        .scan(other["qr"]["text"].as_str().unwrap(), &hanako.mrz())
        .await;
    assert!(codes(&d).contains(&"passport.mismatch".to_owned()), "{d}");
    let health: serde_json::Value = sys
        .http
        .get(sys.gate.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // /healthz names the dead issuer's failure and still counts its last good keys; the
    // live issuer (the kiosk) reports no error.
    let issuer = |id: &str| {
        health["issuers"]
            .as_array()
            .unwrap_or_else(|| panic!("no issuers list: {health}"))
            .iter()
            .find(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("issuer {id} missing: {health}"))
            .clone()
    };
    let mobile = issuer("mobile-api");
    let error = mobile["last_error"]
        .as_str()
        .unwrap_or_else(|| panic!("the dead issuer's error is not reported: {health}"));
    assert!(
        error.starts_with("keys: "),
        "the failure is the key load: {health}"
    );
    assert!(
        mobile["keys"].as_u64().unwrap_or(0) > 0,
        "last good keys kept: {health}"
    );
    let kiosk = issuer(&format!("kiosk:{}", sys.kiosk.state.config.terminal_id));
    assert!(kiosk["last_error"].is_null(), "{health}");
    assert_eq!(health["status"], "ok", "{health}");
}
