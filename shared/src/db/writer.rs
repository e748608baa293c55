//! The writer thread (group commit, the WAL kept near its limit) and the checkpointer.

use super::{BUSY_TIMEOUT, CHECKPOINT_EVERY, DbError, Finish, Job, MAX_BATCH, open_connection};
use rusqlite::{Connection, TransactionBehavior};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Every [`CHECKPOINT_EVERY`], copy committed WAL frames into the database file
/// (PASSIVE: never waits for, nor blocks, the writer or readers); a final TRUNCATE
/// checkpoint when the database closes. (The writer restarts the WAL itself when it has
/// grown past its limit: [`writer_loop`].)
pub(super) fn spawn_checkpointer(
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

pub(super) fn run_in_savepoint<T, E, F>(conn: &Connection, f: F) -> Result<T, E>
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
pub(super) fn writer_loop(
    mut conn: Connection,
    mut rx: mpsc::UnboundedReceiver<Job>,
    wal: PathBuf,
    wal_limit: u64,
    changes: &super::changes::Changes,
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
        // Followers are woken once the batch is durable (before its callers hear of it,
        // so a caller that then asks a follower sees the signal already moved).
        changes.batch_done(shared_err.is_none());
        for finish in finishers {
            finish(match &shared_err {
                None => Ok(()),
                Some(e) => Err(DbError::CommitFailed(e.clone())),
            });
        }
        let wal_len = std::fs::metadata(&wal).map_or(0, |m| m.len());
        #[cfg(test)]
        super::tests::after_commit(&wal, wal_len);
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
