//! The gate's trust list and revocations: loaded from each configured issuer (a JWKS
//! file the operator installed, or `{url}/v1/trust-list` signed by the operator root
//! key, see [`crate::signed_lists`]; plus `{url}/v1/revocations?since=`, checked by
//! [`crate::feed_pages`]), refreshed in the background. A failed refresh keeps the
//! issuer's last good keys (also kept in the database) and is logged; scans read an
//! immutable snapshot (`Arc`) and never wait for a refresh.

use crate::AppState;
use crate::config::IssuerConfig;
use serde::{Deserialize, Serialize};
use shared::token::{Jwks, Kid, TrustList};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// What one issuer's keys look like now (for `/healthz`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct IssuerStatus {
    /// Issuer id.
    pub id: String,
    /// Where the keys come from (`file` or `url`).
    pub source: &'static str,
    /// Keys currently trusted for this issuer.
    pub keys: usize,
    /// Last successful key load, unix seconds.
    pub keys_refreshed_at: Option<i64>,
    /// Last successful revocation pull, unix seconds (URL issuers).
    pub revocations_refreshed_at: Option<i64>,
    /// Error of the last attempt, when it failed (no secrets, no URLs with credentials).
    pub last_error: Option<String>,
    /// Keys refused from the issuer's JWKS (wrong `iss`, bad key).
    pub keys_refused: usize,
    /// Version of the signed trust list in force (URL issuers).
    pub list_version: Option<i64>,
    /// When the signed list in force expires, unix seconds: after it the gate keeps
    /// deciding with it but refuses to take a list as old (docs/trust.md).
    pub list_not_after: Option<i64>,
    #[serde(skip)]
    jwks: Option<Jwks>,
}

/// Shape of `GET /v1/revocations?since=`.
#[derive(Debug, Deserialize)]
struct RevocationPage {
    revocations: Vec<Revocation>,
    next_since: i64,
    /// The feed's epoch (absent from issuers that predate it).
    #[serde(default)]
    epoch: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Revocation {
    seq: i64,
    cti: String,
    reason: String,
    /// The revoked token's expiry, when the issuer gives it (the purge forgets the entry
    /// a day after it).
    #[serde(default)]
    exp: Option<i64>,
}

/// A failed exchange with an issuer (keys, revocations, use reports), or with the JWKS
/// file standing for one. Logged and shown in `/healthz`; the next refresh retries.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The request failed, or the issuer answered an error status or a body that does
    /// not decode (the message names the URL and each cause).
    #[error("{}", causes(.0))]
    Http(reqwest::Error),
    /// The JWKS file could not be read.
    #[error("failed to read the JWKS file {}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The JWKS file is not a JWKS.
    #[error("the JWKS file {} is not a JWKS: {source}", path.display())]
    Jwks {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// The issuer has neither a URL nor a JWKS file.
    #[error("no key source (neither a URL nor a JWKS file)")]
    NoSource,
    /// A body larger than the gate reads.
    #[error("the issuer's {what} is over {cap} bytes: refused")]
    TooLarge {
        /// What was read.
        what: &'static str,
        /// The cap, bytes.
        cap: usize,
    },
    /// The signed trust list is refused (unsigned, forged, expired, rolled back, for
    /// another issuer).
    #[error("signed trust list refused: {0}")]
    List(#[from] shared::token::signed_list::ListError),
    /// No root key is configured, so no URL issuer's list can be checked.
    #[error(
        "no operator root key (EGATE_GATE_ROOT_KEY): the issuer's trust list cannot be checked"
    )]
    NoRootKey,
    /// A revocation page is refused (the cursor stays).
    #[error("revocation page refused: {0}")]
    Feed(#[from] crate::feed_pages::PageError),
    /// A revocation page is not the expected JSON.
    #[error("revocation page is not valid JSON: {0}")]
    FeedJson(serde_json::Error),
    /// An issuer's acknowledgement of a report is not the expected JSON.
    #[error("the issuer's {what} is not valid JSON: {source}")]
    AckJson {
        /// What was read.
        what: &'static str,
        /// The cause.
        source: serde_json::Error,
    },
    /// The gate's database failed while storing what was fetched.
    #[error("the gate database failed: {0}")]
    Db(#[from] shared::db::DbError),
}

impl From<reqwest::Error> for FetchError {
    fn from(e: reqwest::Error) -> Self {
        FetchError::Http(e)
    }
}

/// An error and its causes, `: `-separated (reqwest's own message omits the cause, e.g.
/// "connection refused").
fn causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

/// The trust store: the current snapshot and each issuer's last good keys.
#[derive(Debug)]
pub struct TrustStore {
    snapshot: RwLock<Arc<TrustList>>,
    status: Mutex<BTreeMap<String, IssuerStatus>>,
    revoked_kids: RwLock<usize>,
    http: reqwest::Client,
    refreshing: tokio::sync::Mutex<()>,
}

impl TrustStore {
    /// An empty store with an HTTP client using `timeout_secs` per request.
    /// Fails only when the HTTP client cannot be built (no TLS back-end).
    pub fn new(issuers: &[IssuerConfig], timeout_secs: u64) -> Result<TrustStore, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(timeout_secs))
            .connect_timeout(std::time::Duration::from_secs(timeout_secs))
            .build()?;
        let status = issuers
            .iter()
            .map(|i| {
                (
                    i.id.clone(),
                    IssuerStatus {
                        id: i.id.clone(),
                        source: if i.base_url.is_some() { "url" } else { "file" },
                        ..IssuerStatus::default()
                    },
                )
            })
            .collect();
        Ok(TrustStore {
            snapshot: RwLock::new(Arc::new(TrustList::new())),
            status: Mutex::new(status),
            revoked_kids: RwLock::new(0),
            http,
            refreshing: tokio::sync::Mutex::new(()),
        })
    }

    /// The current trust list (cheap: an `Arc` clone under a short read lock).
    pub fn current(&self) -> Arc<TrustList> {
        self.snapshot
            .read()
            .map(|s| Arc::clone(&s))
            .unwrap_or_default()
    }

    /// Per-issuer status, in id order.
    pub fn status(&self) -> Vec<IssuerStatus> {
        self.status
            .lock()
            .map(|s| s.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The HTTP client for issuers (timeouts set).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Number of revoked key ids in force.
    pub fn revoked_kids(&self) -> usize {
        self.revoked_kids.read().map(|n| *n).unwrap_or(0)
    }

    pub(crate) fn update(&self, id: &str, f: impl FnOnce(&mut IssuerStatus)) {
        if let Ok(mut s) = self.status.lock()
            && let Some(st) = s.get_mut(id)
        {
            f(st);
        }
    }
}

/// Keep only the keys an issuer may hold: a key naming another issuer is refused; a
/// key without `iss` is tied to this issuer.
fn tie_to_issuer(issuer: &str, mut jwks: Jwks) -> (Jwks, usize) {
    let before = jwks.keys.len();
    jwks.keys
        .retain(|k| k.iss.as_deref().is_none_or(|i| i == issuer));
    let refused = before - jwks.keys.len();
    for k in &mut jwks.keys {
        k.iss = Some(issuer.to_owned());
    }
    (jwks, refused)
}

/// The keys of an issuer: a URL issuer's signed list when newer than the one held
/// (`None`: unchanged), or the operator's JWKS file.
async fn fetch_keys(
    state: &AppState,
    issuer: &IssuerConfig,
) -> Result<Option<(Jwks, Option<(i64, i64)>)>, FetchError> {
    if let Some(url) = &issuer.base_url {
        let root = state
            .config
            .root_key
            .as_ref()
            .ok_or(FetchError::NoRootKey)?;
        let mut held = state
            .trust
            .status()
            .into_iter()
            .find(|s| s.id == issuer.id)
            .and_then(|s| s.list_version);
        let mut from_db = None;
        if held.is_none() {
            // First refresh since start: the list taken before the restart.
            from_db = crate::signed_lists::load_held(state, &issuer.id, root).await?;
            held = from_db.as_ref().map(|l| l.version);
        }
        let fetched = crate::signed_lists::fetch(state, &issuer.id, url, root, held).await;
        return match (fetched, from_db) {
            (Ok(Some(l)), _) | (Ok(None), Some(l)) => {
                Ok(Some((l.jwks, Some((l.version, l.not_after)))))
            }
            (Ok(None), None) => Ok(None),
            (Err(e), Some(l)) => {
                // Keep the stored list in force and report the failure.
                state.trust.update(&issuer.id, |s| {
                    s.jwks = Some(l.jwks.clone());
                    s.keys = l.jwks.keys.len();
                    s.list_version = Some(l.version);
                    s.list_not_after = Some(l.not_after);
                });
                Err(e)
            }
            (Err(e), None) => Err(e),
        };
    }
    fetch_jwks_file(issuer).await.map(|j| Some((j, None)))
}

async fn fetch_jwks_file(issuer: &IssuerConfig) -> Result<Jwks, FetchError> {
    if let Some(path) = &issuer.jwks_file {
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|source| FetchError::File {
                path: path.clone(),
                source,
            })?;
        serde_json::from_slice(&bytes).map_err(|source| FetchError::Jwks {
            path: path.clone(),
            source,
        })
    } else {
        Err(FetchError::NoSource)
    }
}

/// Revoked key ids from the configuration and the `revoked_kids` file.
fn load_revoked_kids(configured: &[String], file: &Path) -> HashSet<Kid> {
    let from_file = std::fs::read_to_string(file).unwrap_or_default();
    configured
        .iter()
        .map(String::as_str)
        .chain(
            from_file
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#')),
        )
        .filter_map(|s| match Kid::from_base64(s) {
            Ok(k) => Some(k),
            Err(_) => {
                tracing::warn!("a revoked kid is not valid base64 of 8 bytes; ignored");
                None
            }
        })
        .collect()
}

/// Pull every page of an issuer's revocations since its mark and store them. Returns
/// how many were new and whether the end of the feed was reached (an empty page); a
/// feed longer than 100 pages is continued at the next refresh, and a missing feed
/// (404) is not an end.
async fn pull_revocations(
    state: &AppState,
    issuer: &IssuerConfig,
    url: &str,
) -> Result<(usize, bool), FetchError> {
    use base64::Engine as _;
    let id = issuer.id.clone();
    let (mut since, mut epoch): (i64, Option<String>) = state
        .db
        .read(move |c| -> Result<_, shared::db::DbError> {
            Ok(c.query_row(
                "SELECT next_since, epoch FROM revocation_marks WHERE issuer = ?1",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap_or((0, None)))
        })
        .await?;
    let mut total = 0usize;
    for _page in 0..100 {
        let resp = state
            .trust
            .http
            .get(format!("{url}/v1/revocations"))
            .query(&[("since", since)])
            .send()
            .await?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok((total, false));
        }
        let body = crate::signed_lists::read_capped(
            resp.error_for_status()?,
            crate::signed_lists::MAX_FEED_PAGE_BYTES,
            "revocation page",
        )
        .await?;
        let page: RevocationPage = serde_json::from_slice(&body).map_err(FetchError::FeedJson)?;
        // Another epoch: the issuer's database was restored or recreated, and its
        // sequences may repeat numbers already passed. Start its feed over from 0 (the
        // entries already held stay; a repeated one is ignored).
        if let Some(new) = page.epoch.as_ref().filter(|e| e.len() <= 64) {
            if epoch.as_ref().is_some_and(|old| old != new) && since != 0 {
                tracing::warn!(issuer = %issuer.id, "the issuer's feed has a new epoch: reading it again from the start");
                since = 0;
                epoch = Some(new.clone());
                continue;
            }
            epoch = Some(new.clone());
        }
        let seqs: Vec<i64> = page.revocations.iter().map(|r| r.seq).collect();
        // A page that could skip entries is refused whole; the cursor stays.
        let next = crate::feed_pages::check_page(since, &seqs, page.next_since)?;
        // An entry whose token id does not decode refuses the page too: dropping it and
        // moving the cursor past it would leave that token unrevoked for good.
        let rows: Vec<(Vec<u8>, i64, String, Option<i64>)> = page
            .revocations
            .iter()
            .map(|r| {
                let cti = base64::engine::general_purpose::STANDARD
                    .decode(&r.cti)
                    .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&r.cti))
                    .ok()
                    .filter(|b| b.len() == 16)
                    .ok_or(crate::feed_pages::PageError::BadTokenId { seq: r.seq })?;
                Ok((cti, r.seq, r.reason.chars().take(32).collect(), r.exp))
            })
            .collect::<Result<_, crate::feed_pages::PageError>>()?;
        let n = rows.len();
        let id = issuer.id.clone();
        let epoch_now = epoch.clone();
        state
            .db
            .write(move |c| -> Result<(), shared::db::DbError> {
                for (cti, seq, reason, exp) in &rows {
                    c.execute(
                        "INSERT OR IGNORE INTO revoked_tokens (cti, issuer, seq, reason, exp)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        (cti, &id, *seq, reason, exp),
                    )?;
                }
                c.execute(
                    "INSERT INTO revocation_marks (issuer, next_since, epoch) VALUES (?1, ?2, ?3)
                     ON CONFLICT(issuer) DO UPDATE SET next_since = excluded.next_since,
                       epoch = excluded.epoch",
                    (&id, next, &epoch_now),
                )?;
                Ok(())
            })
            .await?;
        total += n;
        if page.revocations.is_empty() || next == since {
            return Ok((total, true));
        }
        since = next;
    }
    Ok((total, false))
}

/// Refresh keys, revocations and watch rules now. Failures are logged per issuer; the
/// last good keys stay in force.
pub async fn refresh(state: &AppState) {
    let store = &state.trust;
    let _one_at_a_time = store.refreshing.lock().await;
    let now = state.clock.unix();
    let mut every_feed_pulled = true;
    for issuer in state.issuers.iter() {
        match fetch_keys(state, issuer).await {
            Ok(None) => store.update(&issuer.id, |s| {
                s.keys_refreshed_at = Some(now);
                s.last_error = None;
            }),
            Ok(Some((jwks, list))) => {
                let (jwks, refused) = tie_to_issuer(&issuer.id, jwks);
                // Check the keys now so that a bad JWKS never replaces a good one.
                let mut probe = TrustList::new();
                match probe.add_jwks(&jwks) {
                    Ok(n) => store.update(&issuer.id, |s| {
                        if let Some((version, not_after)) = list {
                            s.list_version = Some(version);
                            s.list_not_after = Some(not_after);
                        }
                        s.keys = n;
                        s.keys_refused = refused;
                        s.keys_refreshed_at = Some(now);
                        s.last_error = None;
                        s.jwks = Some(jwks);
                    }),
                    Err(e) => {
                        tracing::error!(issuer = %issuer.id, error = %e, "issuer JWKS refused; keeping its last good keys");
                        store.update(&issuer.id, |s| {
                            s.last_error = Some(format!("JWKS refused: {e}"))
                        });
                    }
                }
                if refused > 0 {
                    tracing::warn!(issuer = %issuer.id, keys.refused = refused, "keys naming another issuer were ignored");
                }
            }
            Err(e) => {
                tracing::warn!(issuer = %issuer.id, error = %e, "failed to load issuer keys; keeping its last good keys");
                store.update(&issuer.id, |s| s.last_error = Some(format!("keys: {e}")));
            }
        }
        if let Some(url) = &issuer.base_url {
            match pull_revocations(state, issuer, url).await {
                Ok((n, complete)) => {
                    every_feed_pulled &= complete;
                    if n > 0 {
                        tracing::info!(issuer = %issuer.id, revocations.new = n, "revocations pulled");
                    }
                    store.update(&issuer.id, |s| s.revocations_refreshed_at = Some(now));
                }
                Err(e) => {
                    every_feed_pulled = false;
                    tracing::warn!(issuer = %issuer.id, error = %e, "failed to pull revocations");
                    store.update(&issuer.id, |s| {
                        s.last_error
                            .get_or_insert_with(|| format!("revocations: {e}"));
                    });
                }
            }
        }
    }
    // Rebuild the snapshot from every issuer's last good keys.
    let revoked = load_revoked_kids(
        &state.config.revoked_kids,
        &state.config.revoked_kids_path(),
    );
    let mut list = TrustList::new();
    for st in store.status() {
        if let Some(jwks) = &st.jwks
            && let Err(e) = list.add_jwks(jwks)
        {
            tracing::error!(issuer = %st.id, error = %e, "failed to add issuer keys");
        }
    }
    for kid in &revoked {
        list.revoke(*kid);
    }
    if let Ok(mut n) = store.revoked_kids.write() {
        *n = revoked.len();
    }
    if let Ok(mut s) = store.snapshot.write() {
        *s = Arc::new(list);
    }
    state.selection.reload_if_changed();
    if every_feed_pulled {
        crate::restore::confirm(state).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::token::SigningKey;

    #[test]
    fn keys_naming_another_issuer_are_refused_and_others_are_tied() {
        let a = SigningKey::generate().unwrap();
        let b = SigningKey::generate().unwrap();
        let mut kb = b.jwk();
        kb.iss = Some("kiosk:T9".into());
        let (jwks, refused) = tie_to_issuer(
            "mobile-api",
            Jwks {
                keys: vec![a.jwk(), kb],
            },
        );
        assert_eq!(refused, 1);
        assert_eq!(jwks.keys.len(), 1);
        assert_eq!(jwks.keys[0].iss.as_deref(), Some("mobile-api"));
    }
}
