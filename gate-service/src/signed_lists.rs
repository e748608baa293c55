//! Signed trust lists at the gate (docs/trust.md): each URL issuer's key set is taken
//! only as a JWS signed by the operator root key the gate holds
//! ([`shared::token::signed_list`]), for that issuer, unexpired, and not older than the
//! list already held. The last good list is stored in the gate's database
//! (`trust_lists`) and loaded at start, so a gate restarted while its issuers are down
//! decides with the keys it had.
//!
//! Every body read from an issuer goes through [`read_capped`]: a list over 1 MiB or a
//! feed page over [`MAX_FEED_PAGE_BYTES`] is refused, never read whole.

use crate::AppState;
use crate::trust::FetchError;
use shared::token::signed_list::{self, ListPayload, MAX_SIGNED_LIST_LEN, RootPublicKey};

/// Largest revocation page read (1000 entries of about 100 bytes fit many times).
pub const MAX_FEED_PAGE_BYTES: usize = 512 * 1024;

/// Read a response body of at most `cap` bytes; a larger one (announced or actual) is
/// refused with [`FetchError::TooLarge`] as soon as it passes the cap.
pub async fn read_capped(
    mut resp: reqwest::Response,
    cap: usize,
    what: &'static str,
) -> Result<Vec<u8>, FetchError> {
    let too_large = || FetchError::TooLarge { what, cap };
    if resp
        .content_length()
        .is_some_and(|n| n > u64::try_from(cap).unwrap_or(u64::MAX))
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if body.len() + chunk.len() > cap {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The last good list stored for `issuer`, its signature checked again under `root`
/// (its validity is not: it was checked when taken, and keeping it beats trusting
/// nothing while the issuer is unreachable).
pub async fn load_held(
    state: &AppState,
    issuer: &str,
    root: &RootPublicKey,
) -> Result<Option<ListPayload>, FetchError> {
    let id = issuer.to_owned();
    let text: Option<String> = state
        .db
        .read(move |c| -> Result<Option<String>, shared::db::DbError> {
            use rusqlite::OptionalExtension as _;
            Ok(c.query_row(
                "SELECT envelope FROM trust_lists WHERE issuer = ?1",
                [&id],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await?;
    let Some(text) = text else { return Ok(None) };
    let mut list = signed_list::open_list(&text, root)?;
    if list.issuer != issuer {
        return Ok(None);
    }
    for k in &mut list.jwks.keys {
        k.iss = Some(issuer.to_owned());
    }
    Ok(Some(list))
}

/// Fetch `{url}/v1/trust-list`, check it against `root` and the version held, and
/// store it when it is newer. Returns the list when it was taken (newer than
/// `held_version`), `None` when it is the one already held.
pub async fn fetch(
    state: &AppState,
    issuer: &str,
    url: &str,
    root: &RootPublicKey,
    held_version: Option<i64>,
) -> Result<Option<ListPayload>, FetchError> {
    let resp = state
        .trust
        .http()
        .get(format!("{url}/v1/trust-list"))
        .send()
        .await?
        .error_for_status()?;
    let body = read_capped(resp, MAX_SIGNED_LIST_LEN, "signed trust list").await?;
    let text = String::from_utf8(body)
        .map_err(|_| signed_list::ListError::Malformed("not UTF-8".into()))?;
    let now = state.clock.unix();
    let list = signed_list::verify_list(
        &text,
        root,
        issuer,
        now,
        state.config.skew_secs,
        held_version,
    )?;
    if held_version == Some(list.version) {
        return Ok(None);
    }
    let (id, version, not_after) = (issuer.to_owned(), list.version, list.not_after);
    state
        .db
        .write(move |c| -> Result<(), shared::db::DbError> {
            c.execute(
                "INSERT INTO trust_lists (issuer, version, not_after, envelope, stored_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(issuer) DO UPDATE SET version = excluded.version,
                   not_after = excluded.not_after, envelope = excluded.envelope,
                   stored_at = excluded.stored_at
                 WHERE excluded.version > trust_lists.version",
                (&id, version, not_after, &text, now),
            )?;
            Ok(())
        })
        .await?;
    Ok(Some(list))
}
