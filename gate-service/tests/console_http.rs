//! HTTP tests of the officer console, in process (oneshot), cookies carried by hand:
//! sign-in, throttling and locks, session expiry, logout, CSRF, the route × role
//! matrix, the queue after a RED scan, outcomes and supersession, payments, receipts,
//! search, the dashboard and the security headers.

mod console_support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use console_support::{Jar, PASSWORD, TestApp};
use time::Duration;

#[tokio::test]
async fn signing_in_with_the_right_password_opens_a_session_on_the_queue() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    let mut jar = Jar::default();
    let r = app
        .login_from(&mut jar, "Tanaka", PASSWORD, "10.0.0.1")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/console/queue");
    let cookie = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("egate_session="))
        .unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain-HTTP test config");
    let q = app.get("/console/queue", &mut jar).await;
    assert_eq!(q.status, StatusCode::OK);
    assert!(q.body.contains("id=\"logout\""));
    // Only the hash of the session id is stored.
    let token = jar.0["egate_session"].clone();
    let stored: Vec<String> = app
        .state
        .db
        .read(|c| -> Result<Vec<String>, shared::db::DbError> {
            let mut st = c.prepare("SELECT id_hash FROM sessions")?;
            Ok(st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?)
        })
        .await
        .unwrap();
    assert_eq!(stored, [shared::web::token_hash(&token)]);
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_recorded_without_a_session() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    let mut jar = Jar::default();
    let r = app
        .login_from(&mut jar, "tanaka", "not the password", "10.0.0.1")
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("id=\"login-error\""));
    assert!(!jar.0.contains_key("egate_session"));
    let r = app
        .login_from(&mut jar, "nobody", "whatever whatever", "10.0.0.1")
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let n: i64 = app
        .state
        .db
        .read(|c| -> Result<i64, shared::db::DbError> {
            Ok(c.query_row(
                "SELECT count(*) FROM login_attempts WHERE success = 0",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn the_sixth_attempt_after_five_failures_is_throttled_even_with_the_right_password() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    let mut jar = Jar::default();
    for i in 0..5 {
        // Each from another address: the per-account limit is what bites.
        let r = app
            .login_from(&mut jar, "tanaka", "wrong password", &format!("10.0.1.{i}"))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let r = app
        .login_from(&mut jar, "tanaka", PASSWORD, "10.0.2.1")
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers[header::RETRY_AFTER], "30");
    assert!(r.body.contains("30"), "the page says how long to wait");
    // After the delay the right password works.
    app.clock.advance(Duration::seconds(31));
    let r = app
        .login_from(&mut jar, "tanaka", PASSWORD, "10.0.2.1")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn failures_from_one_address_across_accounts_are_throttled_per_address() {
    let app = TestApp::new().await;
    app.officer("sato", "officer").await;
    let mut jar = Jar::default();
    for i in 0..5 {
        let r = app
            .login_from(&mut jar, &format!("user{i}"), "wrong password", "10.9.9.9")
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = app.login_from(&mut jar, "sato", PASSWORD, "10.9.9.9").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // Another address is not affected.
    let r = app
        .login_from(&mut jar, "sato", PASSWORD, "10.9.9.10")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_account_locked_after_eight_failures_unlocks_by_itself_after_the_period() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    let mut jar = Jar::default();
    for i in 0..8 {
        let r = app
            .login_from(&mut jar, "tanaka", "wrong password", &format!("10.0.3.{i}"))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "failure {i}");
        // Wait out each growing delay (30, 60, 120, 240, 480 s) but stay in the window.
        app.clock
            .advance(Duration::seconds(if i >= 4 { 30 << (i - 4) } else { 1 }));
        if i >= 4 {
            app.clock.advance(Duration::seconds(1));
        }
    }
    // Locked: refused for the lock period, and hammering does not extend it.
    for _ in 0..3 {
        let r = app
            .login_from(&mut jar, "tanaka", PASSWORD, "10.0.4.1")
            .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        app.clock.advance(Duration::minutes(4));
    }
    app.clock.advance(Duration::minutes(4));
    let r = app
        .login_from(&mut jar, "tanaka", PASSWORD, "10.0.4.1")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

#[tokio::test]
async fn an_idle_session_expires_on_the_server() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    let mut jar = app.session("tanaka").await;
    app.clock.advance(Duration::minutes(14));
    assert_eq!(
        app.get("/console/queue", &mut jar).await.status,
        StatusCode::OK
    );
    app.clock.advance(Duration::minutes(14));
    assert_eq!(
        app.get("/console/queue", &mut jar).await.status,
        StatusCode::OK,
        "activity keeps it alive"
    );
    app.clock.advance(Duration::minutes(16));
    let r = app.get("/console/queue", &mut jar).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/console/login");
}

#[tokio::test]
async fn a_session_ends_at_the_absolute_limit_even_when_active() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    let mut jar = app.session("tanaka").await;
    for _ in 0..(12 * 6 - 1) {
        app.clock.advance(Duration::minutes(10));
        assert_eq!(
            app.get("/console/queue", &mut jar).await.status,
            StatusCode::OK
        );
    }
    app.clock.advance(Duration::minutes(10));
    assert_eq!(
        app.get("/console/queue", &mut jar).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn logout_ends_the_server_session_and_the_old_cookie_is_refused() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    let mut jar = app.session("tanaka").await;
    let old = jar.clone();
    let csrf = app.csrf(&mut jar).await;
    let r = app
        .post_form("/console/logout", &mut jar, &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        !jar.0.contains_key("egate_session"),
        "the cookie is cleared"
    );
    let mut replay = old;
    let r = app.get("/console/queue", &mut replay).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "the server session is gone"
    );
}

#[tokio::test]
async fn signing_in_again_rotates_the_session_id_and_revokes_the_previous_one() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    let mut jar = app.session("tanaka").await;
    let first = jar.clone();
    let r = app
        .login_from(&mut jar, "tanaka", PASSWORD, "10.0.0.1")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_ne!(first.0["egate_session"], jar.0["egate_session"]);
    let mut old = first;
    assert_eq!(
        app.get("/console/queue", &mut old).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.get("/console/queue", &mut jar).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_post_without_or_with_a_wrong_csrf_token_is_refused_with_403() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    let case = app.red_scan("NH212", "D-CSRF").await;
    let mut jar = app.session("tanaka").await;
    let path = format!("/console/cases/{case}/outcome");
    let r = app.post_form(&path, &mut jar, &[("kind", "cleared")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("id=\"error\""), "an HTML error page");
    let r = app
        .post_form(&path, &mut jar, &[("csrf", "forged"), ("kind", "cleared")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The login form needs its double-submit cookie too.
    let r = app
        .post_form(
            "/console/login",
            &mut Jar::default(),
            &[
                ("csrf", "x"),
                ("username", "tanaka"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let n: i64 = app
        .state
        .db
        .read(|c| -> Result<i64, shared::db::DbError> {
            Ok(c.query_row("SELECT count(*) FROM outcomes", [], |r| r.get(0))?)
        })
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn every_console_route_answers_each_role_as_expected() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    app.officer("boss", "supervisor").await;
    let case = app.red_scan("NH212", "D-MATRIX").await;
    let mut officer = app.session("tanaka").await;
    let mut supervisor = app.session("boss").await;
    // Record an outcome and a payment so every page exists.
    let csrf = app.csrf(&mut supervisor).await;
    let r = app
        .post_form(
            &format!("/console/cases/{case}/outcome"),
            &mut supervisor,
            &[
                ("csrf", &csrf),
                ("kind", "duty_assessed"),
                ("amount_source", "estimate"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = app
        .post_form(
            &format!("/console/cases/{case}/payment"),
            &mut supervisor,
            &[
                ("csrf", &csrf),
                ("method", "cash"),
                ("amount_yen", "100"),
                ("idempotency_key", "matrix-payment-key-0001"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let receipt = r.location().to_owned();
    let tanaka_id: i64 = app
        .state
        .db
        .read(|c| -> Result<i64, shared::db::DbError> {
            Ok(c.query_row(
                "SELECT id FROM officers WHERE username = 'tanaka'",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();

    // (method, path, anonymous, officer, supervisor)
    use StatusCode as S;
    let gets: Vec<(String, S, S, S)> = vec![
        ("/console".into(), S::SEE_OTHER, S::SEE_OTHER, S::SEE_OTHER),
        ("/console/login".into(), S::OK, S::OK, S::OK),
        ("/console/static/console.css".into(), S::OK, S::OK, S::OK),
        ("/console/queue".into(), S::SEE_OTHER, S::OK, S::OK),
        ("/console/search".into(), S::SEE_OTHER, S::OK, S::OK),
        (
            "/console/dashboard".into(),
            S::SEE_OTHER,
            S::FORBIDDEN,
            S::OK,
        ),
        (format!("/console/cases/{case}"), S::SEE_OTHER, S::OK, S::OK),
        (receipt.clone(), S::SEE_OTHER, S::OK, S::OK),
        ("/console/account".into(), S::SEE_OTHER, S::OK, S::OK),
        (
            "/console/accounts".into(),
            S::SEE_OTHER,
            S::FORBIDDEN,
            S::OK,
        ),
        (
            "/console/no-such-page".into(),
            S::NOT_FOUND,
            S::NOT_FOUND,
            S::NOT_FOUND,
        ),
    ];
    for (path, anon, off, sup) in gets {
        assert_eq!(
            app.get(&path, &mut Jar::default()).await.status,
            anon,
            "anonymous GET {path}"
        );
        assert_eq!(
            app.get(&path, &mut officer).await.status,
            off,
            "officer GET {path}"
        );
        assert_eq!(
            app.get(&path, &mut supervisor).await.status,
            sup,
            "supervisor GET {path}"
        );
    }
    // POSTs with a valid token of each session; anonymous ones carry no session.
    type Post<'a> = (String, Vec<(&'a str, &'a str)>, S, S);
    let posts: Vec<Post> = vec![
        (
            format!("/console/cases/{case}/take"),
            vec![],
            S::SEE_OTHER,
            S::SEE_OTHER,
        ),
        (
            format!("/console/cases/{case}/adjust"),
            vec![("n", "0")],
            S::CONFLICT,
            S::CONFLICT,
        ),
        (
            format!("/console/cases/{case}/outcome"),
            vec![("kind", "cleared")],
            S::CONFLICT,
            S::CONFLICT,
        ),
        (
            format!("/console/cases/{case}/supersede"),
            vec![("kind", "cleared"), ("supersede_reason", "matrix")],
            S::FORBIDDEN,
            S::SEE_OTHER,
        ),
        (
            format!("/console/cases/{case}/payment"),
            vec![
                ("method", "card"),
                ("amount_yen", "1"),
                ("idempotency_key", "matrix-payment-key-0002"),
            ],
            S::CONFLICT,
            S::CONFLICT,
        ),
        (
            format!("/console/accounts/{tanaka_id}/unlock"),
            vec![],
            S::FORBIDDEN,
            S::SEE_OTHER,
        ),
        (
            "/console/account/password".into(),
            vec![("new_password", "short"), ("new_password_confirm", "short")],
            S::UNPROCESSABLE_ENTITY,
            S::UNPROCESSABLE_ENTITY,
        ),
        ("/console/logout".into(), vec![], S::SEE_OTHER, S::SEE_OTHER),
    ];
    for (path, fields, off, sup) in posts {
        let r = app
            .post_form(&path, &mut Jar::default(), &[("csrf", "x")])
            .await;
        assert_eq!(r.status, S::FORBIDDEN, "anonymous POST {path}");
        for (jar, expected, who) in [
            (&mut officer, off, "officer"),
            (&mut supervisor, sup, "supervisor"),
        ] {
            let csrf = app.csrf(jar).await;
            let mut f = vec![("csrf", csrf.as_str())];
            f.extend(fields.iter().copied());
            let r = app.post_form(&path, jar, &f).await;
            assert_eq!(r.status, expected, "{who} POST {path}: {}", r.body);
        }
    }
}

#[tokio::test]
async fn the_queue_shows_a_red_scan_newest_first_and_filters_by_flight_and_status() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    let first = app.red_scan("NH212", "D-Q1").await;
    app.clock.advance(Duration::minutes(7));
    let second = app.red_scan("JL43", "D-Q2").await;
    let mut jar = app.session("tanaka").await;
    let r = app.get("/console/queue", &mut jar).await;
    assert_eq!(r.status, StatusCode::OK);
    let a = r.body.find(&format!("data-case=\"{second}\"")).unwrap();
    let b = r.body.find(&format!("data-case=\"{first}\"")).unwrap();
    assert!(a < b, "newest first");
    assert!(r.body.contains("NH212") && r.body.contains("JL43"));
    assert!(
        r.body.contains("declaration.items_to_declare"),
        "reason codes are listed"
    );
    assert!(
        r.body.contains(">7</td>"),
        "the first case has waited 7 minutes"
    );
    assert!(
        r.body.contains(
            "http-equiv=\"refresh\" content=\"30; url=/console/queue?flight=&#38;status=open&#38;refresh=auto\""
        ),
        "{}",
        r.body
    );
    let r = app.get("/console/queue?flight=nh%200212", &mut jar).await;
    assert!(r.body.contains(&format!("data-case=\"{first}\"")));
    assert!(!r.body.contains(&format!("data-case=\"{second}\"")));
    assert!(
        r.body
            .contains("url=/console/queue?flight=nh+0212&#38;status=open"),
        "the refresh keeps the filter"
    );
    let r = app.get("/console/queue?status=closed", &mut jar).await;
    assert!(r.body.contains("id=\"queue-empty\""));
}

#[tokio::test]
async fn the_case_page_shows_the_scan_identity_reasons_and_duty_and_an_adjustment_recomputes_it() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    let case = app.red_scan("NH212", "D-CASE").await;
    let mut jar = app.session("tanaka").await;
    let r = app.get(&format!("/console/cases/{case}"), &mut jar).await;
    assert_eq!(r.status, StatusCode::OK);
    for s in [
        "ERIKSSON",
        "L898902C3",
        "D-CASE",
        "NH212",
        "declaration.items_to_declare",
        "id=\"duty-original\"",
        "id=\"adjust-form\"",
    ] {
        assert!(r.body.contains(s), "case page lacks {s}");
    }
    assert!(
        r.body.contains("console-full") || r.body.contains("issuer"),
        "full-declaration section present"
    );
    let before = app
        .state
        .db
        .read(|c| -> Result<String, shared::db::DbError> {
            Ok(c.query_row("SELECT status FROM cases", [], |r| r.get(0))?)
        })
        .await
        .unwrap();
    assert_eq!(before, "waiting", "a GET changes nothing");
    // The officer finds the bag was worth more and adds a watch.
    let csrf = r.csrf();
    let r = app
        .post_form(
            &format!("/console/cases/{case}/adjust"),
            &mut jar,
            &[
                ("csrf", &csrf),
                ("n", "3"),
                ("c0", "whisky"),
                ("q0", "5"),
                ("v0", "700"),
                ("a0", "25000"),
                ("cur0", "JPY"),
                ("c1", "bags_accessories"),
                ("q1", "1"),
                ("a1", "400000"),
                ("cur1", "JPY"),
                ("c2", "watches_jewellery"),
                ("q2", "1"),
                ("a2", "90000"),
                ("cur2", "JPY"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = app.get(&format!("/console/cases/{case}"), &mut jar).await;
    assert!(r.body.contains("id=\"duty-adjusted\""));
    let (status, n): (String, i64) = app
        .state
        .db
        .read(|c| -> Result<_, shared::db::DbError> {
            Ok((
                c.query_row("SELECT status FROM cases", [], |r| r.get(0))?,
                c.query_row("SELECT count(*) FROM case_adjustments", [], |r| r.get(0))?,
            ))
        })
        .await
        .unwrap();
    assert_eq!((status.as_str(), n), ("in_progress", 1));
    // A bad line is refused with the form kept and the error shown.
    let r = app
        .post_form(
            &format!("/console/cases/{case}/adjust"),
            &mut jar,
            &[
                ("csrf", &csrf),
                ("n", "1"),
                ("c0", "whisky"),
                ("q0", "two"),
                ("a0", "1"),
                ("cur0", "JPY"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"adjust-errors\""));
}

#[tokio::test]
async fn an_outcome_is_immutable_and_only_a_supervisor_supersedes_it_with_a_reason() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    app.officer("boss", "supervisor").await;
    let case = app.red_scan("NH212", "D-OUT").await;
    let mut jar = app.session("tanaka").await;
    let csrf = app.csrf(&mut jar).await;
    let path = format!("/console/cases/{case}/outcome");
    let r = app
        .post_form(
            &path,
            &mut jar,
            &[
                ("csrf", &csrf),
                ("kind", "duty_assessed"),
                ("amount_source", "entered"),
                ("amount_yen", "12,000"),
                ("amount_reason", "watch found"),
                ("note", "bag inspected"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = app
        .post_form(&path, &mut jar, &[("csrf", &csrf), ("kind", "cleared")])
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "a second outcome is refused"
    );
    // An entered amount needs a reason.
    let r = app
        .post_form(
            &format!("/console/cases/{case}/supersede"),
            &mut jar,
            &[
                ("csrf", &csrf),
                ("kind", "cleared"),
                ("supersede_reason", "x"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "officers cannot supersede");
    let mut boss = app.session("boss").await;
    let bcsrf = app.csrf(&mut boss).await;
    let r = app
        .post_form(
            &format!("/console/cases/{case}/supersede"),
            &mut boss,
            &[("csrf", &bcsrf), ("kind", "cleared")],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is required"
    );
    let r = app
        .post_form(
            &format!("/console/cases/{case}/supersede"),
            &mut boss,
            &[
                ("csrf", &bcsrf),
                ("kind", "cleared"),
                ("supersede_reason", "receipt shows lower value"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app.get(&format!("/console/cases/{case}"), &mut jar).await;
    assert_eq!(
        page.body.matches("data-outcome=").count(),
        2,
        "history shows both"
    );
    assert!(
        page.body.contains("receipt shows lower value")
            && page.body.contains("bag inspected")
            && page.body.contains("¥12,000")
    );
    // The database refuses edits and deletions outright, by its append-only triggers.
    let err = app
        .state
        .db
        .write(|c| -> Result<usize, shared::db::DbError> {
            Ok(c.execute("UPDATE outcomes SET kind = 'cleared'", [])?)
        })
        .await
        .expect_err("an outcome cannot be edited");
    assert!(
        err.to_string().contains("outcomes are append-only"),
        "refused by the trigger: {err}"
    );
    let err = app
        .state
        .db
        .write(|c| -> Result<usize, shared::db::DbError> {
            Ok(c.execute("DELETE FROM audit_log", [])?)
        })
        .await
        .expect_err("the audit log cannot be deleted");
    assert!(
        err.to_string().contains("the audit log is append-only"),
        "refused by the trigger: {err}"
    );
    let kinds: Vec<String> = app
        .state
        .db
        .read(|c| -> Result<Vec<String>, shared::db::DbError> {
            let mut st = c.prepare("SELECT kind FROM outcomes ORDER BY id")?;
            Ok(st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?)
        })
        .await
        .unwrap();
    assert_eq!(
        kinds,
        ["duty_assessed", "cleared"],
        "both outcomes kept as recorded"
    );
    let actions: Vec<String> = app
        .state
        .db
        .read(|c| -> Result<Vec<String>, shared::db::DbError> {
            let mut st =
                c.prepare("SELECT action FROM audit_log WHERE case_id IS NOT NULL ORDER BY id")?;
            Ok(st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?)
        })
        .await
        .unwrap();
    assert_eq!(actions, ["outcome.recorded", "outcome.superseded"]);
}

#[tokio::test]
async fn a_payment_for_assessed_duty_is_recorded_and_its_receipt_prints() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    let case = app.red_scan("NH212", "D-PAY").await;
    let mut jar = app.session("tanaka").await;
    let csrf = app.csrf(&mut jar).await;
    let r = app
        .post_form(
            &format!("/console/cases/{case}/payment"),
            &mut jar,
            &[
                ("csrf", &csrf),
                ("method", "cash"),
                ("amount_yen", "100"),
                ("idempotency_key", "no-duty-yet-form-key"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "no assessed duty yet");
    let r = app
        .post_form(
            &format!("/console/cases/{case}/outcome"),
            &mut jar,
            &[
                ("csrf", &csrf),
                ("kind", "duty_assessed"),
                ("amount_source", "estimate"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = app.get(&format!("/console/cases/{case}"), &mut jar).await;
    assert!(page.body.contains("id=\"payment-form\""));
    // The form proposes what is left to pay: the assessed duty.
    let due: String = page
        .body
        .split("name=\"amount_yen\" inputmode=\"numeric\" value=\"")
        .nth(1)
        .and_then(|v| v.split('"').next())
        .unwrap()
        .to_owned();
    let due_yen = format!(
        "¥{}",
        shared::rules::group_thousands(due.parse::<u64>().unwrap())
    );
    let r = app
        .post_form(
            &format!("/console/cases/{case}/payment"),
            &mut jar,
            &[
                ("csrf", &csrf),
                ("method", "qr_payment"),
                ("reference", "PAYPAY-778"),
                ("amount_yen", &due),
                ("idempotency_key", &page.payment_key()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let receipt = app.get(r.location(), &mut jar).await;
    assert_eq!(receipt.status, StatusCode::OK);
    for s in [
        "id=\"receipt\"",
        due_yen.as_str(),
        "PAYPAY-778",
        "D-PAY",
        "ERIKSSON",
    ] {
        assert!(receipt.body.contains(s), "receipt lacks {s}");
    }
    let css = app.get("/console/static/console.css", &mut jar).await;
    assert!(css.body.contains("@media print"));
}

#[tokio::test]
async fn console_pages_carry_a_nonce_csp_and_the_security_headers_in_the_chosen_language() {
    let app = TestApp::new().await;
    let req = Request::get("/console/login")
        .header(header::ACCEPT_LANGUAGE, "ja,en;q=0.5")
        .body(Body::empty())
        .unwrap();
    let r = app.send(req, "10.0.0.1").await;
    let csp = r.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.starts_with("default-src 'none'; style-src 'self' 'nonce-"),
        "{csp}"
    );
    for d in [
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(d), "{csp}");
    }
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(r.body.contains(&format!("nonce=\"{nonce}\"")));
    assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(r.headers[header::REFERRER_POLICY], "no-referrer");
    assert_eq!(r.headers[header::CACHE_CONTROL], "no-store");
    assert!(r.body.contains("<html lang=\"ja\">") && r.body.contains("職員ログイン"));
    let r2 = app
        .send(
            Request::get("/console/login").body(Body::empty()).unwrap(),
            "10.0.0.1",
        )
        .await;
    assert_ne!(
        r2.headers[header::CONTENT_SECURITY_POLICY],
        r.headers[header::CONTENT_SECURITY_POLICY],
        "a nonce per response"
    );
    let mut jar = Jar::default();
    let r = app.get("/console/login?lang=en", &mut jar).await;
    assert!(r.body.contains("<html lang=\"en\">") && r.body.contains("Officer sign-in"));
    assert_eq!(jar.0["egate_console_lang"], "en");
}

#[tokio::test]
async fn search_finds_scans_by_flight_date_declaration_and_decision() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    app.red_scan("NH212", "D-S1").await;
    app.red_scan("JL43", "D-S2").await;
    let mut jar = app.session("tanaka").await;
    let r = app.get("/console/search?flight=JL43", &mut jar).await;
    assert!(r.body.contains("D-S2") && !r.body.contains("D-S1"));
    let r = app
        .get(
            "/console/search?declaration_id=D-S1&decision=red&date=2026-11-01",
            &mut jar,
        )
        .await;
    assert!(r.body.contains("D-S1") && !r.body.contains("D-S2"));
    let r = app.get("/console/search?decision=green", &mut jar).await;
    assert!(!r.body.contains("D-S1"));
    let r = app.get("/console/search?date=2026-13-45", &mut jar).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        !r.body.contains("ERIKSSON"),
        "no personal data in search results"
    );
}

#[tokio::test]
async fn the_dashboard_draws_server_side_svg_charts_for_supervisors() {
    let app = TestApp::new().await;
    app.officer("boss", "supervisor").await;
    let case = app.red_scan("NH212", "D-DASH").await;
    let mut jar = app.session("boss").await;
    let csrf = app.csrf(&mut jar).await;
    app.clock.advance(Duration::minutes(12));
    app.post_form(
        &format!("/console/cases/{case}/outcome"),
        &mut jar,
        &[("csrf", &csrf), ("kind", "cleared")],
    )
    .await;
    let r = app.get("/console/dashboard", &mut jar).await;
    assert_eq!(r.status, StatusCode::OK);
    for id in ["chart-scans", "chart-reasons", "chart-handling"] {
        assert!(
            r.body
                .contains(&format!("<svg class=\"chart\" id=\"{id}\"")),
            "{id}"
        );
    }
    assert!(r.body.contains("class=\"bar-red\""));
    assert!(
        r.body.contains("id=\"avg-handling\">12<"),
        "12 minutes from opened to outcome"
    );
    assert!(!r.body.contains("<script"));
}

#[tokio::test]
async fn officer_accounts_need_a_strong_password_and_a_unique_name() {
    let app = TestApp::new().await;
    let db = &app.state.db;
    fn refused<T: std::fmt::Debug, E: std::fmt::Display>(r: Result<T, E>, why: &str) {
        let err = r.expect_err(why).to_string();
        assert!(err.contains(why), "expected {why:?}, got {err:?}");
    }
    refused(
        gate_service::console::create_officer(db, "a", "A", "officer", "short").await,
        "the password must have",
    );
    refused(
        gate_service::console::create_officer(db, "a", "A", "admin", PASSWORD).await,
        "the role must be officer or supervisor",
    );
    refused(
        gate_service::console::create_officer(db, "bad name", "A", "officer", PASSWORD).await,
        "the user name must be",
    );
    gate_service::console::create_officer(db, "a", "A", "officer", PASSWORD)
        .await
        .unwrap();
    refused(
        gate_service::console::create_officer(db, "A", "A", "officer", PASSWORD).await,
        "an officer named a already exists",
    );
}

#[tokio::test]
async fn unknown_paths_answer_404_with_a_body_problem_json_for_the_api_a_page_for_the_console() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    let mut jar = app.session("tanaka").await;
    let r = app.get("/v1/no-such-endpoint", &mut jar).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.headers[header::CONTENT_TYPE],
        "application/problem+json",
        "{}",
        r.body
    );
    assert!(r.body.contains("/problems/not-found"), "{}", r.body);
    for path in ["/console/no-such-page", "/console/cases/9999"] {
        let r = app.get(path, &mut jar).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            r.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert!(r.body.contains("id=\"error\""), "{path}: {}", r.body);
    }
}

#[tokio::test]
async fn a_stored_case_record_with_a_renamed_field_is_an_error_not_an_empty_cell() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    let case = app.red_scan("NH212", "D-RENAMED").await;
    let mut jar = app.session("tanaka").await;
    assert_eq!(
        app.get(&format!("/console/cases/{case}"), &mut jar)
            .await
            .status,
        StatusCode::OK
    );
    app.state
        .db
        .write(move |c| -> Result<usize, shared::db::DbError> {
            Ok(c.execute(
                "UPDATE cases SET identity_json = replace(identity_json, '\"surname\"', '\"family_name\"')
                 WHERE id = ?1",
                [case],
            )?)
        })
        .await
        .unwrap();
    let r = app.get(&format!("/console/cases/{case}"), &mut jar).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(r.body.contains("id=\"error\"") && !r.body.contains("ERIKSSON"));
}
