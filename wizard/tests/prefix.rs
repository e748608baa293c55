//! The wizard mounted under a URL prefix (in process): every page, form, link and
//! redirect stays under it, and the service's own routes merged in answer beside it.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use shared::issuer::{TokenPolicy, Validity};
use shared::rules::RulesProfile;
use std::sync::Arc;
use tower::ServiceExt;
use wizard::{Receipt, Submission, Submit, SubmitError, SubmitFuture, WizardConfig, WizardState};

struct Refuse;

impl Submit for Refuse {
    fn submit(&self, _: Submission) -> SubmitFuture<'_, Receipt> {
        Box::pin(async { Err(SubmitError::Internal("not in this test".into())) })
    }
}

fn app() -> Router {
    let mut config = WizardConfig::personal_phone(false);
    config.prefix = "/declare".into();
    let profile = Arc::new(RulesProfile::jp_2026());
    let policy = TokenPolicy::for_profile(Validity::default(), &profile);
    let state = WizardState::new(
        config,
        shared::clock::system(),
        profile,
        policy,
        Arc::new(Refuse),
    );
    let own = Router::new().route("/healthz", axum::routing::get(|| async { "ok" }));
    wizard::mount(own, state)
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn pages_forms_and_redirects_stay_under_the_prefix() {
    let app = app();
    let (status, headers, body) = send(
        &app,
        Request::get("/declare/")
            .header("accept-language", "ko")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<html lang=\"ko\""));
    assert!(body.contains("action=\"/declare/start\""), "{body}");
    assert!(body.contains("href=\"/declare/static/wizard.css\""));
    assert!(body.contains("action=\"/declare/lang\""));
    let cookie = headers["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let csrf = body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let (status, headers, _) = send(
        &app,
        Request::post("/declare/start")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", &cookie)
            .body(Body::from(format!("csrf={csrf}&lang=en")))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/declare/passport");
    // "Done" leads to the app shell's list, which is not under the prefix.
    let (status, headers, _) = send(
        &app,
        Request::post("/declare/finish")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("csrf=x"))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/my");
    // Without a session a step sends the passenger to the prefixed start page.
    let (status, headers, _) = send(
        &app,
        Request::get("/declare/trip").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/declare/");
    let (status, _, css) = send(
        &app,
        Request::get("/declare/static/wizard.css")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(css.contains("html.phone"));
    // The service's own route beside the wizard; an unknown page is the wizard's 404.
    let (status, _, body) = send(&app, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
    let (status, _, body) = send(
        &app,
        Request::get("/declare/nowhere")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("href=\"/declare/\""), "{body}");
}
