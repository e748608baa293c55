//! SQLite storage: one file per service, the pragmas of docs/storage.md, embedded ordered
//! migrations, and access that never blocks the async runtime.
//!
//! Writes go to one dedicated writer thread that practises **group commit**: it takes
//! every write waiting in its queue, runs each in its own SAVEPOINT inside one
//! `BEGIN IMMEDIATE` transaction, commits once (with `synchronous=FULL`, one fsync),
//! and only then answers each caller. A write whose closure fails is rolled back to its
//! savepoint alone; a failed commit fails every write of the batch. So an acknowledged
//! write is durable, and throughput is not bounded by one fsync per write.
//!
//! Reads run on `spawn_blocking` with a small pool of read-only connections (WAL lets
//! them proceed while the writer commits).

use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{M, Migrations};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

mod changes;
mod files;
mod writer;

pub use files::{
    BACKUP_PAGES_PER_STEP, REPLACED_MARKER, backup_file, backup_file_stepwise,
    remove_replaced_files,
};
use writer::{run_in_savepoint, spawn_checkpointer, writer_loop};

/// Most writes committed together in one transaction.
const MAX_BATCH: usize = 256;
/// How often the checkpointer copies the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// Read connections kept open.
const MAX_READERS: usize = 8;
/// How long a connection waits for a lock before SQLITE_BUSY.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// WAL size above which the writer runs a RESTART checkpoint (and the size the WAL file
/// is truncated back to, `journal_size_limit`); see [`writer_loop`] and RELIABILITY.md, item 7.
pub const WAL_LIMIT_BYTES: u64 = 64 * 1024 * 1024;

/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite said no.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A migration failed.
    #[error("migration: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// The writer thread has stopped (shutdown).
    #[error("the database is closed")]
    Closed,
    /// A blocking task panicked or was cancelled.
    #[error(transparent)]
    Task(#[from] crate::offload::TaskFailed),
    /// The group commit this write was part of failed (every write of the batch fails).
    #[error("commit failed: {0}")]
    CommitFailed(String),
    /// Creating the data directory or the backup failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// PostgreSQL said no ([`crate::pg`]).
    #[error("postgres: {0}")]
    Postgres(tokio_postgres::Error),
    /// The PostgreSQL server cannot be reached or is restarting: the request was not
    /// applied and may be retried (the services answer 503 with `Retry-After`).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A PostgreSQL migration failed.
    #[error("postgres migration: {0}")]
    PgMigration(String),
    /// The database configuration is unusable (a malformed URL).
    #[error("database configuration: {0}")]
    Config(String),
}

impl DbError {
    /// Whether the database was unavailable (down, restarting, unreachable) rather
    /// than refusing the request: worth a retry after [`crate::pg::UNAVAILABLE_RETRY_AFTER_SECS`].
    pub fn is_unavailable(&self) -> bool {
        matches!(self, DbError::Unavailable(_))
    }
}

/// PostgreSQL errors: a lost connection, a refused one, or a server shutting down or
/// starting up is [`DbError::Unavailable`]; anything else stays a database error.
impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> Self {
        let unavailable = e.is_closed()
            || match e.code() {
                // Class 08 (connection exception), 57P01-57P03 (admin shutdown, crash
                // shutdown, cannot connect now), 53300 (too many connections).
                Some(code) => {
                    let c = code.code();
                    c.starts_with("08") || c.starts_with("57P") || c == "53300"
                }
                // No SQLSTATE: an I/O, connect or timeout failure (tokio-postgres's
                // kinds are private; their messages are stable).
                None => {
                    let m = e.to_string();
                    [
                        "error communicating",
                        "error connecting",
                        "timeout",
                        "connection closed",
                    ]
                    .iter()
                    .any(|p| m.starts_with(p))
                }
            };
        if unavailable {
            DbError::Unavailable(e.to_string())
        } else {
            DbError::Postgres(e)
        }
    }
}

/// A migration: a name (for the reader of the code and the logs) and its SQL.
pub type Migration = (&'static str, &'static str);

type Finish = Box<dyn FnOnce(Result<(), DbError>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Finish + Send>;

/// A handle to one SQLite database file. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Option<mpsc::UnboundedSender<Job>>>,
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    readers: Mutex<Vec<Connection>>,
    changes: Arc<changes::Changes>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("path", &self.inner.path)
            .finish()
    }
}

/// Set the per-connection pragmas.
fn init_connection(conn: &Connection) -> Result<(), rusqlite::Error> {
    // Wait for a lock rather than fail with SQLITE_BUSY (the writer is one thread, but
    // operator tools such as backup may hold a lock briefly).
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Referential integrity is enforced per connection in SQLite, off by default.
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // An acknowledged write (declaration, one-time use, outcome) must survive power
    // loss: FULL syncs the WAL on every commit.
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Keep temporary b-trees in memory; they never hold anything durable.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Erasure must erase: without it, a row deleted or a column set to NULL stays in
    // the page's free space and in freed pages, readable in the file's bytes. With it,
    // SQLite overwrites deleted content with zeros (per connection, so set on each).
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(())
}

/// Make the database file at `conn` use `auto_vacuum = INCREMENTAL`, so that
/// [`Db::erase_leftovers`] can hand freed pages back to the file system (a free page
/// left in the file is where erased data would otherwise linger). A new database gets
/// it before its first table; an existing one needs a full `VACUUM` to switch, done
/// here once at open (before the migrations and the writer, with no other connection of
/// this process; the mode is stored in the file, so later opens skip it).
fn ensure_incremental_auto_vacuum(conn: &Connection) -> Result<(), rusqlite::Error> {
    const INCREMENTAL: i64 = 2;
    let mode: i64 = conn.query_row("PRAGMA auto_vacuum", [], |r| r.get(0))?;
    if mode == INCREMENTAL {
        return Ok(());
    }
    conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    if tables > 0 {
        tracing::info!("switching the database to incremental auto-vacuum (one VACUUM)");
        conn.execute_batch("VACUUM")?;
    }
    Ok(())
}

fn open_connection(path: &Path, read_only: bool) -> Result<Connection, rusqlite::Error> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    };
    let conn = Connection::open_with_flags(path, flags)?;
    init_connection(&conn)?;
    Ok(conn)
}

impl Db {
    /// Open (creating if needed) the database at `path`, switch it to WAL, apply the
    /// migrations in order, and start the writer thread. Blocking: call it at start-up
    /// (or inside `spawn_blocking`).
    pub fn open(path: &Path, migrations: &[Migration]) -> Result<Db, DbError> {
        Db::open_with_wal_limit(path, migrations, WAL_LIMIT_BYTES)
    }

    /// [`Db::open`] with another WAL size limit (tests, tuning).
    pub fn open_with_wal_limit(
        path: &Path,
        migrations: &[Migration],
        wal_limit: u64,
    ) -> Result<Db, DbError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        // The database holds personal data: create it readable by this user only.
        // SQLite gives the -wal and -shm files the same permissions as the database.
        {
            use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(path)?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
        let mut conn = open_connection(path, false)?;
        ensure_incremental_auto_vacuum(&conn)?;
        // WAL: readers never block the writer and vice versa; persistent, set once.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let ms = Migrations::new(
            migrations
                .iter()
                .map(|(name, sql)| M::up(sql).comment(name))
                .collect(),
        );
        ms.to_latest(&mut conn)?;
        // Checkpoints run on their own thread, not in the writer's commit path: an
        // automatic checkpoint inside a commit stalls every write waiting behind it
        // (the tail latency of the scan path). PASSIVE checkpoints never block writers.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        // When the writer wraps the WAL after a complete checkpoint, it truncates the
        // file back to this size (else the file keeps its largest size on disk).
        let limit = i64::try_from(wal_limit).unwrap_or(i64::MAX);
        conn.pragma_update(None, "journal_size_limit", limit)?;
        // Every row change the writer makes, for the change signals (`Db::changes`).
        let changes = Arc::new(changes::Changes::default());
        let seen = Arc::clone(&changes);
        conn.update_hook(Some(move |_, _: &str, table: &str, _| {
            seen.row_changed(table)
        }))?;
        let (tx, rx) = mpsc::unbounded_channel::<Job>();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let checkpointer = spawn_checkpointer(path.to_owned(), stop.clone(), wal_limit)?;
        let wal = PathBuf::from(format!("{}-wal", path.display()));
        let committed = Arc::clone(&changes);
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                writer_loop(conn, rx, wal, wal_limit, &committed);
                stop.store(true, std::sync::atomic::Ordering::Release);
                let _ = checkpointer.join();
            })?;
        Ok(Db {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(Some(tx)),
                writer_thread: Mutex::new(Some(thread)),
                readers: Mutex::new(Vec::new()),
                changes,
            }),
        })
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Run `f` in a write transaction (`BEGIN IMMEDIATE`, its own savepoint, group
    /// commit). Returns after the commit is durable. If `f` returns `Err`, its changes
    /// are rolled back and the error is returned.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (reply, wait) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |conn: &Connection| -> Finish {
            let result = run_in_savepoint(conn, f);
            Box::new(move |commit: Result<(), DbError>| {
                let out = match (result, commit) {
                    (Ok(v), Ok(())) => Ok(v),
                    (Ok(_), Err(e)) => Err(E::from(e)),
                    (Err(e), _) => Err(e),
                };
                let _ = reply.send(out);
            })
        });
        {
            let guard = self
                .inner
                .writer
                .lock()
                .map_err(|_| E::from(DbError::Closed))?;
            let sender = guard.as_ref().ok_or(E::from(DbError::Closed))?;
            sender.send(job).map_err(|_| E::from(DbError::Closed))?;
        }
        wait.await.map_err(|_| E::from(DbError::Closed))?
    }

    /// The change signal of `table`: its value moves on after each committed batch of
    /// writes that changed a row of it (module `changes`). Subscribe before reading,
    /// then wait for `changed()`: a commit between the read and the wait is not missed.
    /// Its receiver count is the number of callers following the table now. Only rowid
    /// tables are seen (SQLite's update hook skips `WITHOUT ROWID` ones), and only writes
    /// through this handle (not another process's).
    pub fn changes(&self, table: &str) -> Arc<tokio::sync::watch::Sender<u64>> {
        self.inner.changes.signal(table)
    }

    /// Run `f` on a read-only connection off the async runtime.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let this = self.clone();
        crate::offload::blocking(move || {
            let conn = this.take_reader().map_err(E::from)?;
            let out = f(&conn);
            this.put_reader(conn);
            out
        })
        .await
        .map_err(|e| E::from(DbError::from(e)))?
    }

    fn take_reader(&self) -> Result<Connection, DbError> {
        if let Some(c) = self.inner.readers.lock().ok().and_then(|mut r| r.pop()) {
            return Ok(c);
        }
        Ok(open_connection(&self.inner.path, true)?)
    }

    fn put_reader(&self, conn: Connection) {
        if let Ok(mut r) = self.inner.readers.lock()
            && r.len() < MAX_READERS
        {
            r.push(conn);
        }
    }

    /// Copy the live database to `dest` with SQLite's online backup API (consistent
    /// even while writes go on; never a file copy).
    pub async fn backup_to(&self, dest: &Path) -> Result<(), DbError> {
        let src_path = self.inner.path.clone();
        let dest = dest.to_owned();
        crate::offload::blocking(move || backup_file(&src_path, &dest)).await?
    }

    /// After an erasure or a purge: hand the free pages back to the file system
    /// (`PRAGMA incremental_vacuum`, through the writer) and copy the WAL into the file
    /// and truncate it (`wal_checkpoint(TRUNCATE)`), so that erased data lingers neither
    /// in free pages nor in old WAL frames. `secure_delete` has already zeroed the
    /// content in the database pages. Returns whether the checkpoint completed (readers
    /// can keep it from completing; the next call tries again).
    pub async fn erase_leftovers(&self) -> Result<bool, DbError> {
        self.write(|c| {
            c.execute_batch("PRAGMA incremental_vacuum")?;
            Ok::<_, DbError>(())
        })
        .await?;
        let path = self.inner.path.clone();
        crate::offload::blocking(move || -> Result<bool, DbError> {
            let conn = open_connection(&path, false)?;
            let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
            Ok(busy == 0)
        })
        .await?
    }

    /// Stop the writer thread after it has committed every queued write. Later writes
    /// fail with [`DbError::Closed`]; reads still work.
    pub fn close(&self) {
        if let Ok(mut w) = self.inner.writer.lock() {
            w.take();
        }
        let handle = self
            .inner
            .writer_thread
            .lock()
            .ok()
            .and_then(|mut t| t.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests;
