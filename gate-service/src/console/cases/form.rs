//! The line-adjustment form: the rows it shows and reading them back as items.

use crate::console::forms::FormData;
use shared::domain::{ItemInput, MoneyInput};

/// Empty rows offered after the declared ones.
pub const BLANK_ROWS: usize = 3;

/// One editable item line of the adjustment form.
#[derive(Debug, Clone, Default)]
pub struct ItemFormRow {
    /// Row index in the form.
    pub idx: usize,
    /// Category code (empty for a blank row).
    pub category: String,
    /// Units.
    pub quantity: String,
    /// ml per unit.
    pub volume_ml: String,
    /// g per unit.
    pub weight_g: String,
    /// Value of the line.
    pub amount: String,
    /// Currency code.
    pub currency: String,
    /// For a child under 6.
    pub for_child: bool,
}

/// The form's rows for `items`, then blank rows.
pub fn form_rows(items: &[ItemInput], blanks: usize) -> Vec<ItemFormRow> {
    let mut rows: Vec<ItemFormRow> = items
        .iter()
        .enumerate()
        .map(|(idx, i)| ItemFormRow {
            idx,
            category: i.category.clone(),
            quantity: i.quantity.to_string(),
            volume_ml: i.volume_ml.map(|v| v.to_string()).unwrap_or_default(),
            weight_g: i.weight_g.map(|v| v.to_string()).unwrap_or_default(),
            amount: format_amount(i.value.amount),
            currency: i.value.currency.clone(),
            for_child: i.for_child,
        })
        .collect();
    with_blanks(&mut rows, blanks);
    rows
}

/// Append `blanks` empty rows (currency preset to yen).
pub fn with_blanks(rows: &mut Vec<ItemFormRow>, blanks: usize) {
    let n = rows.len();
    rows.extend((n..n + blanks).map(|idx| ItemFormRow {
        idx,
        currency: "JPY".into(),
        ..ItemFormRow::default()
    }));
}

fn format_amount(a: f64) -> String {
    if a.fract() == 0.0 {
        format!("{a:.0}")
    } else {
        format!("{a:.2}")
    }
}

/// Read the adjustment form: rows `c{i}`, `q{i}`, `v{i}`, `w{i}`, `a{i}`, `cur{i}`,
/// `k{i}` (for a child), `x{i}` (remove). Blank and removed rows are skipped.
pub fn parse_rows(form: &FormData) -> (Vec<ItemFormRow>, Vec<ItemInput>, Vec<String>) {
    let n: usize = form
        .get("n")
        .parse()
        .unwrap_or(0)
        .min(shared::domain::MAX_ITEMS + 10);
    let mut rows = Vec::new();
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for i in 0..n {
        let row = ItemFormRow {
            idx: i,
            category: form.get(&format!("c{i}")),
            quantity: form.get(&format!("q{i}")),
            volume_ml: form.get(&format!("v{i}")),
            weight_g: form.get(&format!("w{i}")),
            amount: form.get(&format!("a{i}")).replace(',', ""),
            currency: form.get(&format!("cur{i}")).to_ascii_uppercase(),
            for_child: form.has(&format!("k{i}")),
        };
        if row.category.is_empty() || form.has(&format!("x{i}")) {
            continue;
        }
        let num = |s: &str| -> Option<Option<u32>> {
            if s.is_empty() {
                Some(None)
            } else {
                s.parse::<u32>().ok().map(Some)
            }
        };
        let quantity = row.quantity.parse::<u32>().ok();
        let (vol, wt) = (num(&row.volume_ml), num(&row.weight_g));
        let amount = row
            .amount
            .parse::<f64>()
            .ok()
            .filter(|a| a.is_finite() && *a >= 0.0);
        match (quantity, vol, wt, amount) {
            (Some(q), Some(v), Some(w), Some(a)) => items.push(ItemInput {
                category: row.category.clone(),
                description: None,
                quantity: q,
                volume_ml: v,
                weight_g: w,
                value: MoneyInput {
                    amount: a,
                    currency: row.currency.clone(),
                },
                for_child: row.for_child,
            }),
            _ => errors.push(format!("#{}: {}", i + 1, "console-adjust-row-invalid")),
        }
        rows.push(ItemFormRow {
            idx: rows.len(),
            ..row
        });
    }
    (rows, items, errors)
}
