//! Token issuance, the most sensitive operation: the key ring, the passport binding,
//! the validity window, and the issuance log (id, kid, cti, time; never personal data).

use shared::domain::{Declaration, format_date};
use shared::token::{self, BindingKey, Claims, Jwks, KeyRing, Summary};
use std::sync::{Arc, RwLock};
use time::{Date, Duration, OffsetDateTime, UtcOffset};

/// The issuer id written in every token (`iss`) and JWK.
pub const ISSUER: &str = "mobile-api";

/// Japan Standard Time, in which an arrival date ends.
const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// The signing keys and the binding key.
#[derive(Clone)]
pub struct Issuer {
    ring: Arc<RwLock<KeyRing>>,
    binding: BindingKey,
    grace: Duration,
    max_validity: Duration,
}

/// A freshly signed token.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The QR text `CD1:…`.
    pub text: String,
    /// Token id.
    pub cti: [u8; 16],
    /// Key id (standard base64).
    pub kid: String,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
}

/// Why a token cannot be issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The arrival date is outside the window a token can cover.
    #[error("{0}")]
    ArrivalDate(String),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
}

/// The end of `date` in Japan (the next midnight JST), unix seconds.
pub fn end_of_day_jst(date: Date) -> i64 {
    let next = date.next_day().unwrap_or(date);
    next.midnight().assume_offset(JST).unix_timestamp()
}

/// Today's date in Japan at unix time `now`.
pub fn today_jst(now: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(now)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(JST)
        .date()
}

impl Issuer {
    /// An issuer over `ring` and `binding`, with the token window parameters.
    pub fn new(ring: KeyRing, binding: BindingKey, grace_hours: i64, max_days: i64) -> Self {
        Self {
            ring: Arc::new(RwLock::new(ring)),
            binding,
            grace: Duration::hours(grace_hours),
            max_validity: Duration::days(max_days),
        }
    }

    /// Longest token validity, seconds.
    pub fn max_validity_secs(&self) -> i64 {
        self.max_validity.whole_seconds()
    }

    /// The token expiry for an arrival on `arrival` issued at `now`:
    /// min(end of the arrival date in JST + grace, now + max validity). Refuses an
    /// arrival date whose window has already closed, or more than the maximum
    /// validity ahead.
    pub fn expiry(&self, arrival: Date, now: i64) -> Result<i64, IssueError> {
        let end = end_of_day_jst(arrival).saturating_add(self.grace.whole_seconds());
        if end <= now {
            return Err(IssueError::ArrivalDate(
                "is in the past: declare for an arrival that has not happened yet".to_owned(),
            ));
        }
        let latest = today_jst(now)
            .checked_add(self.max_validity)
            .unwrap_or(Date::MAX);
        if arrival > latest {
            return Err(IssueError::ArrivalDate(format!(
                "is too far ahead: declare at most {} days before arrival",
                self.max_validity.whole_days()
            )));
        }
        Ok(end.min(now.saturating_add(self.max_validity.whole_seconds())))
    }

    /// Sign a token for revision `revision` of declaration `id` (blocking: call through
    /// `shared::db::blocking`). Logs the issuance.
    pub fn issue(
        &self,
        id: &str,
        revision: u32,
        decl: &Declaration,
        profile_id: &str,
        now: i64,
    ) -> Result<Issued, IssueError> {
        let exp = self.expiry(decl.trip.arrival_date, now)?;
        let p = &decl.passenger;
        let binding = self.binding.bind(
            p.nationality.as_str(),
            p.passport_number.as_str(),
            p.birth_date,
        );
        let mut declared = decl.declared.clone();
        for item in &mut declared.items {
            item.description = None;
        }
        let cti = token::new_cti();
        let claims = Claims {
            iss: ISSUER.to_owned(),
            iat: now,
            exp,
            cti,
            summary: Summary {
                declaration_id: id.to_owned(),
                revision,
                profile_id: profile_id.to_owned(),
                arrival_date: decl.trip.arrival_date,
                flight: decl.trip.flight.to_string(),
                binding,
                declared,
            },
        };
        let ring = self
            .ring
            .read()
            .map_err(|_| IssueError::Sign("key ring lock poisoned".into()))?;
        let key = ring.current();
        let text = token::encode(key, &claims).map_err(|e| IssueError::Sign(e.to_string()))?;
        let kid = key.kid().to_base64();
        drop(ring);
        tracing::info!(
            issuance.declaration_id = id,
            issuance.revision = revision,
            issuance.kid = %kid,
            issuance.cti = %b64(&cti),
            issuance.iat = now,
            issuance.exp = exp,
            issuance.arrival_date = %format_date(decl.trip.arrival_date),
            "token issued"
        );
        Ok(Issued {
            text,
            cti,
            kid,
            iat: now,
            exp,
        })
    }

    /// The published JWKS (current and still-relevant retired keys, each with `iss`).
    pub fn jwks(&self, now: i64) -> Jwks {
        match self.ring.read() {
            Ok(r) => r.jwks(now, self.max_validity_secs()),
            Err(_) => Jwks::default(),
        }
    }

    /// Every key id in the ring (standard base64).
    pub fn key_ids(&self) -> Vec<String> {
        match self.ring.read() {
            Ok(r) => r.kids().iter().map(|k| k.to_base64()).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Re-read the key directory (blocking: file I/O), to pick up a rotation.
    pub fn reload(&self) {
        if let Ok(mut r) = self.ring.write()
            && let Err(e) = r.reload()
        {
            tracing::error!(error = %e, "failed to reload the signing keys; keeping the current ones");
        }
    }
}

/// Standard base64 (kid, cti in JSON and the store).
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn issuer(dir: &std::path::Path) -> Issuer {
        let ring = KeyRing::open(&dir.join("keys"), ISSUER, 1_000).unwrap();
        Issuer::new(ring, BindingKey::from_bytes([7; 32]), 24, 30)
    }

    #[test]
    fn expiry_is_the_end_of_the_arrival_day_in_japan_plus_grace_capped_by_the_maximum() {
        let dir = tempfile::tempdir().unwrap();
        let iss = issuer(dir.path());
        let now = datetime!(2026-11-10 12:00 UTC).unix_timestamp();
        // 2026-11-12 ends at 2026-11-12T15:00Z; plus 24 h.
        assert_eq!(
            iss.expiry(date!(2026 - 11 - 12), now).unwrap(),
            datetime!(2026-11-13 15:00 UTC).unix_timestamp()
        );
        // Thirty days ahead is capped at now + 30 days.
        assert_eq!(
            iss.expiry(date!(2026 - 12 - 10), now).unwrap(),
            now + 30 * 86_400
        );
        assert!(iss.expiry(date!(2026 - 12 - 11), now).is_err());
        // Yesterday (JST) is still within the grace; three days ago is not.
        assert!(iss.expiry(date!(2026 - 11 - 09), now).is_ok());
        assert!(iss.expiry(date!(2026 - 11 - 07), now).is_err());
    }
}
