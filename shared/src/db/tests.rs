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
    let writes_during = crate::offload::blocking(move || {
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
