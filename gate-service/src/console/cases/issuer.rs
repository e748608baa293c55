//! The full declaration, read from the issuer that signed the token
//! (`GET {internal}/v1/internal/declarations/{id}` on the issuer's internal listener,
//! with the declaration-read key, 2 s budget). The read names the gate instance, the
//! case and the officer (`X-Egate-*` headers); the issuer allows it only for a case
//! this gate reported as presenting that declaration, so a case not reported yet is
//! flushed first ([`crate::presentations::ensure_reported`]). The page never fails
//! because of it: an issuer that does not answer, or refuses, is shown as unreachable.

use crate::AppState;
use crate::console::store::CaseRow;
use serde::Deserialize;
use shared::domain::DeclarationInput;
use std::time::Duration;

/// The whole read's budget (the presentation flush included).
const BUDGET: Duration = Duration::from_secs(2);

/// What the console asked for: the parts of the issuer's answer it shows.
#[derive(Debug, Clone, Deserialize)]
pub struct IssuerDeclaration {
    /// The current revision (may be newer than the token's).
    pub revision: u32,
    /// The declaration; `null` once the issuer erased it.
    pub declaration: Option<DeclarationInput>,
    /// When the issuer erased it.
    pub erased_at: Option<i64>,
}

/// The full declaration fetched from its issuer.
#[derive(Debug, Clone)]
pub enum FullDeclaration {
    /// The issuer has no URL in the configuration (or the case has no declaration id).
    NotAvailable,
    /// The issuer did not answer 200 with a declaration within 2 s.
    Unreachable,
    /// The issuer's record, and its JSON as received (pretty-printed) for the disclosure.
    Found(Box<IssuerDeclaration>, String),
}

/// GET the full declaration of a case from its issuer, for `officer` (user name).
pub async fn fetch(state: &AppState, case: &CaseRow, officer: &str) -> FullDeclaration {
    let (Some(issuer), Some(decl)) = (case.issuer.as_deref(), case.declaration_id.as_deref())
    else {
        return FullDeclaration::NotAvailable;
    };
    let Some(base) = state
        .issuers
        .iter()
        .find(|i| i.id == issuer)
        .and_then(|i| i.internal_url.clone())
    else {
        return FullDeclaration::NotAvailable;
    };
    // The id goes into a URL path: only the characters issuers use.
    if !decl
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return FullDeclaration::NotAvailable;
    }
    // The issuer allows the read only once it knows this case presented the token.
    let started = std::time::Instant::now();
    if !crate::presentations::ensure_reported(state, case.id, BUDGET).await {
        tracing::info!(
            case.id = case.id,
            "the case's presentation is not reported yet"
        );
    }
    let left = BUDGET
        .saturating_sub(started.elapsed())
        .max(Duration::from_millis(500));
    // The gate's one HTTP client for issuers (connection pool, TLS set up once).
    let url = format!("{base}/v1/internal/declarations/{decl}");
    let resp = state
        .trust
        .http()
        .get(&url)
        .timeout(left)
        .bearer_auth(state.service_keys.declaration_read.expose())
        .header(shared::feed::HEADER_GATE, &state.config.instance)
        .header(shared::feed::HEADER_CASE, case.id.to_string())
        .header(shared::feed::HEADER_OFFICER, officer)
        .send()
        .await;
    let body = match resp {
        Ok(r) if r.status() == reqwest::StatusCode::OK => r.bytes().await,
        Ok(r) => {
            tracing::info!(
                issuer.status = r.status().as_u16(),
                "issuer did not return the declaration"
            );
            return FullDeclaration::Unreachable;
        }
        Err(_) => {
            tracing::info!("issuer unreachable for the full declaration");
            return FullDeclaration::Unreachable;
        }
    };
    let parsed = body.ok().and_then(|b| {
        let raw: serde_json::Value = serde_json::from_slice(&b).ok()?;
        let pretty = serde_json::to_string_pretty(&raw).ok()?;
        match serde_json::from_value::<IssuerDeclaration>(raw) {
            Ok(d) => Some((d, pretty)),
            Err(e) => {
                tracing::warn!(error = %e, "the issuer's declaration does not parse");
                None
            }
        }
    });
    match parsed {
        Some((d, raw)) => FullDeclaration::Found(Box::new(d), raw),
        None => FullDeclaration::Unreachable,
    }
}
