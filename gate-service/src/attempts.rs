//! What the gate remembers about scans that did not spend a token, in the scan's own
//! transaction: the refused-scan log (tokens refused before they verify, counted per
//! device, per hour and reason, never one row per request) and a genuine token's
//! attempts (misread passports per device, for the retry limit; another person's
//! passport, across devices, for the stolen-QR alert). See docs/flows.md.

use rusqlite::Connection;
use shared::db::DbError;

/// Reads of one token at one device that may misread before the answer is RED: the
/// first `MAX_READS - 1` misreads answer `retry`, the `MAX_READS`-th is RED.
pub const MAX_READS: u32 = 3;

/// Scans of one token with another person's passport (any devices) from which its cases
/// carry the stolen-QR alert.
pub const MISMATCH_ALERT_AT: u32 = 2;

/// The start of the UTC hour of `at` (unix seconds): the refused-scan log's bucket.
pub fn hour_of(at: i64) -> i64 {
    at - at.rem_euclid(3600)
}

/// Count one refused scan of `gate_id` at `now` for `reason`.
pub fn count_refused(c: &Connection, gate_id: &str, now: i64, reason: &str) -> Result<(), DbError> {
    c.prepare_cached(
        "INSERT INTO refused_scans (gate_id, hour, reason, count) VALUES (?1, ?2, ?3, 1)
         ON CONFLICT(gate_id, hour, reason) DO UPDATE SET count = count + 1",
    )?
    .execute(rusqlite::params![gate_id, hour_of(now), reason])?;
    Ok(())
}

/// Which counter of a token's attempts a scan adds to.
#[derive(Debug, Clone, Copy)]
pub enum Attempt {
    /// The passport could not be read (check digit, malformed MRZ).
    Misread,
    /// The passport read, and it is not the declaring passenger's.
    Mismatch,
}

/// Record one attempt of the token `cti` (expiring at `exp`) at `gate_id` and return the
/// count that matters for it: this device's misreads of the token, or the token's
/// mismatches across all devices.
pub fn record(
    c: &Connection,
    cti: &[u8; 16],
    gate_id: &str,
    now: i64,
    exp: i64,
    attempt: Attempt,
) -> Result<u32, DbError> {
    let (misread, mismatch) = match attempt {
        Attempt::Misread => (1, 0),
        Attempt::Mismatch => (0, 1),
    };
    let misreads: u32 = c
        .prepare_cached(
            "INSERT INTO token_attempts (cti, gate_id, misreads, mismatches, last_at, exp)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(cti, gate_id) DO UPDATE SET misreads = misreads + excluded.misreads,
                 mismatches = mismatches + excluded.mismatches, last_at = excluded.last_at
             RETURNING misreads",
        )?
        .query_row(
            rusqlite::params![&cti[..], gate_id, misread, mismatch, now, exp],
            |r| r.get(0),
        )?;
    match attempt {
        Attempt::Misread => Ok(misreads),
        Attempt::Mismatch => Ok(c
            .prepare_cached(
                "SELECT coalesce(sum(mismatches), 0) FROM token_attempts WHERE cti = ?1",
            )?
            .query_row([&cti[..]], |r| r.get(0))?),
    }
}

/// The retention purge's part: refused-scan counters older than `cutoff` and attempts of
/// tokens expired before `token_cutoff`. Returns the rows deleted.
pub fn purge(c: &Connection, cutoff: i64, token_cutoff: i64) -> Result<usize, DbError> {
    let refused = c.execute("DELETE FROM refused_scans WHERE hour < ?1", [cutoff])?;
    let attempts = c.execute("DELETE FROM token_attempts WHERE exp < ?1", [token_cutoff])?;
    Ok(refused + attempts)
}

/// One line of the console's refused-scan table: a device's refused scans in one hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedHour {
    /// The device.
    pub gate_id: String,
    /// Start of the hour (unix seconds, UTC).
    pub hour: i64,
    /// Refused scans in the hour, every reason.
    pub count: i64,
    /// The reason codes, most frequent first, with their counts.
    pub reasons: Vec<(String, i64)>,
}

/// Refused scans per device per hour since `since`, newest hour first, at most `limit`
/// lines (devices x hours are bounded; the limit bounds the page anyway).
pub fn refused_per_device_hour(
    c: &Connection,
    since: i64,
    limit: usize,
) -> Result<Vec<RefusedHour>, DbError> {
    let mut st = c.prepare_cached(
        "SELECT gate_id, hour, reason, count FROM refused_scans WHERE hour >= ?1
         ORDER BY hour DESC, gate_id, count DESC, reason",
    )?;
    let mut rows = st.query([since])?;
    let mut out: Vec<RefusedHour> = Vec::new();
    while let Some(r) = rows.next()? {
        let (gate_id, hour, reason, count): (String, i64, String, i64) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        match out.last_mut() {
            Some(last) if last.gate_id == gate_id && last.hour == hour => {
                last.count += count;
                last.reasons.push((reason, count));
            }
            _ => {
                if out.len() == limit {
                    break;
                }
                out.push(RefusedHour {
                    gate_id,
                    hour,
                    count,
                    reasons: vec![(reason, count)],
                });
            }
        }
    }
    Ok(out)
}
