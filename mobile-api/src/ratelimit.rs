//! Per-client-address rate limiting of declaration creation and estimates, and of
//! revisions and erasures (PUT, DELETE) per client address and per declaration (GCRA via
//! `governor`, keyed by the TCP peer address; `X-Forwarded-For` is never trusted). Every
//! revision and erasure enters the revocation feed every gate pulls: unlimited, a client
//! could flood the feed until the gates fall behind for good.
//!
//! The limits are **per instance** (in memory): several instances on one PostgreSQL
//! database each allow the configured rate, so a client spread over N instances gets up
//! to N times it. Accepted (docs/DEPLOYMENT.md): the limits guard each instance's signing
//! CPU and the feed against one flooding address, and the load balancer's source-address
//! affinity (or a limit divided by N) keeps the figure per address where it must hold.

use crate::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use shared::web::{Problem, client_ip};
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;

/// A keyed limiter: `per_minute` requests a minute per key (a client address by
/// default; a declaration id for [`EditLimiter`]), bursts up to that.
#[derive(Debug)]
pub struct Limiter<K: Hash + Eq + Clone = IpAddr> {
    inner: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
}

/// The limits on revisions and erasures: per client address, then per declaration.
#[derive(Debug)]
pub struct EditLimiter {
    /// Per client address.
    pub per_client: Limiter<IpAddr>,
    /// Per declaration id.
    pub per_declaration: Limiter<String>,
}

impl EditLimiter {
    /// `per_client` and `per_declaration` requests a minute.
    pub fn new(per_client: u32, per_declaration: u32) -> Self {
        Self {
            per_client: Limiter::new(per_client),
            per_declaration: Limiter::new(per_declaration),
        }
    }

    /// Forget keys whose allowance is full again.
    pub fn housekeeping(&self) {
        self.per_client.housekeeping();
        self.per_declaration.housekeeping();
    }
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// A limiter allowing `per_minute` requests per address per minute.
    pub fn new(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            inner: RateLimiter::keyed(Quota::per_minute(n)),
            clock: DefaultClock::default(),
        }
    }

    /// `Ok` if `key` may proceed, else the seconds to wait (at least 1).
    pub fn check(&self, key: K) -> Result<(), u64> {
        self.inner.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            secs.max(1)
        })
    }

    /// Forget addresses whose allowance is full again (call periodically).
    pub fn housekeeping(&self) {
        self.inner.retain_recent();
        self.inner.shrink_to_fit();
    }
}

/// Middleware for the limited routes: 429 + `Retry-After` past the limit.
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // Without connection info (tests that do not set it) every request shares one key.
    let ip = client_ip(req.extensions()).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    match state.limiter.check(ip) {
        Ok(()) => next.run(req).await,
        Err(secs) => {
            tracing::warn!(route = %req.uri().path(), "rate limit exceeded");
            Problem::too_many_requests(secs).into_response()
        }
    }
}

/// Middleware for PUT and DELETE of a declaration: the client address's allowance first
/// (so that made-up ids cannot grow the per-declaration map faster than the address
/// limit), then the declaration's. 429 + `Retry-After` past either.
pub async fn limit_edits(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ip = client_ip(req.extensions()).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    if let Err(secs) = state.edit_limiter.per_client.check(ip) {
        tracing::warn!(method = %req.method(), "edit rate limit exceeded (client)");
        return Problem::too_many_requests(secs).into_response();
    }
    let id = req
        .uri()
        .path()
        .rsplit('/')
        .next()
        .filter(|id| id.len() <= 64)
        .unwrap_or_default()
        .to_owned();
    if let Err(secs) = state.edit_limiter.per_declaration.check(id) {
        tracing::warn!(method = %req.method(), "edit rate limit exceeded (declaration)");
        let mut p = Problem::too_many_requests(secs);
        p.detail =
            format!("Too many revisions or erasures of this declaration; retry after {secs} s.");
        return p.into_response();
    }
    next.run(req).await
}
