//! The duty re-evaluated for the officer's line adjustments, under the gate's active
//! rules profile, with the party and answers of the token's summary.

use crate::AppState;
use crate::case_record::{CaseEvaluation, CaseSummary};
use shared::domain::{ItemInput, ValidationErrors};

/// The latest adjustment of a case: when, by whom, the items (JSON).
pub type Adjustment = (i64, String, String);

/// Evaluate `items` for the party and answers of `summary`; the errors are for people.
pub fn evaluate_items(
    state: &AppState,
    summary: &CaseSummary,
    items: &[ItemInput],
) -> Result<CaseEvaluation, Vec<String>> {
    let mut errs = ValidationErrors::default();
    let declared =
        shared::domain::validate_declared(&summary.party, &summary.answers, items, "", &mut errs);
    let declared = match declared {
        Some(d) if errs.is_empty() => d,
        _ => return Err(field_messages(&errs)),
    };
    if let Err(e) = state.profile.check_declared(&declared, "") {
        return Err(field_messages(&e));
    }
    Ok(CaseEvaluation::from(&shared::rules::evaluate(
        &state.profile,
        &declared,
    )))
}

fn field_messages(errs: &ValidationErrors) -> Vec<String> {
    errs.0
        .iter()
        .map(|e| {
            // `/items/3/quantity` → `#4 quantity`.
            let mut parts = e.pointer.trim_start_matches('/').split('/');
            let label = match (
                parts.next(),
                parts.next().and_then(|n| n.parse::<usize>().ok()),
            ) {
                (Some("items"), Some(n)) => {
                    let rest: Vec<&str> = parts.collect();
                    format!("#{} {}", n + 1, rest.join("."))
                }
                _ => e.pointer.clone(),
            };
            format!("{label}: {}", e.detail)
        })
        .collect()
}

/// The items in force for a case: the latest adjustment, else the summary's.
pub fn items_in_force(summary: &CaseSummary, adjustment: Option<&Adjustment>) -> Vec<ItemInput> {
    adjustment
        .and_then(|(_, _, json)| serde_json::from_str(json).ok())
        .unwrap_or_else(|| summary.items.clone())
}

/// The duty estimate in force: recomputed from the latest adjustment, else the gate's
/// (0 when the case has no evaluation: the token did not verify).
pub fn estimate_in_force(
    state: &AppState,
    summary: Option<&CaseSummary>,
    eval: Option<&CaseEvaluation>,
    adjustment: Option<&Adjustment>,
) -> u64 {
    let at_gate = eval.map_or(0, |e| e.duty.total_yen);
    match (summary, adjustment) {
        (Some(s), Some(a)) => evaluate_items(state, s, &items_in_force(s, Some(a)))
            .map(|e| e.duty.total_yen)
            .unwrap_or(at_gate),
        _ => at_gate,
    }
}
