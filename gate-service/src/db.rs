//! The gate's SQLite schema: scans, one-time use, red-lane cases, revoked tokens.
//!
//! The console's own tables come after these (`console::MIGRATIONS`).

use shared::db::{DbError, Migration};
use std::path::Path;

/// The gate's migrations, in order (never edit a released one; append).
pub const MIGRATIONS: &[Migration] = &[
    (
        "gate 1: scans, used tokens, cases",
        r#"
CREATE TABLE scans (
    id TEXT PRIMARY KEY,
    gate_id TEXT NOT NULL,
    scanned_at INTEGER NOT NULL,          -- unix seconds
    decision TEXT NOT NULL CHECK (decision IN ('green','red')),
    reasons TEXT NOT NULL,                -- JSON array of reason codes
    declaration_id TEXT,
    revision INTEGER,
    issuer TEXT,
    kid TEXT,                             -- standard base64
    cti BLOB,
    flight TEXT,
    arrival_date TEXT,
    profile_id TEXT,
    duration_us INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX scans_scanned_at ON scans(scanned_at DESC);
CREATE TABLE used_tokens (
    cti BLOB PRIMARY KEY,
    scan_id TEXT NOT NULL REFERENCES scans(id),
    used_at INTEGER NOT NULL,
    exp INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX used_tokens_exp ON used_tokens(exp);
CREATE TABLE cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scan_id TEXT NOT NULL UNIQUE REFERENCES scans(id),
    opened_at INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting','in_progress','closed')),
    flight TEXT,
    declaration_id TEXT,
    issuer TEXT,
    summary_json TEXT,
    evaluation_json TEXT,
    reasons_json TEXT NOT NULL,
    identity_json TEXT,                   -- PII, officer only, NULL after the retention purge
    purged_at INTEGER
);
CREATE INDEX cases_status_opened ON cases(status, opened_at DESC);
CREATE INDEX cases_opened ON cases(opened_at) WHERE identity_json IS NOT NULL;
"#,
    ),
    (
        "gate 2: revoked tokens and per-issuer revocation marks",
        r#"
CREATE TABLE revoked_tokens (
    cti BLOB PRIMARY KEY,
    issuer TEXT NOT NULL,
    seq INTEGER NOT NULL,
    reason TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE revocation_marks (
    issuer TEXT PRIMARY KEY,
    next_since INTEGER NOT NULL
);
"#,
    ),
];

/// The gate's migrations added after the console's (the order of a released list never
/// changes: these come last).
pub const LATER_MIGRATIONS: &[Migration] = &[(
    "gate 3: use reports to issuers, backup and restore marks",
    r#"
ALTER TABLE used_tokens ADD COLUMN issuer TEXT;
ALTER TABLE used_tokens ADD COLUMN reported_at INTEGER;
UPDATE used_tokens SET issuer = (SELECT s.issuer FROM scans s WHERE s.id = used_tokens.scan_id);
CREATE INDEX used_tokens_unreported ON used_tokens(issuer, used_at) WHERE reported_at IS NULL;
CREATE TABLE gate_meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
"#,
)];

/// The gate's migrations, then the console's, then the gate's later ones.
pub fn all_migrations() -> Vec<Migration> {
    MIGRATIONS
        .iter()
        .chain(crate::console::MIGRATIONS.iter())
        .chain(LATER_MIGRATIONS.iter())
        .copied()
        .collect()
}

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
