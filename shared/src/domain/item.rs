//! Declared items: the fixed category list, quantities and values.

use super::{FieldError, Text, ValidationErrors};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Allowance group a category belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryGroup {
    /// Alcoholic beverages (volume-based allowance, adults only).
    Alcohol,
    /// Tobacco products (one fractional allowance, adults only).
    Tobacco,
    /// Perfume (2 oz allowance; eau de toilette is other goods).
    Perfume,
    /// Everything else (¥200,000 overseas retail value).
    OtherGoods,
}

macro_rules! categories {
    ($($variant:ident = $num:literal, $code:literal, $group:ident, $unit:literal;)*) => {
        /// Item category: a fixed list shared by issuers and gates. The number is the
        /// stable code in the token (see `docs/token.cddl`), the string the code in JSON
        /// and in the rules profile.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Category {
            $(
                #[doc = $code]
                $variant,
            )*
        }
        impl Category {
            /// Every category, in token-code order.
            pub const ALL: &'static [Category] = &[$(Category::$variant),*];
            /// Stable numeric code (token).
            pub fn number(self) -> u8 {
                match self { $(Category::$variant => $num,)* }
            }
            /// From the numeric code.
            pub fn from_number(n: u64) -> Option<Self> {
                match n { $($num => Some(Category::$variant),)* _ => None }
            }
            /// Stable string code (JSON, rules profile, i18n keys).
            pub fn code(self) -> &'static str {
                match self { $(Category::$variant => $code,)* }
            }
            /// From the string code.
            pub fn from_code(s: &str) -> Option<Self> {
                match s { $($code => Some(Category::$variant),)* _ => None }
            }
            /// Allowance group.
            pub fn group(self) -> CategoryGroup {
                match self { $(Category::$variant => CategoryGroup::$group,)* }
            }
            /// What `quantity` counts: `bottles`, `sticks`, `pieces`, …
            pub fn unit(self) -> &'static str {
                match self { $(Category::$variant => $unit,)* }
            }
        }
    };
}

categories! {
    Whisky = 1, "whisky", Alcohol, "bottles";
    Brandy = 2, "brandy", Alcohol, "bottles";
    Rum = 3, "rum", Alcohol, "bottles";
    Gin = 4, "gin", Alcohol, "bottles";
    Vodka = 5, "vodka", Alcohol, "bottles";
    Liqueur = 6, "liqueur", Alcohol, "bottles";
    OtherSpirits = 7, "other_spirits", Alcohol, "bottles";
    Wine = 8, "wine", Alcohol, "bottles";
    Beer = 9, "beer", Alcohol, "bottles";
    OtherLiquor = 10, "other_liquor", Alcohol, "bottles";
    Cigarettes = 20, "cigarettes", Tobacco, "sticks";
    Cigars = 21, "cigars", Tobacco, "cigars";
    HeatedTobaccoSticks = 22, "heated_tobacco_sticks", Tobacco, "sticks";
    HeatedTobaccoCapsules = 23, "heated_tobacco_capsules", Tobacco, "capsules";
    OtherTobacco = 24, "other_tobacco", Tobacco, "packages";
    Perfume = 30, "perfume", Perfume, "bottles";
    EauDeToilette = 31, "eau_de_toilette", OtherGoods, "bottles";
    Clothing = 40, "clothing", OtherGoods, "pieces";
    BagsAccessories = 41, "bags_accessories", OtherGoods, "pieces";
    WatchesJewellery = 42, "watches_jewellery", OtherGoods, "pieces";
    Cosmetics = 43, "cosmetics", OtherGoods, "pieces";
    Electronics = 44, "electronics", OtherGoods, "pieces";
    Food = 45, "food", OtherGoods, "pieces";
    ToysGames = 46, "toys_games", OtherGoods, "pieces";
    OtherGoods = 47, "other_goods", OtherGoods, "pieces";
}

impl Category {
    /// Whether an item of this category must give `volume_ml` (per unit).
    pub fn needs_volume(self) -> bool {
        matches!(
            self.group(),
            CategoryGroup::Alcohol | CategoryGroup::Perfume
        )
    }
    /// Whether an item of this category must give `weight_g` (per unit).
    pub fn needs_weight(self) -> bool {
        self == Category::OtherTobacco
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// ISO 4217 currency code (three upper-case letters). Whether the rules profile has a
/// rate for it is checked by the rules engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Japanese yen.
    pub const JPY: Currency = Currency(*b"JPY");

    /// Parse a currency code.
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let b = s.trim().as_bytes();
        if b.len() == 3 && b.iter().all(u8::is_ascii_uppercase) {
            Ok(Self([b[0], b[1], b[2]]))
        } else {
            Err("must be an ISO 4217 currency code such as JPY or USD")
        }
    }
    /// The code.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An amount in hundredths of a currency unit (cents, or 1/100 yen), never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    /// Amount × 100.
    pub hundredths: u64,
    /// Currency.
    pub currency: Currency,
}

/// Largest accepted amount: 10 billion units.
pub const MAX_AMOUNT_HUNDREDTHS: u64 = 1_000_000_000_000;

impl Money {
    /// From a decimal number with at most two decimals.
    pub fn from_decimal(amount: f64, currency: Currency) -> Result<Self, &'static str> {
        if !amount.is_finite() || amount < 0.0 {
            return Err("must be a number zero or greater");
        }
        let h = (amount * 100.0).round();
        if (h - amount * 100.0).abs() > 1e-6 * h.max(1.0) {
            return Err("must have at most two decimals");
        }
        if h > MAX_AMOUNT_HUNDREDTHS as f64 {
            return Err("is too large");
        }
        Ok(Self {
            hundredths: h as u64,
            currency,
        })
    }
    /// Whole yen (hundredths must be a JPY amount).
    pub fn yen(yen: u64) -> Self {
        Self {
            hundredths: yen * 100,
            currency: Currency::JPY,
        }
    }
    /// The amount as a decimal number.
    pub fn as_decimal(&self) -> f64 {
        self.hundredths as f64 / 100.0
    }
}

/// One declared item line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Item {
    /// Category.
    pub category: Category,
    /// What it is (for the passenger and the officer); not in the token.
    pub description: Option<Text>,
    /// Number of units (bottles, sticks, pieces), 1–100,000.
    pub quantity: u32,
    /// Volume of one unit in ml (alcohol, perfume).
    pub volume_ml: Option<u32>,
    /// Weight of one unit in g (other tobacco).
    pub weight_g: Option<u32>,
    /// Total overseas retail value of the line (all units).
    pub value: Money,
    /// For a child under 6's own use (only such items use an under-6 allowance).
    pub for_child: bool,
}

impl Item {
    /// Total volume in ml (0 if not applicable).
    pub fn total_volume_ml(&self) -> u64 {
        u64::from(self.volume_ml.unwrap_or(0)) * u64::from(self.quantity)
    }
    /// Total weight in g (0 if not applicable).
    pub fn total_weight_g(&self) -> u64 {
        u64::from(self.weight_g.unwrap_or(0)) * u64::from(self.quantity)
    }
}

/// Wire shape of a money amount.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoneyInput {
    /// Decimal amount, at most two decimals.
    pub amount: f64,
    /// ISO 4217 code.
    pub currency: String,
}

/// Wire shape of [`Item`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    /// Category code, e.g. `whisky`.
    pub category: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Units.
    pub quantity: u32,
    /// Per-unit volume (ml).
    #[serde(default)]
    pub volume_ml: Option<u32>,
    /// Per-unit weight (g).
    #[serde(default)]
    pub weight_g: Option<u32>,
    /// Total value of the line.
    pub value: MoneyInput,
    /// For a child under 6's own use.
    #[serde(default)]
    pub for_child: bool,
}

impl ItemInput {
    /// Validate; errors carry pointers under `prefix` (e.g. `/items/3`).
    pub fn validate(&self, prefix: &str, errs: &mut ValidationErrors) -> Option<Item> {
        let before = errs.0.len();
        let category = Category::from_code(self.category.trim());
        if category.is_none() {
            errs.0.push(FieldError {
                pointer: format!("{prefix}/category"),
                code: "unknown_category",
                detail: "is not a known category".into(),
            });
        }
        let description = match self.description.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => errs.check(prefix, "description", Text::parse(d, 100)),
        };
        if !(1..=100_000).contains(&self.quantity) {
            errs.push(
                format!("{prefix}/quantity"),
                "out_of_range",
                "must be between 1 and 100000",
            );
        }
        if let Some(c) = category {
            match (c.needs_volume(), self.volume_ml) {
                (true, None) => errs.push(
                    format!("{prefix}/volume_ml"),
                    "required",
                    "is required for this category (ml per bottle)",
                ),
                (true, Some(v)) if !(1..=20_000).contains(&v) => errs.push(
                    format!("{prefix}/volume_ml"),
                    "out_of_range",
                    "must be between 1 and 20000 ml",
                ),
                (false, Some(_)) => errs.push(
                    format!("{prefix}/volume_ml"),
                    "not_applicable",
                    "applies only to alcohol and perfume",
                ),
                _ => {}
            }
            match (c.needs_weight(), self.weight_g) {
                (true, None) => errs.push(
                    format!("{prefix}/weight_g"),
                    "required",
                    "is required for this category (grams per package)",
                ),
                (true, Some(w)) if !(1..=100_000).contains(&w) => errs.push(
                    format!("{prefix}/weight_g"),
                    "out_of_range",
                    "must be between 1 and 100000 g",
                ),
                (false, Some(_)) => errs.push(
                    format!("{prefix}/weight_g"),
                    "not_applicable",
                    "applies only to other tobacco",
                ),
                _ => {}
            }
        }
        let currency = errs.check(
            &format!("{prefix}/value"),
            "currency",
            Currency::parse(&self.value.currency),
        );
        let value = currency.and_then(|cur| {
            errs.check(
                &format!("{prefix}/value"),
                "amount",
                Money::from_decimal(self.value.amount, cur),
            )
        });
        if errs.0.len() != before {
            return None;
        }
        Some(Item {
            category: category?,
            description,
            quantity: self.quantity,
            volume_ml: self.volume_ml,
            weight_g: self.weight_g,
            value: value?,
            for_child: self.for_child,
        })
    }
}

impl From<&Item> for ItemInput {
    fn from(i: &Item) -> Self {
        Self {
            category: i.category.code().to_owned(),
            description: i.description.as_ref().map(|d| d.as_str().to_owned()),
            quantity: i.quantity,
            volume_ml: i.volume_ml,
            weight_g: i.weight_g,
            value: MoneyInput {
                amount: i.value.as_decimal(),
                currency: i.value.currency.as_str().to_owned(),
            },
            for_child: i.for_child,
        }
    }
}
