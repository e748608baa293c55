//! The declaration summary carried in claim -65537: its CBOR form (`docs/token.cddl`)
//! and its strict decoding, which re-validates every value through the domain
//! constructors.

use crate::domain::{
    Answers, Category, Currency, Declared, FlightNumber, Item, ItemInput, Money, Party,
    ValidationErrors, validate_declared,
};
use ciborium::value::{Integer, Value};
use time::Date;

/// Longest declaration id in a token.
pub const MAX_DECLARATION_ID: usize = 40;
/// Longest rules-profile id in a token.
pub const MAX_PROFILE_ID: usize = 40;

/// What the QR says about a declaration (no names, no passport number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Issuer's declaration id: 1–40 printable ASCII characters, no spaces.
    pub declaration_id: String,
    /// Revision of the declaration this token was issued for.
    pub revision: u32,
    /// Rules profile the declaration was judged under: 1–40 printable ASCII, no spaces.
    pub profile_id: String,
    /// Date of arrival.
    pub arrival_date: Date,
    /// Flight number in canonical form (as [`FlightNumber`] prints it).
    pub flight: String,
    /// Passport binding ([`super::BindingKey::bind`]).
    pub binding: [u8; 16],
    /// Party, answers and items. Items carry no description in the token: a decoded
    /// item has `description: None`.
    pub declared: Declared,
}

// Summary map keys.
const K_ID: i64 = 1;
const K_REVISION: i64 = 2;
const K_PROFILE: i64 = 3;
const K_ARRIVAL: i64 = 4;
const K_FLIGHT: i64 = 5;
const K_BINDING: i64 = 6;
const K_ANSWERS: i64 = 7;
const K_UNACCOMPANIED: i64 = 8;
const K_PARTY: i64 = 9;
const K_ITEMS: i64 = 10;

// Answer bits.
const A_PROHIBITED: u64 = 1;
const A_OVER_ALLOWANCE: u64 = 1 << 1;
const A_COMMERCIAL: u64 = 1 << 2;
const A_FOR_OTHERS: u64 = 1 << 3;
const A_MEANS_OF_PAYMENT: u64 = 1 << 4;
const A_PRECIOUS_METAL: u64 = 1 << 5;
const A_ALL: u64 = (1 << 6) - 1;

/// Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

fn int(v: impl Into<Integer>) -> Value {
    Value::Integer(v.into())
}

/// The summary as a CBOR map.
pub(crate) fn to_value(s: &Summary) -> Value {
    let a = &s.declared.answers;
    let bits = [
        (a.prohibited, A_PROHIBITED),
        (a.over_allowance, A_OVER_ALLOWANCE),
        (a.commercial, A_COMMERCIAL),
        (a.for_others, A_FOR_OTHERS),
        (a.means_of_payment_over_limit, A_MEANS_OF_PAYMENT),
        (a.precious_metal_over_1kg, A_PRECIOUS_METAL),
    ]
    .iter()
    .filter(|(set, _)| *set)
    .fold(0u64, |acc, (_, bit)| acc | bit);
    let days = i64::from(s.arrival_date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY;
    let p = &s.declared.party;
    // Defaults are omitted (no "yes" answer, no unaccompanied package, one adult):
    // the green-lane case is the common one and every byte is 1.5 QR characters.
    let mut m = vec![
        (int(K_ID), Value::Text(s.declaration_id.clone())),
        (int(K_REVISION), int(s.revision)),
        (int(K_PROFILE), Value::Text(s.profile_id.clone())),
        (int(K_ARRIVAL), int(days)),
        (int(K_FLIGHT), Value::Text(s.flight.clone())),
        (int(K_BINDING), Value::Bytes(s.binding.to_vec())),
    ];
    if bits != 0 {
        m.push((int(K_ANSWERS), int(bits)));
    }
    if a.unaccompanied_packages > 0 {
        m.push((int(K_UNACCOMPANIED), int(a.unaccompanied_packages)));
    }
    if *p != Party::SOLO_ADULT {
        m.push((
            int(K_PARTY),
            Value::Array(vec![
                int(p.aged_20_plus),
                int(p.aged_6_to_19),
                int(p.under_6),
            ]),
        ));
    }
    if !s.declared.items.is_empty() {
        m.push((
            int(K_ITEMS),
            Value::Array(s.declared.items.iter().map(item_to_value).collect()),
        ));
    }
    Value::Map(m)
}

fn item_to_value(it: &Item) -> Value {
    let mut v = vec![
        int(it.category.number()),
        int(it.quantity),
        int(it.value.hundredths),
        Value::Text(it.value.currency.as_str().to_owned()),
    ];
    if let Some(measure) = it.volume_ml.or(it.weight_g) {
        v.push(int(measure));
    }
    if it.for_child {
        v.push(Value::Bool(true));
    }
    Value::Array(v)
}

/// Decode and validate a summary map. The error is the name of the offending field.
pub(crate) fn from_value(v: Value) -> Result<Summary, &'static str> {
    let Value::Map(entries) = v else {
        return Err("summary");
    };
    let mut fields: [Option<Value>; 10] = Default::default();
    for (k, val) in entries {
        let key = as_int(&k).ok_or("summary")?;
        let slot = usize::try_from(key - 1)
            .ok()
            .and_then(|i| fields.get_mut(i))
            .ok_or("summary")?; // unknown key
        if slot.replace(val).is_some() {
            return Err("summary"); // duplicate key
        }
    }
    let mut take = |k: i64| fields.get_mut((k - 1) as usize).and_then(Option::take);

    let declaration_id =
        ascii_id(take(K_ID), MAX_DECLARATION_ID).ok_or("summary.declaration_id")?;
    let revision = take(K_REVISION)
        .as_ref()
        .and_then(as_uint)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or("summary.revision")?;
    let profile_id = ascii_id(take(K_PROFILE), MAX_PROFILE_ID).ok_or("summary.profile_id")?;
    let arrival_date = take(K_ARRIVAL)
        .as_ref()
        .and_then(as_int)
        .and_then(|d| d.checked_add(UNIX_EPOCH_JULIAN_DAY))
        .and_then(|j| i32::try_from(j).ok())
        .and_then(|j| Date::from_julian_day(j).ok())
        .ok_or("summary.arrival_date")?;
    let flight = match take(K_FLIGHT) {
        Some(Value::Text(f)) if FlightNumber::parse(&f).is_ok_and(|p| p.as_str() == f) => f,
        _ => return Err("summary.flight"),
    };
    let binding: [u8; 16] = match take(K_BINDING) {
        Some(Value::Bytes(b)) => b.try_into().map_err(|_| "summary.binding")?,
        _ => return Err("summary.binding"),
    };
    let bits = match take(K_ANSWERS) {
        None => 0,
        Some(v) => as_uint(&v)
            .filter(|b| b & !A_ALL == 0)
            .ok_or("summary.answers")?,
    };
    let unaccompanied_packages = match take(K_UNACCOMPANIED) {
        None => 0,
        Some(v) => as_uint(&v)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or("summary.unaccompanied")?,
    };
    let party = match take(K_PARTY) {
        None => Party::SOLO_ADULT,
        Some(Value::Array(a)) if a.len() == 3 => {
            let n: Vec<u32> = a
                .iter()
                .map(|v| as_uint(v).and_then(|n| u32::try_from(n).ok()))
                .collect::<Option<_>>()
                .ok_or("summary.party")?;
            Party {
                aged_20_plus: n[0],
                aged_6_to_19: n[1],
                under_6: n[2],
            }
        }
        _ => return Err("summary.party"),
    };
    let item_inputs = match take(K_ITEMS) {
        None => Vec::new(),
        Some(Value::Array(a)) if !a.is_empty() && a.len() <= crate::domain::MAX_ITEMS => a
            .into_iter()
            .map(item_from_value)
            .collect::<Option<Vec<_>>>()
            .ok_or("summary.items")?,
        _ => return Err("summary.items"),
    };
    let answers = Answers {
        prohibited: bits & A_PROHIBITED != 0,
        over_allowance: bits & A_OVER_ALLOWANCE != 0,
        commercial: bits & A_COMMERCIAL != 0,
        for_others: bits & A_FOR_OTHERS != 0,
        means_of_payment_over_limit: bits & A_MEANS_OF_PAYMENT != 0,
        precious_metal_over_1kg: bits & A_PRECIOUS_METAL != 0,
        unaccompanied_packages,
    };
    // Re-validate through the domain rules (party size, ranges, category measures…).
    let inputs: Vec<ItemInput> = item_inputs.iter().map(|(input, _)| input.clone()).collect();
    let mut errs = ValidationErrors::default();
    let declared = validate_declared(&party, &answers, &inputs, "", &mut errs);
    let declared = match declared {
        Some(d) if errs.is_empty() => d,
        _ => return Err(field_of(&errs)),
    };
    // The decimal round trip of the amount must give back the exact hundredths.
    let exact = declared
        .items
        .iter()
        .zip(&item_inputs)
        .all(|(it, (_, hundredths))| it.value.hundredths == *hundredths);
    if !exact {
        return Err("summary.items");
    }
    Ok(Summary {
        declaration_id,
        revision,
        profile_id,
        arrival_date,
        flight,
        binding,
        declared,
    })
}

fn field_of(errs: &ValidationErrors) -> &'static str {
    match errs.errors().first().map(|e| e.pointer.as_str()) {
        Some(p) if p.starts_with("/party") => "summary.party",
        Some(p) if p.starts_with("/answers") => "summary.unaccompanied",
        _ => "summary.items",
    }
}

/// One item array back to an [`ItemInput`] (and its exact hundredths).
fn item_from_value(v: Value) -> Option<(ItemInput, u64)> {
    let Value::Array(a) = v else { return None };
    if !(4..=6).contains(&a.len()) {
        return None;
    }
    let category = as_uint(&a[0]).and_then(Category::from_number)?;
    let quantity = as_uint(&a[1]).and_then(|n| u32::try_from(n).ok())?;
    let hundredths = as_uint(&a[2])?;
    let currency = match &a[3] {
        Value::Text(c) => Currency::parse(c).ok().filter(|p| p.as_str() == c)?,
        _ => return None,
    };
    let measured = category.needs_volume() || category.needs_weight();
    let mut rest = a[4..].iter();
    let measure = if measured {
        Some(
            rest.next()
                .and_then(as_uint)
                .and_then(|n| u32::try_from(n).ok())?,
        )
    } else {
        None
    };
    let for_child = match rest.next() {
        None => false,
        Some(Value::Bool(true)) => true,
        Some(_) => return None,
    };
    if rest.next().is_some() {
        return None;
    }
    let (volume_ml, weight_g) = if category.needs_volume() {
        (measure, None)
    } else {
        (None, measure)
    };
    // Unchecked here; `validate_declared` checks it through the wire shape.
    let unchecked = Item {
        category,
        description: None,
        quantity,
        volume_ml,
        weight_g,
        value: Money {
            hundredths,
            currency,
        },
        for_child,
    };
    Some((ItemInput::from(&unchecked), hundredths))
}

fn ascii_id(v: Option<Value>, max: usize) -> Option<String> {
    match v {
        Some(Value::Text(s))
            if (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Some(s)
        }
        _ => None,
    }
}

/// A CBOR integer that fits an i64.
pub(crate) fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => i64::try_from(*i).ok(),
        _ => None,
    }
}

/// A CBOR unsigned integer.
pub(crate) fn as_uint(v: &Value) -> Option<u64> {
    match v {
        Value::Integer(i) => u64::try_from(*i).ok(),
        _ => None,
    }
}
