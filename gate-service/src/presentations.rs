//! Presentation reports: every case opened for a genuine token is reported to the
//! token's issuer (`POST {internal}/v1/internal/presentations`, use-report key: case id,
//! declaration id, token id). The issuer allows the console's read of a full
//! declaration only for a case that presented it (docs/trust.md, "Declaration reads").
//!
//! Decisions:
//! - keyed on **cases**, not on token consumption: a wrong-passport scan opens a case
//!   without spending the token, and the officer must still read the declaration;
//! - the outbox is the case row itself (`cases.presentation_reported_at` NULL, migration
//!   0008): the scan writes nothing more, and a case is reported exactly when it exists;
//! - sent by the use-report loop ([`crate::reports::flush`]), and flushed by the
//!   console before a read of a case not yet reported ([`ensure_reported`]), so a
//!   case opened a second ago reads at once.

use crate::AppState;
use crate::config::IssuerConfig;
use shared::db::DbError;
use shared::feed::{Presentation, PresentationAck, PresentationReport};
use std::time::Duration;

/// Presentations per request.
pub const BATCH: usize = 500;

/// Mark as reported the pending cases no configured issuer can take (an issuer without
/// an internal URL, or no longer configured). Returns how many.
pub async fn settle_unreportable(state: &AppState) -> Result<usize, DbError> {
    let ids: Vec<String> = state
        .issuers
        .iter()
        .filter(|i| i.internal_url.is_some())
        .map(|i| i.id.clone())
        .collect();
    let list = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
    state
        .db
        .write(move |c| -> Result<usize, DbError> {
            Ok(c.execute(
                "UPDATE cases SET presentation_reported_at = opened_at
                 WHERE presentation_reported_at IS NULL
                   AND (issuer IS NULL OR declaration_id IS NULL
                        OR issuer NOT IN (SELECT value FROM json_each(?1)))",
                [list],
            )?)
        })
        .await
}

/// Send the pending presentations of one issuer. Returns how many were acknowledged.
pub async fn flush_issuer(
    state: &AppState,
    issuer: &IssuerConfig,
    url: &str,
) -> Result<usize, crate::trust::FetchError> {
    let mut total = 0;
    // Bounded: at most 1000 batches per pass.
    for _ in 0..1000 {
        let id = issuer.id.clone();
        let batch: Vec<(i64, String, Option<Vec<u8>>, i64)> = state
            .db
            .read(move |c| -> Result<_, DbError> {
                let mut stmt = c.prepare_cached(
                    "SELECT c.id, c.declaration_id, s.cti, c.opened_at
                     FROM cases c JOIN scans s ON s.id = c.scan_id
                     WHERE c.presentation_reported_at IS NULL AND c.issuer = ?1
                       AND c.declaration_id IS NOT NULL
                     ORDER BY c.id LIMIT ?2",
                )?;
                let rows = stmt
                    .query_map((&id, BATCH as i64), |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await?;
        if batch.is_empty() {
            break;
        }
        let report = PresentationReport {
            gate: state.config.instance.clone(),
            presentations: batch
                .iter()
                .filter_map(|(case, decl, cti, at)| {
                    let cti: [u8; 16] = cti.as_deref()?.try_into().ok()?;
                    Some(Presentation {
                        case: *case,
                        declaration_id: decl.clone(),
                        cti: shared::feed::cti_base64(&cti),
                        at: *at,
                    })
                })
                .collect(),
        };
        if !report.presentations.is_empty() {
            let ack: PresentationAck = crate::reports::post_report(
                state,
                url,
                "/v1/internal/presentations",
                &report,
                "presentation-report answer",
            )
            .await?;
            if ack.unknown > 0 {
                tracing::warn!(issuer = %issuer.id, presentations.unknown = ack.unknown, "the issuer does not know some presented tokens");
            }
        }
        let now = state.clock.unix();
        let n = batch.len();
        let ids: Vec<i64> = batch.iter().map(|b| b.0).collect();
        state
            .db
            .write(move |c| -> Result<(), DbError> {
                let mut stmt = c.prepare_cached(
                    "UPDATE cases SET presentation_reported_at = ?1 WHERE id = ?2",
                )?;
                for id in &ids {
                    stmt.execute((now, id))?;
                }
                Ok(())
            })
            .await?;
        total += n;
        if n < BATCH {
            break;
        }
    }
    Ok(total)
}

/// Before the console reads case `case_id`'s declaration: if the case is not reported to
/// its issuer yet, flush the reports now (bounded by `budget`). Whether the case is
/// reported afterwards.
pub async fn ensure_reported(state: &AppState, case_id: i64, budget: Duration) -> bool {
    let db = state.db.clone();
    let pending = move || {
        let db = db.clone();
        async move {
            db.read(move |c| -> Result<bool, DbError> {
                Ok(c.query_row(
                    "SELECT presentation_reported_at IS NULL FROM cases WHERE id = ?1",
                    [case_id],
                    |r| r.get(0),
                )?)
            })
            .await
        }
    };
    match pending().await {
        Ok(false) => return true,
        Ok(true) => {}
        Err(e) => {
            tracing::warn!(error = %e, "could not check the case's presentation report");
            return false;
        }
    }
    let _ = tokio::time::timeout(budget, crate::reports::flush(state, false)).await;
    matches!(pending().await, Ok(false))
}
