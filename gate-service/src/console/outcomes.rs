//! Outcomes (append-only, superseded only by a supervisor with a reason). Payments and
//! the receipt are in `payments`.

use super::auth::{Officer, Supervisor};
use super::cases::duty::estimate_in_force;
use super::cases::page::record_of;
use super::forms::FormData;
use super::page::{self, PageResult};
use super::store;
use crate::AppState;
use crate::error::AppError;
use axum::body::Bytes;
use axum::extract::{Path, State};
use rusqlite::params;

const KINDS: [&str; 4] = ["cleared", "duty_assessed", "goods_retained", "referred"];
/// Largest amount accepted, yen.
pub(super) const MAX_YEN: i64 = 10_000_000_000;

/// What an outcome form asks to record.
struct NewOutcome {
    kind: String,
    amount_yen: Option<i64>,
    amount_source: Option<&'static str>,
    amount_reason: Option<String>,
    note: String,
}

pub(super) fn parse_yen(s: &str) -> Option<i64> {
    let digits: String = s
        .chars()
        .filter(|c| *c != ',' && *c != '¥' && *c != ' ')
        .collect();
    digits
        .parse::<i64>()
        .ok()
        .filter(|n| (0..=MAX_YEN).contains(n))
}

pub(super) fn limited(s: String, max: usize, errors: &mut Vec<String>, key: &str) -> String {
    if s.chars().count() > max || s.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        errors.push(key.to_owned());
    }
    s
}

/// Validate an outcome form; the "estimate" amount is recomputed on the server.
async fn read_outcome(state: &AppState, id: i64, form: &FormData) -> Result<NewOutcome, AppError> {
    let mut errors = Vec::new();
    let kind = form.get("kind");
    if !KINDS.contains(&kind.as_str()) {
        errors.push("console-outcome-kind-required".to_owned());
    }
    let note = limited(form.get("note"), 1000, &mut errors, "console-note-too-long");
    let (mut amount_yen, mut amount_source, mut amount_reason) = (None, None, None);
    if kind == "duty_assessed" {
        if form.get("amount_source") == "entered" {
            amount_source = Some("entered");
            amount_yen = parse_yen(&form.get("amount_yen"));
            if amount_yen.is_none() {
                errors.push("console-amount-invalid".to_owned());
            }
            let reason = limited(
                form.get("amount_reason"),
                500,
                &mut errors,
                "console-reason-too-long",
            );
            if reason.is_empty() {
                errors.push("console-amount-reason-required".to_owned());
            }
            amount_reason = Some(reason);
        } else {
            amount_source = Some("estimate");
            let case = state
                .db
                .read(move |c| -> Result<_, AppError> {
                    Ok((store::load_case(c, id)?, store::latest_adjustment(c, id)?))
                })
                .await?;
            let (Some(case), adj) = case else {
                return Err(AppError::NotFound);
            };
            let record = record_of(&case)?;
            let total = estimate_in_force(
                state,
                record.summary.as_ref(),
                record.evaluation.as_ref(),
                adj.as_ref(),
            );
            amount_yen = Some(i64::try_from(total).unwrap_or(MAX_YEN));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(NewOutcome {
        kind,
        amount_yen,
        amount_source,
        amount_reason,
        note,
    })
}

fn insert_outcome(
    c: &rusqlite::Connection,
    case_id: i64,
    o: &NewOutcome,
    officer_id: i64,
    now: i64,
    supersedes: Option<(i64, &str)>,
) -> rusqlite::Result<i64> {
    c.execute(
        "INSERT INTO outcomes (case_id, kind, amount_yen, amount_source, amount_reason, note,
                               officer_id, recorded_at, supersedes_id, supersede_reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            case_id,
            o.kind,
            o.amount_yen,
            o.amount_source,
            o.amount_reason,
            o.note,
            officer_id,
            now,
            supersedes.map(|s| s.0),
            supersedes.map(|s| s.1),
        ],
    )?;
    let id = c.last_insert_rowid();
    c.execute(
        "UPDATE cases SET status = 'closed' WHERE id = ?1",
        [case_id],
    )?;
    Ok(id)
}

/// `POST /console/cases/{id}/outcome`: the first outcome of a case; refused (409) when
/// one exists — only a supervisor can supersede it.
pub async fn record(
    State(state): State<AppState>,
    officer: Officer,
    Path(id): Path<i64>,
    body: Bytes,
) -> PageResult {
    let form = officer.verified_form(&body)?;
    let new = read_outcome(&state, id, &form).await?;
    let now = state.clock.unix();
    let oid = officer.id;
    state
        .db
        .write(move |c| -> Result<(), AppError> {
            if store::load_case(c, id)?.is_none() {
                return Err(AppError::NotFound);
            }
            if store::current_outcome_id(c, id)?.is_some() {
                return Err(AppError::Conflict("console-outcome-exists"));
            }
            let oc = insert_outcome(c, id, &new, oid, now, None)?;
            store::audit(
                c,
                now,
                Some(oid),
                "outcome.recorded",
                Some(id),
                &format!("outcome {oc}: {}", new.kind),
            )?;
            Ok(())
        })
        .await?;
    Ok(page::see_other(&format!("/console/cases/{id}#outcome")))
}

/// `POST /console/cases/{id}/supersede` (supervisors): a new outcome pointing to the one
/// in force, with a reason.
pub async fn supersede(
    State(state): State<AppState>,
    Supervisor(officer): Supervisor,
    Path(id): Path<i64>,
    body: Bytes,
) -> PageResult {
    let form = officer.verified_form(&body)?;
    let reason = form.get("supersede_reason");
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::Invalid(vec![
            "console-supersede-reason-required".into(),
        ]));
    }
    let new = read_outcome(&state, id, &form).await?;
    let now = state.clock.unix();
    let oid = officer.id;
    state
        .db
        .write(move |c| -> Result<(), AppError> {
            let Some((old, _)) = store::current_outcome_id(c, id)? else {
                return Err(AppError::Conflict("console-outcome-none"));
            };
            let oc = insert_outcome(c, id, &new, oid, now, Some((old, &reason)))?;
            store::audit(
                c,
                now,
                Some(oid),
                "outcome.superseded",
                Some(id),
                &format!("outcome {oc} supersedes {old}: {}", new.kind),
            )?;
            Ok(())
        })
        .await?;
    Ok(page::see_other(&format!("/console/cases/{id}#outcome")))
}
