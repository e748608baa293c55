//! What a scan spends, answers and records, over real HTTP (docs/flows.md, the scan
//! pipeline): a photographed QR with the wrong passport does not burn it, a misread
//! passport is `retry` with no case, the device never learns officer data, refused
//! tokens are counted per device and open no case, and the arrival date is checked.

use super::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The only fields a device answer may have, and the only fields of a reason.
const ANSWER_FIELDS: [&str; 5] = [
    "decision",
    "passenger_message",
    "reasons",
    "retries_left",
    "scan_id",
];

/// The answer carries the lane and passenger messages only: no field but the allowed
/// ones, reasons with a code and a message only, none of `forbidden` anywhere in it.
fn assert_no_officer_data(d: &Value, forbidden: &[&str]) {
    let fields: BTreeSet<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
    assert!(
        fields.iter().all(|f| ANSWER_FIELDS.contains(f)),
        "unexpected field in a device answer: {d}"
    );
    for r in d["reasons"].as_array().unwrap() {
        let keys: BTreeSet<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["code", "message"]), "{d}");
        let code = r["code"].as_str().unwrap();
        assert!(
            !code.starts_with("selection.")
                && !code.starts_with("alert.")
                && !code.starts_with("rules."),
            "officer reason {code} shown to the passenger: {d}"
        );
    }
    let text = d.to_string();
    // Keys are checked above; a passenger message may say "see an officer".
    for f in [
        "case_id",
        "selection",
        "watch",
        "allowance",
        "duty",
        "declaration_id",
    ]
    .iter()
    .chain(forbidden)
    {
        assert!(!text.contains(f), "{f:?} in a device answer: {text}");
    }
}

/// Bad check digit of the document number (line 2, position 10): a misread passport.
fn misread(mrz: &str) -> String {
    let (l1, l2) = mrz.split_once('\n').unwrap();
    let mut b = l2.as_bytes().to_vec();
    b[9] = if b[9] == b'0' { b'1' } else { b'0' };
    format!("{l1}\n{}", String::from_utf8(b).unwrap())
}

async fn count(sys: &System, sql: &'static str) -> i64 {
    sys.gate
        .state
        .db
        .read(move |c| -> Result<i64, shared::db::DbError> {
            Ok(c.query_row(sql, [], |r| r.get(0))?)
        })
        .await
        .unwrap()
}

async fn scan_as(sys: &System, key: &str, qr: &str, mrz: &str) -> Value {
    let r = sys
        .http
        .post(sys.gate.url("/v1/scans"))
        .bearer_auth(key)
        .json(&json!({"qr": qr, "mrz": mrz}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// A declaration with nothing to declare; its QR text.
async fn green_qr(sys: &System, who: &Traveller) -> String {
    let (status, created) = sys.declare(&who.declaration(json!([]))).await;
    assert_eq!(status, 201, "{created}");
    created["qr"]["text"].as_str().unwrap().to_owned()
}

/// A signed-in console client (`role`: officer or supervisor).
async fn console(sys: &System, user: &str, role: &str) -> reqwest::Client {
    let password = "a long console passphrase";
    gate_service::console::create_officer(&sys.gate.state.db, user, user, role, password)
        .await
        .unwrap();
    let web = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let login = web
        .get(sys.console_url("/console/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = web
        .post(sys.console_url("/console/login"))
        .form(&[
            ("csrf", csrf_of(&login).as_str()),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    web
}

async fn page(web: &reqwest::Client, url: String) -> String {
    let r = web.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

#[tokio::test]
async fn a_photographed_qr_with_the_wrong_passport_does_not_burn_it_and_repeats_raise_an_alert() {
    let sys = System::spawn().await;
    let (hanako, erik) = (Traveller::hanako(), Traveller::erik());
    let qr = green_qr(&sys, &hanako).await;
    let other_gate = sys.gate_device("G-02").await;
    // Someone photographed Hanako's QR and tries it with Erik's passport, at two gates.
    let first = sys.scan(&qr, &erik.mrz()).await;
    assert_eq!(first["decision"], "red", "{first}");
    assert_eq!(codes(&first), ["passport.mismatch"]);
    assert_no_officer_data(&first, &[]);
    let second = scan_as(&sys, &other_gate, &qr, &erik.mrz()).await;
    assert_eq!(codes(&second), ["passport.mismatch"]);
    assert_no_officer_data(&second, &[]);
    assert_eq!(count(&sys, "SELECT count(*) FROM used_tokens").await, 0);
    // Hanako herself still passes: the token was not spent.
    let real = sys.scan(&qr, &hanako.mrz()).await;
    assert_eq!(real["decision"], "green", "{real}");
    assert_eq!(count(&sys, "SELECT count(*) FROM used_tokens").await, 1);
    // The second mismatch's case carries the stolen-QR alert, in the queue and the case.
    let cases = count(&sys, "SELECT count(*) FROM cases").await;
    assert_eq!(cases, 2);
    let web = console(&sys, "sato", "officer").await;
    let queue = page(&web, sys.console_url("/console/queue")).await;
    assert_eq!(queue.matches("alert.stolen_qr").count(), 1, "{queue}");
    let alerted = count(
        &sys,
        "SELECT id FROM cases WHERE reasons_json LIKE '%alert.stolen_qr%'",
    )
    .await;
    let case = page(&web, sys.console_url(&format!("/console/cases/{alerted}"))).await;
    assert!(case.contains("alert.stolen_qr") || case.contains("possible stolen QR"));
}

#[tokio::test]
async fn a_misread_passport_twice_then_read_is_green_with_no_case_and_three_misreads_are_red() {
    let sys = System::spawn().await;
    let hanako = Traveller::hanako();
    let qr = green_qr(&sys, &hanako).await;
    for left in [2, 1] {
        let d = sys.scan(&qr, &misread(&hanako.mrz())).await;
        assert_eq!(d["decision"], "retry", "{d}");
        assert_eq!(d["retries_left"], left, "{d}");
        assert_eq!(
            d["passenger_message"],
            "Place your passport on the reader again."
        );
        assert_eq!(codes(&d), ["mrz.check_digit"]);
        assert_no_officer_data(&d, &[]);
    }
    let d = sys.scan(&qr, &hanako.mrz()).await;
    assert_eq!(d["decision"], "green", "{d}");
    assert_eq!(count(&sys, "SELECT count(*) FROM cases").await, 0);
    assert_eq!(count(&sys, "SELECT count(*) FROM scans").await, 1);

    // Another passenger's QR misread three times at the same gate: RED, with a case,
    // and the token still unspent.
    let erik = Traveller::erik();
    let qr = green_qr(&sys, &erik).await;
    let answers: Vec<Value> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(sys.scan(&qr, &misread(&erik.mrz())).await);
        }
        v
    };
    let decisions: Vec<&str> = answers
        .iter()
        .map(|d| d["decision"].as_str().unwrap())
        .collect();
    assert_eq!(decisions, ["retry", "retry", "red"], "{answers:?}");
    assert_no_officer_data(&answers[2], &[]);
    assert_eq!(count(&sys, "SELECT count(*) FROM cases").await, 1);
    assert_eq!(count(&sys, "SELECT count(*) FROM used_tokens").await, 1);
}

#[tokio::test]
async fn no_scan_answer_carries_officer_data_whatever_the_decision() {
    let sys = System::spawn().await;
    let hanako = Traveller::hanako();
    // GREEN.
    let green = sys
        .scan(&green_qr(&sys, &hanako).await, &hanako.mrz())
        .await;
    assert_eq!(green["decision"], "green");
    assert_no_officer_data(&green, &[]);
    // RED for the rules: the passenger reason only, no rules detail.
    let (_, created) = sys
        .declare(&hanako.declaration(json!([
            {"category": "whisky", "quantity": 5, "volume_ml": 750,
             "value": {"amount": 300.0, "currency": "USD"}}
        ])))
        .await;
    let rules = sys
        .scan(created["qr"]["text"].as_str().unwrap(), &hanako.mrz())
        .await;
    assert_eq!(codes(&rules), ["declaration.items_to_declare"]);
    assert_no_officer_data(&rules, &["3750", "whisky"]);
    // RED for a watch rule: nothing of the rule, no reason at all.
    let watchlist = &sys.gate.state.config.watchlist_file;
    std::fs::write(
        watchlist,
        "[[rule]]\nname = \"nh212-person-of-interest\"\nkind = \"flight\"\nvalue = \"NH212\"\n\
         reason = \"Intelligence report 2026-077\"\n",
    )
    .unwrap();
    std::fs::File::options()
        .write(true)
        .open(watchlist)
        .unwrap()
        .set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .unwrap();
    sys.gate_refresh().await;
    assert_eq!(sys.gate.state.selection.rules().len(), 1);
    let erik = Traveller::erik();
    let watched = sys.scan(&green_qr(&sys, &erik).await, &erik.mrz()).await;
    assert_eq!(watched["decision"], "red", "{watched}");
    assert!(codes(&watched).is_empty(), "{watched}");
    assert_no_officer_data(
        &watched,
        &["nh212-person-of-interest", "Intelligence", "2026-077"],
    );
    // RED for a refused token (forged: one character changed).
    let qr = green_qr(&sys, &erik).await;
    let mut forged = qr.into_bytes();
    let at = forged.len() - 5;
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    let refused = sys
        .scan(&String::from_utf8(forged).unwrap(), &erik.mrz())
        .await;
    assert_eq!(refused["decision"], "red");
    assert!(refused.get("scan_id").is_none(), "{refused}");
    assert_no_officer_data(&refused, &[]);
    // RETRY.
    let retry = sys
        .scan(&green_qr(&sys, &hanako).await, &misread(&hanako.mrz()))
        .await;
    assert_eq!(retry["decision"], "retry");
    assert_no_officer_data(&retry, &[]);
    // The cases exist for the officer: rules, watch rule.
    assert_eq!(count(&sys, "SELECT count(*) FROM cases").await, 2);
}

#[tokio::test]
async fn ten_thousand_junk_scans_open_no_case_and_are_counted_per_device() {
    let sys = System::spawn().await;
    let other_gate = sys.gate_device("G-02").await;
    let hanako = Traveller::hanako();
    let genuine = green_qr(&sys, &hanako).await;
    let web = console(&sys, "boss", "supervisor").await;
    let queue_before = page(&web, sys.console_url("/console/queue")).await;
    assert!(queue_before.contains("queue-empty"));
    // 10,000 junk QR codes (made-up, truncated, forged), 6,000 from G-01 and 4,000 from
    // G-02, 16 at a time.
    let (per_g01, total) = (6_000usize, 10_000usize);
    let keys = [sys.gate_key.clone(), other_gate.clone()];
    let mrz = hanako.mrz();
    let mut reds = 0usize;
    for chunk in (0..total).collect::<Vec<_>>().chunks(16) {
        let mut set = tokio::task::JoinSet::new();
        for &i in chunk {
            let key = keys[usize::from(i >= per_g01)].clone();
            let qr = match i % 3 {
                0 => format!("CD1:JUNK{i}"),
                1 => genuine[..genuine.len() / 2].to_owned(),
                _ => {
                    let mut b = genuine.clone().into_bytes();
                    let at = 10 + i % (b.len() - 12);
                    b[at] = if b[at] == b'A' { b'B' } else { b'A' };
                    String::from_utf8(b).unwrap()
                }
            };
            let (http, url, mrz) = (sys.http.clone(), sys.gate.url("/v1/scans"), mrz.clone());
            set.spawn(async move {
                let r = http
                    .post(url)
                    .bearer_auth(key)
                    .json(&json!({"qr": qr, "mrz": mrz}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                r.json::<Value>().await.unwrap()
            });
        }
        while let Some(d) = set.join_next().await {
            let d = d.unwrap();
            assert_eq!(d["decision"], "red", "{d}");
            reds += 1;
        }
    }
    assert_eq!(reds, total);
    assert_eq!(count(&sys, "SELECT count(*) FROM cases").await, 0);
    assert_eq!(count(&sys, "SELECT count(*) FROM scans").await, 0);
    assert_eq!(count(&sys, "SELECT count(*) FROM used_tokens").await, 0);
    // Bounded: per device, per hour and reason, not one row per request.
    assert!(count(&sys, "SELECT count(*) FROM refused_scans").await <= 2 * 2 * 8);
    // The supervisor's dashboard counts them per device.
    let dash = page(&web, sys.console_url("/console/dashboard")).await;
    let per_device = |gate: &str| -> i64 {
        dash.match_indices(&format!("data-gate=\"{gate}\" data-count=\""))
            .map(|(at, m)| {
                let rest = &dash[at + m.len()..];
                rest[..rest.find('"').unwrap()].parse::<i64>().unwrap()
            })
            .sum()
    };
    assert_eq!(per_device("G-01"), 6_000, "{dash}");
    assert_eq!(per_device("G-02"), 4_000, "{dash}");
    // The queue is as it was, and the genuine token is unspent.
    let queue_after = page(&web, sys.console_url("/console/queue")).await;
    assert!(queue_after.contains("queue-empty"));
    let d = sys.scan(&genuine, &hanako.mrz()).await;
    assert_eq!(d["decision"], "green", "{d}");
}

#[tokio::test]
async fn a_token_for_another_arrival_date_is_red_with_its_own_reason() {
    let sys = System::spawn().await;
    let hanako = Traveller::hanako();
    let tokyo_today = time::OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::from_hms(9, 0, 0).unwrap())
        .date();
    let mut body = hanako.declaration(json!([]));
    body["trip"]["arrival_date"] = json!(shared::domain::format_date(
        tokyo_today + time::Duration::days(3)
    ));
    let (status, created) = sys.declare(&body).await;
    assert_eq!(status, 201, "{created}");
    let d = sys
        .scan(created["qr"]["text"].as_str().unwrap(), &hanako.mrz())
        .await;
    assert_eq!(d["decision"], "red", "{d}");
    assert_eq!(codes(&d), ["token.arrival_date"]);
    assert_eq!(
        d["reasons"][0]["message"],
        "The QR code's arrival date is not yesterday, today or tomorrow. Please go to the customs counter."
    );
    assert_no_officer_data(&d, &[]);
    // Tomorrow is within the window.
    body["trip"]["arrival_date"] = json!(shared::domain::format_date(
        tokyo_today + time::Duration::days(1)
    ));
    let (_, created) = sys.declare(&body).await;
    let d = sys
        .scan(created["qr"]["text"].as_str().unwrap(), &hanako.mrz())
        .await;
    assert_eq!(d["decision"], "green", "{d}");
}
