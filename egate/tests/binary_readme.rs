//! README behaviours that had no test, checked on the real `egate` binary with its
//! background loops running, over HTTP: use reports retried while the issuer is down,
//! watch rules by flight, oversized camera images, the kiosk's "I need more time" and
//! its form limits, no personal data in the logs, the revocation feed's paging.

mod binary_support;

use binary_support::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

fn cti_of(qr: &str, jwks: &Value) -> String {
    use base64::Engine as _;
    let jwks: shared::token::Jwks = serde_json::from_value(jwks.clone()).unwrap();
    let mut trust = shared::token::TrustList::new();
    trust.add_jwks(&jwks).unwrap();
    let opts = shared::token::VerifyOptions {
        now: time::OffsetDateTime::now_utc().unix_timestamp(),
        skew_secs: 600,
    };
    let v = shared::token::decode_and_verify(qr, &trust, opts).unwrap();
    base64::engine::general_purpose::STANDARD.encode(v.claims.cti)
}

#[tokio::test]
async fn a_use_seen_while_the_issuer_is_down_reaches_its_feed_once_it_is_back() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let http = client();
    let mut mobile = Process::spawn(d, &["run", "mobile-api"], &[]);
    // Its public listener (trust list, revocations) and its internal one (use reports,
    // reached by gates only), both on ports of its choosing.
    let [m_url, m_internal]: [String; 2] = urls_in(
        &mobile
            .wait_for_line("the mobile-api URLs", |l| {
                l.starts_with("mobile-api on http://")
            })
            .await,
    )
    .try_into()
    .expect("a public and an internal URL");
    // The gate trusts mobile-api's keys only as a list signed by the operator's root key.
    let root = sign_trust_list(d, "mobile-api");
    let issuers = format!("mobile-api={m_url};internal={m_internal}");
    let key = add_gate_device(d, "G-01");
    let mut gate = Process::spawn(
        d,
        &["run", "gate"],
        &[
            ("EGATE_GATE_ISSUERS", &issuers),
            ("EGATE_GATE_ROOT_KEY", &root),
            ("EGATE_GATE_SELECTION_RATE", "0"),
        ],
    );
    let g_url = url_in(
        &gate
            .wait_for_line("the gate URL", |l| l.starts_with("gate-service on http://"))
            .await,
    );
    register_gate_key(&g_url, &key);
    let health = |http: reqwest::Client, g: String| async move {
        let r = http.get(format!("{g}/healthz")).send().await.ok()?;
        r.json::<Value>().await.ok()
    };
    poll("the gate to load mobile-api's key", || {
        let f = health(http.clone(), g_url.clone());
        async move { f.await.filter(|h| h["trusted_keys"] == 1) }
    })
    .await;
    let created = declare(
        &http,
        &m_url,
        &declaration(&japan_date(0), "NH212", json!([])),
    )
    .await;
    let qr = created["qr"]["text"].as_str().unwrap().to_owned();
    let cti = cti_of(&qr, &get_json(&http, &format!("{m_url}/v1/jwks")).await);

    // The issuer goes down; the gate still decides offline and keeps the use.
    mobile.stop().await;
    let decision = scan(&http, &g_url, &qr).await;
    assert_eq!(decision["decision"], "green", "{decision}");
    let h = poll(
        "the gate's report loop to fail against the stopped issuer",
        || {
            let f = health(http.clone(), g_url.clone());
            async move {
                f.await
                    .filter(|h| h["use_reports"]["failures"].as_u64() >= Some(1))
            }
        },
    )
    .await;
    assert_eq!(h["use_reports"]["pending"], 1, "{h}");

    // Back on the same addresses (the ones the gate was configured with; the ports it
    // chose at its first start, free again since it stopped): the gate's loop retries,
    // and the use enters the feed.
    let m_addr = m_url.trim_start_matches("http://").to_owned();
    let m_internal_addr = m_internal.trim_start_matches("http://").to_owned();
    let mut mobile = Process::spawn(
        d,
        &["run", "mobile-api"],
        &[
            ("EGATE_MOBILE_API_ADDR", &m_addr),
            ("EGATE_MOBILE_API_INTERNAL_ADDR", &m_internal_addr),
        ],
    );
    mobile
        .wait_for_line("mobile-api back", |l| {
            l.starts_with("mobile-api on http://")
        })
        .await;
    let feed = poll("the use to arrive in mobile-api's feed", || {
        let (http, url) = (http.clone(), format!("{m_url}/v1/revocations?since=0"));
        async move {
            let r = http.get(url).send().await.ok()?;
            let v: Value = r.json().await.ok()?;
            (!v["revocations"].as_array()?.is_empty()).then_some(v)
        }
    })
    .await;
    let list = feed["revocations"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{feed}");
    assert_eq!(list[0]["cti"], cti.as_str(), "{feed}");
    assert_eq!(list[0]["reason"], "used", "{feed}");
    let h = poll("the gate's outbox to empty", || {
        let f = health(http.clone(), g_url.clone());
        async move { f.await.filter(|h| h["use_reports"]["pending"] == 0) }
    })
    .await;
    assert!(h["use_reports"]["sent"].as_u64() >= Some(1), "{h}");
    gate.stop().await;
    mobile.stop().await;
}

#[tokio::test]
async fn a_watch_rule_on_a_flight_sends_its_passengers_red_with_the_reason_for_officers_only() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    std::fs::create_dir_all(d.join("gate")).unwrap();
    std::fs::write(
        d.join("gate/watchlist.toml"),
        "[[rule]]\nname = \"flight-nh212-check\"\nkind = \"flight\"\nvalue = \"NH212\"\nreason = \"Targeted check, order 2026-041\"\n",
    )
    .unwrap();
    // Watch rules are refused when group or others may read them.
    std::fs::set_permissions(
        d.join("gate/watchlist.toml"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let mut up = Up::start(d, &[("EGATE_GATE_SELECTION_RATE", "0")]).await;
    let password = up.passwords().remove(0);
    let http = client();
    let health = get_json(&http, &format!("{}/healthz", up.gate)).await;
    assert_eq!(health["watch_rules"], 1, "{health}");

    let other = declare(
        &http,
        &up.mobile,
        &declaration(&japan_date(0), "JL44", json!([])),
    )
    .await;
    let d_other = scan(&http, &up.gate, other["qr"]["text"].as_str().unwrap()).await;
    assert_eq!(d_other["decision"], "green", "another flight: {d_other}");

    let watched = declare(
        &http,
        &up.mobile,
        &declaration(&japan_date(0), "NH212", json!([])),
    )
    .await;
    let qr = watched["qr"]["text"].as_str().unwrap();
    let dec = scan(&http, &up.gate, qr).await;
    assert_eq!(dec["decision"], "red", "{dec}");
    let passenger = codes(&dec);
    assert!(
        passenger.iter().all(|c| !c.starts_with("selection.")),
        "selection never shows on the gate display: {dec}"
    );
    let shown = format!("{} {}", dec["reasons"], dec["passenger_message"]);
    assert!(
        !shown.contains("2026-041") && !shown.contains("flight-nh212"),
        "{dec}"
    );
    // The passenger hears the same neutral message as any RED passenger.
    let replay = scan(&http, &up.gate, qr).await;
    assert_eq!(replay["decision"], "red");
    assert_eq!(dec["passenger_message"], replay["passenger_message"]);

    // The officer sees the rule's reason on the case.
    let console = console_login(&up.console, "supervisor", &password).await;
    let case_id = newest_case(&console, &up.console).await;
    let page = console
        .get(format!("{}/console/cases/{case_id}", up.console))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Targeted check, order 2026-041"), "{page}");
    up.proc.stop().await;
}

/// A multipart image scan; returns (status, content type, body).
async fn post_image(gate: &str, image: Vec<u8>) -> (u16, String, String) {
    let form = reqwest::multipart::Form::new()
        .part(
            "image",
            reqwest::multipart::Part::bytes(image)
                .file_name("frame.png")
                .mime_str("image/png")
                .unwrap(),
        )
        .text("mrz", MRZ);
    let r = client()
        .post(format!("{gate}/v1/scans/image"))
        .bearer_auth(gate_key(gate))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A small PNG that declares `w`×`h` pixels (its image data is empty).
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (
            *b"IHDR",
            [&w.to_be_bytes()[..], &h.to_be_bytes(), &[8, 0, 0, 0, 0]].concat(),
        ),
        (
            *b"IDAT",
            vec![0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
        ),
        (*b"IEND", Vec::new()),
    ] {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let mut chunk = kind.to_vec();
        chunk.extend_from_slice(&data);
        out.extend_from_slice(&chunk);
        out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    out
}

#[tokio::test]
async fn an_image_over_the_limit_is_413_problem_json_and_the_gate_keeps_scanning() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let mut up = Up::start(d, &[("EGATE_GATE_SELECTION_RATE", "0")]).await;
    let http = client();

    // One byte over 4 MiB, a PNG by its signature.
    let mut big = png_header(100, 100);
    big.resize(4 * 1024 * 1024 + 1, 0);
    let (status, ct, body) = post_image(&up.gate, big).await;
    assert_eq!(status, 413, "{body}");
    assert!(ct.starts_with("application/problem+json"), "{ct}");
    let problem: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["status"], 413, "{problem}");
    assert!(problem["type"].is_string(), "{problem}");

    // A small file declaring more pixels than allowed on a side.
    let (status, ct, body) = post_image(&up.gate, png_header(20_000, 16)).await;
    assert_eq!(status, 413, "{body}");
    assert!(ct.starts_with("application/problem+json"), "{ct}");

    // Far over the limit: refused without reading it all (raw HTTP, so that an early
    // answer is read while the rest is still being sent).
    let gate_addr = up.gate.trim_start_matches("http://").to_owned();
    let s = tokio::net::TcpStream::connect(&gate_addr).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let boundary = "b0undary";
    let huge = 16 * 1024 * 1024;
    let head = format!(
        "POST /v1/scans/image HTTP/1.1\r\nHost: {gate_addr}\r\nAuthorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"f.png\"\r\nContent-Type: image/png\r\n\r\n",
        gate_key(&up.gate),
        huge + 200
    );
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(head.as_bytes()).await;
        let _ = wr.write_all(b"\x89PNG\r\n\x1a\n").await;
        let zeros = vec![0u8; 64 * 1024];
        for _ in 0..(huge / zeros.len()) {
            if wr.write_all(&zeros).await.is_err() {
                break;
            }
        }
    });
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("\"status\":413") {
        let n = tokio::time::timeout(DEADLINE, rd.read(&mut chunk))
            .await
            .expect("an answer in time")
            .unwrap_or(0);
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{text}"
    );
    writer.abort();

    // The gate still scans.
    let c = declare(
        &http,
        &up.mobile,
        &declaration(&japan_date(0), "NH212", json!([])),
    )
    .await;
    let dec = scan(&http, &up.gate, c["qr"]["text"].as_str().unwrap()).await;
    assert_eq!(dec["decision"], "green", "{dec}");
    up.proc.stop().await;
}

/// A kiosk passenger's browser: a cookie jar and the last page.
struct Agent {
    http: reqwest::Client,
    base: String,
    page: String,
    path: String,
}

impl Agent {
    fn new(base: &str) -> Agent {
        Agent {
            http: client(),
            base: base.to_owned(),
            page: String::new(),
            path: String::new(),
        }
    }
    async fn get(&mut self, path: &str) -> u16 {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        self.take(r).await
    }
    async fn take(&mut self, r: reqwest::Response) -> u16 {
        let status = r.status().as_u16();
        self.path = r.url().path().to_owned();
        self.page = r.text().await.unwrap();
        status
    }
    /// POST a step form with the page's CSRF token (redirects followed).
    /// The party step (one adult) and the seven questions, each answered "no".
    async fn one_adult_answering_no(&mut self) {
        self.post(
            "/party",
            &[
                ("aged_20_plus", "1"),
                ("aged_6_to_19", "0"),
                ("under_6", "0"),
                ("action", "next"),
            ],
        )
        .await;
        let mut answers: Vec<(&str, &str)> = [
            "q-prohibited",
            "q-over-allowance",
            "q-commercial",
            "q-for-others",
            "q-means-of-payment",
            "q-precious-metal",
            "q-unaccompanied",
        ]
        .iter()
        .map(|q| (*q, "no"))
        .collect();
        answers.push(("action", "next"));
        self.post("/questions", &answers).await;
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> u16 {
        let mut form: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        form.push(("csrf".into(), csrf_of(&self.page)));
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        self.take(r).await
    }
    /// From the start page to the trip page, Hanako's passport read.
    async fn reach_trip(&mut self) {
        assert_eq!(self.get("/").await, 200);
        assert_eq!(self.post("/start", &[("lang", "en")]).await, 200);
        assert_eq!(
            self.post("/passport", &[("mrz", MRZ), ("action", "read")])
                .await,
            200
        );
        assert!(self.page.contains("TANAKA"), "{}", self.page);
        assert_eq!(
            self.post("/passport", &[("mrz", MRZ), ("action", "next")])
                .await,
            200
        );
        assert_eq!(self.path, "/trip", "{}", self.page);
    }
}

async fn sleep_until(t: Instant) {
    tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await;
}

#[tokio::test]
async fn i_need_more_time_keeps_the_kiosk_session_and_its_answers_past_the_idle_limit() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let idle = 20;
    let mut up = Up::start(d, &[("EGATE_KIOSK_IDLE_SECS", "20")]).await;
    let mut stays = Agent::new(&up.kiosk);
    let mut leaves = Agent::new(&up.kiosk);
    leaves.reach_trip().await;
    let sent = Instant::now();
    stays.reach_trip().await;
    let done = Instant::now();
    assert!(
        stays
            .page
            .contains(&format!("content=\"{idle};url=/timeout\"")),
        "the page goes to /timeout when idle"
    );
    assert!(
        stays.page.contains("name=\"action\" value=\"stay\""),
        "the page offers \"I need more time\""
    );

    // Half way, the passenger has typed part of the trip and presses "I need more time".
    sleep_until(sent + Duration::from_secs(10)).await;
    let status = stays
        .post(
            "/trip",
            &[
                ("flight", "NH212"),
                ("origin", "LHR"),
                ("arrival_date", ""),
                ("address_in_japan", "Hotel Okura, Toranomon, Tokyo"),
                ("phone", ""),
                ("occupation", ""),
                ("action", "stay"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(stays.path, "/trip", "still on the trip step");

    // Past the idle limit counted from before "more time" (both sessions were last used
    // then), within it counted from "more time".
    sleep_until(done + Duration::from_secs(idle + 2)).await;
    assert_eq!(stays.get("/trip").await, 200);
    assert_eq!(stays.path, "/trip", "the session lives on: {}", stays.page);
    assert!(stays.page.contains("value=\"NH212\""), "answers kept");
    assert!(stays.page.contains("Hotel Okura, Toranomon, Tokyo"));
    leaves.get("/trip").await;
    assert_eq!(leaves.path, "/", "the idle session was wiped");
    assert!(!leaves.page.contains("TANAKA"));

    // The timeout page wipes too.
    stays.get("/timeout").await;
    stays.get("/trip").await;
    assert_eq!(stays.path, "/");
    up.proc.stop().await;
}

#[tokio::test]
async fn the_kiosk_form_limits_hold_at_their_edges() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let mut up = Up::start(d, &[]).await;
    let mut a = Agent::new(&up.kiosk);
    a.reach_trip().await;
    let trip_page = a.page.clone();

    // 256 characters a field: judged (an invalid flight, said on the page); 257: refused.
    let at_limit = "A".repeat(256);
    assert_eq!(
        a.post("/trip", &[("occupation", &at_limit), ("action", "next")])
            .await,
        200
    );
    assert_eq!(a.path, "/trip");
    let over = "A".repeat(257);
    a.page = trip_page.clone();
    assert_eq!(
        a.post("/trip", &[("occupation", &over), ("action", "next")])
            .await,
        400
    );
    // Characters, not bytes: 256 three-byte characters are within the limit.
    a.page = trip_page.clone();
    let kana = "あ".repeat(256);
    assert_eq!(
        a.post("/trip", &[("occupation", &kana), ("action", "stay")])
            .await,
        200
    );

    // 400 fields (the CSRF token is one of them): judged; 401: refused.
    let names: Vec<String> = (0..400).map(|i| format!("x{i}")).collect();
    let fields = |n: usize| -> Vec<(&str, &str)> {
        let mut f: Vec<(&str, &str)> = names[..n].iter().map(|k| (k.as_str(), "1")).collect();
        f.push(("action", "stay"));
        f
    };
    a.page = trip_page.clone();
    assert_eq!(a.post("/trip", &fields(398)).await, 200);
    a.page = trip_page.clone();
    assert_eq!(a.post("/trip", &fields(399)).await, 400);

    // A body over 32 KiB: 413, whatever its fields.
    let long = "B".repeat(250);
    let many: Vec<(String, &str)> = (0..140).map(|i| (format!("y{i}"), long.as_str())).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    a.page = trip_page.clone();
    assert_eq!(a.post("/trip", &many).await, 413);

    // Goods: at most 50 rows, however often "Add goods" is pressed.
    let mut b = Agent::new(&up.kiosk);
    b.reach_trip().await;
    let today = japan_date(0);
    b.post(
        "/trip",
        &[
            ("flight", "NH212"),
            ("origin", "LHR"),
            ("arrival_date", &today),
            ("address_in_japan", ADDRESS),
            ("phone", PHONE),
            ("occupation", "Engineer"),
            ("action", "next"),
        ],
    )
    .await;
    assert_eq!(b.path, "/party", "{}", b.page);
    b.one_adult_answering_no().await;
    assert_eq!(b.path, "/items", "{}", b.page);
    for _ in 0..55 {
        assert_eq!(b.post("/items", &[("action", "add")]).await, 200);
    }
    assert!(b.page.contains("name=\"item-49-category\""), "50 rows");
    assert!(!b.page.contains("name=\"item-50-category\""), "not 51");
    assert!(
        !b.page.contains("name=\"action\" value=\"add\""),
        "no \"Add goods\" at 50 rows"
    );
    up.proc.stop().await;
}

#[tokio::test]
async fn issuing_logs_no_personal_data_even_at_debug_level() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let mut up = Up::start(
        d,
        &[
            ("EGATE_LOG", "debug"),
            ("RUST_LOG", "debug"),
            ("EGATE_GATE_SELECTION_RATE", "0"),
        ],
    )
    .await;
    let http = client();
    let today = japan_date(0);

    // The phone: create, revise, show the QR, pass the gate.
    let created = declare(&http, &up.mobile, &declaration(&today, "NH212", json!([]))).await;
    let id = created["id"].as_str().unwrap();
    let token = created["edit_token"].as_str().unwrap();
    let r = http
        .put(format!("{}/v1/declarations/{id}", up.mobile))
        .bearer_auth(token)
        .json(&declaration(&today, "NH212", whisky()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let revised: Value = r.json().await.unwrap();
    let r = http
        .get(format!("{}/v1/declarations/{id}/qr.png", up.mobile))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let dec = scan(&http, &up.gate, revised["qr"]["text"].as_str().unwrap()).await;
    assert_eq!(dec["decision"], "red", "five bottles: {dec}");

    // The kiosk, with a trip of its own.
    let mut k = Agent::new(&up.kiosk);
    k.reach_trip().await;
    k.post(
        "/trip",
        &[
            ("flight", "SK983"),
            ("origin", "CPH"),
            ("arrival_date", &today),
            ("address_in_japan", "Hotel Okura, Toranomon, Tokyo"),
            ("phone", "+81 80 9876 5432"),
            ("occupation", "Architect"),
            ("action", "next"),
        ],
    )
    .await;
    assert_eq!(k.path, "/party", "{}", k.page);
    k.one_adult_answering_no().await;
    k.post("/items", &[("action", "next")]).await;
    assert_eq!(k.path, "/review", "{}", k.page);
    k.post("/review", &[("action", "confirm")]).await;
    assert_eq!(k.path, "/result", "{}", k.page);
    assert!(k.page.contains("data-lane=\"green\""));

    // Every issuance was logged (so the output below is the real log).
    poll("the issuance log lines", || {
        let lines = up.proc.lines();
        async move {
            let phone = lines.iter().filter(|l| l.contains("token issued")).count();
            let kiosk = lines
                .iter()
                .filter(|l| l.contains("kiosk issued a declaration token"))
                .count();
            (phone >= 2 && kiosk >= 1).then_some(())
        }
    })
    .await;
    up.proc.stop().await;
    let log = up.proc.output();
    assert!(log.contains("DEBUG"), "debug logging was on");
    let lower = log.to_lowercase();
    for personal in [
        SURNAME,
        GIVEN_NAMES,
        PASSPORT_NO,
        PHONE,
        ADDRESS,
        "Ginza",
        "Hotel Okura",
        "Toranomon",
        "+81 80 9876 5432",
        "80 9876 5432",
        "90 1234 5678",
        "1985-04-12",
        "8504124",
        "TR12345672",
    ] {
        assert!(
            !lower.contains(&personal.to_lowercase()),
            "the logs hold {personal:?}:\n{}",
            log.lines()
                .filter(|l| l.to_lowercase().contains(&personal.to_lowercase()))
                .take(5)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[tokio::test]
async fn the_revocation_feed_pages_at_exactly_1000_and_the_next_page_starts_after() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    // Editing is rate limited; this test edits one declaration a thousand times.
    let mut up = Up::start(
        d,
        &[
            ("EGATE_EDIT_RATE_LIMIT_PER_MINUTE", "100000"),
            ("EGATE_EDIT_RATE_LIMIT_PER_DECLARATION_PER_MINUTE", "100000"),
        ],
    )
    .await;
    let http = client();
    let today = japan_date(0);
    let created = declare(&http, &up.mobile, &declaration(&today, "NH212", json!([]))).await;
    let id = created["id"].as_str().unwrap();
    let token = created["edit_token"].as_str().unwrap();
    // 1001 revisions: each supersedes (revokes) the QR before it.
    let body = declaration(&today, "NH212", json!([]));
    for _ in 0..1001 {
        let r = http
            .put(format!("{}/v1/declarations/{id}", up.mobile))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let page = |since: i64| {
        let (http, url) = (
            http.clone(),
            format!("{}/v1/revocations?since={since}", up.mobile),
        );
        async move { get_json(&http, &url).await }
    };
    let first = page(0).await;
    let list = first["revocations"].as_array().unwrap();
    assert_eq!(list.len(), 1000, "a full page");
    let seqs: Vec<i64> = list.iter().map(|r| r["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order");
    assert!(list.iter().all(|r| r["reason"] == "superseded"));
    let next = first["next_since"].as_i64().unwrap();
    assert_eq!(next, *seqs.last().unwrap());

    let second = page(next).await;
    let rest = second["revocations"].as_array().unwrap();
    assert_eq!(rest.len(), 1, "{second}");
    let last_seq = rest[0]["seq"].as_i64().unwrap();
    assert!(last_seq > next);
    assert!(
        list.iter().all(|r| r["cti"] != rest[0]["cti"]),
        "no entry twice"
    );
    assert_eq!(second["next_since"], last_seq);

    let third = page(last_seq).await;
    assert_eq!(third["revocations"].as_array().unwrap().len(), 0);
    assert_eq!(third["next_since"], last_seq, "an empty page stays put");
    let mut ctis: Vec<&str> = list.iter().map(|r| r["cti"].as_str().unwrap()).collect();
    ctis.sort_unstable();
    ctis.dedup();
    assert_eq!(ctis.len(), 1000);
    up.proc.stop().await;
}
