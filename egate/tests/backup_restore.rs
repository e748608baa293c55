//! `egate backup` and `egate restore`, run as the operator runs them (the real binary,
//! `EGATE_DATA_DIR` pointing at a data directory the services wrote).

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

fn egate(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_egate"))
        .args(args)
        .env("EGATE_DATA_DIR", data)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run egate")
}

/// Run `egate`, require success, return its standard output.
fn egate_ok(data: &Path, args: &[&str]) -> String {
    let out = egate(data, args);
    assert!(
        out.status.success(),
        "egate {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn meta(db: &Path, key: &str) -> Option<i64> {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("SELECT value FROM gate_meta WHERE key = ?1", [key], |r| {
        r.get(0)
    })
    .ok()
}

#[tokio::test]
async fn backup_marks_the_gate_copy_and_restore_puts_it_in_place_keeping_the_old_file() {
    let data = tempfile::tempdir().unwrap();
    // The services create their databases.
    let m = mobile_api::build(mobile_api::Config::for_tests(data.path()))
        .await
        .unwrap();
    m.stop_background().await;
    m.db.close();
    let g = gate_service::build(gate_service::Config::for_tests(data.path()))
        .await
        .unwrap();
    g.db.close();

    let backups = data.path().join("backups");
    let stdout = egate_ok(data.path(), &["backup", backups.to_str().unwrap()]);
    assert!(stdout.contains("gate.db: backed up"), "{stdout}");
    assert!(stdout.contains("mobile-api.db: backed up"), "{stdout}");
    for name in ["gate.db", "mobile-api.db"] {
        let mode = std::fs::metadata(backups.join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name} copy holds personal data");
    }
    let copy = backups.join("gate.db");
    assert!(
        meta(&copy, "backup_taken_at").is_some(),
        "the gate copy is marked"
    );
    let live = data.path().join("gate/gate.db");
    assert!(
        meta(&live, "backup_taken_at").is_none(),
        "the live file is not"
    );

    // A second backup into the same directory is refused (nothing overwritten).
    let again = egate(data.path(), &["backup", backups.to_str().unwrap()]);
    assert!(!again.status.success());

    // Restore: the gate's copy goes in place, the old file (and its WAL) aside; the
    // issuers' databases stay (their feeds must not roll back) unless asked.
    let stdout = egate_ok(data.path(), &["restore", backups.to_str().unwrap()]);
    assert!(stdout.contains("gate.db: restored"), "{stdout}");
    assert!(!stdout.contains("mobile-api.db: restored"), "{stdout}");
    assert!(
        !std::fs::read_dir(data.path().join("mobile-api"))
            .unwrap()
            .any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".replaced-")),
        "mobile-api.db left alone"
    );
    assert!(meta(&live, "backup_taken_at").is_some());
    let aside: Vec<String> = std::fs::read_dir(data.path().join("gate"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".replaced-"))
        .collect();
    assert!(
        aside.iter().any(|n| n.starts_with("gate.db.replaced-")),
        "{aside:?}"
    );
    assert!(!data.path().join("gate/gate.db-wal").exists());

    // A gate started on it knows it is a restore (no issuers here: nothing to wait for,
    // so the first refresh confirms it).
    let g = gate_service::build(gate_service::Config::for_tests(data.path()))
        .await
        .unwrap();
    let st = g.restore.status();
    assert!(st.backup_taken_at.is_some());
    assert!(st.restored_at.is_some());
    assert!(!st.awaiting_issuers);
    g.db.close();

    // With the issuers, on request and with a warning.
    let stdout = egate_ok(
        data.path(),
        &["restore", backups.to_str().unwrap(), "--with-issuers"],
    );
    assert!(stdout.contains("mobile-api.db: restored"), "{stdout}");
    assert!(stdout.contains("warning"), "{stdout}");
    // The restored issuer's feed has a new epoch: its sequences restart below the gates'
    // marks, and a gate seeing another epoch reads the feed again from the start.
    assert!(
        stdout.contains("mobile-api.db: its revocation feed has a new epoch"),
        "{stdout}"
    );
    let epoch = |db: &Path| -> String {
        rusqlite::Connection::open(db)
            .unwrap()
            .query_row(
                "SELECT value FROM issuer_meta WHERE key = 'feed_epoch'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_ne!(
        epoch(&backups.join("mobile-api.db")),
        epoch(&data.path().join("mobile-api/mobile-api.db"))
    );
    assert!(!data.path().join("gate/gate.db.restoring").exists());

    // A backup directory holding a damaged database is refused before anything moves.
    let bad = data.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("gate.db"), b"SQLite format 3\0garbage garbage").unwrap();
    let out = egate(data.path(), &["restore", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        meta(&live, "backup_taken_at").is_some(),
        "nothing was replaced"
    );
}
