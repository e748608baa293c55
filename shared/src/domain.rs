//! The domain model of a customs declaration (Japan Customs Form C No. 5360).
//!
//! Every type here has a validating constructor: a value that exists is valid.
//! Wire shapes (`*Input`) are plain serde structs that refuse unknown fields;
//! [`DeclarationInput::validate`] turns one into a [`Declaration`] or a list of
//! [`FieldError`]s, each naming the field by JSON pointer.

use serde::{Deserialize, Serialize};
use time::Date;

mod countries;
mod error;
mod input;
mod item;
mod values;

pub use countries::is_known_nationality;
pub use error::{FieldError, ValidationErrors};
pub use input::{DeclarationInput, PassengerInput, TripInput, validate_declared};
pub use item::{Category, CategoryGroup, Currency, Item, ItemInput, Money, MoneyInput};
pub use values::{AirportCode, FlightNumber, Name, Nationality, PassportNumber, Phone, Sex, Text};

/// Longest free-text field we accept (address, occupation, description).
pub const MAX_TEXT: usize = 200;
/// Most item lines on one declaration.
pub const MAX_ITEMS: usize = 50;
/// Most people in one declaring party (declarant included).
pub const MAX_PARTY: u32 = 20;

/// Parse a `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &fmt).ok()
}

/// Format a date as `YYYY-MM-DD`.
pub fn format_date(d: Date) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    d.format(&fmt).unwrap_or_default()
}

/// The passenger's identity, as on the passport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passenger {
    /// Primary identifier.
    pub surname: Name,
    /// Secondary identifier; may be empty.
    pub given_names: Name,
    /// Nationality code.
    pub nationality: Nationality,
    /// Date of birth.
    pub birth_date: Date,
    /// Sex.
    pub sex: Sex,
    /// Passport number.
    pub passport_number: PassportNumber,
    /// Passport expiry date.
    pub passport_expiry: Date,
}

/// The journey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trip {
    /// Flight number.
    pub flight: FlightNumber,
    /// Airport of embarkation.
    pub origin: AirportCode,
    /// Date of arrival in Japan.
    pub arrival_date: Date,
    /// Address (hotel) in Japan.
    pub address_in_japan: Text,
    /// Phone number.
    pub phone: Phone,
    /// Occupation.
    pub occupation: Text,
}

/// The declaring party counted by age band, the declarant included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// Members aged 20 and over (alcohol and tobacco allowances).
    pub aged_20_plus: u32,
    /// Members aged 6 to 19.
    pub aged_6_to_19: u32,
    /// Members under 6 (other-goods allowance for the child's own articles only).
    pub under_6: u32,
}

impl Party {
    /// A party of one adult.
    pub const SOLO_ADULT: Party = Party {
        aged_20_plus: 1,
        aged_6_to_19: 0,
        under_6: 0,
    };

    /// Build a party: at least one member, at most [`MAX_PARTY`].
    pub fn new(aged_20_plus: u32, aged_6_to_19: u32, under_6: u32) -> Result<Self, &'static str> {
        let total = aged_20_plus
            .checked_add(aged_6_to_19)
            .and_then(|t| t.checked_add(under_6))
            .ok_or("party is too large")?;
        if total == 0 {
            return Err("the party must count at least the declarant");
        }
        if total > MAX_PARTY {
            return Err("a party may have at most 20 members; larger groups declare separately");
        }
        Ok(Self {
            aged_20_plus,
            aged_6_to_19,
            under_6,
        })
    }

    /// Total members.
    pub fn total(&self) -> u32 {
        self.aged_20_plus + self.aged_6_to_19 + self.under_6
    }
}

/// The yes/no questions of Customs Form C No. 5360 (side A, question 1 and 2–3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answers {
    /// 1-1: prohibited or restricted articles (drugs, firearms, counterfeits, …).
    pub prohibited: bool,
    /// 1-2: goods in excess of the duty-free allowance.
    pub over_allowance: bool,
    /// 1-3: commercial goods or samples.
    pub commercial: bool,
    /// 1-4: articles carried for someone else.
    pub for_others: bool,
    /// 2: cash, cheques, securities over ¥1,000,000 equivalent.
    pub means_of_payment_over_limit: bool,
    /// 2: precious metal (gold bars etc.) over 1 kg.
    pub precious_metal_over_1kg: bool,
    /// 3: number of unaccompanied packages (separately shipped); 0 means "no".
    pub unaccompanied_packages: u32,
}

impl Answers {
    /// Whether any question is answered "yes".
    pub fn any_yes(&self) -> bool {
        self.prohibited
            || self.over_allowance
            || self.commercial
            || self.for_others
            || self.means_of_payment_over_limit
            || self.precious_metal_over_1kg
            || self.unaccompanied_packages > 0
    }
}

/// What the rules engine judges: the party, the answers and the items. This is
/// what both a full declaration and the token summary carry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Declared {
    /// Who travels together under this declaration.
    pub party: Party,
    /// The yes/no answers.
    pub answers: Answers,
    /// Declared items.
    pub items: Vec<Item>,
}

impl Default for Party {
    fn default() -> Self {
        Self::SOLO_ADULT
    }
}

/// A complete, valid declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// Identity.
    pub passenger: Passenger,
    /// Journey.
    pub trip: Trip,
    /// Party, answers and items.
    pub declared: Declared,
}

#[cfg(test)]
mod tests;
