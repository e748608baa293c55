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

fn free_port() -> u16 {
    // chromedriver needs a port number up front; the OS picks a free one.
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_listening(port: u16) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen on port {port} within 10 s");
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
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(gate_service::serve(listener, app.state.clone(), async {
        let _ = stopped.await;
    }));

    // A RED scan through the scan API over HTTP.
    let http = reqwest::Client::new();
    let scan: Value = http
        .post(format!("{base}/v1/scans"))
        .json(
            &json!({"qr": app.red_token("NH212", "D-BROWSER"), "mrz": anna_mrz(), "gate_id": "G7"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(scan["decision"], "red", "{scan}");
    let case_id = scan["officer"]["case_id"].as_i64().unwrap();

    // chromedriver on a free port.
    let port = free_port();
    let mut driver = tokio::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("failed to start chromedriver");
    wait_listening(port).await;
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
    let _ = server.await;
    result.expect("browser flow failed");
}
