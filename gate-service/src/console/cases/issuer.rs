//! The full declaration, read from the issuer that signed the token
//! (`GET {issuer}/v1/internal/declarations/{id}` with the gate's API key, 2 s budget).
//! The page never fails because of it: an issuer that does not answer is shown as such.

use crate::AppState;
use crate::console::store::CaseRow;
use serde::Deserialize;
use shared::domain::DeclarationInput;
use std::time::Duration;

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

/// GET the full declaration of a case from its issuer.
pub async fn fetch(state: &AppState, case: &CaseRow) -> FullDeclaration {
    let (Some(issuer), Some(decl)) = (case.issuer.as_deref(), case.declaration_id.as_deref())
    else {
        return FullDeclaration::NotAvailable;
    };
    let Some(base) = state
        .issuers
        .iter()
        .find(|i| i.id == issuer)
        .and_then(|i| i.base_url.clone())
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
    // The gate's one HTTP client for issuers (connection pool, TLS set up once).
    let url = format!("{base}/v1/internal/declarations/{decl}");
    let resp = state
        .trust
        .http()
        .get(&url)
        .timeout(Duration::from_secs(2))
        .bearer_auth(&*state.gate_api_key)
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
