//! What the kiosk adds to the shared issuer (`shared::issuer`): a declaration id per
//! passenger, one token per declaration (a kiosk never revises: a passenger who wants
//! to change something declares again), and the lane it was judged into, recorded with
//! the token. Keys live under `$EGATE_DATA_DIR/kiosk/keys/`, the issued tokens, the
//! revocation feed and the lanes in `kiosk.db` (ids and times only, no personal data).

use shared::db::{Db, DbError, Migration};
use shared::domain::Declaration;
use shared::issuer::store::{TABLES, TokenRow, insert_token};
use shared::issuer::{IssueError as SignError, Issuer, IssuerStore, TokenRequest};
use shared::rules::{Evaluation, Lane};

/// Migrations of `kiosk.db`, in order. The first two are the kiosk's former own issuance
/// log and feed; the next three move their rows into the shared issuer tables.
pub const MIGRATIONS: &[Migration] = &[
    (
        "issuance log",
        "CREATE TABLE issuance (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        declaration_id TEXT NOT NULL UNIQUE,
        kid TEXT NOT NULL,
        cti TEXT NOT NULL UNIQUE,
        iat INTEGER NOT NULL,
        exp INTEGER NOT NULL,
        lane TEXT NOT NULL CHECK (lane IN ('green', 'red'))
    ) STRICT;",
    ),
    (
        "revocation feed of used tokens",
        "CREATE TABLE revocations (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        cti TEXT NOT NULL UNIQUE,
        reason TEXT NOT NULL CHECK (reason IN ('used')),
        at INTEGER NOT NULL
    );
    ALTER TABLE issuance ADD COLUMN used_at INTEGER;",
    ),
    (
        "the kiosk's issuance log and feed set aside",
        "ALTER TABLE revocations RENAME TO revocations_v1;
    ALTER TABLE issuance RENAME TO issuance_v1;",
    ),
    TABLES,
    (
        "issuance log and feed copied into the issuer tables; lanes kept by declaration",
        // The feed keeps its sequence numbers: gates resume from the last one they saw.
        "INSERT INTO tokens (cti, declaration_id, revision, kid, iat, exp, used_at)
        SELECT cti, declaration_id, 1, kid, iat, exp, used_at FROM issuance_v1 ORDER BY seq;
    INSERT INTO revocations (seq, cti, reason, at)
        SELECT seq, cti, reason, at FROM revocations_v1 ORDER BY seq;
    CREATE TABLE issuance (
        declaration_id TEXT PRIMARY KEY NOT NULL,
        cti TEXT NOT NULL UNIQUE REFERENCES tokens (cti),
        lane TEXT NOT NULL CHECK (lane IN ('green', 'red'))
    ) STRICT;
    INSERT INTO issuance (declaration_id, cti, lane)
        SELECT declaration_id, cti, lane FROM issuance_v1 ORDER BY seq;
    DROP TABLE issuance_v1;
    DROP TABLE revocations_v1;",
    ),
    shared::issuer::presentations::TABLES,
    shared::issuer::store::EPOCH,
];

/// Why issuing failed (all internal: the declaration was already valid).
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// Signing failed, or the arrival date is outside the token policy (the trip step
    /// admits only today and yesterday, which it always covers).
    #[error("token: {0}")]
    Sign(#[from] SignError),
    /// The issuance could not be recorded.
    #[error("issuance log: {0}")]
    Db(#[from] DbError),
    /// The operating system's random generator failed: no id is made up of zeros.
    #[error(transparent)]
    Rng(#[from] shared::web::RngError),
}

/// A blocking task that failed is a failure of the issuance it ran for.
impl From<shared::offload::TaskFailed> for IssueError {
    fn from(e: shared::offload::TaskFailed) -> Self {
        IssueError::Db(DbError::from(e))
    }
}

/// The kiosk's issuer and its issuance log. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Issuance {
    issuer: Issuer,
    db: Db,
    store: IssuerStore,
}

/// A freshly issued token and what the result page needs.
#[derive(Debug, Clone)]
pub struct Token {
    /// Declaration id.
    pub declaration_id: String,
    /// `CD1:…`.
    pub text: String,
    /// Expiry, unix seconds.
    pub exp: i64,
}

impl Issuance {
    /// Issuing with `issuer`, recording in `db` (opened with [`MIGRATIONS`]).
    pub fn new(issuer: Issuer, db: Db) -> Issuance {
        Issuance {
            issuer,
            store: IssuerStore::new(db.clone()),
            db,
        }
    }

    /// The shared issuer (keys, token policy).
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// Issued tokens and the revocation feed.
    pub fn store(&self) -> &IssuerStore {
        &self.store
    }

    /// The kiosk's SQLite database (the issuance log and the issuer tables).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Re-read the key directory (an operator may have rotated the key).
    pub fn reload_keys(&self) {
        self.issuer.reload();
    }

    /// Sign a token for `decl` judged as `eval` at `now`, and record it with its lane.
    pub async fn issue(
        &self,
        decl: &Declaration,
        eval: &Evaluation,
        now: i64,
    ) -> Result<Token, IssueError> {
        let declaration_id = new_declaration_id()?;
        let issuer = self.issuer.clone();
        let (id, d, profile_id) = (
            declaration_id.clone(),
            decl.clone(),
            eval.profile_id.clone(),
        );
        let issued = shared::offload::blocking(move || {
            let req = TokenRequest {
                declaration_id: &id,
                revision: 1,
                declaration: &d,
                profile_id: &profile_id,
            };
            issuer.sign(&req, now)
        })
        .await??;
        let lane = match eval.lane {
            Lane::Green => "green",
            Lane::Red => "red",
        };
        let row = TokenRow {
            cti: issued.cti_base64(),
            declaration_id: declaration_id.clone(),
            revision: 1,
            kid: issued.kid.clone(),
            iat: issued.iat,
            exp: issued.exp,
        };
        self.db
            .write(move |c| {
                insert_token(c, &row)?;
                c.execute(
                    "INSERT INTO issuance (declaration_id, cti, lane) VALUES (?1, ?2, ?3)",
                    rusqlite::params![row.declaration_id, row.cti, lane],
                )?;
                Ok::<_, DbError>(())
            })
            .await?;
        tracing::info!(declaration.id = %declaration_id, lane, "kiosk issued a declaration token");
        Ok(Token {
            declaration_id,
            text: issued.text,
            exp: issued.exp,
        })
    }

    /// Tokens issued so far (tests, operators).
    pub async fn issued_count(&self) -> Result<u64, DbError> {
        self.store.token_count().await
    }
}

/// The wizard's confirmation at the kiosk: a new declaration id and one token (a kiosk
/// never amends: a passenger who wants to change something declares again).
impl wizard::Submit for Issuance {
    fn submit(&self, s: wizard::Submission) -> wizard::SubmitFuture<'_, wizard::Receipt> {
        Box::pin(async move {
            if s.amend.is_some() {
                return Err(wizard::SubmitError::NotFound);
            }
            let token = self
                .issue(&s.declaration, &s.evaluation, s.now)
                .await
                .map_err(|e| wizard::SubmitError::Internal(format!("kiosk token: {e}")))?;
            Ok(wizard::Receipt {
                declaration_id: token.declaration_id,
                token: token.text,
                exp: token.exp,
                edit_token: None,
            })
        })
    }
}

/// A 12-character random URL-safe declaration id (72 bits), or the RNG's failure.
pub fn new_declaration_id() -> Result<String, shared::web::RngError> {
    use base64::Engine;
    let b = shared::web::random_bytes::<9>()?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declaration_ids_are_12_url_safe_characters() {
        let id = new_declaration_id().unwrap();
        assert_eq!(id.len(), 12);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(id, new_declaration_id().unwrap());
    }

    #[test]
    fn a_database_of_the_former_schema_keeps_its_tokens_lanes_and_feed_sequence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kiosk.db");
        Db::open(&path, &MIGRATIONS[..2]).unwrap().close();
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "INSERT INTO issuance (declaration_id, kid, cti, iat, exp, lane, used_at)
                VALUES ('d1', 'k', 'AAAAAAAAAAAAAAAAAAAAAA==', 1, 2, 'red', 5),
                       ('d2', 'k', 'AQEBAQEBAQEBAQEBAQEBAQ==', 1, 2, 'green', NULL);
             INSERT INTO revocations (seq, cti, reason, at)
                VALUES (7, 'AAAAAAAAAAAAAAAAAAAAAA==', 'used', 6);",
        )
        .unwrap();
        drop(c);
        let db = Db::open(&path, MIGRATIONS).unwrap();
        db.close();
        let c = rusqlite::Connection::open(&path).unwrap();
        let feed = shared::issuer::store::revocations_since(&c, 0, 10).unwrap();
        assert_eq!((feed.len(), feed[0].seq), (1, 7));
        assert_eq!(shared::issuer::store::token_count(&c).unwrap(), 2);
        let lane: String = c
            .query_row(
                "SELECT lane FROM issuance WHERE declaration_id = 'd1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(lane, "red");
        // A new use continues the sequence; a second report of the same token is known.
        let ack =
            shared::issuer::store::record_uses(&c, &[([0; 16], 9), ([1; 16], 9)], 10).unwrap();
        assert_eq!((ack.recorded, ack.known, ack.unknown), (1, 1, 0));
        assert_eq!(
            shared::issuer::store::revocations_since(&c, 7, 10).unwrap()[0].seq,
            8
        );
    }
}
