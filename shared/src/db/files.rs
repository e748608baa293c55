//! The database files themselves: online backups, and the copies `egate restore` moves
//! aside (removed once past retention, since they hold personal data as it was).

use super::{DbError, open_connection};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
