//! Item 9: web hardening on every response. The routes of the three routers are listed
//! here once ([`ROUTES`]); a test checks the list against the `.route("…")` calls in the
//! routers' source files, so a new route cannot escape the other checks: security
//! headers on every response, every state-changing route refused without its CSRF
//! token (HTML), its same-origin check (the phone's "Change") or its credential / JSON
//! content type (API), `no-store` on every kiosk response and every page of the phone's
//! wizard, and no personal data in any URL a page links to.
//!
//! The declaration wizard (crate `wizard`, docs/wizard.md) is mounted by two services:
//! the kiosk in shared-terminal mode and mobile-api (the phone web app) in
//! personal-phone mode. Its routes are listed once per service.

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
    /// A wizard page's form (the kiosk's or the phone's): needs the session and its CSRF
    /// token.
    WizardForm,
    /// The phone's "Change" (`POST /declarations/edit`, posted by the offline page `/my`,
    /// which has no session and so no CSRF token): only from this origin (`Origin`, or
    /// `Sec-Fetch-Site: same-origin` when there is none), 403 for another site's.
    SameOrigin,
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
    Route(Kiosk, "POST", "/start", "/start", WizardForm),
    Route(Kiosk, "GET", "/passport", "/passport", Read),
    Route(Kiosk, "POST", "/passport", "/passport", WizardForm),
    Route(Kiosk, "GET", "/trip", "/trip", Read),
    Route(Kiosk, "POST", "/trip", "/trip", WizardForm),
    Route(Kiosk, "GET", "/party", "/party", Read),
    Route(Kiosk, "POST", "/party", "/party", WizardForm),
    Route(Kiosk, "GET", "/questions", "/questions", Read),
    Route(Kiosk, "POST", "/questions", "/questions", WizardForm),
    Route(Kiosk, "GET", "/items", "/items", Read),
    Route(Kiosk, "POST", "/items", "/items", WizardForm),
    Route(Kiosk, "GET", "/review", "/review", Read),
    Route(Kiosk, "POST", "/review", "/review", WizardForm),
    Route(Kiosk, "GET", "/result", "/result", Read),
    Route(Kiosk, "POST", "/result", "/result", WizardForm),
    Route(Kiosk, "GET", "/result/print", "/result/print", Read),
    Route(Kiosk, "POST", "/finish", "/finish", WizardForm),
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
    // mobile-api's phone web app: the wizard in personal-phone mode (web_app.rs) ...
    Route(Mobile, "GET", "/", "/", Read),
    Route(Mobile, "POST", "/start", "/start", WizardForm),
    Route(Mobile, "POST", "/lang", "/lang", WizardForm),
    Route(Mobile, "GET", "/passport", "/passport", Read),
    Route(Mobile, "POST", "/passport", "/passport", WizardForm),
    Route(Mobile, "GET", "/trip", "/trip", Read),
    Route(Mobile, "POST", "/trip", "/trip", WizardForm),
    Route(Mobile, "GET", "/party", "/party", Read),
    Route(Mobile, "POST", "/party", "/party", WizardForm),
    Route(Mobile, "GET", "/questions", "/questions", Read),
    Route(Mobile, "POST", "/questions", "/questions", WizardForm),
    Route(Mobile, "GET", "/items", "/items", Read),
    Route(Mobile, "POST", "/items", "/items", WizardForm),
    Route(Mobile, "GET", "/review", "/review", Read),
    Route(Mobile, "POST", "/review", "/review", WizardForm),
    Route(Mobile, "GET", "/result", "/result", Read),
    Route(Mobile, "POST", "/result", "/result", WizardForm),
    Route(Mobile, "POST", "/finish", "/finish", WizardForm),
    Route(
        Mobile,
        "POST",
        "/declarations/edit",
        "/declarations/edit",
        SameOrigin,
    ),
    Route(
        Mobile,
        "GET",
        "/static/wizard.css",
        "/static/wizard.css",
        Read,
    ),
    // ... and its app shell (app_shell.rs).
    Route(Mobile, "GET", "/my", "/my", Read),
    Route(
        Mobile,
        "GET",
        "/manifest.webmanifest",
        "/manifest.webmanifest",
        Read,
    ),
    Route(Mobile, "GET", "/app.js", "/app.js", Read),
    Route(Mobile, "GET", "/app.css", "/app.css", Read),
    Route(Mobile, "GET", "/sw.js", "/sw.js", Read),
    Route(Mobile, "GET", "/icons/{name}", "/icons/icon-192.png", Read),
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
        // The wizard's paths are `&p("/…")` (under its configured prefix): one more
        // parenthesis to close before the handlers.
        let mut depth = 1usize;
        if let Some(r) = rest.strip_prefix("&p(") {
            rest = r.trim_start();
            depth += 1;
        }
        let Some(r) = rest.strip_prefix('"') else {
            panic!(
                "a route whose path the scan cannot read: .route({}",
                rest.lines().next().unwrap_or_default()
            );
        };
        rest = r;
        let end = rest.find('"').unwrap();
        let path = format!("{prefix}{}", &rest[..end]);
        // The handlers of this route: up to the parenthesis that closes `.route(`
        // (method routers may be merged or layered inside it).
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
    // The kiosk's own endpoints (health, beside the issuer's), mounted among the pages.
    routes_in_source(
        Kiosk,
        &format!("{root}/kiosk/src/routes.rs"),
        "",
        &mut found,
    );
    // The wizard's pages, as each service mounts them: the kiosk's (kiosk/src/routes.rs)
    // and the phone web app's (mobile-api/src/web_app.rs).
    for svc in [Kiosk, Mobile] {
        found.extend(wizard_routes(svc));
    }
    // The phone app's shell, merged into mobile-api's public router.
    routes_in_source(
        Mobile,
        &format!("{root}/mobile-api/src/app_shell.rs"),
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
    assert!(found.len() >= 90, "the scan found the routes: {found:?}");
}

/// The routes of the wizard's router (wizard/src/routes.rs `mount`) as `svc` (the kiosk
/// or mobile-api) mounts them: those built for both modes, then the arm of the
/// service's mode only (the kiosk: shared terminal; mobile-api: personal phone).
fn wizard_routes(svc: Svc) -> BTreeSet<String> {
    // The paths are `&p("/…")`, under the configured prefix, and the stylesheet's is
    // `&p(c.stylesheet)`: neither is written in the router, both are each service's
    // configuration, so they are taken from the configuration the service builds (the
    // kiosk: `WizardConfig::shared_terminal`, kiosk/src/lib.rs; mobile-api:
    // `web_app::wizard_config`). A changed stylesheet path then changes the scan, and
    // the list (written for pages at the root) is checked against it.
    let dir = tempfile::tempdir().unwrap();
    let (config, mode_arm) = match svc {
        Kiosk => (
            wizard::WizardConfig::shared_terminal(std::time::Duration::from_secs(60), false),
            "Mode::SharedTerminal =>",
        ),
        Mobile => (
            mobile_api::web_app::wizard_config(&mobile_api::Config::for_tests(dir.path())),
            "Mode::PersonalPhone =>",
        ),
        _ => panic!("{svc:?} does not mount the wizard"),
    };
    assert_eq!(config.prefix, "", "{svc:?}: the wizard's pages at the root");
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../wizard/src/routes.rs");
    let src = std::fs::read_to_string(file).unwrap();
    let mount = &src[src.find("pub fn mount").expect("the wizard's mount()")..];
    let arms = mount.find("match c.mode").expect("the per-mode routes");
    let both = mount[..arms].replace(
        "&p(c.stylesheet)",
        &format!("&p({:?})", config.path(config.stylesheet)),
    );
    assert!(
        !both.contains("c.stylesheet"),
        "the stylesheet's route read"
    );
    let arm = &mount[arms..mount[arms..].find("};").expect("the match's end") + arms];
    let arm = &arm[arm.find(mode_arm).expect("the mode's arm")..];
    // The arm ends where the next mode's begins.
    let arm = match arm[mode_arm.len()..].find("Mode::") {
        Some(next) => &arm[..mode_arm.len() + next],
        None => arm,
    };
    let mut out = BTreeSet::new();
    routes_in_text(svc, &both, "", &mut out);
    routes_in_text(svc, arm, "", &mut out);
    out
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
        self.url_on(r.0, r.3)
    }

    /// `example` (a route's concrete path) on `svc`'s listener.
    fn url_on(&self, svc: Svc, example: &str) -> String {
        let path = example
            .replace("{id}", &self.decl_id)
            .replace("{case}", &self.case_id.to_string());
        match svc {
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
        self.wizard_session(c, Kiosk).await
    }

    /// Start a wizard session in English on `c`, on the kiosk or on the phone web app
    /// (mobile-api); returns its CSRF token.
    async fn wizard_session(&self, c: &reqwest::Client, svc: Svc) -> String {
        let at = |path: &str| match svc {
            Kiosk => self.sys.kiosk.url(path),
            Mobile => self.sys.mobile.url(path),
            _ => panic!("{svc:?} serves no wizard"),
        };
        let start = c.get(at("/")).send().await.unwrap();
        let csrf = csrf_of(&start.text().await.unwrap());
        let r = c
            .post(at("/start"))
            .form(&[("csrf", csrf.as_str()), ("lang", "en")])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_redirection() || r.status().is_success());
        let p = c.get(at("/passport")).send().await.unwrap();
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
    let phone = client();
    f.wizard_session(&phone, Mobile).await;
    // The phone's wizard pages are no-store like the kiosk's (they hold the session's
    // CSRF token and the passenger's answers); the API and the app shell are not pages
    // of a session.
    let phone_pages = wizard_routes(Mobile);
    let mut checked = 0;
    for r in ROUTES {
        // Each route as a stranger and, for console, kiosk and mobile-api (the phone web
        // app), also inside a session.
        let mut clients = vec![("anonymous", &anon)];
        match r.0 {
            Console => clients.push(("officer", &officer)),
            Kiosk => clients.push(("kiosk session", &kiosk)),
            Mobile => clients.push(("phone session", &phone)),
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
            if r.0 == Kiosk || phone_pages.contains(&format!("{:?} {} {}", r.0, r.1, r.2)) {
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
    let fallbacks = [
        f.sys.mobile.url("/nope"),
        f.sys.gate.url("/nope"),
        f.sys.gate.url("/console/queue"),
        f.sys.console_url("/nope"),
        f.sys.console_url("/console/nope"),
        f.sys.console_url("/v1/scans"),
        f.sys.kiosk.url("/nope"),
        f.sys.mobile.url("/v1/nope"),
        format!("http://{}/nope", f.sys.mobile_internal),
        format!("http://{}/nope", f.sys.kiosk_internal),
    ];
    let errors = fallbacks.len() + 1;
    for url in fallbacks {
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
        "RELIABILITY item9: {checked} route/identity requests + {errors} error responses carried nosniff, CSP frame-ancestors 'none', Referrer-Policy"
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
async fn the_kiosk_and_the_phone_web_app_serve_only_their_own_routes() {
    let _g = EXCLUSIVE.read().await;
    let f = fixture().await;
    // A session on each, so that the wizard's pages answer as to a passenger.
    let (kiosk, phone) = (client(), client());
    f.wizard_session(&kiosk, Kiosk).await;
    f.wizard_session(&phone, Mobile).await;
    let mut crossed = 0;
    for r in ROUTES {
        // A route of the kiosk requested on mobile-api and the other way round: the
        // other mode's pages (the kiosk's printout and timeout, the phone's language
        // switch and "Change"), each one's stylesheet, the app shell and the API are not
        // served (404; 405 where the path is the other's with another method).
        let (other, c) = match r.0 {
            Kiosk => (Mobile, &phone),
            Mobile => (Kiosk, &kiosk),
            _ => continue,
        };
        if ROUTES
            .iter()
            .any(|o| o.0 == other && o.1 == r.1 && o.2 == r.2)
        {
            continue;
        }
        let path_elsewhere = ROUTES.iter().any(|o| o.0 == other && o.2 == r.2);
        let url = f.url_on(other, r.3);
        let method = Method::from_bytes(r.1.as_bytes()).unwrap();
        let resp = c.request(method, &url).send().await.unwrap();
        let want = if path_elsewhere { 405 } else { 404 };
        assert_eq!(
            resp.status(),
            want,
            "{:?} {} {} on {other:?}",
            r.0,
            r.1,
            r.3
        );
        assert_security_headers(&url, resp.headers());
        crossed += 1;
    }
    assert!(crossed >= 20, "{crossed}");
    println!(
        "RELIABILITY wizard: {crossed} routes of the kiosk or mobile-api requested on the other -> 404/405"
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
    let phone = client();
    f.wizard_session(&phone, Mobile).await;
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
            WizardForm => {
                let session = if r.0 == Kiosk { &kiosk } else { &phone };
                let resp = session
                    .post(&url)
                    .form(&[("action", "next"), ("lang", "en")])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 403, "{} in a session without CSRF", r.3);
                let resp = session
                    .post(&url)
                    .form(&[("csrf", "forged"), ("action", "next")])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 403, "{} with a wrong CSRF token", r.3);
            }
            SameOrigin => {
                // Another site's form opening the declaration, with its real edit token
                // (the worst case: a forger holding one): refused, no session opened.
                let form = [
                    ("declaration_id", f.decl_id.as_str()),
                    ("edit_token", f.edit_token.as_str()),
                ];
                let evil = Some("https://evil.example");
                for (origin, fetch_site) in [
                    (evil, None),
                    (evil, Some("same-origin")),
                    (Some("null"), Some("cross-site")),
                    (Some("null"), None),
                    (None, Some("cross-site")),
                    (None, None),
                ] {
                    let mut req = anon.post(&url).form(&form);
                    if let Some(o) = origin {
                        req = req.header("origin", o);
                    }
                    if let Some(s) = fetch_site {
                        req = req.header("sec-fetch-site", s);
                    }
                    let resp = req.send().await.unwrap();
                    let what = format!("{} {} from {origin:?} ({fetch_site:?})", r.1, r.3);
                    assert_eq!(resp.status(), 403, "{what}");
                    assert!(
                        !resp.headers().contains_key("set-cookie"),
                        "{what}: no session"
                    );
                }
                // The same post from this origin opens it (the 403s are the origin's).
                let own = client();
                let resp = own
                    .post(&url)
                    .header("origin", format!("http://{}", f.sys.mobile.addr))
                    .form(&form)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), StatusCode::SEE_OTHER, "same-origin edit");
                assert_eq!(resp.headers()["location"], "/review");
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
    for (c, passport) in [
        (&kiosk, f.sys.kiosk.url("/passport")),
        (&phone, f.sys.mobile.url("/passport")),
    ] {
        let p = c.get(passport).send().await.unwrap();
        assert_eq!(p.status(), 200, "the wizard session is still live");
    }
    let q = officer
        .get(f.sys.console_url("/console/queue"))
        .send()
        .await
        .unwrap();
    assert_eq!(q.status(), 200, "the officer is still signed in");
    println!(
        "RELIABILITY item9: {refused} state-changing routes refused without CSRF token / same origin / credential / JSON content type"
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
    // A whole declaration by Hanako on the kiosk and on the phone web app (the same
    // wizard, each mode's pages), keeping every page.
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
    for svc in [Kiosk, Mobile] {
        let at = |path: &str| match svc {
            Kiosk => f.sys.kiosk.url(path),
            _ => f.sys.mobile.url(path),
        };
        let k = client();
        let csrf = f.wizard_session(&k, svc).await;
        for (path, fields) in &steps {
            let mut fields = fields.clone();
            fields.push(("csrf", csrf.as_str()));
            let r = k.post(at(path)).form(&fields).send().await.unwrap();
            let loc = r
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned());
            pages.push((
                format!("{svc:?} POST {path} location"),
                loc.clone().unwrap_or_default(),
            ));
            pages.push((format!("{svc:?} POST {path}"), r.text().await.unwrap()));
            if let Some(loc) = loc {
                let r = k.get(at(&loc)).send().await.unwrap();
                pages.push((format!("{svc:?} GET {loc}"), r.text().await.unwrap()));
            }
        }
        // The result, then the kiosk's printout or the phone's "My declarations".
        let after = if svc == Kiosk { "/result/print" } else { "/my" };
        for path in ["/result", after] {
            let r = k.get(at(path)).send().await.unwrap();
            assert_eq!(r.status(), 200, "{svc:?} {path}");
            let body = r.text().await.unwrap();
            if path == "/result" {
                assert!(
                    body.contains("id=\"verdict\""),
                    "the {svc:?} journey reached the result page"
                );
            }
            pages.push((format!("{svc:?} GET {path}"), body));
        }
    }
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
