//! Which case may read which declaration, and the audit of every read (docs/trust.md,
//! "Declaration reads").
//!
//! - `presentations`: one row per (gate, case, declaration) a gate reported: a case it
//!   opened for a genuine token of this issuer (`POST /v1/internal/presentations`, with
//!   the use-report key). Only a token this issuer signed *for that declaration* counts,
//!   so a report cannot name a declaration its token does not carry.
//! - `declaration_reads`: the audit: time, gate, case, officer, declaration id, allowed
//!   or refused and why. Written for every read that carried the declaration-read key,
//!   allowed or not.
//!
//! Decisions: a read is allowed only for a presented (gate, case, declaration), so the
//! read key alone, with a photographed QR, reads nothing. Both tables are bounded by
//! retention: rows older than the issuer's retention are deleted at each report (the
//! moment rows are added), so no separate task is needed.

use crate::db::{DbError, Migration};
use crate::feed::CheckedPresentation;
use rusqlite::{Connection, OptionalExtension as _, params};

/// The two tables, as one migration (appended to each issuer's list).
pub const TABLES: Migration = (
    "presentations and the declaration read audit",
    "CREATE TABLE presentations (
        gate TEXT NOT NULL,
        case_id INTEGER NOT NULL,
        declaration_id TEXT NOT NULL,
        cti TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (gate, case_id, declaration_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX presentations_at ON presentations (at);
    CREATE TABLE declaration_reads (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        gate TEXT NOT NULL,
        case_id INTEGER NOT NULL,
        officer TEXT NOT NULL,
        declaration_id TEXT NOT NULL,
        allowed INTEGER NOT NULL,
        reason TEXT NOT NULL
    ) STRICT;
    CREATE INDEX declaration_reads_at ON declaration_reads (at);",
);

/// Why a read was allowed or refused (the audit's `reason`).
pub const REASON_PRESENTED: &str = "presented";
/// The case never presented that declaration's token.
pub const REASON_NOT_PRESENTED: &str = "not_presented";

/// What a report changed: (recorded, known, unknown).
pub fn record(
    c: &Connection,
    gate: &str,
    presentations: &[CheckedPresentation],
    keep_after: i64,
) -> Result<(usize, usize, usize), DbError> {
    let (mut recorded, mut known, mut unknown) = (0, 0, 0);
    for (case, declaration_id, cti, at) in presentations {
        let signed: Option<i64> = c
            .prepare_cached("SELECT 1 FROM tokens WHERE cti = ?1 AND declaration_id = ?2")?
            .query_row(params![cti, declaration_id], |r| r.get(0))
            .optional()?;
        if signed.is_none() {
            unknown += 1;
            continue;
        }
        let n = c
            .prepare_cached(
                "INSERT INTO presentations (gate, case_id, declaration_id, cti, at)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
            )?
            .execute(params![gate, case, declaration_id, cti, at])?;
        if n == 1 {
            recorded += 1;
        } else {
            known += 1;
        }
    }
    purge_before(c, keep_after)?;
    Ok((recorded, known, unknown))
}

/// Delete presentations and audit rows older than `cutoff` (unix seconds).
pub fn purge_before(c: &Connection, cutoff: i64) -> Result<usize, DbError> {
    let a = c
        .prepare_cached("DELETE FROM presentations WHERE at < ?1")?
        .execute([cutoff])?;
    let b = c
        .prepare_cached("DELETE FROM declaration_reads WHERE at < ?1")?
        .execute([cutoff])?;
    Ok(a + b)
}

/// Who asks to read what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRequest {
    /// The gate-service instance.
    pub gate: String,
    /// Its case id.
    pub case_id: i64,
    /// The officer's user name.
    pub officer: String,
    /// The declaration.
    pub declaration_id: String,
}

/// Decide a read and audit it, in one transaction: allowed only when that case
/// presented that declaration. Returns whether it is allowed.
pub fn authorize_read(c: &Connection, req: &ReadRequest, now: i64) -> Result<bool, DbError> {
    let presented: Option<i64> = c
        .prepare_cached(
            "SELECT 1 FROM presentations WHERE gate = ?1 AND case_id = ?2 AND declaration_id = ?3",
        )?
        .query_row(params![req.gate, req.case_id, req.declaration_id], |r| {
            r.get(0)
        })
        .optional()?;
    let allowed = presented.is_some();
    c.prepare_cached(
        "INSERT INTO declaration_reads (at, gate, case_id, officer, declaration_id, allowed, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        now,
        req.gate,
        req.case_id,
        req.officer,
        req.declaration_id,
        allowed,
        if allowed {
            REASON_PRESENTED
        } else {
            REASON_NOT_PRESENTED
        },
    ])?;
    Ok(allowed)
}

/// One audit row, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadAudit {
    /// When, unix seconds.
    pub at: i64,
    /// Gate instance.
    pub gate: String,
    /// Case id.
    pub case_id: i64,
    /// Officer.
    pub officer: String,
    /// Declaration id.
    pub declaration_id: String,
    /// Allowed or refused.
    pub allowed: bool,
    /// [`REASON_PRESENTED`] or [`REASON_NOT_PRESENTED`].
    pub reason: String,
}

/// The most recent audit rows of a declaration, newest first, at most `limit`.
pub fn reads_of(
    c: &Connection,
    declaration_id: &str,
    limit: u32,
) -> Result<Vec<ReadAudit>, DbError> {
    let mut stmt = c.prepare_cached(
        "SELECT at, gate, case_id, officer, declaration_id, allowed, reason
         FROM declaration_reads WHERE declaration_id = ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![declaration_id, limit], |r| {
        Ok(ReadAudit {
            at: r.get(0)?,
            gate: r.get(1)?,
            case_id: r.get(2)?,
            officer: r.get(3)?,
            declaration_id: r.get(4)?,
            allowed: r.get(5)?,
            reason: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuer::store::{TokenRow, insert_token};

    #[test]
    fn only_a_presented_case_reads_and_every_read_is_audited() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(crate::issuer::store::TABLES.1).unwrap();
        c.execute_batch(TABLES.1).unwrap();
        let cti = crate::feed::cti_base64(&[1; 16]);
        insert_token(
            &c,
            &TokenRow {
                cti: cti.clone(),
                declaration_id: "d1".into(),
                revision: 1,
                kid: "k".into(),
                iat: 1,
                exp: 2,
            },
        )
        .unwrap();
        let p = vec![
            (7, "d1".to_owned(), cti.clone(), 100),
            (8, "d2".to_owned(), cti.clone(), 100),
        ];
        assert_eq!(record(&c, "g", &p, 0).unwrap(), (1, 0, 1));
        assert_eq!(record(&c, "g", &p[..1], 0).unwrap(), (0, 1, 0));
        let mut req = ReadRequest {
            gate: "g".into(),
            case_id: 7,
            officer: "o1".into(),
            declaration_id: "d1".into(),
        };
        assert!(authorize_read(&c, &req, 200).unwrap());
        req.case_id = 8;
        assert!(!authorize_read(&c, &req, 201).unwrap());
        req.gate = "other".into();
        req.case_id = 7;
        assert!(!authorize_read(&c, &req, 202).unwrap());
        let audit = reads_of(&c, "d1", 10).unwrap();
        assert_eq!(audit.len(), 3);
        assert_eq!(
            (audit[2].allowed, audit[2].reason.as_str()),
            (true, "presented")
        );
        assert_eq!(audit[1].reason, "not_presented");
        assert_eq!(purge_before(&c, 150).unwrap(), 1);
        assert_eq!(purge_before(&c, 1000).unwrap(), 3);
    }
}
