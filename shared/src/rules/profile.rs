//! The rules profile: every figure the engine uses, as data (TOML), validated on load.

use crate::domain::{Category, CategoryGroup, Currency, Declared, Money, ValidationErrors};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::LazyLock;
use time::UtcOffset;

/// The embedded default profile source.
const JP_2026_TOML: &str = include_str!("../../profiles/jp-2026.toml");

static JP_2026: LazyLock<RulesProfile> = LazyLock::new(|| {
    // The embedded file is checked by the `the_embedded_profile_is_valid` test.
    RulesProfile::from_toml_str(JP_2026_TOML).expect("embedded profiles/jp-2026.toml is valid")
});

/// A profile that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The file could not be read.
    #[error("failed to read rules profile {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Not TOML of the expected shape.
    #[error("rules profile is not valid TOML of the expected shape: {0}")]
    Toml(String),
    /// A figure is missing or out of range.
    #[error("rules profile is invalid: {0}")]
    Invalid(String),
}

/// Alcohol allowance and simplified rates.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlcoholRules {
    /// Minimum age for the allowance (informative: the party counts carry age bands).
    pub min_age: u32,
    /// Duty-free volume per person aged 20+ (ml).
    pub allowance_ml_per_adult: u64,
    /// Yen per litre over the allowance, by category code (every alcohol category).
    pub rates_yen_per_litre: BTreeMap<String, u64>,
}

/// Tobacco allowance (one per adult, kinds as fractions) and simplified rates.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TobaccoRules {
    /// Minimum age (informative).
    pub min_age: u32,
    /// Limit of each kind for one whole allowance (units; grams for `other_tobacco`).
    pub limits_per_adult: BTreeMap<String, u64>,
    /// Yen per unit over the allowance; kinds absent here are assessed by an officer.
    pub rates_yen_per_unit: BTreeMap<String, u64>,
}

/// Perfume allowance.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PerfumeRules {
    /// Duty-free volume per person (ml).
    pub allowance_ml_per_person: u64,
}

/// Other goods (by overseas retail value).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OtherGoodsRules {
    /// Allowance per person (yen); under-6 members' only for their own articles.
    pub allowance_yen_per_person: u64,
    /// A kind whose total is at most this is free and not counted (yen).
    pub per_kind_free_threshold_yen: u64,
    /// An article over this is taxed on its full value (yen).
    pub single_article_threshold_yen: u64,
    /// Simplified rate, percent of the customs value.
    pub rate_percent: f64,
    /// Customs value = factor × overseas retail value.
    pub customs_value_factor: f64,
    /// Over this customs value per article/set an officer assesses (yen).
    pub simplified_rate_ceiling_customs_value_yen: u64,
}

/// Thresholds of the yes/no questions (for display; routing uses the answers).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Means of payment (cash, cheques, securities), yen equivalent.
    pub means_of_payment_yen: u64,
    /// Precious metal, grams.
    pub precious_metal_g: u64,
}

/// Duty rounding.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DutyRules {
    /// The total is rounded down to a multiple of this (yen).
    pub total_rounded_down_to_yen: u64,
}

/// A dated currency table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CurrencyTable {
    /// Date of the rates, `YYYY-MM-DD`.
    pub as_of: String,
    /// Where the rates come from.
    pub note: String,
    /// Yen per one unit, by ISO 4217 code (JPY is implicit).
    pub yen_per_unit: BTreeMap<String, f64>,
}

/// A rules profile: allowances, thresholds, rates and currency table, with source and date.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RulesProfile {
    /// Stable id recorded with each declaration, e.g. `JP-2026`.
    pub id: String,
    /// Human name.
    pub name: String,
    /// Where the figures come from.
    pub source: String,
    /// Date the figures were checked, `YYYY-MM-DD`.
    pub as_of: String,
    /// Fixed UTC offset of the country's time zone, `+HH:MM` (Japan: `+09:00`): an
    /// arrival date begins and ends there (see [`RulesProfile::utc_offset`]).
    pub utc_offset: String,
    /// Alcohol.
    pub alcohol: AlcoholRules,
    /// Tobacco.
    pub tobacco: TobaccoRules,
    /// Perfume.
    pub perfume: PerfumeRules,
    /// Other goods.
    pub other_goods: OtherGoodsRules,
    /// Question thresholds.
    pub thresholds: Thresholds,
    /// Duty rounding.
    pub duty: DutyRules,
    /// Currency conversion.
    pub currency: CurrencyTable,
}

fn invalid(msg: impl Into<String>) -> RulesError {
    RulesError::Invalid(msg.into())
}

impl RulesProfile {
    /// The embedded default profile, JP-2026.
    pub fn jp_2026() -> RulesProfile {
        JP_2026.clone()
    }

    /// The embedded default profile, by reference (no clone).
    pub fn jp_2026_ref() -> &'static RulesProfile {
        &JP_2026
    }

    /// Parse and validate a profile.
    pub fn from_toml_str(s: &str) -> Result<RulesProfile, RulesError> {
        let p: RulesProfile = toml::from_str(s).map_err(|e| RulesError::Toml(e.to_string()))?;
        p.validate()?;
        Ok(p)
    }

    /// Read, parse and validate a profile file.
    pub fn load(path: &std::path::Path) -> Result<RulesProfile, RulesError> {
        let s = std::fs::read_to_string(path).map_err(|source| RulesError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml_str(&s)
    }

    /// The time zone in which arrival dates are counted. A fixed offset, not a zone
    /// name: the profiles are for countries without daylight saving (Japan), and a
    /// fixed offset needs no time-zone database.
    pub fn utc_offset(&self) -> UtcOffset {
        parse_utc_offset(&self.utc_offset).unwrap_or(UtcOffset::UTC)
    }

    fn validate(&self) -> Result<(), RulesError> {
        if self.id.trim().is_empty() || self.id.len() > 32 {
            return Err(invalid("id must be 1 to 32 characters"));
        }
        if parse_utc_offset(&self.utc_offset).is_none() {
            return Err(invalid("utc_offset must be +HH:MM or -HH:MM, e.g. +09:00"));
        }
        for (field, date) in [
            ("as_of", &self.as_of),
            ("currency.as_of", &self.currency.as_of),
        ] {
            if crate::domain::parse_date(date).is_none() {
                return Err(invalid(format!("{field} must be a date YYYY-MM-DD")));
            }
        }
        check_category_map(
            "alcohol.rates_yen_per_litre",
            &self.alcohol.rates_yen_per_litre,
            CategoryGroup::Alcohol,
            true,
        )?;
        check_category_map(
            "tobacco.limits_per_adult",
            &self.tobacco.limits_per_adult,
            CategoryGroup::Tobacco,
            true,
        )?;
        check_category_map(
            "tobacco.rates_yen_per_unit",
            &self.tobacco.rates_yen_per_unit,
            CategoryGroup::Tobacco,
            false,
        )?;
        if let Some((k, _)) = self
            .tobacco
            .limits_per_adult
            .iter()
            .find(|(_, v)| !(1..=1_000_000).contains(*v))
        {
            return Err(invalid(format!(
                "tobacco.limits_per_adult.{k} must be 1 to 1000000"
            )));
        }
        if self.tobacco_points_per_allowance().is_none() {
            return Err(invalid(
                "tobacco.limits_per_adult: the limits have too large a common multiple",
            ));
        }
        let og = &self.other_goods;
        if !(og.rate_percent.is_finite() && og.rate_percent > 0.0 && og.rate_percent <= 100.0) {
            return Err(invalid(
                "other_goods.rate_percent must be above 0 and at most 100",
            ));
        }
        if !(og.customs_value_factor.is_finite()
            && og.customs_value_factor > 0.0
            && og.customs_value_factor <= 1.0)
        {
            return Err(invalid(
                "other_goods.customs_value_factor must be above 0 and at most 1",
            ));
        }
        for (name, v) in [
            (
                "other_goods.single_article_threshold_yen",
                og.single_article_threshold_yen,
            ),
            (
                "other_goods.simplified_rate_ceiling_customs_value_yen",
                og.simplified_rate_ceiling_customs_value_yen,
            ),
            (
                "thresholds.means_of_payment_yen",
                self.thresholds.means_of_payment_yen,
            ),
            (
                "thresholds.precious_metal_g",
                self.thresholds.precious_metal_g,
            ),
            (
                "duty.total_rounded_down_to_yen",
                self.duty.total_rounded_down_to_yen,
            ),
        ] {
            if v == 0 {
                return Err(invalid(format!("{name} must be greater than zero")));
            }
        }
        for (name, v) in [
            (
                "alcohol.allowance_ml_per_adult",
                self.alcohol.allowance_ml_per_adult,
            ),
            (
                "perfume.allowance_ml_per_person",
                self.perfume.allowance_ml_per_person,
            ),
            (
                "other_goods.allowance_yen_per_person",
                og.allowance_yen_per_person,
            ),
            (
                "other_goods.per_kind_free_threshold_yen",
                og.per_kind_free_threshold_yen,
            ),
        ] {
            // Zero is a valid (strict) allowance; the cap keeps the arithmetic far from overflow.
            if v > 100_000_000 {
                return Err(invalid(format!("{name} must be at most 100000000")));
            }
        }
        for (code, rate) in &self.currency.yen_per_unit {
            if Currency::parse(code)
                .map(|c| c.as_str() != code)
                .unwrap_or(true)
            {
                return Err(invalid(format!(
                    "currency.yen_per_unit: {code} is not an ISO 4217 code"
                )));
            }
            if code == "JPY" {
                return Err(invalid("currency.yen_per_unit: JPY is implicit, remove it"));
            }
            if !(rate.is_finite() && *rate > 0.0 && *rate < 1_000_000.0) {
                return Err(invalid(format!(
                    "currency.yen_per_unit.{code} must be above 0"
                )));
            }
        }
        Ok(())
    }

    /// Check what only the profile can judge: every currency has a rate. Errors name
    /// `{prefix}/items/N/value/currency` with code `unknown_currency`.
    pub fn check_declared(&self, d: &Declared, prefix: &str) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        for (i, item) in d.items.iter().enumerate() {
            if self.to_yen(&item.value).is_none() {
                errs.push(
                    format!("{prefix}/items/{i}/value/currency"),
                    "unknown_currency",
                    format!(
                        "{} is not in the rate table; use one of {}",
                        item.value.currency,
                        self.currencies().join(", ")
                    ),
                );
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    /// Currencies with a rate, JPY first then alphabetical (for pickers).
    pub fn currencies(&self) -> Vec<String> {
        std::iter::once("JPY".to_owned())
            .chain(self.currency.yen_per_unit.keys().cloned())
            .collect()
    }

    /// Whole yen (rounded down) of an amount, or `None` when the currency has no rate.
    pub fn to_yen(&self, m: &Money) -> Option<u64> {
        if m.currency == Currency::JPY {
            return Some(m.hundredths / 100);
        }
        let rate = *self.currency.yen_per_unit.get(m.currency.as_str())?;
        // Exact integer arithmetic on the rate in millionths of a yen.
        let micro = (rate * 1_000_000.0).round();
        if !(micro.is_finite() && micro >= 0.0) {
            return None;
        }
        let yen = u128::from(m.hundredths) * (micro as u128) / 100_000_000;
        Some(u64::try_from(yen).unwrap_or(u64::MAX))
    }

    /// Simplified alcohol rate for a category (yen per litre).
    pub(crate) fn alcohol_rate(&self, c: Category) -> u64 {
        self.alcohol
            .rates_yen_per_litre
            .get(c.code())
            .copied()
            .unwrap_or(0)
    }

    /// One whole tobacco allowance in "points": the least common multiple of the limits,
    /// so that one unit of kind k weighs `points / limit_k` exactly.
    pub(crate) fn tobacco_points_per_allowance(&self) -> Option<u64> {
        let mut l: u64 = 1;
        for v in self.tobacco.limits_per_adult.values() {
            let g = gcd(l, *v);
            l = l.checked_mul(v / g.max(1))?;
            if l > 1_000_000_000_000 {
                return None;
            }
        }
        Some(l)
    }

    /// Customs value (whole yen, rounded down) of a retail value.
    pub(crate) fn customs_value(&self, retail_yen: u64) -> u64 {
        let bp = (self.other_goods.customs_value_factor * 10_000.0).round() as u128;
        u64::try_from(u128::from(retail_yen) * bp / 10_000).unwrap_or(u64::MAX)
    }

    /// Other-goods duty on a dutiable retail value (customs value × rate, rounded down).
    pub(crate) fn other_goods_duty(&self, retail_yen: u64) -> u64 {
        let bp = (self.other_goods.rate_percent * 100.0).round() as u128;
        u64::try_from(u128::from(self.customs_value(retail_yen)) * bp / 10_000).unwrap_or(u64::MAX)
    }
}

/// `+HH:MM` / `-HH:MM` (the sign is required) to an offset.
fn parse_utc_offset(s: &str) -> Option<UtcOffset> {
    let format = time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]");
    UtcOffset::parse(s, &format).ok()
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn check_category_map(
    name: &str,
    map: &BTreeMap<String, u64>,
    group: CategoryGroup,
    every: bool,
) -> Result<(), RulesError> {
    for k in map.keys() {
        match Category::from_code(k) {
            Some(c) if c.group() == group => {}
            _ => {
                return Err(invalid(format!(
                    "{name}: {k} is not a category of this group"
                )));
            }
        }
    }
    if every {
        for c in Category::ALL.iter().filter(|c| c.group() == group) {
            if !map.contains_key(c.code()) {
                return Err(invalid(format!("{name}: {} is missing", c.code())));
            }
        }
    }
    Ok(())
}
