//! Building a TD3 MRZ from its fields, with correct check digits.

use super::{LINE_LEN, Td3, check_digit};
use crate::domain::Sex;
use time::Date;

/// Build the two lines (joined by `\n`) of a TD3 MRZ for `p`, with correct check digits.
///
/// Names are upper-cased and folded to `A–Z` (common Latin letters with diacritics as in
/// Doc 9303 Part 3: `Ä` → `AE`, `ß` → `SS`, `É` → `E`…; apostrophes dropped; spaces,
/// hyphens and anything else become the filler `<`), then truncated to the 39-character
/// name field. Other fields are upper-cased, characters outside `A–Z 0–9` become `<`, and
/// each is cut or padded to its width. The optional-data check digit is `<` when the
/// optional data is empty.
pub fn build_td3(p: &Td3) -> String {
    let mut l1 = String::with_capacity(LINE_LEN);
    l1.push_str(&field(&p.document_code, 2));
    l1.push_str(&field(&p.issuing_state, 3));
    let surname = name_part(&p.surname);
    let given = name_part(&p.given_names);
    let names = if given.is_empty() {
        surname
    } else {
        format!("{surname}<<{given}")
    };
    l1.push_str(&pad(&names, LINE_LEN - 5));

    let number = field(&p.document_number, 9);
    let birth = yymmdd(p.birth_date);
    let expiry = yymmdd(p.expiry_date);
    let optional = field(&p.optional_data, 14);
    let optional_check = if optional.bytes().all(|b| b == b'<') {
        '<'
    } else {
        check_digit(&optional)
    };
    let sex = match p.sex {
        Sex::Female => 'F',
        Sex::Male => 'M',
        Sex::Unspecified => '<',
    };
    let mut l2 = String::with_capacity(LINE_LEN);
    l2.push_str(&number);
    l2.push(check_digit(&number));
    l2.push_str(&field(&p.nationality, 3));
    l2.push_str(&birth);
    l2.push(check_digit(&birth));
    l2.push(sex);
    l2.push_str(&expiry);
    l2.push(check_digit(&expiry));
    l2.push_str(&optional);
    l2.push(optional_check);
    let composite = format!("{}{}{}", &l2[0..10], &l2[13..20], &l2[21..43]);
    l2.push(check_digit(&composite));
    format!("{l1}\n{l2}")
}

/// Upper-case, `A–Z 0–9` kept, anything else `<`, cut or padded to `width`.
fn field(s: &str, width: usize) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| c.to_ascii_uppercase())
        .map(|c| {
            if c.is_ascii_uppercase() || c.is_ascii_digit() {
                c
            } else {
                '<'
            }
        })
        .collect();
    pad(&cleaned, width)
}

/// Cut to `width` characters or pad with `<`.
fn pad(s: &str, width: usize) -> String {
    let mut out: String = s.chars().take(width).collect();
    while out.len() < width {
        out.push('<');
    }
    out
}

/// A name (surname or given names) in MRZ form: folded to `A–Z`, parts joined by one `<`.
fn name_part(s: &str) -> String {
    let mut folded = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_uppercase) {
        match c {
            'A'..='Z' => folded.push(c),
            '\'' | '’' | '.' => {}
            _ => match fold(c) {
                Some(ascii) => folded.push_str(ascii),
                None => folded.push('<'),
            },
        }
    }
    folded
        .split('<')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("<")
}

/// Doc 9303 Part 3 transliteration of common Latin letters (upper case).
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'À' | 'Á' | 'Â' | 'Ã' | 'Ā' | 'Ă' | 'Ą' => "A",
        'Ä' | 'Æ' => "AE",
        'Å' => "AA",
        'Ç' | 'Ć' | 'Č' => "C",
        'Ď' | 'Đ' | 'Ð' => "D",
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ė' | 'Ę' | 'Ě' => "E",
        'Ğ' | 'Ģ' => "G",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ī' | 'Į' | 'İ' => "I",
        'Ķ' => "K",
        'Ĺ' | 'Ļ' | 'Ľ' | 'Ł' => "L",
        'Ñ' | 'Ń' | 'Ņ' | 'Ň' => "N",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ō' | 'Ő' => "O",
        'Ö' | 'Ø' | 'Œ' => "OE",
        'Ŕ' | 'Ř' => "R",
        'Ś' | 'Ş' | 'Š' | 'Ș' => "S",
        'ẞ' => "SS",
        'Ţ' | 'Ť' | 'Ț' => "T",
        'Þ' => "TH",
        'Ù' | 'Ú' | 'Û' | 'Ū' | 'Ů' | 'Ű' | 'Ų' => "U",
        'Ü' => "UE",
        'Ý' | 'Ÿ' => "Y",
        'Ź' | 'Ż' | 'Ž' => "Z",
        _ => return None,
    })
}

fn yymmdd(d: Date) -> String {
    format!(
        "{:02}{:02}{:02}",
        d.year().rem_euclid(100),
        u8::from(d.month()),
        d.day()
    )
}
