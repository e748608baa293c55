//! Shared helpers of the console tests: a gate on a fixed clock trusting one issuer
//! key from a JWKS file, RED scans made through the scan API, officers, and a tiny
//! cookie jar so requests carry cookies by hand.
#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use gate_service::{AppState, Config, IssuerConfig};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use shared::clock::FixedClock;
use shared::domain::{Answers, Category, Declared, Item, Money, Party, Sex};
use shared::mrz::{Td3, build_td3};
use shared::token::{BindingKey, Claims, Jwks, SigningKey, Summary};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use time::macros::{date, datetime};
use tower::ServiceExt as _;

/// The password every test officer gets.
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub state: AppState,
    /// The console listener's application.
    pub app: Router,
    /// The device listener's application (the scan API).
    pub device_app: Router,
    /// The key of E-Gate device `G1`, registered at start.
    pub gate_key: String,
    pub key: SigningKey,
    pub clock: FixedClock,
    pub binding: BindingKey,
    pub dir: tempfile::TempDir,
}

/// Cookies as a browser would keep them.
#[derive(Debug, Clone, Default)]
pub struct Jar(pub BTreeMap<String, String>);

impl Jar {
    pub fn update(&mut self, headers: &HeaderMap) {
        for v in headers.get_all(header::SET_COOKIE) {
            let s = v.to_str().unwrap();
            let (kv, attrs) = s.split_once(';').unwrap_or((s, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") || v.is_empty() {
                self.0.remove(k);
            } else {
                self.0.insert(k.to_owned(), v.to_owned());
            }
        }
    }
    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
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
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
    /// The payment form's idempotency key.
    pub fn payment_key(&self) -> String {
        self.field("idempotency_key")
    }
    /// The value of the first field named `name` (attribute `value` right after it).
    pub fn field(&self, name: &str) -> String {
        let pat = format!("name=\"{name}\" value=\"");
        let i = self
            .body
            .find(&pat)
            .unwrap_or_else(|| panic!("no {name} field"))
            + pat.len();
        self.body[i..].split('"').next().unwrap().to_owned()
    }
    /// The first hidden CSRF field of the page.
    pub fn csrf(&self) -> String {
        let i = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("no csrf field")
            + 19;
        self.body[i..].split('"').next().unwrap().to_owned()
    }
}

pub fn anna_mrz() -> String {
    build_td3(&Td3 {
        document_code: "P".into(),
        issuing_state: "UTO".into(),
        surname: "ERIKSSON".into(),
        given_names: "ANNA MARIA".into(),
        document_number: "L898902C3".into(),
        nationality: "UTO".into(),
        birth_date: date!(1974 - 08 - 12),
        sex: Sex::Female,
        expiry_date: date!(2031 - 04 - 15),
        optional_data: String::new(),
    })
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with(|_| {}).await
    }

    pub async fn with(f: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::generate().unwrap();
        let jwks_path = dir.path().join("mobile-api.jwks.json");
        std::fs::write(
            &jwks_path,
            serde_json::to_vec(&Jwks {
                keys: vec![key.jwk()],
            })
            .unwrap(),
        )
        .unwrap();
        let mut config = Config::for_tests(dir.path());
        config.issuers = vec![IssuerConfig {
            id: "mobile-api".into(),
            internal_url: None,
            base_url: None,
            jwks_file: Some(jwks_path),
        }];
        f(&mut config);
        let binding = BindingKey::load_or_generate(&config.binding_key_path()).unwrap();
        let clock = FixedClock::at(datetime!(2026-11-01 09:00 UTC));
        let state = gate_service::build_with_clock(config, Arc::new(clock.clone()))
            .await
            .unwrap();
        let app = gate_service::build_console_app(state.clone());
        let device_app = gate_service::build_app(state.clone());
        let gate_key = gate_service::devices::add(
            &state.db,
            "G1",
            gate_service::devices::DeviceKind::Gate,
            state.clock.unix(),
        )
        .await
        .unwrap();
        TestApp {
            state,
            app,
            device_app,
            gate_key,
            key,
            clock,
            binding,
            dir,
        }
    }

    /// A token for ANNA declaring `flight` and two litres of whisky too many.
    pub fn red_token(&self, flight: &str, declaration_id: &str) -> String {
        let now = self.state.clock.unix();
        let whisky = Item {
            category: Category::Whisky,
            description: None,
            quantity: 5,
            volume_ml: Some(700),
            weight_g: None,
            value: Money::yen(25_000),
            for_child: false,
        };
        let bag = Item {
            category: Category::BagsAccessories,
            description: None,
            quantity: 1,
            volume_ml: None,
            weight_g: None,
            value: Money::yen(250_000),
            for_child: false,
        };
        let claims = Claims {
            iss: "mobile-api".into(),
            iat: now,
            exp: now + 2 * 86_400,
            cti: shared::token::new_cti(),
            summary: Summary {
                declaration_id: declaration_id.into(),
                revision: 1,
                profile_id: self.state.profile.id.clone(),
                arrival_date: date!(2026 - 11 - 01),
                flight: flight.into(),
                binding: self.binding.bind("UTO", "L898902C3", date!(1974 - 08 - 12)),
                declared: Declared {
                    party: Party::SOLO_ADULT,
                    answers: Answers {
                        over_allowance: true,
                        ..Answers::default()
                    },
                    items: vec![whisky, bag],
                },
            },
        };
        shared::token::encode(&self.key, &claims).unwrap()
    }

    /// A RED scan through `POST /v1/scans`; returns the case id.
    pub async fn red_scan(&self, flight: &str, declaration_id: &str) -> i64 {
        let body = json!({"qr": self.red_token(flight, declaration_id), "mrz": anna_mrz()});
        let req = Request::post("/v1/scans")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {}", self.gate_key))
            .body(Body::from(body.to_string()))
            .unwrap();
        let r = self.send_to(&self.device_app, req, "10.0.0.9").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["decision"], "red", "{v}");
        // The device's answer carries no case id (officer data): the case is looked up.
        let decl = declaration_id.to_owned();
        self.state
            .db
            .read(move |c| -> Result<Option<i64>, shared::db::DbError> {
                Ok(c.query_row(
                    "SELECT max(id) FROM cases WHERE declaration_id = ?1",
                    [&decl],
                    |r| r.get(0),
                )?)
            })
            .await
            .unwrap()
            .expect("a red scan opens a case")
    }

    pub async fn officer(&self, username: &str, role: &str) -> i64 {
        gate_service::console::create_officer(&self.state.db, username, username, role, PASSWORD)
            .await
            .unwrap()
    }

    /// A request to the console listener from `ip`.
    pub async fn send(&self, req: Request<Body>, ip: &str) -> Resp {
        self.send_to(&self.app, req, ip).await
    }

    /// A request to `app` (the console's or the devices') from `ip`.
    pub async fn send_to(&self, app: &Router, mut req: Request<Body>, ip: &str) -> Resp {
        let addr: SocketAddr = format!("{ip}:40000").parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(addr));
        let resp = app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, jar: &mut Jar) -> Resp {
        let req = Request::get(path)
            .header(header::COOKIE, jar.header())
            .body(Body::empty())
            .unwrap();
        let r = self.send(req, "10.0.0.1").await;
        jar.update(&r.headers);
        r
    }

    pub async fn post_form_from(
        &self,
        path: &str,
        jar: &mut Jar,
        fields: &[(&str, &str)],
        ip: &str,
    ) -> Resp {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let req = Request::post(path)
            .header(header::COOKIE, jar.header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let r = self.send(req, ip).await;
        jar.update(&r.headers);
        r
    }

    pub async fn post_form(&self, path: &str, jar: &mut Jar, fields: &[(&str, &str)]) -> Resp {
        self.post_form_from(path, jar, fields, "10.0.0.1").await
    }

    /// Sign in from `ip` in a fresh jar (or the given one); returns the response.
    pub async fn login_from(
        &self,
        jar: &mut Jar,
        username: &str,
        password: &str,
        ip: &str,
    ) -> Resp {
        let form = self.get("/console/login", jar).await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form.csrf();
        self.post_form_from(
            "/console/login",
            jar,
            &[
                ("csrf", &csrf),
                ("username", username),
                ("password", password),
            ],
            ip,
        )
        .await
    }

    /// A signed-in jar.
    pub async fn session(&self, username: &str) -> Jar {
        let mut jar = Jar::default();
        let r = self
            .login_from(&mut jar, username, PASSWORD, "10.0.0.1")
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        jar
    }

    /// The CSRF token of a signed-in jar (from the queue page).
    pub async fn csrf(&self, jar: &mut Jar) -> String {
        let r = self.get("/console/queue", jar).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.csrf()
    }
}
