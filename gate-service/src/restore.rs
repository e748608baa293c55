//! A gate started on a restored backup.
//!
//! A backup (`egate backup`, [`crate::db::backup`]) marks its copy with the time it was
//! taken. A gate that starts on such a copy has lost every one-time-use record written
//! after that time, so until it has pulled every issuer's revocation feed again — which
//! holds the uses gates reported ([`crate::reports`]) — it cannot tell a fresh token from
//! one used in the lost period. Meanwhile a token issued before the restore gets the RED
//! reason `gate.restore_unconfirmed` (the passenger goes to the counter; nothing is
//! accepted blind). Tokens issued after the restore cannot have been used before it and
//! pass as usual. Once every issuer answered, the gate records the confirmation and
//! works normally; a restart does not bring the guard back.

use crate::AppState;
use crate::db::{META_BACKUP_TAKEN_AT, META_RESTORE_CONFIRMED_AT, META_RESTORED_AT};
use rusqlite::OptionalExtension as _;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};

/// What the gate knows about a restore (for `/healthz` and the scan decision).
#[derive(Debug, Default)]
pub struct RestoreGuard {
    pending: AtomicBool,
    /// When the restored backup was taken (unix s), if this database is one.
    pub backup_taken_at: Option<i64>,
    /// When a gate first started on it.
    pub restored_at: Option<i64>,
}

/// `/healthz` view of the guard.
#[derive(Debug, Serialize)]
pub struct RestoreStatus {
    /// Tokens issued before `restored_at` go to the red lane until the issuers answered.
    pub awaiting_issuers: bool,
    /// When the restored backup was taken.
    pub backup_taken_at: Option<i64>,
    /// When the gate started on it.
    pub restored_at: Option<i64>,
}

fn meta(c: &rusqlite::Connection, key: &str) -> rusqlite::Result<Option<i64>> {
    c.query_row("SELECT value FROM gate_meta WHERE key = ?1", [key], |r| {
        r.get(0)
    })
    .optional()
}

impl RestoreGuard {
    /// Read (and on the first start after a restore, record) the restore state, inside
    /// the gate's write connection at start-up.
    pub fn load(c: &rusqlite::Connection, now: i64) -> rusqlite::Result<RestoreGuard> {
        let Some(taken) = meta(c, META_BACKUP_TAKEN_AT)? else {
            return Ok(RestoreGuard::default());
        };
        let restored_at = match meta(c, META_RESTORED_AT)? {
            Some(t) => t,
            None => {
                c.execute(
                    "INSERT INTO gate_meta (key, value) VALUES (?1, ?2)",
                    (META_RESTORED_AT, now),
                )?;
                now
            }
        };
        let confirmed = meta(c, META_RESTORE_CONFIRMED_AT)?.is_some();
        Ok(RestoreGuard {
            pending: AtomicBool::new(!confirmed),
            backup_taken_at: Some(taken),
            restored_at: Some(restored_at),
        })
    }

    /// Whether a token issued at `iat` must wait for the issuers' feeds.
    pub fn holds(&self, iat: i64) -> bool {
        self.pending.load(Ordering::Acquire) && self.restored_at.is_some_and(|r| iat < r)
    }

    /// Whether the gate still waits for the issuers.
    pub fn pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// The `/healthz` view.
    pub fn status(&self) -> RestoreStatus {
        RestoreStatus {
            awaiting_issuers: self.pending(),
            backup_taken_at: self.backup_taken_at,
            restored_at: self.restored_at,
        }
    }
}

/// Called after a refresh in which every issuer's revocation feed was pulled: record the
/// confirmation and lift the guard.
pub async fn confirm(state: &AppState) {
    if !state.restore.pending() {
        return;
    }
    let now = state.clock.unix();
    let written = state
        .db
        .write(move |c| -> Result<(), shared::db::DbError> {
            c.execute(
                "INSERT INTO gate_meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO NOTHING",
                (META_RESTORE_CONFIRMED_AT, now),
            )?;
            Ok(())
        })
        .await;
    match written {
        Ok(()) => {
            state.restore.pending.store(false, Ordering::Release);
            tracing::warn!(
                backup.taken_at = state.restore.backup_taken_at,
                restore.at = state.restore.restored_at,
                "restored gate: every issuer's revocations pulled again; tokens issued before the restore are accepted again"
            );
        }
        Err(e) => tracing::error!(error = %e, "failed to record the restore confirmation"),
    }
}
