//! PostgreSQL storage for the issuers (docs/storage.md, "PostgreSQL"): a connection pool
//! (deadpool-postgres over tokio-postgres), migrations with refinery, and the feed's
//! change signal from `LISTEN`.
//!
//! Decisions:
//! - every wait is bounded: connecting (3 s), waiting for a pooled connection (5 s),
//!   TCP keepalives and a user timeout (10 s) for a server that vanished, and a
//!   statement timeout (15 s). A database that is down or restarting fails a request
//!   with [`DbError::Unavailable`] (the services answer 503 with `Retry-After`), never a
//!   hang; the pool opens new connections on its own once the server is back.
//! - migrations run under an advisory lock, so instances starting together on one
//!   database apply them once;
//! - the feed's wake-up is `NOTIFY` sent by every transaction that appends to the feed
//!   (delivered at its commit, to every instance): one listening connection per process
//!   bumps a watch signal. When that connection is lost it reconnects (backing off) and
//!   bumps the signal once reconnected, so waiters read again whatever was committed
//!   meanwhile.

use crate::db::DbError;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio_postgres::{AsyncMessage, NoTls};

/// The notification channel of the revocation feed.
pub const FEED_CHANNEL: &str = "egate_feed";
/// Connections kept per process.
pub const POOL_SIZE: usize = 16;
/// Longest wait for a new connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest wait for a pooled connection.
const POOL_WAIT: Duration = Duration::from_secs(5);
/// Longest a server may stay silent on an open connection (keepalives, TCP user timeout).
const SILENT_SERVER: Duration = Duration::from_secs(10);
/// `Retry-After` of a request failed because the database is unavailable, seconds.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 2;
/// Advisory lock key held while migrating.
const MIGRATION_LOCK: i64 = 0x6567_6174_655f_6d67; // "egate_mg"

/// A PostgreSQL migration: a refinery name (`V<n>__<name>`) and its SQL.
pub type PgMigration = (&'static str, &'static str);

/// Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// A pool of connections to one PostgreSQL database. Cheap to clone.
#[derive(Clone)]
pub struct PgDb {
    pool: Pool,
    feed: Arc<watch::Sender<u64>>,
    listener: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl std::fmt::Debug for PgDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it may carry a password.
        f.debug_struct("PgDb").finish_non_exhaustive()
    }
}

fn config_of(url: &str) -> Result<tokio_postgres::Config, DbError> {
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| DbError::Config(format!("EGATE_DATABASE_URL: {e}")))?;
    config
        .connect_timeout(CONNECT_TIMEOUT)
        .keepalives(true)
        .keepalives_idle(SILENT_SERVER / 2)
        .tcp_user_timeout(SILENT_SERVER)
        .options("-c statement_timeout=15000 -c idle_in_transaction_session_timeout=30000")
        .application_name("egate");
    Ok(config)
}

impl PgDb {
    /// Connect to `url`, apply `migrations` (in order, once, under an advisory lock)
    /// and start the feed listener. Fails when the database cannot be reached.
    pub async fn connect(url: &str, migrations: &[PgMigration]) -> Result<PgDb, DbError> {
        let config = config_of(url)?;
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .timeouts(Timeouts {
                wait: Some(POOL_WAIT),
                create: Some(CONNECT_TIMEOUT),
                recycle: Some(CONNECT_TIMEOUT),
            })
            .build()
            .map_err(|e| DbError::Config(e.to_string()))?;
        let db = PgDb {
            pool,
            feed: Arc::new(watch::channel(0).0),
            listener: Arc::default(),
        };
        db.migrate(migrations).await?;
        let task = tokio::spawn(listen(config, Arc::clone(&db.feed)));
        if let Ok(mut l) = db.listener.lock() {
            *l = Some(task);
        }
        Ok(db)
    }

    async fn migrate(&self, migrations: &[PgMigration]) -> Result<(), DbError> {
        let list = migrations
            .iter()
            .map(|(name, sql)| refinery::Migration::unapplied(name, sql))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| DbError::PgMigration(e.to_string()))?;
        let mut client = self.client().await?;
        client
            .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        let ran = refinery::Runner::new(&list)
            .set_abort_divergent(true)
            .run_async(&mut **client)
            .await
            .map_err(|e| DbError::PgMigration(e.to_string()));
        client
            .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
            .await?;
        ran.map(|_| ())
    }

    /// A connection from the pool ([`DbError::Unavailable`] when none can be had in
    /// time).
    pub async fn client(&self) -> Result<deadpool_postgres::Object, DbError> {
        self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => DbError::from(e),
            other => DbError::Unavailable(other.to_string()),
        })
    }

    /// The feed's change signal: moves on after each commit that appended to the feed
    /// (from any instance), and after the listener reconnects.
    pub fn feed_signal(&self) -> Arc<watch::Sender<u64>> {
        Arc::clone(&self.feed)
    }

    /// Stop the listener and close the pool (in-flight requests finish first: the
    /// services call this after their listeners have drained).
    pub fn close(&self) {
        if let Some(task) = self.listener.lock().ok().and_then(|mut l| l.take()) {
            task.abort();
        }
        self.pool.close();
    }
}

/// The listening connection: `LISTEN egate_feed`, each notification bumps `signal`;
/// on loss, reconnect with back-off and bump once listening again.
async fn listen(config: tokio_postgres::Config, signal: Arc<watch::Sender<u64>>) {
    let mut backoff = Duration::from_millis(200);
    loop {
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
                let driver = tokio::spawn(async move {
                    loop {
                        match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                            Some(Ok(AsyncMessage::Notification(_))) => {
                                if tx.send(()).is_err() {
                                    break;
                                }
                            }
                            Some(Ok(_)) => {}
                            Some(Err(_)) | None => break,
                        }
                    }
                });
                if client
                    .batch_execute(&format!("LISTEN {FEED_CHANNEL}"))
                    .await
                    .is_ok()
                {
                    backoff = Duration::from_millis(200);
                    // Whatever was committed while not listening is read again.
                    signal.send_modify(|n| *n = n.wrapping_add(1));
                    while rx.recv().await.is_some() {
                        signal.send_modify(|n| *n = n.wrapping_add(1));
                    }
                }
                driver.abort();
                tracing::warn!("feed listener lost its database connection; reconnecting");
            }
            Err(e) => {
                tracing::warn!(db.error = %e, "feed listener cannot connect; retrying");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// For tests: a fresh, empty database on the test server.
#[cfg(any(test, feature = "testing"))]
pub mod testing {
    /// The variable naming the test server (a maintenance database URL).
    pub const TEST_URL_VAR: &str = "EGATE_TEST_DATABASE_URL";

    /// The URL of a new database of its own on the server named by
    /// `EGATE_TEST_DATABASE_URL` (`scripts/test.sh` starts one and sets it). Panics,
    /// saying why, when it is not set or the server cannot be reached: the PostgreSQL
    /// tests never skip.
    pub async fn fresh_database() -> String {
        let Ok(base) = std::env::var(TEST_URL_VAR) else {
            panic!(
                "{TEST_URL_VAR} is not set: the PostgreSQL tests need a server. Run \
                 bash scripts/test.sh (it installs Debian's postgresql and starts a \
                 throw-away cluster), or set {TEST_URL_VAR}=postgres://user@host:port/postgres"
            );
        };
        let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("{TEST_URL_VAR}: cannot connect to the test server: {e}"));
        tokio::spawn(connection);
        let name = format!(
            "egate_t_{}",
            hex::encode(crate::web::random_bytes::<8>().expect("system RNG"))
        );
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("cannot create the test database: {e}"));
        let (head, _) = base.rsplit_once('/').expect("a URL with a database name");
        format!("{head}/{name}")
    }
}
