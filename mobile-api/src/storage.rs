//! [`Store`]: mobile-api's storage interface, one for both backends. Declarations and
//! their revisions ([`crate::store`] on SQLite, [`crate::store_pg`] on PostgreSQL), and
//! the issuer's tokens, feed, presentations and read audit (`shared::issuer::store`),
//! always in the same database: each write below is one transaction over the
//! declaration row, the token row and the feed entry.
//!
//! Which backend: `EGATE_DATABASE_URL=postgres://…` selects PostgreSQL (any number of
//! instances on one database); without it, the SQLite file under the data directory
//! (docs/storage.md).

use crate::error::AppError;
use crate::store::{self, Revision, Row};
use shared::db::Db;
use shared::issuer::IssuerStore;
use shared::issuer::store::IssuerDb;

/// The declaration store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    issuer: IssuerStore,
}

impl Store {
    /// Declarations in the SQLite database `db` (opened with [`store::MIGRATIONS`]).
    pub fn sqlite(db: Db) -> Store {
        Store {
            issuer: IssuerStore::new(db),
        }
    }

    /// Declarations in PostgreSQL (migrated with [`crate::store_pg::MIGRATIONS`]).
    pub fn postgres(db: shared::pg::PgDb) -> Store {
        Store {
            issuer: IssuerStore::postgres(db),
        }
    }

    /// The issuer side of the same database (tokens, feed, presentations).
    pub fn issuer(&self) -> &IssuerStore {
        &self.issuer
    }

    /// The SQLite database, when that is the backend (backups, the purge's vacuum).
    pub fn sqlite_db(&self) -> Option<&Db> {
        self.issuer.sqlite()
    }

    /// The feed's change signal (see `IssuerStore::feed_signal`).
    pub fn feed_signal(&self) -> std::sync::Arc<tokio::sync::watch::Sender<u64>> {
        self.issuer.feed_signal()
    }

    /// Insert a new declaration with its first token.
    pub async fn insert(
        &self,
        id: String,
        edit_token_hash: String,
        rev: Revision,
        now: i64,
    ) -> Result<(), AppError> {
        match self.issuer.backend() {
            IssuerDb::Sqlite(db) => {
                db.write(move |c| store::insert(c, &id, &edit_token_hash, &rev, now))
                    .await
            }
            IssuerDb::Postgres(pg) => {
                crate::store_pg::insert(pg, &id, &edit_token_hash, &rev, now).await
            }
        }
    }

    /// Replace revision `rev.revision - 1` by `rev`, superseding the previous token;
    /// `false` when the declaration is gone, erased or was changed concurrently.
    pub async fn replace(&self, id: String, rev: Revision, now: i64) -> Result<bool, AppError> {
        match self.issuer.backend() {
            IssuerDb::Sqlite(db) => db.write(move |c| store::replace(c, &id, &rev, now)).await,
            IssuerDb::Postgres(pg) => crate::store_pg::replace(pg, &id, &rev, now).await,
        }
    }

    /// Erase a declaration's personal data and revoke its token; `false` when there was
    /// nothing to erase.
    pub async fn erase(&self, id: String, now: i64) -> Result<bool, AppError> {
        match self.issuer.backend() {
            IssuerDb::Sqlite(db) => db.write(move |c| store::erase(c, &id, now)).await,
            IssuerDb::Postgres(pg) => crate::store_pg::erase(pg, &id, now).await,
        }
    }

    /// Erase the personal data of declarations arriving before `cutoff`.
    pub async fn purge_before(&self, cutoff: String, now: i64) -> Result<usize, AppError> {
        match self.issuer.backend() {
            IssuerDb::Sqlite(db) => {
                db.write(move |c| store::purge_before(c, &cutoff, now))
                    .await
            }
            IssuerDb::Postgres(pg) => crate::store_pg::purge_before(pg, &cutoff, now).await,
        }
    }

    /// One declaration (erased ones too).
    pub async fn get(&self, id: String) -> Result<Option<Row>, AppError> {
        match self.issuer.backend() {
            IssuerDb::Sqlite(db) => db.read(move |c| store::get(c, &id)).await,
            IssuerDb::Postgres(pg) => crate::store_pg::get(pg, &id).await,
        }
    }

    /// Close the store (after the listeners have drained).
    pub fn close(&self) {
        self.issuer.close();
    }
}
