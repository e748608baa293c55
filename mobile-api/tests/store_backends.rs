//! The declaration store's tests, each run on both backends (`on_both!`: a `sqlite` and
//! a `postgres` test per case): the API's declaration life cycle and the feed it
//! writes, the one-transaction writes, concurrent amendments, the retention purge.
//! The PostgreSQL ones need `EGATE_TEST_DATABASE_URL` (scripts/test.sh starts a server)
//! and fail without it.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use mobile_api::storage::Store;
use mobile_api::store::{Revision, TokenRecord};
use mobile_api::{AppState, Config, build, build_app};
use serde_json::{Value, json};
use std::net::SocketAddr;
use tower::ServiceExt as _;

#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

struct App {
    state: AppState,
    router: axum::Router,
    _dir: tempfile::TempDir,
}

async fn app(backend: Backend) -> App {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config::for_tests(dir.path());
    // The tests run the purge themselves.
    cfg.background_tasks = false;
    if let Backend::Postgres = backend {
        cfg.database_url = Some(shared::pg::testing::fresh_database().await);
    }
    let state = build(cfg).await.unwrap();
    App {
        router: build_app(state.clone()),
        state,
        _dir: dir,
    }
}

macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = super::app(super::Backend::Sqlite).await;
                super::$name(&app).await;
                app.state.db.close();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = super::app(super::Backend::Postgres).await;
                super::$name(&app).await;
                app.state.db.close();
            }
        }
    };
}

impl App {
    async fn send(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        let mut req = req.body(body).unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn feed(&self) -> Vec<(String, String)> {
        let (s, v) = self
            .send(Method::GET, "/v1/revocations?since=0", None, None)
            .await;
        assert_eq!(s, StatusCode::OK);
        v["revocations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["cti"].as_str().unwrap().to_owned(),
                    r["reason"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

fn declaration(whisky: u32) -> Value {
    let arrival = time::OffsetDateTime::now_utc().date() + time::Duration::days(2);
    json!({
        "passenger": {
            "surname": "Tanaka", "given_names": "Hanako", "nationality": "JPN",
            "birth_date": "1985-04-12", "sex": "F", "passport_number": "TR1234567",
            "passport_expiry": "2035-01-31"
        },
        "trip": {
            "flight": "NH 212", "origin": "LHR", "arrival_date": arrival.to_string(),
            "address_in_japan": "Hotel Sakura, 1-2-3 Ginza, Chuo-ku, Tokyo",
            "phone": "+81 90 1234 5678", "occupation": "Engineer"
        },
        "party": {"aged_20_plus": 1, "aged_6_to_19": 0, "under_6": 0},
        "answers": {
            "prohibited": false, "over_allowance": false, "commercial": false,
            "for_others": false, "means_of_payment_over_limit": false,
            "precious_metal_over_1kg": false, "unaccompanied_packages": 0
        },
        "items": [{"category": "whisky", "description": "Single malt", "quantity": whisky,
            "volume_ml": 700, "value": {"amount": 120.5, "currency": "GBP"}}]
    })
}

/// The current token id of a declaration, from the store.
async fn cti_of(store: &Store, id: &str) -> String {
    store.get(id.to_owned()).await.unwrap().unwrap().cti
}

on_both!(a_declaration_is_created_amended_and_erased_and_the_feed_follows);
async fn a_declaration_is_created_amended_and_erased_and_the_feed_follows(app: &App) {
    let (s, created) = app
        .send(Method::POST, "/v1/declarations", None, Some(declaration(1)))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let token = created["edit_token"].as_str().unwrap().to_owned();
    let first_cti = cti_of(&app.state.db, &id).await;
    assert!(app.feed().await.is_empty());
    let url = format!("/v1/declarations/{id}");
    let (s, read) = app.send(Method::GET, &url, Some(&token), None).await;
    assert_eq!((s, read["revision"].as_u64()), (StatusCode::OK, Some(1)));
    let (s, _) = app.send(Method::GET, &url, Some("wrong"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, amended) = app
        .send(Method::PUT, &url, Some(&token), Some(declaration(2)))
        .await;
    assert_eq!(
        (s, amended["revision"].as_u64()),
        (StatusCode::OK, Some(2)),
        "{amended}"
    );
    let second_cti = cti_of(&app.state.db, &id).await;
    assert_ne!(first_cti, second_cti);
    assert_eq!(
        app.feed().await,
        [(first_cti.clone(), "superseded".to_owned())]
    );
    let (s, _) = app.send(Method::DELETE, &url, Some(&token), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        app.feed().await,
        [
            (first_cti, "superseded".to_owned()),
            (second_cti, "erased".to_owned())
        ]
    );
    let (s, _) = app.send(Method::GET, &url, Some(&token), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let row = app.state.db.get(id).await.unwrap().unwrap();
    assert!(row.body.is_none() && row.qr_text.is_none() && row.erased_at.is_some());
    let (s, health) = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!((s, health["db"].as_str()), (StatusCode::OK, Some("ok")));
}

fn revision(n: u32, cti: &str) -> Revision {
    Revision {
        revision: n,
        body: serde_json::from_value(declaration(1)).unwrap(),
        arrival_date: "2030-01-01".into(),
        profile_id: "jp".into(),
        lane: "green".into(),
        reasons: vec![],
        duty: json!({}),
        token: TokenRecord {
            cti: cti.into(),
            kid: "k".into(),
            iat: 1,
            exp: 2,
            text: format!("CD1:{cti}"),
        },
    }
}

on_both!(a_write_that_fails_half_way_leaves_nothing_behind);
async fn a_write_that_fails_half_way_leaves_nothing_behind(app: &App) {
    let store = &app.state.db;
    store
        .insert("d1".into(), "h".into(), revision(1, "t1"), 10)
        .await
        .unwrap();
    // A second declaration whose token id is taken: the token row fails after the
    // declaration row went in; the declaration must not stay.
    assert!(
        store
            .insert("d2".into(), "h".into(), revision(1, "t1"), 10)
            .await
            .is_err()
    );
    assert!(store.get("d2".into()).await.unwrap().is_none());
    // An amendment whose new token id is taken: no new revision, no feed entry.
    assert!(
        store
            .replace("d1".into(), revision(2, "t1"), 11)
            .await
            .is_err()
    );
    assert_eq!(store.get("d1".into()).await.unwrap().unwrap().revision, 1);
    assert!(
        store
            .issuer()
            .revocations_since(0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .replace("d1".into(), revision(2, "t2"), 12)
            .await
            .unwrap()
    );
    assert_eq!(
        store.issuer().revocations_since(0, 10).await.unwrap().len(),
        1
    );
    assert_eq!(store.issuer().token_count().await.unwrap(), 2);
}

on_both!(two_amendments_of_one_revision_make_one_revision_and_one_conflict);
async fn two_amendments_of_one_revision_make_one_revision_and_one_conflict(app: &App) {
    let store = app.state.db.clone();
    store
        .insert("d1".into(), "h".into(), revision(1, "t1"), 10)
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        store.replace("d1".into(), revision(2, "ta"), 11),
        store.replace("d1".into(), revision(2, "tb"), 11)
    );
    let mut outcomes = [a.unwrap(), b.unwrap()];
    outcomes.sort();
    assert_eq!(outcomes, [false, true]);
    let feed = store.issuer().revocations_since(0, 10).await.unwrap();
    assert_eq!(feed.len(), 1, "the first token is superseded once");
    assert_eq!(feed[0].cti, "t1");
}

on_both!(the_retention_purge_erases_only_declarations_arriving_before_the_cutoff);
async fn the_retention_purge_erases_only_declarations_arriving_before_the_cutoff(app: &App) {
    let store = &app.state.db;
    let mut old = revision(1, "t1");
    old.arrival_date = "2020-01-01".into();
    store
        .insert("old".into(), "h".into(), old, 10)
        .await
        .unwrap();
    store
        .insert("new".into(), "h".into(), revision(1, "t2"), 10)
        .await
        .unwrap();
    assert_eq!(
        store.purge_before("2025-01-01".into(), 20).await.unwrap(),
        1
    );
    let old = store.get("old".into()).await.unwrap().unwrap();
    assert!(old.body.is_none() && old.edit_token_hash.is_none() && old.erased_at == Some(20));
    assert!(
        store
            .get("new".into())
            .await
            .unwrap()
            .unwrap()
            .body
            .is_some()
    );
    assert_eq!(
        store.purge_before("2025-01-01".into(), 21).await.unwrap(),
        0
    );
}
