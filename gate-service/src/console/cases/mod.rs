//! The case page and what an officer does there before the outcome: take the case and
//! adjust its item lines (the duty is recomputed).
//!
//! - [`page`]: loading the case and assembling the page;
//! - [`declaration`]: the declaration as a readable form; [`issuer`]: reading it from
//!   its issuer;
//! - [`view`], [`reasons`]: the tables' view models; [`form`]: the adjustment form;
//! - [`duty`]: the duty re-evaluated for adjusted lines (also used by the outcomes).

pub mod declaration;
pub mod duty;
pub mod form;
pub mod issuer;
pub mod page;
pub mod reasons;
pub mod view;

use crate::AppState;
use crate::console::Cfg;
use crate::console::auth::Officer;
use crate::console::page::{PageCtx, PageResult, see_other};
use crate::console::store;
use crate::error::AppError;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rusqlite::params;

/// `GET /console/cases/{id}`.
pub async fn case_page(
    State(state): State<AppState>,
    Extension(ctx): Extension<PageCtx>,
    Extension(cfg): Cfg,
    officer: Officer,
    Path(id): Path<i64>,
) -> PageResult {
    page::render(&state, &cfg, ctx, &officer, id, None, StatusCode::OK).await
}

/// Mark a waiting case as in progress (inside a write).
pub fn mark_in_progress(c: &rusqlite::Connection, id: i64) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE cases SET status = 'in_progress' WHERE id = ?1 AND status = 'waiting'",
        [id],
    )?;
    Ok(())
}

/// `POST /console/cases/{id}/take`: the officer starts handling the case.
pub async fn take(
    State(state): State<AppState>,
    officer: Officer,
    Path(id): Path<i64>,
    body: Bytes,
) -> PageResult {
    officer.verified_form(&body)?;
    let now = state.clock.unix();
    let oid = officer.id;
    state
        .db
        .write(move |c| -> Result<(), AppError> {
            if store::load_case(c, id)?.is_none() {
                return Err(AppError::NotFound);
            }
            mark_in_progress(c, id)?;
            store::audit(c, now, Some(oid), "case.taken", Some(id), "")?;
            Ok(())
        })
        .await?;
    Ok(see_other(&format!("/console/cases/{id}")))
}

/// `POST /console/cases/{id}/adjust`: the officer's line edits; the duty is recomputed
/// with the active rules profile and the adjustment recorded.
pub async fn adjust(
    State(state): State<AppState>,
    Extension(ctx): Extension<PageCtx>,
    Extension(cfg): Cfg,
    officer: Officer,
    Path(id): Path<i64>,
    body: Bytes,
) -> PageResult {
    let form = officer.verified_form(&body)?;
    let case = state
        .db
        .read(move |c| store::load_case(c, id).map_err(AppError::from))
        .await?
        .ok_or(AppError::NotFound)?;
    let Some(summary) = page::record_of(&case)?.summary else {
        return Err(AppError::Conflict("console-adjust-no-summary"));
    };
    if case.status == "closed" {
        return Err(AppError::Conflict("console-adjust-closed"));
    }
    let (rows, items, mut errors) = form::parse_rows(&form);
    let eval = if errors.is_empty() {
        duty::evaluate_items(&state, &summary, &items)
    } else {
        Err(Vec::new())
    };
    let eval = match eval {
        Ok(e) => e,
        Err(more) => {
            errors.extend(more);
            return page::render(
                &state,
                &cfg,
                ctx,
                &officer,
                id,
                Some((rows, errors)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let items_json = serde_json::to_string(&items).map_err(AppError::internal)?;
    let now = state.clock.unix();
    let oid = officer.id;
    let total = eval.duty.total_yen;
    state
        .db
        .write(move |c| -> Result<(), AppError> {
            c.execute(
                "INSERT INTO case_adjustments (case_id, officer_id, at, items_json) VALUES (?1, ?2, ?3, ?4)",
                params![id, oid, now, items_json],
            )?;
            mark_in_progress(c, id)?;
            store::audit(c, now, Some(oid), "case.adjusted", Some(id), &format!("recomputed duty {total} yen"))?;
            Ok(())
        })
        .await?;
    Ok(see_other(&format!("/console/cases/{id}#duty")))
}
