//! The checks a revocation page passes before the gate stores it or moves its cursor
//! (docs/trust.md, "Revocation and use feeds"): a page that could make the gate skip
//! entries is refused whole and the cursor stays where it was.
//!
//! - every entry's `seq` is greater than the request's `since` and than the entry
//!   before it (strictly increasing);
//! - `next_since` equals the last entry's `seq`, or `since` when the page is empty;
//! - no `seq` exceeds [`MAX_FEED_SEQ`] (2^53 - 1, far beyond any real feed): a cursor
//!   of 9223372036854775807 would switch the feed off for good.

/// Highest sequence number a gate accepts.
pub const MAX_FEED_SEQ: i64 = (1 << 53) - 1;

/// Why a page is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// Entries out of order, repeated, or not after `since`.
    #[error("revocation sequence {seq} does not follow {after}: the page is refused")]
    NotIncreasing {
        /// The entry's sequence.
        seq: i64,
        /// What it had to exceed.
        after: i64,
    },
    /// An entry's token id is not 16 bytes of base64.
    #[error("revocation {seq} carries no valid token id: the page is refused")]
    BadTokenId {
        /// The entry's sequence.
        seq: i64,
    },
    /// `next_since` is not the last entry's sequence (or `since` for an empty page).
    #[error(
        "next_since {got} is not {expected} (the last sequence of the page): the page is refused"
    )]
    NextSince {
        /// What the issuer said.
        got: i64,
        /// What it had to be.
        expected: i64,
    },
    /// A sequence beyond [`MAX_FEED_SEQ`].
    #[error("revocation sequence {0} is beyond {MAX_FEED_SEQ}: the page is refused")]
    TooHigh(i64),
}

/// Check a page asked for with `since` holding `seqs` and `next_since`; returns the
/// new cursor.
pub fn check_page(since: i64, seqs: &[i64], next_since: i64) -> Result<i64, PageError> {
    let mut after = since;
    for &seq in seqs {
        if seq > MAX_FEED_SEQ {
            return Err(PageError::TooHigh(seq));
        }
        if seq <= after {
            return Err(PageError::NotIncreasing { seq, after });
        }
        after = seq;
    }
    if next_since != after {
        return Err(PageError::NextSince {
            got: next_since,
            expected: after,
        });
    }
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_consistent_page_moves_the_cursor() {
        assert_eq!(check_page(5, &[6, 9, 10], 10), Ok(10));
        assert_eq!(check_page(5, &[], 5), Ok(5));
        assert!(matches!(
            check_page(5, &[], i64::MAX),
            Err(PageError::NextSince { .. })
        ));
        assert!(matches!(
            check_page(5, &[6], i64::MAX),
            Err(PageError::NextSince { .. })
        ));
        assert!(matches!(
            check_page(5, &[6, 6], 6),
            Err(PageError::NotIncreasing { .. })
        ));
        assert!(matches!(
            check_page(5, &[4], 4),
            Err(PageError::NotIncreasing { .. })
        ));
        assert_eq!(
            check_page(0, &[i64::MAX], i64::MAX),
            Err(PageError::TooHigh(i64::MAX))
        );
    }
}
