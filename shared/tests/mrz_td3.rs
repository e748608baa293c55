//! TD3 MRZs of several countries built and parsed back; property tests that no input
//! panics the parser and that every buildable passport round-trips.

use proptest::prelude::*;
use shared::domain::Sex;
use shared::mrz::{MrzError, Td3, build_td3, check_digit, parse_td3};
use time::Date;
use time::macros::date;

const TODAY: Date = date!(2026 - 11 - 01);

#[allow(clippy::too_many_arguments)]
fn passport(
    state: &str,
    nationality: &str,
    surname: &str,
    given: &str,
    number: &str,
    birth: Date,
    sex: Sex,
    expiry: Date,
    optional: &str,
) -> Td3 {
    Td3 {
        document_code: "P".into(),
        issuing_state: state.into(),
        surname: surname.into(),
        given_names: given.into(),
        document_number: number.into(),
        nationality: nationality.into(),
        birth_date: birth,
        sex,
        expiry_date: expiry,
        optional_data: optional.into(),
    }
}

#[test]
fn passports_of_several_countries_round_trip() {
    let cases = [
        passport(
            "JPN",
            "JPN",
            "YAMADA",
            "HANAKO",
            "TK1234567",
            date!(1990 - 03 - 15),
            Sex::Female,
            date!(2030 - 03 - 14),
            "",
        ),
        passport(
            "USA",
            "USA",
            "SMITH JONES",
            "JOHN MICHAEL",
            "573184902",
            date!(1968 - 12 - 31),
            Sex::Male,
            date!(2029 - 07 - 01),
            "",
        ),
        passport(
            "D",
            "D",
            "MUSTERMANN",
            "ERIKA",
            "C01X00T47",
            date!(1983 - 08 - 12),
            Sex::Female,
            date!(2031 - 10 - 31),
            "",
        ),
        passport(
            "KOR",
            "KOR",
            "HONG",
            "GILDONG",
            "M12345678",
            date!(2001 - 01 - 01),
            Sex::Male,
            date!(2033 - 05 - 20),
            "1234567",
        ),
        passport(
            "CHN",
            "CHN",
            "ZHANG",
            "WEI",
            "E12345678",
            date!(1975 - 06 - 30),
            Sex::Unspecified,
            date!(2027 - 02 - 28),
            "",
        ),
        passport(
            "GBR",
            "GBR",
            "O'BRIEN",
            "SIOBHAN",
            "123456789",
            date!(2010 - 02 - 28),
            Sex::Female,
            date!(2026 - 10 - 31),
            "AB12<34",
        ),
    ];
    for td3 in cases {
        let mrz = build_td3(&td3);
        let lines: Vec<&str> = mrz.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| l.len() == 44), "{mrz}");
        let back = parse_td3(&mrz, TODAY).unwrap();
        let expected = Td3 {
            surname: td3.surname.replace('\'', ""),
            ..td3.clone()
        };
        assert_eq!(back, expected, "{mrz}");
    }
}

#[test]
fn germany_uses_d_with_filler() {
    let td3 = passport(
        "D",
        "D",
        "MUSTERMANN",
        "ERIKA",
        "C01X00T47",
        date!(1983 - 08 - 12),
        Sex::Female,
        date!(2031 - 10 - 31),
        "",
    );
    let mrz = build_td3(&td3);
    assert!(mrz.starts_with("P<D<<MUSTERMANN<<ERIKA<"), "{mrz}");
    assert_eq!(&mrz.lines().nth(1).unwrap()[10..13], "D<<");
}

#[test]
fn the_expired_passport_reports_expiry() {
    let gbr = passport(
        "GBR",
        "GBR",
        "OBRIEN",
        "SIOBHAN",
        "123456789",
        date!(2010 - 02 - 28),
        Sex::Female,
        date!(2026 - 10 - 31),
        "",
    );
    let back = parse_td3(&build_td3(&gbr), TODAY).unwrap();
    assert!(back.is_expired(TODAY));
    assert!(!back.is_expired(date!(2026 - 10 - 31)));
}

#[test]
fn the_specimen_from_doc_9303_parses() {
    let input = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
    let td3 = parse_td3(input, TODAY).unwrap();
    assert_eq!(
        (td3.surname.as_str(), td3.given_names.as_str()),
        ("ERIKSSON", "ANNA MARIA")
    );
    assert_eq!(td3.document_number, "L898902C3");
    assert_eq!(check_digit("L898902C3"), '6');
}

fn arb_date() -> impl Strategy<Value = Date> {
    (1930i32..2026, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| {
        Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_strings_never_panic(s in ".{0,200}") {
        let _ = parse_td3(&s, TODAY);
    }

    #[test]
    fn random_mrz_charset_strings_never_panic(s in "[A-Z0-9<]{88}", nl in any::<bool>()) {
        let input = if nl { format!("{}\n{}", &s[..44], &s[44..]) } else { s.clone() };
        if let Err(e) = parse_td3(&input, TODAY) {
            // Every error names a field and has a stable code.
            prop_assert!(!e.field_name().is_empty());
            prop_assert!(matches!(e.reason_code(), "mrz.check_digit" | "mrz.malformed"));
        }
    }

    #[test]
    fn random_passport_like_strings_never_panic(s in "P[A-Z<][A-Z<]{3}[A-Z<]{39}\n[A-Z0-9<]{9}[0-9][A-Z<]{3}[0-9<]{6}[0-9][MFX<][0-9<]{6}[0-9][A-Z0-9<]{14}[0-9<][0-9]") {
        let _ = parse_td3(&s, TODAY);
    }

    #[test]
    fn every_built_passport_round_trips(
        surname in "[A-Z]{1,12}( [A-Z]{1,10})?",
        given in "([A-Z]{1,10}( [A-Z]{1,8}){0,2})?",
        number in "[A-Z0-9]{1,9}",
        state in "[A-Z]{3}",
        birth in arb_date(),
        expiry_days in 0i64..3650,
        sex in prop_oneof![Just(Sex::Female), Just(Sex::Male), Just(Sex::Unspecified)],
        optional in "([A-Z0-9]{1,14})?",
    ) {
        // Birth at least a day before today; expiry within ten years of today (either side).
        prop_assume!(birth < TODAY);
        let expiry = TODAY - time::Duration::days(1825) + time::Duration::days(expiry_days);
        let td3 = Td3 {
            document_code: "P".into(),
            issuing_state: state.clone(),
            surname,
            given_names: given,
            document_number: number,
            nationality: state,
            birth_date: birth,
            sex,
            expiry_date: expiry,
            optional_data: optional,
        };
        let mrz = build_td3(&td3);
        let names_fit = td3.surname.len() + 2 + td3.given_names.len() <= 39;
        match parse_td3(&mrz, TODAY) {
            Ok(back) if names_fit => prop_assert_eq!(back, td3),
            Ok(_) => {}
            Err(e) => prop_assert!(false, "{mrz}: {e:?}"),
        }
    }
}

#[test]
fn errors_have_messages_a_person_can_act_on() {
    let err = parse_td3("P<UTO", TODAY).unwrap_err();
    assert_eq!(err, MrzError::LineCount(1));
    assert_eq!(err.to_string(), "a passport MRZ has 2 lines, found 1");
}
