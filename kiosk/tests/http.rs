//! HTTP tests of every step, its errors, the wipe and the headers, in process.

mod common;

use axum::http::StatusCode;
use common::*;
use shared::i18n::{Lang, t};
use shared::token::{Jwks, TrustList, VerifyOptions, decode_and_verify};

const STEPS: &[&str] = &[
    "/passport",
    "/trip",
    "/party",
    "/questions",
    "/items",
    "/review",
    "/result",
    "/result/print",
];

#[tokio::test]
async fn the_start_page_offers_five_languages_and_sets_a_strict_session_cookie() {
    let k = kiosk().await;
    let mut a = Agent::new(&k);
    let r = a.get("/").await;
    assert_eq!(r.status, StatusCode::OK);
    for (code, name) in [
        ("ja", "日本語"),
        ("en", "English"),
        ("zh-Hans", "简体中文"),
        ("zh-Hant", "繁體中文"),
        ("ko", "한국어"),
    ] {
        assert!(
            r.body
                .contains(&format!("value=\"{code}\" lang=\"{code}\"")),
            "no button for {code}"
        );
        assert!(r.body.contains(name));
    }
    let c = r.set_cookie().unwrap();
    assert!(c.starts_with("kiosk_session="));
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(c.contains(attr), "{c}");
    }
    assert!(
        !c.contains("Expires") && !c.contains("Max-Age"),
        "a session cookie: {c}"
    );
}

#[tokio::test]
async fn every_step_without_a_session_redirects_to_the_start() {
    let k = kiosk().await;
    let mut a = Agent::new(&k);
    for path in STEPS {
        let r = a.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.location(), "/");
    }
    a.cookie = Some("forged-cookie-value".into());
    for path in STEPS {
        let r = a.get(path).await;
        assert_eq!(r.location(), "/", "{path} with an unknown cookie");
    }
    // A blank session (start page only) is not enough either.
    a.cookie = None;
    a.get("/").await;
    assert_eq!(a.get("/trip").await.location(), "/");
}

#[tokio::test]
async fn a_post_without_or_with_a_wrong_csrf_token_is_forbidden() {
    let k = kiosk().await;
    let mut a = Agent::new(&k);
    a.start("en").await;
    let r = a
        .post_raw("/trip", &[("flight", FLIGHT), ("action", "next")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = a
        .post_raw(
            "/trip",
            &[("csrf", "AAAAAAAAAAAAAAAAAAAAAA"), ("flight", FLIGHT)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains(&t(Lang::En, "kiosk-error-forbidden")));
    // Nothing was saved.
    let r = a.get("/trip").await;
    assert!(!r.body.contains(FLIGHT));
    // The start form and Finish check it too.
    let mut b = Agent::new(&k);
    b.get("/").await;
    assert_eq!(
        b.post_raw("/start", &[("lang", "en")]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        a.post_raw("/finish", &[]).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_bad_check_digit_is_shown_on_the_passport_number_in_the_chosen_language() {
    let k = kiosk().await;
    let mut a = Agent::new(&k);
    a.start("ja").await;
    let bad = mrz_bad_number_check();
    let r = a
        .submit("/passport", &[("mrz", bad.as_str()), ("action", "read")])
        .await;
    assert!(r.body.contains("<html lang=\"ja\">"));
    let msg = t(Lang::Ja, "kiosk-error-mrz-check-digit");
    assert_eq!(
        r.by_id("e-passport_number").as_deref(),
        Some(msg.as_str()),
        "{}",
        r.body
    );
    assert!(
        r.by_id("e-mrz").is_none(),
        "the error is on the number, not the MRZ"
    );
    assert!(
        r.body
            .contains(&bad.lines().nth(1).unwrap().replace("<", "&#60;")),
        "the typed MRZ is kept"
    );
    assert!(r.body.contains("aria-live=\"assertive\""));
    assert!(
        !r.body.contains("id=\"next\""),
        "no way on without a valid read"
    );
}

#[tokio::test]
async fn a_read_passport_shows_its_fields_for_confirmation_then_goes_on() {
    let k = kiosk().await;
    let mut a = Agent::new(&k);
    a.start("en").await;
    let m = mrz().to_lowercase(); // typed by a person: upper-cased by the kiosk
    let r = a
        .submit("/passport", &[("mrz", m.as_str()), ("action", "read")])
        .await;
    for v in [SURNAME, GIVEN, "GBR", "1974-08-12", PASSPORT_NO, "Female"] {
        assert!(r.body.contains(v), "{v} not shown");
    }
    let r = a
        .submit("/passport", &[("mrz", m.as_str()), ("action", "next")])
        .await;
    assert!(r.body.contains("id=\"f-flight\""));
    assert!(r.body.contains("autocomplete=\"off\""));
}

#[tokio::test]
async fn a_short_mrz_is_an_error_on_the_mrz_field() {
    let k = kiosk().await;
    let mut a = Agent::new(&k);
    a.start("ko").await;
    let r = a
        .submit("/passport", &[("mrz", "P<GBRERIKSSON"), ("action", "read")])
        .await;
    assert!(r.by_id("e-mrz").is_some(), "{}", r.body);
    assert!(r.body.contains("<html lang=\"ko\">"));
}

#[tokio::test]
async fn a_missing_flight_is_reported_on_the_flight_field_with_the_other_values_kept() {
    let k = kiosk().await;
    let mut a = Agent::new(&k);
    through_party(&mut a, "en").await;
    let r = a
        .submit(
            "/trip",
            &[
                ("flight", ""),
                ("origin", "LHR"),
                ("address_in_japan", ADDRESS),
                ("phone", PHONE),
                ("occupation", OCCUPATION),
                ("arrival_date", ""),
                ("action", "next"),
            ],
        )
        .await;
    assert_eq!(
        r.by_id("e-flight").as_deref(),
        Some(t(Lang::En, "kiosk-error-required").as_str())
    );
    assert!(
        r.body.contains(ADDRESS) && r.body.contains(PHONE),
        "values kept"
    );
    let r = a
        .submit(
            "/trip",
            &[
                ("flight", "123456"),
                ("origin", "LHR"),
                ("address_in_japan", ADDRESS),
                ("phone", PHONE),
                ("occupation", OCCUPATION),
                ("arrival_date", "2999-01-01"),
                ("action", "next"),
            ],
        )
        .await;
    assert_eq!(
        r.by_id("e-flight").as_deref(),
        Some(t(Lang::En, "kiosk-error-flight").as_str())
    );
    assert_eq!(
        r.by_id("e-arrival_date").as_deref(),
        Some(t(Lang::En, "kiosk-error-arrival-future").as_str())
    );
}

#[tokio::test]
async fn an_empty_party_and_unanswered_questions_are_refused() {
    let k = kiosk().await;
    let mut a = Agent::new(&k);
    through_party(&mut a, "zh-Hant").await;
    let r = a
        .submit("/questions", &[("q-prohibited", "no"), ("action", "next")])
        .await;
    assert!(r.by_id("f-q-commercial").is_some());
    assert!(r.body.contains(&t(Lang::ZhHant, "kiosk-error-answer")));
    let r = a
        .submit(
            "/party",
            &[
                ("aged_20_plus", "0"),
                ("aged_6_to_19", "0"),
                ("under_6", "0"),
                ("action", "next"),
            ],
        )
        .await;
    assert_eq!(
        r.by_id("e-party").as_deref(),
        Some(t(Lang::ZhHant, "kiosk-error-party").as_str())
    );
    let r = a
        .submit(
            "/party",
            &[
                ("aged_20_plus", "-1"),
                ("aged_6_to_19", "x"),
                ("under_6", "0"),
                ("action", "next"),
            ],
        )
        .await;
    assert!(r.by_id("e-aged_20_plus").is_some() && r.by_id("e-aged_6_to_19").is_some());
}

async fn on_items(k: &Kiosk) -> Agent<'_> {
    let mut a = Agent::new(k);
    through_party(&mut a, "en").await;
    let ans = answers(&[]);
    let mut f: Vec<(&str, &str)> = ans.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    f.push(("action", "next"));
    a.submit("/questions", &f).await;
    a.submit("/items", &[("action", "add")]).await;
    a
}

#[tokio::test]
async fn zero_and_negative_quantities_are_refused_on_the_quantity_field() {
    let k = kiosk().await;
    let mut a = on_items(&k).await;
    for q in ["0", "-3"] {
        let r = a
            .submit(
                "/items",
                &[
                    ("item-0-category", "clothing"),
                    ("item-0-quantity", q),
                    ("item-0-size", ""),
                    ("item-0-amount", "100"),
                    ("item-0-currency", "USD"),
                    ("action", "next"),
                ],
            )
            .await;
        assert_eq!(
            r.by_id("e-item-0-quantity").as_deref(),
            Some(t(Lang::En, "kiosk-error-quantity").as_str()),
            "quantity {q}"
        );
        assert!(
            r.body.contains(&format!("value=\"{q}\"")),
            "typed value kept"
        );
    }
}

#[tokio::test]
async fn an_unknown_currency_is_refused_on_the_currency_field() {
    let k = kiosk().await;
    let mut a = on_items(&k).await;
    for cur in ["XYZ", "usd"] {
        let r = a
            .submit(
                "/items",
                &[
                    ("item-0-category", "clothing"),
                    ("item-0-quantity", "1"),
                    ("item-0-amount", "100"),
                    ("item-0-currency", cur),
                    ("action", "next"),
                ],
            )
            .await;
        assert!(
            r.body.contains(&t(Lang::En, "kiosk-error-currency")),
            "currency {cur}: {}",
            r.body
        );
        assert!(r.body.contains("href=\"#f-item-0-currency\""));
    }
}

#[tokio::test]
async fn rows_are_added_and_removed_without_javascript() {
    let k = kiosk().await;
    let mut a = on_items(&k).await;
    let r = a
        .submit(
            "/items",
            &[
                ("item-0-category", "wine"),
                ("item-0-quantity", "2"),
                ("item-0-size", "750"),
                ("item-0-amount", "30"),
                ("item-0-currency", "EUR"),
                ("action", "add"),
            ],
        )
        .await;
    assert!(r.body.contains("id=\"item-1\""));
    let r = a
        .submit(
            "/items",
            &[
                ("item-0-category", "wine"),
                ("item-0-quantity", "2"),
                ("item-0-size", "750"),
                ("item-0-amount", "30"),
                ("item-0-currency", "EUR"),
                ("action", "remove-0"),
            ],
        )
        .await;
    assert!(r.body.contains("id=\"item-0\"") && !r.body.contains("id=\"item-1\""));
    assert!(
        !r.body.contains("value=\"750\""),
        "the first row was removed"
    );
    // A volume is required for wine.
    let r = a
        .submit(
            "/items",
            &[
                ("item-0-category", "wine"),
                ("item-0-quantity", "2"),
                ("item-0-amount", "30"),
                ("item-0-currency", "EUR"),
                ("action", "next"),
            ],
        )
        .await;
    assert_eq!(
        r.by_id("e-item-0-size").as_deref(),
        Some(t(Lang::En, "kiosk-error-size-required").as_str())
    );
}

async fn verify(k: &Kiosk, a: &Agent<'_>) -> shared::token::Verified {
    let cookie = a.cookie.clone().unwrap();
    let token = k
        .state
        .sessions
        .with(&cookie, |s| s.issued.as_ref().map(|i| i.token.clone()))
        .flatten()
        .unwrap();
    let mut b = Agent::new(k);
    let jwks: Jwks = serde_json::from_str(&b.get("/v1/jwks").await.body).unwrap();
    let mut trust = TrustList::new();
    trust.add_jwks(&jwks).unwrap();
    decode_and_verify(
        &token,
        &trust,
        VerifyOptions {
            now: k.clock.unix_now(),
            skew_secs: 60,
        },
    )
    .unwrap()
}

trait UnixNow {
    fn unix_now(&self) -> i64;
}
impl UnixNow for shared::clock::FixedClock {
    fn unix_now(&self) -> i64 {
        use shared::clock::Clock;
        self.unix()
    }
}

#[tokio::test]
async fn a_green_declaration_issues_a_token_signed_by_the_kiosk_and_logs_it() {
    let k = kiosk().await;
    let mut a = Agent::new(&k);
    let r = declare(&mut a, "en", &[], &[]).await;
    assert!(r.body.contains("data-lane=\"green\""));
    assert!(r.body.contains(&t(Lang::En, "kiosk-result-green")));
    assert!(r.body.contains("<svg"), "inline SVG QR");
    let v = verify(&k, &a).await;
    assert_eq!(v.claims.iss, "kiosk:T1");
    assert_eq!(v.claims.summary.flight, FLIGHT);
    assert!(v.claims.exp - v.claims.iat <= 30 * 24 * 3600);
    assert_eq!(k.state.issuer.issued_count().await.unwrap(), 1);
    // Confirming twice does not issue twice.
    let r = a.post("/review", &[("action", "confirm")]).await;
    assert_eq!(r.location(), "/result");
    assert_eq!(k.state.issuer.issued_count().await.unwrap(), 1);
    // The receipt view fits 80 mm.
    let p = a.get("/result/print").await;
    assert!(p.body.contains("@page { size: 80mm auto; margin: 0 }"));
    assert!(!p.body.contains(SURNAME) && !p.body.contains(PASSPORT_NO));
}

#[tokio::test]
async fn a_red_declaration_gives_reasons_and_duty_in_korean() {
    let k = kiosk().await;
    let mut a = Agent::new(&k);
    let r = declare(
        &mut a,
        "ko",
        &["over-allowance"],
        &[
            ["whisky", "5", "700", "300", "USD"],
            ["watches_jewellery", "1", "", "250000", "JPY"],
        ],
    )
    .await;
    assert!(r.body.contains("data-lane=\"red\""));
    assert!(r.body.contains(&t(Lang::Ko, "kiosk-result-red")));
    assert!(r.body.contains("<html lang=\"ko\">"));
    assert!(r.body.contains(&t(Lang::Ko, "category-whisky")));
    assert!(r.body.contains("엔"), "duty in yen, Korean wording");
    let v = verify(&k, &a).await;
    assert_eq!(v.claims.summary.declared.items.len(), 2);
}

/// Every URL a passenger could reach, requested with the old cookie: no typed value
/// may appear in any body.
async fn assert_nothing_left(k: &Kiosk, old_cookie: &str) {
    let mut a = Agent::new(k);
    for path in STEPS.iter().chain(["/", "/timeout"].iter()) {
        a.cookie = Some(old_cookie.to_owned());
        let r = a.get(path).await;
        for v in [
            SURNAME,
            GIVEN,
            PASSPORT_NO,
            FLIGHT,
            ADDRESS,
            PHONE,
            OCCUPATION,
            "L898902",
        ] {
            assert!(!r.body.contains(v), "{path} still shows {v}");
        }
        if *path != "/" && *path != "/timeout" {
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
            assert_eq!(r.location(), "/");
        }
    }
}

#[tokio::test]
async fn after_finish_no_earlier_answer_appears_anywhere() {
    let k = kiosk().await;
    let mut a = Agent::new(&k);
    declare(&mut a, "en", &[], &[]).await;
    let old = a.cookie.clone().unwrap();
    let r = a.post("/finish", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/");
    assert_eq!(
        r.headers.get("clear-site-data").unwrap(),
        "\"cache\", \"cookies\", \"storage\""
    );
    assert!(r.set_cookie().unwrap().contains("Max-Age=0"));
    assert_eq!(k.state.sessions.len(), 0, "the session was wiped");
    assert_nothing_left(&k, &old).await;
}

#[tokio::test]
async fn after_an_idle_timeout_no_earlier_answer_appears_anywhere() {
    let k = kiosk().await;
    let mut a = Agent::new(&k);
    through_party(&mut a, "en").await;
    let old = a.cookie.clone().unwrap();
    assert!(a.get("/review").await.body.contains(ADDRESS));
    k.clock.advance(time::Duration::seconds(121));
    assert_eq!(
        k.state.sessions.sweep(),
        1,
        "the sweeper wipes the idle session"
    );
    assert_nothing_left(&k, &old).await;
    let r = a.get("/timeout").await;
    assert!(r.headers.get("clear-site-data").is_some());
    assert!(r.body.contains(&t(Lang::Ja, "kiosk-timeout-message")));
}

#[tokio::test]
async fn a_short_configured_timeout_ends_the_session_at_lookup_and_the_page_counts_down() {
    let k = kiosk_with(|c| c.idle = std::time::Duration::from_secs(30)).await;
    let mut a = Agent::new(&k);
    let r = a.start("en").await;
    assert!(
        r.body.contains("content=\"30;url=/timeout\""),
        "no-JS fallback"
    );
    assert!(r.body.contains("var left = 30;"), "countdown script");
    k.clock.advance(time::Duration::seconds(29));
    assert_eq!(a.get("/passport").await.status, StatusCode::OK);
    k.clock.advance(time::Duration::seconds(30));
    assert_eq!(a.get("/passport").await.location(), "/");
}

#[tokio::test]
async fn every_response_is_no_store_and_pages_carry_a_csp_with_their_script_nonce() {
    let k = kiosk().await;
    let mut a = Agent::new(&k);
    declare(&mut a, "en", &[], &[]).await;
    for path in STEPS
        .iter()
        .chain(["/static/kiosk.css", "/v1/jwks", "/healthz", "/nope"].iter())
    {
        let r = a.get(path).await;
        assert_eq!(
            r.headers.get("cache-control").unwrap(),
            "no-store",
            "{path}"
        );
        let ct = r
            .headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        if ct.starts_with("text/html") {
            let csp = r
                .headers
                .get("content-security-policy")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            assert!(
                csp.contains("default-src 'none'")
                    && csp.contains("frame-ancestors 'none'")
                    && csp.contains("form-action 'self'"),
                "{csp}"
            );
            let nonce = csp
                .split("'nonce-")
                .nth(1)
                .unwrap()
                .split('\'')
                .next()
                .unwrap();
            if r.body.contains("<script") {
                assert!(
                    r.body.contains(&format!("<script nonce=\"{nonce}\">")),
                    "{path}"
                );
            }
        }
    }
    let one = a
        .get("/passport")
        .await
        .headers
        .get("content-security-policy")
        .cloned();
    let two = a
        .get("/passport")
        .await
        .headers
        .get("content-security-policy")
        .cloned();
    assert_ne!(one, two, "a fresh nonce per request");
}

#[tokio::test]
async fn the_machine_endpoints_answer() {
    let k = kiosk().await;
    let mut a = Agent::new(&k);
    let jwks: serde_json::Value = serde_json::from_str(&a.get("/v1/jwks").await.body).unwrap();
    assert_eq!(jwks["keys"][0]["iss"], "kiosk:T1");
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    let rev: serde_json::Value =
        serde_json::from_str(&a.get("/v1/revocations?since=7").await.body).unwrap();
    let epoch = rev["epoch"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        epoch.len(),
        32,
        "the feed's epoch: 16 random bytes in hex: {rev}"
    );
    assert_eq!(
        rev,
        serde_json::json!({"revocations": [], "next_since": 7, "epoch": epoch})
    );
    assert_eq!(a.get("/healthz").await.status, StatusCode::OK);
    assert!(k.dir.path().join("kiosk/kiosk.db").exists());
    assert!(k.dir.path().join("binding.key").exists());
}

#[tokio::test]
async fn oversized_input_is_refused_without_a_500() {
    let k = kiosk().await;
    let mut a = Agent::new(&k);
    a.start("en").await;
    let long = "A".repeat(300);
    let r = a.post("/trip", &[("flight", long.as_str())]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let huge = "A".repeat(40 * 1024);
    let r = a.post("/trip", &[("flight", huge.as_str())]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

/// A GET over a real TCP connection: status, lower-cased head, body.
async fn raw_get(
    addr: std::net::SocketAddr,
    path: &str,
    cookie: Option<&str>,
) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let cookie = cookie
        .map(|c| format!("Cookie: kiosk_session={c}\r\n"))
        .unwrap_or_default();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{cookie}Connection: close\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_owned())
}

#[tokio::test]
async fn unknown_paths_answer_404_as_a_page_in_the_session_language_and_as_problem_json_under_the_api()
 {
    let k = kiosk().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(kiosk::serve(listener, k.state.clone(), async {
        let _ = stopped.await;
    }));
    let korean = k.state.sessions.create(Lang::Ko);
    k.state.sessions.with(&korean, |s| s.started = true);

    // Without a session: the page in Japanese, the start page's language.
    let (status, head, body) = raw_get(addr, "/no-such-page", None).await;
    assert_eq!(status, 404, "{head}");
    assert!(
        head.contains("content-type: text/html; charset=utf-8"),
        "{head}"
    );
    assert!(head.contains("content-security-policy:"), "{head}");
    assert!(head.contains("cache-control: no-store"), "{head}");
    assert!(body.contains("<html lang=\"ja\">"), "{body}");
    assert!(
        body.contains(&t(Lang::Ja, "kiosk-error-not-found")),
        "{body}"
    );
    assert!(
        body.contains("href=\"/\""),
        "a way back to the start: {body}"
    );

    // In a Korean session: the page in Korean.
    let (status, head, body) = raw_get(addr, "/passport/extra", Some(&korean)).await;
    assert_eq!(status, 404, "{head}");
    assert!(head.contains("content-type: text/html"), "{head}");
    assert!(body.contains("<html lang=\"ko\">"), "{body}");
    assert!(
        body.contains(&t(Lang::Ko, "kiosk-error-not-found")),
        "{body}"
    );

    // Under the machine endpoints: a problem document, whatever the session.
    for cookie in [None, Some(korean.as_str())] {
        let (status, head, body) = raw_get(addr, "/v1/no-such-endpoint", cookie).await;
        assert_eq!(status, 404, "{head}");
        assert!(
            head.contains("content-type: application/problem+json"),
            "{head}"
        );
        let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["status"], 404, "{body}");
    }

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_refused_form_is_shown_in_the_session_language() {
    let k = kiosk().await;
    let mut a = Agent::new(&k);
    a.start("zh-Hant").await;
    let r = a
        .post_raw(
            "/trip",
            &[("csrf", "AAAAAAAAAAAAAAAAAAAAAA"), ("flight", FLIGHT)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("lang=\"zh-Hant\""), "{}", r.body);
    assert!(
        r.body.contains(&t(Lang::ZhHant, "kiosk-error-forbidden")),
        "{}",
        r.body
    );
}
