//! Sign-in throttling per account and per client address, and the one path that checks
//! a password ([`authenticate`]).

use super::normalise_username;
use super::password::{DUMMY_HASH, verify_password};
use crate::AppState;
use crate::console::ConsoleConfig;
use crate::error::AppError;
use rusqlite::{OptionalExtension, params};

/// How long (seconds) an attempt must still wait, from the failures counted in the
/// window (`count`, the latest at `last`).
fn wait_secs(cfg: &ConsoleConfig, count: i64, last: i64, now: i64) -> i64 {
    if count < cfg.throttle_free_failures {
        return 0;
    }
    let until = if count >= cfg.lock_after_failures {
        last + cfg.lock_secs
    } else {
        let steps = (count - cfg.throttle_free_failures).min(20) as u32;
        let delay = cfg.throttle_base_delay_secs.saturating_mul(1i64 << steps);
        last + delay.min(cfg.lock_secs)
    };
    (until - now).max(0)
}

/// The wait imposed on `username` from `ip` now (0 = may try). Failures are counted in
/// the window that ends at the *latest* failure, so a lock lasts its full period even as
/// the earliest failures age, and lifts by itself afterwards (refused attempts are not
/// failures: hammering a locked account does not extend the lock).
fn throttle(
    c: &rusqlite::Connection,
    cfg: &ConsoleConfig,
    username: &str,
    ip: &str,
    now: i64,
) -> rusqlite::Result<i64> {
    // Older failures cannot matter: a wait never exceeds the lock period.
    let horizon = now - cfg.throttle_window_secs - cfg.lock_secs;
    // Per client address: every failure (a success does not reset it).
    let (n_ip, last_ip): (i64, Option<i64>) = c.query_row(
        "WITH f AS (SELECT at FROM login_attempts
                    WHERE client_ip = ?1 AND success = 0 AND throttled = 0 AND at > ?2)
         SELECT count(*), max(at) FROM f WHERE at > (SELECT max(at) FROM f) - ?3",
        params![ip, horizon, cfg.throttle_window_secs],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(account_wait(c, cfg, username, now)?.max(wait_secs(cfg, n_ip, last_ip.unwrap_or(now), now)))
}

/// The wait imposed on the account `username` now, whatever the address (0 = may
/// try): its failures since its last success and since a supervisor last unlocked it.
pub fn account_wait(
    c: &rusqlite::Connection,
    cfg: &ConsoleConfig,
    username: &str,
    now: i64,
) -> rusqlite::Result<i64> {
    let horizon = now - cfg.throttle_window_secs - cfg.lock_secs;
    let (n_user, last_user): (i64, Option<i64>) = c.query_row(
        "WITH f AS (SELECT at FROM login_attempts
                    WHERE username = ?1 AND success = 0 AND throttled = 0 AND at > ?2
                      AND at >= (SELECT coalesce(max(at), 0) FROM login_attempts
                                 WHERE username = ?1 AND success = 1)
                      AND id > (SELECT coalesce(max(last_attempt_id), 0) FROM account_unlocks
                                WHERE username = ?1))
         SELECT count(*), max(at) FROM f WHERE at > (SELECT max(at) FROM f) - ?3",
        params![username, horizon, cfg.throttle_window_secs],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(wait_secs(cfg, n_user, last_user.unwrap_or(now), now))
}

/// Lift the per-account throttle of `username` (a supervisor's unlock, inside a
/// write): the failures recorded so far no longer count. The per-address throttle
/// stays (an unlock does not help whoever was guessing).
pub fn unlock_account(
    c: &rusqlite::Connection,
    username: &str,
    supervisor_id: i64,
    now: i64,
) -> rusqlite::Result<()> {
    let last: i64 = c.query_row(
        "SELECT coalesce(max(id), 0) FROM login_attempts WHERE username = ?1",
        [username],
        |r| r.get(0),
    )?;
    c.execute(
        "INSERT INTO account_unlocks (username, officer_id, at, last_attempt_id)
         VALUES (?1, ?2, ?3, ?4)",
        params![username, supervisor_id, now, last],
    )?;
    Ok(())
}

/// The throttle's answer inside the write: the attempt id and the officer (id, hash)
/// when the attempt may go ahead, or the seconds to wait.
type Gate = Result<(i64, Option<(i64, String)>), i64>;

/// How a user name that belongs to no account is kept in `login_attempts`: `#` (which
/// no user name contains) and the first 16 hex digits of its HMAC-SHA256 under a key
/// derived from the gate's own secret (`gate/selection.key`): a password typed as the
/// user name can be neither read nor guessed back from a copy of the database.
pub fn unknown_user_key(state: &AppState, username: &str) -> String {
    let tag = ring::hmac::sign(&state.login_name_key, username.as_bytes());
    format!("#{}", &hex::encode(tag.as_ref())[..16])
}

/// What [`authenticate`] decided.
#[derive(Debug)]
pub enum AuthResult {
    /// The password is right: the officer id.
    Ok(i64),
    /// Wrong user name or password.
    Wrong,
    /// Too many failures: wait this many seconds.
    Throttled(i64),
}

/// Check a user name and password under the throttle. Every path that authenticates an
/// officer goes through here. The attempt is recorded as a failure *before* the
/// password is checked (so concurrent guesses all count) and marked a success after.
pub async fn authenticate(
    state: &AppState,
    cfg: &ConsoleConfig,
    username: &str,
    password: &str,
    ip: &str,
) -> Result<AuthResult, AppError> {
    let username: String = normalise_username(username).chars().take(64).collect();
    // The log carries the keyed hash of the name typed, never the name.
    let user_tag = unknown_user_key(state, &username)[1..].to_owned();
    let now = state.clock.unix();
    let unknown_key = unknown_user_key(state, &username);
    let (cfg2, u, ip2) = (cfg.clone(), username.clone(), ip.to_owned());
    let gate = state
        .db
        .write(move |c| -> Result<Gate, AppError> {
            // A name that is no account's is recorded and throttled under its hash: a
            // password typed into the user-name field by mistake is never stored.
            let known: Option<i64> = c
                .query_row("SELECT 1 FROM officers WHERE username = ?1", [&u], |r| {
                    r.get(0)
                })
                .optional()?;
            let u = if known.is_some() { u } else { unknown_key };
            let wait = throttle(c, &cfg2, &u, &ip2, now)?;
            if wait > 0 {
                c.execute(
                    "INSERT INTO login_attempts (username, client_ip, at, success, throttled)
                     VALUES (?1, ?2, ?3, 0, 1)",
                    params![u, ip2, now],
                )?;
                return Ok(Err(wait));
            }
            c.execute(
                "INSERT INTO login_attempts (username, client_ip, at, success) VALUES (?1, ?2, ?3, 0)",
                params![u, ip2, now],
            )?;
            let attempt = c.last_insert_rowid();
            let officer = c
                .query_row(
                    "SELECT id, password_hash FROM officers WHERE username = ?1 AND disabled = 0",
                    [&u],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            Ok(Ok((attempt, officer)))
        })
        .await?;
    let (attempt, officer) = match gate {
        Err(wait) => {
            tracing::warn!(login.user = %user_tag, client.ip = %ip, login.wait_s = wait, "console sign-in throttled");
            return Ok(AuthResult::Throttled(wait));
        }
        Ok(v) => v,
    };
    let pw = password.to_owned();
    let (officer_id, phc) = match officer {
        Some((id, phc)) => (Some(id), phc),
        None => (None, DUMMY_HASH.clone()),
    };
    let ok = shared::offload::blocking(move || verify_password(&pw, &phc)).await?
        && officer_id.is_some();
    match (ok, officer_id) {
        (true, Some(id)) => {
            state
                .db
                .write(move |c| -> Result<usize, AppError> {
                    Ok(c.execute(
                        "UPDATE login_attempts SET success = 1 WHERE id = ?1",
                        [attempt],
                    )?)
                })
                .await?;
            tracing::info!(login.user = %user_tag, officer.id = id, client.ip = %ip, "console sign-in succeeded");
            Ok(AuthResult::Ok(id))
        }
        _ => {
            tracing::warn!(login.user = %user_tag, client.ip = %ip, "console sign-in failed");
            Ok(AuthResult::Wrong)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_grows_then_locks_and_lifts_after_the_period() {
        let cfg = ConsoleConfig::default();
        assert_eq!(wait_secs(&cfg, 4, 1000, 1000), 0);
        assert_eq!(wait_secs(&cfg, 5, 1000, 1000), 30);
        assert_eq!(wait_secs(&cfg, 6, 1000, 1000), 60);
        assert_eq!(wait_secs(&cfg, 7, 1000, 1010), 110);
        assert_eq!(wait_secs(&cfg, 8, 1000, 1000), 900);
        assert_eq!(wait_secs(&cfg, 50, 1000, 1900), 0);
    }
}
