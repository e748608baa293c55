//! Background work: the periodic trust/revocation/watch-rules refresh, each issuer's
//! feed follower ([`crate::follow`]) and the retention purge, all stopped at shutdown.

use crate::{AppState, TaskList};
use std::time::Duration;
use tokio::sync::watch;

/// A boxed future of one background step.
type BoxFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// How often the retention purge runs.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Running background tasks and their stop signal.
#[derive(Debug)]
pub struct Tasks {
    stop: watch::Sender<bool>,
    handles: TaskList,
}

impl Default for Tasks {
    fn default() -> Self {
        Self {
            stop: watch::channel(false).0,
            handles: TaskList::default(),
        }
    }
}

impl Tasks {
    /// Signal every task to stop and wait for them.
    pub async fn stop(&self) {
        let _ = self.stop.send(true);
        let handles: Vec<_> = self
            .handles
            .lock()
            .map(|mut h| h.drain(..).collect())
            .unwrap_or_default();
        for h in handles {
            let _ = h.await;
        }
    }

    fn spawn<F>(&self, state: &AppState, every: Duration, f: F)
    where
        F: Fn(AppState) -> BoxFuture + Send + 'static,
    {
        let mut stop = self.stop.subscribe();
        let state = state.clone();
        let handle = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => f(state.clone()).await,
                    _ = stop.changed() => break,
                }
            }
        });
        if let Ok(mut h) = self.handles.lock() {
            h.push(handle);
        }
    }
}

/// Start the refresh, report and purge loops.
pub fn start(state: &AppState) {
    // Use reports: woken by each scan that recorded a use, and every few seconds to
    // retry issuers that were down.
    let mut stop = state.tasks.stop.subscribe();
    let s = state.clone();
    let handle = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = s.reporter.wait(crate::reports::RETRY_AFTER) => {}
                _ = stop.changed() => break,
            }
            // Stopping drops a flush half way: what was sent and not yet marked is sent
            // again at the next start (the issuers count it as known).
            tokio::select! {
                _ = crate::reports::flush(&s, true) => {}
                _ = stop.changed() => break,
            }
        }
        // A last, bounded pass at shutdown; what is left stays in the outbox.
        let _ = tokio::time::timeout(
            crate::reports::FINAL_FLUSH,
            crate::reports::flush(&s, false),
        )
        .await;
    });
    if let Ok(mut h) = state.tasks.handles.lock() {
        h.push(handle);
    }
    // One follower per URL issuer: its feed by long polling (the refresh below stays
    // the fallback).
    if state.config.feed_wait_secs > 0 {
        for issuer in state.issuers.iter() {
            let Some(url) = issuer.base_url.clone() else {
                continue;
            };
            let handle = tokio::spawn(crate::follow::follow(
                state.clone(),
                issuer.clone(),
                url,
                state.tasks.stop.subscribe(),
            ));
            if let Ok(mut h) = state.tasks.handles.lock() {
                h.push(handle);
            }
        }
    }
    let every = Duration::from_secs(state.config.refresh_secs);
    state.tasks.spawn(state, every, |s| {
        Box::pin(async move { refresh_now(&s).await })
    });
    state.tasks.spawn(state, PURGE_EVERY, |s| {
        Box::pin(async move {
            let now = s.clock.unix();
            if let Err(e) = purge_expired(&s, now).await {
                tracing::error!(error = %e, "retention purge failed");
            }
        })
    });
    // A first purge at start, so a gate restarted daily still purges.
    let s = state.clone();
    tokio::spawn(async move {
        let now = s.clock.unix();
        if let Err(e) = purge_expired(&s, now).await {
            tracing::error!(error = %e, "retention purge failed");
        }
    });
}

/// Pull issuer keys and revocations and re-read the revoked kids and the watch rules,
/// now. A failed issuer keeps its last good keys.
pub async fn refresh_now(state: &AppState) {
    crate::trust::refresh(state).await;
}

/// Erase the identity kept with RED cases older than the retention period (set
/// `identity_json` to NULL and `purged_at` to `now`), sign-in attempts older than it,
/// one-time-use records, revocations and scan attempts of tokens expired for more than
/// a day (they can no longer verify), and refused-scan counters older than the retention period.
/// Returns the number of cases purged.
pub async fn purge_expired(state: &AppState, now: i64) -> Result<usize, shared::db::DbError> {
    let cutoff = now.saturating_sub(state.config.retention_days.saturating_mul(86_400));
    // Sign-in attempts: never within the last day, whatever the retention (the throttle
    // needs the last hour).
    let attempts_cutoff = cutoff.min(now.saturating_sub(86_400));
    let token_cutoff = now.saturating_sub(86_400);
    let (cases, tokens, attempts) = state
        .db
        .write(
            move |c| -> Result<(usize, usize, usize), shared::db::DbError> {
                let cases = c.execute(
                    "UPDATE cases SET identity_json = NULL, purged_at = ?1
                 WHERE identity_json IS NOT NULL AND opened_at < ?2",
                    (now, cutoff),
                )?;
                let tokens = c.execute("DELETE FROM used_tokens WHERE exp < ?1", [token_cutoff])?;
                // Revocations of tokens expired for more than a day: they can no longer
                // verify, so the entry has nothing left to refuse (an entry without its
                // token's expiry is kept).
                c.execute("DELETE FROM revoked_tokens WHERE exp < ?1", [token_cutoff])?;
                // Sign-in attempts are kept for the same period (the throttle looks back
                // less than an hour).
                let attempts = c.execute(
                    "DELETE FROM login_attempts WHERE at < ?1",
                    [attempts_cutoff],
                )?;
                // Refused-scan counters (no personal data) for the retention period; a
                // token's misreads and mismatches as long as its one-time-use record.
                crate::attempts::purge(c, cutoff, token_cutoff)?;
                Ok((cases, tokens, attempts))
            },
        )
        .await?;
    match state.db.erase_leftovers().await {
        Ok(true) => {}
        Ok(false) => tracing::warn!("WAL checkpoint after the purge kept back by readers"),
        Err(e) => tracing::error!(error = %e, "vacuum after the purge failed"),
    }
    let path = state.db.path().to_owned();
    match shared::offload::blocking(move || shared::db::remove_replaced_files(&path, cutoff)).await
    {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "removing restore's replaced files failed"),
        Err(e) => tracing::error!(error = %e, "removing restore's replaced files failed"),
    }
    if cases > 0 || tokens > 0 || attempts > 0 {
        tracing::info!(
            purge.cases = cases,
            purge.used_tokens = tokens,
            purge.login_attempts = attempts,
            "retention purge"
        );
    }
    Ok(cases)
}
