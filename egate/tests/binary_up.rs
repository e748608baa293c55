//! `egate up` and the operator commands, run as an operator runs them: the real binary
//! on a fresh data directory, its real background loops (trust-list refreshes, use
//! reports, key reloads, purges), stopped with SIGINT. Only the command line, what it
//! prints, the files it writes and HTTP are used.

mod binary_support;

use binary_support::*;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

#[tokio::test]
async fn first_start_writes_0600_keys_prints_the_supervisor_password_once_and_serves_all_three() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let mut up = Up::start(d, &[]).await;
    let http = client();

    // The keys, each readable by the owner only.
    let mut keys = vec![
        d.join("binding.key"),
        d.join("gate/use-report.key"),
        d.join("gate/declaration-read.key"),
        d.join("use-report.verifier"),
        d.join("declaration-read.verifier"),
        d.join("gate/selection.key"),
    ];
    let mobile_keys = files_ending(&d.join("mobile-api/keys"), ".pk8");
    let kiosk_keys = files_ending(&d.join("kiosk/keys"), ".pk8");
    assert_eq!(mobile_keys.len(), 1, "{mobile_keys:?}");
    assert_eq!(kiosk_keys.len(), 1, "{kiosk_keys:?}");
    keys.extend(mobile_keys);
    keys.extend(kiosk_keys);
    for k in &keys {
        assert_eq!(mode(k), 0o600, "{} must be 0600", k.display());
    }

    // The password, printed once, signs the supervisor in.
    let passwords = up.passwords();
    assert_eq!(passwords.len(), 1, "{}", up.proc.output());
    let password = passwords[0].clone();
    assert!(password.len() >= 16, "a random password: {password:?}");
    let console = console_login(&up.console, "supervisor", &password).await;
    let queue = console
        .get(format!("{}/console/queue", up.console))
        .send()
        .await
        .unwrap();
    assert_eq!(queue.status(), 200);

    // All three answer, and the gate trusts the two issuers actually running.
    let m_jwks = get_json(&http, &format!("{}/v1/jwks", up.mobile)).await;
    let k_jwks = get_json(&http, &format!("{}/v1/jwks", up.kiosk)).await;
    assert_eq!(kids(&m_jwks).len(), 1);
    assert_eq!(kids(&k_jwks).len(), 1);
    let health = get_json(&http, &format!("{}/healthz", up.gate)).await;
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["trusted_keys"], 2, "{health}");
    for issuer in health["issuers"].as_array().unwrap() {
        assert_eq!(issuer["keys"], 1, "{health}");
        assert!(issuer["last_error"].is_null(), "{health}");
    }
    let start = http.get(format!("{}/", up.kiosk)).send().await.unwrap();
    assert_eq!(start.status(), 200);
    assert!(start.text().await.unwrap().contains("日本語"));
    // A passenger passes end to end.
    let created = declare(
        &http,
        &up.mobile,
        &declaration(&japan_date(0), "NH212", json!([])),
    )
    .await;
    let d1 = scan(&http, &up.gate, created["qr"]["text"].as_str().unwrap()).await;
    assert!(d1["decision"] == "green" || codes(&d1).is_empty(), "{d1}");
    up.proc.stop().await;

    // A second start on the same directory: the same keys, no new password, and the
    // first one still works.
    let mut again = Up::start(d, &[]).await;
    assert!(
        again.passwords().is_empty(),
        "the password is printed once only:\n{}",
        again.proc.output()
    );
    // The demo gate's key was printed by the first start only, and still scans.
    let demo_keys = |out: String| out.lines().filter(|l| l.trim().starts_with("key:")).count();
    assert_eq!(demo_keys(up.proc.output()), 1, "{}", up.proc.output());
    assert_eq!(demo_keys(again.proc.output()), 0, "{}", again.proc.output());
    let r = http
        .post(format!("{}/v1/scans", again.gate))
        .bearer_auth(gate_key(&again.gate))
        .json(&serde_json::json!({"qr": "CD1:X", "mrz": MRZ}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the demo gate's key from the first start");
    assert_eq!(
        kids(&get_json(&http, &format!("{}/v1/jwks", again.mobile)).await),
        kids(&m_jwks)
    );
    assert_eq!(files_ending(&d.join("mobile-api/keys"), ".pk8").len(), 1);
    console_login(&again.console, "supervisor", &password).await;
    again.proc.stop().await;
}

/// The QR PNG of a declaration, as the phone shows it.
async fn qr_png(http: &reqwest::Client, mobile: &str, created: &Value) -> Vec<u8> {
    let r = http
        .get(format!(
            "{mobile}/v1/declarations/{}/qr.png?scale=6",
            created["id"].as_str().unwrap()
        ))
        .bearer_auth(created["edit_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap().to_vec()
}

/// Read from `s` until `buf` holds `needle` or the peer closes.
async fn read_until(s: &mut tokio::net::TcpStream, buf: &mut Vec<u8>, needle: &[u8]) {
    let mut chunk = [0u8; 4096];
    while !buf.windows(needle.len()).any(|w| w == needle) {
        let n = tokio::time::timeout(DEADLINE, s.read(&mut chunk))
            .await
            .expect("the gate answers in time")
            .expect("read from the gate");
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn assert_closed_cleanly(db: &Path) {
    assert!(db.exists(), "{}", db.display());
    let wal = std::path::PathBuf::from(format!("{}-wal", db.display()));
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(
        wal_len,
        0,
        "{}: a closed database leaves no write-ahead log behind",
        db.display()
    );
    let c = rusqlite::Connection::open(db).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok", "{}", db.display());
}

#[tokio::test]
async fn ctrl_c_lets_an_in_flight_image_scan_finish_then_exits_0_with_the_databases_closed() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let mut up = Up::start(d, &[("EGATE_GATE_SELECTION_RATE", "0")]).await;
    let http = client();
    let created = declare(
        &http,
        &up.mobile,
        &declaration(&japan_date(0), "NH212", json!([])),
    )
    .await;
    let png = qr_png(&http, &up.mobile, &created).await;

    // An image scan whose head the gate has read and whose body it is waiting for
    // (the `100 Continue` proves the request is in the gate's hands), when Ctrl-C comes.
    let boundary = "egateTestBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"frame.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(&png);
    body.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"mrz\"\r\n\r\n{MRZ}\r\n--{boundary}--\r\n"
        )
        .as_bytes(),
    );
    let gate_addr = up.gate.trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&gate_addr).await.unwrap();
    let head = format!(
        "POST /v1/scans/image HTTP/1.1\r\nHost: {gate_addr}\r\nAuthorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        gate_key(&up.gate),
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    read_until(&mut s, &mut buf, b"\r\n\r\n").await;
    assert!(
        buf.starts_with(b"HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&buf)
    );

    up.proc.interrupt();
    // The shutdown has begun once the gate takes no new connection.
    poll("the gate to stop accepting connections", || {
        let a = gate_addr.clone();
        async move {
            tokio::net::TcpStream::connect(&a)
                .await
                .is_err()
                .then_some(())
        }
    })
    .await;
    assert!(up.proc.running(), "the in-flight request holds the process");

    s.write_all(&body).await.unwrap();
    let mut answer = Vec::new();
    read_until(&mut s, &mut answer, b"\"decision\"").await;
    read_until(&mut s, &mut answer, b"}}").await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("\"decision\":\"green\""), "{text}");

    let status = up.proc.wait_exit().await;
    assert!(status.success(), "{status}:\n{}", up.proc.output());
    assert!(
        up.proc.output().contains("shutdown requested"),
        "{}",
        up.proc.output()
    );
    for db in ["mobile-api/mobile-api.db", "gate/gate.db", "kiosk/kiosk.db"] {
        assert_closed_cleanly(&d.join(db));
    }
    // The scan answered during the shutdown was stored.
    let c = rusqlite::Connection::open(d.join("gate/gate.db")).unwrap();
    let scans: i64 = c
        .query_row("SELECT count(*) FROM scans", [], |r| r.get(0))
        .unwrap();
    assert_eq!(scans, 1);
}

/// The key id that signed `qr`, among the keys of `jwks` (whether or not the key had
/// been retired when it signed: that is the gate's judgement, not this lookup's).
fn signing_kid(qr: &str, jwks: &Value) -> String {
    signed(qr, jwks).0
}

/// The key id that signed `qr` (as [`signing_kid`]) and the token's `iat`.
fn signed(qr: &str, jwks: &Value) -> (String, i64) {
    let mut jwks = jwks.clone();
    for k in jwks["keys"].as_array_mut().unwrap() {
        k.as_object_mut().unwrap().remove("exp");
    }
    let jwks: shared::token::Jwks = serde_json::from_value(jwks).unwrap();
    let mut trust = shared::token::TrustList::new();
    trust.add_jwks(&jwks).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let opts = shared::token::VerifyOptions {
        now,
        skew_secs: 600,
    };
    let v = shared::token::decode_and_verify(qr, &trust, opts)
        .expect("every token verifies against the issuer's published keys");
    (v.kid.to_base64(), v.claims.iat)
}

#[tokio::test]
async fn rotate_key_while_passengers_declare_and_scan_refuses_no_one_and_both_kids_pass() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    // Short periods, out of step with each other as on a real site (a gate's refresh and
    // an issuer's key reload run on their own clocks): the gate refreshes every 4 s,
    // mobile-api re-reads its keys every 3 s. `rotate-key`, run with the same
    // environment, derives its publication lead from them (2 × 4 + 3 = 11 s): the new
    // key is published at once and signs only once every gate can have loaded it.
    // The load below scans through the one demo gate faster than a real E-Gate can
    // (declaring and walking to the gate are instant here): its per-device scan rate
    // (EGATE_GATE_SCAN_RATE, default 5/s, burst 20; gate-service/README.md) is raised
    // so that no scan gets 429; the rotation, not the device limit, is under test.
    let env = [
        ("EGATE_GATE_REFRESH_SECS", "4"),
        ("EGATE_KEY_RELOAD_SECS", "3"),
        ("EGATE_GATE_SELECTION_RATE", "0"),
        ("EGATE_RATE_LIMIT_PER_MINUTE", "1000000"),
        ("EGATE_GATE_SCAN_RATE", "100000"),
        ("EGATE_GATE_SCAN_BURST", "100000"),
    ];
    let up = Up::start(d, &env).await;
    let http = client();
    let today = japan_date(0);
    let old_jwks = get_json(&http, &format!("{}/v1/jwks", up.mobile)).await;
    let old_kid = kids(&old_jwks).remove(0);
    // QRs issued before the rotation, shown at the gate after it.
    let mut before = Vec::new();
    for _ in 0..3 {
        let c = declare(&http, &up.mobile, &declaration(&today, "NH212", json!([]))).await;
        before.push(c["qr"]["text"].as_str().unwrap().to_owned());
    }

    // The load: passengers declaring and going straight to the gate.
    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let mut workers = Vec::new();
    for _ in 0..2 {
        let (stop, seen, http) = (stop.clone(), seen.clone(), http.clone());
        let (mobile, gate, today) = (up.mobile.clone(), up.gate.clone(), today.clone());
        workers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let c = declare(&http, &mobile, &declaration(&today, "NH212", json!([]))).await;
                let qr = c["qr"]["text"].as_str().unwrap().to_owned();
                let decision = scan(&http, &gate, &qr).await;
                seen.lock().unwrap().push((qr, decision));
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
        }));
    }
    let seen_ref = &seen;
    poll("the load to run", move || async move {
        (seen_ref.lock().unwrap().len() >= 5).then_some(())
    })
    .await;

    let out = run_ok(d, &["rotate-key", "mobile-api"], &env);
    assert!(out.contains("new signing key"), "{out}");
    assert!(
        out.contains("(in 11 s)"),
        "the lead derived from the periods: {out}"
    );
    let new_jwks = poll("mobile-api to publish the new key", || {
        let (http, url) = (http.clone(), format!("{}/v1/jwks", up.mobile));
        async move {
            let j = get_json(&http, &url).await;
            (kids(&j).len() == 2).then_some(j)
        }
    })
    .await;
    let new_kid = kids(&new_jwks).into_iter().find(|k| *k != old_kid).unwrap();
    assert!(
        out.contains(&new_kid) && out.contains(&old_kid),
        "the command names the keys: {out}"
    );
    let old_exp = new_jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == old_kid.as_str())
        .and_then(|k| k["exp"].as_i64())
        .expect("the old key is published with its retirement as exp");

    // Keep the load going until passengers with QRs signed by the new key have passed
    // (the gate picked the key up) and a few more after that.
    let (jwks_ref, kid_ref, workers_ref) = (&new_jwks, &new_kid, &workers);
    poll(
        "QRs signed by the new key to pass the gate",
        move || async move {
            // A worker ends before `stop` only by failing (a declaration or scan refused
            // outright): fail now, its message is above, rather than at the deadline.
            assert!(
                !workers_ref.iter().any(|w| w.is_finished()),
                "a load worker failed"
            );
            let seen = seen_ref.lock().unwrap();
            let first_new_green = seen.iter().position(|(qr, d)| {
                d["decision"] == "green" && signing_kid(qr, jwks_ref) == *kid_ref
            })?;
            (seen.len() >= first_new_green + 10).then_some(())
        },
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.expect("a load worker failed");
    }
    let mut old_after = Vec::new();
    for qr in &before {
        old_after.push(scan(&http, &up.gate, qr).await);
    }

    let seen = seen.lock().unwrap();
    let refused: Vec<String> = seen
        .iter()
        .filter(|(_, d)| d["decision"] != "green")
        .map(|(qr, d)| {
            format!(
                "{} signed by {}",
                d["reasons"],
                if signing_kid(qr, &new_jwks) == new_kid {
                    "the new key"
                } else {
                    "the old key"
                }
            )
        })
        .collect();
    assert!(
        refused.is_empty(),
        "{} of {} passengers were refused during the rotation (each QR was valid and \
         signed by a published key):\n{}",
        refused.len(),
        seen.len(),
        refused.join("\n")
    );
    let by_old = seen
        .iter()
        .filter(|(qr, _)| signing_kid(qr, &new_jwks) == old_kid)
        .count();
    assert!(by_old > 0, "load ran under the old key too");
    // The hand-over happened at the old key's retirement, whenever mobile-api reloaded.
    for (qr, _) in seen.iter() {
        let (kid, iat) = signed(qr, &new_jwks);
        if kid == old_kid {
            assert!(
                iat < old_exp,
                "the old key signed at {iat}, retired at {old_exp}"
            );
        } else {
            assert!(
                iat >= old_exp,
                "the new key signed at {iat}, before {old_exp}"
            );
        }
    }
    for d in &old_after {
        assert_eq!(
            d["decision"], "green",
            "a QR issued before the rotation still passes: {d}"
        );
    }
}

#[tokio::test]
async fn trust_list_prints_what_each_issuer_publishes_and_follows_a_kiosk_rotation() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let mut up = Up::start(d, &[]).await;
    let http = client();
    for (issuer, base, iss) in [
        ("mobile-api", &up.mobile, "mobile-api"),
        ("kiosk", &up.kiosk, "kiosk:T1"),
    ] {
        let printed: Value =
            serde_json::from_str(&run_ok(d, &["trust-list", issuer], &[])).unwrap();
        let served = get_json(&http, &format!("{base}/v1/jwks")).await;
        assert_eq!(printed, served, "{issuer}");
        assert_eq!(printed["keys"][0]["iss"], iss);
        assert_eq!(printed["keys"][0]["kty"], "OKP", "{printed}");
        assert!(
            printed["keys"][0].get("d").is_none(),
            "no private key part: {printed}"
        );
    }

    // After `rotate-key kiosk` both keys are listed, the old one with its retirement as
    // `exp`; the running kiosk publishes the same within its reload period.
    let before = kids(&get_json(&http, &format!("{}/v1/jwks", up.kiosk)).await);
    let out = run_ok(d, &["rotate-key", "kiosk"], &[]);
    assert!(out.contains("kiosk:T1"), "{out}");
    let printed: Value = serde_json::from_str(&run_ok(d, &["trust-list", "kiosk"], &[])).unwrap();
    let printed_kids = kids(&printed);
    assert_eq!(printed_kids.len(), 2, "{printed}");
    assert!(printed_kids.contains(&before[0]));
    let old = printed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == before[0].as_str())
        .unwrap();
    assert!(old["exp"].is_i64(), "the retired key has an exp: {printed}");
    poll("the running kiosk to publish the new key", || {
        let (http, url) = (http.clone(), format!("{}/v1/jwks", up.kiosk));
        let want = printed_kids.clone();
        async move {
            let mut got = kids(&get_json(&http, &url).await);
            let mut want = want;
            got.sort();
            want.sort();
            (got == want).then_some(())
        }
    })
    .await;
    up.proc.stop().await;
}

#[tokio::test]
async fn purge_erases_personal_data_past_retention_and_leaves_the_rest() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    // Retention 3 days; a QR may stay valid 30 days after arrival, so a passenger who
    // arrived 5 days ago still has a valid QR and personal data past retention.
    let env = [
        ("EGATE_TOKEN_GRACE_HOURS", "720"),
        ("EGATE_RETENTION_DAYS", "3"),
        ("EGATE_GATE_SELECTION_RATE", "0"),
    ];
    let mut up = Up::start(d, &env).await;
    let password = up.passwords().remove(0);
    let http = client();
    let old = declare(
        &http,
        &up.mobile,
        &declaration(&japan_date(-5), "NH212", whisky()),
    )
    .await;
    let recent = declare(
        &http,
        &up.mobile,
        &declaration(&japan_date(0), "NH212", json!([])),
    )
    .await;
    let decision = scan(&http, &up.gate, old["qr"]["text"].as_str().unwrap()).await;
    assert_eq!(decision["decision"], "red", "{decision}");
    let console = console_login(&up.console, "supervisor", &password).await;
    let case_id = newest_case(&console, &up.console).await;
    let case_url = format!("{}/console/cases/{case_id}", up.console);
    let page = console
        .get(&case_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("TANAKA"), "the case shows the MRZ identity");
    let read = |c: &Value, base: &str| {
        let req = http
            .get(format!(
                "{base}/v1/declarations/{}",
                c["id"].as_str().unwrap()
            ))
            .bearer_auth(c["edit_token"].as_str().unwrap());
        async move { req.send().await.unwrap() }
    };
    assert_eq!(read(&old, &up.mobile).await.status(), 200);
    up.proc.stop().await;

    // The case was opened 10 days ago (as far as the retention purge can tell).
    rusqlite::Connection::open(d.join("gate/gate.db"))
        .unwrap()
        .execute("UPDATE cases SET opened_at = opened_at - 10 * 86400", [])
        .unwrap();
    // What there is to purge, counted in the files before the command runs: the
    // command must find and erase exactly this (no start-up purge of the services may
    // erase it first and leave the command counting nothing).
    let count = |db: &str, sql: &str| -> i64 {
        rusqlite::Connection::open(d.join(db))
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    };
    let identities = "SELECT count(*) FROM cases WHERE identity_json IS NOT NULL";
    let unerased = "SELECT count(*) FROM declarations WHERE erased_at IS NULL";
    assert_eq!(count("gate/gate.db", identities), 1);
    assert_eq!(count("mobile-api/mobile-api.db", unerased), 2);
    let out = run_ok(d, &["purge"], &env);
    assert_eq!(count("gate/gate.db", identities), 0, "{out}");
    assert_eq!(count("mobile-api/mobile-api.db", unerased), 1, "{out}");
    assert!(
        out.contains("erased personal data of 1 declaration(s) and 1 case(s)"),
        "{out}"
    );
    let out = run_ok(d, &["purge"], &env);
    assert!(
        out.contains("erased personal data of 0 declaration(s) and 0 case(s)"),
        "nothing left to purge: {out}"
    );

    let mut up = Up::start(d, &env).await;
    assert_eq!(
        read(&old, &up.mobile).await.status(),
        404,
        "erased past retention"
    );
    let r = read(&recent, &up.mobile).await;
    assert_eq!(r.status(), 200, "within retention: kept");
    assert!(r.text().await.unwrap().contains(SURNAME));
    let console = console_login(&up.console, "supervisor", &password).await;
    let page = console
        .get(format!("{}/console/cases/{case_id}", up.console))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("{case_id}"))
            && !page.contains("TANAKA")
            && !page.contains(PASSPORT_NO),
        "the case is kept without the identity: {page}"
    );
    up.proc.stop().await;
}

#[tokio::test]
async fn run_starts_one_service_alone_and_stops_on_ctrl_c() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let http = client();

    let mut kiosk = Process::spawn(d, &["run", "kiosk"], &[]);
    let url = url_in(
        &kiosk
            .wait_for_line("the kiosk URL", |l| l.starts_with("kiosk on http://"))
            .await,
    );
    let page = poll("the kiosk to answer", || {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let r = http.get(format!("{url}/")).send().await.ok()?;
            (r.status() == 200).then_some(r.text().await.ok()?)
        }
    })
    .await;
    for lang in ["日本語", "English", "简体中文", "繁體中文", "한국어"] {
        assert!(page.contains(lang), "{lang}");
    }
    assert!(d.join("kiosk/kiosk.db").exists());
    assert!(!d.join("mobile-api").exists(), "mobile-api not started");
    assert!(!d.join("gate").exists(), "gate not started");
    kiosk.stop().await;

    let mut mobile = Process::spawn(d, &["run", "mobile-api"], &[]);
    // Its public listener and its internal one (use reports, gates only).
    let [m_url, m_internal]: [String; 2] = urls_in(
        &mobile
            .wait_for_line("the mobile-api URLs", |l| {
                l.starts_with("mobile-api on http://")
            })
            .await,
    )
    .try_into()
    .expect("a public and an internal URL");
    let created = poll("mobile-api to answer", || {
        let (http, m_url) = (http.clone(), m_url.clone());
        async move {
            let r = http
                .post(format!("{m_url}/v1/declarations"))
                .json(&declaration(&japan_date(0), "NH212", json!([])))
                .send()
                .await
                .ok()?;
            (r.status() == 201).then_some(r.json::<Value>().await.ok()?)
        }
    })
    .await;
    assert!(!d.join("gate").exists(), "gate not started");

    // The gate alone, trusting that mobile-api through the list the operator signed, and
    // one E-Gate device registered.
    let root = sign_trust_list(d, "mobile-api");
    let device_key = add_gate_device(d, "G-01");
    let issuers = format!("mobile-api={m_url};internal={m_internal}");
    let mut gate = Process::spawn(
        d,
        &["run", "gate"],
        &[
            ("EGATE_GATE_ISSUERS", &issuers),
            ("EGATE_GATE_ROOT_KEY", &root),
        ],
    );
    let g_url = url_in(
        &gate
            .wait_for_line("the gate URL", |l| l.starts_with("gate-service on http://"))
            .await,
    );
    register_gate_key(&g_url, &device_key);
    let health = poll("the gate to answer", || {
        let (http, g_url) = (http.clone(), g_url.clone());
        async move {
            let r = http.get(format!("{g_url}/healthz")).send().await.ok()?;
            r.json::<Value>().await.ok()
        }
    })
    .await;
    assert_eq!(health["issuers"].as_array().unwrap().len(), 1, "{health}");
    assert_eq!(health["trusted_keys"], 1, "{health}");
    assert!(
        health["issuers"][0]["last_error"].is_null(),
        "the signed list accepted: {health}"
    );
    let decision = scan(&http, &g_url, created["qr"]["text"].as_str().unwrap()).await;
    assert!(
        decision["decision"] == "green" || codes(&decision).is_empty(),
        "{decision}"
    );
    gate.stop().await;
    mobile.stop().await;
}
