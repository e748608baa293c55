//! The rules engine: routes a declaration to the GREEN or RED lane and estimates the
//! duty, from a rules profile kept as data.
//!
//! - [`RulesProfile`]: every allowance, threshold, rate and the currency table, parsed
//!   from TOML; the embedded default is `profiles/jp-2026.toml` (Japan Customs, c-answer
//!   7104, 7105, 7305, as of 2026-11-01). Another file replaces it at start.
//! - [`evaluate`]: applies the profile to a [`Declared`] (party, answers, items) and
//!   returns the lane, the reasons (stable codes with arguments, localised by
//!   [`Reason::message`]) and a [`DutyEstimate`] line by line.
//!
//! The other-goods allowance is allotted in the traveller's favour with an exact
//! subset-sum over individual articles (see `knapsack`); alcohol, tobacco and perfume
//! allowances go first to the lines with the highest duty per unit of allowance.

use crate::domain::{Category, Declared};
use crate::i18n::{self, FluentArg, Lang};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod engine;
mod knapsack;
mod profile;
#[cfg(test)]
mod tests;

pub use engine::evaluate;
pub use profile::{
    AlcoholRules, CurrencyTable, DutyRules, OtherGoodsRules, PerfumeRules, RulesError,
    RulesProfile, Thresholds, TobaccoRules,
};

/// Which lane the passenger takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lane {
    /// Nothing to declare: the gate opens.
    Green,
    /// Something to declare or to check: the red-lane counter.
    Red,
}

impl Lane {
    /// `green` or `red`.
    pub fn code(self) -> &'static str {
        match self {
            Lane::Green => "green",
            Lane::Red => "red",
        }
    }
}

/// Why a declaration goes to the red lane: a stable code and its arguments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// Stable code, e.g. `allowance.alcohol_exceeded`.
    pub code: String,
    /// Arguments for the message (numbers as decimal text; `*_yen` are whole yen).
    pub args: BTreeMap<String, String>,
}

impl Reason {
    /// A reason with no arguments.
    pub fn new(code: &str) -> Reason {
        Reason {
            code: code.to_owned(),
            args: BTreeMap::new(),
        }
    }

    /// Add an argument.
    pub fn with(mut self, k: &str, v: impl ToString) -> Reason {
        self.args.insert(k.to_owned(), v.to_string());
        self
    }

    /// The i18n key: `reason-` + the code with `.` and `_` as `-`.
    pub fn message_key(&self) -> String {
        format!("reason-{}", self.code.replace(['.', '_'], "-"))
    }

    /// The message in `lang` (English when that language lacks it, the code when no
    /// language has it). `*_yen` arguments are shown with thousands separators.
    pub fn message(&self, lang: Lang) -> String {
        let key = self.message_key();
        if !i18n::has_key(lang, &key) && !i18n::has_key(Lang::En, &key) {
            return self.code.clone();
        }
        let args: Vec<(&str, FluentArg)> = self
            .args
            .iter()
            .map(|(k, v)| {
                let arg = match v.parse::<u64>() {
                    Ok(n) if k.ends_with("_yen") => FluentArg::Str(group_thousands(n)),
                    _ => FluentArg::Str(v.clone()),
                };
                (k.as_str(), arg)
            })
            .collect();
        i18n::t_args(lang, &key, &args)
    }
}

/// `1234567` → `1,234,567`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The outcome of applying a profile to a declaration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// The profile id (recorded with the declaration and in the token).
    pub profile_id: String,
    /// GREEN or RED.
    pub lane: Lane,
    /// Why RED (empty when GREEN).
    pub reasons: Vec<Reason>,
    /// Line-by-line duty estimate.
    pub duty: DutyEstimate,
}

/// The duty estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DutyEstimate {
    /// One line per declared item, in item order.
    pub lines: Vec<DutyLine>,
    /// Sum of the line duties, rounded down per the profile (officer-assessed lines
    /// are not included).
    pub total_yen: u64,
    /// Whether at least one line needs an officer's assessment.
    pub officer_assessment_needed: bool,
    /// Other goods: value exempted within the party's allowance (per-kind free items
    /// and alcohol/tobacco/perfume are not counted here).
    pub allowance_used_yen: u64,
    /// Other goods: the party's allowance (general pool plus under-6 pools).
    pub allowance_total_yen: u64,
}

/// What a line's quantities count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Millilitres (alcohol, perfume).
    Ml,
    /// Units: sticks, cigars, capsules (tobacco).
    Units,
    /// Grams (other tobacco).
    Grams,
    /// Articles (other goods; a line of quantity n is n articles of equal value).
    Articles,
}

/// How one item line is treated.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Treatment {
    /// Entirely free; `why` is a code (`within_allowance`, `per_kind_under_threshold`);
    /// message key `treatment-<why with _ as ->`.
    Free {
        /// Why it is free.
        why: String,
    },
    /// Some or all of it is dutiable at a simplified rate.
    Dutiable {
        /// The rate, for people: `¥800/L`, `¥15/stick`, `15% of customs value`.
        rate: String,
        /// The dutiable base, for people: `0.720 L`, `40 sticks`, `¥54,000 customs value`.
        base: String,
        /// Duty on this line, whole yen (rounded down).
        duty_yen: u64,
    },
    /// An officer assesses the dutiable part; `why` is a code
    /// (`customs_value_over_ceiling`, `no_simplified_rate`, `unknown_currency`,
    /// `incomplete_item`).
    OfficerAssesses {
        /// Why no simplified amount can be given.
        why: String,
    },
}

/// The estimate for one item line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DutyLine {
    /// Index in `Declared.items`.
    pub item: usize,
    /// Category.
    pub category: Category,
    /// What the quantities count.
    pub measure: Measure,
    /// Whole line, in `measure`.
    pub quantity_total: u64,
    /// Free part, in `measure`.
    pub quantity_free: u64,
    /// Dutiable (or officer-assessed) part; `quantity_free + quantity_dutiable ==
    /// quantity_total`.
    pub quantity_dutiable: u64,
    /// Overseas retail value of the line in yen (0 when the currency is unknown).
    pub value_yen: u64,
    /// Part of the value that is dutiable (other goods, perfume excess pro rata).
    pub value_dutiable_yen: u64,
    /// Free, dutiable (rate, base, duty) or officer-assessed.
    pub treatment: Treatment,
}

impl DutyLine {
    /// The line's duty in yen (0 unless dutiable at a simplified rate).
    pub fn duty_yen(&self) -> u64 {
        match self.treatment {
            Treatment::Dutiable { duty_yen, .. } => duty_yen,
            _ => 0,
        }
    }
}

/// Convenience: evaluate under the embedded default profile.
pub fn evaluate_default(declared: &Declared) -> Evaluation {
    evaluate(RulesProfile::jp_2026_ref(), declared)
}
