//! Support for the tests that run the real `egate` binary: a child process on a
//! temporary data directory with every listener on `127.0.0.1:0`, its standard output
//! and error captured line by line, stopped with SIGINT as Ctrl-C would. Only the
//! command line, the environment, the printed output and HTTP are used, never the
//! crates' internals.
//!
//! Waits are polls with a bounded deadline; nothing is judged on elapsed time.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::future::Future;
use std::io::{BufRead as _, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest any awaited condition may take (start-up of a debug build on a busy
/// machine included). A condition not met by then fails the test.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// Hanako's passport data, as in the README walk-through, and the MRZ her passport
/// reader sends (check digits valid).
pub const SURNAME: &str = "Tanaka";
pub const GIVEN_NAMES: &str = "Hanako";
pub const PASSPORT_NO: &str = "TR1234567";
pub const PHONE: &str = "+81 90 1234 5678";
pub const ADDRESS: &str = "Hotel Sakura, Ginza, Tokyo";
pub const MRZ: &str = "P<JPNTANAKA<<HANAKO<<<<<<<<<<<<<<<<<<<<<<<<<\n\
                       TR12345672JPN8504124F3501313<<<<<<<<<<<<<<<0";

/// A command running the `egate` binary on `data`, every listener (the internal ones
/// too) on port 0, and no
/// `EGATE_*` variable inherited from the caller's environment.
pub fn command(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_egate"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("EGATE_") || k == "RUST_LOG" {
            c.env_remove(k);
        }
    }
    c.args(args)
        .env("EGATE_DATA_DIR", data)
        .env("EGATE_MOBILE_API_ADDR", "127.0.0.1:0")
        .env("EGATE_GATE_ADDR", "127.0.0.1:0")
        .env("EGATE_CONSOLE_ADDR", "127.0.0.1:0")
        .env("EGATE_KIOSK_ADDR", "127.0.0.1:0")
        .env("EGATE_MOBILE_API_INTERNAL_ADDR", "127.0.0.1:0")
        .env("EGATE_KIOSK_INTERNAL_ADDR", "127.0.0.1:0")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Run a one-shot `egate` command to its end.
pub fn run(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    command(data, args, env).output().expect("run egate")
}

/// Run a one-shot command, require success, return its standard output.
pub fn run_ok(data: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = run(data, args, env);
    assert!(
        out.status.success(),
        "egate {args:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Poll `f` until it returns `Some`, at most [`DEADLINE`]; panics naming `what`.
pub async fn poll<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let end = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < end,
            "timed out after {DEADLINE:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A running `egate` process.
pub struct Process {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

fn capture<R: Read + Send + 'static>(
    stream: R,
    lines: Arc<Mutex<Vec<String>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Ok(mut l) = lines.lock() {
                l.push(line);
            }
        }
    })
}

impl Process {
    /// Start `egate <args>` on `data`.
    pub fn spawn(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Process {
        let mut child = command(data, args, env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start egate");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            capture(child.stdout.take().unwrap(), lines.clone()),
            capture(child.stderr.take().unwrap(), lines.clone()),
        ];
        Process {
            child,
            lines,
            readers,
        }
    }

    /// Every line printed so far (standard output and error, in arrival order).
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Everything printed so far, one string.
    pub fn output(&self) -> String {
        self.lines().join("\n")
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wait until a printed line satisfies `pred`; fails if the process ends first.
    pub async fn wait_for_line(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + DEADLINE;
        loop {
            if let Some(l) = self.lines().into_iter().find(|l| pred(l)) {
                return l;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the readers drain what it printed before it ended.
                tokio::time::sleep(Duration::from_millis(200)).await;
                panic!(
                    "egate ended ({status}) before printing {what}:\n{}",
                    self.output()
                );
            }
            assert!(
                Instant::now() < end,
                "timed out waiting for {what}:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Send SIGINT, as Ctrl-C in its terminal would.
    pub fn interrupt(&self) {
        let ok = Command::new("kill")
            .args(["-INT", &self.pid().to_string()])
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -INT {} failed", self.pid());
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Wait for the process to end (bounded) and for its output to be read.
    pub async fn wait_exit(&mut self) -> ExitStatus {
        let end = Instant::now() + DEADLINE;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                Instant::now() < end,
                "egate did not stop within {DEADLINE:?}:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        status
    }

    /// SIGINT, then wait; requires a clean exit (status 0).
    pub async fn stop(&mut self) {
        self.interrupt();
        let status = self.wait_exit().await;
        assert!(
            status.success(),
            "egate stopped with {status} after Ctrl-C:\n{}",
            self.output()
        );
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The first `http://host:port` in `line` (without a `;` or `,` after it).
pub fn url_in(line: &str) -> String {
    let i = line.find("http://").expect("a URL in the line");
    line[i..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches([';', ','])
        .trim_end_matches('/')
        .to_owned()
}

/// Every `http://host:port` in `line`, in order (as [`url_in`] reads each).
pub fn urls_in(line: &str) -> Vec<String> {
    line.match_indices("http://")
        .map(|(i, _)| url_in(&line[i..]))
        .collect()
}

/// What an operator does for services run apart (docs/trust.md, "Trust lists"): create
/// the root key once (`egate root-key init`), sign `issuer`'s current key set with it
/// (`egate trust-list sign`, served at once by a running issuer); returns the root public
/// key (`egate root-key public`), what the gate is given as `EGATE_GATE_ROOT_KEY`.
pub fn sign_trust_list(data: &Path, issuer: &str) -> String {
    if !data.join("root.key").exists() {
        run_ok(data, &["root-key", "init"], &[]);
    }
    let out = run_ok(data, &["trust-list", "sign", issuer], &[]);
    assert!(out.contains("trust list signed"), "{out}");
    run_ok(data, &["root-key", "public"], &[]).trim().to_owned()
}

/// `egate up` running: the three services and where they listen.
pub struct Up {
    /// The process.
    pub proc: Process,
    /// mobile-api base URL.
    pub mobile: String,
    /// gate-service base URL (the device listener: the scan API).
    pub gate: String,
    /// The officer console's base URL (its own listener).
    pub console: String,
    /// kiosk base URL.
    pub kiosk: String,
}

impl Up {
    /// Start `egate up` on `data` with `env` and wait until it says it is running.
    pub async fn start(data: &Path, env: &[(&str, &str)]) -> Up {
        let mut proc = Process::spawn(data, &["up"], env);
        proc.wait_for_line("the end of the start-up banner", |l| {
            l.contains("Ctrl-C stops")
        })
        .await;
        let lines = proc.lines();
        let find = |name: &str| {
            lines
                .iter()
                .find(|l| l.trim_start().starts_with(name) && l.contains("http://"))
                .map(|l| url_in(l))
                .unwrap_or_else(|| panic!("no {name} URL printed:\n{}", lines.join("\n")))
        };
        let up = Up {
            mobile: find("mobile-api"),
            gate: find("gate-service"),
            console: find("console").trim_end_matches("/console").to_owned(),
            kiosk: find("kiosk"),
            proc,
        };
        // The demo gate's key, printed on the first start of this data directory.
        let key = lines
            .iter()
            .find_map(|l| l.trim().strip_prefix("key:"))
            .map(|k| k.trim().to_owned());
        {
            let mut keys = GATE_KEYS.lock().unwrap();
            let key = key.or_else(|| keys.get(&data.display().to_string()).cloned());
            if let Some(key) = key {
                keys.insert(data.display().to_string(), key.clone());
                keys.insert(up.gate.clone(), key);
            }
        }
        let http = client();
        for base in [&up.mobile, &up.gate, &up.kiosk] {
            let r = http.get(format!("{base}/healthz")).send().await.unwrap();
            assert_eq!(r.status(), 200, "{base}/healthz");
        }
        up
    }

    /// The supervisor passwords printed (`password: …` lines).
    pub fn passwords(&self) -> Vec<String> {
        self.proc
            .lines()
            .iter()
            .filter_map(|l| l.trim().strip_prefix("password:"))
            .map(|p| p.trim().to_owned())
            .collect()
    }
}

/// Gate device keys, by gate URL (and by data directory, for a gate started again).
static GATE_KEYS: std::sync::Mutex<std::collections::BTreeMap<String, String>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// Register the device key scans at `gate` (a base URL) send.
pub fn register_gate_key(gate: &str, key: &str) {
    GATE_KEYS
        .lock()
        .unwrap()
        .insert(gate.to_owned(), key.to_owned());
}

/// The device key of the gate at `gate`: the demo gate's key printed by `egate up`, or
/// one registered with [`register_gate_key`].
pub fn gate_key(gate: &str) -> String {
    GATE_KEYS
        .lock()
        .unwrap()
        .get(gate)
        .cloned()
        .unwrap_or_else(|| panic!("no device key known for the gate at {gate}"))
}

/// `egate device add <id> --kind gate` on `data`; the key it printed once.
pub fn add_gate_device(data: &Path, id: &str) -> String {
    let out = run_ok(data, &["device", "add", id, "--kind", "gate"], &[]);
    out.lines()
        .find_map(|l| l.split_once("): ").map(|(_, k)| k.trim().to_owned()))
        .filter(|k| k.starts_with("egd_"))
        .unwrap_or_else(|| panic!("no key printed:\n{out}"))
}

/// An HTTP client with a cookie store and a bounded timeout per request.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::limited(5))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Today's date in Japan plus `days` (YYYY-MM-DD).
pub fn japan_date(days: i64) -> String {
    let now = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+9));
    let d = now.date() + time::Duration::days(days);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Hanako's declaration for mobile-api: arrival `arrival`, flight `flight`, `items`.
pub fn declaration(arrival: &str, flight: &str, items: Value) -> Value {
    json!({
        "passenger": {"surname": SURNAME, "given_names": GIVEN_NAMES, "nationality": "JPN",
                      "birth_date": "1985-04-12", "sex": "F", "passport_number": PASSPORT_NO,
                      "passport_expiry": "2035-01-31"},
        "trip": {"flight": flight, "origin": "LHR", "arrival_date": arrival,
                 "address_in_japan": ADDRESS, "phone": PHONE, "occupation": "Engineer"},
        "party": {"aged_20_plus": 1, "aged_6_to_19": 0, "under_6": 0},
        "answers": {"prohibited": false, "over_allowance": false, "commercial": false,
                    "for_others": false, "means_of_payment_over_limit": false,
                    "precious_metal_over_1kg": false, "unaccompanied_packages": 0},
        "items": items
    })
}

/// Five bottles of whisky: over the allowance, a RED declaration.
pub fn whisky() -> Value {
    json!([{"category": "whisky", "quantity": 5, "volume_ml": 750,
            "value": {"amount": 300, "currency": "USD"}}])
}

/// POST a declaration to mobile-api; requires 201; returns the answer.
pub async fn declare(http: &reqwest::Client, mobile: &str, body: &Value) -> Value {
    let r = http
        .post(format!("{mobile}/v1/declarations"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "declaration refused: {v}");
    v
}

/// A JSON scan at the gate; requires 200; returns the decision.
pub async fn scan(http: &reqwest::Client, gate: &str, qr: &str) -> Value {
    let r = http
        .post(format!("{gate}/v1/scans"))
        .bearer_auth(gate_key(gate))
        .json(&json!({"qr": qr, "mrz": MRZ}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "a scan always gets a decision");
    r.json().await.unwrap()
}

/// GET a JSON document; requires 200.
pub async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    let r = http.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200, "GET {url}");
    r.json().await.unwrap()
}

/// Reason codes of a decision: the passenger-facing ones, all a device is told (officer
/// reasons are on the case, in the console).
pub fn codes(d: &Value) -> Vec<String> {
    d["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["code"].as_str().map(str::to_owned))
        .collect()
}

/// The newest case in the console queue of a signed-in client (the device answer never
/// carries a case id).
pub async fn newest_case(console: &reqwest::Client, gate_console: &str) -> i64 {
    let queue = console
        .get(format!("{gate_console}/console/queue?status=all"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = queue.find("/console/cases/").expect("a case in the queue") + "/console/cases/".len();
    let digits: String = queue[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

/// The value of the first hidden `csrf` field of an HTML page.
pub fn csrf_of(html: &str) -> String {
    let i = html
        .find("name=\"csrf\" value=\"")
        .expect("page has no csrf field")
        + 19;
    html[i..].split('"').next().unwrap_or_default().to_owned()
}

/// Sign in to the officer console; returns the client holding the session.
pub async fn console_login(gate: &str, user: &str, password: &str) -> reqwest::Client {
    let web = client();
    let login = web
        .get(format!("{gate}/console/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = web
        .post(format!("{gate}/console/login"))
        .form(&[
            ("csrf", csrf_of(&login).as_str()),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "sign-in as {user}");
    web
}

/// The kid of each key of a JWKS document.
pub fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .expect("a JWKS")
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// The files in `dir` whose names end with `suffix`.
pub fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(suffix))
                .collect()
        })
        .unwrap_or_default()
}

/// Unix permission bits of a file.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}
