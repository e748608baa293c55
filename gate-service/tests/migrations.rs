//! The gate database's migrations: a database made by every earlier schema version (the
//! first k migrations, with rows of that time) opens with the current code, reaches the
//! latest version with its data kept and the same schema as a new database; its backup
//! does too, with the backup mark once `gate_meta` exists. And the released migrations
//! never change.

use gate_service::db::MIGRATIONS;
use gate_service::{Config, IssuerConfig};
use rusqlite::Connection;
use shared::clock::FixedClock;
use std::path::Path;
use std::sync::Arc;
use time::macros::datetime;

/// The released migrations, in order: name and SHA-256 of the SQL. A released migration
/// has run on databases that exist; changing or moving one would leave them with another
/// schema than a new database. Change the schema by appending a migration (and a line
/// here, and its rows in `seed`).
const RELEASED: &[(&str, &str)] = &[
    (
        "0001 scans, used tokens, cases",
        "8bd173c85df56e481744c3866e543e74c15301f4275deb2082e14fb72519620f",
    ),
    (
        "0002 revoked tokens, revocation marks",
        "1c1babaf748d6f9dfc8899f3ca36becdd93beb07bf354154a9e3a0ac1ebf313f",
    ),
    (
        "0003 console: officers, sessions, outcomes, payments, audit",
        "24a532329e29b9a0894896826d25272724c3782704dddc455dfc3a4c8dd194cf",
    ),
    (
        "0004 use reports, gate_meta",
        "b90e08672257a17df87ff71573c6a8f3e3d61305ec5771e6e10b53f940949c95",
    ),
    (
        "0005 devices",
        "42a7e1a31d0d2e2524f017f370ee575646df4862625614fd127d0f7d14b1c9e7",
    ),
    (
        "0006 refused scans, token attempts",
        "7abfee831fe76ecad2e947c623065e1203bfd78bc09554c56d8510ac14d200f4",
    ),
    (
        "0007 console: payments by case, idempotency keys, account unlocks",
        "bd5150f954df80f3d9b3b250923722c244c0720435055771ea4a9b7c67643312",
    ),
    (
        "0008 presentation reports",
        "cf030b7f76f11859ec17d37b1c2add1efdd803cad56f23196f4982947d338a0f",
    ),
    (
        "0009 trust store: signed trust lists",
        "16250657a2f6a59f89412dc19f3b532e31653a179ab9492423d8a786109c7b8c",
    ),
    (
        "0010 revoked tokens by issuer",
        "84267421db9cae90c1c7ea590730e4cda0875169b03beaa97102ce0ead070bdd",
    ),
    (
        "0011 revocation expiry",
        "0d16eae0d98849cde902fa377185377442e5b71d4ba5ac0b1b50226a77ee34a8",
    ),
    (
        "0012 feed epochs",
        "f6fc148837d4c0702695696e0a365934120fc29f6dc4089c1092137105b1d8ef",
    ),
    (
        "0013 used tokens by issuer",
        "14db57d18cbc876567e1302a22b598aaebebb603b0cf34bd4db5d1c756c44629",
    ),
];

const CTI_1: [u8; 16] = [1; 16];
const CTI_2: [u8; 16] = [2; 16];
const CTI_REVOKED: [u8; 16] = [3; 16];
const BACKUP_AT: i64 = 1_700_000_000;

#[test]
fn released_migrations_are_never_edited_or_moved() {
    assert!(
        MIGRATIONS.len() >= RELEASED.len(),
        "a released migration was removed"
    );
    for (i, ((name, sql), (released_name, digest))) in MIGRATIONS.iter().zip(RELEASED).enumerate() {
        assert_eq!(
            name,
            released_name,
            "migration {} was renamed or moved",
            i + 1
        );
        let got = hex::encode(ring::digest::digest(&ring::digest::SHA256, sql.as_bytes()));
        assert_eq!(
            &got, digest,
            "the released migration {name:?} was edited: append a new migration instead"
        );
        assert!(
            name.starts_with(&format!("{:04} ", i + 1)),
            "{name:?} is not numbered by its place"
        );
    }
    assert_eq!(
        MIGRATIONS.len(),
        RELEASED.len(),
        "a new migration: add it to RELEASED and give it rows in `seed`"
    );
}

/// Whether the first `applied` migrations include the one numbered `number` ("0007").
fn has_run(applied: usize, number: &str) -> bool {
    MIGRATIONS[..applied]
        .iter()
        .any(|(name, _)| name.starts_with(&format!("{number} ")))
}

/// Rows for the tables migration `index` (0-based) made, as the gate wrote them when
/// `applied` migrations had run. Column lists are explicit, so they fit any later schema.
fn seed(c: &Connection, index: usize, applied: usize) {
    // Migrations numbered out of their place while others land are seeded by number.
    if MIGRATIONS[index].0.starts_with("0013 ") {
        // Another issuer's token spent with the same token id as version 1's use: keyed by
        // (issuer, token id) now, both are kept.
        c.execute(
            "INSERT INTO scans (id, gate_id, scanned_at, decision, reasons, issuer, cti)
             VALUES ('scan-3', 'G-03', 3000, 'green', '[]', 'kiosk:T9', ?1)",
            [&CTI_1[..]],
        )
        .unwrap();
        c.execute(
            "INSERT INTO used_tokens (issuer, cti, scan_id, used_at, exp)
             VALUES ('kiosk:T9', ?1, 'scan-3', 3000, 4000000000)",
            [&CTI_1[..]],
        )
        .unwrap();
        return;
    }
    if MIGRATIONS[index].0.starts_with("0012 ") {
        // A feed mark with its epoch.
        c.execute(
            "INSERT INTO revocation_marks (issuer, next_since, epoch) VALUES ('kiosk:T2', 4, 'e1')",
            [],
        )
        .unwrap();
        return;
    }
    if MIGRATIONS[index].0.starts_with("0011 ") {
        // A revocation with its token's expiry, as the feed now carries it.
        c.execute(
            "INSERT INTO revoked_tokens (issuer, cti, seq, reason, exp)
               VALUES ('kiosk:T2', ?1, 1, 'used', 4000000000)",
            [&CTI_REVOKED[..]],
        )
        .unwrap();
        return;
    }
    if MIGRATIONS[index].0.starts_with("0010 ") {
        // A revocation from another issuer's feed for a token id already revoked by the
        // first: keyed by (issuer, token id) now, both are kept.
        c.execute(
            "INSERT INTO revoked_tokens (issuer, cti, seq, reason) VALUES ('kiosk:T1', ?1, 1, 'erased')",
            [&CTI_REVOKED[..]],
        )
        .unwrap();
        return;
    }
    if MIGRATIONS[index].0.starts_with("0009 ") {
        // A signed trust list taken before this version's data was taken.
        c.execute(
            "INSERT INTO trust_lists (issuer, version, not_after, envelope, stored_at)
               VALUES ('kiosk:T1', 3, 4000000000, 'h.p.s', 1000)",
            [],
        )
        .unwrap();
        return;
    }
    if MIGRATIONS[index].0.starts_with("0006 ") {
        c.execute_batch(
            "INSERT INTO refused_scans (gate_id, hour, reason, count)
               VALUES ('G-01', 3600, 'token.malformed', 12);
             INSERT INTO token_attempts (cti, gate_id, misreads, mismatches, last_at, exp)
               VALUES (x'01010101010101010101010101010101', 'G-01', 1, 0, 3000, 4000000000);",
        )
        .unwrap();
        return;
    }
    if MIGRATIONS[index].0.starts_with("0007 ") {
        c.execute(
            "INSERT INTO account_unlocks (username, officer_id, at, last_attempt_id)
             VALUES ('tanaka', 1, 3000, 1)",
            [],
        )
        .unwrap();
        return;
    }
    match index {
        0 => {
            c.execute(
                "INSERT INTO scans (id, gate_id, scanned_at, decision, reasons, declaration_id,
                   revision, issuer, kid, cti, flight, arrival_date, profile_id, duration_us)
                 VALUES ('scan-1', 'G-01', 1000, 'red', '[\"rules.over_allowance\"]', 'decl-1',
                   1, 'mobile-api', 'a2lk', ?1, 'NH212', '2026-11-01', 'jp-2026', 900)",
                [&CTI_1[..]],
            )
            .unwrap();
            // From migration 4 on, the gate writes a use with its issuer.
            let sql = if applied >= 4 {
                "INSERT INTO used_tokens (cti, scan_id, used_at, exp, issuer)
                 VALUES (?1, 'scan-1', 1000, 4000000000, 'mobile-api')"
            } else {
                "INSERT INTO used_tokens (cti, scan_id, used_at, exp)
                 VALUES (?1, 'scan-1', 1000, 4000000000)"
            };
            c.execute(sql, [&CTI_1[..]]).unwrap();
            c.execute(
                "INSERT INTO cases (scan_id, opened_at, flight, declaration_id, issuer,
                   summary_json, evaluation_json, reasons_json, identity_json)
                 VALUES ('scan-1', 1000, 'NH212', 'decl-1', 'mobile-api', '{}', '{}',
                   '[\"rules.over_allowance\"]', '{\"surname\":\"TANAKA\"}')",
                [],
            )
            .unwrap();
        }
        1 => {
            c.execute(
                "INSERT INTO revoked_tokens (cti, issuer, seq, reason)
                 VALUES (?1, 'mobile-api', 7, 'superseded')",
                [&CTI_REVOKED[..]],
            )
            .unwrap();
            c.execute(
                "INSERT INTO revocation_marks (issuer, next_since) VALUES ('mobile-api', 8)",
                [],
            )
            .unwrap();
        }
        2 => {
            c.execute_batch(
                "INSERT INTO officers (username, display_name, role, password_hash, created_at)
                   VALUES ('tanaka', 'Tanaka', 'supervisor', '$argon2id$v=19$m=19456,t=2,p=1$x$y', 1000);
                 INSERT INTO sessions (id_hash, officer_id, csrf_token, created_at, last_seen_at, expires_at)
                   VALUES ('00ff', 1, 'csrf', 1000, 1000, 4000000000);
                 INSERT INTO login_attempts (username, client_ip, at, success)
                   VALUES ('tanaka', '127.0.0.1', 1000, 1);
                 UPDATE cases SET status = 'closed' WHERE id = 1;
                 INSERT INTO outcomes (case_id, kind, amount_yen, amount_source, officer_id, recorded_at)
                   VALUES (1, 'duty_assessed', 5000, 'estimate', 1, 1100);
                 INSERT INTO case_adjustments (case_id, officer_id, at, items_json)
                   VALUES (1, 1, 1050, '[]');
                 INSERT INTO audit_log (at, officer_id, action, case_id)
                   VALUES (1100, 1, 'outcome.recorded', 1);",
            )
            .unwrap();
            // From migration 7 on, a payment names its case and its form's key.
            let sql = if has_run(applied, "0007") {
                "INSERT INTO payments (outcome_id, case_id, method, amount_yen, officer_id,
                   recorded_at, idempotency_key)
                 VALUES (1, 1, 'cash', 5000, 1, 1200, 'form-key-1')"
            } else {
                "INSERT INTO payments (outcome_id, method, amount_yen, officer_id, recorded_at)
                 VALUES (1, 'cash', 5000, 1, 1200)"
            };
            c.execute(sql, []).unwrap();
        }
        3 => {
            c.execute(
                "INSERT INTO scans (id, gate_id, scanned_at, decision, reasons, issuer, cti)
                 VALUES ('scan-2', 'G-02', 2000, 'green', '[]', 'kiosk:T1', ?1)",
                [&CTI_2[..]],
            )
            .unwrap();
            c.execute(
                "INSERT INTO used_tokens (cti, scan_id, used_at, exp, issuer, reported_at)
                 VALUES (?1, 'scan-2', 2000, 4000000000, 'kiosk:T1', 2100)",
                [&CTI_2[..]],
            )
            .unwrap();
        }
        4 => {
            c.execute(
                "INSERT INTO devices (id, kind, key_hash, created_at, revoked_at)
                 VALUES ('G-01', 'gate', ?1, 3000, 3100)",
                [&[7u8; 32][..]],
            )
            .unwrap();
        }
        7 => {
            // A case reported to its issuer before this version's data was taken.
            c.execute(
                "UPDATE cases SET presentation_reported_at = 1500 WHERE scan_id = 'scan-1'",
                [],
            )
            .unwrap();
        }
        _ => panic!("migration {} has no rows in `seed`", index + 1),
    }
}

/// A gate database at schema version `applied`, with the rows of each migration
/// (version 0: an empty file).
fn database_at(path: &Path, applied: usize) {
    if applied > 0 {
        shared::db::Db::open(path, &MIGRATIONS[..applied])
            .unwrap()
            .close();
    }
    let c = Connection::open(path).unwrap();
    for index in 0..applied {
        seed(&c, index, applied);
    }
}

/// Open the gate on `data_dir` with the current code (its whole start-up), as a gate
/// whose issuers cannot be reached (use reports stay pending, a restore stays held).
async fn start_gate(data_dir: &Path) -> gate_service::AppState {
    let mut config = Config::for_tests(data_dir);
    config.issuers = ["mobile-api", "kiosk:T1"]
        .iter()
        .map(|id| IssuerConfig {
            id: (*id).into(),
            base_url: Some("http://127.0.0.1:1".into()),
            internal_url: Some("http://127.0.0.1:1".into()),
            jwks_file: None,
        })
        .collect();
    let clock = FixedClock::at(datetime!(2026-11-01 09:00 UTC));
    gate_service::build_with_clock(config, Arc::new(clock))
        .await
        .unwrap()
}

async fn stop_gate(state: gate_service::AppState) {
    let db = state.db.clone();
    shared::offload::blocking(move || db.close()).await.unwrap();
}

fn schema(c: &Connection) -> Vec<(String, String, Option<String>)> {
    c.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn count(c: &Connection, table: &str) -> i64 {
    c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// What a database made at version `applied` holds after the upgrade.
fn check_upgraded(c: &Connection, applied: usize, latest: &[(String, String, Option<String>)]) {
    let version: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        usize::try_from(version).unwrap(),
        MIGRATIONS.len(),
        "from version {applied}"
    );
    assert_eq!(&schema(c), latest, "from version {applied}: another schema");
    let fk: i64 = c
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fk, 0, "from version {applied}: foreign keys");
    if applied == 0 {
        assert_eq!(count(c, "scans"), 0);
        return;
    }
    // Version 1's rows; the use report columns filled from the scan by migration 4.
    let (issuer, reported_at): (Option<String>, Option<i64>) = c
        .query_row(
            "SELECT issuer, reported_at FROM used_tokens WHERE cti = ?1 AND scan_id = 'scan-1'",
            [&CTI_1[..]],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        issuer.as_deref(),
        Some("mobile-api"),
        "from version {applied}"
    );
    assert_eq!(
        reported_at, None,
        "from version {applied}: the use is still to report"
    );
    let (identity, status): (String, String) = c
        .query_row(
            "SELECT identity_json, status FROM cases WHERE scan_id = 'scan-1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(identity, r#"{"surname":"TANAKA"}"#);
    assert_eq!(status, if applied >= 3 { "closed" } else { "waiting" });
    // The refused-scan counters and a token's attempts, kept (migration 6).
    let refused = if has_run(applied, "0006") { 1 } else { 0 };
    assert_eq!(count(c, "refused_scans"), refused, "from version {applied}");
    assert_eq!(
        count(c, "token_attempts"),
        refused,
        "from version {applied}"
    );
    if applied >= 2 {
        let seq: i64 = c
            .query_row(
                "SELECT seq FROM revoked_tokens WHERE issuer = 'mobile-api' AND cti = ?1",
                [&CTI_REVOKED[..]],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(seq, 7);
        let by_issuers =
            1 + i64::from(has_run(applied, "0010")) + i64::from(has_run(applied, "0011"));
        assert_eq!(
            count(c, "revoked_tokens"),
            by_issuers,
            "from version {applied}"
        );
        let next: i64 = c
            .query_row(
                "SELECT next_since FROM revocation_marks WHERE issuer = 'mobile-api'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(next, 8);
    }
    if applied >= 3 {
        for table in [
            "officers",
            "sessions",
            "login_attempts",
            "outcomes",
            "payments",
            "case_adjustments",
            "audit_log",
        ] {
            assert_eq!(count(c, table), 1, "from version {applied}: {table}");
        }
        assert!(
            c.execute("UPDATE outcomes SET amount_yen = 1", []).is_err(),
            "outcomes stay append-only"
        );
        // Migration 7: the payment names its case (filled in from its outcome).
        let case_id: i64 = c
            .query_row("SELECT case_id FROM payments", [], |r| r.get(0))
            .unwrap();
        assert_eq!(case_id, 1, "from version {applied}");
        assert!(
            c.execute("UPDATE payments SET amount_yen = 1", []).is_err(),
            "payments stay append-only"
        );
    }
    if has_run(applied, "0007") {
        assert_eq!(count(c, "account_unlocks"), 1, "from version {applied}");
    }
    if applied >= 4 {
        let reported: i64 = c
            .query_row(
                "SELECT reported_at FROM used_tokens WHERE cti = ?1",
                [&CTI_2[..]],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(reported, 2100);
    }
    // Migration 13: one-time use per (issuer, token id); a use of version 1 kept.
    let spent_with_cti_1: i64 = c
        .query_row(
            "SELECT count(*) FROM used_tokens WHERE cti = ?1",
            [&CTI_1[..]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        spent_with_cti_1,
        1 + i64::from(has_run(applied, "0013")),
        "from version {applied}"
    );
    if applied >= 5 {
        let (kind, revoked): (String, i64) = c
            .query_row(
                "SELECT kind, revoked_at FROM devices WHERE id = 'G-01'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            (kind.as_str(), revoked),
            ("gate", 3100),
            "from version {applied}"
        );
    }
    // Migration 8: a case opened before it (with a token, not purged) is still to be
    // presented to its issuer; one reported already stays reported.
    let presented: Option<i64> = c
        .query_row(
            "SELECT presentation_reported_at FROM cases WHERE scan_id = 'scan-1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let expected = if applied >= 8 { Some(1500) } else { None };
    assert_eq!(presented, expected, "from version {applied}: presentation");
}

#[tokio::test]
async fn a_database_of_every_earlier_version_upgrades_with_its_data() {
    let fresh = tempfile::tempdir().unwrap();
    stop_gate(start_gate(fresh.path()).await).await;
    let latest = schema(&Connection::open(fresh.path().join("gate/gate.db")).unwrap());
    assert!(latest.iter().any(|(_, name, _)| name == "gate_meta"));

    for applied in 0..=MIGRATIONS.len() {
        let dir = tempfile::tempdir().unwrap();
        let db_path = Config::for_tests(dir.path()).db_path();
        std::fs::create_dir_all(db_path.parent().unwrap()).unwrap();
        database_at(&db_path, applied);

        // A backup of the old database, restored on another gate.
        let restored = tempfile::tempdir().unwrap();
        let restored_path = Config::for_tests(restored.path()).db_path();
        std::fs::create_dir_all(restored_path.parent().unwrap()).unwrap();
        gate_service::db::backup(&db_path, &restored_path, BACKUP_AT).unwrap();

        let state = start_gate(dir.path()).await;
        assert_eq!(state.restore.backup_taken_at, None);
        let pending = gate_service::reports::pending(&state).await.unwrap();
        assert_eq!(pending, i64::from(applied > 0), "from version {applied}");
        stop_gate(state).await;
        check_upgraded(&Connection::open(&db_path).unwrap(), applied, &latest);

        let state = start_gate(restored.path()).await;
        // Only a database that had `gate_meta` (migration 4) carries the backup mark; an
        // older one is migrated without it (nothing to compare with).
        let marked = applied >= 4;
        assert_eq!(
            state.restore.backup_taken_at,
            marked.then_some(BACKUP_AT),
            "backup from version {applied}"
        );
        assert_eq!(state.restore.pending(), marked);
        stop_gate(state).await;
        check_upgraded(&Connection::open(&restored_path).unwrap(), applied, &latest);
    }
}
