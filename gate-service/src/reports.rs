//! Use reports: every token this gate accepted once is reported to its issuer
//! (`POST {internal}/v1/internal/uses` on the issuer's internal listener, with the
//! use-report key), which puts it in its
//! revocation feed as `used`. A gate restored from a backup, or another gate-service
//! instance, pulls the feed and refuses the token as replayed, although its own
//! one-time-use record is gone or was never written (RELIABILITY.md, item 6).
//!
//! The scan never waits for this: the use is recorded in the scan's own transaction
//! with `reported_at` NULL (the outbox), a background loop woken after each such scan
//! sends the pending ones in batches and marks them reported once the issuer answered
//! 200. An issuer that is down is retried after [`RETRY_AFTER`]; nothing is lost, since
//! the outbox is the gate's database. The same pass sends the presentation reports
//! ([`crate::presentations`]).

use crate::AppState;
use crate::config::IssuerConfig;
use shared::feed::{Use, UseReport, UseReportAck};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Uses per request (well under the issuers' 64 KiB body limit).
pub const BATCH: usize = 500;
/// Wait before trying an issuer again after a failed report.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);
/// Longest the last flush at shutdown may take.
pub const FINAL_FLUSH: Duration = Duration::from_secs(5);

/// The reporting loop's state.
#[derive(Debug, Default)]
pub struct Reporter {
    wake: Notify,
    flushing: tokio::sync::Mutex<()>,
    backoff: Mutex<HashMap<String, Instant>>,
    sent: AtomicU64,
    failures: AtomicU64,
}

impl Reporter {
    /// Wake the loop: a scan just recorded a use to report.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Wait until woken or `max` passed.
    pub async fn wait(&self, max: Duration) {
        let _ = tokio::time::timeout(max, self.wake.notified()).await;
    }

    /// Uses acknowledged by issuers since start.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Failed report requests since start.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    fn backing_off(&self, issuer: &str) -> bool {
        self.backoff
            .lock()
            .ok()
            .and_then(|b| b.get(issuer).copied())
            .is_some_and(|until| Instant::now() < until)
    }

    fn set_backoff(&self, issuer: &str, failed: bool) {
        if let Ok(mut b) = self.backoff.lock() {
            if failed {
                b.insert(issuer.to_owned(), Instant::now() + RETRY_AFTER);
            } else {
                b.remove(issuer);
            }
        }
    }
}

/// Mark as reported the pending uses no configured URL issuer can take (uses from before
/// the upgrade, issuers without a URL or no longer configured), so that `pending`
/// counts only what is really waiting. Returns how many.
pub async fn settle_unreportable(state: &AppState) -> Result<usize, shared::db::DbError> {
    let urls: Vec<String> = state
        .issuers
        .iter()
        .filter(|i| i.internal_url.is_some())
        .map(|i| i.id.clone())
        .collect();
    let list = serde_json::to_string(&urls).unwrap_or_else(|_| "[]".into());
    state
        .db
        .write(move |c| -> Result<usize, shared::db::DbError> {
            Ok(c.execute(
                "UPDATE used_tokens SET reported_at = used_at
                 WHERE reported_at IS NULL
                   AND (issuer IS NULL OR issuer NOT IN (SELECT value FROM json_each(?1)))",
                [list],
            )?)
        })
        .await
}

/// Uses recorded but not yet acknowledged by their issuer.
pub async fn pending(state: &AppState) -> Result<i64, shared::db::DbError> {
    state
        .db
        .read(|c| -> Result<i64, shared::db::DbError> {
            Ok(c.query_row(
                "SELECT count(*) FROM used_tokens WHERE reported_at IS NULL",
                [],
                |r| r.get(0),
            )?)
        })
        .await
}

/// Send every pending use to its issuer now (issuers that just failed included).
/// Returns the number of uses the issuers acknowledged.
pub async fn report_uses_now(state: &AppState) -> usize {
    flush(state, false).await
}

/// One pass over every URL issuer. With `respect_backoff`, an issuer that failed less
/// than [`RETRY_AFTER`] ago is skipped.
pub async fn flush(state: &AppState, respect_backoff: bool) -> usize {
    let reporter = &state.reporter;
    let _one_at_a_time = reporter.flushing.lock().await;
    let mut total = 0;
    for issuer in state.issuers.iter() {
        let Some(url) = &issuer.internal_url else {
            continue;
        };
        if respect_backoff && reporter.backing_off(&issuer.id) {
            continue;
        }
        let sent = match flush_issuer(state, issuer, url).await {
            Ok(n) => crate::presentations::flush_issuer(state, issuer, url)
                .await
                .map(|_| n),
            Err(e) => Err(e),
        };
        match sent {
            Ok(n) => {
                total += n;
                reporter.set_backoff(&issuer.id, false);
            }
            Err(e) => {
                reporter.failures.fetch_add(1, Ordering::Relaxed);
                reporter.set_backoff(&issuer.id, true);
                tracing::warn!(issuer = %issuer.id, error = %e, "use report failed; retrying later");
            }
        }
    }
    total
}

/// Largest acknowledgement read from an issuer (a count in a little JSON).
const MAX_ACK_BYTES: usize = 16 * 1024;

/// Post one report batch to the issuer's internal endpoint `path` (`/v1/internal/…`)
/// with the use-report key, and read its acknowledgement, capped like every body the
/// gate reads from an issuer. Use reports and presentation reports both go through it.
pub(crate) async fn post_report<A: serde::de::DeserializeOwned>(
    state: &AppState,
    url: &str,
    path: &str,
    report: &impl serde::Serialize,
    what: &'static str,
) -> Result<A, crate::trust::FetchError> {
    let resp = state
        .trust
        .http()
        .post(format!("{url}{path}"))
        .bearer_auth(state.service_keys.use_report.expose())
        .json(report)
        .send()
        .await?
        .error_for_status()?;
    let body = crate::signed_lists::read_capped(resp, MAX_ACK_BYTES, what).await?;
    serde_json::from_slice(&body)
        .map_err(|source| crate::trust::FetchError::AckJson { what, source })
}

async fn flush_issuer(
    state: &AppState,
    issuer: &IssuerConfig,
    url: &str,
) -> Result<usize, crate::trust::FetchError> {
    let mut total = 0;
    // Bounded: at most 1000 batches (500,000 uses) per pass.
    for _ in 0..1000 {
        let id = issuer.id.clone();
        let batch: Vec<(Vec<u8>, i64)> = state
            .db
            .read(move |c| -> Result<_, shared::db::DbError> {
                let mut stmt = c.prepare_cached(
                    "SELECT cti, used_at FROM used_tokens
                     WHERE reported_at IS NULL AND issuer = ?1 ORDER BY used_at LIMIT ?2",
                )?;
                let rows = stmt
                    .query_map((&id, BATCH as i64), |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await?;
        if batch.is_empty() {
            break;
        }
        let report = UseReport {
            gate: state.config.instance.clone(),
            uses: batch
                .iter()
                .map(|(cti, used_at)| Use {
                    cti: shared::feed::cti_base64(cti),
                    used_at: *used_at,
                })
                .collect(),
        };
        let ack: UseReportAck = post_report(
            state,
            url,
            "/v1/internal/uses",
            &report,
            "use-report answer",
        )
        .await?;
        if ack.unknown > 0 {
            tracing::warn!(issuer = %issuer.id, uses.unknown = ack.unknown, "the issuer does not know some reported tokens");
        }
        let now = state.clock.unix();
        let n = batch.len();
        let id = issuer.id.clone();
        state
            .db
            .write(move |c| -> Result<(), shared::db::DbError> {
                let mut stmt = c.prepare_cached(
                    "UPDATE used_tokens SET reported_at = ?1 WHERE issuer = ?2 AND cti = ?3",
                )?;
                for (cti, _) in &batch {
                    stmt.execute((now, &id, cti))?;
                }
                Ok(())
            })
            .await?;
        state.reporter.sent.fetch_add(n as u64, Ordering::Relaxed);
        total += n;
        if n < BATCH {
            break;
        }
    }
    Ok(total)
}
