//! The declaration store on PostgreSQL: the same rows and answers as [`crate::store`]
//! (SQLite), each operation one transaction with the issuer's token rows and feed
//! entries (`shared::issuer::pg::FeedTx`: feed positions assigned at the commit).

use crate::error::AppError;
use crate::store::{ERASE_SET, Revision, Row, json_err};
use shared::db::DbError;
use shared::issuer::pg::{FeedTx, ISSUER_TABLES};
use shared::issuer::store::{RevokeReason, TokenRow};
use shared::pg::{PgDb, PgMigration};

/// PostgreSQL migrations, in order (refinery): the issuer tables, then declarations.
pub const MIGRATIONS: &[PgMigration] = &[
    ISSUER_TABLES,
    (
        "V2__declarations",
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
            issued_at BIGINT NOT NULL,
            exp BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            erased_at BIGINT
        );
        CREATE INDEX declarations_arrival ON declarations (arrival_date) WHERE erased_at IS NULL;
        ALTER TABLE tokens ADD CONSTRAINT tokens_declaration_fk
            FOREIGN KEY (declaration_id) REFERENCES declarations (id);",
    ),
];

fn revision_i32(r: u32) -> Result<i32, AppError> {
    i32::try_from(r).map_err(|_| AppError::Internal("revision out of range".into()))
}

async fn insert_token_of(tx: &FeedTx<'_>, id: &str, rev: &Revision) -> Result<(), AppError> {
    let t = &rev.token;
    tx.insert_token(&TokenRow {
        cti: t.cti.clone(),
        declaration_id: id.to_owned(),
        revision: rev.revision,
        kid: t.kid.clone(),
        iat: t.iat,
        exp: t.exp,
    })
    .await?;
    Ok(())
}

/// [`crate::store::insert`] on PostgreSQL.
pub async fn insert(
    pg: &PgDb,
    id: &str,
    edit_token_hash: &str,
    rev: &Revision,
    now: i64,
) -> Result<(), AppError> {
    let (body, reasons, duty) = rev.encoded()?;
    let mut client = pg.client().await?;
    let tx = FeedTx::begin(&mut client).await?;
    tx.tx()
        .execute(
            "INSERT INTO declarations (id, edit_token_hash, revision, body, qr_text, duty,
                arrival_date, profile_id, lane, reasons, cti, kid, issued_at, exp, created_at,
                updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)",
            &[
                &id,
                &edit_token_hash,
                &revision_i32(rev.revision)?,
                &body,
                &rev.token.text,
                &duty,
                &rev.arrival_date,
                &rev.profile_id,
                &rev.lane,
                &reasons,
                &rev.token.cti,
                &rev.token.kid,
                &rev.token.iat,
                &rev.token.exp,
                &now,
            ],
        )
        .await
        .map_err(DbError::from)?;
    insert_token_of(&tx, id, rev).await?;
    tx.commit().await?;
    Ok(())
}

/// [`crate::store::replace`] on PostgreSQL: the row is locked (`FOR UPDATE`), so two
/// instances amending one declaration at once make one revision and one 409.
pub async fn replace(pg: &PgDb, id: &str, rev: &Revision, now: i64) -> Result<bool, AppError> {
    let (body, reasons, duty) = rev.encoded()?;
    let mut client = pg.client().await?;
    let mut tx = FeedTx::begin(&mut client).await?;
    let prev = tx
        .tx()
        .query_opt(
            "SELECT cti FROM declarations WHERE id = $1 AND revision = $2 AND erased_at IS NULL
             FOR UPDATE",
            &[&id, &revision_i32(rev.revision.saturating_sub(1))?],
        )
        .await
        .map_err(DbError::from)?;
    let Some(prev) = prev else {
        return Ok(false);
    };
    let prev_cti: String = prev.get(0);
    tx.tx()
        .execute(
            "UPDATE declarations SET revision = $2, body = $3, qr_text = $4, duty = $5,
                arrival_date = $6, profile_id = $7, lane = $8, reasons = $9, cti = $10,
                kid = $11, issued_at = $12, exp = $13, updated_at = $14
             WHERE id = $1",
            &[
                &id,
                &revision_i32(rev.revision)?,
                &body,
                &rev.token.text,
                &duty,
                &rev.arrival_date,
                &rev.profile_id,
                &rev.lane,
                &reasons,
                &rev.token.cti,
                &rev.token.kid,
                &rev.token.iat,
                &rev.token.exp,
                &now,
            ],
        )
        .await
        .map_err(DbError::from)?;
    tx.revoke(&prev_cti, RevokeReason::Superseded, now).await?;
    insert_token_of(&tx, id, rev).await?;
    tx.commit().await?;
    Ok(true)
}

/// [`crate::store::erase`] on PostgreSQL.
pub async fn erase(pg: &PgDb, id: &str, now: i64) -> Result<bool, AppError> {
    let mut client = pg.client().await?;
    let mut tx = FeedTx::begin(&mut client).await?;
    let cti = tx
        .tx()
        .query_opt(
            "SELECT cti FROM declarations WHERE id = $1 AND erased_at IS NULL FOR UPDATE",
            &[&id],
        )
        .await
        .map_err(DbError::from)?;
    let Some(cti) = cti else {
        return Ok(false);
    };
    let cti: String = cti.get(0);
    tx.tx()
        .execute(
            &format!(
                "UPDATE declarations SET {ERASE_SET}, erased_at = $2, updated_at = $2 WHERE id = $1"
            ),
            &[&id, &now],
        )
        .await
        .map_err(DbError::from)?;
    tx.revoke(&cti, RevokeReason::Erased, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// [`crate::store::purge_before`] on PostgreSQL.
pub async fn purge_before(pg: &PgDb, cutoff: &str, now: i64) -> Result<usize, AppError> {
    let n = pg
        .client()
        .await?
        .execute(
            &format!(
                "UPDATE declarations SET {ERASE_SET}, erased_at = $2, updated_at = $2
                 WHERE erased_at IS NULL AND arrival_date < $1"
            ),
            &[&cutoff, &now],
        )
        .await
        .map_err(DbError::from)?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// [`crate::store::get`] on PostgreSQL.
pub async fn get(pg: &PgDb, id: &str) -> Result<Option<Row>, AppError> {
    let row = pg
        .client()
        .await?
        .query_opt(
            "SELECT id, edit_token_hash, revision, body, qr_text, duty, arrival_date, profile_id,
                lane, reasons, cti, kid, issued_at, exp, erased_at
             FROM declarations WHERE id = $1",
            &[&id],
        )
        .await
        .map_err(DbError::from)?;
    let Some(r) = row else {
        return Ok(None);
    };
    let revision: i32 = r.get(2);
    let body: Option<String> = r.get(3);
    let duty: Option<String> = r.get(5);
    let reasons: String = r.get(9);
    Ok(Some(Row {
        id: r.get(0),
        edit_token_hash: r.get(1),
        revision: u32::try_from(revision).unwrap_or(0),
        body: body
            .map(|b| serde_json::from_str(&b))
            .transpose()
            .map_err(json_err)?,
        qr_text: r.get(4),
        duty: duty
            .map(|d| serde_json::from_str(&d))
            .transpose()
            .map_err(json_err)?,
        arrival_date: r.get(6),
        profile_id: r.get(7),
        lane: r.get(8),
        reasons: serde_json::from_str(&reasons).map_err(json_err)?,
        cti: r.get(10),
        kid: r.get(11),
        issued_at: r.get(12),
        exp: r.get(13),
        erased_at: r.get(14),
    }))
}
