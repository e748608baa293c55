//! Passenger sessions, held server-side only: a map from the SHA-256 of a random
//! cookie value to the answers typed so far. Nothing personal ever leaves this map
//! except in the HTML of the page being shown.
//!
//! A session ends when the passenger presses "Finish", when the start page is opened
//! again (kiosk), or after [`crate::WizardConfig::idle`] without a request: every lookup checks the
//! idle time against the injected clock, and a background sweeper drops idle sessions
//! so that their data does not linger in memory.
//!
//! New sessions ([`SessionStore::start`], the start page's): on a phone, at most
//! [`crate::WizardConfig::new_sessions_per_client_per_minute`] from one client address
//! (counted per clock minute; an IPv6 client by its /64), and at the cap of sessions a
//! new one is refused rather than a live one evicted
//! ([`crate::WizardConfig::evict_live_sessions`]): before, every cookie-less `GET /`
//! made one, and a flood at the cap wiped the passengers' half-typed declarations,
//! oldest first. The kiosk (one passenger per terminal) evicts its oldest, unlimited.

use crate::submit::Amend;
use shared::clock::SharedClock;
use shared::domain::{PassengerInput, TripInput};
use shared::i18n::Lang;
use shared::rules::Evaluation;
use shared::web::{random_token, token_hash};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// Name of the kiosk's session cookie (the phone's: [`crate::Mode::cookie_name`]).
pub const COOKIE: &str = "kiosk_session";
/// Most sessions a kiosk holds at once (one terminal has one passenger; this caps abuse).
pub const MAX_SESSIONS: usize = 256;

/// Most client addresses counted in one minute by the new-session limit: beyond it a
/// new address is not counted (the cap of sessions, never evicting on a phone, still
/// bounds what a spread-out flood can do), so the counter's memory stays bounded.
pub const MAX_COUNTED_CLIENTS: usize = 65_536;

/// Why no new session was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The client address started its share this minute: retry after these seconds.
    TooMany(u64),
    /// The store holds its cap of live sessions (phone): retry after these seconds.
    Full(u64),
}

/// `Retry-After` of a refusal at the cap of sessions, seconds (a session frees within
/// the idle time; most passengers finish in minutes).
pub const FULL_RETRY_AFTER_SECS: u64 = 60;

/// New sessions per client address in the current clock minute.
#[derive(Debug, Default)]
struct NewSessionCounts {
    minute: i64,
    per_client: HashMap<IpAddr, u32>,
}

/// The key of the new-session limit: an IPv4 address, or an IPv6 address's /64 (one
/// client commonly holds a whole /64).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
    }
}

/// One item row as typed (strings, so a bad value can be shown back as typed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemRow {
    /// Category code (`whisky`, …).
    pub category: String,
    /// Number of units.
    pub quantity: String,
    /// Volume (ml) or weight (g) of one unit, for the categories that need it.
    pub size: String,
    /// Total value of the line.
    pub amount: String,
    /// Currency code.
    pub currency: String,
    /// For a child under 6's own use (phone mode, other goods only).
    pub for_child: bool,
}

/// The declaration being typed, step by step.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// The two MRZ lines as typed.
    pub mrz: String,
    /// The photo page's fields as typed (phone mode), shown back when refused.
    pub typed_passenger: PassengerInput,
    /// Identity read from the MRZ (set only when the MRZ was read without error).
    pub passenger: Option<PassengerInput>,
    /// Whether the passenger confirmed the identity read from the MRZ.
    pub passport_confirmed: bool,
    /// Trip fields as typed.
    pub trip: TripInput,
    /// Party counts as typed: 20+, 6–19, under 6.
    pub party: [String; 3],
    /// Yes/no answers in [`crate::steps::questions::QUESTIONS`] order; `None` = not answered.
    pub answers: [Option<bool>; 7],
    /// Number of unaccompanied packages as typed.
    pub packages: String,
    /// Item rows.
    pub items: Vec<ItemRow>,
}

/// What was issued: shown on the result page and the receipt until "Finish".
#[derive(Clone)]
pub struct Issued {
    /// Declaration id (in the token, no personal data).
    pub declaration_id: String,
    /// Lane, reasons and duty estimate.
    pub evaluation: Evaluation,
    /// The token text (`CD1:…`).
    pub token: String,
    /// The QR code as inline SVG.
    pub qr_svg: String,
    /// Token expiry, unix seconds.
    pub exp: i64,
    /// Flight (canonical), for the receipt.
    pub flight: String,
    /// Arrival date `YYYY-MM-DD`, for the receipt.
    pub arrival_date: String,
    /// The edit token (phone mode: handed to the device in the result page's data
    /// block; never logged, never in a URL).
    pub edit_token: Option<String>,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("declaration_id", &self.declaration_id)
            .field("exp", &self.exp)
            .finish_non_exhaustive()
    }
}

/// One passenger's session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Language chosen on the start page.
    pub lang: Lang,
    /// CSRF token of every form of this session.
    pub csrf: String,
    /// Last request, unix seconds.
    pub last_seen: i64,
    /// Whether the passenger chose a language (a blank session only serves the start page).
    pub started: bool,
    /// The answers so far.
    pub draft: Draft,
    /// Field errors (field id, localised message) to show on the next page.
    pub errors: Vec<(String, String)>,
    /// The issued declaration, once confirmed.
    pub issued: Option<Issued>,
    /// The stored declaration this session edits (phone mode).
    pub amend: Option<Amend>,
    /// A confirmation of this session is being issued: a second "Confirm" (a double
    /// tap) waits for it instead of issuing a second declaration.
    pub submitting: bool,
}

impl Session {
    fn new(lang: Lang, now: i64) -> Session {
        Session {
            lang,
            csrf: random_token(),
            last_seen: now,
            started: false,
            draft: Draft {
                party: ["1".into(), "0".into(), "0".into()],
                ..Draft::default()
            },
            errors: Vec::new(),
            issued: None,
            amend: None,
            submitting: false,
        }
    }
}

/// The in-memory session store. Cheap to clone.
#[derive(Clone)]
pub struct SessionStore {
    map: Arc<Mutex<HashMap<String, Session>>>,
    clock: SharedClock,
    idle_secs: i64,
    max_sessions: usize,
    cookie_name: &'static str,
    new_sessions: Arc<Mutex<NewSessionCounts>>,
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStore")
            .field("idle_secs", &self.idle_secs)
            .finish_non_exhaustive()
    }
}

impl SessionStore {
    /// An empty kiosk store whose sessions expire after `idle_secs` without a request.
    pub fn new(clock: SharedClock, idle_secs: u64) -> SessionStore {
        SessionStore::with_limits(clock, idle_secs, MAX_SESSIONS, COOKIE)
    }

    /// An empty store holding at most `max_sessions`, its cookie named `cookie_name`.
    pub fn with_limits(
        clock: SharedClock,
        idle_secs: u64,
        max_sessions: usize,
        cookie_name: &'static str,
    ) -> SessionStore {
        SessionStore {
            map: Arc::new(Mutex::new(HashMap::new())),
            clock,
            idle_secs: i64::try_from(idle_secs).unwrap_or(i64::MAX),
            max_sessions: max_sessions.max(1),
            cookie_name,
            new_sessions: Arc::default(),
        }
    }

    /// The session cookie's name.
    pub fn cookie_name(&self) -> &'static str {
        self.cookie_name
    }

    /// This store's session cookie in a request's headers, if any.
    pub fn cookie(&self, headers: &axum::http::HeaderMap) -> Option<String> {
        cookie_named(headers, self.cookie_name)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        // A panic while holding the lock cannot leave a session half-written in a way
        // that matters more than refusing service would: keep going.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Start a new session, at the cap dropping idle sessions, then the oldest live
    /// one; returns the cookie value (only its hash is stored). The start page goes
    /// through [`Self::start`] instead.
    pub fn create(&self, lang: Lang) -> String {
        let cookie = random_token();
        let now = self.clock.unix();
        let mut map = self.lock();
        if map.len() >= self.max_sessions {
            let idle = self.idle_secs;
            map.retain(|_, s| now.saturating_sub(s.last_seen) < idle);
        }
        if map.len() >= self.max_sessions
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(token_hash(&cookie), Session::new(lang, now));
        cookie
    }

    /// Start a new session for a request from `client` under the wizard's limits
    /// (`per_minute` new sessions per client address, `evict_live` at the cap; see the
    /// module docs); returns the cookie value.
    pub fn start(
        &self,
        lang: Lang,
        client: Option<IpAddr>,
        per_minute: Option<u32>,
        evict_live: bool,
    ) -> Result<String, Refused> {
        let now = self.clock.unix();
        if let Some(limit) = per_minute {
            // Without connection info every request shares one key.
            let key = client_key(client.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)));
            let minute = now.div_euclid(60);
            let mut counts = self.new_sessions.lock().unwrap_or_else(|e| e.into_inner());
            if counts.minute != minute {
                counts.minute = minute;
                counts.per_client.clear();
                counts.per_client.shrink_to(1024);
            }
            let untracked = counts.per_client.len() >= MAX_COUNTED_CLIENTS
                && !counts.per_client.contains_key(&key);
            if !untracked {
                let n = counts.per_client.entry(key).or_insert(0);
                if *n >= limit {
                    let secs = u64::try_from(60 - now.rem_euclid(60)).unwrap_or(60);
                    return Err(Refused::TooMany(secs.max(1)));
                }
                *n += 1;
            }
        }
        if !evict_live {
            let mut map = self.lock();
            if map.len() >= self.max_sessions {
                let idle = self.idle_secs;
                map.retain(|_, s| now.saturating_sub(s.last_seen) < idle);
            }
            if map.len() >= self.max_sessions {
                return Err(Refused::Full(FULL_RETRY_AFTER_SECS));
            }
            let cookie = random_token();
            map.insert(token_hash(&cookie), Session::new(lang, now));
            return Ok(cookie);
        }
        Ok(self.create(lang))
    }

    /// Run `f` on the live session of `cookie` (touching it), or `None` when there is
    /// none or it has been idle too long (then it is wiped).
    pub fn with<R>(&self, cookie: &str, f: impl FnOnce(&mut Session) -> R) -> Option<R> {
        let key = token_hash(cookie);
        let now = self.clock.unix();
        let mut map = self.lock();
        let idle = self.idle_secs;
        let expired = map
            .get(&key)
            .is_some_and(|s| now.saturating_sub(s.last_seen) >= idle);
        if expired {
            map.remove(&key);
            return None;
        }
        let s = map.get_mut(&key)?;
        s.last_seen = now;
        Some(f(s))
    }

    /// The language of the live session of `cookie`, without touching it.
    pub fn lang(&self, cookie: &str) -> Option<Lang> {
        let now = self.clock.unix();
        let idle = self.idle_secs;
        self.lock()
            .get(&token_hash(cookie))
            .filter(|s| now.saturating_sub(s.last_seen) < idle)
            .map(|s| s.lang)
    }

    /// Wipe the session of `cookie`; returns its language if there was one.
    pub fn remove(&self, cookie: &str) -> Option<Lang> {
        self.lock().remove(&token_hash(cookie)).map(|s| s.lang)
    }

    /// Drop every session idle for the configured time; returns how many.
    pub fn sweep(&self) -> usize {
        let now = self.clock.unix();
        let idle = self.idle_secs;
        let mut map = self.lock();
        let before = map.len();
        map.retain(|_, s| now.saturating_sub(s.last_seen) < idle);
        before - map.len()
    }

    /// Sessions held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The kiosk's session cookie's value from a `Cookie` header, if any.
pub fn cookie_value(headers: &axum::http::HeaderMap) -> Option<String> {
    cookie_named(headers, COOKIE)
}

/// The value of cookie `name` from a `Cookie` header, if any (at most 64 characters).
pub fn cookie_named(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty() && v.len() <= 64)
        .map(|(_, v)| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::clock::FixedClock;
    use time::macros::datetime;

    #[test]
    fn an_idle_session_is_gone_at_lookup_and_at_sweep() {
        let clock = FixedClock::at(datetime!(2026-11-20 10:00 UTC));
        let store = SessionStore::new(Arc::new(clock.clone()), 120);
        let a = store.create(Lang::En);
        let b = store.create(Lang::Ja);
        clock.advance(time::Duration::seconds(60));
        assert!(store.with(&a, |_| ()).is_some());
        clock.advance(time::Duration::seconds(100));
        assert_eq!(store.sweep(), 1, "b was idle 160 s");
        assert!(store.with(&b, |_| ()).is_none());
        clock.advance(time::Duration::seconds(120));
        assert!(store.with(&a, |_| ()).is_none());
        assert!(store.is_empty());
    }

    #[test]
    fn a_phone_refuses_new_sessions_at_the_cap_and_keeps_the_live_ones() {
        let clock = FixedClock::at(datetime!(2026-11-20 10:00 UTC));
        let store = SessionStore::with_limits(Arc::new(clock.clone()), 1800, 3, "s");
        let ip = |n: u8| Some(IpAddr::from([127, 0, 0, n]));
        let live: Vec<String> = (1..=3)
            .map(|n| store.start(Lang::En, ip(n), Some(60), false).unwrap())
            .collect();
        assert_eq!(
            store.start(Lang::En, ip(9), Some(60), false),
            Err(Refused::Full(FULL_RETRY_AFTER_SECS))
        );
        assert!(
            live.iter().all(|c| store.with(c, |_| ()).is_some()),
            "none evicted"
        );
        // Once one has been idle too long, its place is free again.
        clock.advance(time::Duration::seconds(1000));
        store.with(&live[1], |_| ());
        store.with(&live[2], |_| ());
        clock.advance(time::Duration::seconds(900));
        assert!(store.start(Lang::En, ip(9), Some(60), false).is_ok());
        assert!(store.with(&live[0], |_| ()).is_none());
        assert!(store.with(&live[2], |_| ()).is_some());
    }

    #[test]
    fn new_sessions_are_limited_per_address_and_per_ipv6_64_each_minute() {
        let clock = FixedClock::at(datetime!(2026-11-20 10:00:30 UTC));
        let store = SessionStore::with_limits(Arc::new(clock.clone()), 1800, 100, "s");
        let a = Some(IpAddr::from([127, 0, 0, 1]));
        for _ in 0..5 {
            store.start(Lang::En, a, Some(5), false).unwrap();
        }
        assert_eq!(
            store.start(Lang::En, a, Some(5), false),
            Err(Refused::TooMany(30))
        );
        let other = Some(IpAddr::from([127, 0, 0, 2]));
        assert!(store.start(Lang::En, other, Some(5), false).is_ok());
        let v6 = |last: u16| Some(IpAddr::from([0x2001, 0xdb8, 0, 1, 0, 0, 0, last]));
        for n in 0..5 {
            store.start(Lang::En, v6(n), Some(5), false).unwrap();
        }
        assert!(
            store.start(Lang::En, v6(99), Some(5), false).is_err(),
            "one /64"
        );
        clock.advance(time::Duration::seconds(30));
        assert!(
            store.start(Lang::En, a, Some(5), false).is_ok(),
            "a new minute"
        );
        // No limit, evicting (the kiosk): as `create`.
        let kiosk = SessionStore::with_limits(Arc::new(clock.clone()), 1800, 2, "k");
        for _ in 0..10 {
            kiosk.start(Lang::Ja, a, None, true).unwrap();
        }
        assert_eq!(kiosk.len(), 2);
    }

    #[test]
    fn the_cookie_is_read_among_others_and_only_its_hash_is_a_key() {
        let mut h = axum::http::HeaderMap::new();
        h.insert("cookie", "a=1; kiosk_session=abc; b=2".parse().unwrap());
        assert_eq!(cookie_value(&h).as_deref(), Some("abc"));
        let store = SessionStore::new(shared::clock::system(), 120);
        let c = store.create(Lang::En);
        assert!(!store.lock().contains_key(&c));
    }
}
