//! View models of the case page's tables: the duty estimate line by line, the outcome
//! history and the payments.

use crate::case_record::{DutyRecord, TreatmentRecord};
use crate::console::ConsoleConfig;
use crate::console::format::{fmt_time, yen};
use crate::console::page::PageCtx;
use crate::console::store::{OutcomeRow, PaymentRow};
use shared::domain::ItemInput;
use shared::i18n::Lang;

/// A row of a duty table.
#[derive(Debug, Clone)]
pub struct DutyRow {
    /// 1-based item number.
    pub no: usize,
    /// Category name.
    pub category: String,
    /// Quantity as declared (`2 × 750 ml`).
    pub quantity: String,
    /// Value in yen.
    pub value: String,
    /// Free / dutiable / officer assesses.
    pub treatment: String,
    /// Rate and base when dutiable.
    pub rate: String,
    /// Duty on the line.
    pub duty: String,
}

/// A duty table with its total.
#[derive(Debug, Clone, Default)]
pub struct DutyTable {
    /// Lines.
    pub rows: Vec<DutyRow>,
    /// Total duty.
    pub total: String,
    /// Total, whole yen.
    pub total_yen: u64,
    /// Whether an officer must assess some line.
    pub assessment_needed: bool,
    /// `¥used of ¥total` of the other-goods allowance.
    pub allowance: String,
}

/// An outcome in the history.
#[derive(Debug, Clone)]
pub struct OutcomeView {
    /// Outcome id.
    pub id: i64,
    /// Localised kind.
    pub kind: String,
    /// Amount and how it was set, when duty was assessed.
    pub amount: String,
    /// Officer's note.
    pub note: String,
    /// Who recorded it.
    pub officer: String,
    /// When.
    pub at: String,
    /// The outcome it supersedes and why.
    pub supersedes: Option<(i64, String)>,
    /// Whether this is the outcome in force.
    pub current: bool,
}

/// A payment in the list.
#[derive(Debug, Clone)]
pub struct PaymentView {
    /// Payment id (receipt link).
    pub id: i64,
    /// Localised method.
    pub method: String,
    /// Amount.
    pub amount: String,
    /// When.
    pub at: String,
    /// The outcome in force when it was taken (it may since have been superseded).
    pub outcome_id: i64,
}

/// The localised name of a category code.
pub fn category_name(lang: Lang, code: &str) -> String {
    shared::i18n::t(lang, &format!("category-{}", code.replace('_', "-")))
}

/// A duty table from an evaluation and the items it judged.
pub fn duty_table(ctx: &PageCtx, eval: &DutyRecord, items: &[ItemInput]) -> DutyTable {
    let rows = eval
        .lines
        .iter()
        .map(|l| {
            let item = items.get(l.item);
            let quantity = match item {
                Some(i) => match (i.volume_ml, i.weight_g) {
                    (Some(v), _) => format!("{} × {v} ml", i.quantity),
                    (_, Some(w)) => format!("{} × {w} g", i.quantity),
                    _ => i.quantity.to_string(),
                },
                None => l.quantity_total.to_string(),
            };
            let (treatment, rate) = match &l.treatment {
                TreatmentRecord::Dutiable { rate, base, .. } => {
                    (ctx.t("treatment-dutiable"), format!("{rate} × {base}"))
                }
                TreatmentRecord::Free { why } | TreatmentRecord::OfficerAssesses { why } => (
                    ctx.t(&format!("treatment-{}", why.replace('_', "-"))),
                    String::new(),
                ),
            };
            DutyRow {
                no: l.item + 1,
                category: category_name(ctx.lang, l.category.code()),
                quantity,
                value: yen(l.value_yen as i64),
                treatment,
                rate,
                duty: yen(l.treatment.duty_yen() as i64),
            }
        })
        .collect();
    DutyTable {
        rows,
        total: yen(eval.total_yen as i64),
        total_yen: eval.total_yen,
        assessment_needed: eval.officer_assessment_needed,
        allowance: format!(
            "{} / {}",
            yen(eval.allowance_used_yen as i64),
            yen(eval.allowance_total_yen as i64)
        ),
    }
}

/// An outcome for the history list.
pub fn outcome_view(
    ctx: &PageCtx,
    cfg: &ConsoleConfig,
    o: &OutcomeRow,
    current: bool,
) -> OutcomeView {
    let amount = match (o.amount_yen, o.amount_source.as_deref()) {
        (Some(a), Some(src)) => {
            let how = ctx.t(&format!("console-amount-source-{src}"));
            match &o.amount_reason {
                Some(r) if !r.is_empty() => format!("{} ({how}: {r})", yen(a)),
                _ => format!("{} ({how})", yen(a)),
            }
        }
        (Some(a), None) => yen(a),
        _ => String::new(),
    };
    OutcomeView {
        id: o.id,
        kind: ctx.t(&format!("console-outcome-{}", o.kind.replace('_', "-"))),
        amount,
        note: o.note.clone(),
        officer: o.officer_name.clone(),
        at: fmt_time(cfg, o.recorded_at),
        supersedes: o
            .supersedes_id
            .map(|s| (s, o.supersede_reason.clone().unwrap_or_default())),
        current,
    }
}

/// A payment for the list.
pub fn payment_view(ctx: &PageCtx, cfg: &ConsoleConfig, p: &PaymentRow) -> PaymentView {
    PaymentView {
        id: p.id,
        method: ctx.t(&format!("console-method-{}", p.method.replace('_', "-"))),
        amount: yen(p.amount_yen),
        at: fmt_time(cfg, p.recorded_at),
        outcome_id: p.outcome_id,
    }
}
