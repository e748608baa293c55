//! The gate's SQLite database: one ordered list of migrations (`gate-service/migrations/`,
//! the gate's and the console's tables), and its backup.

use shared::db::{DbError, Migration};
use std::path::Path;

/// The gate database's migrations (the gate's and the console's tables), in the order
/// they run. `PRAGMA user_version` counts how many a database has applied, so a released
/// entry is never edited, removed or moved: a change is a new file appended at the end.
/// `tests/migrations.rs` pins the released ones and upgrades a database made at every
/// earlier version.
pub const MIGRATIONS: &[Migration] = &[
    (
        "0001 scans, used tokens, cases",
        include_str!("../migrations/0001_scans_used_tokens_cases.sql"),
    ),
    (
        "0002 revoked tokens, revocation marks",
        include_str!("../migrations/0002_revocations.sql"),
    ),
    (
        "0003 console: officers, sessions, outcomes, payments, audit",
        include_str!("../migrations/0003_console.sql"),
    ),
    (
        "0004 use reports, gate_meta",
        include_str!("../migrations/0004_use_reports_gate_meta.sql"),
    ),
    (
        "0005 devices",
        include_str!("../migrations/0005_devices.sql"),
    ),
    (
        "0006 refused scans, token attempts",
        include_str!("../migrations/0006_refused_scans.sql"),
    ),
    (
        "0007 console: payments by case, idempotency keys, account unlocks",
        include_str!("../migrations/0007_console_hygiene.sql"),
    ),
    (
        "0008 presentation reports",
        include_str!("../migrations/0008_presentation_reports.sql"),
    ),
    (
        "0009 trust store: signed trust lists",
        include_str!("../migrations/0009_trust_store.sql"),
    ),
    (
        "0010 revoked tokens by issuer",
        include_str!("../migrations/0010_revocations_by_issuer.sql"),
    ),
    (
        "0011 revocation expiry",
        include_str!("../migrations/0011_revocation_expiry.sql"),
    ),
    (
        "0012 feed epochs",
        include_str!("../migrations/0012_feed_epochs.sql"),
    ),
    (
        "0013 used tokens by issuer",
        include_str!("../migrations/0013_used_tokens_by_issuer.sql"),
    ),
];

/// `gate_meta` key: when the backup this database was made from was taken (set only in
/// a backup copy, by [`backup`]).
pub const META_BACKUP_TAKEN_AT: &str = "backup_taken_at";
/// `gate_meta` key: when a gate first started on a restored backup.
pub const META_RESTORED_AT: &str = "restored_at";
/// `gate_meta` key: when a restored gate had pulled every issuer's revocations again.
pub const META_RESTORE_CONFIRMED_AT: &str = "restore_confirmed_at";

/// Back up the gate database at `src` to `dest` (SQLite's online backup, safe while the
/// gate runs) and mark the copy as a backup taken at `now`, so that a gate started on it
/// knows it lost what happened after (see [`crate::restore`]).
pub fn backup(src: &Path, dest: &Path, now: i64) -> Result<(), DbError> {
    backup_stepwise(src, dest, now, shared::db::BACKUP_PAGES_PER_STEP, |_| {})
}

/// [`backup`] with [`shared::db::backup_file_stepwise`]'s steps and hook (tests write
/// between two steps).
pub fn backup_stepwise(
    src: &Path,
    dest: &Path,
    now: i64,
    pages_per_step: i32,
    between_steps: impl FnMut(rusqlite::backup::Progress),
) -> Result<(), DbError> {
    shared::db::backup_file_stepwise(src, dest, pages_per_step, between_steps)?;
    let c = rusqlite::Connection::open(dest)?;
    let has_meta: bool = c.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'gate_meta'",
        [],
        |r| r.get(0),
    )?;
    if !has_meta {
        // A database from before the gate_meta migration: the gate that opens it
        // migrates it, without the mark (nothing to compare with).
        return Ok(());
    }
    c.execute(
        "DELETE FROM gate_meta WHERE key IN (?1, ?2)",
        [META_RESTORED_AT, META_RESTORE_CONFIRMED_AT],
    )?;
    c.execute(
        "INSERT INTO gate_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (META_BACKUP_TAKEN_AT, now),
    )?;
    Ok(())
}
