//! HTTP tests of the scan API, in process: every reason code, the stored records, the
//! image endpoint, risk selection, trust refresh and the one-time-use race. The device is
//! told the lane and the passenger's reasons only: officer reasons and cases are read
//! from the database, as the console reads them. How gates follow issuer feeds is in
//! `feed_follow`.

mod feed_follow;
mod harness;
mod http_issuer;
mod trust_attacks;

use harness::{ANNA, BOB, Harness, Person};
use serde_json::Value;
use shared::domain::{Answers, Declared};
use std::sync::Arc;

/// The passenger-facing reason codes of a device answer.
fn codes(v: &Value, part: &str) -> Vec<String> {
    assert_eq!(part, "passenger", "the answer has no officer part");
    v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

/// The case a RED answer opened (looked up by its scan id), if any.
async fn case_of(h: &Harness, v: &Value) -> Option<i64> {
    let scan_id = v["scan_id"].as_str()?.to_owned();
    h.state
        .db
        .read(move |c| -> Result<Option<i64>, shared::db::DbError> {
            use rusqlite::OptionalExtension as _;
            Ok(
                c.query_row("SELECT id FROM cases WHERE scan_id = ?1", [scan_id], |r| {
                    r.get(0)
                })
                .optional()?,
            )
        })
        .await
        .unwrap()
}

/// Every reason the case of `v` keeps for the officer (code, audience, rule, detail).
async fn officer_reasons(h: &Harness, v: &Value) -> Vec<Value> {
    let case = h.case_row(case_of(h, v).await.expect("a case")).await;
    serde_json::from_str(case["reasons_json"].as_str().unwrap()).unwrap()
}

/// Every reason code stored with the scan of `v` (officer ones included).
async fn stored_codes(h: &Harness, v: &Value) -> Vec<String> {
    let row = h.scan_row(v["scan_id"].as_str().unwrap()).await;
    serde_json::from_str(row["reasons"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn a_valid_token_with_its_passport_is_green() {
    let h = Harness::new().await;
    let qr = h.token(&ANNA);
    let (status, v) = h.scan(&qr, &ANNA.mrz()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["decision"], "green", "{v}");
    assert_eq!(v["passenger_message"], "Please proceed.");
    assert!(codes(&v, "passenger").is_empty());
    assert!(case_of(&h, &v).await.is_none());
    assert_eq!(v["scan_id"].as_str().unwrap().len(), 22);
}

#[tokio::test]
async fn a_green_scan_stores_the_scan_and_no_mrz_data_or_name() {
    let h = Harness::new().await;
    let (_, v) = h.scan(&h.token(&ANNA), &ANNA.mrz()).await;
    let scan_id = v["scan_id"].as_str().unwrap().to_owned();
    let row = h.scan_row(&scan_id).await;
    assert_eq!(row["decision"], "green");
    assert_eq!(row["declaration_id"], "D-TEST-1");
    assert_eq!(row["gate_id"], "G-01");
    assert_eq!(row["issuer"], "mobile-api");
    assert_eq!(row["reasons"], "[]");
    assert!(row["kid"].as_str().is_some() && row["has_cti"] == 1);
    assert_eq!(h.count("SELECT count(*) FROM cases").await, 0);
    assert_eq!(h.count("SELECT count(*) FROM used_tokens").await, 1);
    let dump = h.dump_text().await;
    for secret in [ANNA.surname, ANNA.number, "ANNA"] {
        assert!(!dump.contains(secret), "found {secret} in the database");
    }
}

#[tokio::test]
async fn a_token_signed_by_an_unknown_key_is_red_unknown_kid() {
    let h = Harness::new().await;
    let other = shared::token::SigningKey::generate().unwrap();
    let qr = h.token_with(&other, &ANNA, |_| {});
    let (_, v) = h.scan(&qr, &ANNA.mrz()).await;
    assert_eq!(v["decision"], "red");
    assert_eq!(codes(&v, "passenger"), ["token.unknown_kid"]);
    // Refused before it verified: counted for the device, no scan row, no case.
    assert!(v.get("scan_id").is_none(), "{v}");
    assert_eq!(h.count("SELECT count(*) FROM cases").await, 0);
    assert_eq!(
        h.count("SELECT sum(count) FROM refused_scans WHERE reason = 'token.unknown_kid'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_token_whose_signature_was_altered_is_red_bad_signature() {
    let h = Harness::new().await;
    let qr = harness::alter_signature(&h.token(&ANNA));
    let (_, v) = h.scan(&qr, &ANNA.mrz()).await;
    assert_eq!(codes(&v, "passenger"), ["token.bad_signature"]);
    assert_eq!(h.count("SELECT count(*) FROM used_tokens").await, 0);
}

#[tokio::test]
async fn a_flipped_character_in_the_qr_text_is_red_with_a_token_reason() {
    let h = Harness::new().await;
    let qr = h.token(&ANNA);
    for at in [10, qr.len() / 2, qr.len() - 3] {
        let mut b = qr.clone().into_bytes();
        b[at] = if b[at] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(b).unwrap();
        let (status, v) = h.scan(&flipped, &ANNA.mrz()).await;
        assert_eq!(status, 200);
        assert_eq!(v["decision"], "red");
        let c = codes(&v, "passenger");
        assert!(
            c.len() == 1 && ["token.bad_signature", "token.malformed"].contains(&c[0].as_str()),
            "{c:?}"
        );
    }
    // Nothing was consumed: the genuine token still passes.
    let (_, v) = h.scan(&qr, &ANNA.mrz()).await;
    assert_eq!(v["decision"], "green");
}

#[tokio::test]
async fn an_expired_token_is_red_expired_once_past_the_skew() {
    let h = Harness::new().await;
    // Valid for 2 days, for an arrival the day the clock reaches.
    let arriving = |h: &Harness| {
        let day = h.state.clock.now().date() + time::Duration::days(2);
        h.token_with(&h.key, &ANNA, |c| c.summary.arrival_date = day)
    };
    let qr = arriving(&h);
    h.clock
        .advance(time::Duration::days(2) + time::Duration::seconds(100));
    let (_, v) = h.scan(&qr, &ANNA.mrz()).await;
    assert_eq!(v["decision"], "green", "within the 120 s skew: {v}");
    let qr = arriving(&h);
    h.clock
        .advance(time::Duration::days(2) + time::Duration::seconds(121));
    let (_, v) = h.scan(&qr, &ANNA.mrz()).await;
    assert_eq!(codes(&v, "passenger"), ["token.expired"]);
}

#[tokio::test]
async fn a_second_scan_of_the_same_token_is_red_replayed() {
    let h = Harness::new().await;
    let qr = h.token(&ANNA);
    let (_, first) = h.scan(&qr, &ANNA.mrz()).await;
    assert_eq!(first["decision"], "green");
    let (_, second) = h.scan(&qr, &ANNA.mrz()).await;
    assert_eq!(second["decision"], "red");
    assert_eq!(codes(&second, "passenger"), ["token.replayed"]);
    assert_eq!(
        second["reasons"][0]["message"],
        "This QR code has already been used."
    );
    assert_eq!(h.count("SELECT count(*) FROM scans").await, 2);
    // The replay's case still carries the declaration, serialised in the write.
    let case = h.case_row(case_of(&h, &second).await.unwrap()).await;
    assert!(case["summary_json"].as_str().unwrap().contains("D-TEST-1"));
    assert!(case["evaluation_json"].as_str().is_some());
}

#[tokio::test]
async fn another_persons_passport_is_red_mismatch_and_spends_nothing() {
    let h = Harness::new().await;
    let qr = h.token(&ANNA);
    let (_, v) = h.scan(&qr, &BOB.mrz()).await;
    assert_eq!(codes(&v, "passenger"), ["passport.mismatch"]);
    assert_eq!(h.count("SELECT count(*) FROM used_tokens").await, 0);
    // A second mismatch (another gate) flags its case for the officer only.
    let (_, v) = h.scan_gate(&qr, &BOB.mrz(), "G-02").await;
    assert_eq!(codes(&v, "passenger"), ["passport.mismatch"]);
    let alert: Vec<Value> = officer_reasons(&h, &v)
        .await
        .into_iter()
        .filter(|r| r["code"] == "alert.stolen_qr")
        .collect();
    assert_eq!(alert.len(), 1);
    assert_eq!(alert[0]["audience"], "officer");
    assert_eq!(alert[0]["detail"]["mismatches"], 2);
    let (_, v) = h.scan(&qr, &ANNA.mrz()).await;
    assert_eq!(v["decision"], "green", "the passenger still passes: {v}");
}

#[tokio::test]
async fn a_bad_mrz_check_digit_is_retry_stores_nothing_and_consumes_nothing() {
    let h = Harness::new().await;
    let qr = h.token(&ANNA);
    let mut mrz = ANNA.mrz().into_bytes();
    let pos = 45 + 9; // line 2, document number check digit
    mrz[pos] = if mrz[pos] == b'0' { b'1' } else { b'0' };
    let (status, v) = h.scan(&qr, &String::from_utf8(mrz).unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(v["decision"], "retry", "{v}");
    assert_eq!(v["retries_left"], 2);
    assert_eq!(codes(&v, "passenger"), ["mrz.check_digit"]);
    assert_eq!(h.count("SELECT count(*) FROM scans").await, 0);
    assert_eq!(h.count("SELECT count(*) FROM used_tokens").await, 0);
    let (_, v) = h.scan(&qr, "not an mrz").await;
    assert_eq!(v["decision"], "retry", "{v}");
    assert_eq!(codes(&v, "passenger"), ["mrz.malformed"]);
    assert_eq!(v["retries_left"], 1);
    // Garbage QR and MRZ: the token is refused first (no case).
    let (_, v) = h.scan("CD1:garbage", "not an mrz").await;
    assert_eq!(codes(&v, "passenger"), ["token.malformed"]);
    assert_eq!(h.count("SELECT count(*) FROM cases").await, 0);
    let (_, v) = h.scan(&qr, &ANNA.mrz()).await;
    assert_eq!(v["decision"], "green", "the token was not consumed");
}

#[tokio::test]
async fn an_expired_passport_is_red_passport_expired() {
    let h = Harness::new().await;
    let old = Person {
        expiry: time::macros::date!(2026 - 10 - 31),
        ..ANNA
    };
    let (_, v) = h.scan(&h.token(&old), &old.mrz()).await;
    assert_eq!(codes(&v, "passenger"), ["passport.expired"]);
}

#[tokio::test]
async fn a_revoked_kid_is_red_revoked_kid() {
    let h = Harness::with(|c, key| c.revoked_kids = vec![key.kid().to_base64()]).await;
    let (_, v) = h.scan(&h.token(&ANNA), &ANNA.mrz()).await;
    assert_eq!(codes(&v, "passenger"), ["token.revoked_kid"]);
}

#[tokio::test]
async fn a_kid_listed_in_the_revoked_kids_file_is_refused_after_a_refresh() {
    let h = Harness::new().await;
    std::fs::write(
        h.state.config.revoked_kids_path(),
        format!("# revoked\n{}\n", h.key.kid().to_base64()),
    )
    .unwrap();
    gate_service::refresh_now(&h.state).await;
    let (_, v) = h.scan(&h.token(&ANNA), &ANNA.mrz()).await;
    assert_eq!(codes(&v, "passenger"), ["token.revoked_kid"]);
}

#[tokio::test]
async fn a_superseded_token_is_red_superseded() {
    let h = Harness::new().await;
    let cti = [9u8; 16];
    let qr = h.token_with(&h.key, &ANNA, |c| c.cti = cti);
    h.state
        .db
        .write(move |c| -> Result<usize, shared::db::DbError> {
            Ok(c.execute(
                "INSERT INTO revoked_tokens (cti, issuer, seq, reason) VALUES (?1, 'mobile-api', 1, 'superseded')",
                [&cti[..]],
            )?)
        })
        .await
        .unwrap();
    let (_, v) = h.scan(&qr, &ANNA.mrz()).await;
    assert_eq!(codes(&v, "passenger"), ["token.superseded"]);
}

#[tokio::test]
async fn a_token_naming_another_issuer_than_its_key_is_refused() {
    let h = Harness::new().await;
    let qr = h.token_with(&h.key, &ANNA, |c| c.iss = "kiosk:T1".into());
    let (_, v) = h.scan(&qr, &ANNA.mrz()).await;
    assert_eq!(codes(&v, "passenger"), ["token.issuer_mismatch"]);
}

#[tokio::test]
async fn an_image_with_the_qr_is_green_and_one_without_is_red_unreadable() {
    let h = Harness::new().await;
    let png = shared::qr::render_png(&h.token(&ANNA), 4).unwrap();
    let (status, v) = h.scan_image(png, "image/png", &ANNA.mrz()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["decision"], "green", "{v}");
    let (status, v) = h
        .scan_image(harness::blank_png(), "image/png", &ANNA.mrz())
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(codes(&v, "passenger"), ["qr.unreadable"]);
    let (status, v) = h
        .scan_image(b"not an image".to_vec(), "image/png", &ANNA.mrz())
        .await;
    assert_eq!(status, 415, "{v}");
}

#[tokio::test]
async fn a_random_selection_is_red_with_its_reason_for_the_officer_only() {
    let h = Harness::with(|c, _| c.selection_rate = 1.0).await;
    let (_, v) = h.scan_lang(&h.token(&ANNA), &ANNA.mrz(), "ja").await;
    assert_eq!(v["decision"], "red");
    assert!(codes(&v, "passenger").is_empty(), "{v}");
    assert_eq!(v["passenger_message"], "税関検査台へお進みください。");
    let officer = &officer_reasons(&h, &v).await[0];
    assert_eq!(officer["code"], "selection.random");
    assert!(officer["detail"]["draw"].as_f64().is_some());
    assert!(!v.to_string().contains("selection"));
    let case = h.case_row(case_of(&h, &v).await.unwrap()).await;
    assert!(
        case["reasons_json"]
            .as_str()
            .unwrap()
            .contains("\"audience\":\"officer\"")
    );
}

#[tokio::test]
async fn a_watch_rule_on_the_passport_binding_names_its_rule() {
    let h = Harness::with_watchlist(|binding| {
        format!("[[rule]]\nname = \"case-77\"\nkind = \"binding\"\nvalue = \"{binding}\"\nreason = \"referral\"\n")
    })
    .await;
    let (_, v) = h.scan(&h.token(&ANNA), &ANNA.mrz()).await;
    assert_eq!(v["decision"], "red");
    assert!(codes(&v, "passenger").is_empty());
    assert!(!v.to_string().contains("case-77"), "{v}");
    let officer = &officer_reasons(&h, &v).await[0];
    assert_eq!(officer["code"], "selection.watch_binding");
    assert_eq!(officer["rule"], "case-77");
    let (_, v) = h.scan(&h.token(&BOB), &BOB.mrz()).await;
    assert_eq!(
        v["decision"], "green",
        "another passport does not hit the rule"
    );
}

#[tokio::test]
async fn a_declaration_judged_under_another_profile_is_rechecked_and_says_so() {
    let h = Harness::new().await;
    let qr = h.token_with(&h.key, &ANNA, |c| c.summary.profile_id = "JP-2025".into());
    let (_, v) = h.scan(&qr, &ANNA.mrz()).await;
    assert_eq!(v["decision"], "green", "{v}");
    assert!(codes(&v, "passenger").is_empty(), "{v}");
    assert_eq!(stored_codes(&h, &v).await, ["rules.profile_differs"]);
}

#[tokio::test]
async fn goods_to_declare_are_red_and_the_case_keeps_the_identity() {
    let h = Harness::new().await;
    let qr = h.token_with(&h.key, &ANNA, |c| {
        c.summary.declared = Declared {
            answers: Answers {
                commercial: true,
                ..Answers::default()
            },
            ..Declared::default()
        }
    });
    let (_, v) = h.scan(&qr, &ANNA.mrz()).await;
    assert_eq!(codes(&v, "passenger"), ["declaration.items_to_declare"]);
    assert!(v["reasons"][0].get("detail").is_none(), "{v}");
    assert!(
        officer_reasons(&h, &v).await[0]["detail"]
            .as_array()
            .is_some()
    );
    let case = h.case_row(case_of(&h, &v).await.unwrap()).await;
    let identity: Value = serde_json::from_str(case["identity_json"].as_str().unwrap()).unwrap();
    assert_eq!(identity["surname"], ANNA.surname);
    assert_eq!(identity["document_number"], ANNA.number);
    let summary: Value = serde_json::from_str(case["summary_json"].as_str().unwrap()).unwrap();
    assert_eq!(summary["answers"]["commercial"], true);
    assert_eq!(summary["party"]["aged_20_plus"], 1);
    assert_eq!(case["status"], "waiting");
    assert!(
        case["evaluation_json"]
            .as_str()
            .unwrap()
            .contains("\"lane\":\"red\"")
    );
}

#[tokio::test]
async fn the_retention_purge_erases_old_case_identities_only() {
    let h = Harness::new().await;
    let (_, v) = h.scan(&h.token(&BOB), &ANNA.mrz()).await;
    let case_id = case_of(&h, &v).await.unwrap();
    let now = h.state.clock.unix();
    h.state
        .db
        .write(move |c| -> Result<usize, shared::db::DbError> {
            Ok(c.execute(
                "INSERT INTO login_attempts (username, client_ip, at, success) VALUES ('x', '127.0.0.1', ?1, 0)",
                [now],
            )?)
        })
        .await
        .unwrap();
    assert_eq!(
        gate_service::purge_expired(&h.state, now + 29 * 86_400)
            .await
            .unwrap(),
        0
    );
    assert_eq!(h.count("SELECT count(*) FROM login_attempts").await, 1);
    assert_eq!(
        gate_service::purge_expired(&h.state, now + 31 * 86_400)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        h.count("SELECT count(*) FROM login_attempts").await,
        0,
        "sign-in attempts kept for the retention period only"
    );
    let case = h.case_row(case_id).await;
    assert!(case["identity_json"].is_null());
    assert_eq!(case["purged_at"], now + 31 * 86_400);
    assert_eq!(
        h.count("SELECT count(*) FROM used_tokens").await,
        0,
        "expired tokens forgotten"
    );
}

#[tokio::test]
async fn many_simultaneous_scans_of_one_token_accept_it_at_most_once() {
    let h = Arc::new(Harness::new().await);
    let qr = h.token(&ANNA);
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (h, qr) = (Arc::clone(&h), qr.clone());
            tokio::spawn(async move { h.scan(&qr, &ANNA.mrz()).await.1 })
        })
        .collect();
    let mut accepted = 0;
    for t in tasks {
        let v = t.await.unwrap();
        if !codes(&v, "passenger").contains(&"token.replayed".to_owned()) {
            assert_eq!(v["decision"], "green");
            accepted += 1;
        }
    }
    assert_eq!(accepted, 1);
    assert_eq!(h.count("SELECT count(*) FROM scans").await, 32);
}

#[tokio::test]
async fn malformed_requests_are_4xx_problems() {
    let h = Harness::new().await;
    // The gate is the credential's: a `gate_id` field is refused like any unknown one.
    let (status, v) = h
        .post_raw(
            "/v1/scans",
            "application/json",
            br#"{"qr":"x","mrz":"y","gate_id":"g"}"#.to_vec(),
        )
        .await;
    assert_eq!(status, 400, "{v}");
    let (status, v) = h
        .post_raw(
            "/v1/scans",
            "application/json",
            br#"{"qr":"x","mrz":"y","extra":1}"#.to_vec(),
        )
        .await;
    assert_eq!(status, 400, "{v}");
    let (status, _) = h.post_raw("/v1/scans", "text/plain", b"x".to_vec()).await;
    assert_eq!(status, 415);
    let (status, _) = h
        .post_raw("/v1/scans/image", "application/json", b"{}".to_vec())
        .await;
    assert_eq!(status, 415);
}

#[tokio::test]
async fn healthz_reports_each_issuers_keys_and_age() {
    let h = Harness::new().await;
    h.clock.advance(time::Duration::seconds(30));
    let (status, v) = h.get("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(v["status"], "ok");
    assert_eq!(v["issuers"][0]["id"], "mobile-api");
    assert_eq!(v["issuers"][0]["keys"], 1);
    assert_eq!(v["issuers"][0]["keys_age_secs"], 30);
}
