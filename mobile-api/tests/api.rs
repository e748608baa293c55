//! HTTP tests of mobile-api, in process (`tower::ServiceExt::oneshot` on `build_app`).
//! This file runs twice: as the `api` test target with the store in SQLite, and as a
//! module of `api_postgres` with the store in PostgreSQL (`on_postgres`); what it reads
//! from the database directly goes through `TestApp::query_*`, one SQL text per backend.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use mobile_api::{AppState, Config, build, build_app, purge_expired};
use serde_json::{Value, json};
use shared::clock::FixedClock;
use shared::token::{Jwks, TrustList, VerifyOptions, decode_and_verify};
use std::net::SocketAddr;
use std::sync::Arc;
use tempfile::TempDir;
use time::{Duration, OffsetDateTime, UtcOffset};
use tower::ServiceExt as _;

struct TestApp {
    app: Router,
    /// The internal listener's router (`/v1/internal/*`).
    internal: Router,
    state: AppState,
    dir: TempDir,
    /// The gate's keys, as a gate on the same data directory creates them (their
    /// verifiers are what this service loads).
    use_report_key: String,
    read_key: String,
}

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body[..self.body.len().min(300)])
            )
        })
    }
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    #[track_caller]
    fn assert_status(&self, s: StatusCode) -> &Self {
        assert_eq!(
            self.status,
            s,
            "body: {}",
            String::from_utf8_lossy(&self.body[..self.body.len().min(1000)])
        );
        self
    }
}

/// Whether this copy of the tests runs with the store in PostgreSQL (as a module of the
/// `api_postgres` test target).
fn on_postgres() -> bool {
    module_path!().starts_with("api_postgres")
}

async fn spawn_with(f: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config::for_tests(dir.path());
    if on_postgres() {
        cfg.database_url = Some(shared::pg::testing::fresh_database().await);
    }
    f(&mut cfg);
    let key = |p| {
        shared::service_keys::load_or_create_key(dir.path(), p)
            .unwrap()
            .expose()
            .to_owned()
    };
    let use_report_key = key(shared::service_keys::Purpose::UseReport);
    let read_key = key(shared::service_keys::Purpose::DeclarationRead);
    let state = build(cfg).await.unwrap();
    TestApp {
        app: build_app(state.clone()),
        internal: mobile_api::routes::internal_router(state.clone()),
        state,
        dir,
        use_report_key,
        read_key,
    }
}

async fn spawn() -> TestApp {
    spawn_with(|_| {}).await
}

impl TestApp {
    async fn send(&self, mut req: Request<Body>) -> Resp {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        // `/v1/internal/*` is served on the internal listener only.
        let router = if req.uri().path().starts_with("/v1/internal/") {
            &self.internal
        } else {
            &self.app
        };
        let resp = router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            headers,
            body,
        }
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        for (k, v) in extra {
            b = b.header(*k, *v);
        }
        let req = match body {
            Some(v) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(serde_json::to_vec(v).unwrap()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(Method::GET, path, token, None, &[]).await
    }

    async fn post_json(&self, path: &str, body: &Value) -> Resp {
        self.request(Method::POST, path, None, Some(body), &[])
            .await
    }

    async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Resp {
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// Create a declaration; returns the 201 body.
    async fn create(&self, body: &Value) -> Value {
        let r = self.post_json("/v1/declarations", body).await;
        r.assert_status(StatusCode::CREATED);
        r.json()
    }

    fn db_path(&self) -> std::path::PathBuf {
        self.dir.path().join("mobile-api/mobile-api.db")
    }

    /// The rows of a query on the store's database: `sqlite` (placeholders `?1`…) or
    /// `postgres` (`$1`…) by the backend, each row's columns as text (NULL: `None`).
    async fn query(
        &self,
        sqlite: &str,
        postgres: &str,
        params: &[&str],
    ) -> Vec<Vec<Option<String>>> {
        use shared::issuer::store::IssuerDb;
        match self.state.db.issuer().backend() {
            IssuerDb::Sqlite(_) => {
                let c = rusqlite::Connection::open(self.db_path()).unwrap();
                let mut st = c.prepare(sqlite).unwrap();
                let n = st.column_count();
                st.query_map(rusqlite::params_from_iter(params), |r| {
                    (0..n)
                        .map(|i| {
                            Ok(match r.get_ref(i)? {
                                rusqlite::types::ValueRef::Null => None,
                                rusqlite::types::ValueRef::Integer(v) => Some(v.to_string()),
                                rusqlite::types::ValueRef::Real(v) => Some(v.to_string()),
                                rusqlite::types::ValueRef::Text(t) => {
                                    Some(String::from_utf8_lossy(t).into_owned())
                                }
                                rusqlite::types::ValueRef::Blob(b) => Some(hex::encode(b)),
                            })
                        })
                        .collect()
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
            }
            IssuerDb::Postgres(pg) => {
                let c = pg.client().await.unwrap();
                let p: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                    params.iter().map(|s| s as _).collect();
                // Every column cast to text by the query itself (`::text`).
                c.query(postgres, &p)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| {
                        (0..r.len())
                            .map(|i| r.get::<_, Option<String>>(i))
                            .collect()
                    })
                    .collect()
            }
        }
    }

    async fn trust_list(&self) -> TrustList {
        let r = self.get("/v1/jwks", None).await;
        r.assert_status(StatusCode::OK);
        let jwks: Jwks = serde_json::from_slice(&r.body).unwrap();
        let mut trust = TrustList::new();
        assert!(trust.add_jwks(&jwks).unwrap() >= 1);
        trust
    }
}

fn jst_today(now: OffsetDateTime) -> time::Date {
    now.to_offset(UtcOffset::from_hms(9, 0, 0).unwrap()).date()
}

fn date_str(d: time::Date) -> String {
    shared::domain::format_date(d)
}

/// A valid declaration arriving tomorrow (JST) relative to `now`.
fn declaration_at(now: OffsetDateTime) -> Value {
    json!({
        "passenger": {
            "surname": "Tanaka",
            "given_names": "Hanako",
            "nationality": "JPN",
            "birth_date": "1985-04-12",
            "sex": "F",
            "passport_number": "TR1234567",
            "passport_expiry": "2035-01-31"
        },
        "trip": {
            "flight": "NH 212",
            "origin": "LHR",
            "arrival_date": date_str(jst_today(now) + Duration::days(1)),
            "address_in_japan": "Hotel Sakura, 1-2-3 Ginza, Chuo-ku, Tokyo",
            "phone": "+81 90 1234 5678",
            "occupation": "Engineer"
        },
        "party": {"aged_20_plus": 1, "aged_6_to_19": 0, "under_6": 0},
        "answers": {
            "prohibited": false, "over_allowance": false, "commercial": false,
            "for_others": false, "means_of_payment_over_limit": false,
            "precious_metal_over_1kg": false, "unaccompanied_packages": 0
        },
        "items": [
            {"category": "whisky", "description": "Single malt", "quantity": 2, "volume_ml": 700,
             "value": {"amount": 120.5, "currency": "GBP"}}
        ]
    })
}

fn declaration() -> Value {
    declaration_at(OffsetDateTime::now_utc())
}

fn pointers(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["pointer"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn cti_of(text: &str, trust: &TrustList) -> String {
    use base64::Engine as _;
    let v = decode_and_verify(
        text,
        trust,
        VerifyOptions {
            now: OffsetDateTime::now_utc().unix_timestamp(),
            skew_secs: 300,
        },
    )
    .unwrap();
    base64::engine::general_purpose::STANDARD.encode(v.claims.cti)
}

#[tokio::test]
async fn creating_a_declaration_answers_201_with_id_edit_token_lane_estimate_and_qr() {
    let app = spawn().await;
    let r = app.post_json("/v1/declarations", &declaration()).await;
    r.assert_status(StatusCode::CREATED);
    let b = r.json();
    let id = b["id"].as_str().unwrap();
    assert_eq!(id.len(), 12);
    assert_eq!(r.header("location"), format!("/v1/declarations/{id}"));
    assert_eq!(r.header("cache-control"), "private, no-store");
    assert_eq!(b["revision"], 1);
    assert_eq!(b["edit_token"].as_str().unwrap().len(), 22);
    assert_eq!(b["lane_preview"], "green");
    assert_eq!(b["reasons"], json!([]));
    assert_eq!(b["profile_id"], "JP-2026");
    assert!(b["duty_estimate"]["lines"].is_array());
    assert!(b["qr"]["text"].as_str().unwrap().starts_with("CD1:"));
    assert_eq!(b["qr"]["png_url"], format!("/v1/declarations/{id}/qr.png"));
    assert_eq!(b["qr"]["svg_url"], format!("/v1/declarations/{id}/qr.svg"));
    // The edit token is stored only as a hash.
    let stored = app
        .query(
            "SELECT edit_token_hash FROM declarations WHERE id = ?1",
            "SELECT edit_token_hash FROM declarations WHERE id = $1",
            &[id],
        )
        .await;
    assert_eq!(
        stored,
        [[Some(shared::web::token_hash(
            b["edit_token"].as_str().unwrap()
        ))]]
    );
}

#[tokio::test]
async fn the_served_png_decodes_to_the_issued_text_which_verifies_with_only_the_published_jwks() {
    let app = spawn().await;
    let created = app.create(&declaration()).await;
    let id = created["id"].as_str().unwrap();
    let token = created["edit_token"].as_str().unwrap();
    let text = created["qr"]["text"].as_str().unwrap();

    let png = app
        .get(&format!("/v1/declarations/{id}/qr.png"), Some(token))
        .await;
    png.assert_status(StatusCode::OK);
    assert_eq!(png.header("content-type"), "image/png");
    assert_eq!(png.header("cache-control"), "private, no-store");
    let decoded = shared::qr::decode_image(&png.body).unwrap();
    assert_eq!(decoded, text);

    let trust = app.trust_list().await;
    let jwks: Value = app.get("/v1/jwks", None).await.json();
    assert_eq!(jwks["keys"][0]["iss"], "mobile-api");
    let v = decode_and_verify(
        &decoded,
        &trust,
        VerifyOptions {
            now: OffsetDateTime::now_utc().unix_timestamp(),
            skew_secs: 60,
        },
    )
    .unwrap();
    assert_eq!(v.claims.iss, "mobile-api");
    assert_eq!(v.claims.summary.declaration_id, id);
    assert_eq!(v.claims.summary.revision, 1);
    assert_eq!(v.claims.summary.flight, "NH212");
    assert_eq!(v.claims.summary.declared.items.len(), 1);
    // The binding is the shared key's HMAC of the passport data, nothing in clear.
    let binding =
        shared::token::BindingKey::load_or_generate(&app.dir.path().join("binding.key")).unwrap();
    assert_eq!(
        v.claims.summary.binding,
        binding.bind(
            "JPN",
            "TR1234567",
            shared::domain::parse_date("1985-04-12").unwrap()
        )
    );
    // Expiry: end of the arrival day in Japan + 24 h.
    let arrival = v.claims.summary.arrival_date;
    let end = arrival
        .next_day()
        .unwrap()
        .midnight()
        .assume_offset(UtcOffset::from_hms(9, 0, 0).unwrap())
        .unix_timestamp();
    assert_eq!(v.claims.exp, end + 24 * 3600);
}

#[tokio::test]
async fn png_scale_is_checked_and_svg_is_served_with_private_cache_headers() {
    let app = spawn().await;
    let created = app.create(&declaration()).await;
    let id = created["id"].as_str().unwrap();
    let token = created["edit_token"].as_str().unwrap();
    let small = app
        .get(
            &format!("/v1/declarations/{id}/qr.png?scale=2"),
            Some(token),
        )
        .await;
    small.assert_status(StatusCode::OK);
    let default = app
        .get(&format!("/v1/declarations/{id}/qr.png"), Some(token))
        .await;
    assert!(small.body.len() < default.body.len());
    for bad in ["0", "21", "abc", "-1"] {
        let r = app
            .get(
                &format!("/v1/declarations/{id}/qr.png?scale={bad}"),
                Some(token),
            )
            .await;
        r.assert_status(StatusCode::BAD_REQUEST);
        assert_eq!(r.header("content-type"), "application/problem+json");
        assert!(r.json()["detail"].as_str().unwrap().contains("scale"));
        assert_eq!(pointers(&r.json()), vec!["scale"]);
    }
    let svg = app
        .get(&format!("/v1/declarations/{id}/qr.svg"), Some(token))
        .await;
    svg.assert_status(StatusCode::OK);
    assert_eq!(svg.header("content-type"), "image/svg+xml");
    assert_eq!(svg.header("cache-control"), "private, no-store");
    assert!(String::from_utf8_lossy(&svg.body).contains("<svg"));
    // Without the token: 404.
    app.get(&format!("/v1/declarations/{id}/qr.png"), None)
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.get(&format!("/v1/declarations/{id}/qr.svg"), Some("nope"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn reading_with_the_edit_token_returns_the_stored_declaration() {
    let app = spawn().await;
    let created = app.create(&declaration()).await;
    let id = created["id"].as_str().unwrap();
    let r = app
        .get(
            &format!("/v1/declarations/{id}"),
            created["edit_token"].as_str(),
        )
        .await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.header("cache-control"), "private, no-store");
    let b = r.json();
    assert_eq!(b["id"], id);
    assert_eq!(b["revision"], 1);
    assert_eq!(b["declaration"]["passenger"]["surname"], "Tanaka");
    assert_eq!(b["declaration"]["trip"]["flight"], "NH212");
    assert_eq!(b["qr"]["text"], created["qr"]["text"]);
    assert_eq!(b["lane_preview"], "green");
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_404_with_the_same_body_as_an_unknown_id() {
    let app = spawn().await;
    let created = app.create(&declaration()).await;
    let id = created["id"].as_str().unwrap();
    let unknown = app
        .get("/v1/declarations/AAAAAAAAAAAA", Some("whatever"))
        .await;
    unknown.assert_status(StatusCode::NOT_FOUND);
    let missing = app.get(&format!("/v1/declarations/{id}"), None).await;
    let wrong = app
        .get(
            &format!("/v1/declarations/{id}"),
            Some("AAAAAAAAAAAAAAAAAAAAAA"),
        )
        .await;
    let garbage_id = app.get("/v1/declarations/..%2F..", Some("x")).await;
    for r in [&missing, &wrong, &garbage_id] {
        r.assert_status(StatusCode::NOT_FOUND);
        assert_eq!(r.body, unknown.body);
        assert_eq!(r.header("content-type"), "application/problem+json");
    }
    // The same for PUT and DELETE.
    let put = app
        .request(
            Method::PUT,
            &format!("/v1/declarations/{id}"),
            Some("AAAAAAAAAAAAAAAAAAAAAA"),
            Some(&declaration()),
            &[],
        )
        .await;
    put.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(put.body, unknown.body);
    let del = app
        .request(
            Method::DELETE,
            &format!("/v1/declarations/{id}"),
            None,
            None,
            &[],
        )
        .await;
    del.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(del.body, unknown.body);
}

#[tokio::test]
async fn put_makes_a_new_revision_and_revokes_the_previous_token() {
    let app = spawn().await;
    let created = app.create(&declaration()).await;
    let id = created["id"].as_str().unwrap();
    let token = created["edit_token"].as_str().unwrap();
    let trust = app.trust_list().await;
    let old_text = created["qr"]["text"].as_str().unwrap();
    let old_cti = cti_of(old_text, &trust);

    let mut changed = declaration();
    changed["items"][0]["quantity"] = json!(6);
    let r = app
        .request(
            Method::PUT,
            &format!("/v1/declarations/{id}"),
            Some(token),
            Some(&changed),
            &[],
        )
        .await;
    r.assert_status(StatusCode::OK);
    let b = r.json();
    assert_eq!(b["revision"], 2);
    assert_eq!(b["lane_preview"], "red");
    let new_text = b["qr"]["text"].as_str().unwrap();
    assert_ne!(new_text, old_text);
    let new_cti = cti_of(new_text, &trust);
    assert_ne!(new_cti, old_cti);

    let feed = app.get("/v1/revocations?since=0", None).await;
    feed.assert_status(StatusCode::OK);
    let feed = feed.json();
    assert_eq!(feed["revocations"].as_array().unwrap().len(), 1);
    assert_eq!(feed["revocations"][0]["cti"], old_cti);
    assert_eq!(feed["revocations"][0]["reason"], "superseded");
    // The entry carries the revoked token's own expiry (a gate forgets it after that).
    let old_exp = decode_and_verify(
        old_text,
        &trust,
        VerifyOptions {
            now: OffsetDateTime::now_utc().unix_timestamp(),
            skew_secs: 300,
        },
    )
    .unwrap()
    .claims
    .exp;
    assert_eq!(feed["revocations"][0]["exp"], old_exp);
    let seq = feed["next_since"].as_i64().unwrap();
    assert_eq!(feed["revocations"][0]["seq"], seq);
    // Nothing newer after that sequence number; no personal data in the feed.
    let later = app
        .get(&format!("/v1/revocations?since={seq}"), None)
        .await
        .json();
    assert_eq!(later["revocations"], json!([]));
    assert!(
        !String::from_utf8_lossy(&app.get("/v1/revocations", None).await.body).contains("Tanaka")
    );
    app.get("/v1/revocations?since=-1", None)
        .await
        .assert_status(StatusCode::BAD_REQUEST);

    // GET shows revision 2; the edit token still works.
    let got = app
        .get(&format!("/v1/declarations/{id}"), Some(token))
        .await
        .json();
    assert_eq!(got["revision"], 2);
    assert_eq!(got["declaration"]["items"][0]["quantity"], 6);
    assert_eq!(got["qr"]["text"], new_text);
}

#[tokio::test]
async fn delete_erases_the_personal_data_and_revokes_the_token() {
    let app = spawn().await;
    let created = app.create(&declaration()).await;
    let id = created["id"].as_str().unwrap();
    let token = created["edit_token"].as_str().unwrap();
    let trust = app.trust_list().await;
    let cti = cti_of(created["qr"]["text"].as_str().unwrap(), &trust);

    let r = app
        .request(
            Method::DELETE,
            &format!("/v1/declarations/{id}"),
            Some(token),
            None,
            &[],
        )
        .await;
    r.assert_status(StatusCode::NO_CONTENT);
    app.get(&format!("/v1/declarations/{id}"), Some(token))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.request(
        Method::DELETE,
        &format!("/v1/declarations/{id}"),
        Some(token),
        None,
        &[],
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);

    // The row keeps only audit data.
    let row = app
        .query(
            "SELECT body, qr_text, duty, edit_token_hash, erased_at, lane, kid FROM declarations WHERE id = ?1",
            "SELECT body, qr_text, duty, edit_token_hash, erased_at::text, lane, kid FROM declarations WHERE id = $1",
            &[id],
        )
        .await
        .remove(0);
    assert_eq!(row[..4], [None, None, None, None]);
    assert!(row[4].is_some());
    assert_eq!(row[5].as_deref(), Some("green"));
    assert!(!row[6].as_deref().unwrap().is_empty());
    let everything = app
        .query(
            "SELECT group_concat(coalesce(id,'') || coalesce(body,'') || coalesce(qr_text,'') || coalesce(duty,'') || arrival_date || profile_id || lane || reasons || cti || kid, '|') FROM declarations",
            "SELECT string_agg(coalesce(id,'') || coalesce(body,'') || coalesce(qr_text,'') || coalesce(duty,'') || arrival_date || profile_id || lane || reasons || cti || kid, '|') FROM declarations",
            &[],
        )
        .await
        .remove(0)
        .remove(0)
        .unwrap();
    for pii in [
        "Tanaka",
        "Hanako",
        "TR1234567",
        "1985-04-12",
        "Ginza",
        "5678",
        "Engineer",
        "Single malt",
    ] {
        assert!(!everything.contains(pii), "{pii} remains");
    }
    let feed = app.get("/v1/revocations", None).await.json();
    assert_eq!(feed["revocations"][0]["cti"], cti);
    assert_eq!(feed["revocations"][0]["reason"], "erased");
}

#[tokio::test]
async fn the_retention_purge_erases_declarations_older_than_the_retention_period() {
    let start = OffsetDateTime::now_utc();
    let clock = FixedClock::at(start);
    let c2 = clock.clone();
    let app = spawn_with(move |c| c.clock = Arc::new(c2)).await;
    let created = app.create(&declaration_at(start)).await;
    let id = created["id"].as_str().unwrap();
    let token = created["edit_token"].as_str().unwrap();

    // 29 days after arrival: kept.
    let n = purge_expired(&app.state, start + Duration::days(30))
        .await
        .unwrap();
    assert_eq!(n, 0);
    app.get(&format!("/v1/declarations/{id}"), Some(token))
        .await
        .assert_status(StatusCode::OK);

    // 32 days after arrival: erased.
    clock.set(start + Duration::days(33));
    let n = purge_expired(&app.state, start + Duration::days(33))
        .await
        .unwrap();
    assert_eq!(n, 1);
    app.get(&format!("/v1/declarations/{id}"), Some(token))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let row = app
        .query(
            "SELECT body, erased_at FROM declarations WHERE id = ?1",
            "SELECT body, erased_at::text FROM declarations WHERE id = $1",
            &[id],
        )
        .await;
    assert_eq!(
        row,
        [[
            None,
            Some((start + Duration::days(33)).unix_timestamp().to_string())
        ]]
    );
    // A second run finds nothing more.
    assert_eq!(
        purge_expired(&app.state, start + Duration::days(34))
            .await
            .unwrap(),
        0
    );
    let metrics = String::from_utf8_lossy(&app.get("/metrics", None).await.body).into_owned();
    assert!(metrics.contains("mobile_api_declarations_purged_total 1"));
}

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let app = spawn().await;
    let r = app
        .post_raw(
            "/v1/declarations",
            "application/json",
            b"{\"passenger\": ".to_vec(),
        )
        .await;
    r.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(r.header("content-type"), "application/problem+json");
    assert_eq!(r.json()["type"], "/problems/malformed-json");
}

#[tokio::test]
async fn unknown_fields_are_refused_naming_the_field() {
    let app = spawn().await;
    let mut body = declaration();
    body["passenger"]["is_admin"] = json!(true);
    let r = app.post_json("/v1/declarations", &body).await;
    r.assert_status(StatusCode::BAD_REQUEST);
    let p = r.json();
    assert!(p["detail"].as_str().unwrap().contains("is_admin"));
    assert_eq!(pointers(&p), vec!["/passenger/is_admin"]);
    let mut body = declaration();
    body["revision"] = json!(7);
    app.post_json("/v1/declarations", &body)
        .await
        .assert_status(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn invalid_passport_fields_are_a_422_naming_each_field() {
    let app = spawn().await;
    let mut body = declaration();
    body["passenger"]["passport_number"] = json!("TR-12 34");
    body["passenger"]["nationality"] = json!("XYZ");
    body["passenger"]["birth_date"] = json!("2999-01-01");
    let r = app.post_json("/v1/declarations", &body).await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.header("content-type"), "application/problem+json");
    let p = r.json();
    assert_eq!(p["type"], "/problems/validation-failed");
    let ptrs = pointers(&p);
    for f in [
        "/passenger/passport_number",
        "/passenger/nationality",
        "/passenger/birth_date",
    ] {
        assert!(ptrs.contains(&f.to_owned()), "{f} missing in {ptrs:?}");
    }
}

#[tokio::test]
async fn an_expired_passport_and_an_arrival_date_out_of_the_window_are_refused() {
    let app = spawn().await;
    let mut body = declaration();
    body["passenger"]["passport_expiry"] = json!("2020-01-01");
    body["items"][0]["value"]["currency"] = json!("XXQ");
    let p = app.post_json("/v1/declarations", &body).await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let ptrs = pointers(&p.json());
    assert!(
        ptrs.contains(&"/passenger/passport_expiry".to_owned()),
        "{ptrs:?}"
    );
    assert!(
        ptrs.contains(&"/items/0/value/currency".to_owned()),
        "{ptrs:?}"
    );

    let today = jst_today(OffsetDateTime::now_utc());
    for d in [today - Duration::days(3), today + Duration::days(45)] {
        let mut body = declaration();
        body["trip"]["arrival_date"] = json!(date_str(d));
        let r = app.post_json("/v1/declarations", &body).await;
        r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(pointers(&r.json()), vec!["/trip/arrival_date"]);
    }
}

#[tokio::test]
async fn a_negative_quantity_is_refused_naming_the_item_field() {
    let app = spawn().await;
    let mut body = declaration();
    body["items"][0]["quantity"] = json!(-1);
    let r = app.post_json("/v1/declarations", &body).await;
    r.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(pointers(&r.json()), vec!["/items/0/quantity"]);
    let mut body = declaration();
    body["items"][0]["value"]["amount"] = json!(-5.0);
    let r = app.post_json("/v1/declarations", &body).await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&r.json()), vec!["/items/0/value/amount"]);
}

#[tokio::test]
async fn an_oversized_body_is_413_and_a_wrong_content_type_is_415() {
    let app = spawn().await;
    let big = vec![b' '; 70 * 1024];
    let r = app
        .post_raw("/v1/declarations", "application/json", big)
        .await;
    r.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.header("content-type"), "application/problem+json");
    let body = serde_json::to_vec(&declaration()).unwrap();
    let r = app
        .post_raw("/v1/declarations", "text/plain", body.clone())
        .await;
    r.assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = app
        .post_raw("/v1/estimate", "application/x-www-form-urlencoded", body)
        .await;
    r.assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn too_many_creations_from_one_address_are_429_with_retry_after() {
    let app = spawn_with(|c| c.rate_limit_per_minute = 2).await;
    for _ in 0..2 {
        app.post_json("/v1/declarations", &declaration())
            .await
            .assert_status(StatusCode::CREATED);
    }
    let r = app.post_json("/v1/declarations", &declaration()).await;
    r.assert_status(StatusCode::TOO_MANY_REQUESTS);
    let secs: u64 = r.header("retry-after").parse().unwrap();
    assert!((1..=60).contains(&secs), "{secs}");
    assert_eq!(r.json()["type"], "/problems/rate-limited");
    // Estimates share the limit; reads do not.
    app.post_json("/v1/estimate", &json!({}))
        .await
        .assert_status(StatusCode::TOO_MANY_REQUESTS);
    app.get("/v1/rules", None)
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn reasons_follow_accept_language() {
    let app = spawn().await;
    let mut body = declaration();
    body["answers"]["commercial"] = json!(true);
    let ja = app
        .request(
            Method::POST,
            "/v1/declarations",
            None,
            Some(&body),
            &[("accept-language", "ja-JP,ja;q=0.9,en;q=0.5")],
        )
        .await;
    ja.assert_status(StatusCode::CREATED);
    let ja = ja.json();
    assert_eq!(ja["lane_preview"], "red");
    assert_eq!(ja["reasons"][0]["code"], "answer.commercial");
    assert_eq!(
        ja["reasons"][0]["message"],
        "商業貨物・商品サンプルを持っていると回答しました。"
    );
    let en = app
        .post_json("/v1/estimate", &json!({"answers": body["answers"]}))
        .await;
    en.assert_status(StatusCode::OK);
    let en = en.json();
    assert_eq!(en["reasons"][0]["code"], "answer.commercial");
    assert_ne!(en["reasons"][0]["message"], ja["reasons"][0]["message"]);
    assert!(en["reasons"][0]["message"].as_str().unwrap().is_ascii());
    // GET localises the stored reasons too.
    let id = ja["id"].as_str().unwrap();
    let ko = app
        .request(
            Method::GET,
            &format!("/v1/declarations/{id}"),
            ja["edit_token"].as_str(),
            None,
            &[("accept-language", "ko")],
        )
        .await
        .json();
    assert!(!ko["reasons"][0]["message"].as_str().unwrap().is_ascii());
}

#[tokio::test]
async fn a_party_sums_its_allowances() {
    let app = spawn().await;
    let items = json!([{"category": "whisky", "quantity": 5, "volume_ml": 700,
        "value": {"amount": 30000, "currency": "JPY"}}]);
    let solo = app
        .post_json("/v1/estimate", &json!({"items": items}))
        .await;
    solo.assert_status(StatusCode::OK);
    assert_eq!(solo.json()["lane_preview"], "red");
    let couple = app
        .post_json(
            "/v1/estimate",
            &json!({"party": {"aged_20_plus": 2, "aged_6_to_19": 0, "under_6": 0}, "items": items}),
        )
        .await;
    assert_eq!(couple.json()["lane_preview"], "green");
    // Estimates store nothing.
    let n = app
        .query(
            "SELECT count(*) FROM declarations",
            "SELECT count(*)::text FROM declarations",
            &[],
        )
        .await;
    assert_eq!(n, [[Some("0".to_owned())]]);
    let bad = app
        .post_json(
            "/v1/estimate",
            &json!({"items": [{"category": "gin", "quantity": 0,
        "volume_ml": 700, "value": {"amount": 1, "currency": "JPY"}}]}),
        )
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&bad.json()), vec!["/items/0/quantity"]);
}

#[tokio::test]
async fn rules_trust_list_health_and_metrics_are_served() {
    let app = spawn().await;
    app.create(&declaration()).await;
    let rules = app.get("/v1/rules", None).await;
    rules.assert_status(StatusCode::OK);
    assert_eq!(rules.json()["id"], "JP-2026");
    let tl = app.get("/v1/jwks", None).await;
    tl.assert_status(StatusCode::OK);
    assert_eq!(tl.header("content-type"), "application/jwk-set+json");
    let tl = tl.json();
    assert_eq!(tl["keys"][0]["kty"], "OKP");
    assert!(tl["keys"][0].get("d").is_none(), "no private part");
    let h = app.get("/healthz", None).await;
    h.assert_status(StatusCode::OK);
    let h = h.json();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["db"], "ok");
    assert_eq!(h["key_ids"][0], tl["keys"][0]["kid"]);
    let m = app.get("/metrics", None).await;
    m.assert_status(StatusCode::OK);
    assert!(
        m.header("content-type")
            .starts_with("application/openmetrics-text")
    );
    let text = String::from_utf8_lossy(&m.body);
    assert!(
        text.contains("mobile_api_declarations_created_total 1"),
        "{text}"
    );
    assert!(text.contains("mobile_api_tokens_issued_total 1"));
    assert!(text.contains(
        "mobile_api_http_requests_total{method=\"POST\",route=\"/v1/declarations\",status=\"201\"} 1"
    ));
    assert!(text.contains("mobile_api_http_request_duration_seconds_bucket"));
    // Security headers on every response.
    assert_eq!(m.header("x-content-type-options"), "nosniff");
}

#[tokio::test]
async fn the_officer_console_reads_a_declaration_its_case_presented_with_the_read_key_only() {
    let app = spawn().await;
    let trust = app.trust_list().await;
    let created = app.create(&declaration()).await;
    let id = created["id"].as_str().unwrap();
    let cti = cti_of(created["qr"]["text"].as_str().unwrap(), &trust);
    let path = format!("/v1/internal/declarations/{id}");
    let case = [
        ("x-egate-gate", "gate-1"),
        ("x-egate-case", "7"),
        ("x-egate-officer", "tanaka"),
    ];
    let read = |key: Option<String>| {
        let (app, path) = (&app, &path);
        async move {
            app.request(Method::GET, path, key.as_deref(), None, &case)
                .await
        }
    };
    // Before the gate reported the case: refused (and audited).
    read(Some(app.read_key.clone()))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let presented = app
        .request(
            Method::POST,
            "/v1/internal/presentations",
            Some(&app.use_report_key),
            Some(&json!({"gate": "gate-1", "presentations": [
                {"case": 7, "declaration_id": id, "cti": cti, "at": 1_800_000_000}]})),
            &[],
        )
        .await;
    presented.assert_status(StatusCode::OK);
    assert_eq!(
        presented.json(),
        json!({"recorded": 1, "known": 0, "unknown": 0})
    );
    let r = read(Some(app.read_key.clone())).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.header("cache-control"), "private, no-store");
    let b = r.json();
    assert_eq!(
        b["declaration"]["passenger"]["passport_number"],
        "TR1234567"
    );
    assert_eq!(b["revision"], 1);
    assert_eq!(b["lane"], "green");
    assert!(b["reasons"].is_array());
    // Without the read key, with an edit token or the use-report key: 401.
    for key in [
        None,
        created["edit_token"].as_str().map(str::to_owned),
        Some(app.use_report_key.clone()),
    ] {
        let r = read(key).await;
        r.assert_status(StatusCode::UNAUTHORIZED);
        assert_eq!(r.header("www-authenticate"), "Bearer");
    }
    // Missing or malformed case headers: 400.
    for bad in [
        &case[..2],
        &[
            ("x-egate-gate", "g"),
            ("x-egate-case", "x"),
            ("x-egate-officer", "o"),
        ][..],
    ] {
        app.request(Method::GET, &path, Some(&app.read_key), None, bad)
            .await
            .assert_status(StatusCode::BAD_REQUEST);
    }
    // The audit: one refused, one allowed, naming the case and the officer.
    let audit = app
        .query(
            "SELECT case_id, officer, allowed, reason FROM declaration_reads ORDER BY id",
            "SELECT case_id::text, officer, allowed::int::text, reason FROM declaration_reads ORDER BY id",
            &[],
        )
        .await;
    let row = |allowed: &str, reason: &str| {
        ["7", "tanaka", allowed, reason]
            .map(|v| Some(v.to_owned()))
            .to_vec()
    };
    assert_eq!(audit, [row("0", "not_presented"), row("1", "presented")]);
    // The public router does not serve it.
    let mut req = Request::builder()
        .uri(&path)
        .header(header::AUTHORIZATION, format!("Bearer {}", app.read_key));
    for (k, v) in case {
        req = req.header(k, v);
    }
    let mut req = req.body(Body::empty()).unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let resp = app.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_gate_use_report_enters_each_token_once_in_the_revocation_feed_as_used() {
    let app = spawn().await;
    let trust = app.trust_list().await;
    let a = app.create(&declaration()).await;
    let b = app.create(&declaration()).await;
    let cti_a = cti_of(a["qr"]["text"].as_str().unwrap(), &trust);
    let cti_b = cti_of(b["qr"]["text"].as_str().unwrap(), &trust);
    let key = app.use_report_key.clone();
    let foreign = shared::feed::cti_base64(&[9u8; 16]);
    let report = json!({"gate": "gate-1", "uses": [
        {"cti": cti_a, "used_at": 1_800_000_000},
        {"cti": foreign, "used_at": 1_800_000_001},
    ]});
    let post = |body: Value, key: Option<String>| {
        let app = &app;
        async move {
            app.request(
                Method::POST,
                "/v1/internal/uses",
                key.as_deref(),
                Some(&body),
                &[],
            )
            .await
        }
    };
    // Without the use-report key (or with an edit token, or the declaration-read key):
    // 401, nothing recorded.
    let r = post(report.clone(), None).await;
    r.assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(r.header("www-authenticate"), "Bearer");
    post(report.clone(), a["edit_token"].as_str().map(str::to_owned))
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    post(report.clone(), Some(app.read_key.clone()))
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let r = post(report.clone(), Some(key.clone())).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json(), json!({"recorded": 1, "known": 0, "unknown": 1}));
    // Reported again (a gate retrying after a lost answer): nothing new.
    let r = post(report, Some(key.clone())).await;
    assert_eq!(r.json(), json!({"recorded": 0, "known": 1, "unknown": 1}));
    let feed = app.get("/v1/revocations?since=0", None).await.json();
    let list = feed["revocations"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{feed}");
    assert_eq!(list[0]["cti"], cti_a);
    assert_eq!(list[0]["reason"], "used");
    // The use is noted on the token row, at the gate's time.
    let used_at = app
        .query(
            "SELECT used_at FROM tokens WHERE cti = ?1",
            "SELECT used_at::text FROM tokens WHERE cti = $1",
            &[&cti_a],
        )
        .await;
    assert_eq!(used_at, [[Some("1800000000".to_owned())]]);

    // Bad reports: a precise 422 or 400, and nothing recorded.
    let bad = post(
        json!({"gate": "gate-1", "uses": [{"cti": cti_b, "used_at": 1}, {"cti": "AAAA", "used_at": 1}]}),
        Some(key.clone()),
    )
    .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["errors"][0]["pointer"], "/uses/1/cti");
    let many: Vec<Value> = (0..1001)
        .map(|_| json!({"cti": cti_b, "used_at": 1}))
        .collect();
    post(json!({"gate": "gate-1", "uses": many}), Some(key.clone()))
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let unknown_field = post(json!({"gate": "g", "uses": [], "x": 1}), Some(key.clone())).await;
    unknown_field.assert_status(StatusCode::BAD_REQUEST);
    let feed = app.get("/v1/revocations?since=0", None).await.json();
    assert_eq!(feed["revocations"].as_array().unwrap().len(), 1);
}

#[test]
fn the_revocations_migration_keeps_the_feed_and_its_sequence() {
    use shared::db::Migration;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let first: Vec<Migration> = mobile_api::store::MIGRATIONS[..1].to_vec();
    {
        let db = shared::db::Db::open(&path, &first).unwrap();
        db.close();
    }
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch(
        "INSERT INTO revocations (cti, reason, at) VALUES ('a', 'superseded', 1), ('b', 'erased', 2);",
    )
    .unwrap();
    drop(c);
    let db = shared::db::Db::open(&path, mobile_api::store::MIGRATIONS).unwrap();
    db.close();
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute(
        "INSERT INTO revocations (cti, reason, at) VALUES ('c', 'used', 3)",
        [],
    )
    .unwrap();
    let rows: Vec<(i64, String, String)> = c
        .prepare("SELECT seq, cti, reason FROM revocations ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows,
        vec![
            (1, "a".into(), "superseded".into()),
            (2, "b".into(), "erased".into()),
            (3, "c".into(), "used".into()),
        ]
    );
    assert!(
        c.execute(
            "INSERT INTO revocations (cti, reason, at) VALUES ('d', 'other', 4)",
            []
        )
        .is_err()
    );
}

#[tokio::test]
async fn the_openapi_document_is_generated_and_lists_every_path_and_the_bearer_schemes() {
    let app = spawn().await;
    let r = app.get("/openapi.json", None).await;
    r.assert_status(StatusCode::OK);
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/v1/declarations",
        "/v1/declarations/{id}",
        "/v1/declarations/{id}/qr.png",
        "/v1/declarations/{id}/qr.svg",
        "/v1/estimate",
        "/v1/rules",
        "/v1/revocations",
        "/v1/trust-list",
        "/v1/jwks",
        "/v1/internal/declarations/{id}",
        "/v1/internal/uses",
        "/v1/internal/presentations",
        "/openapi.json",
        "/healthz",
        "/metrics",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    for m in ["get", "put", "delete"] {
        assert!(paths["/v1/declarations/{id}"].get(m).is_some());
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["edit_token"]["scheme"], "bearer");
    assert_eq!(schemes["use_report_key"]["scheme"], "bearer");
    assert_eq!(schemes["declaration_read_key"]["scheme"], "bearer");
    let create = &paths["/v1/declarations"]["post"]["responses"];
    assert!(create["422"]["content"]["application/problem+json"].is_object());
    assert!(create["429"]["headers"]["Retry-After"].is_object());
    // The documented request body lists exactly the fields the real type accepts.
    let schemas = &doc["components"]["schemas"];
    let real = serde_json::to_value(shared::domain::DeclarationInput::default()).unwrap();
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&schemas["DeclarationInputDoc"]["properties"]),
        keys(&real)
    );
    assert_eq!(
        keys(&schemas["PassengerInputDoc"]["properties"]),
        keys(&real["passenger"])
    );
    assert_eq!(
        keys(&schemas["TripInputDoc"]["properties"]),
        keys(&real["trip"])
    );
    assert_eq!(
        keys(&schemas["AnswersDoc"]["properties"]),
        keys(&real["answers"])
    );
    assert_eq!(
        keys(&schemas["PartyDoc"]["properties"]),
        keys(&real["party"])
    );
    let item: shared::domain::ItemInput = serde_json::from_value(json!({"category": "gin",
        "quantity": 1, "value": {"amount": 1, "currency": "JPY"}}))
    .unwrap();
    let item = serde_json::to_value(item).unwrap();
    assert_eq!(keys(&schemas["ItemInputDoc"]["properties"]), keys(&item));
    assert_eq!(
        keys(&schemas["MoneyInputDoc"]["properties"]),
        keys(&item["value"])
    );
}
