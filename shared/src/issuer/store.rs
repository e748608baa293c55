//! [`IssuerStore`]: the tokens an issuer signed and its revocation feed, in the issuer's
//! SQLite database or in PostgreSQL ([`super::pg`], the same rows and answers).
//!
//! Two tables, the same at every issuer (created by [`TABLES`] in a new database; the
//! services' older databases reach the same columns through their own migrations):
//! - `tokens`: one row per signed token: `cti`, `declaration_id`, `revision`, `kid`,
//!   `iat`, `exp`, `superseded_at`, `used_at`;
//! - `revocations`: the feed gates pull: `seq` (AUTOINCREMENT, so a number is never
//!   reused, even after a restore of a newer row), `cti`, `reason`
//!   (`superseded` | `erased` | `used`), `at`. A token enters it once. It stays a rowid
//!   table: its commits wake the feed's long polls ([`super::feed_wait`], through the
//!   database's change signal, which sees rowid tables only).
//!
//! Decisions: the row-level functions take a connection, so that a service writes its
//! own declaration rows and the token rows in one transaction (`Db::write`); the async
//! methods of [`IssuerStore`] are what the issuer endpoints need, over either backend
//! ([`IssuerDb`]: an enum rather than a trait object, so that a service can reach the
//! backend's own transaction for its rows). Ids are standard base64 text in both tables.

use super::presentations;
use crate::db::{Db, DbError, Migration};
use crate::feed::{REASON_USED, Revocation, UseReportAck, cti_base64};
use crate::pg::PgDb;
use rusqlite::{Connection, OptionalExtension as _, params};

/// The table whose changes wake the feed's waiters on SQLite.
const FEED_TABLE: &str = "revocations";

/// The feed's epoch: a random id made when the issuer's database is created (or reaches
/// this migration), and made anew by `egate restore` in a restored copy. Sequences are
/// only comparable within one epoch: a gate that sees another epoch starts the feed over
/// from 0, so a database restored below the gates' marks cannot hide its new entries.
pub const EPOCH: Migration = (
    "feed epoch",
    "CREATE TABLE issuer_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) STRICT;
    INSERT INTO issuer_meta (key, value) VALUES ('feed_epoch', lower(hex(randomblob(16))));",
);

/// The feed's current epoch.
pub fn feed_epoch(c: &Connection) -> Result<String, DbError> {
    Ok(c.query_row(
        "SELECT value FROM issuer_meta WHERE key = 'feed_epoch'",
        [],
        |r| r.get(0),
    )?)
}

/// Give the feed a new epoch (a restored copy of the database: its sequences may repeat
/// numbers the gates have already passed). A database from before [`EPOCH`] has none
/// and gets a fresh one from the migration when the issuer opens it: `false` then.
pub fn renew_feed_epoch(c: &Connection) -> Result<bool, DbError> {
    let has_meta: bool = c.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'issuer_meta'",
        [],
        |r| r.get(0),
    )?;
    if has_meta {
        c.execute(
            "UPDATE issuer_meta SET value = lower(hex(randomblob(16))) WHERE key = 'feed_epoch'",
            [],
        )?;
    }
    Ok(has_meta)
}

/// The issuer tables of a new database, as one migration.
pub const TABLES: Migration = (
    "issuer tables: signed tokens and the revocation feed",
    "CREATE TABLE tokens (
        cti TEXT PRIMARY KEY NOT NULL,
        declaration_id TEXT NOT NULL,
        revision INTEGER NOT NULL,
        kid TEXT NOT NULL,
        iat INTEGER NOT NULL,
        exp INTEGER NOT NULL,
        superseded_at INTEGER,
        used_at INTEGER
    ) STRICT;
    CREATE TABLE revocations (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        cti TEXT NOT NULL,
        reason TEXT NOT NULL CHECK (reason IN ('superseded', 'erased', 'used')),
        at INTEGER NOT NULL
    );
    CREATE INDEX revocations_cti ON revocations (cti);",
);

/// Why a token leaves circulation before its expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeReason {
    /// A newer revision of the declaration replaced it.
    Superseded,
    /// The passenger erased the declaration.
    Erased,
}

impl RevokeReason {
    fn as_str(self) -> &'static str {
        match self {
            RevokeReason::Superseded => "superseded",
            RevokeReason::Erased => "erased",
        }
    }
}

/// One signed token, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    /// Token id, standard base64.
    pub cti: String,
    /// The service's declaration id.
    pub declaration_id: String,
    /// Revision of the declaration.
    pub revision: u32,
    /// Key id, standard base64.
    pub kid: String,
    /// Issued at, unix seconds.
    pub iat: i64,
    /// Expiry, unix seconds.
    pub exp: i64,
}

/// Record a signed token.
pub fn insert_token(c: &Connection, t: &TokenRow) -> Result<(), DbError> {
    c.prepare_cached(
        "INSERT INTO tokens (cti, declaration_id, revision, kid, iat, exp)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        t.cti,
        t.declaration_id,
        t.revision,
        t.kid,
        t.iat,
        t.exp
    ])?;
    Ok(())
}

/// Take token `cti` out of circulation for `reason`: marked on the token, entered in
/// the feed.
pub fn revoke(c: &Connection, cti: &str, reason: RevokeReason, now: i64) -> Result<(), DbError> {
    c.prepare_cached(
        "UPDATE tokens SET superseded_at = ?2 WHERE cti = ?1 AND superseded_at IS NULL",
    )?
    .execute(params![cti, now])?;
    c.prepare_cached("INSERT INTO revocations (cti, reason, at) VALUES (?1, ?2, ?3)")?
        .execute(params![cti, reason.as_str(), now])?;
    Ok(())
}

/// Enter the tokens a gate reports as used in the feed (reason `used`), once each, and
/// note the first use on the token. Token ids this issuer never signed are counted as
/// unknown and ignored; tokens already in the feed (reported before, superseded,
/// erased) are counted as known.
pub fn record_uses(
    c: &Connection,
    uses: &[([u8; 16], i64)],
    now: i64,
) -> Result<UseReportAck, DbError> {
    let mut ack = UseReportAck {
        recorded: 0,
        known: 0,
        unknown: 0,
    };
    for (cti, used_at) in uses {
        let cti = cti_base64(cti);
        let first_use = c
            .prepare_cached("UPDATE tokens SET used_at = ?2 WHERE cti = ?1 AND used_at IS NULL")?
            .execute(params![cti, used_at])?;
        if first_use == 0 {
            let issued: Option<i64> = c
                .prepare_cached("SELECT 1 FROM tokens WHERE cti = ?1")?
                .query_row([&cti], |r| r.get(0))
                .optional()?;
            if issued.is_none() {
                ack.unknown += 1;
                continue;
            }
        }
        let n = c
            .prepare_cached(
                "INSERT INTO revocations (cti, reason, at)
                 SELECT ?1, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM revocations WHERE cti = ?1)",
            )?
            .execute(params![cti, REASON_USED, now])?;
        if n == 1 {
            ack.recorded += 1;
        } else {
            ack.known += 1;
        }
    }
    Ok(ack)
}

/// The feed entries with `seq > since`, in order, at most `limit`.
pub fn revocations_since(
    c: &Connection,
    since: i64,
    limit: u32,
) -> Result<Vec<Revocation>, DbError> {
    let mut stmt = c.prepare_cached(
        "SELECT r.seq, r.cti, r.reason, r.at, t.exp FROM revocations r
           LEFT JOIN tokens t ON t.cti = r.cti
          WHERE r.seq > ?1 ORDER BY r.seq LIMIT ?2",
    )?;
    let rows = stmt.query_map((since, limit), |r| {
        Ok(Revocation {
            seq: r.get(0)?,
            cti: r.get(1)?,
            reason: r.get(2)?,
            at: r.get(3)?,
            exp: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many tokens this issuer has signed.
pub fn token_count(c: &Connection) -> Result<u64, DbError> {
    let n: i64 = c.query_row("SELECT COUNT(*) FROM tokens", [], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Where an issuer's tables are: its SQLite database (the embedded default) or a
/// PostgreSQL database shared by several instances ([`super::pg`]).
#[derive(Debug, Clone)]
pub enum IssuerDb {
    /// The service's SQLite file (its own rows live there too).
    Sqlite(Db),
    /// A PostgreSQL database (`EGATE_DATABASE_URL`).
    Postgres(PgDb),
}

/// The issuer's tokens, feed, presentations and read audit: one interface over either
/// backend ([`IssuerDb`]). Cheap to clone.
#[derive(Debug, Clone)]
pub struct IssuerStore {
    db: IssuerDb,
    /// The requests waiting on the feed per client address ([`super::feed_wait`]).
    waiters: std::sync::Arc<super::feed_wait::ClientWaiters>,
}

impl IssuerStore {
    /// The store in the SQLite `db` (whose migrations created the issuer tables).
    pub fn new(db: Db) -> IssuerStore {
        IssuerStore {
            db: IssuerDb::Sqlite(db),
            waiters: Default::default(),
        }
    }

    /// The store in a PostgreSQL database (migrated with [`super::pg::ISSUER_TABLES`]).
    pub fn postgres(db: PgDb) -> IssuerStore {
        IssuerStore {
            db: IssuerDb::Postgres(db),
            waiters: Default::default(),
        }
    }

    /// The backend (a service's own rows are written in the same transactions).
    pub fn backend(&self) -> &IssuerDb {
        &self.db
    }

    /// The SQLite database, when that is the backend.
    pub fn sqlite(&self) -> Option<&Db> {
        match &self.db {
            IssuerDb::Sqlite(db) => Some(db),
            IssuerDb::Postgres(_) => None,
        }
    }

    /// The count of requests waiting on the feed per client address, shared by every
    /// clone of this store.
    pub fn client_waiters(&self) -> &std::sync::Arc<super::feed_wait::ClientWaiters> {
        &self.waiters
    }

    /// The feed's change signal: moves on after each commit that added feed entries
    /// (SQLite: the writer thread's signal of the table; PostgreSQL: `NOTIFY` from any
    /// instance). Subscribe before reading; its receiver count is the number of
    /// requests waiting on the feed in this process.
    pub fn feed_signal(&self) -> std::sync::Arc<tokio::sync::watch::Sender<u64>> {
        match &self.db {
            IssuerDb::Sqlite(db) => db.changes(FEED_TABLE),
            IssuerDb::Postgres(pg) => pg.feed_signal(),
        }
    }

    /// Record a signed token on its own (services that keep no declaration rows).
    pub async fn insert_token(&self, t: TokenRow) -> Result<(), DbError> {
        match &self.db {
            IssuerDb::Sqlite(db) => db.write(move |c| insert_token(c, &t)).await,
            IssuerDb::Postgres(pg) => {
                let mut client = pg.client().await?;
                let ftx = super::pg::FeedTx::begin(&mut client).await?;
                ftx.insert_token(&t).await?;
                ftx.commit().await
            }
        }
    }

    /// See [`record_uses`].
    pub async fn record_uses(
        &self,
        uses: Vec<([u8; 16], i64)>,
        now: i64,
    ) -> Result<UseReportAck, DbError> {
        match &self.db {
            IssuerDb::Sqlite(db) => db.write(move |c| record_uses(c, &uses, now)).await,
            IssuerDb::Postgres(pg) => {
                super::pg::record_uses(&mut pg.client().await?, &uses, now).await
            }
        }
    }

    /// See [`revocations_since`].
    pub async fn revocations_since(
        &self,
        since: i64,
        limit: u32,
    ) -> Result<Vec<Revocation>, DbError> {
        match &self.db {
            IssuerDb::Sqlite(db) => db.read(move |c| revocations_since(c, since, limit)).await,
            IssuerDb::Postgres(pg) => {
                super::pg::revocations_since(&pg.client().await?, since, limit).await
            }
        }
    }

    /// See [`feed_epoch`].
    pub async fn feed_epoch(&self) -> Result<String, DbError> {
        match &self.db {
            IssuerDb::Sqlite(db) => db.read(feed_epoch).await,
            IssuerDb::Postgres(pg) => super::pg::feed_epoch(&pg.client().await?).await,
        }
    }

    /// See [`token_count`].
    pub async fn token_count(&self) -> Result<u64, DbError> {
        match &self.db {
            IssuerDb::Sqlite(db) => db.read(token_count).await,
            IssuerDb::Postgres(pg) => super::pg::token_count(&pg.client().await?).await,
        }
    }

    /// A gate's presentation report ([`presentations::record`]): (recorded, known,
    /// unknown); rows older than `keep_after` go at the same time.
    pub async fn record_presentations(
        &self,
        gate: String,
        list: Vec<crate::feed::CheckedPresentation>,
        keep_after: i64,
    ) -> Result<(usize, usize, usize), DbError> {
        match &self.db {
            IssuerDb::Sqlite(db) => {
                db.write(move |c| presentations::record(c, &gate, &list, keep_after))
                    .await
            }
            IssuerDb::Postgres(pg) => {
                super::pg::record_presentations(&mut pg.client().await?, &gate, &list, keep_after)
                    .await
            }
        }
    }

    /// Decide a declaration read and audit it ([`presentations::authorize_read`]).
    pub async fn authorize_read(
        &self,
        req: presentations::ReadRequest,
        now: i64,
    ) -> Result<bool, DbError> {
        match &self.db {
            IssuerDb::Sqlite(db) => {
                db.write(move |c| presentations::authorize_read(c, &req, now))
                    .await
            }
            IssuerDb::Postgres(pg) => {
                super::pg::authorize_read(&mut pg.client().await?, &req, now).await
            }
        }
    }

    /// The most recent audit rows of a declaration ([`presentations::reads_of`]).
    pub async fn reads_of(
        &self,
        declaration_id: String,
        limit: u32,
    ) -> Result<Vec<presentations::ReadAudit>, DbError> {
        match &self.db {
            IssuerDb::Sqlite(db) => {
                db.read(move |c| presentations::reads_of(c, &declaration_id, limit))
                    .await
            }
            IssuerDb::Postgres(pg) => {
                super::pg::reads_of(&pg.client().await?, &declaration_id, limit).await
            }
        }
    }

    /// Delete presentations and audit rows older than `cutoff`
    /// ([`presentations::purge_before`]).
    pub async fn purge_presentations(&self, cutoff: i64) -> Result<usize, DbError> {
        match &self.db {
            IssuerDb::Sqlite(db) => {
                db.write(move |c| presentations::purge_before(c, cutoff))
                    .await
            }
            IssuerDb::Postgres(pg) => {
                super::pg::purge_presentations(&mut pg.client().await?, cutoff).await
            }
        }
    }

    /// Whether the database answers (health checks).
    pub async fn ping(&self) -> Result<(), DbError> {
        match &self.db {
            IssuerDb::Sqlite(db) => {
                db.read(|c| {
                    c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                        .map_err(DbError::from)
                })
                .await?;
            }
            IssuerDb::Postgres(pg) => {
                pg.client().await?.query_one("SELECT 1", &[]).await?;
            }
        }
        Ok(())
    }

    /// Close the store: SQLite's writer commits what is queued and stops; the
    /// PostgreSQL pool and listener close.
    pub fn close(&self) {
        match &self.db {
            IssuerDb::Sqlite(db) => db.close(),
            IssuerDb::Postgres(pg) => pg.close(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(cti: [u8; 16]) -> TokenRow {
        TokenRow {
            cti: cti_base64(&cti),
            declaration_id: "d1".into(),
            revision: 1,
            kid: "k".into(),
            iat: 1,
            exp: 2,
        }
    }

    #[test]
    fn uses_enter_the_feed_once_and_unknown_tokens_are_ignored() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(TABLES.1).unwrap();
        insert_token(&c, &token([1; 16])).unwrap();
        insert_token(&c, &token([2; 16])).unwrap();
        revoke(&c, &cti_base64(&[2; 16]), RevokeReason::Superseded, 5).unwrap();
        let ack = record_uses(&c, &[([1; 16], 7), ([2; 16], 7), ([3; 16], 7)], 9).unwrap();
        assert_eq!((ack.recorded, ack.known, ack.unknown), (1, 1, 1));
        let again = record_uses(&c, &[([1; 16], 8)], 10).unwrap();
        assert_eq!((again.recorded, again.known), (0, 1));
        let feed = revocations_since(&c, 0, 10).unwrap();
        let reasons: Vec<&str> = feed.iter().map(|r| r.reason.as_str()).collect();
        assert_eq!(reasons, ["superseded", "used"]);
        assert_eq!(revocations_since(&c, feed[0].seq, 10).unwrap().len(), 1);
        assert_eq!(token_count(&c).unwrap(), 2);
    }
}
