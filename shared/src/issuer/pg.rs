//! The issuer tables on PostgreSQL: the same rows as [`super::store`] and
//! [`super::presentations`] keep in SQLite, and the feed's positions assigned at commit.
//!
//! **Why positions are assigned at commit.** A PostgreSQL sequence hands out numbers
//! when rows are inserted, but transactions commit in any order: a gate that has read
//! entry 42 would never read 41 if 41's transaction committed a moment later. So a
//! transaction that takes tokens out of circulation only *buffers* its feed entries
//! ([`FeedTx::revoke`]); [`FeedTx::commit`] then, as the transaction's very last
//! statements, takes the next positions from the one row of `feed_counter` (an `UPDATE`
//! that locks the row until the commit), inserts the entries with those positions,
//! sends `NOTIFY egate_feed`, and commits. A second feed-writing transaction waits for
//! that row lock until the first has committed (and is visible), so positions become
//! visible in increasing order: a reader's snapshot always holds a prefix of the feed,
//! and `seq > since` never skips an entry. The lock is held only from the counter update
//! to the commit; transactions that write no feed entry (creations) never take it. Every
//! feed writer locks in one order, declaration and token rows first, the counter row
//! last, so they cannot deadlock one another.
//! Positions may have holes (never a problem: readers only compare).

use super::presentations::{REASON_NOT_PRESENTED, REASON_PRESENTED, ReadAudit, ReadRequest};
use super::store::{RevokeReason, TokenRow};
use crate::db::DbError;
use crate::feed::{CheckedPresentation, REASON_USED, Revocation, UseReportAck, cti_base64};
use crate::pg::{FEED_CHANNEL, PgMigration};

/// The issuer tables (tokens, feed with its counter and epoch, presentations, read
/// audit), as the first PostgreSQL migration of every issuer.
pub const ISSUER_TABLES: PgMigration = (
    "V1__issuer_tables",
    "CREATE TABLE tokens (
        cti TEXT PRIMARY KEY NOT NULL,
        declaration_id TEXT NOT NULL,
        revision INTEGER NOT NULL,
        kid TEXT NOT NULL,
        iat BIGINT NOT NULL,
        exp BIGINT NOT NULL,
        superseded_at BIGINT,
        used_at BIGINT
    );
    CREATE INDEX tokens_declaration ON tokens (declaration_id);
    CREATE TABLE revocations (
        seq BIGINT PRIMARY KEY,
        cti TEXT NOT NULL,
        reason TEXT NOT NULL CHECK (reason IN ('superseded', 'erased', 'used')),
        at BIGINT NOT NULL
    );
    CREATE INDEX revocations_cti ON revocations (cti);
    CREATE TABLE feed_counter (
        id SMALLINT PRIMARY KEY CHECK (id = 1),
        last BIGINT NOT NULL
    );
    INSERT INTO feed_counter (id, last) VALUES (1, 0);
    CREATE TABLE issuer_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
    INSERT INTO issuer_meta (key, value)
        VALUES ('feed_epoch', replace(gen_random_uuid()::text, '-', ''));
    CREATE TABLE presentations (
        gate TEXT NOT NULL,
        case_id BIGINT NOT NULL,
        declaration_id TEXT NOT NULL,
        cti TEXT NOT NULL,
        at BIGINT NOT NULL,
        PRIMARY KEY (gate, case_id, declaration_id)
    );
    CREATE INDEX presentations_at ON presentations (at);
    CREATE TABLE declaration_reads (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at BIGINT NOT NULL,
        gate TEXT NOT NULL,
        case_id BIGINT NOT NULL,
        officer TEXT NOT NULL,
        declaration_id TEXT NOT NULL,
        allowed BOOLEAN NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX declaration_reads_at ON declaration_reads (at);
    CREATE INDEX declaration_reads_declaration ON declaration_reads (declaration_id, id);",
);

fn reason_str(r: RevokeReason) -> &'static str {
    match r {
        RevokeReason::Superseded => "superseded",
        RevokeReason::Erased => "erased",
    }
}

/// A write transaction that may append to the feed: its entries get their positions
/// at [`FeedTx::commit`] (module doc). Dropped without commit, it rolls back.
pub struct FeedTx<'a> {
    tx: deadpool_postgres::Transaction<'a>,
    pending: Vec<(String, &'static str, i64)>,
}

impl<'a> FeedTx<'a> {
    /// Begin a transaction on `client`.
    pub async fn begin(client: &'a mut deadpool_postgres::Object) -> Result<FeedTx<'a>, DbError> {
        Ok(FeedTx {
            tx: client.transaction().await?,
            pending: Vec::new(),
        })
    }

    /// The transaction, for the service's own rows.
    pub fn tx(&self) -> &deadpool_postgres::Transaction<'a> {
        &self.tx
    }

    /// Record a signed token.
    pub async fn insert_token(&self, t: &TokenRow) -> Result<(), DbError> {
        let revision = i32::try_from(t.revision).map_err(|_| DbError::Config("revision".into()))?;
        self.tx
            .execute(
                "INSERT INTO tokens (cti, declaration_id, revision, kid, iat, exp)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[&t.cti, &t.declaration_id, &revision, &t.kid, &t.iat, &t.exp],
            )
            .await?;
        Ok(())
    }

    /// Take token `cti` out of circulation: marked on the token now, entered in the
    /// feed at the commit.
    pub async fn revoke(
        &mut self,
        cti: &str,
        reason: RevokeReason,
        now: i64,
    ) -> Result<(), DbError> {
        self.tx
            .execute(
                "UPDATE tokens SET superseded_at = $2 WHERE cti = $1 AND superseded_at IS NULL",
                &[&cti, &now],
            )
            .await?;
        self.pending.push((cti.to_owned(), reason_str(reason), now));
        Ok(())
    }

    /// Take the feed's counter row now instead of at the commit (the use reports, whose
    /// "already in the feed?" checks must see every earlier feed write); token rows are
    /// locked before it, as by every feed writer.
    async fn lock_feed(&self) -> Result<(), DbError> {
        self.tx
            .execute("SELECT last FROM feed_counter WHERE id = 1 FOR UPDATE", &[])
            .await?;
        Ok(())
    }

    /// Give the buffered entries their positions, insert them, notify, commit.
    pub async fn commit(self) -> Result<(), DbError> {
        let FeedTx { tx, pending } = self;
        if !pending.is_empty() {
            let n = i64::try_from(pending.len()).unwrap_or(i64::MAX);
            let last: i64 = tx
                .query_one(
                    "UPDATE feed_counter SET last = last + $1 WHERE id = 1 RETURNING last",
                    &[&n],
                )
                .await?
                .get(0);
            let mut seq = last - n;
            for (cti, reason, at) in &pending {
                seq += 1;
                tx.execute(
                    "INSERT INTO revocations (seq, cti, reason, at) VALUES ($1, $2, $3, $4)",
                    &[&seq, cti, reason, at],
                )
                .await?;
            }
            tx.execute("SELECT pg_notify($1, '')", &[&FEED_CHANNEL])
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// [`super::store::record_uses`] on PostgreSQL (the same counts).
///
/// Lock order, the same as every other feed writer's: token rows first (in token id
/// order, so two reports naming the same tokens cannot deadlock), the feed's counter row
/// last. The "already in the feed?" checks run after the counter row is held, when every
/// earlier feed write has committed and is visible.
pub async fn record_uses(
    client: &mut deadpool_postgres::Object,
    uses: &[([u8; 16], i64)],
    now: i64,
) -> Result<UseReportAck, DbError> {
    let mut ftx = FeedTx::begin(client).await?;
    let mut ack = UseReportAck {
        recorded: 0,
        known: 0,
        unknown: 0,
    };
    let mut ordered: Vec<(String, i64)> = uses.iter().map(|(c, at)| (cti_base64(c), *at)).collect();
    ordered.sort();
    let mut issued = Vec::with_capacity(ordered.len());
    for (cti, used_at) in ordered {
        let first_use = ftx
            .tx
            .execute(
                "UPDATE tokens SET used_at = $2 WHERE cti = $1 AND used_at IS NULL",
                &[&cti, &used_at],
            )
            .await?;
        if first_use == 0
            && ftx
                .tx
                .query_opt("SELECT 1 FROM tokens WHERE cti = $1", &[&cti])
                .await?
                .is_none()
        {
            ack.unknown += 1;
            continue;
        }
        issued.push(cti);
    }
    ftx.lock_feed().await?;
    for cti in issued {
        let in_feed = ftx.pending.iter().any(|(c, _, _)| *c == cti)
            || ftx
                .tx
                .query_opt("SELECT 1 FROM revocations WHERE cti = $1", &[&cti])
                .await?
                .is_some();
        if in_feed {
            ack.known += 1;
        } else {
            ftx.pending.push((cti, REASON_USED, now));
            ack.recorded += 1;
        }
    }
    ftx.commit().await?;
    Ok(ack)
}

/// The feed entries with `seq > since`, in order, at most `limit`.
pub async fn revocations_since(
    client: &deadpool_postgres::Object,
    since: i64,
    limit: u32,
) -> Result<Vec<Revocation>, DbError> {
    let rows = client
        .query(
            "SELECT r.seq, r.cti, r.reason, r.at, t.exp FROM revocations r
               LEFT JOIN tokens t ON t.cti = r.cti
              WHERE r.seq > $1 ORDER BY r.seq LIMIT $2",
            &[&since, &i64::from(limit)],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Revocation {
            seq: r.get(0),
            cti: r.get(1),
            reason: r.get(2),
            at: r.get(3),
            exp: r.get(4),
        })
        .collect())
}

/// The feed's epoch.
pub async fn feed_epoch(client: &deadpool_postgres::Object) -> Result<String, DbError> {
    Ok(client
        .query_one(
            "SELECT value FROM issuer_meta WHERE key = 'feed_epoch'",
            &[],
        )
        .await?
        .get(0))
}

/// How many tokens this issuer has signed.
pub async fn token_count(client: &deadpool_postgres::Object) -> Result<u64, DbError> {
    let n: i64 = client
        .query_one("SELECT count(*) FROM tokens", &[])
        .await?
        .get(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

/// [`super::presentations::record`] on PostgreSQL.
pub async fn record_presentations(
    client: &mut deadpool_postgres::Object,
    gate: &str,
    presentations: &[CheckedPresentation],
    keep_after: i64,
) -> Result<(usize, usize, usize), DbError> {
    let tx = client.transaction().await?;
    let (mut recorded, mut known, mut unknown) = (0, 0, 0);
    for (case, declaration_id, cti, at) in presentations {
        let signed = tx
            .query_opt(
                "SELECT 1 FROM tokens WHERE cti = $1 AND declaration_id = $2",
                &[cti, declaration_id],
            )
            .await?;
        if signed.is_none() {
            unknown += 1;
            continue;
        }
        let n = tx
            .execute(
                "INSERT INTO presentations (gate, case_id, declaration_id, cti, at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[&gate, case, declaration_id, cti, at],
            )
            .await?;
        if n == 1 {
            recorded += 1;
        } else {
            known += 1;
        }
    }
    purge_presentations_in(&tx, keep_after).await?;
    tx.commit().await?;
    Ok((recorded, known, unknown))
}

async fn purge_presentations_in(
    c: &tokio_postgres::Transaction<'_>,
    cutoff: i64,
) -> Result<usize, DbError> {
    let a = c
        .execute("DELETE FROM presentations WHERE at < $1", &[&cutoff])
        .await?;
    let b = c
        .execute("DELETE FROM declaration_reads WHERE at < $1", &[&cutoff])
        .await?;
    Ok(usize::try_from(a + b).unwrap_or(usize::MAX))
}

/// [`super::presentations::purge_before`] on PostgreSQL.
pub async fn purge_presentations(
    client: &mut deadpool_postgres::Object,
    cutoff: i64,
) -> Result<usize, DbError> {
    let tx = client.transaction().await?;
    let n = purge_presentations_in(&tx, cutoff).await?;
    tx.commit().await?;
    Ok(n)
}

/// [`super::presentations::authorize_read`] on PostgreSQL (decided and audited in one
/// transaction).
pub async fn authorize_read(
    client: &mut deadpool_postgres::Object,
    req: &ReadRequest,
    now: i64,
) -> Result<bool, DbError> {
    let tx = client.transaction().await?;
    let allowed = tx
        .query_opt(
            "SELECT 1 FROM presentations WHERE gate = $1 AND case_id = $2 AND declaration_id = $3",
            &[&req.gate, &req.case_id, &req.declaration_id],
        )
        .await?
        .is_some();
    let reason = if allowed {
        REASON_PRESENTED
    } else {
        REASON_NOT_PRESENTED
    };
    tx.execute(
        "INSERT INTO declaration_reads (at, gate, case_id, officer, declaration_id, allowed, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &now,
            &req.gate,
            &req.case_id,
            &req.officer,
            &req.declaration_id,
            &allowed,
            &reason,
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(allowed)
}

/// [`super::presentations::reads_of`] on PostgreSQL.
pub async fn reads_of(
    client: &deadpool_postgres::Object,
    declaration_id: &str,
    limit: u32,
) -> Result<Vec<ReadAudit>, DbError> {
    let rows = client
        .query(
            "SELECT at, gate, case_id, officer, declaration_id, allowed, reason
             FROM declaration_reads WHERE declaration_id = $1 ORDER BY id DESC LIMIT $2",
            &[&declaration_id, &i64::from(limit)],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| ReadAudit {
            at: r.get(0),
            gate: r.get(1),
            case_id: r.get(2),
            officer: r.get(3),
            declaration_id: r.get(4),
            allowed: r.get(5),
            reason: r.get(6),
        })
        .collect())
}
