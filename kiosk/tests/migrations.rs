//! The kiosk's database: one made by every earlier schema version (the first k
//! migrations; rows where the kiosk wrote them in a released version) opens with the
//! current migrations, reaches the latest version with the same schema as a new
//! database, and keeps its tokens, lanes and feed sequence.

use kiosk::issuance::MIGRATIONS;
use rusqlite::Connection;
use shared::db::Db;

fn schema(c: &Connection) -> Vec<(String, String, Option<String>)> {
    c.prepare(
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'
         ORDER BY type, name",
    )
    .unwrap()
    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// Rows as the released schema versions had them (1: the issuance log; 2: with the use
/// and the feed); `false` for a version never released on its own.
fn seed(c: &Connection, applied: usize) -> bool {
    match applied {
        1 => c.execute_batch(
            "INSERT INTO issuance (declaration_id, kid, cti, iat, exp, lane)
             VALUES ('d1', 'k', 'AAAAAAAAAAAAAAAAAAAAAA==', 1, 2, 'red');",
        ),
        2 => c.execute_batch(
            "INSERT INTO issuance (declaration_id, kid, cti, iat, exp, lane, used_at)
             VALUES ('d1', 'k', 'AAAAAAAAAAAAAAAAAAAAAA==', 1, 2, 'red', 5);
             INSERT INTO revocations (seq, cti, reason, at)
             VALUES (7, 'AAAAAAAAAAAAAAAAAAAAAA==', 'used', 6);",
        ),
        _ => return false,
    }
    .unwrap();
    true
}

#[test]
fn a_database_of_every_earlier_version_upgrades_with_its_rows() {
    let fresh = tempfile::tempdir().unwrap();
    let fresh_path = fresh.path().join("kiosk.db");
    Db::open(&fresh_path, MIGRATIONS).unwrap().close();
    let latest = schema(&Connection::open(&fresh_path).unwrap());

    for applied in 0..=MIGRATIONS.len() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kiosk.db");
        let mut seeded = false;
        if applied > 0 {
            Db::open(&path, &MIGRATIONS[..applied]).unwrap().close();
            seeded = seed(&Connection::open(&path).unwrap(), applied);
        }
        Db::open(&path, MIGRATIONS).unwrap().close();
        let c = Connection::open(&path).unwrap();
        let version: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64, "from version {applied}");
        assert_eq!(schema(&c), latest, "from version {applied}: another schema");
        if !seeded {
            continue;
        }
        let (tokens, lane): (i64, String) = c
            .query_row(
                "SELECT (SELECT count(*) FROM tokens), lane FROM issuance
                 WHERE declaration_id = 'd1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            (tokens, lane.as_str()),
            (1, "red"),
            "from version {applied}"
        );
        let feed: Vec<i64> = c
            .prepare("SELECT seq FROM revocations ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let expected: &[i64] = if applied >= 2 { &[7] } else { &[] };
        assert_eq!(
            feed, expected,
            "from version {applied}: the feed keeps its sequence"
        );
    }
}
