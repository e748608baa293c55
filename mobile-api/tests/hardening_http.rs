//! Attack and behaviour tests of the hardening over real HTTP (a server on 127.0.0.1,
//! port 0): bounded metric labels, rate-limited PUT and DELETE, erasure that leaves no
//! bytes, random generation that fails closed, HTTPS with a self-signed certificate.

use mobile_api::{AppState, Config, build, purge_expired, serve};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::Path;
use tempfile::TempDir;
use time::{Duration, OffsetDateTime, UtcOffset};

struct Server {
    base: String,
    addr: SocketAddr,
    state: AppState,
    dir: TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Server {
    async fn start(f: impl FnOnce(&mut Config, &Path)) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = Config::for_tests(dir.path());
        f(&mut cfg, dir.path());
        let scheme = if cfg.tls.is_some() { "https" } else { "http" };
        let state = build(cfg).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        Server {
            base: format!("{scheme}://{addr}"),
            addr,
            state,
            dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    async fn stop(mut self) -> TempDir {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
        self.dir
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

fn declaration() -> Value {
    let today = OffsetDateTime::now_utc()
        .to_offset(UtcOffset::from_hms(9, 0, 0).unwrap())
        .date();
    json!({
        "passenger": {
            "surname": "Quixotlander", "given_names": "Wilhelmina", "nationality": "JPN",
            "birth_date": "1985-04-12", "sex": "F", "passport_number": "XQ7319264",
            "passport_expiry": "2035-01-31"
        },
        "trip": {
            "flight": "NH 212", "origin": "LHR",
            "arrival_date": shared::domain::format_date(today + Duration::days(1)),
            "address_in_japan": "Moonbeam Residence 9-9-9 Akasaka", "phone": "+81 90 7777 3141",
            "occupation": "Cartographer"
        },
        "party": {"aged_20_plus": 1, "aged_6_to_19": 0, "under_6": 0},
        "answers": {
            "prohibited": false, "over_allowance": false, "commercial": false,
            "for_others": false, "means_of_payment_over_limit": false,
            "precious_metal_over_1kg": false, "unaccompanied_packages": 0
        },
        "items": [{"category": "whisky", "quantity": 2, "volume_ml": 700,
                   "value": {"amount": 120.5, "currency": "GBP"}}]
    })
}

async fn create(http: &reqwest::Client, base: &str) -> (String, String) {
    let r = http
        .post(format!("{base}/v1/declarations"))
        .json(&declaration())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let b: Value = r.json().await.unwrap();
    (
        b["id"].as_str().unwrap().to_owned(),
        b["edit_token"].as_str().unwrap().to_owned(),
    )
}

/// The request-counter series in the exposition.
async fn label_sets(http: &reqwest::Client, base: &str) -> Vec<String> {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with("mobile_api_http_requests_total{"))
        .map(|l| l.rsplit_once(' ').unwrap().0.to_owned())
        .collect()
}

#[tokio::test]
async fn ten_thousand_made_up_methods_leave_the_metric_label_count_unchanged() {
    let s = Server::start(|_, _| {}).await;
    let http = client();
    // Warm-up: one made-up method on a route and on an unknown path.
    for path in ["/healthz", "/no/such/path"] {
        let m = Method::from_bytes(b"FOOBAR0").unwrap();
        http.request(m, format!("{}{path}", s.base))
            .send()
            .await
            .unwrap();
    }
    // The first scrape is counted after it answers: scrape once before counting.
    label_sets(&http, &s.base).await;
    let before = label_sets(&http, &s.base).await;
    for i in 1..=10_000u32 {
        let m = Method::from_bytes(format!("FOOBAR{i}").as_bytes()).unwrap();
        let path = if i % 2 == 0 {
            "/healthz".to_owned()
        } else {
            format!("/random/{i}")
        };
        let r = http
            .request(m, format!("{}{path}", s.base))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{}", r.status());
    }
    let after = label_sets(&http, &s.base).await;
    let text = after.join("\n");
    assert!(!text.contains("FOOBAR"), "{text}");
    assert!(
        !text.contains("/random/"),
        "raw paths are never labels: {text}"
    );
    // The /metrics GET itself is one series, present in both.
    assert_eq!(
        before.len(),
        after.len(),
        "label sets grew:\nbefore {before:#?}\nafter {after:#?}"
    );
    assert!(
        text.contains("method=\"other\",route=\"unmatched\""),
        "{text}"
    );
    s.stop().await;
}

async fn put(http: &reqwest::Client, base: &str, id: &str, token: &str) -> reqwest::Response {
    http.put(format!("{base}/v1/declarations/{id}"))
        .bearer_auth(token)
        .json(&declaration())
        .send()
        .await
        .unwrap()
}

async fn assert_429(r: reqwest::Response) {
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["type"], "/problems/rate-limited");
}

#[tokio::test]
async fn put_and_delete_are_rate_limited_per_declaration_and_per_client() {
    // Per declaration: 3 a minute, whoever asks.
    let s = Server::start(|c, _| {
        c.edit_rate_limit_per_declaration_per_minute = 3;
    })
    .await;
    let http = client();
    let (id, token) = create(&http, &s.base).await;
    let (other, other_token) = create(&http, &s.base).await;
    for _ in 0..3 {
        assert_eq!(
            put(&http, &s.base, &id, &token).await.status(),
            StatusCode::OK
        );
    }
    assert_429(put(&http, &s.base, &id, &token).await).await;
    let del = http
        .delete(format!("{}/v1/declarations/{id}", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_429(del).await;
    // Another declaration is not held up by the first one's limit.
    let r = put(&http, &s.base, &other, &other_token).await;
    assert_eq!(r.status(), StatusCode::OK);
    s.stop().await;

    // Per client: 5 a minute, whichever declarations (made-up ids included).
    let s = Server::start(|c, _| {
        c.edit_rate_limit_per_minute = 5;
    })
    .await;
    for i in 0..5 {
        let r = http
            .delete(format!("{}/v1/declarations/AAAAAAAAAAA{i}", s.base))
            .bearer_auth("nope")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    let r = http
        .delete(format!("{}/v1/declarations/AAAAAAAAAAAZ", s.base))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_429(r).await;
    // Reads are not limited by it.
    let r = http
        .get(format!("{}/healthz", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    s.stop().await;
}

const PERSONAL: [&str; 6] = [
    "quixotlander",
    "wilhelmina",
    "xq7319264",
    "7777 3141",
    "moonbeam residence",
    "cartographer",
];

/// The distinctive strings found (case-insensitively) in the file's bytes.
fn personal_in(path: &Path) -> Vec<&'static str> {
    let bytes = std::fs::read(path).unwrap_or_default().to_ascii_lowercase();
    PERSONAL
        .into_iter()
        .filter(|s| bytes.windows(s.len()).any(|w| w == s.as_bytes()))
        .collect()
}

#[tokio::test]
async fn an_erased_declaration_leaves_no_personal_data_in_the_database_wal_or_replaced_files() {
    let s = Server::start(|_, _| {}).await;
    let http = client();
    let (id, token) = create(&http, &s.base).await;
    // Amend once: the old revision is in the file too.
    assert_eq!(
        put(&http, &s.base, &id, &token).await.status(),
        StatusCode::OK
    );
    let db_path = s.state.config.db_path();
    assert!(
        !personal_in(&db_path).is_empty() || {
            let wal = format!("{}-wal", db_path.display());
            !personal_in(Path::new(&wal)).is_empty()
        },
        "the test looks for bytes that are there before erasure"
    );
    // What `egate restore` leaves: the previous file moved aside, 31 days ago.
    let now = OffsetDateTime::now_utc();
    let moved_at = (now - Duration::days(31)).unix_timestamp();
    let aside = db_path.with_file_name(format!("mobile-api.db.replaced-{moved_at}"));
    s.state
        .db
        .sqlite_db()
        .unwrap()
        .backup_to(&aside)
        .await
        .unwrap();
    assert!(!personal_in(&aside).is_empty());
    let recent = db_path.with_file_name(format!("mobile-api.db.replaced-{}", now.unix_timestamp()));
    std::fs::write(&recent, b"kept: within the retention period").unwrap();

    let r = http
        .delete(format!("{}/v1/declarations/{id}", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    purge_expired(&s.state, now).await.unwrap();

    let dir = db_path.parent().unwrap().to_owned();
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            let hits = personal_in(&p);
            if !hits.is_empty() {
                found.push((p.display().to_string(), hits));
            }
        }
    }
    assert!(found.is_empty(), "erased data found: {found:?}");
    assert!(!aside.exists(), "a replaced file past retention is removed");
    assert!(recent.exists(), "a replaced file within retention is kept");
    s.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_failing_random_generator_answers_503_and_stores_nothing() {
    // Current-thread runtime: the server's handlers run on this thread, where the
    // simulated failure is set.
    let s = Server::start(|_, _| {}).await;
    let http = client();
    shared::web::simulate_rng_failure(true);
    let r = http
        .post(format!("{}/v1/declarations", s.base))
        .json(&declaration())
        .send()
        .await
        .unwrap();
    shared::web::simulate_rng_failure(false);
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["type"], "/problems/rng-unavailable");
    assert!(b.get("edit_token").is_none() && b.get("id").is_none());
    let n: i64 = s
        .state
        .db
        .sqlite_db()
        .unwrap()
        .read(|c| {
            c.query_row("SELECT count(*) FROM declarations", [], |r| r.get(0))
                .map_err(shared::db::DbError::from)
        })
        .await
        .unwrap();
    assert_eq!(n, 0, "nothing stored under a predictable id or token");
    let (_, token) = create(&http, &s.base).await;
    assert_eq!(token.len(), 22);
    s.stop().await;
}

#[tokio::test]
async fn https_with_a_self_signed_certificate_serves_and_plain_http_does_not() {
    let cert = rcgen::generate_simple_self_signed(vec!["egate.test".to_owned()]).unwrap();
    let s = Server::start(|c, dir| {
        let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert_path, cert.cert.pem()).unwrap();
        shared::secret_file::create_private(&key_path, cert.signing_key.serialize_pem().as_bytes())
            .unwrap();
        c.tls = Some(shared::tls::TlsFiles {
            cert: cert_path,
            key: key_path,
        });
    })
    .await;
    let https = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .resolve("egate.test", s.addr)
        .build()
        .unwrap();
    let url = format!("https://egate.test:{}/healthz", s.addr.port());
    let r = https.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // A declaration over HTTPS, the client address still known to the rate limiter.
    let (id, token) = create(&https, &format!("https://egate.test:{}", s.addr.port())).await;
    assert_eq!(id.len(), 12);
    assert_eq!(token.len(), 22);
    // Plain HTTP to the HTTPS port gets no HTTP answer.
    let plain = client()
        .get(format!("http://{}/healthz", s.addr))
        .send()
        .await;
    assert!(plain.is_err(), "{plain:?}");
    // A client that does not trust the certificate is refused.
    assert!(client().get(&url).send().await.is_err());
    let dir = s.stop().await;

    // A key file others may read is refused at start, naming the file and the fix.
    let key = dir.path().join("key.pem");
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let files = shared::tls::TlsFiles {
        cert: dir.path().join("cert.pem"),
        key,
    };
    let e = files.server_config().unwrap_err().to_string();
    assert!(e.contains("key.pem") && e.contains("chmod 600"), "{e}");
}

/// A browser offers ALPN `h2` and `http/1.1` and then speaks whichever the server chose.
/// The server must only choose a protocol it serves: a phone that negotiated `h2` with a
/// server that speaks HTTP/1.1 only got no answer at all (every page of the web app).
#[tokio::test]
async fn https_answers_a_client_that_offers_h2_and_http1_as_browsers_do() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls;
    let cert = rcgen::generate_simple_self_signed(vec!["egate.test".to_owned()]).unwrap();
    let s = Server::start(|c, dir| {
        let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert_path, cert.cert.pem()).unwrap();
        shared::secret_file::create_private(&key_path, cert.signing_key.serialize_pem().as_bytes())
            .unwrap();
        c.tls = Some(shared::tls::TlsFiles {
            cert: cert_path,
            key: key_path,
        });
    })
    .await;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("egate.test").unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    let h2 = match alpn.as_deref() {
        Some(b"h2") => true,
        None | Some(b"http/1.1") => false,
        Some(other) => panic!("unexpected ALPN {other:?}"),
    };
    // With h2: the HTTP/2 connection preface and an empty SETTINGS frame (a server that
    // speaks HTTP/2 answers with its own SETTINGS frame, type 4); else an HTTP/1.1 GET.
    let request: &[u8] = if h2 {
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0"
    } else {
        b"GET /my HTTP/1.1\r\nHost: egate.test\r\nConnection: close\r\n\r\n"
    };
    tls.write_all(request).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    // Bounded: the first answer bytes, or the server closing the connection.
    for _ in 0..16 {
        match tokio::time::timeout(std::time::Duration::from_secs(10), tls.read(&mut buf))
            .await
            .expect("an answer within 10 s")
        {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if got.len() >= 12 {
                    break;
                }
            }
        }
    }
    if h2 {
        assert!(
            got.len() >= 9 && got[3] == 4,
            "negotiated h2 but the server does not speak it: {:?}",
            String::from_utf8_lossy(&got)
        );
    } else {
        assert!(
            got.starts_with(b"HTTP/1.1 200"),
            "{:?}",
            String::from_utf8_lossy(&got)
        );
    }
    s.stop().await;
}
