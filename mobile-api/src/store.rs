//! The declaration store on SQLite (through `shared::db`; [`crate::store_pg`] is the
//! same on PostgreSQL, [`crate::storage`] the one interface over both): declarations,
//! with every token issued and the revocation feed kept by `shared::issuer::store` in
//! the same database and the same transaction. Each operation is one `db.write`, so a failure half way
//! leaves nothing behind.
//!
//! Personal data lives only in `declarations.body` (the validated input as JSON),
//! `declarations.qr_text` (the token carries the passport binding) and
//! `declarations.duty` (derived from the items); erasure sets them to NULL and keeps
//! the audit columns (id, revision, dates, profile, lane, reason codes, kid, cti).

use crate::error::AppError;
use rusqlite::{Connection, OptionalExtension as _, params};
use serde::{Deserialize, Serialize};
use shared::db::Migration;
use shared::domain::DeclarationInput;
use shared::issuer::store::{RevokeReason, TokenRow, insert_token, revoke};
use shared::rules::Reason;
use std::collections::BTreeMap;

/// Embedded migrations, in order. The `tokens` and `revocations` tables they make are
/// the issuer tables of `shared::issuer::store` (the same columns as its `TABLES`).
pub const MIGRATIONS: &[Migration] = &[
    (
        "declarations, tokens, revocations",
        "CREATE TABLE declarations (
        id TEXT PRIMARY KEY NOT NULL,
        edit_token_hash TEXT,
        revision INTEGER NOT NULL,
        body TEXT,
        qr_text TEXT,
        duty TEXT,
        arrival_date TEXT NOT NULL,
        profile_id TEXT NOT NULL,
        lane TEXT NOT NULL,
        reasons TEXT NOT NULL,
        cti TEXT NOT NULL,
        kid TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        exp INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        erased_at INTEGER
    ) STRICT;
    CREATE INDEX declarations_arrival ON declarations (arrival_date) WHERE erased_at IS NULL;
    CREATE TABLE tokens (
        cti TEXT PRIMARY KEY NOT NULL,
        declaration_id TEXT NOT NULL REFERENCES declarations (id),
        revision INTEGER NOT NULL,
        kid TEXT NOT NULL,
        iat INTEGER NOT NULL,
        exp INTEGER NOT NULL,
        superseded_at INTEGER
    ) STRICT;
    CREATE TABLE revocations (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        cti TEXT NOT NULL,
        reason TEXT NOT NULL CHECK (reason IN ('superseded', 'erased')),
        at INTEGER NOT NULL
    );",
    ),
    (
        "revocations of used tokens (gate use reports)",
        "CREATE TABLE revocations_v2 (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        cti TEXT NOT NULL,
        reason TEXT NOT NULL CHECK (reason IN ('superseded', 'erased', 'used')),
        at INTEGER NOT NULL
    );
    INSERT INTO revocations_v2 (seq, cti, reason, at) SELECT seq, cti, reason, at FROM revocations;
    DROP TABLE revocations;
    ALTER TABLE revocations_v2 RENAME TO revocations;
    CREATE INDEX revocations_cti ON revocations (cti);
    ALTER TABLE tokens ADD COLUMN used_at INTEGER;",
    ),
    shared::issuer::presentations::TABLES,
    shared::issuer::store::EPOCH,
];

/// A reason as stored (code and arguments; localised when read).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredReason {
    /// Stable code.
    pub code: String,
    /// Message arguments.
    #[serde(default)]
    pub args: BTreeMap<String, String>,
}

impl From<&Reason> for StoredReason {
    fn from(r: &Reason) -> Self {
        Self {
            code: r.code.clone(),
            args: r.args.clone(),
        }
    }
}

impl StoredReason {
    /// Back to a rules reason (for its localised message).
    pub fn to_reason(&self) -> Reason {
        Reason {
            code: self.code.clone(),
            args: self.args.clone(),
        }
    }
}

/// The token issued for one revision.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    /// Token id, standard base64.
    pub cti: String,
    /// Key id, standard base64.
    pub kid: String,
    /// Issued at, unix s.
    pub iat: i64,
    /// Expiry, unix s.
    pub exp: i64,
    /// The QR text.
    pub text: String,
}

/// What one revision stores.
#[derive(Debug, Clone)]
pub struct Revision {
    /// Revision number (1 for the first).
    pub revision: u32,
    /// The validated input.
    pub body: DeclarationInput,
    /// Arrival date, `YYYY-MM-DD`.
    pub arrival_date: String,
    /// Rules profile id.
    pub profile_id: String,
    /// `green` or `red`.
    pub lane: String,
    /// Reasons.
    pub reasons: Vec<StoredReason>,
    /// The duty estimate as JSON.
    pub duty: serde_json::Value,
    /// The token.
    pub token: TokenRecord,
}

/// A declaration row.
#[derive(Debug, Clone)]
pub struct Row {
    /// Id.
    pub id: String,
    /// SHA-256 hex of the edit token (`None` once erased).
    pub edit_token_hash: Option<String>,
    /// Current revision.
    pub revision: u32,
    /// The declaration (`None` once erased).
    pub body: Option<DeclarationInput>,
    /// The current QR text (`None` once erased).
    pub qr_text: Option<String>,
    /// Duty estimate JSON (`None` once erased).
    pub duty: Option<serde_json::Value>,
    /// Arrival date.
    pub arrival_date: String,
    /// Profile id.
    pub profile_id: String,
    /// Lane.
    pub lane: String,
    /// Reasons.
    pub reasons: Vec<StoredReason>,
    /// Current token id.
    pub cti: String,
    /// Key id of the current token.
    pub kid: String,
    /// Issue time of the current token.
    pub issued_at: i64,
    /// Expiry of the current token.
    pub exp: i64,
    /// Erasure time.
    pub erased_at: Option<i64>,
}

pub(crate) fn json_err(e: serde_json::Error) -> AppError {
    AppError::Internal(format!("stored JSON: {e}"))
}

fn insert_token_of(c: &Connection, id: &str, rev: &Revision) -> Result<(), AppError> {
    let t = &rev.token;
    insert_token(
        c,
        &TokenRow {
            cti: t.cti.clone(),
            declaration_id: id.to_owned(),
            revision: rev.revision,
            kid: t.kid.clone(),
            iat: t.iat,
            exp: t.exp,
        },
    )?;
    Ok(())
}

impl Revision {
    /// The JSON columns of a revision: body, reasons, duty estimate.
    pub(crate) fn encoded(&self) -> Result<(String, String, String), AppError> {
        Ok((
            serde_json::to_string(&self.body).map_err(json_err)?,
            serde_json::to_string(&self.reasons).map_err(json_err)?,
            serde_json::to_string(&self.duty).map_err(json_err)?,
        ))
    }
}

/// Insert a new declaration with its first token.
pub fn insert(
    c: &Connection,
    id: &str,
    edit_token_hash: &str,
    rev: &Revision,
    now: i64,
) -> Result<(), AppError> {
    let (body, reasons, duty) = rev.encoded()?;
    c.execute(
        "INSERT INTO declarations (id, edit_token_hash, revision, body, qr_text, duty, arrival_date,
            profile_id, lane, reasons, cti, kid, issued_at, exp, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15)",
        params![
            id,
            edit_token_hash,
            rev.revision,
            body,
            rev.token.text,
            duty,
            rev.arrival_date,
            rev.profile_id,
            rev.lane,
            reasons,
            rev.token.cti,
            rev.token.kid,
            rev.token.iat,
            rev.token.exp,
            now
        ],
    )?;
    insert_token_of(c, id, rev)
}

/// Replace the current revision `rev.revision - 1` by `rev`: the previous token is
/// marked superseded and enters the revocation feed. Returns `false` (and changes
/// nothing) when the declaration is gone, erased, or was changed concurrently.
pub fn replace(c: &Connection, id: &str, rev: &Revision, now: i64) -> Result<bool, AppError> {
    let prev: Option<String> = c
        .query_row(
            "SELECT cti FROM declarations WHERE id = ?1 AND revision = ?2 AND erased_at IS NULL",
            params![id, rev.revision.saturating_sub(1)],
            |r| r.get(0),
        )
        .optional()?;
    let Some(prev_cti) = prev else {
        return Ok(false);
    };
    let (body, reasons, duty) = rev.encoded()?;
    c.execute(
        "UPDATE declarations SET revision = ?2, body = ?3, qr_text = ?4, duty = ?5, arrival_date = ?6,
            profile_id = ?7, lane = ?8, reasons = ?9, cti = ?10, kid = ?11, issued_at = ?12,
            exp = ?13, updated_at = ?14
         WHERE id = ?1",
        params![
            id,
            rev.revision,
            body,
            rev.token.text,
            duty,
            rev.arrival_date,
            rev.profile_id,
            rev.lane,
            reasons,
            rev.token.cti,
            rev.token.kid,
            rev.token.iat,
            rev.token.exp,
            now
        ],
    )?;
    revoke(c, &prev_cti, RevokeReason::Superseded, now)?;
    insert_token_of(c, id, rev)?;
    Ok(true)
}

pub(crate) const ERASE_SET: &str =
    "edit_token_hash = NULL, body = NULL, qr_text = NULL, duty = NULL";

/// Erase the personal data of a declaration at the passenger's request and revoke its
/// current token. Returns `false` when there was nothing to erase.
pub fn erase(c: &Connection, id: &str, now: i64) -> Result<bool, AppError> {
    let cti: Option<String> = c
        .query_row(
            "SELECT cti FROM declarations WHERE id = ?1 AND erased_at IS NULL",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(cti) = cti else {
        return Ok(false);
    };
    c.execute(
        &format!(
            "UPDATE declarations SET {ERASE_SET}, erased_at = ?2, updated_at = ?2 WHERE id = ?1"
        ),
        params![id, now],
    )?;
    revoke(c, &cti, RevokeReason::Erased, now)?;
    Ok(true)
}

/// Erase the personal data of every declaration whose arrival date is before
/// `cutoff` (`YYYY-MM-DD`). Their tokens have expired already, so none is revoked.
pub fn purge_before(c: &Connection, cutoff: &str, now: i64) -> Result<usize, AppError> {
    let n = c.execute(
        &format!(
            "UPDATE declarations SET {ERASE_SET}, erased_at = ?2, updated_at = ?2
             WHERE erased_at IS NULL AND arrival_date < ?1"
        ),
        params![cutoff, now],
    )?;
    Ok(n)
}

/// Read one declaration (erased ones too).
pub fn get(c: &Connection, id: &str) -> Result<Option<Row>, AppError> {
    let raw = c
        .query_row(
            "SELECT id, edit_token_hash, revision, body, qr_text, duty, arrival_date, profile_id,
                lane, reasons, cti, kid, issued_at, exp, erased_at
             FROM declarations WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    (
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, u32>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, String>(6)?,
                    ),
                    (
                        r.get::<_, String>(7)?,
                        r.get::<_, String>(8)?,
                        r.get::<_, String>(9)?,
                        r.get::<_, String>(10)?,
                        r.get::<_, String>(11)?,
                        r.get::<_, i64>(12)?,
                        r.get::<_, i64>(13)?,
                        r.get::<_, Option<i64>>(14)?,
                    ),
                ))
            },
        )
        .optional()?;
    let Some((
        (id, edit_token_hash, revision, body, qr_text, duty, arrival_date),
        (profile_id, lane, reasons, cti, kid, issued_at, exp, erased_at),
    )) = raw
    else {
        return Ok(None);
    };
    Ok(Some(Row {
        id,
        edit_token_hash,
        revision,
        body: body
            .map(|b| serde_json::from_str(&b))
            .transpose()
            .map_err(json_err)?,
        qr_text,
        duty: duty
            .map(|d| serde_json::from_str(&d))
            .transpose()
            .map_err(json_err)?,
        arrival_date,
        profile_id,
        lane,
        reasons: serde_json::from_str(&reasons).map_err(json_err)?,
        cti,
        kid,
        issued_at,
        exp,
        erased_at,
    }))
}
