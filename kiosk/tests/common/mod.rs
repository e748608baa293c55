//! Test helpers: a kiosk on a temp dir with a fixed clock, a passport MRZ, a request
//! helper that carries the session cookie by hand.

#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use kiosk::{AppState, Config, build_app, build_with_clock};
use shared::clock::FixedClock;
use shared::domain::Sex;
use shared::mrz::{Td3, build_td3};
use std::net::SocketAddr;
use std::sync::Arc;
use time::OffsetDateTime;
use tower::ServiceExt;

/// Values typed in the standard declaration (looked for after the wipe).
pub const SURNAME: &str = "ERIKSSON";
pub const GIVEN: &str = "ANNA MARIA";
pub const PASSPORT_NO: &str = "L898902C3";
pub const FLIGHT: &str = "JL43";
pub const ADDRESS: &str = "Hotel Sakura 1-2-3 Ginza Chuo-ku Tokyo";
pub const PHONE: &str = "+81 90 1234 5678";
pub const OCCUPATION: &str = "Librarian";

pub struct Kiosk {
    pub app: Router,
    pub state: AppState,
    pub clock: FixedClock,
    pub dir: tempfile::TempDir,
}

pub async fn kiosk() -> Kiosk {
    kiosk_with(|_| {}).await
}

pub async fn kiosk_with(f: impl FnOnce(&mut Config)) -> Kiosk {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    f(&mut config);
    let clock = FixedClock::at(OffsetDateTime::now_utc());
    let state = build_with_clock(config, Arc::new(clock.clone()))
        .await
        .unwrap();
    Kiosk {
        app: build_app(state.clone()),
        state,
        clock,
        dir,
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    pub fn set_cookie(&self) -> Option<String> {
        self.headers
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
    /// The CSRF token of the page's forms.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("no csrf field")
            + 19;
        self.body[at..].split('"').next().unwrap().to_owned()
    }
    /// The text of the element with `id`, up to its first closing tag.
    pub fn by_id(&self, id: &str) -> Option<String> {
        let at = self.body.find(&format!("id=\"{id}\""))?;
        let start = self.body[at..].find('>')? + at + 1;
        let end = self.body[start..].find("</")? + start;
        Some(self.body[start..end].to_owned())
    }
}

/// A passenger agent: carries the session cookie and the CSRF token.
pub struct Agent<'a> {
    pub k: &'a Kiosk,
    pub cookie: Option<String>,
    pub csrf: String,
}

impl<'a> Agent<'a> {
    pub fn new(k: &'a Kiosk) -> Self {
        Agent {
            k,
            cookie: None,
            csrf: String::new(),
        }
    }

    async fn send(&mut self, req: Request<Body>) -> Resp {
        let mut req = req;
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(SocketAddr::from((
                [127, 0, 0, 1],
                40000,
            ))));
        let resp = self.k.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let r = Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        if let Some(c) = r.set_cookie() {
            let v = c
                .split(';')
                .next()
                .unwrap()
                .trim_start_matches("kiosk_session=")
                .to_owned();
            self.cookie = if v.is_empty() { None } else { Some(v) };
        }
        if r.body.contains("name=\"csrf\"") {
            self.csrf = r.csrf();
        }
        r
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        let mut b = Request::get(path);
        if let Some(c) = &self.cookie {
            b = b.header("cookie", format!("kiosk_session={c}"));
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    /// POST with the CSRF token added.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let csrf = self.csrf.clone();
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// POST exactly these fields.
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded(fields);
        let mut b = Request::post(path).header("content-type", "application/x-www-form-urlencoded");
        if let Some(c) = &self.cookie {
            b = b.header("cookie", format!("kiosk_session={c}"));
        }
        self.send(b.body(Body::from(body)).unwrap()).await
    }

    /// POST then follow the 303.
    pub async fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let r = self.post(path, fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "POST {path}: {}", r.body);
        let to = r.location().to_owned();
        self.get(&to).await
    }

    /// Start in `lang`: GET / then choose the language.
    pub async fn start(&mut self, lang: &str) -> Resp {
        let r = self.get("/").await;
        assert_eq!(r.status, StatusCode::OK);
        self.submit("/start", &[("lang", lang)]).await
    }
}

fn serde_urlencoded(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The same day `years` calendar years after `date`; 29 February becomes 28 February in
/// a common year (never an error, never today instead).
pub fn years_after(date: time::Date, years: i32) -> time::Date {
    let year = date.year() + years;
    let day = date.day().min(date.month().length(year));
    time::Date::from_calendar_date(year, date.month(), day)
        .unwrap_or_else(|e| unreachable!("day {day} exists in {year}-{}: {e}", date.month()))
}

#[test]
fn the_standard_passport_made_on_29_february_expires_on_28_february_five_years_on() {
    use time::macros::date;
    let leap_day = date!(2028 - 02 - 29);
    assert_eq!(years_after(leap_day, 5), date!(2033 - 02 - 28));
    assert_eq!(years_after(leap_day, 4), date!(2032 - 02 - 29));
    let parsed = shared::mrz::parse_td3(&mrz_on(leap_day), leap_day).unwrap();
    assert_eq!(parsed.expiry_date, date!(2033 - 02 - 28));
}

/// The MRZ of the standard passenger (valid five more years).
pub fn mrz() -> String {
    mrz_on(OffsetDateTime::now_utc().date())
}

/// The MRZ of the standard passenger as issued on `today`: it expires five years on.
pub fn mrz_on(today: time::Date) -> String {
    build_td3(&Td3 {
        document_code: "P".into(),
        issuing_state: "GBR".into(),
        surname: SURNAME.into(),
        given_names: GIVEN.into(),
        document_number: PASSPORT_NO.into(),
        nationality: "GBR".into(),
        birth_date: time::macros::date!(1974 - 08 - 12),
        sex: Sex::Female,
        expiry_date: years_after(today, 5),
        optional_data: String::new(),
    })
}

/// The MRZ with the document-number check digit changed.
pub fn mrz_bad_number_check() -> String {
    let m = mrz();
    let (l1, l2) = m.split_once('\n').unwrap();
    let mut l2: Vec<char> = l2.chars().collect();
    l2[9] = if l2[9] == '1' { '2' } else { '1' };
    format!("{l1}\n{}", l2.into_iter().collect::<String>())
}

pub const TRIP: &[(&str, &str)] = &[
    ("flight", FLIGHT),
    ("origin", "LHR"),
    ("address_in_japan", ADDRESS),
    ("phone", PHONE),
    ("occupation", OCCUPATION),
];

/// Fill passport, trip and party (one adult); ends on the questions page.
pub async fn through_party(a: &mut Agent<'_>, lang: &str) -> Resp {
    a.start(lang).await;
    let m = mrz();
    a.submit("/passport", &[("mrz", m.as_str()), ("action", "read")])
        .await;
    let r = a
        .submit("/passport", &[("mrz", m.as_str()), ("action", "next")])
        .await;
    assert!(r.body.contains("id=\"f-flight\""), "not on the trip page");
    let today = r
        .body
        .split("name=\"arrival_date\" type=\"date\" max=\"")
        .nth(1)
        .unwrap()[..10]
        .to_owned();
    let mut trip: Vec<(&str, &str)> = TRIP.to_vec();
    trip.push(("arrival_date", &today));
    trip.push(("action", "next"));
    let r = a.submit("/trip", &trip).await;
    assert!(
        r.body.contains("id=\"f-aged_20_plus\""),
        "not on the party page: {}",
        r.body
    );
    a.submit(
        "/party",
        &[
            ("aged_20_plus", "1"),
            ("aged_6_to_19", "0"),
            ("under_6", "0"),
            ("action", "next"),
        ],
    )
    .await
}

/// Answers: all "no" except the ones listed as "yes".
pub fn answers<'x>(yes: &[&'x str]) -> Vec<(String, &'x str)> {
    [
        "prohibited",
        "over-allowance",
        "commercial",
        "for-others",
        "means-of-payment",
        "precious-metal",
        "unaccompanied",
    ]
    .iter()
    .map(|q| (format!("q-{q}"), if yes.contains(q) { "yes" } else { "no" }))
    .collect()
}

/// A complete declaration up to the result page.
pub async fn declare(a: &mut Agent<'_>, lang: &str, yes: &[&str], items: &[[&str; 5]]) -> Resp {
    through_party(a, lang).await;
    let ans = answers(yes);
    let mut f: Vec<(&str, &str)> = ans.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    f.push(("action", "next"));
    let r = a.submit("/questions", &f).await;
    assert!(
        r.body.contains("action=\"/items\""),
        "not on the items page: {}",
        r.body
    );
    let mut fields: Vec<(String, String)> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        a.submit("/items", &owned(&fields, "add")).await;
        for (n, v) in ["category", "quantity", "size", "amount", "currency"]
            .iter()
            .zip(it)
        {
            fields.push((format!("item-{i}-{n}"), (*v).to_owned()));
        }
    }
    let r = a.submit("/items", &owned(&fields, "next")).await;
    assert!(
        r.body.contains("action=\"/review\""),
        "not on the review page: {}",
        r.body
    );
    let r = a.submit("/review", &[("action", "confirm")]).await;
    assert!(
        r.body.contains("id=\"verdict\""),
        "not on the result page: {}",
        r.body
    );
    r
}

fn owned<'x>(fields: &'x [(String, String)], action: &'x str) -> Vec<(&'x str, &'x str)> {
    let mut v: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    v.push(("action", action));
    v
}
