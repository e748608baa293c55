//! The passenger's web app (the wizard in personal-phone mode, docs/wizard.md) over
//! real HTTP: mobile-api served on 127.0.0.1, a client that carries its cookie by hand
//! and follows each 303 itself. A declaration in English (MRZ) and one in Korean (the
//! photo page typed) to the result page, whose data block is parsed and whose token
//! verifies with the published keys; an edit from the device (same origin only) gives
//! a new QR and supersedes the old one; a bad MRZ check digit is named on its field;
//! Accept-Language picks the language; limits and the CSRF check hold.

use reqwest::header::HeaderMap;
use reqwest::redirect::Policy;
use serde_json::Value;
use shared::domain::Sex;
use shared::i18n::{Lang, t};
use shared::mrz::{Td3, build_td3};
use shared::token::{Jwks, TrustList, VerifyOptions, decode_and_verify};

/// Every page must stay under this many bytes (the app's first-load budget is 60 KB
/// transferred; these pages are served uncompressed, so this is the stricter bound).
const PAGE_BUDGET: usize = 60 * 1024;

struct Served {
    base: String,
    _stop: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

async fn serve() -> Served {
    serve_with(|_| {}).await
}

async fn serve_with(f: impl FnOnce(&mut mobile_api::Config)) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let mut config = mobile_api::Config::for_tests(dir.path());
    f(&mut config);
    let state = mobile_api::build(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(mobile_api::serve(listener, state, async {
        let _ = rx.await;
    }));
    Served {
        base,
        _stop: tx,
        _dir: dir,
    }
}

struct Page {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    /// The text of the element with `id`, up to its first closing tag.
    fn by_id(&self, id: &str) -> Option<String> {
        let at = self.body.find(&format!("id=\"{id}\""))?;
        let start = self.body[at..].find('>')? + at + 1;
        let end = self.body[start..].find("</")? + start;
        Some(self.body[start..end].to_owned())
    }
    /// The `value` attribute of the input named `name`.
    fn value_of(&self, name: &str) -> Option<String> {
        let at = self.body.find(&format!("name=\"{name}\""))?;
        let rest = &self.body[at..];
        let v = rest.find("value=\"")? + 7;
        Some(rest[v..].split('"').next()?.to_owned())
    }
}

/// A phone: its session cookie, the CSRF token of the last page, its language header.
struct Phone<'a> {
    s: &'a Served,
    http: reqwest::Client,
    cookie: Option<String>,
    csrf: String,
    accept_language: &'static str,
}

impl<'a> Phone<'a> {
    fn new(s: &'a Served, accept_language: &'static str) -> Self {
        Phone {
            s,
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            cookie: None,
            csrf: String::new(),
            accept_language,
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let mut req = req.header("accept-language", self.accept_language);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", format!("wizard_session={c}"));
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        for c in headers.get_all("set-cookie") {
            let c = c.to_str().unwrap();
            if let Some(v) = c.strip_prefix("wizard_session=") {
                let v = v.split(';').next().unwrap();
                self.cookie = (!v.is_empty()).then(|| v.to_owned());
            }
        }
        let body = r.text().await.unwrap();
        assert!(status < 500, "{status}: {body}");
        let page = Page {
            status,
            headers,
            body,
        };
        if let Some(v) = page.value_of("csrf") {
            self.csrf = v;
        }
        page
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.s.base));
        self.send(req).await
    }

    /// POST a form with the page's CSRF token.
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf.clone();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all, &[]).await
    }

    async fn post_raw(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let mut req = self
            .http
            .post(format!("{}{path}", self.s.base))
            .form(fields);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    /// POST, expect a 303, follow it.
    /// Answer "no" to the seven questions and go on.
    async fn answer_all_no(&mut self) -> Page {
        let names: Vec<String> = ANSWERS_NO.iter().map(|q| format!("q-{q}")).collect();
        let mut f: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "no")).collect();
        f.push(("action", "next"));
        self.submit("/questions", &f).await
    }

    async fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let r = self.post(path, fields).await;
        assert_eq!(r.status, 303, "POST {path}: {}", r.body);
        let to = r.header("location").to_owned();
        self.get(&to).await
    }
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

/// Today in Japan (the rules profile's UTC+9).
fn today_in_japan() -> String {
    let now = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+9));
    shared::domain::format_date(now.date())
}

const ANSWERS_NO: [&str; 7] = [
    "prohibited",
    "over-allowance",
    "commercial",
    "for-others",
    "means-of-payment",
    "precious-metal",
    "unaccompanied",
];

/// From the start page through the questions, the passport either from the MRZ or
/// typed; ends on the items page.
async fn to_items(p: &mut Phone<'_>, lang: &str, typed: bool) -> Page {
    let fresh = p.cookie.is_none();
    let r = p.get("/").await;
    assert_eq!(r.status, 200);
    if fresh {
        assert!(r.header("set-cookie").contains("HttpOnly; SameSite=Strict"));
    } else {
        assert!(
            r.headers.get("set-cookie").is_none(),
            "a phone keeps its session"
        );
    }
    let r = p.submit("/start", &[("lang", lang)]).await;
    assert!(r.body.contains("id=\"f-mrz\""), "{}", r.body);
    assert!(r.body.contains("id=\"typed-form\""), "the photo-page form");
    if typed {
        let r = p
            .submit(
                "/passport",
                &[
                    ("action", "typed"),
                    ("p-surname", "Kim"),
                    ("p-given_names", "Minji"),
                    ("p-nationality", "KOR"),
                    ("p-birth_date", "1990-04-01"),
                    ("p-sex", "F"),
                    ("p-passport_number", "M12345678"),
                    ("p-passport_expiry", "2034-04-01"),
                ],
            )
            .await;
        assert!(r.body.contains("id=\"f-flight\""), "{}", r.body);
    } else {
        let m = mrz();
        let r = p
            .submit("/passport", &[("mrz", m.as_str()), ("action", "read")])
            .await;
        assert!(r.body.contains("ERIKSSON"), "shown for confirmation");
        p.submit("/passport", &[("mrz", m.as_str()), ("action", "next")])
            .await;
    }
    let r = p.get("/trip").await;
    let arrival = r.value_of("arrival_date").unwrap();
    assert_eq!(
        arrival,
        today_in_japan(),
        "arrival defaults to today in Japan"
    );
    let r = p
        .submit(
            "/trip",
            &[
                ("flight", "KE703"),
                ("origin", "ICN"),
                ("arrival_date", arrival.as_str()),
                ("address_in_japan", "Hotel Sakura 1-2-3 Ginza Chuo-ku Tokyo"),
                ("phone", "+81 90 1234 5678"),
                ("occupation", "Engineer"),
                ("action", "next"),
            ],
        )
        .await;
    assert!(r.body.contains("id=\"f-aged_20_plus\""), "{}", r.body);
    p.submit(
        "/party",
        &[
            ("aged_20_plus", "1"),
            ("aged_6_to_19", "0"),
            ("under_6", "1"),
            ("action", "next"),
        ],
    )
    .await;
    let r = p.answer_all_no().await;
    assert!(r.body.contains("action=\"/items\""), "{}", r.body);
    r
}

/// Two bottles of whisky and a toy for the child, to the review.
async fn goods_to_review(p: &mut Phone<'_>) -> Page {
    p.submit("/items", &[("action", "add")]).await;
    let r = p
        .submit(
            "/items",
            &[("item-0-category", "whisky"), ("action", "add")],
        )
        .await;
    assert!(
        r.body.contains("id=\"f-item-0-for_child\""),
        "the child checkbox where the party has a child under 6"
    );
    // A bottle of whisky and a toy for the child, kept while recalculating.
    let items = |action: &'static str| {
        vec![
            ("item-0-category", "whisky"),
            ("item-0-quantity", "2"),
            ("item-0-size", "700"),
            ("item-0-amount", "60"),
            ("item-0-currency", "USD"),
            ("item-1-category", "toys_games"),
            ("item-1-quantity", "1"),
            ("item-1-amount", "80"),
            ("item-1-currency", "USD"),
            ("item-1-for_child", "yes"),
            ("action", action),
        ]
    };
    let r = p.submit("/items", &items("stay")).await;
    // "Recalculate" without JavaScript: the rows are kept and the estimate shown.
    assert!(r.body.contains("id=\"lane-preview\""), "{}", r.body);
    assert!(r.body.contains("id=\"recalculate\""));
    let r = p.submit("/items", &items("next")).await;
    assert!(r.body.contains("action=\"/review\""), "{}", r.body);
    r
}

/// The data block of a result page.
fn data_block(r: &Page) -> Value {
    let json = r.by_id("issued-declaration").expect("the data block");
    serde_json::from_str(&json).unwrap()
}

async fn trust(p: &mut Phone<'_>) -> TrustList {
    let jwks: Jwks = serde_json::from_str(&p.get("/v1/jwks").await.body).unwrap();
    let mut trust = TrustList::new();
    assert!(trust.add_jwks(&jwks).unwrap() >= 1);
    trust
}

fn verify(token: &str, trust: &TrustList) -> shared::token::Verified {
    decode_and_verify(
        token,
        trust,
        VerifyOptions {
            now: time::OffsetDateTime::now_utc().unix_timestamp(),
            skew_secs: 60,
        },
    )
    .unwrap()
}

fn nonce_of(csp: &str) -> String {
    csp.split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("a nonce in the CSP")
        .to_owned()
}

/// The checks every result page passes; returns its data block.
async fn check_result(p: &mut Phone<'_>, r: &Page, lang: Lang) -> Value {
    assert_eq!(r.status, 200);
    assert!(r.header("cache-control").contains("no-store"));
    assert!(r.body.len() < PAGE_BUDGET, "{} bytes", r.body.len());
    let nonce = nonce_of(r.header("content-security-policy"));
    assert!(
        r.body.contains(&format!(
            "<script src=\"/app.js\" nonce=\"{nonce}\" defer></script>"
        )),
        "the app shell's script with this response's nonce"
    );
    assert!(r.body.contains(&format!("<html lang=\"{}\"", lang.code())));
    assert!(r.body.contains(&t(lang, "kiosk-phone-show-at-gate")));
    assert!(r.body.contains(&t(lang, "kiosk-phone-no-personal-data")));
    assert!(r.body.contains("id=\"qr\"><svg"), "the QR inline as SVG");
    assert!(
        !r.body.contains("id=\"print\""),
        "no print button on a phone"
    );
    assert!(r.body.contains("href=\"/my\""), "a link to My declarations");
    let d = data_block(r);
    for k in [
        "declaration_id",
        "edit_token",
        "token",
        "qr_svg",
        "expires_at",
        "arrival_date",
        "lang",
    ] {
        assert!(!d[k].is_null(), "{k} in {d}");
    }
    assert_eq!(d["lang"], lang.code());
    assert_eq!(d["arrival_date"], today_in_japan());
    assert!(d["qr_svg"].as_str().unwrap().starts_with("<svg"));
    let token = d["token"].as_str().unwrap();
    assert!(token.starts_with("CD1:"));
    let trust = trust(p).await;
    let v = verify(token, &trust);
    assert_eq!(v.claims.iss, "mobile-api");
    assert_eq!(Some(v.claims.exp), d["expires_at"].as_i64());
    // No name or passport number in the QR's text, the URL or the cookie.
    assert!(!token.contains("ERIKSSON") && !token.contains("KIM"));
    // The same declaration through the API, with the edit token from the block.
    let id = d["declaration_id"].as_str().unwrap();
    let api = reqwest::Client::new()
        .get(format!("{}/v1/declarations/{id}", p.s.base))
        .bearer_auth(d["edit_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);
    let api: Value = api.json().await.unwrap();
    assert_eq!(api["qr"]["text"], token);
    d
}

#[tokio::test]
async fn a_declaration_in_english_from_the_first_page_to_a_qr_that_verifies() {
    let s = serve().await;
    let mut p = Phone::new(&s, "en-GB,en;q=0.9");
    let r = p.get("/").await;
    assert!(r.body.contains("<html lang=\"en\""), "{}", r.body);
    to_items(&mut p, "en", false).await;
    let r = goods_to_review(&mut p).await;
    assert!(r.body.contains("id=\"estimate\""));
    assert!(
        r.body.contains(&t(Lang::En, "kiosk-review-edit")),
        "Change links"
    );
    assert!(r.body.contains("href=\"/trip\""));
    assert!(
        r.body.contains("id=\"estimate-data\""),
        "the live script's data"
    );
    let r = p.submit("/review", &[("action", "confirm")]).await;
    let d = check_result(&mut p, &r, Lang::En).await;
    assert_eq!(d["edit_token"].as_str().unwrap().len(), 22);
    // The whisky is over the allowance for one adult? Two 700 ml bottles are within
    // three; the lane and the duty lines are the rules' (the API's) own.
    assert!(r.body.contains("id=\"verdict\""));
    // "Done" ends the session and goes to the device's list, keeping its storage.
    let done = p.post("/finish", &[]).await;
    assert_eq!(done.status, 303);
    assert_eq!(done.header("location"), "/my");
    assert!(done.headers.get("clear-site-data").is_none());
    let again = p.get("/result").await;
    assert_eq!(again.status, 303, "the session is gone");
}

#[tokio::test]
async fn a_declaration_in_korean_with_the_photo_page_typed() {
    let s = serve().await;
    let mut p = Phone::new(&s, "ko-KR,ko;q=0.9,en;q=0.5");
    let r = p.get("/").await;
    assert!(
        r.body.contains("<html lang=\"ko\""),
        "Accept-Language picks Korean"
    );
    to_items(&mut p, "ko", true).await;
    let r = goods_to_review(&mut p).await;
    assert!(r.body.contains("KIM"), "the typed passport on the review");
    let r = p.submit("/review", &[("action", "confirm")]).await;
    check_result(&mut p, &r, Lang::Ko).await;
}

#[tokio::test]
async fn an_edit_from_the_device_gives_a_new_qr_and_supersedes_the_old_one() {
    let s = serve().await;
    let mut p = Phone::new(&s, "en");
    to_items(&mut p, "en", false).await;
    goods_to_review(&mut p).await;
    let r = p.submit("/review", &[("action", "confirm")]).await;
    let first = check_result(&mut p, &r, Lang::En).await;
    let id = first["declaration_id"].as_str().unwrap().to_owned();
    let edit_token = first["edit_token"].as_str().unwrap().to_owned();
    let old_token = first["token"].as_str().unwrap().to_owned();

    // The offline /my page posts the form: a new phone session, same origin.
    let mut q = Phone::new(&s, "en");
    let form = [
        ("declaration_id", id.as_str()),
        ("edit_token", edit_token.as_str()),
        ("lang", "ja"),
    ];
    // Without an Origin (and no Sec-Fetch-Site), or from another site: refused.
    let r = q.post_raw("/declarations/edit", &form, &[]).await;
    assert_eq!(r.status, 403);
    let r = q
        .post_raw(
            "/declarations/edit",
            &form,
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("<html"), "an HTML page, not a 500");
    // A wrong edit token: not found, whatever the origin.
    let origin = s.base.clone();
    let wrong = [
        ("declaration_id", id.as_str()),
        ("edit_token", "AAAAAAAAAAAAAAAAAAAAAA"),
    ];
    let r = q
        .post_raw("/declarations/edit", &wrong, &[("origin", origin.as_str())])
        .await;
    assert_eq!(r.status, 404);
    // The right one, from this origin: the answers are loaded, on to the review.
    let r = q
        .post_raw("/declarations/edit", &form, &[("origin", origin.as_str())])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), "/review");
    assert!(!r.header("location").contains(&edit_token));
    let review = q.get("/review").await;
    assert!(review.body.contains("<html lang=\"ja\""));
    assert!(review.body.contains("id=\"amending\""), "{}", review.body);
    assert!(review.body.contains("ERIKSSON"));
    assert!(
        !review.body.contains(&edit_token),
        "the edit token stays server-side"
    );
    // Change the goods (one bottle more), then confirm: the same declaration, a new QR.
    let items = q.get("/items").await;
    assert_eq!(items.value_of("item-0-quantity").as_deref(), Some("2"));
    q.submit(
        "/items",
        &[
            ("item-0-category", "whisky"),
            ("item-0-quantity", "3"),
            ("item-0-size", "700"),
            ("item-0-amount", "90"),
            ("item-0-currency", "USD"),
            ("item-1-category", "toys_games"),
            ("item-1-quantity", "1"),
            ("item-1-amount", "80"),
            ("item-1-currency", "USD"),
            ("item-1-for_child", "yes"),
            ("action", "next"),
        ],
    )
    .await;
    let r = q.submit("/review", &[("action", "confirm")]).await;
    let second = check_result(&mut q, &r, Lang::Ja).await;
    assert_eq!(second["declaration_id"], first["declaration_id"]);
    assert_eq!(second["edit_token"], first["edit_token"]);
    assert_ne!(second["token"], first["token"]);

    // The old token is superseded: in the revocation feed every gate follows.
    let trust = trust(&mut q).await;
    let old_cti = verify(&old_token, &trust).claims.cti;
    use base64::Engine as _;
    let old_cti = base64::engine::general_purpose::STANDARD.encode(old_cti);
    let feed: Value = serde_json::from_str(&q.get("/v1/revocations?since=0").await.body).unwrap();
    let entries = feed["revocations"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["cti"] == old_cti.as_str() && e["reason"] == "superseded"),
        "{feed}"
    );
    let api: Value = reqwest::Client::new()
        .get(format!("{}/v1/declarations/{id}", s.base))
        .bearer_auth(&edit_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api["revision"], 2);
    assert_eq!(api["declaration"]["items"][0]["quantity"], 3);
}

#[tokio::test]
async fn an_edit_confirmed_after_the_declaration_changed_elsewhere_is_a_409_page_in_the_language() {
    // The passenger opens a declaration in the wizard; meanwhile it is amended through
    // the API (another device, with the edit token); confirming the wizard's copy must
    // not overwrite that unseen: a 409 page in the session's language leading back to
    // "My declarations", and the API's amendment stands. Once per language.
    let s = serve().await;
    let mut p = Phone::new(&s, "en");
    to_items(&mut p, "en", false).await;
    goods_to_review(&mut p).await;
    let r = p.submit("/review", &[("action", "confirm")]).await;
    let first = check_result(&mut p, &r, Lang::En).await;
    let id = first["declaration_id"].as_str().unwrap().to_owned();
    let edit_token = first["edit_token"].as_str().unwrap().to_owned();
    let api = reqwest::Client::new();
    let url = format!("{}/v1/declarations/{id}", s.base);
    let origin = s.base.clone();
    for (n, lang) in [Lang::Ja, Lang::En, Lang::ZhHans, Lang::ZhHant, Lang::Ko]
        .into_iter()
        .enumerate()
    {
        let mut q = Phone::new(&s, "en");
        let form = [
            ("declaration_id", id.as_str()),
            ("edit_token", edit_token.as_str()),
            ("lang", lang.code()),
        ];
        let r = q
            .post_raw("/declarations/edit", &form, &[("origin", origin.as_str())])
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let review = q.get("/review").await;
        assert!(review.body.contains("id=\"amending\""), "{}", review.body);

        // Meanwhile, through the API: whisky bottles 10 + n.
        let current: Value = api
            .get(&url)
            .bearer_auth(&edit_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut body = current["declaration"].clone();
        let bottles = 10 + n;
        body["items"][0]["quantity"] = bottles.into();
        let put = api
            .put(&url)
            .bearer_auth(&edit_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 200, "{}", put.text().await.unwrap());
        let put: Value = put.json().await.unwrap();
        let revision = put["revision"].clone();
        assert_eq!(revision, current["revision"].as_u64().unwrap() + 1);

        // The wizard's (stale) copy confirmed: refused, in the session's language.
        let r = q.post("/review", &[("action", "confirm")]).await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(
            r.body.contains(&format!("<html lang=\"{}\"", lang.code())),
            "{}",
            r.body
        );
        assert!(
            r.body.contains(&t(lang, "kiosk-error-conflict")),
            "{lang:?}: {}",
            r.body
        );
        assert!(r.body.contains("href=\"/my\""), "a way back to /my");
        assert!(!r.body.contains(&t(lang, "kiosk-error-not-found")));
        assert!(!r.body.contains(&edit_token));

        // Nothing lost: the API's amendment stands, its QR still the current one.
        let now: Value = api
            .get(&url)
            .bearer_auth(&edit_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(now["revision"], revision);
        assert_eq!(now["declaration"]["items"][0]["quantity"], bottles);
        assert_eq!(now["qr"]["text"], put["qr"]["text"]);
    }

    // Opened again (as from /my), the latest version confirms normally.
    let mut q = Phone::new(&s, "en");
    let form = [
        ("declaration_id", id.as_str()),
        ("edit_token", edit_token.as_str()),
    ];
    let r = q
        .post_raw("/declarations/edit", &form, &[("origin", origin.as_str())])
        .await;
    assert_eq!(r.status, 303);
    let items = q.get("/items").await;
    assert_eq!(items.value_of("item-0-quantity").as_deref(), Some("14"));
    q.get("/review").await;
    let r = q.submit("/review", &[("action", "confirm")]).await;
    let again = check_result(&mut q, &r, Lang::En).await;
    assert_eq!(again["declaration_id"], first["declaration_id"]);
}

#[tokio::test]
async fn a_bad_check_digit_in_the_pasted_mrz_names_the_field_in_korean() {
    let s = serve().await;
    let mut p = Phone::new(&s, "ko");
    p.get("/").await;
    p.submit("/start", &[("lang", "ko")]).await;
    let m = mrz();
    let (l1, l2) = m.split_once('\n').unwrap();
    let mut l2: Vec<char> = l2.chars().collect();
    l2[9] = if l2[9] == '1' { '2' } else { '1' };
    let bad = format!("{l1}\n{}", l2.into_iter().collect::<String>());
    let r = p
        .submit("/passport", &[("mrz", bad.as_str()), ("action", "read")])
        .await;
    assert_eq!(
        r.by_id("e-passport_number").as_deref(),
        Some(t(Lang::Ko, "kiosk-error-mrz-check-digit").as_str()),
        "{}",
        r.body
    );
    assert!(r.body.contains("<html lang=\"ko\""));
    // A typed photo page with a bad field: named on that field, values kept.
    let r = p
        .submit(
            "/passport",
            &[
                ("action", "typed"),
                ("p-surname", "Kim"),
                ("p-nationality", "KOR"),
                ("p-birth_date", "1990-04-01"),
                ("p-sex", "F"),
                ("p-passport_number", "M1234!"),
                ("p-passport_expiry", "2034-04-01"),
            ],
        )
        .await;
    assert!(r.by_id("e-p-passport_number").is_some(), "{}", r.body);
    assert_eq!(r.value_of("p-surname").as_deref(), Some("KIM"));
}

#[tokio::test]
async fn accept_language_picks_the_language_and_every_page_can_switch_it() {
    let s = serve().await;
    for (header, code) in [
        ("zh-TW,zh;q=0.8", "zh-Hant"),
        ("zh-CN", "zh-Hans"),
        ("ja-JP", "ja"),
        ("fr-FR, de", "en"),
    ] {
        let mut p = Phone::new(&s, header);
        let r = p.get("/").await;
        assert!(
            r.body
                .contains(&format!("<html lang=\"{code}\" class=\"phone\">")),
            "{header}: {}",
            &r.body[..200]
        );
        // An unknown page: 404 in that language, problem+json under the API.
        let r = p.get("/no-such-page").await;
        assert_eq!(r.status, 404);
        assert!(r.body.contains(&format!("<html lang=\"{code}\"")));
        let r = p.get("/v1/no-such-endpoint").await;
        assert_eq!(r.status, 404);
        assert!(
            r.header("content-type")
                .starts_with("application/problem+json")
        );
    }
    // The switch: Korean on the trip page, remembered for the device's other pages.
    let mut p = Phone::new(&s, "en");
    p.get("/").await;
    p.submit("/start", &[("lang", "en")]).await;
    let r = p.post("/lang", &[("lang", "ko"), ("step", "2")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), "/trip");
    assert!(
        r.headers
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("egate_lang=ko;"))
    );
    let r = p.get("/trip").await;
    assert!(r.body.contains("<html lang=\"ko\""));
    assert!(
        r.body.contains("id=\"lang-select\""),
        "the switch on every page"
    );
    // A made-up target is never a redirect to it: only step numbers are understood.
    let r = p
        .post("/lang", &[("lang", "ja"), ("step", "https://evil.example")])
        .await;
    assert_eq!(r.header("location"), "/");
}

#[tokio::test]
async fn forms_need_the_csrf_token_and_oversized_input_is_refused_without_a_500() {
    let s = serve().await;
    let mut p = Phone::new(&s, "en");
    p.get("/").await;
    p.submit("/start", &[("lang", "en")]).await;
    let r = p
        .post_raw(
            "/trip",
            &[("csrf", "AAAAAAAAAAAAAAAAAAAAAA"), ("flight", "KE703")],
            &[],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains(&t(Lang::En, "kiosk-error-forbidden")));
    let long = "A".repeat(300);
    let r = p.post("/trip", &[("flight", long.as_str())]).await;
    assert_eq!(r.status, 400);
    let huge = "A".repeat(40 * 1024);
    let r = p.post("/trip", &[("occupation", huge.as_str())]).await;
    assert_eq!(r.status, 413);
    // An arrival date beyond the token policy's window is refused on its field.
    let r = p
        .submit(
            "/trip",
            &[
                ("flight", "KE703"),
                ("origin", "ICN"),
                ("arrival_date", "2099-01-01"),
                ("address_in_japan", "Hotel Sakura Tokyo"),
                ("phone", "+81 90 1234 5678"),
                ("occupation", "Engineer"),
                ("action", "next"),
            ],
        )
        .await;
    assert!(r.by_id("e-arrival_date").is_some(), "{}", r.body);
    // Every page of the walk stays within the budget.
    for path in ["/", "/passport", "/trip", "/party", "/questions", "/items"] {
        let r = p.get(path).await;
        assert!(r.body.len() < PAGE_BUDGET, "{path}: {} bytes", r.body.len());
        assert!(
            !r.body.contains("http://") && !r.body.contains("https://"),
            "{path}: no external resource"
        );
    }
}

#[tokio::test]
async fn confirmations_and_edits_count_against_the_creation_limit_with_a_page_in_the_language() {
    let s = serve_with(|c| c.rate_limit_per_minute = 2).await;
    let mut p = Phone::new(&s, "ja");
    let origin = s.base.clone();
    let form = [
        ("declaration_id", "AAAAAAAAAAAA"),
        ("edit_token", "AAAAAAAAAAAAAAAAAAAAAA"),
    ];
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let r = p
            .post_raw("/declarations/edit", &form, &[("origin", origin.as_str())])
            .await;
        statuses.push(r.status);
        if r.status == 429 {
            assert!(r.header("retry-after").parse::<u64>().unwrap() >= 1);
            assert!(r.header("content-type").starts_with("text/html"));
            assert!(r.body.contains("<html lang=\"ja\""));
            assert!(r.body.contains(&t(Lang::Ja, "kiosk-error-too-many")));
        }
    }
    assert_eq!(statuses, vec![404, 404, 429]);
    // Other pages are not limited.
    assert_eq!(p.get("/").await.status, 200);
}

#[tokio::test]
async fn a_typed_passport_expiring_before_arrival_is_refused_on_its_field_as_the_api_refuses_it() {
    let s = serve().await;
    let mut p = Phone::new(&s, "en");
    p.get("/").await;
    p.submit("/start", &[("lang", "en")]).await;
    let japan = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .date();
    let expiry = shared::domain::format_date(japan + time::Duration::days(5));
    let arrival = shared::domain::format_date(japan + time::Duration::days(10));
    p.submit(
        "/passport",
        &[
            ("action", "typed"),
            ("p-surname", "Kim"),
            ("p-nationality", "KOR"),
            ("p-birth_date", "1990-04-01"),
            ("p-sex", "F"),
            ("p-passport_number", "M12345678"),
            ("p-passport_expiry", expiry.as_str()),
        ],
    )
    .await;
    p.submit(
        "/trip",
        &[
            ("flight", "KE703"),
            ("origin", "ICN"),
            ("arrival_date", arrival.as_str()),
            ("address_in_japan", "Hotel Sakura Tokyo"),
            ("phone", "+81 90 1234 5678"),
            ("occupation", "Engineer"),
            ("action", "next"),
        ],
    )
    .await;
    p.submit(
        "/party",
        &[
            ("aged_20_plus", "1"),
            ("aged_6_to_19", "0"),
            ("under_6", "0"),
            ("action", "next"),
        ],
    )
    .await;
    p.answer_all_no().await;
    let r = p.submit("/items", &[("action", "next")]).await;
    assert!(r.body.contains("action=\"/review\""), "{}", r.body);
    // The wizard's own checks pass; the API's (passport valid on arrival) refuse.
    let r = p.post("/review", &[("action", "confirm")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), "/passport");
    let r = p.get("/passport").await;
    assert!(r.by_id("e-p-passport_expiry").is_some(), "{}", r.body);
    assert_eq!(
        r.value_of("p-passport_expiry").as_deref(),
        Some(expiry.as_str())
    );
}

/// `declarations_created` from `/metrics`.
async fn declarations_created(base: &str) -> u64 {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with("mobile_api_declarations_created"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no declarations_created in {text}"))
}

#[tokio::test]
async fn a_confirm_tapped_twice_at_once_creates_one_declaration() {
    // A slow phone, "Confirm" tapped again before the first answer: the same session
    // posts the review several times at once. One declaration: a second would be one
    // whose edit token the device never gets (personal data it can neither see nor
    // erase) and a second valid QR.
    let s = serve().await;
    let mut p = Phone::new(&s, "en");
    to_items(&mut p, "en", false).await;
    goods_to_review(&mut p).await;
    let before = declarations_created(&s.base).await;
    let cookie = format!("wizard_session={}", p.cookie.clone().unwrap());
    let form = [("csrf", p.csrf.clone()), ("action", "confirm".to_owned())];
    let posts = (0..8).map(|_| {
        p.http
            .post(format!("{}/review", s.base))
            .header("cookie", &cookie)
            .form(&form)
            .send()
    });
    let answers = futures_join_all(posts).await;
    for r in &answers {
        let r = r.as_ref().unwrap();
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(r.headers()["location"], "/result");
    }
    assert_eq!(declarations_created(&s.base).await - before, 1);
    let r = p.get("/result").await;
    let d = data_block(&r);
    assert!(d["edit_token"].as_str().is_some_and(|t| !t.is_empty()));
}

/// Run the futures at once (no extra dependency for it).
async fn futures_join_all<F: std::future::Future + Send + 'static>(
    fs: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = fs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
