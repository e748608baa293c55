//! A flood of new sessions against the phone wizard over real HTTP (127.0.0.1, with the
//! client bound to other loopback addresses to be other clients): the flood is refused
//! (429 past its address's share of new sessions, 503 at the cap of sessions, each a
//! page in the request's language with `Retry-After`) and a passenger's session, with
//! their answers, survives it. docs/wizard.md "Sessions".

use axum::Router;
use shared::domain::Sex;
use shared::issuer::{TokenPolicy, Validity};
use shared::mrz::{Td3, build_td3};
use shared::rules::RulesProfile;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wizard::{Receipt, Submission, Submit, SubmitError, SubmitFuture, WizardConfig, WizardState};

struct Refuse;

impl Submit for Refuse {
    fn submit(&self, _: Submission) -> SubmitFuture<'_, Receipt> {
        Box::pin(async { Err(SubmitError::Internal("not in this test".into())) })
    }
}

/// The phone wizard served on 127.0.0.1 with the peer address as `ConnectInfo`.
async fn serve(config: WizardConfig) -> SocketAddr {
    let profile = Arc::new(RulesProfile::jp_2026());
    let policy = TokenPolicy::for_profile(Validity::default(), &profile);
    let state = WizardState::new(
        config,
        shared::clock::system(),
        profile,
        policy,
        Arc::new(Refuse),
    );
    let app = wizard::mount(Router::new(), state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    addr
}

struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
    fn cookie(&self) -> Option<String> {
        let v = self.header("set-cookie")?;
        v.strip_prefix("wizard_session=")
            .map(|v| v.split(';').next().unwrap().to_owned())
    }
    fn csrf(&self) -> String {
        self.body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_default()
            .to_owned()
    }
}

/// One HTTP/1.1 request from `127.0.0.<from>` (the whole of 127/8 is loopback).
async fn request(
    server: SocketAddr,
    from: u8,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> Answer {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(IpAddr::from([127, 0, 0, from]), 0))
        .unwrap();
    let mut stream = socket.connect(server).await.unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\nAccept-Language: ja\r\n"
    );
    if let Some(c) = cookie {
        req.push_str(&format!("Cookie: wizard_session={c}\r\n"));
    }
    let body = form.unwrap_or("");
    if form.is_some() {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// A form body, percent-encoded.
fn form(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn mrz() -> String {
    let today = time::OffsetDateTime::now_utc().date();
    build_td3(&Td3 {
        document_code: "P".into(),
        issuing_state: "GBR".into(),
        surname: "ERIKSSON".into(),
        given_names: "ANNA MARIA".into(),
        document_number: "L898902C3".into(),
        nationality: "GBR".into(),
        birth_date: time::macros::date!(1974 - 08 - 12),
        sex: Sex::Female,
        expiry_date: today.replace_year(today.year() + 5).unwrap_or(today),
        optional_data: String::new(),
    })
}

/// A passenger at `127.0.0.<from>`: starts in English and has their passport read;
/// returns their session cookie.
async fn passenger_with_a_passport_read(server: SocketAddr, from: u8) -> String {
    let r = request(server, from, "GET", "/", None, None).await;
    assert_eq!(r.status, 200);
    let cookie = r.cookie().expect("a session");
    let r = request(
        server,
        from,
        "POST",
        "/start",
        Some(&cookie),
        Some(&form(&[("csrf", &r.csrf()), ("lang", "en")])),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let cookie = r.cookie().expect("a fresh session in the language");
    let r = request(server, from, "GET", "/passport", Some(&cookie), None).await;
    assert_eq!(r.status, 200);
    let m = mrz();
    let r = request(
        server,
        from,
        "POST",
        "/passport",
        Some(&cookie),
        Some(&form(&[
            ("csrf", &r.csrf()),
            ("mrz", &m),
            ("action", "read"),
        ])),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = request(server, from, "GET", "/passport", Some(&cookie), None).await;
    assert!(r.body.contains("ERIKSSON"), "{}", r.body);
    cookie
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_at_the_cap_of_sessions_is_refused_and_a_passengers_answers_survive() {
    let mut config = WizardConfig::personal_phone(false);
    config.max_sessions = 40;
    let server = serve(config).await;
    let cookie = passenger_with_a_passport_read(server, 2).await;
    // 127.0.0.1 opens the start page without a cookie, again and again (bounded: under
    // its per-minute share, so the cap is what stops it).
    let (mut started, mut refused) = (0, None);
    for _ in 0..50 {
        let r = request(server, 1, "GET", "/", None, None).await;
        match r.status {
            200 => started += 1,
            _ => {
                refused = Some(r);
                break;
            }
        }
    }
    let refused = refused.expect("the flood is refused at the cap");
    assert_eq!(started, 39, "the cap less the passenger's session");
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.header("retry-after").as_deref(), Some("60"));
    assert!(refused.cookie().is_none(), "no session made");
    assert!(
        refused.body.contains("<html lang=\"ja\""),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains(&shared::i18n::t(
            shared::i18n::Lang::Ja,
            "kiosk-error-unavailable"
        )),
        "{}",
        refused.body
    );
    // The passenger's next page still shows their answers.
    let r = request(server, 2, "GET", "/passport", Some(&cookie), None).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("ERIKSSON"), "{}", r.body);
    // A phone that keeps its cookie is served as before.
    let r = request(server, 2, "GET", "/", Some(&cookie), None).await;
    assert_eq!(r.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_gets_its_share_of_new_sessions_a_minute_and_others_still_start() {
    let config = WizardConfig::personal_phone(false);
    let share = config.new_sessions_per_client_per_minute.unwrap();
    let server = serve(config).await;
    let cookie = passenger_with_a_passport_read(server, 2).await;
    let (mut started, mut refused) = (0, None);
    for _ in 0..share + 10 {
        let r = request(server, 1, "GET", "/", None, None).await;
        match r.status {
            200 => started += 1,
            _ => {
                refused = Some(r);
                break;
            }
        }
    }
    let refused = refused.expect("the flood is refused past its share");
    // The share, unless the clock's minute turned during the loop (then up to twice).
    assert!(started >= share && started <= 2 * share, "{started}");
    assert_eq!(refused.status, 429, "{}", refused.body);
    let secs: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&secs), "{secs}");
    assert!(
        refused.body.contains("<html lang=\"ja\""),
        "{}",
        refused.body
    );
    // Another address still starts, and the passenger's answers are there.
    let r = request(server, 3, "GET", "/", None, None).await;
    assert_eq!(r.status, 200);
    assert!(r.cookie().is_some());
    let r = request(server, 2, "GET", "/passport", Some(&cookie), None).await;
    assert!(r.body.contains("ERIKSSON"), "{}", r.body);
}
