//! Per-client-address rate limiting of declaration creation and estimates (GCRA via
//! `governor`, keyed by the TCP peer address; `X-Forwarded-For` is never trusted).

use crate::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use shared::web::{Problem, client_ip};
use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;

/// A keyed limiter: `per_minute` requests a minute per address, bursts up to that.
#[derive(Debug)]
pub struct Limiter {
    inner: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl Limiter {
    /// A limiter allowing `per_minute` requests per address per minute.
    pub fn new(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            inner: RateLimiter::keyed(Quota::per_minute(n)),
            clock: DefaultClock::default(),
        }
    }

    /// `Ok` if `ip` may proceed, else the seconds to wait (at least 1).
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        self.inner.check_key(&ip).map_err(|not_until| {
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
