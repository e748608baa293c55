//! Harness for the end-to-end journeys: starts the three real services on port 0 with a
//! fresh data directory, wired as `egate up` wires them (the gate trusts the two
//! issuers at the addresses actually bound), and offers small helpers to declare,
//! scan and read the results.

use serde_json::{Value, json};
use shared::domain::Sex;
use shared::mrz::{Td3, build_td3};
use std::net::SocketAddr;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub mod gates;
pub mod pg_server;
pub mod scale_out;

/// One running service.
pub struct Running<S> {
    /// Its state (for direct access to its store in assertions).
    pub state: S,
    /// Its bound address.
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl<S> Running<S> {
    /// `http://addr`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
    /// Stop it (graceful shutdown) and wait until it has stopped.
    pub async fn stop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.task.take() {
            t.await
                .expect("server task panicked")
                .expect("server failed");
        }
    }
}

fn stopper() -> (
    watch::Sender<bool>,
    impl std::future::Future<Output = ()> + Send + 'static,
) {
    let (tx, mut rx) = watch::channel(false);
    (tx, async move {
        let _ = rx.wait_for(|s| *s).await;
    })
}

/// The whole system.
pub struct System {
    /// Data directory (deleted on drop).
    pub dir: tempfile::TempDir,
    /// mobile-api.
    pub mobile: Running<mobile_api::AppState>,
    /// kiosk.
    pub kiosk: Running<kiosk::AppState>,
    /// gate-service (its device listener: the scan API).
    pub gate: Running<gate_service::AppState>,
    /// The gate's officer console listener.
    pub console_addr: SocketAddr,
    /// The key of E-Gate device `G-01`, registered at start: scans send it as
    /// `Authorization: Bearer` (see [`System::gate_device`] for another gate).
    pub gate_key: String,
    /// mobile-api's internal listener (`/v1/internal/*`, gates only).
    pub mobile_internal: SocketAddr,
    /// The kiosk's internal listener (`/v1/internal/*`, gates only).
    pub kiosk_internal: SocketAddr,
    /// HTTP client.
    pub http: reqwest::Client,
    /// The operator root key that signs the issuers' trust lists (docs/trust.md).
    pub trust_root: shared::token::SigningKey,
    /// Each issuer's key directory, id and key publication time (for re-signing).
    pub trust_dirs: Vec<(std::path::PathBuf, String, i64)>,
}

/// Sign each issuer's key set with `root`, as `egate trust-list sign` does.
pub fn sign_trust_lists(
    root: &shared::token::SigningKey,
    dirs: &[(std::path::PathBuf, String, i64)],
) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (dir, id, publish) in dirs {
        shared::token::signed_list::sign_issuer_dir(
            root,
            dir,
            id,
            now,
            shared::token::signed_list::DEFAULT_LIST_VALIDITY_SECS,
            *publish,
        )
        .unwrap();
    }
}

impl System {
    /// Re-sign every issuer's trust list (after a key rotation).
    pub fn sign_trust_lists(&self) {
        sign_trust_lists(&self.trust_root, &self.trust_dirs);
    }

    /// Start everything with a fresh data directory.
    pub async fn spawn() -> System {
        System::spawn_with(|_| {}).await
    }

    /// [`System::spawn`] with mobile-api's configuration changed by `mobile` first
    /// (its store on PostgreSQL, for one).
    pub async fn spawn_with(mobile: impl FnOnce(&mut mobile_api::Config)) -> System {
        shared::telemetry::init();
        let dir = tempfile::tempdir().unwrap();
        let mut m_cfg = mobile_api::Config::for_tests(dir.path());
        mobile(&mut m_cfg);
        let k_cfg = kiosk::Config::for_tests(dir.path());
        let mut g_cfg = gate_service::Config::for_tests(dir.path());
        let m_l = tokio::net::TcpListener::bind(m_cfg.addr).await.unwrap();
        let k_l = tokio::net::TcpListener::bind(k_cfg.addr).await.unwrap();
        let g_l = tokio::net::TcpListener::bind(g_cfg.addr).await.unwrap();
        let c_l = tokio::net::TcpListener::bind(g_cfg.console_addr)
            .await
            .unwrap();
        let console_addr = c_l.local_addr().unwrap();
        let m_il = tokio::net::TcpListener::bind(m_cfg.internal_addr)
            .await
            .unwrap();
        let k_il = tokio::net::TcpListener::bind(k_cfg.internal_addr)
            .await
            .unwrap();
        let (mobile_internal, kiosk_internal) =
            (m_il.local_addr().unwrap(), k_il.local_addr().unwrap());
        let (m_addr, k_addr, g_addr) = (
            m_l.local_addr().unwrap(),
            k_l.local_addr().unwrap(),
            g_l.local_addr().unwrap(),
        );
        g_cfg.issuers = gate_service::IssuerConfig::parse_list(&format!(
            "mobile-api=http://{m_addr};internal=http://{mobile_internal},\
             kiosk:{}=http://{k_addr};internal=http://{kiosk_internal}",
            k_cfg.terminal_id
        ))
        .unwrap();
        let trust_root = shared::token::SigningKey::generate().unwrap();
        let trust_dirs = vec![
            (
                m_cfg.key_dir(),
                m_cfg.issuer_id().to_owned(),
                m_cfg.token_validity.key_publish_secs(),
            ),
            (
                k_cfg.key_dir(),
                k_cfg.issuer_id(),
                k_cfg.token_validity.key_publish_secs(),
            ),
        ];
        sign_trust_lists(&trust_root, &trust_dirs);
        g_cfg.root_key = Some(shared::token::signed_list::RootPublicKey::of(&trust_root));

        let m_state = mobile_api::build(m_cfg).await.unwrap();
        let (m_stop, m_sig) = stopper();
        let m_serve = mobile_api::serve_with_internal(m_l, Some(m_il), m_state.clone(), m_sig);
        let m_task = tokio::spawn(async move { Ok(m_serve.await?) });
        let k_state = kiosk::build(k_cfg).await.unwrap();
        let (k_stop, k_sig) = stopper();
        let k_serve = kiosk::serve_with_internal(k_l, Some(k_il), k_state.clone(), k_sig);
        let k_task = tokio::spawn(async move { Ok(k_serve.await?) });
        let g_state = gate_service::build(g_cfg).await.unwrap();
        let (g_stop, g_sig) = stopper();
        let gate_key = gate_service::devices::add(
            &g_state.db,
            "G-01",
            gate_service::devices::DeviceKind::Gate,
            g_state.clock.unix(),
        )
        .await
        .unwrap();
        let listeners = gate_service::Listeners {
            device: g_l,
            console: c_l,
        };
        let g_serve = gate_service::serve(listeners, g_state.clone(), g_sig);
        let g_task = tokio::spawn(async move { Ok(g_serve.await?) });
        gate_service::refresh_now(&g_state).await;

        System {
            dir,
            mobile: Running {
                state: m_state,
                addr: m_addr,
                stop: m_stop,
                task: Some(m_task),
            },
            kiosk: Running {
                state: k_state,
                addr: k_addr,
                stop: k_stop,
                task: Some(k_task),
            },
            gate: Running {
                state: g_state,
                addr: g_addr,
                stop: g_stop,
                task: Some(g_task),
            },
            console_addr,
            mobile_internal,
            kiosk_internal,
            gate_key,
            http: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap(),
            trust_root,
            trust_dirs,
        }
    }

    /// `http://console-addr{path}`: the officer console's listener.
    pub fn console_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.console_addr)
    }

    /// Register E-Gate device `id` and return its key (shown once).
    pub async fn gate_device(&self, id: &str) -> String {
        gate_service::devices::add(
            &self.gate.state.db,
            id,
            gate_service::devices::DeviceKind::Gate,
            self.gate.state.clock.unix(),
        )
        .await
        .unwrap()
    }

    /// The case a RED scan answer opened, looked up by its `scan_id` in the gate's
    /// database (the device answer never carries the case id).
    pub async fn case_of(&self, decision: &Value) -> Option<i64> {
        let scan_id = decision["scan_id"].as_str()?.to_owned();
        self.gate
            .state
            .db
            .read(move |c| -> Result<Option<i64>, shared::db::DbError> {
                use rusqlite::OptionalExtension as _;
                Ok(
                    c.query_row("SELECT id FROM cases WHERE scan_id = ?1", [scan_id], |r| {
                        r.get(0)
                    })
                    .optional()?,
                )
            })
            .await
            .unwrap()
    }

    /// Every reason code the gate stored with the scan of `decision`, officer-only ones
    /// included (what the console shows).
    pub async fn stored_codes(&self, decision: &Value) -> Vec<String> {
        let Some(scan_id) = decision["scan_id"].as_str().map(str::to_owned) else {
            return Vec::new();
        };
        let json: String = self
            .gate
            .state
            .db
            .read(move |c| -> Result<String, shared::db::DbError> {
                Ok(
                    c.query_row("SELECT reasons FROM scans WHERE id = ?1", [scan_id], |r| {
                        r.get(0)
                    })?,
                )
            })
            .await
            .unwrap();
        serde_json::from_str(&json).unwrap()
    }

    /// Make the gate pull trust lists and revocations now.
    pub async fn gate_refresh(&self) {
        gate_service::refresh_now(&self.gate.state).await;
    }

    /// POST a declaration; returns (status, body).
    pub async fn declare(&self, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.mobile.url("/v1/declarations"))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    /// POST a JSON scan; returns the decision body.
    pub async fn scan(&self, qr: &str, mrz: &str) -> Value {
        let r = self
            .http
            .post(self.gate.url("/v1/scans"))
            .bearer_auth(&self.gate_key)
            .json(&json!({"qr": qr, "mrz": mrz}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "a scan always gets a decision");
        r.json().await.unwrap()
    }

    /// POST an image scan (multipart); returns the decision body.
    pub async fn scan_image(&self, png: Vec<u8>, mrz: &str) -> Value {
        let form = reqwest::multipart::Form::new()
            .part(
                "image",
                reqwest::multipart::Part::bytes(png)
                    .file_name("frame.png")
                    .mime_str("image/png")
                    .unwrap(),
            )
            .text("mrz", mrz.to_owned());
        let r = self
            .http
            .post(self.gate.url("/v1/scans/image"))
            .bearer_auth(&self.gate_key)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }
}

/// A traveller: the passport data and the MRZ a gate's reader would send.
#[derive(Clone, Debug)]
pub struct Traveller {
    /// Passport data.
    pub td3: Td3,
}

impl Traveller {
    /// A traveller with a passport valid for years.
    pub fn new(
        surname: &str,
        given: &str,
        nationality: &str,
        number: &str,
        birth: time::Date,
    ) -> Self {
        let today = time::OffsetDateTime::now_utc().date();
        Self::on(today, surname, given, nationality, number, birth)
    }

    /// [`Traveller::new`] as built on `today`: the passport expires five years on.
    pub fn on(
        today: time::Date,
        surname: &str,
        given: &str,
        nationality: &str,
        number: &str,
        birth: time::Date,
    ) -> Self {
        Traveller {
            td3: Td3 {
                document_code: "P".into(),
                issuing_state: nationality.into(),
                surname: surname.into(),
                given_names: given.into(),
                document_number: number.into(),
                nationality: nationality.into(),
                birth_date: birth,
                sex: Sex::Female,
                expiry_date: years_after(today, 5),
                optional_data: String::new(),
            },
        }
    }
    /// Hanako Tanaka, JPN.
    pub fn hanako() -> Self {
        Self::new(
            "TANAKA",
            "HANAKO",
            "JPN",
            "TK1234567",
            time::macros::date!(1985 - 04 - 12),
        )
    }
    /// Another person.
    pub fn erik() -> Self {
        Self::new(
            "LARSSON",
            "ERIK",
            "SWE",
            "SE9876543",
            time::macros::date!(1979 - 11 - 02),
        )
    }
    /// The MRZ text.
    pub fn mrz(&self) -> String {
        build_td3(&self.td3)
    }
    /// A declaration body for mobile-api with the given items.
    pub fn declaration(&self, items: Value) -> Value {
        let fmt = |d: time::Date| shared::domain::format_date(d);
        let today = time::OffsetDateTime::now_utc().date();
        json!({
            "passenger": {
                "surname": self.td3.surname, "given_names": self.td3.given_names,
                "nationality": self.td3.nationality, "birth_date": fmt(self.td3.birth_date),
                "sex": "F", "passport_number": self.td3.document_number,
                "passport_expiry": fmt(self.td3.expiry_date)
            },
            "trip": {
                "flight": "NH212", "origin": "LHR", "arrival_date": fmt(today),
                "address_in_japan": "1-1 Marunouchi, Chiyoda-ku, Tokyo",
                "phone": "+81 90 1234 5678", "occupation": "Engineer"
            },
            "party": {"aged_20_plus": 1, "aged_6_to_19": 0, "under_6": 0},
            "answers": {
                "prohibited": false, "over_allowance": false, "commercial": false,
                "for_others": false, "means_of_payment_over_limit": false,
                "precious_metal_over_1kg": false, "unaccompanied_packages": 0
            },
            "items": items
        })
    }
}

/// The same day `years` calendar years after `date`; 29 February becomes 28 February in
/// a common year (never an error, whatever the day the tests run).
pub fn years_after(date: time::Date, years: i32) -> time::Date {
    let year = date.year() + years;
    let day = date.day().min(date.month().length(year));
    time::Date::from_calendar_date(year, date.month(), day)
        .unwrap_or_else(|e| unreachable!("day {day} exists in {year}-{}: {e}", date.month()))
}

/// Reason codes of a scan answer (passenger-facing only: officer reasons are in the case,
/// see [`System::stored_codes`]).
pub fn codes(decision: &Value) -> Vec<String> {
    decision["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["code"].as_str().map(str::to_owned))
        .collect()
}

/// The value of the first hidden `csrf` field of an HTML page.
pub fn csrf_of(html: &str) -> String {
    let i = html
        .find("name=\"csrf\" value=\"")
        .expect("page has no csrf field")
        + 19;
    html[i..].split('"').next().unwrap_or_default().to_owned()
}

/// Rasterise the QR SVG the services render (`<path d="M{x} {y}h{n}v1h-{n}z…">` in a
/// `viewBox="0 0 side side"`) to a PNG at `px` pixels per module, so that the QR shown
/// on a page can be read back with a real decoder.
pub fn svg_qr_to_png(svg: &str, px: u32) -> Vec<u8> {
    let vb = svg.split("viewBox=\"0 0 ").nth(1).expect("viewBox");
    let side: u32 = vb.split(' ').next().unwrap().parse().unwrap();
    let d = svg
        .split(" d=\"")
        .nth(1)
        .expect("path")
        .split('"')
        .next()
        .unwrap();
    let mut img = image::GrayImage::from_pixel(side * px, side * px, image::Luma([255]));
    for cmd in d.split('z').filter(|c| !c.is_empty()) {
        // "M{x} {y}h{run}v1h-{run}"
        let rest = cmd.trim_start_matches('M');
        let (xy, run) = rest.split_once('h').unwrap();
        let (x, y) = xy.split_once(' ').unwrap();
        let (x, y): (u32, u32) = (x.parse().unwrap(), y.parse().unwrap());
        let run: u32 = run.split('v').next().unwrap().parse().unwrap();
        for mx in x..x + run {
            for py in y * px..(y + 1) * px {
                for pxx in mx * px..(mx + 1) * px {
                    img.put_pixel(pxx, py, image::Luma([0]));
                }
            }
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The inline `<svg>…</svg>` of an HTML page.
pub fn inline_svg(html: &str) -> String {
    let start = html.find("<svg").expect("page has no inline svg");
    let end = html[start..].find("</svg>").expect("unterminated svg") + start + 6;
    html[start..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_passport_made_on_29_february_expires_on_28_february_five_years_on() {
        assert_eq!(years_after(date!(2028 - 02 - 29), 5), date!(2033 - 02 - 28));
        assert_eq!(years_after(date!(2028 - 02 - 29), 4), date!(2032 - 02 - 29));
        assert_eq!(years_after(date!(2026 - 11 - 27), 5), date!(2031 - 11 - 27));
        // A traveller built that day has a readable MRZ with that expiry.
        let leap_day = date!(2028 - 02 - 29);
        let t = Traveller::on(
            leap_day,
            "TANAKA",
            "HANAKO",
            "JPN",
            "TK1234567",
            date!(1985 - 04 - 12),
        );
        let parsed = shared::mrz::parse_td3(&t.mrz(), leap_day).unwrap();
        assert_eq!(parsed.expiry_date, date!(2033 - 02 - 28));
        assert!(!parsed.is_expired(leap_day));
    }
}
