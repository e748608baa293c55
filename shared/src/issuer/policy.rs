//! The token policy: a QR is valid until the end of its arrival date in the country's
//! time zone plus a grace, and never longer than the longest validity after issue; an
//! arrival date whose window has closed, or further ahead than the longest validity, is
//! refused at issue.
//!
//! The figures ([`Validity`]) are deployment configuration, read from
//! `EGATE_TOKEN_GRACE_HOURS` and `EGATE_TOKEN_MAX_DAYS` by every issuer alike; the time
//! zone is the rules profile's ([`crate::rules::RulesProfile::utc_offset`]).

use crate::rules::RulesProfile;
use time::{Date, Duration, OffsetDateTime, UtcOffset};

/// Default grace after the end of the arrival date, hours.
pub const DEFAULT_GRACE_HOURS: i64 = 24;
/// Default longest validity, days.
pub const DEFAULT_MAX_DAYS: i64 = 30;

/// A validity setting out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}={value:?} is invalid: {expected}")]
pub struct ValidityError {
    /// The environment variable.
    pub name: &'static str,
    /// What it held.
    pub value: String,
    /// What it must hold.
    pub expected: &'static str,
}

/// How long tokens live: the grace after the arrival date and the longest validity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    grace_hours: i64,
    max_days: i64,
}

impl Default for Validity {
    fn default() -> Self {
        Validity {
            grace_hours: DEFAULT_GRACE_HOURS,
            max_days: DEFAULT_MAX_DAYS,
        }
    }
}

impl Validity {
    /// A grace of `grace_hours` (0 to 720) and a longest validity of `max_days` (1 to 365).
    pub fn new(grace_hours: i64, max_days: i64) -> Result<Validity, ValidityError> {
        if !(0..=24 * 30).contains(&grace_hours) {
            return Err(ValidityError {
                name: "EGATE_TOKEN_GRACE_HOURS",
                value: grace_hours.to_string(),
                expected: "must be 0 to 720",
            });
        }
        if !(1..=365).contains(&max_days) {
            return Err(ValidityError {
                name: "EGATE_TOKEN_MAX_DAYS",
                value: max_days.to_string(),
                expected: "must be 1 to 365",
            });
        }
        Ok(Validity {
            grace_hours,
            max_days,
        })
    }

    /// From `EGATE_TOKEN_GRACE_HOURS` (default 24) and `EGATE_TOKEN_MAX_DAYS` (default 30).
    pub fn from_env() -> Result<Validity, ValidityError> {
        let read = |name: &'static str, default: i64| match std::env::var(name) {
            Ok(v) if !v.trim().is_empty() => v.trim().parse::<i64>().map_err(|_| ValidityError {
                name,
                value: v.clone(),
                expected: "must be a whole number",
            }),
            _ => Ok(default),
        };
        Validity::new(
            read("EGATE_TOKEN_GRACE_HOURS", DEFAULT_GRACE_HOURS)?,
            read("EGATE_TOKEN_MAX_DAYS", DEFAULT_MAX_DAYS)?,
        )
    }

    /// Grace after the end of the arrival date.
    pub fn grace(&self) -> Duration {
        Duration::hours(self.grace_hours)
    }

    /// Longest validity from issue (also how far ahead an arrival date may be).
    pub fn max(&self) -> Duration {
        Duration::days(self.max_days)
    }

    /// How long a retired key stays in the trust list, seconds: no token it signed
    /// lives longer than the longest validity, and it signed none after retirement.
    pub fn key_publish_secs(&self) -> i64 {
        self.max().whole_seconds()
    }
}

/// Why an arrival date cannot be covered by a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArrivalError {
    /// Its window (end of the day plus grace) has closed.
    #[error("is in the past: declare for an arrival that has not happened yet")]
    Past,
    /// More than the longest validity ahead.
    #[error("is too far ahead: declare at most {0} days before arrival")]
    TooFarAhead(i64),
}

/// The figures and the time zone together: what an issuer applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenPolicy {
    validity: Validity,
    offset: UtcOffset,
}

impl TokenPolicy {
    /// `validity` counted in the time zone at `offset`.
    pub fn new(validity: Validity, offset: UtcOffset) -> TokenPolicy {
        TokenPolicy { validity, offset }
    }

    /// `validity` counted in the time zone of `profile`.
    pub fn for_profile(validity: Validity, profile: &RulesProfile) -> TokenPolicy {
        TokenPolicy::new(validity, profile.utc_offset())
    }

    /// The figures.
    pub fn validity(&self) -> Validity {
        self.validity
    }

    /// The time zone's offset.
    pub fn offset(&self) -> UtcOffset {
        self.offset
    }

    /// Unix time `unix` in the time zone (for display).
    pub fn local(&self, unix: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            .to_offset(self.offset)
    }

    /// Today's date in the time zone at unix time `now`.
    pub fn today(&self, now: i64) -> Date {
        self.local(now).date()
    }

    /// The end of `date` in the time zone (its next midnight), unix seconds.
    pub fn end_of_day(&self, date: Date) -> i64 {
        let next = date.next_day().unwrap_or(date);
        next.midnight().assume_offset(self.offset).unix_timestamp()
    }

    /// The expiry of a token for an arrival on `arrival` issued at `now`: the end of
    /// the arrival date plus the grace, capped at `now` plus the longest validity.
    pub fn expiry(&self, arrival: Date, now: i64) -> Result<i64, ArrivalError> {
        let max = self.validity.max();
        let end = self
            .end_of_day(arrival)
            .saturating_add(self.validity.grace().whole_seconds());
        if end <= now {
            return Err(ArrivalError::Past);
        }
        let latest = self.today(now).checked_add(max).unwrap_or(Date::MAX);
        if arrival > latest {
            return Err(ArrivalError::TooFarAhead(max.whole_days()));
        }
        Ok(end.min(now.saturating_add(max.whole_seconds())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn japan() -> TokenPolicy {
        TokenPolicy::for_profile(Validity::default(), RulesProfile::jp_2026_ref())
    }

    #[test]
    fn expiry_is_the_end_of_the_arrival_day_in_japan_plus_grace_capped_by_the_maximum() {
        let p = japan();
        let now = datetime!(2026-11-10 12:00 UTC).unix_timestamp();
        // 2026-11-12 ends at 2026-11-12T15:00Z; plus 24 h.
        assert_eq!(
            p.expiry(date!(2026 - 11 - 12), now).unwrap(),
            datetime!(2026-11-13 15:00 UTC).unix_timestamp()
        );
        // Thirty days ahead is capped at now + 30 days.
        assert_eq!(
            p.expiry(date!(2026 - 12 - 10), now).unwrap(),
            now + 30 * 86_400
        );
        assert_eq!(
            p.expiry(date!(2026 - 12 - 11), now),
            Err(ArrivalError::TooFarAhead(30))
        );
        // Yesterday (JST) is still within the grace; three days ago is not.
        assert!(p.expiry(date!(2026 - 11 - 09), now).is_ok());
        assert_eq!(
            p.expiry(date!(2026 - 11 - 07), now),
            Err(ArrivalError::Past)
        );
    }

    #[test]
    fn a_token_issued_on_the_arrival_day_lasts_until_the_end_of_the_next_day_in_japan() {
        // 2026-11-20 10:00 JST = 01:00 UTC.
        let iat = datetime!(2026-11-20 01:00 UTC).unix_timestamp();
        assert_eq!(
            japan().expiry(date!(2026 - 11 - 20), iat).unwrap(),
            datetime!(2026-11-22 00:00 +9).unix_timestamp()
        );
    }

    #[test]
    fn today_in_japan_turns_at_15_utc() {
        let p = japan();
        let at = |t: OffsetDateTime| p.today(t.unix_timestamp());
        assert_eq!(at(datetime!(2026-11-20 14:59 UTC)), date!(2026 - 11 - 20));
        assert_eq!(at(datetime!(2026-11-20 15:00 UTC)), date!(2026 - 11 - 21));
    }

    #[test]
    fn validity_figures_are_bounded_and_keys_outlive_their_tokens() {
        assert!(Validity::new(0, 1).is_ok());
        assert_eq!(
            Validity::new(721, 30).unwrap_err().name,
            "EGATE_TOKEN_GRACE_HOURS"
        );
        assert_eq!(
            Validity::new(24, 0).unwrap_err().name,
            "EGATE_TOKEN_MAX_DAYS"
        );
        assert_eq!(Validity::default().key_publish_secs(), 30 * 86_400);
    }
}
