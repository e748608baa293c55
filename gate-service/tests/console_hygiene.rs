//! Attacks on the officer console over real HTTP (the gate on a 127.0.0.1 port, a
//! reqwest client that carries its cookies by hand and follows no redirect): a payment
//! form posted twice, an overpayment by an officer and by a supervisor, a payment after
//! its outcome is superseded, changing one's own password, an officer unlocking an
//! account, an unattended console kept alive by its auto-refresh, and the queue paged
//! through with more cases than a page.

mod console_support;

use axum::http::StatusCode;
use console_support::{Jar, PASSWORD, Resp, TestApp};
use shared::db::DbError;
use time::Duration;

/// The gate on a real port, and a client for it.
struct Http {
    base: String,
    client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Http {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Http {
    async fn start(app: &TestApp) -> Http {
        // The console on its own listener; the device API's is unused here.
        let listeners = gate_service::Listeners {
            device: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
            console: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        };
        let base = format!("http://{}", listeners.console.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(gate_service::serve(listeners, app.state.clone(), async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Http {
            base,
            client,
            stop: Some(stop),
        }
    }

    async fn resp(r: reqwest::Response, jar: &mut Jar) -> Resp {
        let status = r.status();
        let headers = r.headers().clone();
        jar.update(&headers);
        Resp {
            status,
            headers,
            body: r.text().await.unwrap(),
        }
    }

    async fn get(&self, path: &str, jar: &mut Jar) -> Resp {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", jar.header())
            .send()
            .await
            .unwrap();
        Self::resp(r, jar).await
    }

    async fn post(&self, path: &str, jar: &mut Jar, fields: &[(&str, &str)]) -> Resp {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", jar.header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(fields).unwrap())
            .send()
            .await
            .unwrap();
        Self::resp(r, jar).await
    }

    async fn login(&self, jar: &mut Jar, username: &str, password: &str) -> Resp {
        let form = self.get("/console/login", jar).await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form.csrf();
        self.post(
            "/console/login",
            jar,
            &[
                ("csrf", &csrf),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    async fn session(&self, username: &str) -> Jar {
        let mut jar = Jar::default();
        let r = self.login(&mut jar, username, PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        jar
    }

    async fn csrf(&self, jar: &mut Jar) -> String {
        let r = self.get("/console/account", jar).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.csrf()
    }
}

/// An `href`/`content` attribute value as the browser reads it.
fn unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&#38;", "&")
        .replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&#61;", "=")
        .replace("&#x3d;", "=")
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    app.state
        .db
        .read(move |c| -> Result<i64, DbError> { Ok(c.query_row(sql, [], |r| r.get(0))?) })
        .await
        .unwrap()
}

/// Record a "duty assessed" outcome of `amount` yen entered by hand.
async fn assess(http: &Http, jar: &mut Jar, case: i64, amount: &str) {
    let csrf = http.csrf(jar).await;
    let r = http
        .post(
            &format!("/console/cases/{case}/outcome"),
            jar,
            &[
                ("csrf", &csrf),
                ("kind", "duty_assessed"),
                ("amount_source", "entered"),
                ("amount_yen", amount),
                ("amount_reason", "valued at the counter"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

/// The case page's payment form: CSRF token and idempotency key.
async fn payment_form(http: &Http, jar: &mut Jar, case: i64) -> (String, String) {
    let page = http.get(&format!("/console/cases/{case}"), jar).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"payment-form\""), "no payment form");
    (page.csrf(), page.payment_key())
}

async fn pay(
    http: &Http,
    jar: &mut Jar,
    case: i64,
    form: &(String, String),
    amount: &str,
    over_reason: &str,
) -> Resp {
    http.post(
        &format!("/console/cases/{case}/payment"),
        jar,
        &[
            ("csrf", &form.0),
            ("idempotency_key", &form.1),
            ("method", "cash"),
            ("amount_yen", amount),
            ("over_duty_reason", over_reason),
        ],
    )
    .await
}

#[tokio::test]
async fn a_double_submitted_payment_form_records_one_payment_and_shows_the_same_receipt() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    let case = app.red_scan("NH212", "D-DOUBLE").await;
    let http = Http::start(&app).await;
    let mut jar = http.session("tanaka").await;
    assess(&http, &mut jar, case, "20000").await;
    let form = payment_form(&http, &mut jar, case).await;
    // The same form posted twice in a row, then twice at once.
    let first = pay(&http, &mut jar, case, &form, "5000", "").await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let again = pay(&http, &mut jar, case, &form, "5000", "").await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_eq!(again.location(), first.location(), "the same receipt");
    let (mut j1, mut j2) = (jar.clone(), jar.clone());
    let (a, b) = tokio::join!(
        pay(&http, &mut j1, case, &form, "5000", ""),
        pay(&http, &mut j2, case, &form, "5000", "")
    );
    assert_eq!(a.location(), first.location());
    assert_eq!(b.location(), first.location());
    assert_eq!(count(&app, "SELECT count(*) FROM payments").await, 1);
    let receipt = http.get(first.location(), &mut jar).await;
    assert_eq!(receipt.status, StatusCode::OK);
    assert!(receipt.body.contains("¥5,000"));
    // A newly rendered form is a new payment.
    let form2 = payment_form(&http, &mut jar, case).await;
    assert_ne!(form2.1, form.1, "a key per rendered form");
    let second = pay(&http, &mut jar, case, &form2, "5000", "").await;
    assert_eq!(second.status, StatusCode::SEE_OTHER);
    assert_ne!(second.location(), first.location());
    assert_eq!(count(&app, "SELECT count(*) FROM payments").await, 2);
    // A form without its key is refused, not recorded.
    let r = http
        .post(
            &format!("/console/cases/{case}/payment"),
            &mut jar,
            &[("csrf", &form.0), ("method", "cash"), ("amount_yen", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(count(&app, "SELECT count(*) FROM payments").await, 2);
}

#[tokio::test]
async fn an_overpayment_is_refused_for_an_officer_and_recorded_with_a_reason_by_a_supervisor() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    app.officer("boss", "supervisor").await;
    let case = app.red_scan("NH212", "D-OVER").await;
    let http = Http::start(&app).await;
    let mut officer = http.session("tanaka").await;
    assess(&http, &mut officer, case, "10000").await;
    let form = payment_form(&http, &mut officer, case).await;
    let r = pay(&http, &mut officer, case, &form, "10001", "").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body.contains("Only a supervisor can record more"),
        "a clear message: {}",
        r.body
    );
    // Exactly the duty is fine; one yen more, in a second payment, is not.
    let r = pay(&http, &mut officer, case, &form, "10000", "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let form = payment_form(&http, &mut officer, case).await;
    let r = pay(&http, &mut officer, case, &form, "1", "a reason").await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "a reason does not help an officer"
    );
    assert_eq!(count(&app, "SELECT count(*) FROM payments").await, 1);

    let mut boss = http.session("boss").await;
    let form = payment_form(&http, &mut boss, case).await;
    let r = pay(&http, &mut boss, case, &form, "500", "").await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is required"
    );
    let r = pay(
        &http,
        &mut boss,
        case,
        &form,
        "500",
        "paid in excess, refund by bank",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        count(&app, "SELECT sum(amount_yen) FROM payments").await,
        10_500
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM payments WHERE over_duty_reason = 'paid in excess, refund by bank'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_log WHERE action = 'payment.over_duty'
               AND detail LIKE '%10500 yen over assessed 10000 yen%'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn payments_stay_with_the_case_and_their_receipts_print_after_the_outcome_is_superseded() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    app.officer("boss", "supervisor").await;
    let case = app.red_scan("NH212", "D-SUPER").await;
    let http = Http::start(&app).await;
    let mut officer = http.session("tanaka").await;
    assess(&http, &mut officer, case, "8000").await;
    let form = payment_form(&http, &mut officer, case).await;
    let r = pay(&http, &mut officer, case, &form, "3000", "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let receipt = r.location().to_owned();

    // A supervisor supersedes the outcome with a higher duty.
    let mut boss = http.session("boss").await;
    let csrf = http.csrf(&mut boss).await;
    let r = http
        .post(
            &format!("/console/cases/{case}/supersede"),
            &mut boss,
            &[
                ("csrf", &csrf),
                ("kind", "duty_assessed"),
                ("amount_source", "entered"),
                ("amount_yen", "9000"),
                ("amount_reason", "second bottle found"),
                ("supersede_reason", "recount"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = http
        .get(&format!("/console/cases/{case}"), &mut officer)
        .await;
    assert!(
        page.body.contains(&format!("href=\"{receipt}\"")),
        "still listed"
    );
    assert!(
        page.body
            .contains("name=\"amount_yen\" inputmode=\"numeric\" value=\"6000\""),
        "what was paid under the old outcome counts: {}",
        page.body
    );
    let r = http.get(&receipt, &mut officer).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("¥3,000") && r.body.contains("D-SUPER"));
    // 6,000 more fits the new duty exactly; one yen more does not.
    let form = payment_form(&http, &mut officer, case).await;
    assert_eq!(
        pay(&http, &mut officer, case, &form, "6001", "")
            .await
            .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        pay(&http, &mut officer, case, &form, "6000", "")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // Superseded to "cleared": no more payments, the old ones still there.
    let csrf = http.csrf(&mut boss).await;
    let r = http
        .post(
            &format!("/console/cases/{case}/supersede"),
            &mut boss,
            &[
                ("csrf", &csrf),
                ("kind", "cleared"),
                ("supersede_reason", "duty waived"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = http
        .get(&format!("/console/cases/{case}"), &mut officer)
        .await;
    assert!(!page.body.contains("id=\"payment-form\""));
    assert_eq!(page.body.matches("data-payment=").count(), 2);
    assert_eq!(
        http.get(&receipt, &mut officer).await.status,
        StatusCode::OK
    );
    let stray = count(
        &app,
        "SELECT count(*) FROM payments p JOIN outcomes o ON o.id = p.outcome_id
         WHERE p.case_id IS NULL OR p.case_id <> o.case_id",
    )
    .await;
    assert_eq!(stray, 0, "every payment names its case");
}

#[tokio::test]
async fn an_officer_changes_their_password_and_their_other_sessions_end() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    let http = Http::start(&app).await;
    let mut here = http.session("tanaka").await;
    let mut elsewhere = http.session("tanaka").await;
    let csrf = http.csrf(&mut here).await;
    let new = "a much longer new passphrase";
    let change = |current: &'static str, new1: &'static str, new2: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("current_password", current.to_owned()),
            ("new_password", new1.to_owned()),
            ("new_password_confirm", new2.to_owned()),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>, jar: Jar| {
        let http = &http;
        async move {
            let mut jar = jar;
            let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = http.post("/console/account/password", &mut jar, &f).await;
            (r, jar)
        }
    };
    let (r, jar) = post(change("wrong current password", new, new), here).await;
    here = jar;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"password-error\""));
    let (r, jar) = post(change(PASSWORD, new, "another new passphrase"), here).await;
    here = jar;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "the two differ");
    let (r, jar) = post(change(PASSWORD, "short", "short"), here).await;
    here = jar;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "too short");
    // Without the CSRF token: refused.
    let r = http
        .post(
            "/console/account/password",
            &mut here,
            &[
                ("current_password", PASSWORD),
                ("new_password", new),
                ("new_password_confirm", new),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (r, jar) = post(change(PASSWORD, new, new), here).await;
    here = jar;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = http.get(r.location(), &mut here).await;
    assert!(
        r.body.contains("id=\"password-changed\""),
        "still signed in here"
    );
    let r = http.get("/console/queue", &mut elsewhere).await;
    assert_eq!(r.location(), "/console/login", "the other session ended");
    let r = http.login(&mut Jar::default(), "tanaka", PASSWORD).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
    let r = http.login(&mut Jar::default(), "tanaka", new).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "the new one works");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_log WHERE action = 'officer.password_changed'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_supervisor_unlocks_a_locked_account_and_an_officer_cannot() {
    let app = TestApp::new().await;
    let locked_id = app.officer("tanaka", "officer").await;
    app.officer("sato", "officer").await;
    app.officer("boss", "supervisor").await;
    // Someone guesses tanaka's password from eight addresses until the account locks
    // (set up in process, where each request can have its own address).
    let mut guesser = Jar::default();
    for i in 0..8 {
        let r = app
            .login_from(
                &mut guesser,
                "tanaka",
                "wrong password",
                &format!("10.0.3.{i}"),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "failure {i}");
        app.clock.advance(Duration::seconds(if i >= 4 {
            (30 << (i - 4)) + 1
        } else {
            1
        }));
    }
    let http = Http::start(&app).await;
    let r = http.login(&mut Jar::default(), "tanaka", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "locked");

    // An officer cannot unlock it (nor see the accounts page).
    let mut sato = http.session("sato").await;
    let csrf = http.csrf(&mut sato).await;
    let unlock = format!("/console/accounts/{locked_id}/unlock");
    let r = http.post(&unlock, &mut sato, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        http.get("/console/accounts", &mut sato).await.status,
        StatusCode::FORBIDDEN
    );
    let r = http.login(&mut Jar::default(), "tanaka", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "still locked");

    // A supervisor sees the lock and lifts it; without the CSRF token it is refused.
    let mut boss = http.session("boss").await;
    let page = http.get("/console/accounts", &mut boss).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("id=\"unlock-{locked_id}\"")));
    let r = http.post(&unlock, &mut boss, &[("csrf", "forged")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = http
        .post(&unlock, &mut boss, &[("csrf", &page.csrf())])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = http.login(&mut Jar::default(), "tanaka", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "unlocked: {}", r.body);
    let page = http.get("/console/accounts", &mut boss).await;
    assert!(!page.body.contains(&format!("id=\"unlock-{locked_id}\"")));
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_log a JOIN officers o ON o.id = a.officer_id
             WHERE a.action = 'officer.unlocked' AND o.username = 'boss'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn the_queue_auto_refresh_does_not_keep_an_idle_session_alive() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    let http = Http::start(&app).await;
    let mut jar = http.session("tanaka").await;
    let queue = http.get("/console/queue?flight=NH212", &mut jar).await;
    let content = queue
        .body
        .split("http-equiv=\"refresh\" content=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a meta refresh");
    let refresh = unescape(content.split_once("url=").unwrap().1);
    assert!(refresh.contains("refresh=auto"), "{refresh}");
    assert!(
        refresh.contains("flight=NH212"),
        "the filter stays: {refresh}"
    );
    // Refreshed every 5 minutes for 15 minutes, nobody at the desk: served.
    for _ in 0..3 {
        app.clock.advance(Duration::minutes(5));
        let r = http.get(&refresh, &mut jar).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    // 16 minutes after the last real request: signed out, refresh or not.
    app.clock
        .advance(Duration::minutes(1) + Duration::seconds(1));
    let r = http.get(&refresh, &mut jar).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/console/login");
    let r = http.get("/console/queue", &mut jar).await;
    assert_eq!(r.location(), "/console/login", "the session is gone");
}

/// Case ids of a queue page, and its older and newer links.
fn queue_page(r: &Resp) -> (Vec<i64>, Option<String>, Option<String>) {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ids = r
        .body
        .split("data-case=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().parse().unwrap())
        .collect();
    let link = |id: &str| {
        r.body
            .split(&format!("id=\"{id}\""))
            .next()
            .filter(|_| r.body.contains(&format!("id=\"{id}\"")))
            .and_then(|before| before.rsplit("href=\"").next())
            .map(|s| unescape(s.split('"').next().unwrap()))
    };
    (ids, link("queue-older"), link("queue-newer"))
}

#[tokio::test]
async fn every_case_is_reachable_exactly_once_paging_the_queue_both_ways() {
    let app = TestApp::new().await;
    app.officer("tanaka", "officer").await;
    let mut all = Vec::new();
    for i in 0..120 {
        all.push(app.red_scan("NH212", &format!("D-PAGE-{i}")).await);
    }
    all.sort_unstable_by(|a, b| b.cmp(a));
    let http = Http::start(&app).await;
    let mut jar = http.session("tanaka").await;
    let first = http.get("/console/queue?status=all", &mut jar).await;
    assert!(
        first.body.contains("id=\"queue-count\">120<"),
        "waiting count"
    );
    let (mut seen, mut older, newer) = queue_page(&first);
    assert!(newer.is_none(), "the first page is the newest");
    let mut pages = vec![seen.len()];
    let mut last = None;
    for _ in 0..10 {
        let Some(url) = older.take() else { break };
        let r = http.get(&url, &mut jar).await;
        let (ids, o, n) = queue_page(&r);
        assert!(n.is_some(), "an older page links back");
        pages.push(ids.len());
        seen.extend(ids);
        older = o;
        last = Some(r);
    }
    assert_eq!(seen, all, "every case once, newest first");
    assert_eq!(pages, [50, 50, 20]);
    // And back up from the oldest page.
    let (mut back, _, mut newer) = queue_page(&last.unwrap());
    for _ in 0..10 {
        let Some(url) = newer.take() else { break };
        let (ids, _, n) = queue_page(&http.get(&url, &mut jar).await);
        assert!(ids.len() <= 50);
        back.splice(0..0, ids);
        newer = n;
    }
    assert_eq!(back, all, "the same cases paging towards the newest");
}
