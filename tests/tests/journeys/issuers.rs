//! Issuer keys: rotation and revocation as the gate sees them.

use super::*;
use serde_json::json;

#[tokio::test]
async fn after_a_key_rotation_old_qrs_still_verify_new_ones_use_the_new_kid_and_a_revoked_kid_is_refused()
 {
    let sys = System::spawn().await;
    let hanako = Traveller::hanako();
    let erik = Traveller::erik();
    let jwks = |sys: &System| {
        let url = sys.mobile.url("/v1/jwks");
        let http = sys.http.clone();
        async move {
            http.get(url)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let before = jwks(&sys).await;
    assert_eq!(before["keys"].as_array().unwrap().len(), 1);
    let old_kid = before["keys"][0]["kid"].as_str().unwrap().to_owned();
    let (_, old_a) = sys.declare(&hanako.declaration(json!([]))).await;
    let (_, old_b) = sys.declare(&erik.declaration(json!([]))).await;

    // Rotate as the operator command does (a file operation; no publication lead here:
    // the new key signs at once), then let the service reload.
    let dir = sys.mobile.state.config.service_dir().join("keys");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut ring = shared::token::KeyRing::open(&dir, "mobile-api", now).unwrap();
    let new_kid = ring.rotate(now, 0).unwrap().0.to_base64();
    sys.mobile.state.issuer.reload();
    // As `egate rotate-key` does when the root key is at hand: re-sign (version + 1).
    sys.sign_trust_lists();

    let after = jwks(&sys).await;
    let kids: Vec<&str> = after["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(
        kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()),
        "{after}"
    );
    let (_, fresh) = sys.declare(&hanako.declaration(json!([]))).await;
    let fresh_qr = fresh["qr"]["text"].as_str().unwrap();
    let trust = {
        let mut t = shared::token::TrustList::new();
        t.add_jwks(&serde_json::from_value(after.clone()).unwrap())
            .unwrap();
        t
    };
    let opts = shared::token::VerifyOptions { now, skew_secs: 60 };
    let v = shared::token::decode_and_verify(fresh_qr, &trust, opts).unwrap();
    assert_eq!(
        v.kid.to_base64(),
        new_kid,
        "new tokens are signed with the new key"
    );

    sys.gate_refresh().await;
    let d = sys
        .scan(old_a["qr"]["text"].as_str().unwrap(), &hanako.mrz())
        .await;
    assert_eq!(
        d["decision"], "green",
        "an old QR still verifies after rotation: {d}"
    );
    let d = sys.scan(fresh_qr, &hanako.mrz()).await;
    assert_eq!(d["decision"], "green", "{d}");

    // The operator revokes the old kid at the gate.
    std::fs::write(
        sys.gate.state.config.revoked_kids_path(),
        format!("{old_kid}\n"),
    )
    .unwrap();
    sys.gate_refresh().await;
    let d = sys
        .scan(old_b["qr"]["text"].as_str().unwrap(), &erik.mrz())
        .await;
    assert_eq!(d["decision"], "red");
    assert!(codes(&d).contains(&"token.revoked_kid".to_owned()), "{d}");
}
