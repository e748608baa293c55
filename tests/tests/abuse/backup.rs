//! Item 6: backup and restore. `shared::db::backup_file` (what `egate backup` runs)
//! copies gate.db and mobile-api.db while declarations and scans are being written; a
//! fresh gate started on a copy of the data directory with the backup in place passes
//! the integrity checks and still refuses the tokens it should.
//!
//! What refuses what after a restore (RELIABILITY.md, item 6):
//! - a token used BEFORE the backup point: the restored `used_tokens` row → replayed;
//! - a token superseded or erased at any time: the issuer's revocation list, which the
//!   restored gate pulls again (`token.superseded`);
//! - a token used AFTER the backup point and neither superseded nor erased: nothing —
//!   its one-time-use record is lost with the rest of the writes after the backup,
//!   and the issuer never learns of a use. It stays acceptable until its `exp`. The
//!   test for it is `#[ignore]`d as a known gap.

use super::*;
use rusqlite::Connection;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// `PRAGMA integrity_check` and `foreign_key_check` of a database file.
fn checks(path: &Path) -> (String, usize) {
    let c = Connection::open(path).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    let fk = c
        .prepare("PRAGMA foreign_key_check")
        .unwrap()
        .query_map([], |_| Ok(()))
        .unwrap()
        .count();
    (ok, fk)
}

fn count(path: &Path, sql: &str) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// A gate started on a restored data directory.
struct Restored {
    _dir: tempfile::TempDir,
    url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Everything the restore tests look at.
struct Scenario {
    sys: System,
    restored: Restored,
    used_before: String,
    used_after: String,
    superseded_after: String,
    writes_during_backup: usize,
}

async fn scenario() -> Scenario {
    let sys = System::spawn().await;
    let hanako = Traveller::hanako();
    let mrz = hanako.mrz();

    // Before the backup: a token used at the gate.
    let used_before = green_qr(&sys, &hanako).await;
    assert_eq!(sys.scan(&used_before, &mrz).await["decision"], "green");
    let (_, to_supersede) = sys.declare(&hanako.declaration(json!([]))).await;
    let declared_before = count(
        &sys.dir.path().join("mobile-api/mobile-api.db"),
        "SELECT count(*) FROM declarations",
    );

    // Writes keep going while the backup runs: declare + scan in a loop.
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicUsize::new(0));
    let load = {
        let (http, m, g, mrz) = (
            sys.http.clone(),
            sys.mobile.url("/v1/declarations"),
            sys.gate.url("/v1/scans"),
            mrz.clone(),
        );
        let (stop, writes) = (stop.clone(), writes.clone());
        let body = hanako.declaration(json!([]));
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let r = http.post(&m).json(&body).send().await.unwrap();
                assert_eq!(r.status(), 201);
                let v: Value = r.json().await.unwrap();
                let r = http
                    .post(&g)
                    .json(&json!({"qr": v["qr"]["text"], "mrz": mrz, "gate_id": "G-LOAD"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                writes.fetch_add(2, Ordering::Relaxed);
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let backups = tempfile::tempdir().unwrap();
    let at_start = writes.load(Ordering::Relaxed);
    for (db, name) in [
        (sys.dir.path().join("gate/gate.db"), "gate.db"),
        (
            sys.dir.path().join("mobile-api/mobile-api.db"),
            "mobile-api.db",
        ),
    ] {
        let dest = backups.path().join(name);
        tokio::task::spawn_blocking(move || shared::db::backup_file(&db, &dest))
            .await
            .unwrap()
            .expect("online backup under load");
    }
    let writes_during_backup = writes.load(Ordering::Relaxed) - at_start;
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    stop.store(true, Ordering::Relaxed);
    load.await.unwrap();
    assert!(writes_during_backup > 0, "writes ran during the backup");

    // After the backup point: one token used, one superseded by an edit.
    let used_after = green_qr(&sys, &hanako).await;
    assert_eq!(sys.scan(&used_after, &mrz).await["decision"], "green");
    let superseded_after = to_supersede["qr"]["text"].as_str().unwrap().to_owned();
    let r = sys
        .http
        .put(sys.mobile.url(&format!(
            "/v1/declarations/{}",
            to_supersede["id"].as_str().unwrap()
        )))
        .bearer_auth(to_supersede["edit_token"].as_str().unwrap())
        .json(&hanako.declaration(json!([])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // The backups are sound.
    for name in ["gate.db", "mobile-api.db"] {
        let (ok, fk) = checks(&backups.path().join(name));
        assert_eq!(ok, "ok", "{name} integrity_check");
        assert_eq!(fk, 0, "{name} foreign_key_check");
    }
    assert!(
        count(
            &backups.path().join("mobile-api.db"),
            "SELECT count(*) FROM declarations"
        ) >= declared_before,
        "every declaration acknowledged before the backup is in it"
    );

    // Restore: a copy of the data directory with the gate's backup in place of gate.db.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(sys.dir.path(), dir.path());
    for f in ["gate.db", "gate.db-wal", "gate.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join("gate").join(f));
    }
    std::fs::copy(
        backups.path().join("gate.db"),
        dir.path().join("gate/gate.db"),
    )
    .unwrap();
    let mut cfg = gate_service::Config::for_tests(dir.path());
    cfg.issuers = sys.gate.state.config.issuers.clone();
    let listener = tokio::net::TcpListener::bind(cfg.addr).await.unwrap();
    let url = format!("http://{}/v1/scans", listener.local_addr().unwrap());
    let state = gate_service::build(cfg).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(gate_service::serve(listener, state.clone(), async move {
        let _ = rx.await;
    }));
    gate_service::refresh_now(&state).await;
    let (ok, fk) = checks(&dir.path().join("gate/gate.db"));
    assert_eq!(
        (ok.as_str(), fk),
        ("ok", 0),
        "the restored gate.db after start"
    );
    Scenario {
        sys,
        restored: Restored {
            _dir: dir,
            url,
            stop: tx,
            task,
        },
        used_before,
        used_after,
        superseded_after,
        writes_during_backup,
    }
}

async fn scan_at(sys: &System, url: &str, qr: &str) -> Value {
    let r = sys
        .http
        .post(url)
        .json(&json!({"qr": qr, "mrz": Traveller::hanako().mrz(), "gate_id": "G-RESTORED"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

impl Restored {
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_load_restores_and_still_refuses_used_and_superseded_tokens() {
    let _g = EXCLUSIVE.read().await;
    let s = scenario().await;
    let before = scan_at(&s.sys, &s.restored.url, &s.used_before).await;
    assert_eq!(before["decision"], "red");
    assert!(
        codes(&before).contains(&"token.replayed".to_owned()),
        "used before the backup: the restored used_tokens row refuses it: {before}"
    );
    let superseded = scan_at(&s.sys, &s.restored.url, &s.superseded_after).await;
    assert_eq!(superseded["decision"], "red");
    assert!(
        codes(&superseded).contains(&"token.superseded".to_owned()),
        "superseded after the backup: the issuer's revocation list refuses it: {superseded}"
    );
    println!(
        "RELIABILITY item6: backup of gate.db + mobile-api.db with {} writes acknowledged during it; integrity_check ok, foreign_key_check clean; used-before -> token.replayed, superseded-after -> token.superseded",
        s.writes_during_backup
    );
    s.restored.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "known gap: one-time-use records written after the backup point are lost on restore; \
            the issuer never learns of a use, so nothing refuses the token until its exp (RELIABILITY.md item 6)"]
async fn a_token_used_after_the_backup_point_is_refused_by_the_restored_gate() {
    let _g = EXCLUSIVE.read().await;
    let s = scenario().await;
    let d = scan_at(&s.sys, &s.restored.url, &s.used_after).await;
    println!("RELIABILITY item6: token used after the backup, at the restored gate: {d}");
    assert_eq!(d["decision"], "red", "{d}");
    s.restored.stop().await;
}
