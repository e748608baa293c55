//! Long polling of the revocation feed (`GET /v1/revocations?since=N&wait=S`,
//! docs/trust.md "How gates follow the feeds"): a gate that has read everything asks the
//! issuer to hold its request until a new entry is committed, so a supersession,
//! erasure or use reaches it within moments instead of at its next periodic pull.
//!
//! Decisions:
//! - the wake-up is the store's feed signal ([`IssuerStore::feed_signal`]): on SQLite
//!   the change signal of the `revocations` table ([`crate::db::Db::changes`]), moved
//!   by the writer thread after the commit of any write that touched the feed; on
//!   PostgreSQL the `NOTIFY` every feed-writing transaction sends at its commit, heard
//!   by each instance's listening connection (so a write on another instance wakes
//!   this one's waiters too; [`crate::pg`]). A waiter subscribes before it reads, then
//!   sleeps on the signal and reads once per signal. Nothing polls the database.
//! - `wait` is bounded by [`MAX_FEED_WAIT_SECS`] (below the usual 30 s idle timeouts of
//!   proxies); an answer that waited, or could have, carries [`FEED_WAIT_HEADER`] with
//!   the wait granted, which is how a gate tells a waiting issuer from an older one that
//!   ignores the parameter (and falls back to periodic pulls).
//! - at most [`MAX_FEED_WAITERS`] requests wait at once per issuer process (the
//!   signal's receiver count, so the bound holds without a separate counter); above it
//!   a request that would wait gets `503` with `Retry-After: `[`FULL_RETRY_AFTER_SECS`]
//!   (a page with entries is always answered at once, whatever the count).
//! - at most [`MAX_FEED_WAITERS_PER_CLIENT`] of them from one client address (the TCP
//!   peer; `X-Forwarded-For` is never trusted), counted in [`ClientWaiters`] and
//!   answered the same way, for that address only: the feed is public, and without it
//!   one address opening the global cap's worth of waits would turn every gate's long
//!   poll into a `503` (gates would fall back to their periodic pull). Gates of one
//!   airport behind one NAT share an address, so the figure is sized for a terminal's
//!   gates (docs/trust.md "How gates follow the feeds"); one over it does not fail, it
//!   follows the feed by its periodic pull until a slot frees.
//! - a wait ends early when the listener starts shutting down ([`crate::tls::Draining`]):
//!   the gate gets the usual empty page and a graceful shutdown is never held up by it.

use super::store::IssuerStore;
use crate::db::DbError;
use crate::feed::Revocation;
use crate::tls::Draining;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Longest wait a request may ask for, seconds.
pub const MAX_FEED_WAIT_SECS: u64 = 25;
/// Most requests waiting at once in one issuer process.
pub const MAX_FEED_WAITERS: usize = 256;
/// Most requests waiting at once from one client address (gates behind one NAT share
/// one address: docs/trust.md).
pub const MAX_FEED_WAITERS_PER_CLIENT: usize = 32;
/// `Retry-After` of the answer to a request over [`MAX_FEED_WAITERS`], seconds.
pub const FULL_RETRY_AFTER_SECS: u64 = 2;
/// Response header of a feed page: the wait the issuer granted, seconds (absent from
/// issuers that do not wait).
pub const FEED_WAIT_HEADER: &str = "x-egate-feed-wait";

/// What a long poll found.
#[derive(Debug)]
pub enum Polled {
    /// Entries after `since` (possibly none when the wait ended first).
    Page(Vec<Revocation>),
    /// Nothing to answer yet and [`MAX_FEED_WAITERS`] already waiting.
    Full,
    /// Nothing to answer yet and [`MAX_FEED_WAITERS_PER_CLIENT`] already waiting from
    /// the request's client address.
    ClientFull,
}

/// The requests waiting on one issuer's feed, per client address. An address is in
/// the map only while at least one of its requests holds a [`WaitSlot`], so the map is
/// no larger than the number of requests in flight.
#[derive(Debug, Default)]
pub struct ClientWaiters {
    counts: Mutex<HashMap<IpAddr, usize>>,
}

impl ClientWaiters {
    /// A slot for one more waiting request from `client`, or `None` when
    /// [`MAX_FEED_WAITERS_PER_CLIENT`] already wait from it.
    pub fn enter(self: &Arc<Self>, client: IpAddr) -> Option<WaitSlot> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let n = counts.entry(client).or_insert(0);
        if *n >= MAX_FEED_WAITERS_PER_CLIENT {
            return None;
        }
        *n += 1;
        Some(WaitSlot {
            waiters: self.clone(),
            client,
        })
    }

    /// How many requests wait from `client` now.
    pub fn waiting_from(&self, client: IpAddr) -> usize {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.get(&client).copied().unwrap_or(0)
    }
}

/// One waiting request's place in [`ClientWaiters`]; given back when dropped (the
/// answer, or the client going away mid-wait).
#[derive(Debug)]
pub struct WaitSlot {
    waiters: Arc<ClientWaiters>,
    client: IpAddr,
}

impl Drop for WaitSlot {
    fn drop(&mut self) {
        let mut counts = self
            .waiters
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = counts.get_mut(&self.client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.client);
            }
        }
    }
}

/// How many requests wait on `store`'s feed now (for tests and health checks: the cap
/// is [`MAX_FEED_WAITERS`]).
pub fn waiting(store: &IssuerStore) -> usize {
    store.feed_signal().receiver_count()
}

/// The entries after `since` (at most `limit`): at once when there are any or `wait`
/// is zero, else once a commit adds some, the wait ends, or shutdown starts. No
/// per-address cap (callers without a client address: tests, tools).
pub async fn poll(
    store: &IssuerStore,
    since: i64,
    limit: u32,
    wait: Duration,
    draining: Option<Draining>,
) -> Result<Polled, DbError> {
    poll_from(store, None, since, limit, wait, draining).await
}

/// [`poll`] for a request from `client`: a wait counts against the address's
/// [`MAX_FEED_WAITERS_PER_CLIENT`] as well as the process's [`MAX_FEED_WAITERS`].
pub async fn poll_from(
    store: &IssuerStore,
    client: Option<IpAddr>,
    since: i64,
    limit: u32,
    wait: Duration,
    mut draining: Option<Draining>,
) -> Result<Polled, DbError> {
    if wait.is_zero() {
        return Ok(Polled::Page(store.revocations_since(since, limit).await?));
    }
    let signal = store.feed_signal();
    // Subscribed before the read: a commit between the read and the wait is seen.
    let mut changed = signal.subscribe();
    let mut list = store.revocations_since(since, limit).await?;
    if !list.is_empty() {
        return Ok(Polled::Page(list));
    }
    // The address's cap first: one address over its share must not take the slots
    // of the global cap from the others. Held until the answer.
    let _slot = match client {
        Some(ip) => match store.client_waiters().enter(ip) {
            Some(slot) => Some(slot),
            None => return Ok(Polled::ClientFull),
        },
        None => None,
    };
    if signal.receiver_count() > MAX_FEED_WAITERS {
        return Ok(Polled::Full);
    }
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let woken = tokio::select! {
            r = changed.changed() => r.is_ok(),
            _ = tokio::time::sleep_until(deadline) => false,
            _ = async {
                match draining.as_mut() {
                    Some(d) => d.started().await,
                    None => std::future::pending().await,
                }
            } => false,
        };
        if !woken {
            return Ok(Polled::Page(list));
        }
        list = store.revocations_since(since, limit).await?;
        if !list.is_empty() {
            return Ok(Polled::Page(list));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuer::store::{RevokeReason, TABLES, revoke};

    fn store() -> (tempfile::TempDir, IssuerStore) {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::Db::open(&dir.path().join("i.db"), &[TABLES]).unwrap();
        (dir, IssuerStore::new(db))
    }

    #[tokio::test]
    async fn a_waiter_wakes_on_the_commit_of_a_new_entry() {
        let (_dir, store) = store();
        let waiter = {
            let store = store.clone();
            tokio::spawn(async move { poll(&store, 0, 10, Duration::from_secs(20), None).await })
        };
        // Wait (bounded) until the waiter has subscribed, then commit an entry.
        for _ in 0..200 {
            if store.feed_signal().receiver_count() > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        store
            .sqlite()
            .unwrap()
            .write(|c| revoke(c, "AAAAAAAAAAAAAAAAAAAAAA==", RevokeReason::Erased, 5))
            .await
            .unwrap();
        match waiter.await.unwrap().unwrap() {
            Polled::Page(list) => assert_eq!(list.len(), 1),
            Polled::Full | Polled::ClientFull => panic!("one waiter is under the cap"),
        }
        store.close();
    }

    #[test]
    fn an_address_gets_its_cap_of_slots_and_others_are_counted_apart() {
        let waiters = Arc::new(ClientWaiters::default());
        let (a, b) = (IpAddr::from([127, 0, 0, 1]), IpAddr::from([127, 0, 0, 2]));
        let held: Vec<WaitSlot> = (0..MAX_FEED_WAITERS_PER_CLIENT)
            .map(|_| waiters.enter(a).expect("under the cap"))
            .collect();
        assert!(waiters.enter(a).is_none(), "over the address's cap");
        let other = waiters.enter(b).expect("another address has its own count");
        assert_eq!(waiters.waiting_from(b), 1);
        drop(held);
        drop(other);
        assert_eq!(waiters.waiting_from(a), 0);
        assert!(
            waiters.counts.lock().unwrap().is_empty(),
            "no entry left behind"
        );
    }

    #[tokio::test]
    async fn a_wait_with_nothing_new_ends_with_an_empty_page() {
        let (_dir, store) = store();
        match poll(&store, 0, 10, Duration::from_millis(300), None)
            .await
            .unwrap()
        {
            Polled::Page(list) => assert!(list.is_empty()),
            Polled::Full | Polled::ClientFull => panic!("one waiter is under the cap"),
        }
        store.close();
    }

    #[tokio::test]
    async fn shutdown_ends_a_wait_with_an_empty_page() {
        let (_dir, store) = store();
        let (tx, rx) = tokio::sync::watch::channel(false);
        let waiter = {
            let store = store.clone();
            tokio::spawn(async move {
                poll(&store, 0, 10, Duration::from_secs(600), Some(Draining(rx))).await
            })
        };
        tx.send(true).unwrap();
        match waiter.await.unwrap().unwrap() {
            Polled::Page(list) => assert!(list.is_empty()),
            Polled::Full | Polled::ClientFull => panic!("one waiter is under the cap"),
        }
        store.close();
    }
}
