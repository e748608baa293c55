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

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use rusqlite_migration::{M, Migrations};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

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
    #[error("background task failed: {0}")]
    Task(String),
    /// Creating the data directory or the backup failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
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
        let (tx, rx) = mpsc::unbounded_channel::<Job>();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let checkpointer = spawn_checkpointer(path.to_owned(), stop.clone(), wal_limit)?;
        let wal = PathBuf::from(format!("{}-wal", path.display()));
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                writer_loop(conn, rx, wal, wal_limit);
                stop.store(true, std::sync::atomic::Ordering::Release);
                let _ = checkpointer.join();
            })?;
        Ok(Db {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(Some(tx)),
                writer_thread: Mutex::new(Some(thread)),
                readers: Mutex::new(Vec::new()),
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

    /// Run `f` on a read-only connection off the async runtime.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let this = self.clone();
        blocking(move || {
            let conn = this.take_reader().map_err(E::from)?;
            let out = f(&conn);
            this.put_reader(conn);
            out
        })
        .await
        .map_err(E::from)?
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
        blocking(move || backup_file(&src_path, &dest)).await?
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
        blocking(move || -> Result<bool, DbError> {
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

/// Every [`CHECKPOINT_EVERY`], copy committed WAL frames into the database file
/// (PASSIVE: never waits for, nor blocks, the writer or readers); a final TRUNCATE
/// checkpoint when the database closes. (The writer restarts the WAL itself when it has
/// grown past its limit: [`writer_loop`].)
fn spawn_checkpointer(
    path: PathBuf,
    stop: Arc<std::sync::atomic::AtomicBool>,
    wal_limit: u64,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let conn = match open_connection(&path, false) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(db.error = %e, "checkpointer cannot open the database");
                    return;
                }
            };
            let limit = i64::try_from(wal_limit).unwrap_or(i64::MAX);
            let _ = conn.pragma_update(None, "journal_size_limit", limit);
            while !stop.load(std::sync::atomic::Ordering::Acquire) {
                std::thread::sleep(CHECKPOINT_EVERY);
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(db.error = %e, "passive checkpoint failed");
                }
            }
            let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        })
}

/// The marker `egate restore` puts in the name of a file it moves aside:
/// `<db>[-wal|-shm].replaced-<unix seconds>`.
pub const REPLACED_MARKER: &str = ".replaced-";

/// Remove the files `egate restore` moved aside for the database at `db_path`
/// (`<name>*.replaced-<unix seconds>`) that were moved before `cutoff` (unix seconds):
/// they hold personal data as it was, which the retention period also covers. Returns
/// the number removed. A file whose stamp does not parse is left alone.
pub fn remove_replaced_files(db_path: &Path, cutoff: i64) -> std::io::Result<usize> {
    let Some(name) = db_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
    else {
        return Ok(0);
    };
    let dir = match db_path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&name) else {
            continue;
        };
        let Some((suffix, stamp)) = rest.split_once(REPLACED_MARKER) else {
            continue;
        };
        if !matches!(suffix, "" | "-wal" | "-shm") {
            continue;
        }
        if stamp.parse::<i64>().is_ok_and(|t| t < cutoff) {
            std::fs::remove_file(entry.path())?;
            tracing::info!(file = %file, "removed a database file restore moved aside");
            removed += 1;
        }
    }
    Ok(removed)
}

/// Pages an online backup copies per step (writers get the database between steps).
pub const BACKUP_PAGES_PER_STEP: i32 = 256;

/// Online backup of the database file at `src` into a new file `dest` (blocking).
pub fn backup_file(src: &Path, dest: &Path) -> Result<(), DbError> {
    backup_file_stepwise(src, dest, BACKUP_PAGES_PER_STEP, |_| {})
}

/// [`backup_file`], copying `pages_per_step` pages per step and calling `between_steps`
/// with the progress after every step that left pages to copy, before the next one. A
/// write committed by another connection between two steps makes SQLite start the copy
/// over, so the backup holds it (tests write there to overlap a backup for certain).
pub fn backup_file_stepwise(
    src: &Path,
    dest: &Path,
    pages_per_step: i32,
    mut between_steps: impl FnMut(rusqlite::backup::Progress),
) -> Result<(), DbError> {
    use rusqlite::backup::StepResult;
    let src = open_connection(src, true)?;
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    // A copy of personal data: readable by this user only, like the original.
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(dest)?;
        std::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o600))?;
    }
    let mut dst = Connection::open(dest)?;
    {
        let backup = rusqlite::backup::Backup::new(&src, &mut dst)?;
        loop {
            match backup.step(pages_per_step)? {
                StepResult::Done => break,
                StepResult::More => between_steps(backup.progress()),
                _ => {}
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let ok: String = dst.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if ok != "ok" {
        return Err(DbError::Sqlite(rusqlite::Error::InvalidQuery));
    }
    Ok(())
}

fn run_in_savepoint<T, E, F>(conn: &Connection, f: F) -> Result<T, E>
where
    F: FnOnce(&Connection) -> Result<T, E>,
    E: From<DbError>,
{
    conn.execute_batch("SAVEPOINT job")
        .map_err(|e| E::from(DbError::from(e)))?;
    let result = f(conn);
    let end = if result.is_ok() {
        "RELEASE job"
    } else {
        "ROLLBACK TO job; RELEASE job"
    };
    if let Err(e) = conn.execute_batch(end) {
        return Err(E::from(DbError::from(e)));
    }
    result
}

/// The writer thread: group commit (module doc), and the WAL kept near `wal_limit`.
///
/// Under continuous commits the checkpointer's PASSIVE checkpoints never find the WAL
/// fully copied at the moment a write starts, so the WAL would never wrap and would grow
/// by gigabytes. So when, after a commit, the WAL file is over its limit, the writer runs
/// a RESTART checkpoint itself between two batches (the PASSIVE ones have already copied
/// most frames): it copies the rest and waits, at most [`RESTART_WAIT`], for the readers
/// to leave the WAL, after which the next write starts the WAL over (and truncates the
/// file to the limit). Writes wait meanwhile; after an attempt that readers kept from
/// completing, the next one waits a second.
fn writer_loop(
    mut conn: Connection,
    mut rx: mpsc::UnboundedReceiver<Job>,
    wal: PathBuf,
    wal_limit: u64,
) {
    // After a checkpoint that could not complete (readers), wait before the next try.
    let mut retry_at = std::time::Instant::now();
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                let msg = e.to_string();
                tracing::error!(db.error = %msg, "failed to begin write transaction");
                for job in jobs {
                    // Run nothing; fail every caller.
                    drop(job);
                }
                continue;
            }
        };
        let finishers: Vec<Finish> = jobs.into_iter().map(|job| job(&tx)).collect();
        let commit = tx.commit().map_err(DbError::from);
        let shared_err = commit.as_ref().err().map(|e| e.to_string());
        if let Some(e) = &shared_err {
            tracing::error!(db.error = %e, "write transaction failed to commit");
        }
        for finish in finishers {
            finish(match &shared_err {
                None => Ok(()),
                Some(e) => Err(DbError::Task(format!("commit failed: {e}"))),
            });
        }
        let wal_len = std::fs::metadata(&wal).map_or(0, |m| m.len());
        #[cfg(test)]
        tests::after_commit(&wal, wal_len);
        if std::time::Instant::now() >= retry_at
            && wal_len > wal_limit
            && matches!(restart_wal(&conn), Restart::Later)
        {
            retry_at = std::time::Instant::now() + Duration::from_secs(1);
        }
    }
    // Channel closed: connection drops here, which checkpoints the WAL when last.
    let _ = conn.execute_batch("PRAGMA optimize");
}

/// Longest a RESTART checkpoint waits for readers (the writer's queue waits meanwhile).
const RESTART_WAIT: Duration = Duration::from_millis(200);

/// How a RESTART checkpoint went.
enum Restart {
    Done,
    Again,
    Later,
}

/// A RESTART checkpoint with a short wait.
fn restart_wal(conn: &Connection) -> Restart {
    let started = std::time::Instant::now();
    let _ = conn.busy_timeout(RESTART_WAIT);
    let result = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    });
    let _ = conn.busy_timeout(BUSY_TIMEOUT);
    match result {
        Ok((busy, frames)) => {
            tracing::debug!(
                db.checkpoint_busy = busy,
                db.wal_frames = frames,
                db.checkpoint_ms = started.elapsed().as_millis() as u64,
                "WAL over its limit: restart checkpoint"
            );
            match (busy, frames) {
                (0, _) => Restart::Done,
                // The checkpointer thread holds the checkpoint lock: try after the next batch.
                (_, -1) => Restart::Again,
                // Readers kept it from completing.
                _ => Restart::Later,
            }
        }
        Err(e) => {
            tracing::warn!(db.error = %e, "restart checkpoint failed");
            Restart::Later
        }
    }
}

/// Run blocking work (SQLite, ring, qrcode, image, argon2) on tokio's blocking pool,
/// keeping the caller's tracing span.
pub async fn blocking<T, F>(f: F) -> Result<T, DbError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f))
        .await
        .map_err(|e| DbError::Task(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Per WAL file: commits seen by the writer and the largest WAL size right after one.
    static AFTER_COMMIT: Mutex<BTreeMap<PathBuf, (u64, u64)>> = Mutex::new(BTreeMap::new());

    /// Called by the writer after each commit, before its own WAL check: the WAL only
    /// grows during a commit, so this sees every peak.
    pub(super) fn after_commit(wal: &Path, len: u64) {
        let mut seen = AFTER_COMMIT.lock().unwrap();
        let e = seen.entry(wal.to_owned()).or_default();
        e.0 += 1;
        e.1 = e.1.max(len);
    }

    const MIGRATIONS: &[Migration] = &[
        (
            "create t",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE);",
        ),
        (
            "add n",
            "ALTER TABLE t ADD COLUMN n INTEGER NOT NULL DEFAULT 0;",
        ),
    ];

    #[derive(Debug)]
    enum E {
        Db(#[expect(dead_code, reason = "shown by Debug in failures")] DbError),
        App,
    }
    impl From<DbError> for E {
        fn from(e: DbError) -> Self {
            E::Db(e)
        }
    }
    impl From<rusqlite::Error> for E {
        fn from(e: rusqlite::Error) -> Self {
            E::Db(e.into())
        }
    }

    fn count(db_path: &Path) -> i64 {
        let c = Connection::open(db_path).unwrap();
        c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    #[tokio::test]
    async fn migrations_apply_once_and_pragmas_are_set() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/a.db");
        let db = Db::open(&path, MIGRATIONS).unwrap();
        let (mode, sync, fk): (String, i64, i64) = db
            .read(|c| {
                Ok::<_, DbError>((
                    c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                    c.query_row("PRAGMA synchronous", [], |r| r.get(0))?,
                    c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "synchronous=FULL");
        assert_eq!(fk, 1);
        use std::os::unix::fs::MetadataExt as _;
        for f in ["a.db", "a.db-wal"] {
            let mode = std::fs::metadata(dir.path().join("sub").join(f))
                .unwrap()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{f} holds personal data");
        }
        db.close();
        // Re-opening applies nothing twice.
        let db = Db::open(&path, MIGRATIONS).unwrap();
        let v: i64 = db
            .read(|c| {
                c.query_row("PRAGMA user_version", [], |r| r.get(0))
                    .map_err(DbError::from)
            })
            .await
            .unwrap();
        assert_eq!(v, 2);
    }

    #[tokio::test]
    async fn erased_rows_leave_no_bytes_in_the_file_or_the_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.db");
        // An existing database made without auto_vacuum: switched at open.
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch("CREATE TABLE old (x TEXT); INSERT INTO old VALUES ('x');")
                .unwrap();
        }
        let db = Db::open(&path, MIGRATIONS).unwrap();
        let (secure, vacuum): (i64, i64) = db
            .read(|c| {
                Ok::<_, DbError>((
                    c.query_row("PRAGMA secure_delete", [], |r| r.get(0))?,
                    c.query_row("PRAGMA auto_vacuum", [], |r| r.get(0))?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(
            (secure, vacuum),
            (1, 2),
            "secure_delete on, auto_vacuum incremental"
        );
        let secret = "ZQXJ-PASSPORT-4711";
        db.write(move |c| {
            for i in 0..200 {
                c.execute(
                    "INSERT INTO t (v) VALUES (?1)",
                    [format!("{secret}-{i}-{}", "pad".repeat(100))],
                )?;
            }
            Ok::<_, DbError>(())
        })
        .await
        .unwrap();
        db.write(|c| {
            c.execute("DELETE FROM t", [])?;
            Ok::<_, DbError>(())
        })
        .await
        .unwrap();
        assert!(db.erase_leftovers().await.unwrap());
        for f in ["e.db", "e.db-wal"] {
            let bytes = std::fs::read(dir.path().join(f)).unwrap_or_default();
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{f} still holds erased data"
            );
        }
        db.close();
    }

    #[test]
    fn files_restore_moved_aside_go_after_the_cutoff() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("gate.db");
        for f in [
            "gate.db.replaced-100",
            "gate.db-wal.replaced-100",
            "gate.db.replaced-900",
            "other.db.replaced-100",
            "gate.db.replaced-junk",
        ] {
            std::fs::write(dir.path().join(f), b"x").unwrap();
        }
        assert_eq!(remove_replaced_files(&db, 500).unwrap(), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "gate.db.replaced-900",
                "gate.db.replaced-junk",
                "other.db.replaced-100"
            ]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn under_continuous_writes_and_reads_the_wal_stays_near_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let limit = 1024 * 1024;
        let db = Db::open_with_wal_limit(&path, MIGRATIONS, limit).unwrap();
        let wal = dir.path().join("a.db-wal");
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        // A reader that keeps a snapshot open most of the time.
        let reader = {
            let (db, stop) = (db.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _: i64 = db
                        .read(|c| {
                            c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                                .map_err(DbError::from)
                        })
                        .await
                        .unwrap();
                }
            })
        };
        // 4 writers, each committing 4 KiB rows back to back: 12 MiB in all, with
        // never a pause for a PASSIVE checkpoint to find the WAL fully copied.
        let mut writers = Vec::new();
        for w in 0..4 {
            let db = db.clone();
            writers.push(tokio::spawn(async move {
                for i in 0..750 {
                    db.write(move |c| {
                        c.execute(
                            "INSERT INTO t (v) VALUES (?1)",
                            [format!("{w}-{i}-{}", "x".repeat(4096))],
                        )?;
                        Ok::<_, E>(())
                    })
                    .await
                    .unwrap();
                }
            }));
        }
        for w in writers {
            w.await.unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        reader.await.unwrap();
        assert_eq!(count(&path), 3000);
        // The writer measured the WAL after every commit (where it peaks), before its
        // own check: every batch was seen, and none left the WAL far past the limit.
        // Without the RESTART checkpoint the WAL holds every frame: over 12 MiB.
        let (commits, largest) = AFTER_COMMIT.lock().unwrap()[&wal];
        assert!(
            (3000_u64.div_ceil(MAX_BATCH as u64)..=3000).contains(&commits),
            "{commits} commits"
        );
        assert!(
            largest < 8 * limit,
            "the WAL grew to {largest} bytes with a limit of {limit}"
        );
        db.close();
    }

    #[tokio::test]
    async fn a_failed_write_rolls_back_alone_and_others_in_the_batch_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let db = Db::open(&path, MIGRATIONS).unwrap();
        let mut handles = Vec::new();
        for i in 0..100 {
            let db = db.clone();
            handles.push(tokio::spawn(async move {
                db.write(move |c| {
                    c.execute("INSERT INTO t (v) VALUES (?1)", [format!("v{i}")])?;
                    if i % 10 == 0 {
                        return Err(E::App);
                    }
                    Ok(())
                })
                .await
            }));
        }
        let mut ok = 0;
        for h in handles {
            if h.await.unwrap().is_ok() {
                ok += 1;
            }
        }
        assert_eq!(ok, 90);
        // A constraint violation is an error for that write only.
        let dup = db
            .write(|c| {
                c.execute("INSERT INTO t (v) VALUES ('v1')", [])
                    .map_err(DbError::from)
            })
            .await;
        assert!(dup.is_err());
        db.close();
        assert_eq!(count(&path), 90);
    }

    #[tokio::test]
    async fn writes_after_close_fail_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("a.db"), MIGRATIONS).unwrap();
        db.close();
        let r = db
            .write(|c| {
                c.execute("INSERT INTO t (v) VALUES ('x')", [])
                    .map_err(DbError::from)
            })
            .await;
        assert!(matches!(r, Err(DbError::Closed)));
    }

    #[tokio::test]
    async fn online_backup_is_a_consistent_copy() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("a.db"), MIGRATIONS).unwrap();
        for i in 0..50 {
            db.write(move |c| {
                c.execute("INSERT INTO t (v) VALUES (?1)", [i.to_string()])
                    .map_err(DbError::from)
            })
            .await
            .unwrap();
        }
        let dest = dir.path().join("backup/b.db");
        db.backup_to(&dest).await.unwrap();
        assert_eq!(count(&dest), 50);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_committed_between_two_backup_steps_is_in_the_backup() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.db");
        let db = Db::open(&src, MIGRATIONS).unwrap();
        for i in 0..50 {
            db.write(move |c| {
                c.execute(
                    "INSERT INTO t (v) VALUES (?1)",
                    [format!("{i}{}", "x".repeat(2000))],
                )
                .map_err(DbError::from)
            })
            .await
            .unwrap();
        }
        let dest = dir.path().join("b.db");
        let (runtime, writer) = (tokio::runtime::Handle::current(), db.clone());
        let copy = dest.clone();
        let writes_during = blocking(move || {
            let mut writes_during = Vec::new();
            backup_file_stepwise(&src, &copy, 1, |progress| {
                if writes_during.is_empty() {
                    // One page copied, the rest to go: the write overlaps the backup.
                    assert!(progress.remaining > 0, "{progress:?}");
                    runtime
                        .block_on(writer.write(|c| {
                            c.execute("INSERT INTO t (v) VALUES ('during')", [])
                                .map_err(DbError::from)
                        }))
                        .unwrap();
                    writes_during.push(progress.remaining);
                }
            })
            .unwrap();
            writes_during
        })
        .await
        .unwrap();
        assert_eq!(writes_during.len(), 1);
        assert_eq!(
            count(&dest),
            51,
            "the backup holds the write made during it"
        );
        db.close();
    }
}
