//! mobile-api's database: one made by every earlier schema version (the first k
//! migrations, with rows of that time) opens with the current migrations, reaches the
//! latest version with the same schema as a new database, and keeps its rows.

use mobile_api::store::MIGRATIONS;
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

#[test]
fn a_database_of_every_earlier_version_upgrades_with_its_rows() {
    let fresh = tempfile::tempdir().unwrap();
    let fresh_path = fresh.path().join("mobile-api.db");
    Db::open(&fresh_path, MIGRATIONS).unwrap().close();
    let latest = schema(&Connection::open(&fresh_path).unwrap());

    for applied in 0..=MIGRATIONS.len() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mobile-api.db");
        if applied > 0 {
            Db::open(&path, &MIGRATIONS[..applied]).unwrap().close();
            // A declaration at its second revision: the first token superseded.
            Connection::open(&path)
                .unwrap()
                .execute_batch(
                    "INSERT INTO declarations (id, edit_token_hash, revision, body, arrival_date,
                       profile_id, lane, reasons, cti, kid, issued_at, exp, created_at, updated_at)
                     VALUES ('d1', 'h', 2, '{}', '2026-11-01', 'jp-2026', 'green', '[]', 'c2', 'k',
                       20, 99, 10, 20);
                     INSERT INTO tokens (cti, declaration_id, revision, kid, iat, exp, superseded_at)
                     VALUES ('c1', 'd1', 1, 'k', 10, 99, 20), ('c2', 'd1', 2, 'k', 20, 99, NULL);
                     INSERT INTO revocations (cti, reason, at) VALUES ('c1', 'superseded', 20);",
                )
                .unwrap();
        }
        Db::open(&path, MIGRATIONS).unwrap().close();
        let c = Connection::open(&path).unwrap();
        let version: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64, "from version {applied}");
        assert_eq!(schema(&c), latest, "from version {applied}: another schema");
        if applied == 0 {
            continue;
        }
        let tokens: i64 = c
            .query_row(
                "SELECT count(*) FROM tokens WHERE declaration_id = 'd1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tokens, 2, "from version {applied}");
        let feed: (i64, String, String) = c
            .query_row("SELECT seq, cti, reason FROM revocations", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!(
            feed,
            (1, "c1".into(), "superseded".into()),
            "from version {applied}"
        );
        let revision: i64 = c
            .query_row(
                "SELECT revision FROM declarations WHERE id = 'd1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(revision, 2);
    }
}
