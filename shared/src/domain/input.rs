//! Wire shapes (`*Input`): plain serde structs that refuse unknown fields, and their
//! validation into the domain types, each error naming its field by JSON pointer.

use super::*;
use serde::{Deserialize, Serialize};
use time::Date;

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
