//! The machine-readable zone of a TD3 passport (ICAO Doc 9303 Part 4): parsing with
//! check-digit verification, and building (for tests and the kiosk's typed input).
//!
//! Input: two lines of 44 characters `A–Z 0–9 <`, separated by `\n` or `\r\n`, or the 88
//! characters without a separator. Trailing whitespace (per line, and at the end) is
//! ignored; any other character outside the MRZ set is a [`MrzError::Charset`] error
//! naming its line and column. **Lower case is refused**, not upper-cased: MRZ readers
//! send upper case, and lower case from a reader means a garbled read. Callers taking
//! text typed by a person (the kiosk) upper-case it themselves before parsing.
//!
//! Two-digit years are resolved against `today`:
//! - birth date: the latest date not after `today` (`740812` → 1974-08-12; `250101` →
//!   2025-01-01 when today is in 2026, but 1925-01-01 before 2025);
//! - expiry date: the year in the hundred-year window `(today − 50 y, today + 50 y]`
//!   (`120415` → 2012-04-15; `770101` → 1977 while today is before 2027).

use crate::domain::Sex;
use time::{Date, Month};

mod build;
pub use build::build_td3;

/// Length of each of the two TD3 lines.
pub const LINE_LEN: usize = 44;

/// A parsed TD3 (passport) MRZ. Text fields have their filler `<` removed; names use
/// single spaces between their parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Td3 {
    /// Document code: `P`, or `P` and a state-defined letter (`PA`, `PD`, `PS`…).
    pub document_code: String,
    /// Issuing state or organisation (ICAO code, e.g. `JPN`, `D`, `UTO`).
    pub issuing_state: String,
    /// Primary identifier (surname), parts separated by single spaces.
    pub surname: String,
    /// Secondary identifier (given names), parts separated by single spaces; may be empty.
    pub given_names: String,
    /// Document (passport) number, without filler.
    pub document_number: String,
    /// Nationality (ICAO code, e.g. `JPN`, `D`).
    pub nationality: String,
    /// Date of birth.
    pub birth_date: Date,
    /// Sex (`<` and `X` are [`Sex::Unspecified`]).
    pub sex: Sex,
    /// Date of expiry.
    pub expiry_date: Date,
    /// Personal number or other optional data, without trailing filler.
    pub optional_data: String,
}

impl Td3 {
    /// Whether the passport has expired on `today` (it is valid through its expiry date).
    pub fn is_expired(&self, today: Date) -> bool {
        self.expiry_date < today
    }
}

/// A field protected by a check digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MrzField {
    /// Document number (line 2, columns 1–9, check digit in column 10).
    DocumentNumber,
    /// Date of birth (columns 14–19, check in 20).
    BirthDate,
    /// Date of expiry (columns 22–27, check in 28).
    ExpiryDate,
    /// Personal number / optional data (columns 29–42, check in 43).
    OptionalData,
    /// Composite check digit over the document number, dates and optional data (column 44).
    Composite,
}

impl MrzField {
    /// The field's name as used by [`MrzError::field_name`].
    pub fn name(self) -> &'static str {
        match self {
            Self::DocumentNumber => "document_number",
            Self::BirthDate => "birth_date",
            Self::ExpiryDate => "expiry_date",
            Self::OptionalData => "optional_data",
            Self::Composite => "mrz",
        }
    }
}

/// Why an MRZ was refused. Lines and columns are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MrzError {
    /// A line does not have 44 characters.
    #[error("MRZ line {line} has {found} characters; a passport MRZ line has 44")]
    Length {
        /// The line (1 or 2).
        line: u8,
        /// Its length in characters.
        found: usize,
    },
    /// The input does not have two lines.
    #[error("a passport MRZ has 2 lines, found {0}")]
    LineCount(usize),
    /// A character outside `A–Z 0–9 <` (lower case included).
    #[error("MRZ line {line}, column {column}: only A-Z, 0-9 and < are allowed")]
    Charset {
        /// The line (1 or 2).
        line: u8,
        /// The column (1-based, in characters).
        column: usize,
    },
    /// The document code does not start with `P`: not a passport (TD3).
    #[error("not a passport MRZ (the document code must start with P)")]
    NotPassport,
    /// A field is present but its content is not valid.
    #[error("MRZ field {field}: {problem}")]
    Field {
        /// The field (`surname`, `birth_date`, `sex`…).
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A check digit does not match its field.
    #[error("MRZ check digit of {} is {found}, expected {expected}", field.name())]
    CheckDigit {
        /// The protected field.
        field: MrzField,
        /// The check digit computed from the field.
        expected: char,
        /// The check digit found in the MRZ.
        found: char,
    },
}

impl MrzError {
    /// The field a user interface should point at (`document_number`, `birth_date`…), or
    /// `mrz` for errors about the whole zone.
    pub fn field_name(&self) -> &'static str {
        match self {
            Self::Length { .. } | Self::LineCount(_) | Self::Charset { .. } => "mrz",
            Self::NotPassport => "document_code",
            Self::Field { field, .. } => field,
            Self::CheckDigit { field, .. } => field.name(),
        }
    }

    /// Stable reason code: `mrz.check_digit` for a check-digit mismatch (a typo or a
    /// misread), `mrz.malformed` otherwise.
    pub fn reason_code(&self) -> &'static str {
        match self {
            Self::CheckDigit { .. } => "mrz.check_digit",
            _ => "mrz.malformed",
        }
    }
}

/// The ICAO 9303 check digit of `field`: weights 7, 3, 1 repeating; `0–9` are their
/// value, `A–Z` are 10–35, `<` (and any other character) is 0; the sum modulo 10.
pub fn check_digit(field: &str) -> char {
    let sum: u32 = field
        .bytes()
        .zip([7u32, 3, 1].iter().cycle())
        .map(|(b, w)| char_value(b) * w)
        .sum();
    char::from(b'0' + (sum % 10) as u8)
}

fn char_value(b: u8) -> u32 {
    match b {
        b'0'..=b'9' => u32::from(b - b'0'),
        b'A'..=b'Z' => u32::from(b - b'A') + 10,
        _ => 0,
    }
}

/// Parse a TD3 MRZ, verifying all five check digits; `today` resolves two-digit years
/// (see the module documentation).
pub fn parse_td3(input: &str, today: Date) -> Result<Td3, MrzError> {
    let (l1, l2) = split_lines(input)?;
    for (n, line) in [(1u8, l1), (2u8, l2)] {
        if let Some(i) = line
            .chars()
            .position(|c| !matches!(c, 'A'..='Z' | '0'..='9' | '<'))
        {
            return Err(MrzError::Charset {
                line: n,
                column: i + 1,
            });
        }
        if line.len() != LINE_LEN {
            return Err(MrzError::Length {
                line: n,
                found: line.len(),
            });
        }
    }
    // Both lines are now 44 ASCII bytes: byte slicing below cannot fail.
    if !l1.starts_with('P') {
        return Err(MrzError::NotPassport);
    }
    let optional_raw = &l2[28..42];
    verify(MrzField::DocumentNumber, &l2[0..9], l2.as_bytes()[9])?;
    verify(MrzField::BirthDate, &l2[13..19], l2.as_bytes()[19])?;
    verify(MrzField::ExpiryDate, &l2[21..27], l2.as_bytes()[27])?;
    let optional_check = l2.as_bytes()[42];
    let optional_empty = optional_raw.bytes().all(|b| b == b'<');
    if !(optional_empty && matches!(optional_check, b'<' | b'0')) {
        verify(MrzField::OptionalData, optional_raw, optional_check)?;
    }
    let composite = format!("{}{}{}", &l2[0..10], &l2[13..20], &l2[21..43]);
    verify(MrzField::Composite, &composite, l2.as_bytes()[43])?;

    let document_code = l1[0..2].trim_end_matches('<');
    if document_code.contains('<') || document_code.bytes().any(|b| b.is_ascii_digit()) {
        return Err(MrzError::Field {
            field: "document_code",
            problem: "must be P followed by a letter or <",
        });
    }
    let (surname, given_names) = names(&l1[5..44])?;
    let document_number = l2[0..9].trim_end_matches('<');
    if document_number.is_empty() {
        return Err(MrzError::Field {
            field: "document_number",
            problem: "is missing",
        });
    }
    if document_number.contains('<') {
        return Err(MrzError::Field {
            field: "document_number",
            problem: "has a filler inside the number",
        });
    }
    Ok(Td3 {
        document_code: document_code.to_owned(),
        issuing_state: state_code(&l1[2..5], "issuing_state")?,
        surname,
        given_names,
        document_number: document_number.to_owned(),
        nationality: state_code(&l2[10..13], "nationality")?,
        birth_date: birth_date(&l2[13..19], today)?,
        sex: match l2.as_bytes()[20] {
            b'F' => Sex::Female,
            b'M' => Sex::Male,
            b'<' | b'X' => Sex::Unspecified,
            _ => {
                return Err(MrzError::Field {
                    field: "sex",
                    problem: "must be F, M, X or <",
                });
            }
        },
        expiry_date: expiry_date(&l2[21..27], today)?,
        optional_data: optional_raw.trim_end_matches('<').to_owned(),
    })
}

/// Split the input into its two lines (see the module documentation).
fn split_lines(input: &str) -> Result<(&str, &str), MrzError> {
    let input = input.trim_end();
    if input.is_empty() {
        return Err(MrzError::LineCount(0));
    }
    if input.contains('\n') {
        let lines: Vec<&str> = input.split('\n').map(str::trim_end).collect();
        return match lines.as_slice() {
            [a, b] => Ok((a, b)),
            _ => Err(MrzError::LineCount(lines.len())),
        };
    }
    // No separator: the first 44 characters are line 1, the rest line 2.
    match input.char_indices().nth(LINE_LEN) {
        Some((at, _)) => Ok(input.split_at(at)),
        None => Err(MrzError::LineCount(1)),
    }
}

fn verify(field: MrzField, data: &str, found: u8) -> Result<(), MrzError> {
    let expected = check_digit(data);
    if found == expected as u8 {
        Ok(())
    } else {
        Err(MrzError::CheckDigit {
            field,
            expected,
            found: char::from(found),
        })
    }
}

/// A 3-character state code with its filler removed (`D<<` → `D`): letters only.
fn state_code(raw: &str, field: &'static str) -> Result<String, MrzError> {
    let code = raw.trim_end_matches('<');
    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(MrzError::Field {
            field,
            problem: "must be a 1–3 letter ICAO code",
        });
    }
    Ok(code.to_owned())
}

/// The name field: `SURNAME<PARTS<<GIVEN<NAMES<<<…` → ("SURNAME PARTS", "GIVEN NAMES").
fn names(raw: &str) -> Result<(String, String), MrzError> {
    let raw = raw.trim_end_matches('<');
    let (primary, secondary) = raw.split_once("<<").unwrap_or((raw, ""));
    let join = |s: &str| {
        s.split('<')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (surname, given) = (join(primary), join(secondary));
    if surname.is_empty() {
        return Err(MrzError::Field {
            field: "surname",
            problem: "is missing",
        });
    }
    if surname.bytes().any(|b| b.is_ascii_digit()) {
        return Err(MrzError::Field {
            field: "surname",
            problem: "must contain letters only",
        });
    }
    if given.bytes().any(|b| b.is_ascii_digit()) {
        return Err(MrzError::Field {
            field: "given_names",
            problem: "must contain letters only",
        });
    }
    Ok((surname, given))
}

/// `YYMMDD` digits → (yy, month, day); `None` when not all digits (e.g. `<<` for an
/// unknown day) or out of range.
fn yymmdd(raw: &str) -> Option<(i32, Month, u8)> {
    let b = raw.as_bytes();
    if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let two = |i: usize| (b[i] - b'0') * 10 + (b[i + 1] - b'0');
    let month = Month::try_from(two(2)).ok()?;
    Some((i32::from(two(0)), month, two(4)))
}

fn birth_date(raw: &str, today: Date) -> Result<Date, MrzError> {
    let bad = MrzError::Field {
        field: "birth_date",
        problem: "is not a valid date",
    };
    let (yy, month, day) = yymmdd(raw).ok_or(bad.clone())?;
    let century = today.year().div_euclid(100) * 100;
    // The latest year ending in `yy` whose date is not after today.
    for year in [century + yy, century - 100 + yy] {
        if let Ok(d) = Date::from_calendar_date(year, month, day)
            && d <= today
        {
            return Ok(d);
        }
    }
    Err(bad)
}

fn expiry_date(raw: &str, today: Date) -> Result<Date, MrzError> {
    let bad = MrzError::Field {
        field: "expiry_date",
        problem: "is not a valid date",
    };
    let (yy, month, day) = yymmdd(raw).ok_or(bad.clone())?;
    // The year ending in `yy` in (today.year − 50, today.year + 50].
    let low = today.year() - 50;
    let year = low + 1 + (yy - (low + 1)).rem_euclid(100);
    Date::from_calendar_date(year, month, day).map_err(|_| bad)
}

#[cfg(test)]
mod tests;
