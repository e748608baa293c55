//! A real headless browser (Debian's chromium through chromedriver, driven by
//! fantoccini over WebDriver) against the gate service on a real TCP port: sign in,
//! open the queue, open the case made by a RED scan through the scan API, record an
//! outcome and a payment, print the receipt. Screenshots go to
//! `target/artifacts/console/`.
//!
//! If chromium or chromedriver is missing the test FAILS (never skips): install them
//! with `apt-get install chromium chromium-driver`.

mod console_support;

use console_support::{PASSWORD, TestApp, anna_mrz};
use fantoccini::{ClientBuilder, Locator};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: [&str; 2] = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"];

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/artifacts/console");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// chromedriver on a port it picks itself (`--port=0`) and announces on stdout, so that no
/// port is chosen before it starts (another process could take it in between). Waits
/// for the announcement, not for a time; the deadline only stops a hung start.
async fn start_chromedriver() -> (tokio::process::Child, u16) {
    use tokio::io::AsyncBufReadExt as _;
    let mut driver = tokio::process::Command::new(CHROMEDRIVER)
        .arg("--port=0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("failed to start chromedriver");
    let mut lines = tokio::io::BufReader::new(driver.stdout.take().unwrap()).lines();
    let port = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.expect("chromedriver's stdout") {
            if let Some(port) = line.split("started successfully on port ").nth(1) {
                return port.trim().trim_end_matches('.').parse::<u16>().unwrap();
            }
        }
        panic!("chromedriver exited without announcing its port");
    })
    .await
    .expect("chromedriver did not announce its port");
    // Keep reading, so that chromedriver never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (driver, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_signs_in_opens_a_red_case_and_records_an_outcome_in_a_real_browser() {
    let chromium = CHROMIUM.iter().find(|p| Path::new(p).exists()).unwrap_or_else(|| {
        panic!("\n\n*** chromium is not installed: run `apt-get install chromium chromium-driver` ***\n\n")
    });
    assert!(
        Path::new(CHROMEDRIVER).exists(),
        "\n\n*** chromedriver is not installed: run `apt-get install chromium chromium-driver` ***\n\n"
    );

    // The gate service on a real port.
    // The issuer as the gate sees it: its keys and the full declaration over HTTP.
    let issuer = MockIssuer::start().await;
    let app = TestApp::with(|c| issuer.serve_for(c)).await;
    app.officer("tanaka", "officer").await;
    let listeners = gate_service::Listeners {
        device: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        console: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
    };
    let device_base = format!("http://{}", listeners.device.local_addr().unwrap());
    let base = format!("http://{}", listeners.console.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(gate_service::serve(listeners, app.state.clone(), async {
        let _ = stopped.await;
    }));

    // A RED scan through the scan API over HTTP.
    let http = reqwest::Client::new();
    let scan: Value = http
        .post(format!("{device_base}/v1/scans"))
        .bearer_auth(&app.gate_key)
        .json(&json!({"qr": app.red_token("NH212", "D-BROWSER"), "mrz": anna_mrz()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(scan["decision"], "red", "{scan}");
    // The device's answer carries no case id (officer data): the case is looked up.
    let scan_id = scan["scan_id"]
        .as_str()
        .expect("a stored scan (a trusted token)")
        .to_owned();
    let case_id: i64 = app
        .state
        .db
        .read(move |c| -> Result<i64, shared::db::DbError> {
            Ok(
                c.query_row("SELECT id FROM cases WHERE scan_id = ?1", [scan_id], |r| {
                    r.get(0)
                })?,
            )
        })
        .await
        .unwrap();

    // chromedriver on the port it picks.
    let (mut driver, port) = start_chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1280,2600", "--lang=en-US",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("failed to open a WebDriver session with chromium");
    let shots = artifacts();
    let shot = |name: &'static str| {
        let client = client.clone();
        let path = shots.join(name);
        async move {
            let png = client.screenshot().await.unwrap();
            std::fs::write(&path, png).unwrap();
        }
    };

    let result: Result<(), fantoccini::error::CmdError> = async {
        // Sign in.
        client.goto(&format!("{base}/console/queue")).await?;
        client
            .wait()
            .for_element(Locator::Css("#login-form"))
            .await?;
        assert!(
            client
                .current_url()
                .await?
                .as_str()
                .ends_with("/console/login"),
            "anonymous → sign-in page"
        );
        shot("01-login.png").await;
        client
            .find(Locator::Css("#username"))
            .await?
            .send_keys("tanaka")
            .await?;
        client
            .find(Locator::Css("#password"))
            .await?
            .send_keys(PASSWORD)
            .await?;
        client
            .find(Locator::Css("#login-submit"))
            .await?
            .click()
            .await?;

        // The queue shows the case.
        client.wait().for_element(Locator::Css("#queue")).await?;
        let row = client
            .find(Locator::Css(&format!("tr[data-case=\"{case_id}\"]")))
            .await?;
        let text = row.text().await?;
        assert!(
            text.contains("NH212") && text.contains("declaration.items_to_declare"),
            "{text}"
        );
        shot("02-queue.png").await;

        // Open the case.
        row.find(Locator::Css("a.case-link")).await?.click().await?;
        client.wait().for_element(Locator::Css("#case-id")).await?;
        let body = client.find(Locator::Css("main")).await?.text().await?;
        assert!(
            body.contains("ERIKSSON") && body.contains("D-BROWSER") && body.contains("Total duty"),
            "{body}"
        );
        shot("03-case.png").await;

        // The declaration reads as the form: passenger, trip, party, the answers as
        // sentences, an items table with header cells, the raw record disclosed only.
        let decl = client.find(Locator::Css("#declaration")).await?;
        let passenger = decl
            .find(Locator::Css("#decl-passenger"))
            .await?
            .text()
            .await?;
        assert!(
            passenger.contains("ERIKSSON") && passenger.contains("L898902C3"),
            "{passenger}"
        );
        let trip = decl.find(Locator::Css("#decl-trip")).await?.text().await?;
        assert!(
            trip.contains("LHR") && trip.contains("Hotel Sakura"),
            "{trip}"
        );
        let answers = decl
            .find(Locator::Css("#decl-answers"))
            .await?
            .text()
            .await?;
        assert!(
            answers.contains("Are you bringing goods over the duty-free allowance?"),
            "{answers}"
        );
        let items = decl.find(Locator::Css("table#decl-items")).await?;
        assert!(
            !items
                .find(Locator::Css("caption"))
                .await?
                .text()
                .await?
                .is_empty()
        );
        let mut headers = Vec::new();
        for th in items.find_all(Locator::Css("thead th[scope=col]")).await? {
            headers.push(th.text().await?);
        }
        for h in ["Category", "Quantity", "Value", "Currency"] {
            assert!(headers.iter().any(|t| t.contains(h)), "{headers:?}");
        }
        let first = items.find(Locator::Css("tbody tr")).await?.text().await?;
        assert!(
            first.contains("Whisky")
                && first.contains("Single malt, 70 cl")
                && first.contains("700 ml")
                && first.contains("25,000")
                && first.contains("JPY"),
            "{first}"
        );
        let raw = decl.find(Locator::Css("details#decl-raw")).await?;
        assert_eq!(raw.attr("open").await?, None, "the raw record stays closed");
        assert!(
            decl.text().await?.find("items[1]").is_none(),
            "no flattened keys on the page"
        );
        let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        std::fs::write(shots.join("case-page.png"), client.screenshot().await?).unwrap();
        std::fs::write(shots.join("case-declaration.png"), decl.screenshot().await?).unwrap();

        // Record an outcome: duty assessed at the estimate.
        client
            .find(Locator::Css("input[name=kind][value=duty_assessed]"))
            .await?
            .click()
            .await?;
        client
            .find(Locator::Css("#outcome-form textarea[name=note]"))
            .await?
            .send_keys("Whisky over the allowance; bag checked.")
            .await?;
        client
            .find(Locator::Css("#outcome-submit"))
            .await?
            .click()
            .await?;
        client
            .wait()
            .for_element(Locator::Css("#outcome-history"))
            .await?;
        let history = client
            .find(Locator::Css("#outcome-history"))
            .await?
            .text()
            .await?;
        assert!(
            history.contains("Duty assessed") && history.contains("tanaka"),
            "{history}"
        );
        assert!(
            client.find(Locator::Css("#outcome-form")).await.is_err(),
            "no second outcome form"
        );
        shot("04-case-outcome.png").await;

        // Payment and receipt.
        client
            .find(Locator::Css("#payment-form select[name=method]"))
            .await?
            .select_by_value("card")
            .await?;
        client
            .find(Locator::Css("#payment-form input[name=reference]"))
            .await?
            .send_keys("CARD-0042")
            .await?;
        client
            .find(Locator::Css("#payment-submit"))
            .await?
            .click()
            .await?;
        client.wait().for_element(Locator::Css("#receipt")).await?;
        let receipt = client.find(Locator::Css("#receipt")).await?.text().await?;
        assert!(receipt.contains("CARD-0042"), "{receipt}");
        shot("05-receipt.png").await;

        // The same case in Japanese.
        client
            .goto(&format!("{base}/console/cases/{case_id}?lang=ja"))
            .await?;
        client.wait().for_element(Locator::Css("#case-id")).await?;
        let body = client.find(Locator::Css("main")).await?.text().await?;
        assert!(body.contains("処分結果"), "{body}");
        shot("06-case-ja.png").await;
        Ok(())
    }
    .await;
    let _ = client.close().await;
    let _ = driver.kill().await;
    let _ = stop.send(());
    let served = server.await;
    result.expect("browser flow failed");
    served
        .expect("the gate server task panicked")
        .expect("the gate server failed");
}

/// An issuer on a real port serving what the gate reads from it: its keys
/// (`/v1/trust-list`: the JWKS file the test app writes, signed with a root key made
/// here) and the full declaration
/// (`/v1/internal/declarations/{id}`). Other paths answer 404 (revocations: none yet).
struct MockIssuer {
    base: String,
    jwks_file: std::sync::Arc<std::sync::OnceLock<PathBuf>>,
    /// The operator root key of this test: it signs the issuer's key set as a real
    /// deployment does (docs/trust.md); the gate holds its public half.
    root: std::sync::Arc<shared::token::SigningKey>,
}

impl MockIssuer {
    async fn start() -> MockIssuer {
        use axum::routing::get;
        let jwks_file = std::sync::Arc::new(std::sync::OnceLock::<PathBuf>::new());
        let file = jwks_file.clone();
        let root = std::sync::Arc::new(shared::token::SigningKey::generate().unwrap());
        let signer = root.clone();
        let router = axum::Router::new()
            .route(
                "/v1/trust-list",
                get(move || {
                    let file = file.clone();
                    let signer = signer.clone();
                    async move {
                        let path = file
                            .get()
                            .expect("the JWKS file is known before the gate starts");
                        let jwks: shared::token::Jwks =
                            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
                        // The test app's fixed clock (2026-11-01 09:00 UTC): signed an
                        // hour before, valid for a day.
                        let now = time::macros::datetime!(2026-11-01 09:00 UTC).unix_timestamp();
                        // The key set signed by the root key, as an issuer serves it.
                        let payload = shared::token::signed_list::ListPayload {
                            issuer: "mobile-api".into(),
                            iat: now - 3_600,
                            not_after: now + 86_400,
                            version: 1,
                            jwks,
                        };
                        shared::token::signed_list::sign_list(&signer, &payload)
                    }
                }),
            )
            .route(
                "/v1/internal/declarations/{id}",
                get(
                    |axum::extract::Path(id): axum::extract::Path<String>| async move {
                        axum::Json(full_declaration(&id))
                    },
                ),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        MockIssuer {
            base,
            jwks_file,
            root,
        }
    }

    /// Point the gate's issuer at this server (its keys come from the app's JWKS file,
    /// served signed) and give the gate the root public key that checks the list.
    fn serve_for(&self, c: &mut gate_service::Config) {
        c.root_key = Some(shared::token::signed_list::RootPublicKey::of(&self.root));
        let issuer = &mut c.issuers[0];
        if let Some(path) = issuer.jwks_file.take() {
            let _ = self.jwks_file.set(path);
        }
        issuer.base_url = Some(self.base.clone());
        // The full declaration is read on the issuer's internal listener.
        issuer.internal_url = Some(self.base.clone());
    }
}

/// The issuer's record of ANNA's declaration (the shape of its internal endpoint).
fn full_declaration(id: &str) -> Value {
    json!({
        "id": id, "revision": 1, "erased_at": null, "profile_id": "jp-2026",
        "arrival_date": "2026-11-01", "kid": "k", "cti": "c", "issued_at": 0, "exp": 0,
        "lane": "red", "reasons": [], "duty_estimate": null,
        "declaration": {
            "passenger": {"surname": "ERIKSSON", "given_names": "ANNA MARIA", "nationality": "UTO",
                          "birth_date": "1974-08-12", "sex": "F", "passport_number": "L898902C3",
                          "passport_expiry": "2031-04-15"},
            "trip": {"flight": "NH212", "origin": "LHR", "arrival_date": "2026-11-01",
                     "address_in_japan": "Hotel Sakura, Ginza, Tokyo", "phone": "+81 90 1234 5678",
                     "occupation": "Engineer"},
            "party": {"aged_20_plus": 1, "aged_6_to_19": 0, "under_6": 0},
            "answers": {"prohibited": false, "over_allowance": true, "commercial": false,
                        "for_others": false, "means_of_payment_over_limit": false,
                        "precious_metal_over_1kg": false, "unaccompanied_packages": 0},
            "items": [
                {"category": "whisky", "description": "Single malt, 70 cl", "quantity": 5,
                 "volume_ml": 700, "value": {"amount": 25000, "currency": "JPY"}},
                {"category": "bags_accessories", "description": "Leather handbag", "quantity": 1,
                 "value": {"amount": 250000, "currency": "JPY"}}
            ]
        }
    })
}
