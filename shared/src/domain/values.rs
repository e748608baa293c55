//! The validated values a declaration is made of: names, nationality, passport number,
//! flight number, airport code, phone, free text and sex. Each has a validating
//! constructor, so a value that exists is valid.

use super::{MAX_TEXT, is_known_nationality};
use serde::{Deserialize, Serialize};
use std::fmt;

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
