//! Real-browser harness of the journeys: headless Debian Chromium through chromedriver
//! (fantoccini), as the kiosk's own browser tests drive it, at a phone viewport (Chrome's
//! mobile emulation: exact CSS size, touch, device pixel ratio 2) or the kiosk's screen.
//! axe-core (pinned in tests/browser-tools, installed by scripts/test.sh) checks pages
//! against WCAG 2.2 AA. A missing browser, driver or axe-core fails, never skips.
//!
//! Screenshots go to `target/artifacts/<dir>/`.

use fantoccini::{Client, ClientBuilder, Locator};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Longest wait for a condition (an element shown, a state reached): only ends a test
/// whose page never comes, on however slow a machine.
pub const WAIT: Duration = Duration::from_secs(120);
/// The axe-core tags checked: WCAG 2.0, 2.1 and 2.2, levels A and AA.
pub const WCAG_TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/// chromedriver, killed on drop (by its own pid), with the browser profile directory.
pub struct Driver {
    child: Child,
    port: u16,
    profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start chromedriver on a port it picks itself (announced on stdout).
pub fn start_driver() -> Driver {
    for bin in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            std::path::Path::new(bin).exists(),
            "{bin} is missing: the browser tests need it. Run bash scripts/test.sh (it installs chromium chromium-driver)"
        );
    }
    let mut child = Command::new(CHROMEDRIVER)
        .arg("--port=0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("failed to start chromedriver");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
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
        .recv_timeout(WAIT)
        .expect("chromedriver did not announce its port")
        .expect("chromedriver announced a port that is not a number");
    Driver {
        child,
        port,
        profile: tempfile::tempdir().unwrap(),
    }
}

fn base_args(d: &Driver) -> Vec<String> {
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain([format!("--user-data-dir={}", d.profile.path().display())])
    .collect()
}

async fn connect(d: &Driver, options: serde_json::Value) -> Client {
    let caps = serde_json::json!({ "goog:chromeOptions": options });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", d.port))
        .await
        .expect("failed to open a Chromium session through chromedriver")
}

/// A phone: `width`×`height` CSS pixels, touch, device pixel ratio 2.
pub async fn phone(d: &Driver, width: u32, height: u32) -> Client {
    let mut args = base_args(d);
    args.push(format!("--window-size={width},{height}"));
    connect(
        d,
        serde_json::json!({
            "binary": CHROMIUM,
            "args": args,
            "mobileEmulation": {
                "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0, "touch": true, "mobile": true},
                "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36"
            }
        }),
    )
    .await
}

/// The kiosk's screen (1080×1500, as the kiosk's own browser tests).
pub async fn kiosk_screen(d: &Driver) -> Client {
    let mut args = base_args(d);
    args.push("--window-size=1080,1500".into());
    args.push("--force-device-scale-factor=1".into());
    let c = connect(d, serde_json::json!({"binary": CHROMIUM, "args": args})).await;
    c.set_window_size(1080, 1500).await.unwrap();
    c
}

/// `target/artifacts/<dir>`, created.
pub fn artifacts(dir: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/artifacts")
        .join(dir);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// A screenshot of the viewport to `target/artifacts/<dir>/<name>.png`.
pub async fn shot(c: &Client, dir: &str, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(artifacts(dir).join(format!("{name}.png")), png).unwrap();
}

/// The element `sel`, waited for.
pub async fn css(c: &Client, sel: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(sel))
        .await
        .unwrap_or_else(|e| panic!("{sel} not found: {e}"))
}

/// Click `sel` (waited for).
pub async fn click(c: &Client, sel: &str) {
    css(c, sel)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {sel}: {e}"));
}

/// Answer "no" to the seven questions (the wizard's questions page, both modes).
pub async fn answer_all_no(c: &Client) {
    for q in [
        "prohibited",
        "over-allowance",
        "commercial",
        "for-others",
        "means-of-payment",
        "precious-metal",
        "unaccompanied",
    ] {
        click(c, &format!("label[for=\"q-{q}-no\"]")).await;
    }
}

/// Replace the value of the field `sel` with `text`.
pub async fn type_into(c: &Client, sel: &str, text: &str) {
    let e = css(c, sel).await;
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

/// Run `script` (a function body returning JSON) in the page.
pub async fn js(c: &Client, script: &str) -> serde_json::Value {
    c.execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
}

/// Wait until `script` (a function body) returns `true`: bounded polling.
pub async fn wait_true(c: &Client, what: &str, script: &str) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if js(c, script).await == serde_json::Value::Bool(true) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The page fits the viewport's width: no horizontal scroll.
pub async fn assert_no_horizontal_scroll(c: &Client, page: &str) {
    let v = js(
        c,
        "return [document.documentElement.scrollWidth, window.innerWidth];",
    )
    .await;
    let (scroll, inner) = (v[0].as_u64().unwrap(), v[1].as_u64().unwrap());
    assert!(
        scroll <= inner,
        "{page}: horizontal scroll (scrollWidth {scroll} > innerWidth {inner})"
    );
}

/// axe-core's source: `EGATE_AXE_CORE` (set by scripts/test.sh) or the place test.sh
/// installs it. Missing: a failure that says how to install it.
fn axe_source() -> &'static str {
    static SRC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SRC.get_or_init(|| {
        let path = std::env::var("EGATE_AXE_CORE")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../target/node/node_modules/axe-core/axe.min.js")
            });
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "axe-core is missing at {} ({e}): the accessibility checks need it. \
                 Run bash scripts/test.sh (it installs the npm tools pinned in \
                 tests/browser-tools into target/node)",
                path.display()
            )
        })
    })
}

/// Run axe-core (WCAG 2.2 AA tags) on the current page and fail with every violation.
/// Returns the number of rules that passed (a page that was not checked passes none).
pub async fn assert_axe_clean(c: &Client, page: &str) -> usize {
    let loaded = js(
        c,
        &format!("{}\n;return typeof window.axe === 'object';", axe_source()),
    )
    .await;
    assert_eq!(
        loaded,
        serde_json::Value::Bool(true),
        "{page}: axe-core did not load"
    );
    let tags = serde_json::to_string(&WCAG_TAGS).unwrap();
    let script = format!(
        "var done = arguments[arguments.length - 1];
         window.axe.run(document, {{runOnly: {{type: 'tag', values: {tags}}},
                                   resultTypes: ['violations']}})
           .then(function (r) {{
             done(JSON.stringify({{passes: r.passes.length, violations: r.violations.map(function (v) {{
               return {{id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 5).map(function (n) {{
                          return n.target.join(' ') + ' :: ' + n.failureSummary; }})}};
             }})}}));
           }}, function (e) {{ done(JSON.stringify({{error: String(e)}})); }});"
    );
    let out = c
        .execute_async(&script, vec![])
        .await
        .unwrap_or_else(|e| panic!("{page}: axe-core failed to run: {e}"));
    let out: serde_json::Value = serde_json::from_str(out.as_str().unwrap()).unwrap();
    assert!(out.get("error").is_none(), "{page}: axe-core: {out}");
    let violations = out["violations"].as_array().unwrap();
    assert!(
        violations.is_empty(),
        "{page}: {} WCAG 2.2 AA violation(s):\n{}",
        violations.len(),
        serde_json::to_string_pretty(violations).unwrap()
    );
    let passes = out["passes"].as_u64().unwrap() as usize;
    assert!(passes > 0, "{page}: axe-core checked nothing");
    passes
}

/// Screenshot the element `sel` and decode the QR code in it.
pub async fn read_qr(c: &Client, sel: &str, dir: &str, name: &str) -> String {
    let e = css(c, sel).await;
    // The whole code on the screen, quiet zone included, whatever was scrolled before.
    let sel_json = serde_json::to_string(sel).unwrap();
    js(
        c,
        &format!(
            "document.querySelector({sel_json}).scrollIntoView({{block: 'center'}}); return true;"
        ),
    )
    .await;
    let png = e.screenshot().await.unwrap();
    std::fs::write(artifacts(dir).join(format!("{name}-qr.png")), &png).unwrap();
    let text = shared::qr::decode_image(&png)
        .unwrap_or_else(|e| panic!("{name}: the QR on the page is not readable: {e}"));
    assert!(text.starts_with("CD1:"), "{text}");
    text
}
