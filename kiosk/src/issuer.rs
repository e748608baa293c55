//! Issuing: the kiosk's signing keys (a key ring with rotation under
//! `$EGATE_DATA_DIR/kiosk/keys/`), the passport binding key, token expiry, and the
//! issuance log (SQLite: ids and times only, no personal data).

use shared::db::{Db, DbError, Migration};
use shared::domain::Declaration;
use shared::rules::{Evaluation, Lane};
use shared::token::{BindingKey, Claims, Jwks, KeyRing, Summary, encode, new_cti};
use std::sync::{Arc, RwLock};
use time::{Date, OffsetDateTime, UtcOffset};

/// Longest validity of a kiosk token: 30 days.
pub const MAX_TOKEN_SECS: i64 = 30 * 24 * 3600;
/// Grace after the end of the arrival date (Japan time).
pub const GRACE_SECS: i64 = 24 * 3600;

/// Migrations of `kiosk.db`.
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
];

/// Enter the tokens a gate reports as used in the feed, once each; ids the kiosk never
/// issued are counted as unknown and ignored.
pub fn record_uses(
    conn: &rusqlite::Connection,
    uses: &[([u8; 16], i64)],
    now: i64,
) -> Result<shared::feed::UseReportAck, DbError> {
    let mut ack = shared::feed::UseReportAck {
        recorded: 0,
        known: 0,
        unknown: 0,
    };
    for (cti, used_at) in uses {
        let cti = b64(cti);
        let issued = conn
            .prepare_cached("UPDATE issuance SET used_at = coalesce(used_at, ?2) WHERE cti = ?1")?
            .execute(rusqlite::params![cti, used_at])?;
        if issued == 0 {
            ack.unknown += 1;
            continue;
        }
        let n = conn
            .prepare_cached(
                "INSERT INTO revocations (cti, reason, at) VALUES (?1, 'used', ?2)
                 ON CONFLICT (cti) DO NOTHING",
            )?
            .execute(rusqlite::params![cti, now])?;
        if n == 1 {
            ack.recorded += 1;
        } else {
            ack.known += 1;
        }
    }
    Ok(ack)
}

/// The kiosk's feed: revocations with `seq > since`, in order, at most `limit`.
pub fn revocations_since(
    conn: &rusqlite::Connection,
    since: i64,
    limit: u32,
) -> Result<Vec<shared::feed::Revocation>, DbError> {
    Ok(shared::feed::revocations_since(conn, since, limit)?)
}

/// Japan Standard Time (no daylight saving).
pub fn jst() -> UtcOffset {
    UtcOffset::from_hms(9, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// Today in Japan.
pub fn today_in_japan(now: OffsetDateTime) -> Date {
    now.to_offset(jst()).date()
}

/// Token expiry: the end of the arrival date in Japan plus [`GRACE_SECS`], never more
/// than [`MAX_TOKEN_SECS`] after `iat`.
pub fn token_exp(arrival: Date, iat: i64) -> i64 {
    let end_of_day = arrival
        .next_day()
        .map(|d| d.midnight().assume_offset(jst()).unix_timestamp())
        .unwrap_or(iat);
    end_of_day
        .saturating_add(GRACE_SECS)
        .min(iat.saturating_add(MAX_TOKEN_SECS))
        .max(iat)
}

/// Why issuing failed (all internal: the declaration was already valid).
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// Signing or encoding the token failed.
    #[error("token: {0}")]
    Token(#[from] shared::token::TokenError),
    /// The key ring lock was poisoned.
    #[error("key ring unavailable")]
    Keys,
    /// The issuance log could not be written.
    #[error("issuance log: {0}")]
    Db(#[from] DbError),
    /// Rendering the QR code failed.
    #[error("qr: {0}")]
    Qr(#[from] shared::qr::QrError),
}

/// The kiosk's signing keys, binding key and issuance log.
#[derive(Clone)]
pub struct Issuer {
    /// Issuer id, `kiosk:<terminal-id>`.
    pub issuer: String,
    keys: Arc<RwLock<KeyRing>>,
    binding: Arc<BindingKey>,
    db: Db,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
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

impl Issuer {
    /// An issuer over an opened key ring, binding key and database.
    pub fn new(issuer: String, keys: KeyRing, binding: BindingKey, db: Db) -> Issuer {
        Issuer {
            issuer,
            keys: Arc::new(RwLock::new(keys)),
            binding: Arc::new(binding),
            db,
        }
    }

    /// The database handle (closed by `serve` at shutdown).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The trust list to publish at `now`.
    pub fn jwks(&self, now: i64) -> Jwks {
        match self.keys.read() {
            Ok(k) => k.jwks(now, MAX_TOKEN_SECS),
            Err(_) => Jwks::default(),
        }
    }

    /// Re-read the key directory (an operator may have rotated the key).
    pub fn reload_keys(&self) {
        let keys = self.keys.clone();
        let result = match keys.write() {
            Ok(mut k) => k.reload(),
            Err(_) => return,
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "failed to reload the kiosk key directory");
        }
    }

    /// Sign a token for `decl` judged as `eval` at `now`, and log the issuance.
    pub async fn issue(
        &self,
        decl: &Declaration,
        eval: &Evaluation,
        now: i64,
    ) -> Result<Token, IssueError> {
        let declaration_id = new_declaration_id();
        let mut declared = decl.declared.clone();
        for it in &mut declared.items {
            it.description = None;
        }
        let p = &decl.passenger;
        let summary = Summary {
            declaration_id: declaration_id.clone(),
            revision: 1,
            profile_id: eval.profile_id.clone(),
            arrival_date: decl.trip.arrival_date,
            flight: decl.trip.flight.to_string(),
            binding: self.binding.bind(
                p.nationality.as_str(),
                p.passport_number.as_str(),
                p.birth_date,
            ),
            declared,
        };
        let claims = Claims {
            iss: self.issuer.clone(),
            iat: now,
            exp: token_exp(decl.trip.arrival_date, now),
            cti: new_cti(),
            summary,
        };
        let keys = self.keys.clone();
        let c = claims.clone();
        let (text, kid) = shared::db::blocking(move || {
            let ring = keys.read().map_err(|_| IssueError::Keys)?;
            let key = ring.current();
            Ok::<_, IssueError>((encode(key, &c)?, key.kid()))
        })
        .await
        .map_err(IssueError::Db)??;
        let kid_b64 = kid.to_base64();
        let cti_b64 = b64(&claims.cti);
        let lane = match eval.lane {
            Lane::Green => "green",
            Lane::Red => "red",
        };
        let (id, k, c2) = (declaration_id.clone(), kid_b64.clone(), cti_b64.clone());
        let (iat, exp) = (claims.iat, claims.exp);
        self.db
            .write(move |conn| {
                conn.execute(
                    "INSERT INTO issuance (declaration_id, kid, cti, iat, exp, lane)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    rusqlite::params![id, k, c2, iat, exp, lane],
                )
                .map_err(DbError::Sqlite)
            })
            .await?;
        tracing::info!(
            declaration.id = %declaration_id,
            token.kid = %kid_b64,
            token.cti = %cti_b64,
            lane,
            "kiosk issued a declaration token"
        );
        Ok(Token {
            declaration_id,
            text,
            exp: claims.exp,
        })
    }

    /// Issuances logged so far (tests, operators).
    pub async fn issued_count(&self) -> Result<u64, DbError> {
        self.db
            .read(|conn| {
                conn.query_row("SELECT COUNT(*) FROM issuance", [], |r| r.get::<_, i64>(0))
                    .map(|n| u64::try_from(n).unwrap_or(0))
                    .map_err(DbError::Sqlite)
            })
            .await
    }
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A 12-character random URL-safe declaration id (72 bits).
pub fn new_declaration_id() -> String {
    use base64::Engine;
    let mut b = [0u8; 9];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).is_err() {
        tracing::error!("operating system random number generator failed");
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn a_token_lasts_until_the_end_of_the_arrival_day_in_japan_plus_a_day() {
        // 2026-11-20 10:00 JST = 01:00 UTC.
        let iat = datetime!(2026-11-20 01:00 UTC).unix_timestamp();
        let exp = token_exp(date!(2026 - 11 - 20), iat);
        assert_eq!(exp, datetime!(2026-11-22 00:00 +9).unix_timestamp());
        // Never more than 30 days, never before iat.
        assert_eq!(token_exp(date!(2027 - 11 - 20), iat), iat + MAX_TOKEN_SECS);
        assert_eq!(token_exp(date!(2020 - 01 - 01), iat), iat);
    }

    #[test]
    fn declaration_ids_are_12_url_safe_characters() {
        let id = new_declaration_id();
        assert_eq!(id.len(), 12);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(id, new_declaration_id());
    }

    #[test]
    fn today_in_japan_turns_at_15_utc() {
        assert_eq!(
            today_in_japan(datetime!(2026-11-20 14:59 UTC)),
            date!(2026 - 11 - 20)
        );
        assert_eq!(
            today_in_japan(datetime!(2026-11-20 15:00 UTC)),
            date!(2026 - 11 - 21)
        );
    }
}
