//! The gate's trust list and revocations: loaded from each configured issuer (a JWKS
//! file the operator installed, or `{url}/v1/trust-list` signed by the operator root
//! key, see [`crate::signed_lists`]; plus `{url}/v1/revocations?since=`, checked by
//! [`crate::feed_pages`], pulled by [`crate::follow`]), refreshed in the background. A failed refresh keeps the
//! issuer's last good keys (also kept in the database) and is logged; scans read an
//! immutable snapshot (`Arc`) and never wait for a refresh.

use crate::AppState;
use crate::config::IssuerConfig;
use serde::Serialize;
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
    /// Whether the gate follows this issuer's feed by long polling now (the issuer
    /// granted the last wait asked for); `false`: periodic pulls only (docs/trust.md).
    pub feed_waiting: bool,
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
    /// The issuer has too many waiting requests (`503`): try again after this many
    /// seconds.
    #[error("the issuer's feed has too many waiting requests; retry after {retry_after} s")]
    Busy {
        /// Seconds, from `Retry-After` (1 to 60).
        retry_after: u64,
    },
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
            match crate::follow::pull_revocations(state, issuer, url, None).await {
                Ok(crate::follow::Pulled {
                    new: n, complete, ..
                }) => {
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
