//! Device identity at the gate, attacked over real HTTP (127.0.0.1, both listeners bound):
//! a scan without a credential, with a made-up, revoked or kiosk key; a device added or
//! revoked while the gate runs; what the database keeps of a key; one device past its
//! scan rate; image decodes past their cap; the console off the device listener.

use gate_service::devices::{self, DeviceKind};
use gate_service::{AppState, Config, Listeners};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::AsyncWriteExt as _;

struct Gate {
    state: AppState,
    device: String,
    console: String,
    http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Gate {
    async fn start(f: impl FnOnce(&mut Config)) -> Gate {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests(dir.path());
        f(&mut config);
        let listeners = Listeners::bind(&config).await.unwrap();
        let device = format!("http://{}", listeners.device.local_addr().unwrap());
        let console = format!("http://{}", listeners.console.local_addr().unwrap());
        let state = gate_service::build(config).await.unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(gate_service::serve(listeners, state.clone(), async {
            let _ = stopped.await;
        }));
        Gate {
            state,
            device,
            console,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    async fn add(&self, id: &str, kind: DeviceKind) -> String {
        devices::add(&self.state.db, id, kind, self.state.clock.unix())
            .await
            .unwrap()
    }

    /// A JSON scan (a QR no issuer signed: the gate still answers) with `bearer`.
    async fn scan(&self, bearer: Option<&str>) -> reqwest::Response {
        let mut req = self
            .http
            .post(format!("{}/v1/scans", self.device))
            .json(&json!({"qr": "CD1:NOTATOKEN", "mrz": "P<UTOERIKSSON<<ANNA"}));
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        req.send().await.unwrap()
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap().unwrap();
    }
}

async fn problem(r: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    assert_eq!(
        headers.get("content-type").unwrap(),
        "application/problem+json",
        "{status}"
    );
    (status, headers, r.json().await.unwrap())
}

#[tokio::test]
async fn a_scan_without_a_gate_credential_is_refused_401_or_403() {
    let g = Gate::start(|_| {}).await;
    let gate_key = g.add("G-01", DeviceKind::Gate).await;
    let kiosk_key = g.add("K-01", DeviceKind::Kiosk).await;
    let revoked_key = g.add("G-OLD", DeviceKind::Gate).await;
    devices::revoke(&g.state.db, "G-OLD", g.state.clock.unix())
        .await
        .unwrap();

    assert_eq!(g.scan(Some(&gate_key)).await.status(), 200);
    let made_up = format!("{}{}", devices::KEY_PREFIX, "A".repeat(43));
    let mut tried = 0;
    for bearer in [
        None,
        Some(made_up.as_str()),
        Some(revoked_key.as_str()),
        Some(""),
        Some("not a key"),
    ] {
        let (status, headers, body) = problem(g.scan(bearer).await).await;
        assert_eq!(status, 401, "{bearer:?}: {body}");
        assert_eq!(headers.get("www-authenticate").unwrap(), "Bearer");
        assert_eq!(body["type"], "/problems/device-unauthorized");
        tried += 1;
    }
    // Basic instead of Bearer, with the gate's key as the password.
    let r = g
        .http
        .post(format!("{}/v1/scans", g.device))
        .basic_auth("G-01", Some(&gate_key))
        .json(&json!({"qr": "x", "mrz": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A kiosk's credential is real but may not scan, on either endpoint.
    let (status, _, body) = problem(g.scan(Some(&kiosk_key)).await).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["type"], "/problems/device-forbidden");
    let r = g
        .http
        .post(format!("{}/v1/scans/image", g.device))
        .bearer_auth(&kiosk_key)
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let scans: i64 = g
        .state
        .db
        .read(|c| -> Result<i64, shared::db::DbError> {
            Ok(c.query_row("SELECT count(*) FROM scans", [], |r| r.get(0))?)
        })
        .await
        .unwrap();
    assert!(scans <= 1, "a refused request leaves no scan");
    println!("RELIABILITY devices: {tried} credential-less requests -> 401, kiosk key -> 403");
    g.stop().await;
}

#[tokio::test]
async fn a_device_added_or_revoked_while_the_gate_runs_counts_at_the_next_request() {
    let g = Gate::start(|_| {}).await;
    // Added while running: accepted at once.
    let key = g.add("G-NEW", DeviceKind::Gate).await;
    let r = g.scan(Some(&key)).await;
    assert_eq!(r.status(), 200);
    // Revoked while running: refused at the very next request.
    devices::revoke(&g.state.db, "G-NEW", g.state.clock.unix())
        .await
        .unwrap();
    let (status, _, _) = problem(g.scan(Some(&key)).await).await;
    assert_eq!(status, 401);
    // The scan it made carries its id, the only gate id there is.
    let gate_ids: Vec<String> = g
        .state
        .db
        .read(|c| -> Result<Vec<String>, shared::db::DbError> {
            let mut st = c.prepare("SELECT DISTINCT gate_id FROM scans")?;
            Ok(st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?)
        })
        .await
        .unwrap();
    assert!(gate_ids.iter().all(|id| id == "G-NEW"), "{gate_ids:?}");
    // A gate_id in the body is refused, not used.
    let r = g
        .http
        .post(format!("{}/v1/scans", g.device))
        .bearer_auth(g.add("G-2", DeviceKind::Gate).await)
        .json(&json!({"qr": "x", "mrz": "y", "gate_id": "G-SPOOF"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    g.stop().await;
}

#[tokio::test]
async fn the_gate_database_keeps_the_keys_hash_never_the_key() {
    let g = Gate::start(|_| {}).await;
    let key = g.add("G-01", DeviceKind::Gate).await;
    assert!(
        key.starts_with(devices::KEY_PREFIX) && key.len() == 47,
        "{key}"
    );
    assert_eq!(g.scan(Some(&key)).await.status(), 200);
    g.state.db.close();
    let c = rusqlite::Connection::open(g.state.config.db_path()).unwrap();
    let stored: Vec<u8> = c
        .query_row("SELECT key_hash FROM devices WHERE id = 'G-01'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(stored, devices::key_hash(&key));
    drop(c);
    let file = std::fs::read(g.state.config.db_path()).unwrap();
    let secret = &key[devices::KEY_PREFIX.len()..];
    assert!(
        !file.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the key is nowhere in the database file"
    );
}

#[tokio::test]
async fn one_device_past_its_scan_rate_gets_429_with_retry_after_and_others_scan_on() {
    let g = Gate::start(|c| {
        c.scan_rate_per_sec = 1;
        c.scan_burst = 3;
    })
    .await;
    let noisy = g.add("G-NOISY", DeviceKind::Gate).await;
    let calm = g.add("G-CALM", DeviceKind::Gate).await;
    let (mut ok, mut limited, mut retry_after) = (0, 0, None);
    for _ in 0..20 {
        let r = g.scan(Some(&noisy)).await;
        match r.status().as_u16() {
            200 => ok += 1,
            429 => {
                limited += 1;
                let (_, headers, body) = problem(r).await;
                assert_eq!(body["type"], "/problems/rate-limited");
                retry_after = headers
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
            }
            s => panic!("status {s}"),
        }
    }
    // 20 requests in (much) less than 17 s: at most the burst and what refilled.
    assert!(limited > 0 && ok >= 3, "ok {ok}, limited {limited}");
    assert!(retry_after.is_some_and(|s| s >= 1), "{retry_after:?}");
    assert_eq!(g.scan(Some(&calm)).await.status(), 200, "another device");
    println!(
        "RELIABILITY devices: 20 scans at once from one device: {ok} answered, {limited} got 429 (Retry-After {retry_after:?} s); another device answered"
    );
    g.stop().await;
}

/// Send the headers and the first part of an image scan, and keep the connection open
/// without finishing the body: the handler holds its decode slot while it waits.
async fn hold_an_image_upload(g: &Gate, key: &str) -> tokio::net::TcpStream {
    let addr = g.device.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/scans/image HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: multipart/form-data; boundary=XB\r\nContent-Length: 100000\r\n\r\n\
         --XB\r\nContent-Disposition: form-data; name=\"image\"; filename=\"f\"\r\n\
         Content-Type: image/png\r\n\r\nPNG"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.flush().await.unwrap();
    s
}

async fn image_scan(g: &Gate, key: &str) -> reqwest::Response {
    let body = "--XB\r\nContent-Disposition: form-data; name=\"image\"; filename=\"f\"\r\n\
                Content-Type: image/png\r\n\r\nnot an image\r\n\
                --XB\r\nContent-Disposition: form-data; name=\"mrz\"\r\n\r\nP<UTO\r\n--XB--\r\n";
    g.http
        .post(format!("{}/v1/scans/image", g.device))
        .bearer_auth(key)
        .header("content-type", "multipart/form-data; boundary=XB")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn image_scans_past_the_decode_cap_get_429_instead_of_a_queue() {
    let g = Gate::start(|c| c.image_decodes = 1).await;
    let key = g.add("G-01", DeviceKind::Gate).await;
    let held = hold_an_image_upload(&g, &key).await;
    // Once the held upload has its slot (bounded polling), the next image scan is
    // refused at once.
    let mut refused = None;
    for _ in 0..200 {
        let r = image_scan(&g, &key).await;
        if r.status() == 429 {
            refused = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (status, headers, body) = problem(refused.expect("a 429 while the slot is held")).await;
    assert_eq!(status, 429);
    assert_eq!(headers.get("retry-after").unwrap(), "1");
    assert_eq!(body["type"], "/problems/rate-limited");
    // JSON scans do not decode images: not capped.
    assert_eq!(g.scan(Some(&key)).await.status(), 200);
    // The held upload ends (the client goes away): the slot is free again.
    drop(held);
    let mut after = 0;
    for _ in 0..200 {
        after = image_scan(&g, &key).await.status().as_u16();
        if after != 429 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_ne!(after, 429, "the slot came back");
    assert!(after < 500, "{after}");
    println!(
        "RELIABILITY devices: image decode cap 1 with one upload held -> 429 Retry-After 1; freed -> {after}"
    );
    g.stop().await;
}

#[tokio::test]
async fn the_console_is_served_on_its_own_listener_only() {
    let g = Gate::start(|_| {}).await;
    for path in ["/console/", "/console/login", "/console/queue", "/"] {
        let r = g
            .http
            .get(format!("{}{path}", g.device))
            .send()
            .await
            .unwrap();
        let (status, _, _) = problem(r).await;
        assert_eq!(status, 404, "device listener {path}");
    }
    let r = g.http.get(format!("{}/", g.console)).send().await.unwrap();
    assert!(r.status().is_redirection());
    assert_eq!(r.headers().get("location").unwrap(), "/console/");
    // The address officers are given leads to the queue (and, signed out, to sign-in).
    let r = g
        .http
        .get(format!("{}/console/", g.console))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(r.headers().get("location").unwrap(), "/console/queue");
    let r = g
        .http
        .get(format!("{}/console/login", g.console))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for path in ["/v1/scans", "/healthz", "/metrics"] {
        let r = g
            .http
            .get(format!("{}{path}", g.console))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "console listener {path}");
    }
    g.stop().await;
}
