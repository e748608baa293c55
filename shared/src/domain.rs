//! The domain model of a customs declaration (Japan Customs Form C No. 5360).
//!
//! Every type here has a validating constructor: a value that exists is valid.
//! Wire shapes (`*Input`) are plain serde structs that refuse unknown fields;
//! [`DeclarationInput::validate`] turns one into a [`Declaration`] or a list of
//! [`FieldError`]s, each naming the field by JSON pointer.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::Date;

mod countries;
mod error;
mod item;

pub use countries::is_known_nationality;
pub use error::{FieldError, ValidationErrors};
pub use item::{Category, CategoryGroup, Currency, Item, ItemInput, Money, MoneyInput};

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

macro_rules! string_newtype {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);
        impl $name {
            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_newtype!(
    /// A person's surname or given names, 1–64 letters (any script), spaces,
    /// hyphens and apostrophes. Given names may be empty (mononyms), see
    /// [`Name::parse_optional`].
    Name
);
string_newtype!(
    /// ISO 3166-1 alpha-3 nationality code as printed in an MRZ (plus the ICAO
    /// codes of Doc 9303 Part 3, e.g. `D`, `GBD`, `UNO`, `XXA`, and `UTO`, the
    /// specimen state).
    Nationality
);
string_newtype!(
    /// Passport number: 1–9 characters `A–Z0–9` (the TD3 MRZ document-number field).
    PassportNumber
);
string_newtype!(
    /// IATA flight number: 2-character airline designator (or 3-letter ICAO), 1–4 digits,
    /// optional suffix letter; stored without spaces or leading zeros, e.g. `NH212`.
    FlightNumber
);
string_newtype!(
    /// IATA airport code, three letters.
    AirportCode
);
string_newtype!(
    /// Phone number: `+`, digits, spaces and hyphens, 5–20 digits.
    Phone
);
string_newtype!(
    /// Free text, 1–[`MAX_TEXT`] characters, no control characters.
    Text
);

impl Name {
    /// Parse a required name.
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let s = s.trim();
        if s.is_empty() {
            return Err("must not be empty");
        }
        Self::parse_optional(s)
    }

    /// Parse a name that may be empty (given names of a mononym).
    pub fn parse_optional(s: &str) -> Result<Self, &'static str> {
        let s = s.trim();
        if s.chars().count() > 64 {
            return Err("must be at most 64 characters");
        }
        if !s
            .chars()
            .all(|c| c.is_alphabetic() || c == ' ' || c == '-' || c == '\'')
        {
            return Err("may contain only letters, spaces, hyphens and apostrophes");
        }
        Ok(Self(s.split_whitespace().collect::<Vec<_>>().join(" ")))
    }
}

impl Nationality {
    /// Parse a nationality code (upper case, from the known list).
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let up = s.trim().to_ascii_uppercase();
        if up.is_empty() || up.len() > 3 || !up.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err("must be an ISO 3166-1 alpha-3 code such as JPN");
        }
        if !is_known_nationality(&up) {
            return Err("is not an ISO 3166-1 alpha-3 or ICAO nationality code");
        }
        Ok(Self(up))
    }
}

impl PassportNumber {
    /// Parse a passport number; spaces are not allowed, letters are upper-cased.
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let up = s.trim().to_ascii_uppercase();
        if up.is_empty() || up.len() > 9 {
            return Err("must be 1 to 9 characters");
        }
        if !up
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err("may contain only letters A-Z and digits");
        }
        Ok(Self(up))
    }
}

impl FlightNumber {
    /// Parse a flight number such as `NH 212`, `JL0043` or `UA837A`.
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        const MSG: &str = "must be an airline code and 1 to 4 digits, such as NH212";
        let up: String = s
            .chars()
            .filter(|c| *c != ' ')
            .collect::<String>()
            .to_ascii_uppercase();
        if !up.is_ascii() || up.len() < 3 || up.len() > 8 {
            return Err(MSG);
        }
        let b = up.as_bytes();
        // Airline: 3 ICAO letters, or 2 IATA characters not both digits.
        let airline_len = if b.len() >= 4 && b[..3].iter().all(u8::is_ascii_uppercase) {
            3
        } else {
            2
        };
        let airline = &up[..airline_len];
        if !airline
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            || airline.bytes().all(|c| c.is_ascii_digit())
        {
            return Err(MSG);
        }
        let rest = &up[airline_len..];
        let (digits, suffix) = match rest.as_bytes().last() {
            Some(c) if c.is_ascii_uppercase() => (&rest[..rest.len() - 1], &rest[rest.len() - 1..]),
            _ => (rest, ""),
        };
        if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
            return Err(MSG);
        }
        let number: u32 = digits.parse().map_err(|_| MSG)?;
        if number == 0 {
            return Err(MSG);
        }
        Ok(Self(format!("{airline}{number}{suffix}")))
    }
}

impl AirportCode {
    /// Parse a three-letter IATA airport code.
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let up = s.trim().to_ascii_uppercase();
        if up.len() == 3 && up.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(up))
        } else {
            Err("must be a three-letter IATA airport code such as LHR")
        }
    }
}

impl Phone {
    /// Parse a phone number.
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let s = s.trim();
        let digits = s.bytes().filter(u8::is_ascii_digit).count();
        let ok_chars = s
            .char_indices()
            .all(|(i, c)| c.is_ascii_digit() || c == ' ' || c == '-' || (c == '+' && i == 0));
        if !ok_chars || !(5..=20).contains(&digits) || s.len() > 32 {
            return Err("must be a phone number of 5 to 20 digits, such as +81 90 1234 5678");
        }
        Ok(Self(s.to_owned()))
    }
}

impl Text {
    /// Parse free text of at most `max` characters (and at most [`MAX_TEXT`]).
    pub fn parse(s: &str, max: usize) -> Result<Self, &'static str> {
        let s = s.trim();
        if s.is_empty() {
            return Err("must not be empty");
        }
        if s.chars().count() > max.min(MAX_TEXT) {
            return Err("is too long");
        }
        if s.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        Ok(Self(s.to_owned()))
    }
}

/// Sex as printed in the MRZ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    /// `F`
    #[serde(rename = "F")]
    Female,
    /// `M`
    #[serde(rename = "M")]
    Male,
    /// `X` (printed `<` in the MRZ)
    #[serde(rename = "X")]
    Unspecified,
}

impl Sex {
    /// Parse `F`, `M`, `X` or `<`.
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        match s.trim() {
            "F" | "f" => Ok(Self::Female),
            "M" | "m" => Ok(Self::Male),
            "X" | "x" | "<" => Ok(Self::Unspecified),
            _ => Err("must be F, M or X"),
        }
    }
    /// The one-letter code (`F`, `M`, `X`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Female => "F",
            Self::Male => "M",
            Self::Unspecified => "X",
        }
    }
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

/// Wire shape of [`Passenger`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassengerInput {
    /// Surname.
    pub surname: String,
    /// Given names (may be empty).
    #[serde(default)]
    pub given_names: String,
    /// ISO 3166-1 alpha-3.
    pub nationality: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// `F`, `M` or `X`.
    pub sex: String,
    /// Passport number.
    pub passport_number: String,
    /// `YYYY-MM-DD`.
    pub passport_expiry: String,
}

/// Wire shape of [`Trip`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TripInput {
    /// Flight number, e.g. `NH212`.
    pub flight: String,
    /// IATA airport of embarkation.
    pub origin: String,
    /// `YYYY-MM-DD`.
    pub arrival_date: String,
    /// Address in Japan.
    pub address_in_japan: String,
    /// Phone number.
    pub phone: String,
    /// Occupation.
    pub occupation: String,
}

/// Wire shape of [`Declaration`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclarationInput {
    /// Identity.
    pub passenger: PassengerInput,
    /// Journey.
    pub trip: TripInput,
    /// Party by age band; defaults to one adult.
    #[serde(default)]
    pub party: Party,
    /// Yes/no answers.
    pub answers: Answers,
    /// Items; may be empty.
    #[serde(default)]
    pub items: Vec<ItemInput>,
}

impl PassengerInput {
    /// Validate; errors carry pointers under `prefix`.
    pub fn validate(&self, prefix: &str, errs: &mut ValidationErrors) -> Option<Passenger> {
        let surname = errs.check(prefix, "surname", Name::parse(&self.surname));
        let given = errs.check(
            prefix,
            "given_names",
            Name::parse_optional(&self.given_names),
        );
        let nat = errs.check(prefix, "nationality", Nationality::parse(&self.nationality));
        let birth = errs.check(prefix, "birth_date", parse_past_date(&self.birth_date));
        let sex = errs.check(prefix, "sex", Sex::parse(&self.sex));
        let number = errs.check(
            prefix,
            "passport_number",
            PassportNumber::parse(&self.passport_number),
        );
        let expiry = errs.check(
            prefix,
            "passport_expiry",
            parse_date(&self.passport_expiry).ok_or("must be a date YYYY-MM-DD"),
        );
        Some(Passenger {
            surname: surname?,
            given_names: given?,
            nationality: nat?,
            birth_date: birth?,
            sex: sex?,
            passport_number: number?,
            passport_expiry: expiry?,
        })
    }
}

fn parse_past_date(s: &str) -> Result<Date, &'static str> {
    let d = parse_date(s).ok_or("must be a date YYYY-MM-DD")?;
    if d.year() < 1900 || d > time::OffsetDateTime::now_utc().date() {
        return Err("must be a date in the past");
    }
    Ok(d)
}

impl TripInput {
    /// Validate; errors carry pointers under `prefix`.
    pub fn validate(&self, prefix: &str, errs: &mut ValidationErrors) -> Option<Trip> {
        let flight = errs.check(prefix, "flight", FlightNumber::parse(&self.flight));
        let origin = errs.check(prefix, "origin", AirportCode::parse(&self.origin));
        let arrival = errs.check(
            prefix,
            "arrival_date",
            parse_date(&self.arrival_date).ok_or("must be a date YYYY-MM-DD"),
        );
        let addr = errs.check(
            prefix,
            "address_in_japan",
            Text::parse(&self.address_in_japan, 200),
        );
        let phone = errs.check(prefix, "phone", Phone::parse(&self.phone));
        let occ = errs.check(prefix, "occupation", Text::parse(&self.occupation, 64));
        Some(Trip {
            flight: flight?,
            origin: origin?,
            arrival_date: arrival?,
            address_in_japan: addr?,
            phone: phone?,
            occupation: occ?,
        })
    }
}

impl DeclarationInput {
    /// Validate the whole declaration, collecting every field error.
    pub fn validate(&self) -> Result<Declaration, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let passenger = self.passenger.validate("/passenger", &mut errs);
        let trip = self.trip.validate("/trip", &mut errs);
        let declared = validate_declared(&self.party, &self.answers, &self.items, "", &mut errs);
        match (passenger, trip, declared) {
            (Some(passenger), Some(trip), Some(declared)) if errs.is_empty() => Ok(Declaration {
                passenger,
                trip,
                declared,
            }),
            _ => Err(errs),
        }
    }
}

/// Validate party, answers and items (pointers `{prefix}/party`, `{prefix}/answers/…`,
/// `{prefix}/items/N/…`).
pub fn validate_declared(
    party: &Party,
    answers: &Answers,
    items: &[ItemInput],
    prefix: &str,
    errs: &mut ValidationErrors,
) -> Option<Declared> {
    let party = errs.check(
        prefix,
        "party",
        Party::new(party.aged_20_plus, party.aged_6_to_19, party.under_6),
    );
    if answers.unaccompanied_packages > 999 {
        errs.push(
            format!("{prefix}/answers/unaccompanied_packages"),
            "out_of_range",
            "must be at most 999",
        );
    }
    if items.len() > MAX_ITEMS {
        errs.push(
            format!("{prefix}/items"),
            "too_many",
            "at most 50 item lines",
        );
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, it) in items.iter().enumerate() {
        if let Some(item) = it.validate(&format!("{prefix}/items/{i}"), errs) {
            out.push(item);
        }
    }
    if !errs.is_empty() {
        return None;
    }
    Some(Declared {
        party: party?,
        answers: *answers,
        items: out,
    })
}

#[cfg(test)]
mod tests;

impl From<&Declaration> for DeclarationInput {
    fn from(d: &Declaration) -> Self {
        let p = &d.passenger;
        let t = &d.trip;
        Self {
            passenger: PassengerInput {
                surname: p.surname.to_string(),
                given_names: p.given_names.to_string(),
                nationality: p.nationality.to_string(),
                birth_date: format_date(p.birth_date),
                sex: p.sex.code().to_owned(),
                passport_number: p.passport_number.to_string(),
                passport_expiry: format_date(p.passport_expiry),
            },
            trip: TripInput {
                flight: t.flight.to_string(),
                origin: t.origin.to_string(),
                arrival_date: format_date(t.arrival_date),
                address_in_japan: t.address_in_japan.to_string(),
                phone: t.phone.to_string(),
                occupation: t.occupation.to_string(),
            },
            party: d.declared.party,
            answers: d.declared.answers,
            items: d.declared.items.iter().map(ItemInput::from).collect(),
        }
    }
}
