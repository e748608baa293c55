//! Item 8: login abuse against the officer console, over real HTTP.
//!
//! A gate-service of its own (a fresh data directory, `gate_service::build_with_clock`
//! with a [`FixedClock`] the test moves, served on port 0 on a thread of its own whose
//! tracing output is captured) and officer accounts created as `egate officer add`
//! creates them. Every attempt goes through the real form: `GET /console/login`
//! for the CSRF cookie and field, then `POST /console/login`. The client's TCP address
//! is chosen by binding the client socket to another loopback address (127.0.0.2, …),
//! so "one address" and "another address" are real peers, and every attacker request
//! carries forged `X-Forwarded-For`, `X-Real-IP`, `Forwarded`, `True-Client-IP`,
//! `CF-Connecting-IP` and `X-Client-IP` headers with fresh random addresses.
//!
//! - Per account, two accounts: 20 wrong passwords → 1–5 "wrong" (401), 6–20 refused
//!   (429, `Retry-After`), and so is the right password as the 21st, and from the
//!   officer's own terminal. An attacker that waits out each delay reaches the lock
//!   (`lock_after_failures`), which refuses the right password until exactly
//!   `lock_secs` after the last failure and lets it in then (session, queue).
//! - Per address: one address spraying 20 accounts is refused from the 6th; 20
//!   concurrent guesses get exactly 5 password checks.
//! - Every attempt is one `login_attempts` row and one log line (`console sign-in
//!   failed | throttled | succeeded`, target `gate_service::console::auth`) with the
//!   TCP peer's address; no password is in the table, the log or the database files.
//! - Every authentication path shares the limit: the source is scanned for the places
//!   that check a password (see [`credential_paths`]).

use super::*;
use gate_service::console::ConsoleConfig;
use reqwest::StatusCode;
use shared::clock::{Clock as _, FixedClock};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

/// Forged client-address headers sent with every attacker request.
const FORGED_HEADERS: &[&str] = &[
    "x-forwarded-for",
    "x-real-ip",
    "forwarded",
    "true-client-ip",
    "cf-connecting-ip",
    "x-client-ip",
];
const AUTH_TARGET: &str = "gate_service::console::auth::throttle";

/// Bytes written by the gate thread's tracing subscriber (JSON lines).
#[derive(Clone, Default)]
struct LogBuf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuf {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// A gate-service on its own thread (a current-thread runtime with a thread-local
/// tracing subscriber, so its log lines are captured without touching the global one
/// the other tests use), on a fresh data directory, with a clock the test moves.
struct Gate {
    dir: tempfile::TempDir,
    addr: SocketAddr,
    state: gate_service::AppState,
    clock: FixedClock,
    log: LogBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

async fn start_gate() -> Gate {
    let dir = tempfile::tempdir().unwrap();
    let start = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let clock = FixedClock::at(start);
    let log = LogBuf::default();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (path, clk, buf) = (dir.path().to_owned(), clock.clone(), log.clone());
    let thread = std::thread::Builder::new()
        .name("gate-login-abuse".into())
        .spawn(move || {
            let subscriber = tracing_subscriber::fmt()
                .json()
                .with_max_level(tracing::Level::INFO)
                .with_writer(move || buf.clone())
                .finish();
            let _log = tracing::subscriber::set_default(subscriber);
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let cfg = gate_service::Config::for_tests(&path);
                // The console's listener is the one attacked.
                let listeners = gate_service::Listeners::bind(&cfg).await.unwrap();
                let addr = listeners.console.local_addr().unwrap();
                let state = gate_service::build_with_clock(cfg, Arc::new(clk))
                    .await
                    .unwrap();
                let _ = ready_tx.send((addr, state.clone()));
                gate_service::serve(listeners, state, async move {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap();
            });
        })
        .unwrap();
    let (addr, state) = ready_rx.await.unwrap();
    Gate {
        dir,
        addr,
        state,
        clock,
        log,
        stop: Some(stop_tx),
        thread: Some(thread),
    }
}

impl Gate {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
    fn advance(&self, secs: i64) {
        self.clock.advance(Duration::seconds(secs));
    }
    fn set(&self, unix: i64) {
        self.clock
            .set(OffsetDateTime::from_unix_timestamp(unix).unwrap());
    }
    async fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            tokio::task::spawn_blocking(move || t.join().expect("gate thread panicked"))
                .await
                .unwrap();
        }
    }
}

/// xorshift64*: fresh forged addresses and wrong passwords (seed printed on failure).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn ip(&mut self) -> String {
        let b = self.next().to_be_bytes();
        format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
    }
}

/// A client whose TCP connections come from `ip` (a loopback address).
#[derive(Clone)]
struct Peer {
    ip: IpAddr,
    client: reqwest::Client,
}

fn peer(last: u8) -> Peer {
    let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, last));
    Peer {
        ip,
        client: reqwest::Client::builder()
            .local_address(ip)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

/// What the sign-in answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Answer {
    /// 401, "Wrong user name or password."
    Wrong,
    /// 429 with `Retry-After` (seconds), "Too many failed attempts. Try again in … s."
    Throttled(i64),
    /// 303 to the queue with a session cookie.
    SignedIn,
}

type Headers = Vec<(&'static str, String)>;

/// `GET /console/login`: the CSRF field (the cookie lands in the peer's jar).
async fn login_form(base: &str, p: &Peer, headers: &Headers) -> String {
    let mut req = p
        .client
        .get(format!("{base}/console/login"))
        .header("accept-language", "en");
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    tests::csrf_of(&r.text().await.unwrap())
}

/// `POST /console/login` with the form's CSRF field; checks the answer's shape.
async fn submit(
    base: &str,
    p: &Peer,
    csrf: &str,
    user: &str,
    password: &str,
    headers: &Headers,
) -> Answer {
    let mut req = p
        .client
        .post(format!("{base}/console/login"))
        .header("accept-language", "en")
        .form(&[("csrf", csrf), ("username", user), ("password", password)]);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let h = r.headers().clone();
    let session = h
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with("egate_session=") && !c.starts_with("egate_session=;"));
    let retry = h
        .get(reqwest::header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().parse::<i64>().unwrap());
    let body = r.text().await.unwrap();
    match status {
        StatusCode::UNAUTHORIZED => {
            assert!(body.contains("Wrong user name or password."), "{body}");
            assert!(!session && retry.is_none());
            Answer::Wrong
        }
        StatusCode::TOO_MANY_REQUESTS => {
            let s = retry.expect("a throttled answer says how long to wait");
            assert!(
                body.contains(&format!("Too many failed attempts. Try again in {s} s.")),
                "{body}"
            );
            assert!(!body.contains("Wrong user name"), "the two answers differ");
            assert!(!session);
            Answer::Throttled(s)
        }
        StatusCode::SEE_OTHER => {
            assert_eq!(h[reqwest::header::LOCATION], "/console/queue");
            assert!(session, "a session cookie is set");
            Answer::SignedIn
        }
        other => panic!("unexpected sign-in answer {other}: {body}"),
    }
}

/// One attempt as recorded by the test.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Try {
    user: String,
    peer: IpAddr,
    answer: Answer,
}

/// The running test: the gate, every attempt made, every password and forged address
/// sent.
struct Run {
    gate: Gate,
    cfg: ConsoleConfig,
    rng: Rng,
    tries: Vec<Try>,
    passwords: Vec<String>,
    forged: BTreeSet<String>,
}

impl Run {
    fn base(&self) -> String {
        self.gate.url("")
    }

    /// Fresh forged client-address headers (the first address recorded as forged).
    fn forged_headers(&mut self) -> Headers {
        let (a, b) = (self.rng.ip(), self.rng.ip());
        assert!(
            self.forged.insert(a.clone()),
            "forged addresses are all different"
        );
        self.forged.insert(b.clone());
        FORGED_HEADERS
            .iter()
            .map(|&h| {
                let v = match h {
                    "x-forwarded-for" => format!("{a}, {b}"),
                    "forwarded" => format!("for={a};proto=https, for={b}"),
                    _ => a.clone(),
                };
                (h, v)
            })
            .collect()
    }

    fn wrong_password(&mut self) -> String {
        let pw = format!("guess-{:016x}", self.rng.next());
        self.passwords.push(pw.clone());
        pw
    }

    /// One sign-in through the form; `forge`: with forged address headers.
    async fn attempt(&mut self, p: &Peer, user: &str, password: &str, forge: bool) -> Answer {
        let headers = if forge {
            self.forged_headers()
        } else {
            Vec::new()
        };
        let base = self.base();
        let csrf = login_form(&base, p, &headers).await;
        let answer = submit(&base, p, &csrf, user, password, &headers).await;
        self.tries.push(Try {
            user: user.to_owned(),
            peer: p.ip,
            answer,
        });
        answer
    }

    async fn wrong(&mut self, p: &Peer, user: &str) -> Answer {
        let pw = self.wrong_password();
        self.attempt(p, user, &pw, true).await
    }

    async fn officer(&mut self, user: &str, password: &str) {
        gate_service::console::create_officer(&self.gate.state.db, user, user, "officer", password)
            .await
            .unwrap();
        self.passwords.push(password.to_owned());
    }
}

/// What one account's run showed.
struct AccountFigures {
    throttled_from: usize,
    first_wait: i64,
    delays: Vec<i64>,
    recovered_after_last: i64,
    recovered_after_first: i64,
}

/// 20 wrong passwords with rotating forged addresses, the right one as the 21st, the
/// patient attacker's way to the lock, and the recovery from the officer's terminal.
async fn abuse_one_account(
    run: &mut Run,
    user: &str,
    password: &str,
    attacker: &Peer,
    terminal: &Peer,
) -> AccountFigures {
    let cfg = run.cfg.clone();
    let free = cfg.throttle_free_failures as usize;
    let first_failure = run.gate.clock.unix();

    // 20 wrong passwords, each from a different forged address, the clock standing still.
    let mut answers = Vec::new();
    for _ in 0..20 {
        answers.push(run.wrong(attacker, user).await);
    }
    for (i, a) in answers.iter().enumerate() {
        let expected = if i < free {
            Answer::Wrong
        } else {
            Answer::Throttled(cfg.throttle_base_delay_secs)
        };
        assert_eq!(*a, expected, "{user}: attempt {}", i + 1);
    }
    let throttled_from = answers.iter().position(|a| *a != Answer::Wrong).unwrap() + 1;
    // The right password is refused too, from the attacker and from the officer's own
    // terminal (the limit is per account, whatever the address).
    assert_eq!(
        run.attempt(attacker, user, password, true).await,
        Answer::Throttled(cfg.throttle_base_delay_secs),
        "{user}: the 21st attempt, with the right password"
    );
    assert_eq!(
        run.attempt(terminal, user, password, false).await,
        Answer::Throttled(cfg.throttle_base_delay_secs),
        "{user}: the right password from another address"
    );

    // An attacker that waits out every delay gets one checked guess per delay, and the
    // delays double until the lock.
    let mut delays = Vec::new();
    let mut failures = free as i64;
    while failures < cfg.lock_after_failures {
        let Answer::Throttled(wait) = run.wrong(attacker, user).await else {
            panic!("{user}: a guess before the delay ran out was checked");
        };
        delays.push(wait);
        run.gate.advance(wait);
        assert_eq!(
            run.wrong(attacker, user).await,
            Answer::Wrong,
            "{user}: after waiting {wait} s the guess is checked (and fails)"
        );
        failures += 1;
    }
    let expected: Vec<i64> = (cfg.throttle_free_failures..cfg.lock_after_failures)
        .map(|n| {
            (cfg.throttle_base_delay_secs << (n - cfg.throttle_free_failures)).min(cfg.lock_secs)
        })
        .collect();
    assert_eq!(delays, expected, "{user}: the doubling delays");
    let last_failure = run.gate.clock.unix();

    // Locked: refused for lock_secs after the last failure; hammering does not extend it.
    assert_eq!(
        run.wrong(attacker, user).await,
        Answer::Throttled(cfg.lock_secs),
        "{user}: locked"
    );
    let third = cfg.lock_secs / 3;
    for k in 1..=2 {
        run.gate.advance(third);
        assert_eq!(
            run.wrong(attacker, user).await,
            Answer::Throttled(cfg.lock_secs - k * third),
            "{user}: refused guesses do not extend the lock"
        );
    }
    run.gate.set(last_failure + cfg.lock_secs - 1);
    assert_eq!(
        run.attempt(terminal, user, password, false).await,
        Answer::Throttled(1),
        "{user}: the right password one second before the lock lifts"
    );
    run.gate.advance(1);
    assert_eq!(
        run.attempt(terminal, user, password, false).await,
        Answer::SignedIn,
        "{user}: the right password once the lock has lifted"
    );
    let q = terminal
        .client
        .get(run.gate.url("/console/queue"))
        .send()
        .await
        .unwrap();
    assert_eq!(q.status(), StatusCode::OK);
    assert!(q.text().await.unwrap().contains("id=\"logout\""));
    let recovered = run.gate.clock.unix();
    AccountFigures {
        throttled_from,
        first_wait: cfg.throttle_base_delay_secs,
        delays,
        recovered_after_last: recovered - last_failure,
        recovered_after_first: recovered - first_failure,
    }
}

/// `login_attempts` rows of the gate: (username, client_ip, success, throttled), by id.
async fn attempt_rows(gate: &Gate) -> Vec<(String, String, bool, bool)> {
    gate.state
        .db
        .read(
            |c| -> Result<Vec<(String, String, bool, bool)>, shared::db::DbError> {
                let mut st = c.prepare(
                "SELECT username, client_ip, success, throttled FROM login_attempts ORDER BY id",
            )?;
                Ok(st
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect::<Result<_, _>>()?)
            },
        )
        .await
        .unwrap()
}

/// The user names of the gate's officer accounts.
async fn officer_names(gate: &Gate) -> BTreeSet<String> {
    gate.state
        .db
        .read(|c| -> Result<BTreeSet<String>, shared::db::DbError> {
            let mut st = c.prepare("SELECT username FROM officers")?;
            Ok(st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?)
        })
        .await
        .unwrap()
}

/// The sign-in log lines of the gate: (user tag, client ip, kind, wait), in order.
fn auth_log_lines(log: &str) -> Vec<(String, String, &'static str, Option<i64>)> {
    let mut out = Vec::new();
    for line in log.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON log line");
        if v["target"] != AUTH_TARGET {
            continue;
        }
        let f = &v["fields"];
        let kind = match f["message"].as_str().unwrap_or_default() {
            "console sign-in failed" => "failed",
            "console sign-in throttled" => "throttled",
            "console sign-in succeeded" => "succeeded",
            _ => continue,
        };
        out.push((
            f["login.user"].as_str().unwrap().to_owned(),
            f["client.ip"].as_str().unwrap().to_owned(),
            kind,
            f["login.wait_s"].as_i64(),
        ));
    }
    out
}

fn user_tag(gate: &Gate, user: &str) -> String {
    gate_service::console::auth::throttle::unknown_user_key(&gate.state, user)[1..].to_owned()
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            files_under(&e.path(), out);
        } else {
            out.push(e.path());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_abuse_is_throttled_per_account_and_address_whatever_the_forwarded_headers() {
    let _g = EXCLUSIVE.read().await;
    let gate = start_gate().await;
    let seed = (OffsetDateTime::now_utc().unix_timestamp_nanos() as u64) | 1;
    eprintln!("login abuse: rng seed {seed}");
    let mut run = Run {
        gate,
        cfg: ConsoleConfig::from_env(),
        rng: Rng(seed),
        tries: Vec::new(),
        passwords: Vec::new(),
        forged: BTreeSet::new(),
    };
    let cfg = run.cfg.clone();
    assert!(
        cfg.throttle_free_failures < 20 && cfg.lock_after_failures > cfg.throttle_free_failures
    );
    let accounts = [
        ("tanaka", "correct horse battery staple"),
        ("sato", "another long passphrase 42"),
    ];
    for (u, pw) in accounts {
        run.officer(u, pw).await;
    }
    let terminal = peer(9); // the officers' own counter terminal

    // 1. Two accounts, each attacked from its own address.
    let mut figures = Vec::new();
    for (i, (u, pw)) in accounts.iter().enumerate() {
        let attacker = peer(2 + i as u8);
        figures.push(abuse_one_account(&mut run, u, pw, &attacker, &terminal).await);
    }

    // 2. One address spraying 20 accounts (two real, eighteen guessed names), forged
    // headers rotating: refused from the 6th, whoever the account.
    let sprayer = peer(4);
    run.officer("kato", "kato's long passphrase").await;
    run.officer("ito", "ito's long passphrase!").await;
    let names: Vec<String> = ["kato", "ito"]
        .into_iter()
        .map(str::to_owned)
        .chain((3..=20).map(|i| format!("user{i:02}")))
        .collect();
    let mut spray = Vec::new();
    for n in &names {
        spray.push(run.wrong(&sprayer, n).await);
    }
    for (i, a) in spray.iter().enumerate() {
        let expected = if i < cfg.throttle_free_failures as usize {
            Answer::Wrong
        } else {
            Answer::Throttled(cfg.throttle_base_delay_secs)
        };
        assert_eq!(*a, expected, "spray attempt {} ({})", i + 1, names[i]);
    }
    let spray_throttled_from = spray.iter().position(|a| *a != Answer::Wrong).unwrap() + 1;
    assert_eq!(
        run.attempt(&sprayer, "kato", "kato's long passphrase", true)
            .await,
        Answer::Throttled(cfg.throttle_base_delay_secs),
        "the address is throttled, even for a right password"
    );
    assert_eq!(
        run.attempt(&peer(6), "kato", "kato's long passphrase", false)
            .await,
        Answer::SignedIn,
        "the account itself had one failure: it works from another address"
    );

    // 3. Twenty concurrent guesses on one account from one address: the attempt is
    // recorded before the password is checked, so exactly the free failures are checked.
    run.officer("kimura", "kimura's long passphrase").await;
    let racer = peer(5);
    let base = run.base();
    let mut prepared = Vec::new();
    for _ in 0..20 {
        let p = peer(5);
        let headers = run.forged_headers();
        let csrf = login_form(&base, &p, &headers).await;
        let pw = run.wrong_password();
        prepared.push((p, headers, csrf, pw));
    }
    let mut set = tokio::task::JoinSet::new();
    for (p, headers, csrf, pw) in prepared {
        let base = base.clone();
        set.spawn(async move { submit(&base, &p, &csrf, "kimura", &pw, &headers).await });
    }
    let mut raced = Vec::new();
    while let Some(a) = set.join_next().await {
        raced.push(a.unwrap());
    }
    let checked = raced.iter().filter(|a| **a == Answer::Wrong).count();
    assert_eq!(checked, cfg.throttle_free_failures as usize, "{raced:?}");
    assert!(
        raced
            .iter()
            .all(|a| matches!(a, Answer::Wrong | Answer::Throttled(_))),
        "{raced:?}"
    );
    for a in &raced {
        run.tries.push(Try {
            user: "kimura".into(),
            peer: racer.ip,
            answer: *a,
        });
    }

    // 4. Every attempt is one row, with the TCP peer's address, never a forged one.
    // A name that is no account's is recorded as its hash (`#` + 16 hex digits): a
    // password typed as the user name is never stored.
    let rows = attempt_rows(&run.gate).await;
    let officers = officer_names(&run.gate).await;
    let stored = |u: &str| {
        if officers.contains(u) {
            u.to_owned()
        } else {
            gate_service::console::auth::throttle::unknown_user_key(&run.gate.state, u)
        }
    };
    assert!(
        rows.iter()
            .all(|r| officers.contains(&r.0) || (r.0.starts_with('#') && r.0.len() == 17)),
        "only account names or hashes are stored"
    );
    let mut by_user: BTreeMap<String, (Vec<Try>, Vec<Try>)> = BTreeMap::new();
    for t in &run.tries {
        let user = stored(&t.user);
        by_user
            .entry(user.clone())
            .or_default()
            .0
            .push(Try { user, ..t.clone() });
    }
    for (u, ip, success, throttled) in &rows {
        assert!(
            !run.forged.contains(ip),
            "a forged address was recorded: {ip}"
        );
        let wait = match (success, throttled) {
            (true, false) => Answer::SignedIn,
            (false, false) => Answer::Wrong,
            (false, true) => Answer::Throttled(0),
            _ => panic!("a row both successful and throttled"),
        };
        by_user.entry(u.clone()).or_default().1.push(Try {
            user: u.clone(),
            peer: ip.parse().unwrap(),
            answer: wait,
        });
    }
    let strip = |v: &[Try]| -> Vec<Try> {
        v.iter()
            .map(|t| Try {
                answer: match t.answer {
                    Answer::Throttled(_) => Answer::Throttled(0),
                    a => a,
                },
                ..t.clone()
            })
            .collect()
    };
    for (u, (made, recorded)) in &by_user {
        let (mut made, mut recorded) = (strip(made), recorded.clone());
        if u == "kimura" {
            made.sort();
            recorded.sort();
        }
        assert_eq!(made, recorded, "{u}: the attempts and the rows, in order");
    }
    assert_eq!(rows.len(), run.tries.len());
    let per_account: Vec<(usize, usize, usize)> = accounts
        .iter()
        .map(|(u, _)| {
            let r: Vec<_> = rows.iter().filter(|r| r.0 == *u).collect();
            (
                r.iter().filter(|r| !r.2 && !r.3).count(),
                r.iter().filter(|r| r.3).count(),
                r.iter().filter(|r| r.2).count(),
            )
        })
        .collect();
    for (failed, _, success) in &per_account {
        assert_eq!(*failed as i64, cfg.lock_after_failures);
        assert_eq!(*success, 1);
    }

    // 5. Every attempt is one log line, with the hashed user name, the TCP peer's
    // address and the wait; and no password anywhere.
    let log = run.gate.log.text();
    let lines = auth_log_lines(&log);
    assert_eq!(lines.len(), run.tries.len(), "one log line per attempt");
    let mut made_log: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for t in &run.tries {
        let (kind, wait) = match t.answer {
            Answer::Wrong => ("failed", None),
            Answer::Throttled(w) => ("throttled", Some(w)),
            Answer::SignedIn => ("succeeded", None),
        };
        made_log
            .entry(user_tag(&run.gate, &t.user))
            .or_default()
            .push((user_tag(&run.gate, &t.user), t.peer.to_string(), kind, wait));
    }
    let mut logged: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for l in &lines {
        logged.entry(l.0.clone()).or_default().push(l.clone());
    }
    if let (Some(a), Some(b)) = (
        made_log.get_mut(&user_tag(&run.gate, "kimura")),
        logged.get_mut(&user_tag(&run.gate, "kimura")),
    ) {
        a.sort();
        b.sort();
    }
    assert_eq!(made_log, logged, "the log lines, per user, in order");
    let all_users: Vec<String> = names
        .iter()
        .cloned()
        .chain(accounts.iter().map(|(u, _)| (*u).to_owned()))
        .chain(["kimura".to_owned()])
        .collect();
    for u in &all_users {
        for l in log.lines().filter(|l| l.contains(AUTH_TARGET)) {
            assert!(
                !l.contains(&format!("\"{u}\"")),
                "a user name in the log: {l}"
            );
        }
    }
    for f in &run.forged {
        assert!(
            !lines.iter().any(|l| &l.1 == f),
            "a forged address was logged as the client: {f}"
        );
    }
    let table_text = format!("{rows:?}");
    for pw in &run.passwords {
        assert!(!log.contains(pw.as_str()), "a password in the log");
        assert!(
            !table_text.contains(pw.as_str()),
            "a password in login_attempts"
        );
    }
    let log_lines = log.lines().count();
    let db_dir = run.gate.dir.path().join("gate");
    run.gate.stop().await;
    let mut files = Vec::new();
    files_under(&db_dir, &mut files);
    let mut db_bytes = 0;
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        db_bytes += bytes.len();
        for pw in &run.passwords {
            assert!(
                !bytes.windows(pw.len()).any(|w| w == pw.as_bytes()),
                "a password in {}",
                f.display()
            );
        }
    }

    let paths = credential_paths();
    let a = &figures[0];
    let (failed, throttled, success) = per_account[0];
    println!(
        "RELIABILITY item8: {} accounts x 20 wrong passwords, each with {} forged client-address headers (fresh random addresses, {} distinct): \
         attempts 1-{} answered 401 wrong, {}-20 and the right password as the 21st (also from another address) 429 Retry-After {} s; \
         waiting out each delay ({} s) reaches the lock after {} failures: {} s, not extended by refused attempts; \
         right password refused at +{} s, signed in (session, queue) at +{} s after the last failure ({} s after the first); \
         one address spraying 20 accounts: 429 from attempt {}; 20 concurrent guesses: {} checked, {} refused; \
         password checks: {} ({}), reached only via {}; \
         {} attempts = {} login_attempts rows = {} auth log lines (per locked account {}: {} failed, {} throttled, {} success); \
         {} passwords sent, found in table/log/db files ({} files, {} bytes, {} log lines): 0",
        accounts.len(),
        FORGED_HEADERS.len(),
        run.forged.len(),
        a.throttled_from - 1,
        a.throttled_from,
        a.first_wait,
        a.delays
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join("/"),
        cfg.lock_after_failures,
        cfg.lock_secs,
        a.recovered_after_last - 1,
        a.recovered_after_last,
        a.recovered_after_first,
        spray_throttled_from,
        checked,
        raced.len() - checked,
        paths.checks.len(),
        paths.checks.join(", "),
        paths.callers.join(", "),
        run.tries.len(),
        rows.len(),
        lines.len(),
        failed + throttled + success,
        failed,
        throttled,
        success,
        run.passwords.len(),
        files.len(),
        db_bytes,
        log_lines,
    );
    for f in &figures[1..] {
        assert_eq!(
            (f.throttled_from, &f.delays, f.recovered_after_last),
            (a.throttled_from, &a.delays, a.recovered_after_last)
        );
    }
}

/// Where officers' credentials are checked, from the source.
struct CredentialPaths {
    /// `file::fn` of every call of a password-checking primitive.
    checks: Vec<String>,
    /// `file::fn` of every caller of the throttled `authenticate`.
    callers: Vec<String>,
}

/// The non-test source of a file: lines that are comments are blanked (keeping
/// offsets), and everything from the `#[cfg(test)]` module on is dropped.
fn code_of(src: &str) -> String {
    let cut = src.find("\n#[cfg(test)]\nmod ").unwrap_or(src.len());
    src[..cut]
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("//") {
                " ".repeat(l.len())
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The name of the `fn` enclosing `at` (the last `fn name` before it).
fn enclosing_fn(code: &str, at: usize) -> String {
    let before = &code[..at];
    let mut from = before.len();
    while let Some(i) = before[..from].rfind("fn ") {
        let prev = if i == 0 {
            b' '
        } else {
            before.as_bytes()[i - 1]
        };
        if !(prev.is_ascii_alphanumeric() || prev == b'_') {
            return before[i + 3..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
        }
        from = i;
    }
    String::new()
}

/// Offsets of `pat` in `code` that are not part of a longer identifier before it and
/// not a definition (`fn pat`).
fn calls(code: &str, pat: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(j) = code[from..].find(pat) {
        let at = from + j;
        from = at + pat.len();
        let prev = if at == 0 {
            b' '
        } else {
            code.as_bytes()[at - 1]
        };
        if prev.is_ascii_alphanumeric() || prev == b'_' {
            continue;
        }
        if code[..at].trim_end().ends_with("fn") {
            continue;
        }
        out.push(at);
    }
    out
}

fn workspace_sources() -> Vec<(String, String)> {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let mut out = Vec::new();
    for krate in ["shared", "mobile-api", "gate-service", "kiosk", "egate"] {
        let mut files = Vec::new();
        files_under(&root.join(krate).join("src"), &mut files);
        for f in files
            .into_iter()
            .filter(|f| f.extension().is_some_and(|e| e == "rs"))
        {
            let rel = f.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            out.push((rel, code_of(&std::fs::read_to_string(&f).unwrap())));
        }
    }
    assert!(out.len() > 20, "the workspace sources were found");
    out
}

/// Scans the five crates' `src/` for every place a password is checked or a stored hash
/// is read, and every caller of `authenticate` (the throttled check).
fn credential_paths() -> CredentialPaths {
    // The argon2 primitives and their wrapper; the throttled check that calls it.
    const PASSWORD: &str = "gate-service/src/console/auth/password.rs";
    const THROTTLE: &str = "gate-service/src/console/auth/throttle.rs";
    let sources = workspace_sources();
    let mut checks = Vec::new();
    let mut callers = Vec::new();
    for (file, code) in &sources {
        // The argon2 primitives live in auth/password.rs only.
        for prim in ["PasswordVerifier", "PasswordHash::new", "Argon2"] {
            if code.contains(prim) {
                assert_eq!(
                    file, PASSWORD,
                    "{prim} used outside auth/password.rs: {file}"
                );
            }
        }
        // Every password check: the `verify_password` method of argon2, and the wrapper
        // `auth::verify_password`.
        for at in calls(code, "verify_password(") {
            let f = enclosing_fn(code, at);
            let site = format!("{file}::{f}");
            if code[..at].ends_with('.') {
                // argon2's own method: only inside the wrapper.
                assert_eq!(
                    site,
                    format!("{PASSWORD}::verify_password"),
                    "a password check outside the wrapper"
                );
            } else {
                checks.push(site);
            }
        }
        // Every SQL statement reading the stored hash.
        let mut from = 0;
        while let Some(j) = code[from..].find("SELECT") {
            let at = from + j;
            from = at + 6;
            let stmt_end = code[at..].find('"').map_or(code.len(), |e| at + e);
            if code[at..stmt_end].contains("password_hash") {
                let site = format!("{file}::{}", enclosing_fn(code, at));
                assert_eq!(
                    site,
                    format!("{THROTTLE}::authenticate"),
                    "the password hash is read outside authenticate"
                );
            }
        }
        for at in calls(code, "authenticate(") {
            callers.push(format!("{file}::{}", enclosing_fn(code, at)));
        }
        // The client address is the TCP peer: no source reads a forwarded-address header.
        let lower = code.to_lowercase();
        for h in [
            "forwarded",
            "x-real-ip",
            "true-client-ip",
            "cf-connecting-ip",
            "x-client-ip",
        ] {
            assert!(
                !lower.contains(h),
                "{file} mentions {h}: a client address taken from a header would let an \
                 attacker rotate it past the per-address throttle"
            );
        }
    }
    checks.sort();
    callers.sort();
    CredentialPaths { checks, callers }
}

#[test]
fn every_password_check_goes_through_the_throttled_authenticate() {
    let p = credential_paths();
    assert_eq!(
        p.checks,
        ["gate-service/src/console/auth/throttle.rs::authenticate"],
        "verify_password is called only inside authenticate (which records the attempt \
         and applies the throttle first)"
    );
    assert_eq!(
        p.callers,
        [
            "gate-service/src/console/account.rs::change_password",
            "gate-service/src/console/auth/login.rs::login",
        ],
        "authenticate has two callers: the console's sign-in handler, and the own-password \
         change, whose current-password check is throttled like a sign-in"
    );
    // Both take the client address from the TCP peer.
    let sources_for_ip = workspace_sources();
    let (_, account) = sources_for_ip
        .iter()
        .find(|(f, _)| f == "gate-service/src/console/account.rs")
        .unwrap();
    let change = &account[account.find("pub async fn change_password(").unwrap()..];
    let change = &change[..change.find("\n}").unwrap_or(change.len())];
    assert!(change.contains("shared::web::client_ip(&extensions)"));
    // That handler has one route, and its address is the TCP peer.
    let sources = workspace_sources();
    let routed: Vec<&String> = sources
        .iter()
        .filter(|(_, c)| c.contains("auth::login::login)"))
        .map(|(f, _)| f)
        .collect();
    assert_eq!(routed, ["gate-service/src/console/mod.rs"]);
    let (_, console) = sources
        .iter()
        .find(|(f, _)| f == "gate-service/src/console/mod.rs")
        .unwrap();
    assert_eq!(console.matches("auth::login::login)").count(), 1);
    let login_route: String = console.split_whitespace().collect::<Vec<_>>().join("");
    assert!(
        login_route
            .contains(".route(\"/login\",get(auth::login::login_form).post(auth::login::login),)")
    );
    let (_, auth) = sources
        .iter()
        .find(|(f, _)| f == "gate-service/src/console/auth/login.rs")
        .unwrap();
    let login = &auth[auth.find("pub async fn login(").unwrap()..];
    let login = &login[..login.find("\n}\n").unwrap()];
    assert!(login.contains("shared::web::client_ip(&extensions)"));
    let (_, web) = sources
        .iter()
        .find(|(f, _)| f == "shared/src/web.rs")
        .unwrap();
    let client_ip = &web[web.find("pub fn client_ip(").unwrap()..];
    let client_ip = &client_ip[..client_ip.find("\n}\n").unwrap()];
    assert!(client_ip.contains("ConnectInfo") && !client_ip.contains("header"));
}
