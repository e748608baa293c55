//! The issuer store's tests, each run on both backends (`on_both!`: a `sqlite` and a
//! `postgres` test per case), and the PostgreSQL feed's ordering under concurrent
//! transactions that commit out of order.

use super::feed_wait::{Polled, poll};
use super::pg::{FeedTx, ISSUER_TABLES};
use super::presentations::{self, ReadRequest};
use super::store::{IssuerDb, IssuerStore, RevokeReason, TokenRow};
use crate::feed::cti_base64;
use crate::pg::PgDb;
use std::time::Duration;

fn sqlite_store() -> (tempfile::TempDir, IssuerStore) {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::db::Db::open(
        &dir.path().join("i.db"),
        &[
            super::store::TABLES,
            presentations::TABLES,
            super::store::EPOCH,
        ],
    )
    .unwrap();
    (dir, IssuerStore::new(db))
}

async fn pg_store_at(url: &str) -> IssuerStore {
    IssuerStore::postgres(PgDb::connect(url, &[ISSUER_TABLES]).await.unwrap())
}

macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let (_dir, store) = super::sqlite_store();
                super::$name(store.clone()).await;
                store.close();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let url = crate::pg::testing::fresh_database().await;
                let store = super::pg_store_at(&url).await;
                super::$name(store.clone()).await;
                store.close();
            }
        }
    };
}

fn token(cti: [u8; 16], declaration_id: &str) -> TokenRow {
    TokenRow {
        cti: cti_base64(&cti),
        declaration_id: declaration_id.into(),
        revision: 1,
        kid: "k".into(),
        iat: 1,
        exp: 2,
    }
}

/// Take `cti` out of circulation in a transaction of its own, as a service does.
async fn revoke(store: &IssuerStore, cti: [u8; 16], reason: RevokeReason, now: i64) {
    let cti = cti_base64(&cti);
    match store.backend() {
        IssuerDb::Sqlite(db) => db
            .write(move |c| super::store::revoke(c, &cti, reason, now))
            .await
            .unwrap(),
        IssuerDb::Postgres(pg) => {
            let mut client = pg.client().await.unwrap();
            let mut tx = FeedTx::begin(&mut client).await.unwrap();
            tx.revoke(&cti, reason, now).await.unwrap();
            tx.commit().await.unwrap();
        }
    }
}

on_both!(uses_enter_the_feed_once_and_unknown_tokens_are_ignored);
async fn uses_enter_the_feed_once_and_unknown_tokens_are_ignored(store: IssuerStore) {
    store.insert_token(token([1; 16], "d1")).await.unwrap();
    store.insert_token(token([2; 16], "d1")).await.unwrap();
    revoke(&store, [2; 16], RevokeReason::Superseded, 5).await;
    let ack = store
        .record_uses(
            vec![([1; 16], 7), ([2; 16], 7), ([3; 16], 7), ([1; 16], 7)],
            9,
        )
        .await
        .unwrap();
    assert_eq!((ack.recorded, ack.known, ack.unknown), (1, 2, 1));
    let again = store.record_uses(vec![([1; 16], 8)], 10).await.unwrap();
    assert_eq!((again.recorded, again.known), (0, 1));
    let feed = store.revocations_since(0, 10).await.unwrap();
    let reasons: Vec<&str> = feed.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(reasons, ["superseded", "used"]);
    assert_eq!(feed[0].exp, Some(2), "entries carry their token's expiry");
    assert!(feed[0].seq < feed[1].seq);
    assert_eq!(
        store
            .revocations_since(feed[0].seq, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.revocations_since(0, 1).await.unwrap().len(), 1);
    assert_eq!(store.token_count().await.unwrap(), 2);
}

on_both!(the_feed_has_a_stable_random_epoch);
async fn the_feed_has_a_stable_random_epoch(store: IssuerStore) {
    let epoch = store.feed_epoch().await.unwrap();
    assert_eq!(epoch.len(), 32, "{epoch}");
    assert!(epoch.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(store.feed_epoch().await.unwrap(), epoch);
    store.ping().await.unwrap();
}

on_both!(only_a_presented_case_reads_and_every_read_is_audited);
async fn only_a_presented_case_reads_and_every_read_is_audited(store: IssuerStore) {
    store.insert_token(token([1; 16], "d1")).await.unwrap();
    let cti = cti_base64(&[1; 16]);
    let p = vec![
        (7, "d1".to_owned(), cti.clone(), 100),
        (8, "d2".to_owned(), cti.clone(), 100),
    ];
    let r = store.record_presentations("g".into(), p.clone(), 0).await;
    assert_eq!(r.unwrap(), (1, 0, 1));
    let again = store
        .record_presentations("g".into(), p[..1].to_vec(), 0)
        .await;
    assert_eq!(again.unwrap(), (0, 1, 0));
    let mut req = ReadRequest {
        gate: "g".into(),
        case_id: 7,
        officer: "o1".into(),
        declaration_id: "d1".into(),
    };
    assert!(store.authorize_read(req.clone(), 200).await.unwrap());
    req.case_id = 8;
    assert!(!store.authorize_read(req.clone(), 201).await.unwrap());
    req.gate = "other".into();
    req.case_id = 7;
    assert!(!store.authorize_read(req, 202).await.unwrap());
    let audit = store.reads_of("d1".into(), 10).await.unwrap();
    assert_eq!(audit.len(), 3);
    assert_eq!(
        (audit[2].allowed, audit[2].reason.as_str()),
        (true, "presented")
    );
    assert_eq!(audit[1].reason, "not_presented");
    assert_eq!(store.purge_presentations(150).await.unwrap(), 1);
    assert_eq!(store.purge_presentations(1000).await.unwrap(), 3);
}

on_both!(a_feed_waiter_wakes_on_the_commit_of_a_new_entry);
async fn a_feed_waiter_wakes_on_the_commit_of_a_new_entry(store: IssuerStore) {
    store.insert_token(token([4; 16], "d4")).await.unwrap();
    let waiter = {
        let store = store.clone();
        tokio::spawn(async move { poll(&store, 0, 10, Duration::from_secs(20), None).await })
    };
    for _ in 0..200 {
        if store.feed_signal().receiver_count() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    revoke(&store, [4; 16], RevokeReason::Erased, 5).await;
    match waiter.await.unwrap().unwrap() {
        Polled::Page(list) => assert_eq!(list.len(), 1),
        Polled::Full | Polled::ClientFull => panic!("one waiter is under the cap"),
    }
}

/// Two instances on one PostgreSQL database: a waiter on A wakes when B commits a
/// feed entry (`NOTIFY`), and both read the same feed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_waiter_on_one_instance_wakes_on_a_write_by_another() {
    let url = crate::pg::testing::fresh_database().await;
    let (a, b) = (pg_store_at(&url).await, pg_store_at(&url).await);
    b.insert_token(token([5; 16], "d5")).await.unwrap();
    let waiter = {
        let a = a.clone();
        tokio::spawn(async move { poll(&a, 0, 10, Duration::from_secs(20), None).await })
    };
    for _ in 0..200 {
        if a.feed_signal().receiver_count() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    b.record_uses(vec![([5; 16], 3)], 4).await.unwrap();
    match waiter.await.unwrap().unwrap() {
        Polled::Page(list) => assert_eq!(list.len(), 1),
        Polled::Full | Polled::ClientFull => panic!("one waiter is under the cap"),
    }
    let from_a = a.revocations_since(0, 10).await.unwrap();
    let from_b = b.revocations_since(0, 10).await.unwrap();
    assert_eq!(from_a, from_b);
    assert_eq!(a.feed_epoch().await.unwrap(), b.feed_epoch().await.unwrap());
    a.close();
    b.close();
}

/// The out-of-order commit a sequence would get wrong: transaction 1 revokes first,
/// transaction 2 starts later, revokes and commits first; a reader reads meanwhile and
/// moves its cursor; transaction 1 then commits. The reader, going on from its cursor,
/// still reads transaction 1's entry: positions are given at commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_feed_positions_follow_commit_order_not_start_order() {
    let url = crate::pg::testing::fresh_database().await;
    let store = pg_store_at(&url).await;
    let IssuerDb::Postgres(pg) = store.backend().clone() else {
        unreachable!()
    };
    for i in 1..=2u8 {
        store.insert_token(token([i; 16], "d")).await.unwrap();
    }
    let mut c1 = pg.client().await.unwrap();
    let mut c2 = pg.client().await.unwrap();
    let mut t1 = FeedTx::begin(&mut c1).await.unwrap();
    t1.revoke(&cti_base64(&[1; 16]), RevokeReason::Superseded, 10)
        .await
        .unwrap();
    let mut t2 = FeedTx::begin(&mut c2).await.unwrap();
    t2.revoke(&cti_base64(&[2; 16]), RevokeReason::Erased, 11)
        .await
        .unwrap();
    t2.commit().await.unwrap();
    let first = store.revocations_since(0, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].cti, cti_base64(&[2; 16]));
    let cursor = first[0].seq;
    t1.commit().await.unwrap();
    let next = store.revocations_since(cursor, 10).await.unwrap();
    assert_eq!(
        next.len(),
        1,
        "the entry committed later is after the cursor"
    );
    assert_eq!(next[0].cti, cti_base64(&[1; 16]));
    store.close();
}

/// Many writers on separate connections, each holding its transaction open a varying
/// time before and after its revocation (so commits interleave in every order), while
/// a reader follows the feed with a cursor the whole time. At the end the reader has
/// seen every entry exactly once: it never moved past a position that was filled in
/// later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_follower_never_skips_an_entry_under_concurrent_writers() {
    const WRITERS: usize = 8;
    const PER_WRITER: usize = 25;
    let url = crate::pg::testing::fresh_database().await;
    let store = pg_store_at(&url).await;
    let IssuerDb::Postgres(pg) = store.backend().clone() else {
        unreachable!()
    };
    let cti_of = |w: usize, i: usize| {
        let mut b = [0u8; 16];
        b[0] = u8::try_from(w).unwrap();
        b[1] = u8::try_from(i).unwrap();
        b
    };
    for w in 0..WRITERS {
        for i in 0..PER_WRITER {
            store.insert_token(token(cti_of(w, i), "d")).await.unwrap();
        }
    }
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (store, done) = (store.clone(), done.clone());
        tokio::spawn(async move {
            let (mut cursor, mut seen) = (0i64, Vec::new());
            loop {
                let finished = done.load(std::sync::atomic::Ordering::Acquire);
                let page = store.revocations_since(cursor, 1000).await.unwrap();
                if let Some(last) = page.last() {
                    cursor = last.seq;
                }
                seen.extend(page.into_iter().map(|r| r.cti));
                if finished {
                    return seen;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let pg = pg.clone();
        writers.spawn(async move {
            for i in 0..PER_WRITER {
                let mut client = pg.client().await.unwrap();
                let mut tx = FeedTx::begin(&mut client).await.unwrap();
                // Hold the transaction open a little before and after the revocation,
                // differently per writer and round, so starts and commits interleave.
                let pause = |k: usize| Duration::from_millis(((w * 7 + i * 3 + k) % 5) as u64);
                tokio::time::sleep(pause(0)).await;
                tx.revoke(&cti_base64(&cti_of(w, i)), RevokeReason::Superseded, 1)
                    .await
                    .unwrap();
                tokio::time::sleep(pause(2)).await;
                tx.commit().await.unwrap();
            }
        });
    }
    while let Some(r) = writers.join_next().await {
        r.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::Release);
    let seen = reader.await.unwrap();
    let all = store.revocations_since(0, 10_000).await.unwrap();
    assert_eq!(all.len(), WRITERS * PER_WRITER);
    let mut expected: Vec<String> = all.into_iter().map(|r| r.cti).collect();
    let mut got = seen.clone();
    expected.sort();
    got.sort();
    assert_eq!(got.len(), seen.len());
    assert_eq!(got, expected, "the follower skipped or repeated entries");
    store.close();
}

/// A use report naming a token an open amendment is superseding: the report waits for
/// the token's row, the amendment commits (no deadlock: both take the token row before
/// the feed's counter row), and the report then finds the token already in the feed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_use_report_racing_an_amendment_of_its_token_neither_deadlocks_nor_duplicates() {
    let url = crate::pg::testing::fresh_database().await;
    let store = pg_store_at(&url).await;
    let IssuerDb::Postgres(pg) = store.backend().clone() else {
        unreachable!()
    };
    store.insert_token(token([9; 16], "d9")).await.unwrap();
    let mut c1 = pg.client().await.unwrap();
    let mut amendment = FeedTx::begin(&mut c1).await.unwrap();
    amendment
        .revoke(&cti_base64(&[9; 16]), RevokeReason::Superseded, 10)
        .await
        .unwrap();
    let report = {
        let store = store.clone();
        tokio::spawn(async move { store.record_uses(vec![([9; 16], 11)], 12).await })
    };
    // Until the report waits for a lock (bounded polling of the server's view).
    let watcher = pg.client().await.unwrap();
    let mut waiting = 0i64;
    for _ in 0..400 {
        waiting = watcher
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
                 AND datname = current_database()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if waiting > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(waiting, 1, "the use report waits for the token's row");
    amendment.commit().await.unwrap();
    let ack = report.await.unwrap().unwrap();
    assert_eq!((ack.recorded, ack.known, ack.unknown), (0, 1, 0));
    let feed = store.revocations_since(0, 10).await.unwrap();
    assert_eq!(feed.len(), 1);
    assert_eq!(feed[0].reason, "superseded");
    drop(watcher);
    store.close();
}
