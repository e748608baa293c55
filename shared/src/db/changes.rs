//! Change signals: a `tokio::sync::watch` per table that a caller asked to follow
//! ([`super::Db::changes`]), bumped by the writer thread **after** the commit of a batch
//! that inserted, updated or deleted rows of that table.
//!
//! Why here: every write goes through the one writer connection, so its SQLite update
//! hook sees every row change whoever wrote it (a service's own transaction, the shared
//! issuer store), and the writer knows when the batch is durable. A waiter subscribes,
//! reads, and sleeps on the watch: it never polls the database. A change rolled back to
//! its savepoint (a failed write of the batch) still wakes the waiters once: they read
//! again, find nothing new and wait again. A failed commit wakes nobody. Limits: SQLite's
//! update hook skips `WITHOUT ROWID` tables, and writes by another process (an operator
//! tool on the file) are not seen: a follower learns of them at its next read.

use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// The followed tables and which of them the current batch changed.
#[derive(Default)]
pub(super) struct Changes {
    tables: Mutex<Vec<Followed>>,
}

struct Followed {
    table: String,
    changed: bool,
    signal: Arc<watch::Sender<u64>>,
}

impl Changes {
    /// The signal of `table`, made on first use (one per database and table).
    pub(super) fn signal(&self, table: &str) -> Arc<watch::Sender<u64>> {
        let Ok(mut tables) = self.tables.lock() else {
            return Arc::new(watch::channel(0).0);
        };
        if let Some(f) = tables.iter().find(|f| f.table == table) {
            return Arc::clone(&f.signal);
        }
        let signal = Arc::new(watch::channel(0).0);
        tables.push(Followed {
            table: table.to_owned(),
            changed: false,
            signal: Arc::clone(&signal),
        });
        signal
    }

    /// From the update hook (writer thread): a row of `table` changed.
    pub(super) fn row_changed(&self, table: &str) {
        if let Ok(mut tables) = self.tables.lock()
            && let Some(f) = tables.iter_mut().find(|f| f.table == table)
        {
            f.changed = true;
        }
    }

    /// After the batch's commit (`committed`: it succeeded): wake the followers of each
    /// table it changed.
    pub(super) fn batch_done(&self, committed: bool) {
        let Ok(mut tables) = self.tables.lock() else {
            return;
        };
        for f in tables.iter_mut().filter(|f| f.changed) {
            f.changed = false;
            if committed {
                f.signal.send_modify(|n| *n = n.wrapping_add(1));
            }
        }
    }
}
