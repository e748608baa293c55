//! Item 9: web hardening on every response. The routes of the three routers are listed
//! here once ([`ROUTES`]); a test checks the list against the `.route("…")` calls in the
//! routers' source files, so a new route cannot escape the other checks: security
//! headers on every response, every state-changing route refused without its CSRF
//! token (HTML) or its credential / JSON content type (API), `no-store` on every kiosk
//! response, and no personal data in any URL a page links to.

use super::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Svc {
    Mobile,
    /// gate-service's device listener (the scan API, health, metrics).
    Gate,
    /// gate-service's officer console listener (`EGATE_CONSOLE_ADDR`).
    Console,
    Kiosk,
    /// mobile-api's internal listener (`/v1/internal/*`, gate-service only).
    MobileInternal,
    /// The kiosk's internal listener.
    KioskInternal,
}

/// How a route is protected against a request forged by another site.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Guard {
    /// A read: no state change.
    Read,
    /// JSON API without credentials by design (creating a declaration returns its
    /// capability; the gate's scan API serves gate hardware): a cross-site form cannot
    /// send `application/json`, so a form post must get 415.
    JsonOnly,
    /// JSON API needing a bearer credential (the declaration's edit token, or the gate
    /// API key of the internal routes): refused (401, or 404 as for an unknown id)
    /// without it.
    Bearer,
    /// The gate's scan API: an E-Gate device credential (`Authorization: Bearer`, no
    /// cookie is read, so CSRF does not apply): 401 without it or with a made-up key,
    /// 403 with a kiosk's, and a form's content type refused (415) even with it.
    Device,
    /// Officer console form: needs the session and its CSRF token.
    ConsoleForm,
    /// Console login form: needs the login CSRF cookie and field.
    ConsoleLogin,
    /// Kiosk form: needs the session and its CSRF token.
    KioskForm,
}

/// One route: service, method, the path pattern as written in the router (with the
/// `/console` nest prefix), a concrete path to request, and its guard.
struct Route(Svc, &'static str, &'static str, &'static str, Guard);

use Guard::*;
use Svc::*;

/// `{id}` in the concrete paths is replaced by a real declaration id / case id.
const ROUTES: &[Route] = &[
    Route(
        Mobile,
        "POST",
        "/v1/declarations",
        "/v1/declarations",
        JsonOnly,
    ),
    Route(Mobile, "POST", "/v1/estimate", "/v1/estimate", JsonOnly),
    Route(
        Mobile,
        "GET",
        "/v1/declarations/{id}",
        "/v1/declarations/{id}",
        Read,
    ),
    Route(
        Mobile,
        "PUT",
        "/v1/declarations/{id}",
        "/v1/declarations/{id}",
        Bearer,
    ),
    Route(
        Mobile,
        "DELETE",
        "/v1/declarations/{id}",
        "/v1/declarations/{id}",
        Bearer,
    ),
    Route(
        Mobile,
        "GET",
        "/v1/declarations/{id}/qr.png",
        "/v1/declarations/{id}/qr.png",
        Read,
    ),
    Route(
        Mobile,
        "GET",
        "/v1/declarations/{id}/qr.svg",
        "/v1/declarations/{id}/qr.svg",
        Read,
    ),
    Route(Mobile, "GET", "/v1/rules", "/v1/rules", Read),
    Route(
        Mobile,
        "GET",
        "/v1/revocations",
        "/v1/revocations?since=0",
        Read,
    ),
    Route(Mobile, "GET", "/v1/trust-list", "/v1/trust-list", Read),
    Route(Mobile, "GET", "/v1/jwks", "/v1/jwks", Read),
    Route(
        MobileInternal,
        "GET",
        "/v1/internal/declarations/{id}",
        "/v1/internal/declarations/{id}",
        Bearer,
    ),
    Route(
        MobileInternal,
        "POST",
        "/v1/internal/uses",
        "/v1/internal/uses",
        Bearer,
    ),
    Route(
        MobileInternal,
        "POST",
        "/v1/internal/presentations",
        "/v1/internal/presentations",
        Bearer,
    ),
    Route(Mobile, "GET", "/healthz", "/healthz", Read),
    Route(Mobile, "GET", "/metrics", "/metrics", Read),
    Route(Mobile, "GET", "/openapi.json", "/openapi.json", Read),
    Route(Gate, "POST", "/v1/scans", "/v1/scans", Device),
    Route(Gate, "POST", "/v1/scans/image", "/v1/scans/image", Device),
    Route(Gate, "GET", "/healthz", "/healthz", Read),
    Route(Gate, "GET", "/openapi.json", "/openapi.json", Read),
    Route(Gate, "GET", "/metrics", "/metrics", Read),
    Route(Console, "GET", "/", "/", Read),
    Route(Console, "GET", "/console/", "/console", Read),
    Route(
        Console,
        "GET",
        "/console/static/console.css",
        "/console/static/console.css",
        Read,
    ),
    Route(Console, "GET", "/console/login", "/console/login", Read),
    Route(
        Console,
        "POST",
        "/console/login",
        "/console/login",
        ConsoleLogin,
    ),
    Route(
        Console,
        "POST",
        "/console/logout",
        "/console/logout",
        ConsoleForm,
    ),
    Route(Console, "GET", "/console/queue", "/console/queue", Read),
    Route(Console, "GET", "/console/search", "/console/search", Read),
    Route(
        Console,
        "GET",
        "/console/dashboard",
        "/console/dashboard",
        Read,
    ),
    Route(
        Console,
        "GET",
        "/console/cases/{id}",
        "/console/cases/{case}",
        Read,
    ),
    Route(
        Console,
        "POST",
        "/console/cases/{id}/take",
        "/console/cases/{case}/take",
        ConsoleForm,
    ),
    Route(
        Console,
        "POST",
        "/console/cases/{id}/adjust",
        "/console/cases/{case}/adjust",
        ConsoleForm,
    ),
    Route(
        Console,
        "POST",
        "/console/cases/{id}/outcome",
        "/console/cases/{case}/outcome",
        ConsoleForm,
    ),
    Route(
        Console,
        "POST",
        "/console/cases/{id}/supersede",
        "/console/cases/{case}/supersede",
        ConsoleForm,
    ),
    Route(
        Console,
        "POST",
        "/console/cases/{id}/payment",
        "/console/cases/{case}/payment",
        ConsoleForm,
    ),
    Route(
        Console,
        "GET",
        "/console/payments/{id}/receipt",
        "/console/payments/1/receipt",
        Read,
    ),
    Route(Console, "GET", "/console/account", "/console/account", Read),
    Route(
        Console,
        "POST",
        "/console/account/password",
        "/console/account/password",
        ConsoleForm,
    ),
    Route(
        Console,
        "GET",
        "/console/accounts",
        "/console/accounts",
        Read,
    ),
    Route(
        Console,
        "POST",
        "/console/accounts/{id}/unlock",
        "/console/accounts/1/unlock",
        ConsoleForm,
    ),
    Route(Kiosk, "GET", "/", "/", Read),
    Route(Kiosk, "POST", "/start", "/start", KioskForm),
    Route(Kiosk, "GET", "/passport", "/passport", Read),
    Route(Kiosk, "POST", "/passport", "/passport", KioskForm),
    Route(Kiosk, "GET", "/trip", "/trip", Read),
    Route(Kiosk, "POST", "/trip", "/trip", KioskForm),
    Route(Kiosk, "GET", "/party", "/party", Read),
    Route(Kiosk, "POST", "/party", "/party", KioskForm),
    Route(Kiosk, "GET", "/questions", "/questions", Read),
    Route(Kiosk, "POST", "/questions", "/questions", KioskForm),
    Route(Kiosk, "GET", "/items", "/items", Read),
    Route(Kiosk, "POST", "/items", "/items", KioskForm),
    Route(Kiosk, "GET", "/review", "/review", Read),
    Route(Kiosk, "POST", "/review", "/review", KioskForm),
    Route(Kiosk, "GET", "/result", "/result", Read),
    Route(Kiosk, "POST", "/result", "/result", KioskForm),
    Route(Kiosk, "GET", "/result/print", "/result/print", Read),
    Route(Kiosk, "POST", "/finish", "/finish", KioskForm),
    Route(Kiosk, "GET", "/timeout", "/timeout", Read),
    Route(Kiosk, "GET", "/static/kiosk.css", "/static/kiosk.css", Read),
    Route(Kiosk, "GET", "/v1/trust-list", "/v1/trust-list", Read),
    Route(Kiosk, "GET", "/v1/jwks", "/v1/jwks", Read),
    Route(
        Kiosk,
        "GET",
        "/v1/revocations",
        "/v1/revocations?since=0",
        Read,
    ),
    Route(
        KioskInternal,
        "POST",
        "/v1/internal/uses",
        "/v1/internal/uses",
        Bearer,
    ),
    Route(
        KioskInternal,
        "POST",
        "/v1/internal/presentations",
        "/v1/internal/presentations",
        Bearer,
    ),
    Route(Kiosk, "GET", "/healthz", "/healthz", Read),
];

/// The (service, method, path) triples declared by `.route("…", …)` calls in a file.
fn routes_in_source(svc: Svc, file: &str, prefix: &str, out: &mut BTreeSet<String>) {
    let src = std::fs::read_to_string(file).unwrap();
    routes_in_text(svc, &src, prefix, out);
}

/// [`routes_in_source`] for a file holding a public router, then (from `marker` on) the
/// internal listener's router: each part's routes go to its listener.
fn routes_in_split_source(
    (public, internal): (Svc, Svc),
    file: &str,
    marker: &str,
    out: &mut BTreeSet<String>,
) {
    let src = std::fs::read_to_string(file).unwrap();
    let at = src.find(marker).expect("the internal router's marker");
    routes_in_text(public, &src[..at], "", out);
    routes_in_text(internal, &src[at..], "", out);
}

fn routes_in_text(svc: Svc, src: &str, prefix: &str, out: &mut BTreeSet<String>) {
    let mut rest = src;
    while let Some(i) = rest.find(".route(") {
        rest = rest[i + 7..].trim_start();
        let Some(r) = rest.strip_prefix('"') else {
            continue;
        };
        rest = r;
        let end = rest.find('"').unwrap();
        let path = format!("{prefix}{}", &rest[..end]);
        // The handlers of this route: up to the parenthesis that closes `.route(`
        // (method routers may be merged or layered inside it).
        let mut depth = 1usize;
        let call_end = rest
            .char_indices()
            .find_map(|(k, ch)| {
                match ch {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                (depth == 0).then_some(k)
            })
            .unwrap_or(rest.len());
        let call = &rest[..call_end];
        let bytes = call.as_bytes();
        for m in ["get", "post", "put", "delete", "patch"] {
            let pat = format!("{m}(");
            let mut from = 0;
            while let Some(j) = call[from..].find(&pat) {
                let at = from + j;
                let before = if at == 0 { b' ' } else { bytes[at - 1] };
                if !(before.is_ascii_alphanumeric() || before == b'_' || before == b':') {
                    out.insert(format!("{svc:?} {} {path}", m.to_uppercase()));
                }
                from = at + pat.len();
            }
        }
    }
}

#[test]
fn the_route_list_names_every_route_of_the_three_routers_sources() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut found = BTreeSet::new();
    routes_in_split_source(
        (Mobile, MobileInternal),
        &format!("{root}/mobile-api/src/routes.rs"),
        "pub fn internal_router",
        &mut found,
    );
    routes_in_split_source(
        (Gate, Console),
        &format!("{root}/gate-service/src/routes.rs"),
        "pub fn console_router",
        &mut found,
    );
    for p in rust_files_under(&format!("{root}/gate-service/src/console")) {
        routes_in_source(Console, &p, "/console", &mut found);
    }
    // The issuer endpoints (trust list, revocations; the internal listener's reports):
    // one router each in shared, mounted by both issuers.
    for svcs in [(Mobile, MobileInternal), (Kiosk, KioskInternal)] {
        routes_in_split_source(
            svcs,
            &format!("{root}/shared/src/issuer/routes.rs"),
            "pub fn internal_router",
            &mut found,
        );
    }
    routes_in_source(
        Kiosk,
        &format!("{root}/kiosk/src/routes.rs"),
        "",
        &mut found,
    );
    let listed: BTreeSet<String> = ROUTES
        .iter()
        .map(|r| format!("{:?} {} {}", r.0, r.1, r.2))
        .collect();
    let missing: Vec<_> = found.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&found).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes in the source but not in ROUTES: {missing:?}; in ROUTES but not in the source: {stale:?}"
    );
    assert!(found.len() >= 50, "the scan found the routes: {found:?}");
}

/// Every `.rs` file below `dir`, at any depth, in a stable order.
fn rust_files_under(dir: &str) -> Vec<String> {
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(dir)];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p.to_str().unwrap().to_string());
            }
        }
    }
    files.sort();
    files
}

/// Cases no longer waiting (taken or closed): what a forged console form would change.
async fn cases_taken_or_closed(f: &Fixture) -> i64 {
    f.sys
        .gate
        .state
        .db
        .read(|c| {
            c.query_row(
                "SELECT count(*) FROM cases WHERE status <> 'waiting'",
                [],
                |r| r.get(0),
            )
            .map_err(shared::db::DbError::from)
        })
        .await
        .unwrap()
}

/// A client that keeps cookies and does not follow redirects.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of `name="csrf" value="…"` in an HTML body.
fn csrf_of(body: &str) -> String {
    let i = body.find("name=\"csrf\" value=\"").expect("no csrf field") + 19;
    body[i..].split('"').next().unwrap().to_owned()
}

struct Fixture {
    sys: System,
    /// A kiosk terminal's device key (may not scan).
    kiosk_device_key: String,
    decl_id: String,
    edit_token: String,
    case_id: i64,
}

async fn fixture() -> Fixture {
    let sys = System::spawn().await;
    let hanako = Traveller::hanako();
    let (_, created) = sys.declare(&hanako.declaration(json!([]))).await;
    // A RED scan (someone else's passport) opens a case.
    let d = sys
        .scan(
            created["qr"]["text"].as_str().unwrap(),
            &Traveller::erik().mrz(),
        )
        .await;
    assert_eq!(d["decision"], "red", "{d}");
    // The device answer carries no case id: the case is the gate's.
    let case_id: i64 = sys
        .gate
        .state
        .db
        .read(|c| {
            c.query_row("SELECT max(id) FROM cases", [], |r| r.get(0))
                .map_err(shared::db::DbError::from)
        })
        .await
        .expect("a case");
    gate_service::console::create_officer(
        &sys.gate.state.db,
        "tanaka",
        "Tanaka",
        "supervisor",
        "correct horse battery staple",
    )
    .await
    .unwrap();
    let kiosk_device_key = gate_service::devices::add(
        &sys.gate.state.db,
        "K-01",
        gate_service::devices::DeviceKind::Kiosk,
        sys.gate.state.clock.unix(),
    )
    .await
    .unwrap();
    Fixture {
        kiosk_device_key,
        decl_id: created["id"].as_str().unwrap().to_owned(),
        edit_token: created["edit_token"].as_str().unwrap().to_owned(),
        case_id,
        sys,
    }
}

impl Fixture {
    fn url(&self, r: &Route) -> String {
        let path =
            r.3.replace("{id}", &self.decl_id)
                .replace("{case}", &self.case_id.to_string());
        match r.0 {
            Mobile => self.sys.mobile.url(&path),
            Gate => self.sys.gate.url(&path),
            Console => self.sys.console_url(&path),
            Kiosk => self.sys.kiosk.url(&path),
            MobileInternal => format!("http://{}{path}", self.sys.mobile_internal),
            KioskInternal => format!("http://{}{path}", self.sys.kiosk_internal),
        }
    }

    /// Log an officer in on `c`; returns the session's CSRF token.
    async fn login(&self, c: &reqwest::Client) -> String {
        let form = c
            .get(self.sys.console_url("/console/login"))
            .send()
            .await
            .unwrap();
        let csrf = csrf_of(&form.text().await.unwrap());
        let r = c
            .post(self.sys.console_url("/console/login"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("username", "tanaka"),
                ("password", "correct horse battery staple"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "logged in");
        let q = c
            .get(self.sys.console_url("/console/queue"))
            .send()
            .await
            .unwrap();
        assert_eq!(q.status(), 200);
        csrf_of(&q.text().await.unwrap())
    }

    /// Start a kiosk session in English on `c`; returns its CSRF token.
    async fn kiosk_session(&self, c: &reqwest::Client) -> String {
        let start = c.get(self.sys.kiosk.url("/")).send().await.unwrap();
        let csrf = csrf_of(&start.text().await.unwrap());
        let r = c
            .post(self.sys.kiosk.url("/start"))
            .form(&[("csrf", csrf.as_str()), ("lang", "en")])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_redirection() || r.status().is_success());
        let p = c.get(self.sys.kiosk.url("/passport")).send().await.unwrap();
        assert_eq!(p.status(), 200);
        csrf_of(&p.text().await.unwrap())
    }
}

fn assert_security_headers(what: &str, h: &reqwest::header::HeaderMap) {
    assert_eq!(
        h.get("x-content-type-options").map(|v| v.to_str().unwrap()),
        Some("nosniff"),
        "{what}: nosniff"
    );
    let csp = h
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        csp.contains("frame-ancestors 'none'"),
        "{what}: CSP frame-ancestors 'none', got {csp:?}"
    );
    assert!(h.contains_key("referrer-policy"), "{what}: Referrer-Policy");
}

#[tokio::test]
async fn every_route_answers_with_the_security_headers_and_every_kiosk_response_is_no_store() {
    let _g = EXCLUSIVE.read().await;
    let f = fixture().await;
    let anon = client();
    let officer = client();
    f.login(&officer).await;
    let kiosk = client();
    f.kiosk_session(&kiosk).await;
    let mut checked = 0;
    for r in ROUTES {
        // Each route as a stranger and, for console and kiosk, also inside a session.
        let mut clients = vec![("anonymous", &anon)];
        match r.0 {
            Console => clients.push(("officer", &officer)),
            Kiosk => clients.push(("kiosk session", &kiosk)),
            _ => {}
        }
        for (who, c) in clients {
            let method = Method::from_bytes(r.1.as_bytes()).unwrap();
            if r.2 == "/console/logout" && who == "officer" {
                // A logout would end the session (reached anonymously above).
                continue;
            }
            let deletes = method == Method::DELETE;
            let resp = c.request(method, f.url(r)).send().await.unwrap();
            let what = format!("{} {} ({who}) -> {}", r.1, r.3, resp.status());
            assert!(resp.status().as_u16() < 500, "{what}");
            if deletes {
                // Sent without its credential or CSRF token: refused, nothing deleted.
                assert!(
                    matches!(resp.status().as_u16(), 401 | 403 | 404),
                    "a DELETE without its credential is refused: {what}"
                );
            }
            assert_security_headers(&what, resp.headers());
            if r.0 == Kiosk {
                assert_eq!(
                    resp.headers()
                        .get("cache-control")
                        .map(|v| v.to_str().unwrap()),
                    Some("no-store"),
                    "{what}"
                );
            }
            checked += 1;
        }
    }
    // The fallbacks (404) and a wrong method (405) carry them too.
    for url in [
        f.sys.mobile.url("/nope"),
        f.sys.gate.url("/nope"),
        f.sys.gate.url("/console/queue"),
        f.sys.console_url("/nope"),
        f.sys.console_url("/console/nope"),
        f.sys.console_url("/v1/scans"),
        f.sys.kiosk.url("/nope"),
        format!("http://{}/nope", f.sys.mobile_internal),
        format!("http://{}/nope", f.sys.kiosk_internal),
    ] {
        let resp = anon.get(&url).send().await.unwrap();
        assert_eq!(resp.status(), 404, "{url}");
        assert_security_headers(&url, resp.headers());
    }
    let resp = anon
        .delete(f.sys.gate.url("/v1/scans"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    assert_security_headers("DELETE /v1/scans", resp.headers());
    println!(
        "RELIABILITY item9: {checked} route/identity requests + 5 error responses carried nosniff, CSP frame-ancestors 'none', Referrer-Policy"
    );
}

#[tokio::test]
async fn each_gate_listener_serves_only_its_own_routes() {
    let _g = EXCLUSIVE.read().await;
    let f = fixture().await;
    let officer = client();
    f.login(&officer).await;
    let mut crossed = 0;
    for r in ROUTES {
        // A route of one gate listener requested on the other, by a signed-in officer
        // and with the gate's device key: neither opens it.
        let url = match r.0 {
            Gate => f
                .url(r)
                .replace(&f.sys.gate.url(""), &f.sys.console_url("")),
            Console => f
                .url(r)
                .replace(&f.sys.console_url(""), &f.sys.gate.url("")),
            _ => continue,
        };
        let method = Method::from_bytes(r.1.as_bytes()).unwrap();
        let resp = officer
            .request(method, &url)
            .bearer_auth(&f.sys.gate_key)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404, "{} {} on the other listener", r.1, r.3);
        crossed += 1;
    }
    assert!(crossed >= 20, "{crossed}");
    println!(
        "RELIABILITY devices: {crossed} gate routes requested on the other gate listener -> 404"
    );
}

#[tokio::test]
async fn every_state_changing_route_refuses_a_request_without_its_csrf_token_or_credential() {
    let _g = EXCLUSIVE.read().await;
    let f = fixture().await;
    let anon = client();
    let officer = client();
    f.login(&officer).await;
    let kiosk = client();
    f.kiosk_session(&kiosk).await;
    let audit_before = cases_taken_or_closed(&f).await;
    let mut refused = 0;
    for r in ROUTES {
        let method = Method::from_bytes(r.1.as_bytes()).unwrap();
        let url = f.url(r);
        match r.4 {
            Read => continue,
            Device => {
                let kiosk_key = f.kiosk_device_key.as_str();
                let made_up = "egd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
                for (key, want) in [(None, 401), (Some(made_up), 401), (Some(kiosk_key), 403)] {
                    let mut req = anon
                        .request(method.clone(), &url)
                        .json(&json!({"qr": "x", "mrz": "y"}));
                    if let Some(k) = key {
                        req = req.bearer_auth(k);
                    }
                    let resp = req.send().await.unwrap();
                    assert_eq!(resp.status(), want, "{} {} with {key:?}", r.1, r.3);
                }
                // What a cross-site form can send, even carrying the gate's key.
                for ct in ["application/x-www-form-urlencoded", "text/plain"] {
                    let resp = anon
                        .request(method.clone(), &url)
                        .bearer_auth(&f.sys.gate_key)
                        .header("content-type", ct)
                        .body("{}")
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(resp.status(), 415, "{} {} as {ct}", r.1, r.3);
                }
            }
            JsonOnly => {
                // What a cross-site HTML form can send.
                for ct in ["application/x-www-form-urlencoded", "text/plain"] {
                    let resp = anon
                        .request(method.clone(), &url)
                        .header("content-type", ct)
                        .body("{}")
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(resp.status(), 415, "{} {} as {ct}", r.1, r.3);
                }
            }
            Bearer => {
                let resp = anon
                    .request(method.clone(), &url)
                    .json(&Traveller::hanako().declaration(json!([])))
                    .send()
                    .await
                    .unwrap();
                // 404 as for an unknown id: the API does not reveal that it exists.
                assert!(
                    matches!(resp.status().as_u16(), 401 | 404),
                    "{} {} without a token: {}",
                    r.1,
                    r.3,
                    resp.status()
                );
                let resp = anon
                    .request(method.clone(), &url)
                    .bearer_auth("AAAAAAAAAAAAAAAAAAAAAA")
                    .json(&Traveller::hanako().declaration(json!([])))
                    .send()
                    .await
                    .unwrap();
                assert!(
                    matches!(resp.status().as_u16(), 401 | 403 | 404),
                    "{} {} with a wrong token: {}",
                    r.1,
                    r.3,
                    resp.status()
                );
            }
            ConsoleLogin => {
                // No login CSRF cookie and no field: refused before the password is checked.
                let resp = anon
                    .post(&url)
                    .form(&[
                        ("username", "tanaka"),
                        ("password", "correct horse battery staple"),
                    ])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 403, "login without CSRF");
            }
            ConsoleForm => {
                let form = [("outcome", "released"), ("amount", "1")];
                let resp = anon.post(&url).form(&form).send().await.unwrap();
                assert!(
                    resp.status().is_redirection() || resp.status().is_client_error(),
                    "{} without a session: {}",
                    r.3,
                    resp.status()
                );
                if resp.status().is_redirection() {
                    let to = resp.headers()["location"].to_str().unwrap();
                    assert!(to.contains("/console/login"), "{} -> {to}", r.3);
                }
                let resp = officer.post(&url).form(&form).send().await.unwrap();
                assert_eq!(resp.status(), 403, "{} in a session without CSRF", r.3);
                let resp = officer
                    .post(&url)
                    .form(&[("csrf", "forged"), ("outcome", "released")])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 403, "{} with a wrong CSRF token", r.3);
            }
            KioskForm => {
                let resp = kiosk
                    .post(&url)
                    .form(&[("action", "next"), ("lang", "en")])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 403, "{} in a session without CSRF", r.3);
                let resp = kiosk
                    .post(&url)
                    .form(&[("csrf", "forged"), ("action", "next")])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 403, "{} with a wrong CSRF token", r.3);
            }
        }
        refused += 1;
    }
    // Nothing changed: the declaration is intact, the case untouched, the officer and
    // kiosk sessions still valid.
    let r = anon
        .get(f.sys.mobile.url(&format!("/v1/declarations/{}", f.decl_id)))
        .bearer_auth(&f.edit_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the declaration survived");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["revision"], 1, "{body}");
    let audit_after = cases_taken_or_closed(&f).await;
    assert_eq!(audit_after, audit_before, "no case was taken or closed");
    let q = officer
        .get(f.sys.console_url("/console/queue"))
        .send()
        .await
        .unwrap();
    assert_eq!(q.status(), 200, "the officer is still signed in");
    println!(
        "RELIABILITY item9: {refused} state-changing routes refused without CSRF token / credential / JSON content type"
    );
}

/// Every `href`, `action` and `src` value in an HTML body.
fn urls_in(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "action=\"", "src=\"", "formaction=\""] {
        let mut rest = body;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            let end = rest.find('"').unwrap_or(rest.len());
            out.push(rest[..end].to_owned());
        }
    }
    out
}

#[tokio::test]
async fn no_page_links_to_a_url_holding_the_passengers_name_or_passport_number() {
    let _g = EXCLUSIVE.read().await;
    let f = fixture().await;
    let hanako = Traveller::hanako();
    let pii = [
        hanako.td3.surname.clone(),
        hanako.td3.given_names.clone(),
        hanako.td3.document_number.clone(),
        "19850412".into(),
        "1985-04-12".into(),
        "850412".into(),
    ];
    let mut pages: Vec<(String, String)> = Vec::new();
    // A whole kiosk declaration by Hanako, keeping every page.
    let k = client();
    let csrf = f.kiosk_session(&k).await;
    let mrz = hanako.mrz();
    let today = shared::domain::format_date(time::OffsetDateTime::now_utc().date());
    let steps: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("/passport", vec![("mrz", mrz.as_str()), ("action", "read")]),
        ("/passport", vec![("mrz", mrz.as_str()), ("action", "next")]),
        (
            "/trip",
            vec![
                ("flight", "NH212"),
                ("origin", "LHR"),
                ("address_in_japan", "1-1 Marunouchi Chiyoda-ku Tokyo"),
                ("phone", "+81 90 1234 5678"),
                ("occupation", "Engineer"),
                ("arrival_date", today.as_str()),
                ("action", "next"),
            ],
        ),
        (
            "/party",
            vec![
                ("aged_20_plus", "1"),
                ("aged_6_to_19", "0"),
                ("under_6", "0"),
                ("action", "next"),
            ],
        ),
        (
            "/questions",
            vec![
                ("q-prohibited", "no"),
                ("q-over-allowance", "no"),
                ("q-commercial", "no"),
                ("q-for-others", "no"),
                ("q-means-of-payment", "no"),
                ("q-precious-metal", "no"),
                ("q-unaccompanied", "no"),
                ("action", "next"),
            ],
        ),
        ("/items", vec![("action", "next")]),
        ("/review", vec![("action", "confirm")]),
    ];
    for (path, mut fields) in steps {
        fields.push(("csrf", csrf.as_str()));
        let r = k
            .post(f.sys.kiosk.url(path))
            .form(&fields)
            .send()
            .await
            .unwrap();
        let loc = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        pages.push((
            format!("POST {path} location"),
            loc.clone().unwrap_or_default(),
        ));
        pages.push((format!("POST {path}"), r.text().await.unwrap()));
        if let Some(loc) = loc {
            let r = k.get(f.sys.kiosk.url(&loc)).send().await.unwrap();
            pages.push((format!("GET {loc}"), r.text().await.unwrap()));
        }
    }
    for path in ["/result", "/result/print"] {
        let r = k.get(f.sys.kiosk.url(path)).send().await.unwrap();
        pages.push((format!("GET {path}"), r.text().await.unwrap()));
    }
    assert!(
        pages.iter().any(|(_, b)| b.contains("id=\"verdict\"")),
        "the kiosk journey reached the result page"
    );
    assert!(
        pages.iter().any(|(_, b)| b.contains(&hanako.td3.surname)),
        "the pages show the name (so the scan below is meaningful)"
    );
    // The officer console around a RED case of Hanako's QR scanned with Hanako's
    // passport (items over the allowance).
    let (_, created) = f
        .sys
        .declare(
            &hanako.declaration(json!([{"category": "whisky", "quantity": 5,
            "volume_ml": 750, "value": {"amount": 250.0, "currency": "USD"}}])),
        )
        .await;
    let d = f
        .sys
        .scan(created["qr"]["text"].as_str().unwrap(), &hanako.mrz())
        .await;
    let case = f.sys.case_of(&d).await.unwrap();
    let o = client();
    f.login(&o).await;
    for path in [
        "/console/queue".to_owned(),
        format!("/console/cases/{case}"),
        "/console/search?flight=NH212".to_owned(),
        "/console/dashboard".to_owned(),
    ] {
        let r = o.get(f.sys.console_url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        pages.push((format!("GET {path}"), r.text().await.unwrap()));
    }
    let mut links = 0;
    for (page, body) in &pages {
        for url in urls_in(body)
            .into_iter()
            .chain(page.ends_with("location").then(|| body.clone()).into_iter())
        {
            links += 1;
            let upper = url.to_uppercase();
            for p in &pii {
                assert!(
                    !upper.contains(&p.to_uppercase()),
                    "{page} links to {url:?}, which holds personal data {p:?}"
                );
            }
        }
    }
    assert!(links > 20, "the scan saw the links ({links})");
    println!(
        "RELIABILITY item9: {} pages, {links} URLs (href/action/src/Location), 0 holding name, passport number or birth date",
        pages.len()
    );
}
