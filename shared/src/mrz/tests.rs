//! Unit tests: the Doc 9303 specimen, each check digit, input forms and malformed input.

use super::*;
use time::macros::date;

const L1: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
const L2: &str = "L898902C36UTO7408122F1204159ZE184226B<<<<<10";
const TODAY: Date = date!(2026 - 11 - 01);

fn specimen() -> String {
    format!("{L1}\n{L2}")
}

#[test]
fn the_icao_specimen_parses_with_every_field_right() {
    let td3 = parse_td3(&specimen(), TODAY).unwrap();
    assert_eq!(
        td3,
        Td3 {
            document_code: "P".into(),
            issuing_state: "UTO".into(),
            surname: "ERIKSSON".into(),
            given_names: "ANNA MARIA".into(),
            document_number: "L898902C3".into(),
            nationality: "UTO".into(),
            birth_date: date!(1974 - 08 - 12),
            sex: Sex::Female,
            expiry_date: date!(2012 - 04 - 15),
            optional_data: "ZE184226B".into(),
        }
    );
    assert!(td3.is_expired(TODAY));
    assert!(!td3.is_expired(date!(2012 - 04 - 15)));
    assert!(td3.is_expired(date!(2012 - 04 - 16)));
}

#[test]
fn check_digits_of_the_specimen() {
    assert_eq!(check_digit("L898902C3"), '6');
    assert_eq!(check_digit("740812"), '2');
    assert_eq!(check_digit("120415"), '9');
    assert_eq!(check_digit("ZE184226B<<<<<"), '1');
    assert_eq!(check_digit("<<<"), '0');
    assert_eq!(check_digit(""), '0');
}

#[test]
fn the_specimen_is_rebuilt_exactly() {
    let td3 = parse_td3(&specimen(), TODAY).unwrap();
    assert_eq!(build_td3(&td3), specimen());
}

#[test]
fn every_corrupted_check_digit_names_its_field() {
    let cases = [
        (9, MrzField::DocumentNumber, '6'),
        (19, MrzField::BirthDate, '2'),
        (27, MrzField::ExpiryDate, '9'),
        (42, MrzField::OptionalData, '1'),
        (43, MrzField::Composite, '0'),
    ];
    for (pos, field, expected) in cases {
        for wrong in ['0', '5', '9', 'A', '<'] {
            if wrong == expected {
                continue;
            }
            let mut l2 = L2.to_owned();
            l2.replace_range(pos..pos + 1, &wrong.to_string());
            let err = parse_td3(&format!("{L1}\n{l2}"), TODAY).unwrap_err();
            assert_eq!(
                err,
                MrzError::CheckDigit {
                    field,
                    expected,
                    found: wrong
                },
                "pos {pos} {wrong}"
            );
            assert_eq!(err.reason_code(), "mrz.check_digit");
            assert_eq!(err.field_name(), field.name());
        }
    }
}

#[test]
fn a_corrupted_data_character_is_caught_by_its_check_digit() {
    let mut l2 = L2.to_owned();
    l2.replace_range(1..2, "9"); // document number L898902C3 → L998902C3
    let err = parse_td3(&format!("{L1}\n{l2}"), TODAY).unwrap_err();
    assert!(matches!(
        err,
        MrzError::CheckDigit {
            field: MrzField::DocumentNumber,
            ..
        }
    ));
    assert_eq!(err.field_name(), "document_number");
}

#[test]
fn crlf_no_separator_and_trailing_whitespace_are_accepted() {
    let expected = parse_td3(&specimen(), TODAY).unwrap();
    for input in [
        format!("{L1}\r\n{L2}"),
        format!("{L1}{L2}"),
        format!("{L1}  \n{L2}\t\r\n"),
        format!("{L1}\n{L2}\n"),
    ] {
        assert_eq!(parse_td3(&input, TODAY).unwrap(), expected, "{input:?}");
    }
}

#[test]
fn wrong_lengths_and_line_counts_are_refused() {
    assert_eq!(parse_td3("", TODAY), Err(MrzError::LineCount(0)));
    assert_eq!(parse_td3(L1, TODAY), Err(MrzError::LineCount(1)));
    assert_eq!(
        parse_td3(&format!("{L1}\n{L2}\n{L2}"), TODAY),
        Err(MrzError::LineCount(3))
    );
    assert_eq!(
        parse_td3(&format!("{L1}\n\n{L2}"), TODAY),
        Err(MrzError::LineCount(3))
    );
    assert_eq!(
        parse_td3(&format!("{L1}<\n{L2}"), TODAY),
        Err(MrzError::Length { line: 1, found: 45 })
    );
    assert_eq!(
        parse_td3(&format!("{L1}\n{}", &L2[..40]), TODAY),
        Err(MrzError::Length { line: 2, found: 40 })
    );
    assert_eq!(
        parse_td3(&format!("{L1}{}", &L2[..43]), TODAY),
        Err(MrzError::Length { line: 2, found: 43 })
    );
    let err = parse_td3(&format!("{L1}<\n{L2}"), TODAY).unwrap_err();
    assert_eq!(
        (err.field_name(), err.reason_code()),
        ("mrz", "mrz.malformed")
    );
}

#[test]
fn characters_outside_the_mrz_set_are_refused_with_their_position() {
    let lower = format!("{}\n{L2}", L1.to_ascii_lowercase());
    assert_eq!(
        parse_td3(&lower, TODAY),
        Err(MrzError::Charset { line: 1, column: 1 })
    );
    let mut l2 = L2.to_owned();
    l2.replace_range(12..13, "o");
    assert_eq!(
        parse_td3(&format!("{L1}\n{l2}"), TODAY),
        Err(MrzError::Charset {
            line: 2,
            column: 13
        })
    );
    assert_eq!(
        parse_td3(&format!(" {L1}\n{L2}"), TODAY),
        Err(MrzError::Charset { line: 1, column: 1 })
    );
    let accented = L1.replacen("ERIKSSON", "ERIKSSÖN", 1);
    assert_eq!(
        parse_td3(&format!("{accented}\n{L2}"), TODAY),
        Err(MrzError::Charset {
            line: 1,
            column: 12
        })
    );
    let spaced = L1.replacen("ANNA<", "ANNA ", 1);
    assert_eq!(
        parse_td3(&format!("{spaced}\n{L2}"), TODAY),
        Err(MrzError::Charset {
            line: 1,
            column: 20
        })
    );
}

#[test]
fn a_visa_or_id_card_is_not_a_passport() {
    let visa = format!("V{}", &L1[1..]);
    assert_eq!(
        parse_td3(&format!("{visa}\n{L2}"), TODAY),
        Err(MrzError::NotPassport)
    );
    assert_eq!(MrzError::NotPassport.field_name(), "document_code");
}

#[test]
fn malformed_fields_are_named() {
    let with = |l1: &str, l2: &str| {
        parse_td3(&format!("{l1}\n{l2}"), TODAY)
            .unwrap_err()
            .field_name()
    };
    // Impossible birth date 741312 with its correct check digits.
    let mut td3 = parse_td3(&specimen(), TODAY).unwrap();
    let built = build_td3(&td3);
    let (b1, b2) = built.split_once('\n').unwrap();
    let bad_month = b2.replacen("740812", "741312", 1);
    let fixed = fix_checks(&bad_month);
    assert_eq!(with(b1, &fixed), "birth_date");
    let bad_sex = fix_checks(&b2.replacen("2F12", "2Q12", 1));
    assert_eq!(with(b1, &bad_sex), "sex");
    let digit_state = b1.replacen("UTO", "U1O", 1);
    assert_eq!(with(&digit_state, b2), "issuing_state");
    let no_surname = format!("P<UTO{}", "<".repeat(39));
    assert_eq!(with(&no_surname, b2), "surname");
    td3.document_number = String::new();
    let built = build_td3(&td3);
    let (_, e2) = built.split_once('\n').unwrap();
    assert_eq!(with(b1, e2), "document_number");
}

/// Recompute the five check digits of a line 2.
fn fix_checks(l2: &str) -> String {
    let mut b = l2.to_owned();
    let set = |b: &mut String, at: usize, c: char| b.replace_range(at..at + 1, &c.to_string());
    let d = check_digit(&b[0..9]);
    set(&mut b, 9, d);
    let d = check_digit(&b[13..19]);
    set(&mut b, 19, d);
    let d = check_digit(&b[21..27]);
    set(&mut b, 27, d);
    let d = check_digit(&b[28..42]);
    set(&mut b, 42, d);
    let composite = format!("{}{}{}", &b[0..10], &b[13..20], &b[21..43]);
    let d = check_digit(&composite);
    set(&mut b, 43, d);
    b
}

#[test]
fn empty_optional_data_takes_filler_or_zero_as_check_digit() {
    let mut td3 = parse_td3(&specimen(), TODAY).unwrap();
    td3.optional_data = String::new();
    let built = build_td3(&td3);
    let (l1, l2) = built.split_once('\n').unwrap();
    assert_eq!(&l2[28..43], "<<<<<<<<<<<<<<<");
    assert_eq!(parse_td3(&built, TODAY).unwrap(), td3);
    // Some states print 0 instead of <: same composite value, also accepted.
    let zero = format!("{}0{}", &l2[..42], &l2[43..]);
    assert_eq!(parse_td3(&format!("{l1}\n{zero}"), TODAY).unwrap(), td3);
    // Any other digit is a wrong check digit.
    let five = format!("{}5{}", &l2[..42], &l2[43..]);
    assert!(matches!(
        parse_td3(&format!("{l1}\n{five}"), TODAY),
        Err(MrzError::CheckDigit {
            field: MrzField::OptionalData,
            ..
        })
    ));
}

#[test]
fn two_digit_years_resolve_around_today() {
    let mut td3 = parse_td3(&specimen(), TODAY).unwrap();
    // Born 2025-01-01 (a baby), expiring 2035.
    td3.birth_date = date!(2025 - 01 - 01);
    td3.expiry_date = date!(2035 - 01 - 01);
    assert_eq!(parse_td3(&build_td3(&td3), TODAY).unwrap(), td3);
    // The same MRZ read in 2024 makes the birth year 1925.
    let early = parse_td3(&build_td3(&td3), date!(2024 - 06 - 01)).unwrap();
    assert_eq!(early.birth_date, date!(1925 - 01 - 01));
    // Expiry window (today − 50 y, today + 50 y].
    td3.expiry_date = date!(2076 - 12 - 31);
    assert_eq!(
        parse_td3(&build_td3(&td3), TODAY).unwrap().expiry_date,
        date!(2076 - 12 - 31)
    );
    td3.expiry_date = date!(1977 - 01 - 01);
    assert_eq!(
        parse_td3(&build_td3(&td3), TODAY).unwrap().expiry_date,
        date!(1977 - 01 - 01)
    );
    // Born on 29 February 2000.
    td3.birth_date = date!(2000 - 02 - 29);
    assert_eq!(
        parse_td3(&build_td3(&td3), TODAY).unwrap().birth_date,
        date!(2000 - 02 - 29)
    );
}

#[test]
fn names_with_several_parts_and_filler() {
    let mut td3 = parse_td3(&specimen(), TODAY).unwrap();
    td3.surname = "VAN DER BERG".into();
    td3.given_names = "JAN PIETER MARIA".into();
    let built = build_td3(&td3);
    assert!(built.starts_with("P<UTOVAN<DER<BERG<<JAN<PIETER<MARIA<<<<<<<<<"));
    assert_eq!(parse_td3(&built, TODAY).unwrap(), td3);
    // Mononym: no given names.
    td3.surname = "SUKARNO".into();
    td3.given_names = String::new();
    let built = build_td3(&td3);
    assert!(built.starts_with(&format!("P<UTOSUKARNO{}", "<".repeat(32))));
    assert_eq!(parse_td3(&built, TODAY).unwrap(), td3);
}

#[test]
fn build_folds_and_truncates_names() {
    let mut td3 = parse_td3(&specimen(), TODAY).unwrap();
    td3.surname = "Müller-Lüdenscheidt".into();
    td3.given_names = "Anne-Sophie Élodie O'Neil".into();
    let built = build_td3(&td3);
    let l1 = built.lines().next().unwrap();
    assert_eq!(l1, "P<UTOMUELLER<LUEDENSCHEIDT<<ANNE<SOPHIE<ELOD");
    let back = parse_td3(&built, TODAY).unwrap();
    assert_eq!(back.surname, "MUELLER LUEDENSCHEIDT");
    assert_eq!(back.given_names, "ANNE SOPHIE ELOD");
    td3.surname = "Straße".into();
    td3.given_names = "Jürgen".into();
    assert!(build_td3(&td3).starts_with("P<UTOSTRASSE<<JUERGEN<"));
}
