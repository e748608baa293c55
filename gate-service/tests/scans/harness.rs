//! Test harness: a gate built from `Config::for_tests` with a fixed clock, trusting one
//! issuer key from a JWKS file; token and MRZ makers; request helpers. Scan requests
//! carry the key of a registered E-Gate device (`G-01` unless a test names another
//! gate; [`Harness::gate_key`] registers it on first use).

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use gate_service::{AppState, Config, IssuerConfig};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use shared::clock::FixedClock;
use shared::domain::{Declared, Sex};
use shared::mrz::{Td3, build_td3};
use shared::token::{BindingKey, Claims, Jwks, SigningKey, Summary};
use std::net::SocketAddr;
use std::sync::Arc;
use time::Date;
use time::macros::{date, datetime};
use tower::ServiceExt as _;

/// A passport holder.
#[derive(Clone, Copy)]
pub struct Person {
    pub surname: &'static str,
    pub given: &'static str,
    pub number: &'static str,
    pub nationality: &'static str,
    pub birth: Date,
    pub expiry: Date,
}

pub const ANNA: Person = Person {
    surname: "ERIKSSON",
    given: "ANNA MARIA",
    number: "L898902C3",
    nationality: "UTO",
    birth: date!(1974 - 08 - 12),
    expiry: date!(2031 - 04 - 15),
};

pub const BOB: Person = Person {
    surname: "SMITH",
    given: "BOB",
    number: "TK1234567",
    nationality: "GBR",
    birth: date!(1980 - 01 - 02),
    expiry: date!(2030 - 01 - 01),
};

impl Person {
    pub fn mrz(&self) -> String {
        build_td3(&Td3 {
            document_code: "P".into(),
            issuing_state: self.nationality.into(),
            surname: self.surname.into(),
            given_names: self.given.into(),
            document_number: self.number.into(),
            nationality: self.nationality.into(),
            birth_date: self.birth,
            sex: Sex::Female,
            expiry_date: self.expiry,
            optional_data: String::new(),
        })
    }
}

pub struct Harness {
    pub state: AppState,
    /// Device keys of the gates registered so far, by gate id.
    /// (An async lock held while a gate registers: concurrent first scans share it.)
    gate_keys: tokio::sync::Mutex<std::collections::HashMap<String, String>>,
    pub app: Router,
    pub key: SigningKey,
    pub clock: FixedClock,
    pub binding: BindingKey,
    _dir: tempfile::TempDir,
}

impl Harness {
    pub async fn new() -> Harness {
        Self::build(|_, _| {}, None).await
    }

    pub async fn with(f: impl FnOnce(&mut Config, &SigningKey)) -> Harness {
        Self::build(f, None).await
    }

    /// A gate whose watch-rules file is made (before start) from ANNA's binding hex.
    pub async fn with_watchlist(f: impl FnOnce(String) -> String) -> Harness {
        Self::build(|_, _| {}, Some(Box::new(f))).await
    }

    async fn build(
        f: impl FnOnce(&mut Config, &SigningKey),
        watch: Option<Box<dyn FnOnce(String) -> String + '_>>,
    ) -> Harness {
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
        f(&mut config, &key);
        let binding = BindingKey::load_or_generate(&config.binding_key_path()).unwrap();
        if let Some(w) = watch {
            let b = hex::encode(binding.bind(ANNA.nationality, ANNA.number, ANNA.birth));
            std::fs::create_dir_all(config.gate_dir()).unwrap();
            std::fs::write(&config.watchlist_file, w(b)).unwrap();
            // Watch rules are refused when group or others may read them.
            std::fs::set_permissions(
                &config.watchlist_file,
                std::os::unix::fs::PermissionsExt::from_mode(0o600),
            )
            .unwrap();
        }
        let clock = FixedClock::at(datetime!(2026-11-01 09:00 UTC));
        let state = gate_service::build_with_clock(config, Arc::new(clock.clone()))
            .await
            .unwrap();
        let app = gate_service::build_app(state.clone());
        Harness {
            state,
            gate_keys: Default::default(),
            app,
            key,
            clock,
            binding,
            _dir: dir,
        }
    }

    /// A token for `p`, signed with the trusted key, valid for 2 days.
    pub fn token(&self, p: &Person) -> String {
        self.token_with(&self.key, p, |_| {})
    }

    pub fn token_with(&self, key: &SigningKey, p: &Person, f: impl FnOnce(&mut Claims)) -> String {
        let now = self.state.clock.unix();
        let mut claims = Claims {
            iss: "mobile-api".into(),
            iat: now,
            exp: now + 2 * 86_400,
            cti: shared::token::new_cti(),
            summary: Summary {
                declaration_id: "D-TEST-1".into(),
                revision: 1,
                profile_id: self.state.profile.id.clone(),
                arrival_date: date!(2026 - 11 - 01),
                flight: "NH212".into(),
                binding: self.binding.bind(p.nationality, p.number, p.birth),
                declared: Declared::default(),
            },
        };
        f(&mut claims);
        shared::token::encode(key, &claims).unwrap()
    }

    /// The key of E-Gate device `gate` (registered on first use).
    pub async fn gate_key(&self, gate: &str) -> String {
        let mut keys = self.gate_keys.lock().await;
        if let Some(k) = keys.get(gate) {
            return k.clone();
        }
        let key = gate_service::devices::add(
            &self.state.db,
            gate,
            gate_service::devices::DeviceKind::Gate,
            self.state.clock.unix(),
        )
        .await
        .unwrap();
        keys.insert(gate.to_owned(), key.clone());
        key
    }

    pub async fn send(&self, req: Request<Body>) -> (StatusCode, Value) {
        let mut req = req;
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 50000))));
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, v)
    }

    /// POST as gate `G-01`.
    pub async fn post_raw(&self, path: &str, ct: &str, body: Vec<u8>) -> (StatusCode, Value) {
        self.post_as("G-01", path, ct, body).await
    }

    /// POST with the device key of `gate`.
    pub async fn post_as(
        &self,
        gate: &str,
        path: &str,
        ct: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let key = self.gate_key(gate).await;
        self.send(
            Request::post(path)
                .header("content-type", ct)
                .header("authorization", format!("Bearer {key}"))
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn scan(&self, qr: &str, mrz: &str) -> (StatusCode, Value) {
        self.scan_gate(qr, mrz, "G-01").await
    }

    pub async fn scan_gate(&self, qr: &str, mrz: &str, gate: &str) -> (StatusCode, Value) {
        let body = json!({ "qr": qr, "mrz": mrz }).to_string();
        self.post_as(gate, "/v1/scans", "application/json", body.into_bytes())
            .await
    }

    pub async fn scan_lang(&self, qr: &str, mrz: &str, lang: &str) -> (StatusCode, Value) {
        let body = json!({ "qr": qr, "mrz": mrz }).to_string();
        let key = self.gate_key("G-01").await;
        self.send(
            Request::post("/v1/scans")
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {key}"))
                .header("accept-language", lang)
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    pub async fn scan_image(&self, image: Vec<u8>, ct: &str, mrz: &str) -> (StatusCode, Value) {
        let boundary = "XgateBoundary42";
        let mut body = Vec::new();
        let text = |name: &str, value: &str, body: &mut Vec<u8>| {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        };
        text("mrz", mrz, &mut body);
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"frame\"\r\nContent-Type: {ct}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(&image);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.post_as(
            "G-02",
            "/v1/scans/image",
            &format!("multipart/form-data; boundary={boundary}"),
            body,
        )
        .await
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        self.state
            .db
            .read(move |c| -> Result<i64, shared::db::DbError> {
                Ok(c.query_row(sql, [], |r| r.get(0))?)
            })
            .await
            .unwrap()
    }

    async fn row(&self, sql: &'static str, key: Value) -> Value {
        self.state
            .db
            .read(move |c| -> Result<Value, shared::db::DbError> {
                let mut st = c.prepare(sql)?;
                let names: Vec<String> = st.column_names().iter().map(|s| s.to_string()).collect();
                let key: rusqlite::types::Value = match key {
                    Value::String(s) => s.into(),
                    Value::Number(n) => n.as_i64().unwrap().into(),
                    _ => unreachable!(),
                };
                Ok(st.query_row([key], |r| {
                    let mut m = serde_json::Map::new();
                    for (i, n) in names.iter().enumerate() {
                        let v = match r.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => Value::Null,
                            rusqlite::types::ValueRef::Integer(i) => json!(i),
                            rusqlite::types::ValueRef::Real(f) => json!(f),
                            rusqlite::types::ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                            rusqlite::types::ValueRef::Blob(b) => json!(hex::encode(b)),
                        };
                        m.insert(n.clone(), v);
                    }
                    Ok(Value::Object(m))
                })?)
            })
            .await
            .unwrap()
    }

    pub async fn scan_row(&self, id: &str) -> Value {
        self.row(
            "SELECT *, cti IS NOT NULL AS has_cti FROM scans WHERE id = ?1",
            json!(id),
        )
        .await
    }

    pub async fn case_row(&self, id: i64) -> Value {
        self.row("SELECT * FROM cases WHERE id = ?1", json!(id))
            .await
    }

    /// Every text value in the gate's tables, concatenated.
    pub async fn dump_text(&self) -> String {
        self.state
            .db
            .read(|c| -> Result<String, shared::db::DbError> {
                let mut out = String::new();
                let tables: Vec<String> = c
                    .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
                    .query_map([], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                for t in tables {
                    let mut st = c.prepare(&format!("SELECT * FROM \"{t}\""))?;
                    let n = st.column_count();
                    let mut rows = st.query([])?;
                    while let Some(r) = rows.next()? {
                        for i in 0..n {
                            if let rusqlite::types::ValueRef::Text(s) = r.get_ref(i)? {
                                out.push_str(&String::from_utf8_lossy(s));
                                out.push('\n');
                            }
                        }
                    }
                }
                Ok(out)
            })
            .await
            .unwrap()
    }
}

/// Flip the last byte of the COSE structure (inside the signature) and re-encode.
pub fn alter_signature(qr: &str) -> String {
    let raw = base45::decode(qr.strip_prefix("CD1:").unwrap()).unwrap();
    let mut cose = if raw[0] == 0x78 {
        miniz_oxide::inflate::decompress_to_vec_zlib(&raw).unwrap()
    } else {
        raw
    };
    let last = cose.len() - 1;
    cose[last] ^= 0x01;
    format!("CD1:{}", base45::encode(&cose))
}

/// A 640×480 grey frame with no QR code, as PNG.
pub fn blank_png() -> Vec<u8> {
    let img = image::GrayImage::from_fn(640, 480, |x, y| {
        image::Luma([((x * 7 + y * 3) % 200) as u8 + 20])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}
