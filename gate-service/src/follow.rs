//! Following each issuer's revocation/use feed (docs/trust.md, "How gates follow the
//! feeds"): one pull reads the feed from the gate's cursor to its end, checking every
//! page ([`crate::feed_pages`]) and storing entries and cursor together; and one
//! **follower** per URL issuer keeps a long poll open (`wait=`), so a supersession,
//! erasure or use committed at the issuer reaches the gate as soon as it is committed.
//!
//! Decisions:
//! - the periodic refresh ([`crate::trust::refresh`], every `EGATE_GATE_REFRESH_SECS`)
//!   still pulls every feed: it is the fallback when an issuer does not wait (an older
//!   issuer ignores `wait`: its answers lack the wait header) or fails, and what confirms
//!   a restored gate. The follower then only retries now and then (an issuer upgraded
//!   later is followed again) or backs off on errors.
//! - the follower and the refresh may pull the same feed at once: the cursor is moved
//!   only from the value the pull started from (compare and set, in the transaction that
//!   stores the page); a pull that lost the race stores nothing and the follower asks
//!   again from the new cursor. Entries are idempotent (`INSERT OR IGNORE`) anyway.
//! - only the first request of a pull waits; the pages after it (a burst longer than a
//!   page) are read at once, until an empty page.
//! - the request that waits has its own timeout: the wait plus the usual fetch timeout.

use crate::AppState;
use crate::config::IssuerConfig;
use crate::trust::FetchError;
use serde::Deserialize;
use shared::issuer::feed_wait::FEED_WAIT_HEADER;
use std::time::Duration;

/// Shape of `GET /v1/revocations?since=`.
#[derive(Debug, Deserialize)]
struct RevocationPage {
    revocations: Vec<Revocation>,
    next_since: i64,
    /// The feed's epoch (absent from issuers that predate it).
    #[serde(default)]
    epoch: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Revocation {
    seq: i64,
    cti: String,
    reason: String,
    /// The revoked token's expiry, when the issuer gives it (the purge forgets the entry
    /// a day after it).
    #[serde(default)]
    exp: Option<i64>,
}

/// What one pull did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Pulled {
    /// Entries stored.
    pub new: usize,
    /// The end of the feed was reached (an empty page).
    pub complete: bool,
    /// The issuer granted the wait asked for (its answer carried the wait header).
    pub waited: bool,
    /// Another pull of this feed moved the cursor first: nothing was stored, ask again.
    pub raced: bool,
}

/// A feed cursor: the next `since` and the feed's epoch.
type Cursor = (i64, Option<String>);

async fn read_cursor(state: &AppState, issuer: &str) -> Result<Cursor, FetchError> {
    let id = issuer.to_owned();
    Ok(state
        .db
        .read(move |c| -> Result<_, shared::db::DbError> {
            Ok(c.query_row(
                "SELECT next_since, epoch FROM revocation_marks WHERE issuer = ?1",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap_or((0, None)))
        })
        .await?)
}

/// Pull every page of an issuer's revocations since its cursor and store them; with
/// `wait`, the first request waits that long for a new entry. A feed longer than 100
/// pages is continued at the next pull, and a missing feed (404) is not an end.
pub async fn pull_revocations(
    state: &AppState,
    issuer: &IssuerConfig,
    url: &str,
    wait: Option<Duration>,
) -> Result<Pulled, FetchError> {
    let mut stored: Cursor = read_cursor(state, &issuer.id).await?;
    let (mut since, mut epoch) = stored.clone();
    let mut out = Pulled::default();
    let mut wait = wait.filter(|w| !w.is_zero());
    for _page in 0..100 {
        let mut req = state
            .trust
            .http()
            .get(format!("{url}/v1/revocations"))
            .query(&[("since", since)]);
        let waits = wait.take();
        if let Some(w) = waits {
            req = req
                .query(&[("wait", w.as_secs())])
                .timeout(w + Duration::from_secs(state.config.fetch_timeout_secs));
        }
        let resp = req.send().await?;
        if waits.is_some() {
            // Whether this issuer waits at all (an older one ignores `wait`).
            out.waited = resp.headers().contains_key(FEED_WAIT_HEADER);
            if resp.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE {
                let after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                return Err(FetchError::Busy {
                    retry_after: after.unwrap_or(5).clamp(1, 60),
                });
            }
        }
        match store_page(state, issuer, resp, &mut since, &mut epoch, &mut stored).await? {
            Step::More(n) => out.new += n,
            Step::End(n) => {
                out.new += n;
                out.complete = true;
                return Ok(out);
            }
            Step::Stop => return Ok(out),
            Step::Raced => {
                out.raced = true;
                return Ok(out);
            }
        }
    }
    Ok(out)
}

/// After one page: read on, the feed's end, stop (no feed), or stop because another
/// pull moved the cursor first.
enum Step {
    More(usize),
    End(usize),
    Stop,
    Raced,
}

/// Check and store one answer; `since`/`epoch` are the request's, `stored` the cursor
/// in the database (moved with the page, only from that value).
async fn store_page(
    state: &AppState,
    issuer: &IssuerConfig,
    resp: reqwest::Response,
    since: &mut i64,
    epoch: &mut Option<String>,
    stored: &mut Cursor,
) -> Result<Step, FetchError> {
    use base64::Engine as _;
    if resp.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(Step::Stop);
    }
    let body = crate::signed_lists::read_capped(
        resp.error_for_status()?,
        crate::signed_lists::MAX_FEED_PAGE_BYTES,
        "revocation page",
    )
    .await?;
    let page: RevocationPage = serde_json::from_slice(&body).map_err(FetchError::FeedJson)?;
    // Another epoch: the issuer's database was restored or recreated, and its sequences
    // may repeat numbers already passed. Start its feed over from 0 (the entries already
    // held stay; a repeated one is ignored).
    if let Some(new) = page.epoch.as_ref().filter(|e| e.len() <= 64) {
        if epoch.as_ref().is_some_and(|old| old != new) && *since != 0 {
            tracing::warn!(issuer = %issuer.id, "the issuer's feed has a new epoch: reading it again from the start");
            *since = 0;
            *epoch = Some(new.clone());
            return Ok(Step::More(0));
        }
        *epoch = Some(new.clone());
    }
    let seqs: Vec<i64> = page.revocations.iter().map(|r| r.seq).collect();
    // A page that could skip entries is refused whole; the cursor stays.
    let next = crate::feed_pages::check_page(*since, &seqs, page.next_since)?;
    // An entry whose token id does not decode refuses the page too: dropping it and
    // moving the cursor past it would leave that token unrevoked for good.
    let rows: Vec<(Vec<u8>, i64, String, Option<i64>)> = page
        .revocations
        .iter()
        .map(|r| {
            let cti = base64::engine::general_purpose::STANDARD
                .decode(&r.cti)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&r.cti))
                .ok()
                .filter(|b| b.len() == 16)
                .ok_or(crate::feed_pages::PageError::BadTokenId { seq: r.seq })?;
            Ok((cti, r.seq, r.reason.chars().take(32).collect(), r.exp))
        })
        .collect::<Result<_, crate::feed_pages::PageError>>()?;
    let n = rows.len();
    let id = issuer.id.clone();
    let from = stored.clone();
    let to: Cursor = (next, epoch.clone());
    let moved = to.clone();
    let won = state
        .db
        .write(move |c| -> Result<bool, shared::db::DbError> {
            let now: Cursor = c
                .query_row(
                    "SELECT next_since, epoch FROM revocation_marks WHERE issuer = ?1",
                    [&id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap_or((0, None));
            if now != from {
                return Ok(false);
            }
            for (cti, seq, reason, exp) in &rows {
                c.execute(
                    "INSERT OR IGNORE INTO revoked_tokens (cti, issuer, seq, reason, exp)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    (cti, &id, *seq, reason, exp),
                )?;
            }
            c.execute(
                "INSERT INTO revocation_marks (issuer, next_since, epoch) VALUES (?1, ?2, ?3)
                 ON CONFLICT(issuer) DO UPDATE SET next_since = excluded.next_since,
                   epoch = excluded.epoch",
                (&id, moved.0, &moved.1),
            )?;
            Ok(true)
        })
        .await?;
    if !won {
        // Another pull of this feed moved the cursor meanwhile: its pages are stored.
        return Ok(Step::Raced);
    }
    *stored = to;
    if page.revocations.is_empty() || next == *since {
        return Ok(Step::End(n));
    }
    *since = next;
    Ok(Step::More(n))
}

/// Longest pause between two tries after errors (also bounded by the refresh period).
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Shortest time between two long polls that brought nothing (an issuer that claims to
/// wait and answers at once is not hammered).
const MIN_EMPTY_POLL: Duration = Duration::from_secs(1);

/// Follow one issuer's feed until `stop` turns: long polls back to back while the issuer
/// waits; when it does not (an older issuer), a retry after the refresh period (the
/// periodic refresh pulls its feed meanwhile); after an error, retries with a doubling
/// pause (1 s up to the refresh period, at most a minute); a full issuer's `Retry-After`
/// is honoured.
pub async fn follow(
    state: AppState,
    issuer: IssuerConfig,
    url: String,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let wait = Duration::from_secs(state.config.feed_wait_secs);
    let period = Duration::from_secs(state.config.refresh_secs);
    let max_backoff = MAX_BACKOFF.min(period).max(Duration::from_secs(1));
    let mut backoff = Duration::from_secs(1);
    loop {
        let started = tokio::time::Instant::now();
        let result = tokio::select! {
            r = pull_revocations(&state, &issuer, &url, Some(wait)) => r,
            _ = stop.changed() => return,
        };
        let pause = match result {
            Ok(p) => {
                backoff = Duration::from_secs(1);
                let now = state.clock.unix();
                state.trust.update(&issuer.id, |s| {
                    s.revocations_refreshed_at = Some(now);
                    s.feed_waiting = p.waited;
                });
                if p.new > 0 {
                    tracing::debug!(issuer = %issuer.id, revocations.new = p.new, "revocations followed");
                }
                if !p.waited {
                    period
                } else if p.new == 0 && !p.raced && started.elapsed() < MIN_EMPTY_POLL {
                    MIN_EMPTY_POLL
                } else {
                    Duration::ZERO
                }
            }
            Err(FetchError::Busy { retry_after }) => {
                state.trust.update(&issuer.id, |s| s.feed_waiting = false);
                Duration::from_secs(retry_after)
            }
            Err(e) => {
                tracing::warn!(issuer = %issuer.id, error = %e, "following the feed failed; retrying");
                state.trust.update(&issuer.id, |s| s.feed_waiting = false);
                let pause = backoff;
                backoff = (backoff * 2).min(max_backoff);
                pause
            }
        };
        if !pause.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.changed() => return,
            }
        }
    }
}
