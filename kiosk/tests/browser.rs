//! Real-browser tests: headless Chromium driven through WebDriver (chromedriver) with
//! fantoccini, against the kiosk served for real on port 0. They complete a GREEN
//! declaration in English and a RED one in Japanese, read the QR code from a screenshot
//! of the page, verify it against the kiosk's own trust list, check that Back after
//! "Finish" shows the start page and nothing typed, and time a full declaration.
//!
//! Screenshots of every step go to `target/artifacts/kiosk/`. Missing Chromium or
//! chromedriver is a failure, never a skip.

mod common;

use common::{ADDRESS, FLIGHT, GIVEN, OCCUPATION, PASSPORT_NO, PHONE, SURNAME, mrz};
use fantoccini::{Client, ClientBuilder, Locator};
use shared::token::{Jwks, TrustList, VerifyOptions, decode_and_verify};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Longest wait for an element: the waits are for a condition (the element shown), this
/// bound only ends a test whose page never comes, on however slow a machine.
const WAIT: Duration = Duration::from_secs(120);

/// chromedriver, killed on drop (by its own pid).
struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_driver() -> Driver {
    for bin in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            std::path::Path::new(bin).exists(),
            "{bin} is missing: the browser tests need it. Install with: apt-get install chromium chromium-driver"
        );
    }
    // chromedriver picks its port itself (`--port=0`) and announces it on stdout: no port
    // is chosen before it starts, for another process to take in between. The wait is
    // for the announcement; the deadline only stops a hung start.
    let mut child = Command::new(CHROMEDRIVER)
        .arg("--port=0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("failed to start chromedriver (apt-get install chromium chromium-driver)");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        // Read to the end, so that chromedriver never blocks on a full pipe.
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(port) = line.split("started successfully on port ").nth(1) {
                let _ = tx.send(port.trim().trim_end_matches('.').parse::<u16>());
            }
        }
    });
    let port = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("chromedriver did not announce its port")
        .expect("chromedriver announced a port that is not a number");
    Driver {
        child,
        port,
        _profile: tempfile::tempdir().unwrap(),
    }
}

async fn browser(d: &Driver) -> Client {
    let profile = d._profile.path().display().to_string();
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", format!("--user-data-dir={profile}"), "--window-size=1080,1500",
                "--force-device-scale-factor=1"
            ]
        }
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", d.port))
        .await
        .expect("failed to open a Chromium session through chromedriver");
    c.set_window_size(1080, 1500).await.unwrap();
    c
}

/// The kiosk served for real on port 0; returns its base URL and a stop handle.
async fn serve_kiosk() -> (String, tokio::sync::oneshot::Sender<()>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = kiosk::Config::for_tests(dir.path());
    let state = kiosk::build(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(kiosk::serve(listener, state, async {
        let _ = rx.await;
    }));
    (format!("http://{addr}"), tx, dir)
}

fn artifacts() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/artifacts/kiosk");
    std::fs::create_dir_all(&p).unwrap();
    p
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(artifacts().join(format!("{name}.png")), png).unwrap();
}

async fn css(c: &Client, sel: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(sel))
        .await
        .unwrap_or_else(|e| panic!("{sel} not found: {e}"))
}

async fn click(c: &Client, sel: &str) {
    css(c, sel)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {sel}: {e}"));
}

async fn type_into(c: &Client, sel: &str, text: &str) {
    let e = css(c, sel).await;
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

/// Plain HTTP GET (the trust list), without a browser.
async fn http_get(base: &str, path: &str) -> String {
    let host = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out.split_once("\r\n\r\n").unwrap().1.to_owned()
}

/// Screenshot the QR element, decode it, verify it with the kiosk's JWKS only.
async fn read_and_verify_qr(c: &Client, base: &str, name: &str) -> shared::token::Verified {
    let png = css(c, "#qr svg").await.screenshot().await.unwrap();
    std::fs::write(artifacts().join(format!("{name}-qr.png")), &png).unwrap();
    let text = shared::qr::decode_image(&png).expect("the QR on the page is readable");
    assert!(text.starts_with("CD1:"));
    let jwks: Jwks = serde_json::from_str(&http_get(base, "/v1/jwks").await).unwrap();
    let mut trust = TrustList::new();
    trust.add_jwks(&jwks).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    decode_and_verify(&text, &trust, VerifyOptions { now, skew_secs: 60 })
        .expect("the QR verifies against the kiosk's trust list")
}

/// Passport, trip, party: the same in every language.
async fn passport_trip_party(c: &Client, prefix: &str) {
    type_into(c, "#f-mrz", &mrz()).await;
    shot(c, &format!("{prefix}-02-passport-typed")).await;
    click(c, "#read").await;
    css(c, "#next").await;
    shot(c, &format!("{prefix}-03-passport-read")).await;
    click(c, "#next").await;
    css(c, "#f-flight").await;
    type_into(c, "#f-flight", FLIGHT).await;
    type_into(c, "#f-origin", "LHR").await;
    type_into(c, "#f-address_in_japan", ADDRESS).await;
    type_into(c, "#f-phone", PHONE).await;
    type_into(c, "#f-occupation", OCCUPATION).await;
    shot(c, &format!("{prefix}-04-trip")).await;
    click(c, "#next").await;
    css(c, "#f-aged_20_plus").await;
    shot(c, &format!("{prefix}-05-party")).await;
    click(c, "#next").await;
    css(c, "#f-q-prohibited").await;
}

async fn answer(c: &Client, yes: &[&str]) {
    for q in [
        "prohibited",
        "over-allowance",
        "commercial",
        "for-others",
        "means-of-payment",
        "precious-metal",
        "unaccompanied",
    ] {
        let v = if yes.contains(&q) { "yes" } else { "no" };
        click(c, &format!("label[for=\"q-{q}-{v}\"]")).await;
    }
}

async fn assert_no_typed_value(c: &Client, where_: &str) {
    let html = c.source().await.unwrap();
    for v in [
        SURNAME,
        GIVEN,
        PASSPORT_NO,
        FLIGHT,
        ADDRESS,
        PHONE,
        OCCUPATION,
    ] {
        assert!(!html.contains(v), "{where_}: {v} is still on the page");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_green_declaration_in_english_and_a_red_one_in_japanese_in_a_real_browser() {
    let driver = start_driver();
    let (base, stop, _dir) = serve_kiosk().await;
    let c = browser(&driver).await;

    // GREEN, in English.
    c.goto(&format!("{base}/")).await.unwrap();
    css(&c, "button[value=\"en\"]").await;
    shot(&c, "en-01-start").await;
    let started = Instant::now();
    click(&c, "button[value=\"en\"]").await;
    passport_trip_party(&c, "en").await;
    answer(&c, &[]).await;
    shot(&c, "en-06-questions").await;
    click(&c, "#next").await;
    css(&c, "#add-row").await;
    shot(&c, "en-07-items").await;
    click(&c, "#next").await;
    css(&c, ".review").await;
    shot(&c, "en-08-review").await;
    click(&c, "#next").await;
    let verdict = css(&c, "#verdict").await;
    let elapsed = started.elapsed();
    assert_eq!(
        verdict.attr("data-lane").await.unwrap().as_deref(),
        Some("green")
    );
    assert_eq!(
        c.find(Locator::Css("html"))
            .await
            .unwrap()
            .attr("lang")
            .await
            .unwrap()
            .as_deref(),
        Some("en")
    );
    shot(&c, "en-09-result").await;
    let v = read_and_verify_qr(&c, &base, "en").await;
    assert_eq!(v.claims.iss, "kiosk:T1");
    assert_eq!(v.claims.summary.flight, FLIGHT);
    assert!(v.claims.summary.declared.items.is_empty());
    println!(
        "full GREEN declaration in the browser: {} ms",
        elapsed.as_millis()
    );
    std::fs::write(
        artifacts().join("timing.txt"),
        format!("green_declaration_ms={}\n", elapsed.as_millis()),
    )
    .unwrap();
    click(&c, "#print").await;
    css(&c, "body.receipt").await;
    shot(&c, "en-10-receipt").await;
    c.back().await.unwrap();
    click(&c, "#finish").await;
    css(&c, "button[value=\"ja\"]").await;
    assert_no_typed_value(&c, "start page after Finish").await;
    // Back (twice: the receipt and the result) shows the start page, nothing typed.
    c.back().await.unwrap();
    css(&c, "button[value=\"ja\"]").await;
    assert_no_typed_value(&c, "after Back").await;
    c.back().await.unwrap();
    css(&c, "button[value=\"ja\"]").await;
    assert_no_typed_value(&c, "after Back twice").await;
    shot(&c, "en-11-back-after-finish").await;

    // RED, in Japanese, with whisky over the allowance.
    c.goto(&format!("{base}/")).await.unwrap();
    let started = Instant::now();
    click(&c, "button[value=\"ja\"]").await;
    passport_trip_party(&c, "ja").await;
    answer(&c, &["over-allowance"]).await;
    shot(&c, "ja-06-questions").await;
    click(&c, "#next").await;
    click(&c, "#add-row").await;
    css(&c, "#f-item-0-category")
        .await
        .select_by_value("whisky")
        .await
        .unwrap();
    type_into(&c, "#f-item-0-quantity", "6").await;
    type_into(&c, "#f-item-0-size", "700").await;
    type_into(&c, "#f-item-0-amount", "240").await;
    css(&c, "#f-item-0-currency")
        .await
        .select_by_value("USD")
        .await
        .unwrap();
    shot(&c, "ja-07-items").await;
    click(&c, "#next").await;
    css(&c, ".review").await;
    shot(&c, "ja-08-review").await;
    click(&c, "#next").await;
    let verdict = css(&c, "#verdict").await;
    let elapsed_red = started.elapsed();
    assert_eq!(
        verdict.attr("data-lane").await.unwrap().as_deref(),
        Some("red")
    );
    let text = verdict.text().await.unwrap();
    assert!(text.contains("税関検査台"), "{text}");
    shot(&c, "ja-09-result").await;
    let v = read_and_verify_qr(&c, &base, "ja").await;
    assert_eq!(v.claims.summary.declared.items.len(), 1);
    assert!(v.claims.summary.declared.answers.over_allowance);
    println!(
        "full RED declaration in the browser: {} ms",
        elapsed_red.as_millis()
    );
    std::fs::write(
        artifacts().join("timing.txt"),
        format!(
            "green_declaration_ms={}\nred_declaration_ms={}\n",
            elapsed.as_millis(),
            elapsed_red.as_millis()
        ),
    )
    .unwrap();
    click(&c, "#finish").await;
    css(&c, "button[value=\"ja\"]").await;
    c.back().await.unwrap();
    css(&c, "button[value=\"ja\"]").await;
    assert_no_typed_value(&c, "after Finish and Back (Japanese)").await;

    c.close().await.unwrap();
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_digit_error_shows_on_the_field_in_the_browser_in_korean() {
    let driver = start_driver();
    let (base, stop, _dir) = serve_kiosk().await;
    let c = browser(&driver).await;
    c.goto(&format!("{base}/")).await.unwrap();
    click(&c, "button[value=\"ko\"]").await;
    type_into(&c, "#f-mrz", &common::mrz_bad_number_check()).await;
    click(&c, "#read").await;
    let e = css(&c, "#e-passport_number").await;
    assert_eq!(
        e.text().await.unwrap(),
        shared::i18n::t(shared::i18n::Lang::Ko, "kiosk-error-mrz-check-digit")
    );
    shot(&c, "ko-02-passport-check-digit-error").await;
    c.close().await.unwrap();
    let _ = stop.send(());
}
