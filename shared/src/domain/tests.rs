use super::*;

fn sample() -> DeclarationInput {
    serde_json::from_value(serde_json::json!({
        "passenger": {"surname": "Tanaka", "given_names": "Hanako", "nationality": "JPN",
            "birth_date": "1985-04-12", "sex": "F", "passport_number": "TK1234567",
            "passport_expiry": "2031-01-01"},
        "trip": {"flight": "NH 0212", "origin": "lhr", "arrival_date": "2026-11-27",
            "address_in_japan": "1-1 Marunouchi, Chiyoda-ku, Tokyo", "phone": "+81 90 1234 5678",
            "occupation": "Engineer"},
        "party": {"aged_20_plus": 2, "aged_6_to_19": 1, "under_6": 0},
        "answers": {"prohibited": false, "over_allowance": false, "commercial": false,
            "for_others": false, "means_of_payment_over_limit": false,
            "precious_metal_over_1kg": false, "unaccompanied_packages": 0},
        "items": [{"category": "whisky", "quantity": 2, "volume_ml": 700,
            "value": {"amount": 80.5, "currency": "USD"}}]
    }))
    .unwrap()
}

#[test]
fn a_valid_declaration_is_built_and_normalised() {
    let d = sample().validate().unwrap();
    assert_eq!(d.trip.flight.as_str(), "NH212");
    assert_eq!(d.trip.origin.as_str(), "LHR");
    assert_eq!(d.declared.party.total(), 3);
    assert_eq!(d.declared.items[0].value.hundredths, 8050);
    assert_eq!(d.declared.items[0].total_volume_ml(), 1400);
    // Round trip through the wire shape.
    let again = DeclarationInput::from(&d).validate().unwrap();
    assert_eq!(again, d);
}

#[test]
fn every_bad_field_is_named_by_pointer() {
    let mut input = sample();
    input.passenger.nationality = "XYZ".into();
    input.passenger.passport_number = "AB-12".into();
    input.trip.flight = "12".into();
    input.trip.arrival_date = "2026-13-01".into();
    input.items[0].volume_ml = None;
    input.items[0].value.amount = -1.0;
    input.party = Party {
        aged_20_plus: 0,
        aged_6_to_19: 0,
        under_6: 0,
    };
    let errs = input.validate().unwrap_err();
    let pointers: Vec<_> = errs.errors().iter().map(|e| e.pointer.as_str()).collect();
    for p in [
        "/passenger/nationality",
        "/passenger/passport_number",
        "/trip/flight",
        "/trip/arrival_date",
        "/party",
        "/items/0/volume_ml",
        "/items/0/value/amount",
    ] {
        assert!(pointers.contains(&p), "missing {p} in {pointers:?}");
    }
}

#[test]
fn unknown_json_fields_are_refused() {
    let mut v = serde_json::to_value(sample()).unwrap();
    v["passenger"]["is_admin"] = serde_json::json!(true);
    assert!(serde_json::from_value::<DeclarationInput>(v).is_err());
}

#[test]
fn flight_numbers_parse_like_iata_designators() {
    for (s, want) in [
        ("NH212", "NH212"),
        ("jl 0043", "JL43"),
        ("UA837A", "UA837A"),
        ("7C1101", "7C1101"),
        ("ANA212", "ANA212"),
    ] {
        assert_eq!(FlightNumber::parse(s).unwrap().as_str(), want, "{s}");
    }
    for s in ["", "NH", "12345", "NH12345", "NH0", "N@12"] {
        assert!(FlightNumber::parse(s).is_err(), "{s}");
    }
}

#[test]
fn names_nationalities_and_money_are_validated() {
    assert!(Name::parse("").is_err());
    assert!(Name::parse("O'Brien-Smith").is_ok());
    assert!(Name::parse("山田").is_ok());
    assert!(Name::parse("Robert'); DROP TABLE").is_err());
    assert!(Nationality::parse("UTO").is_ok());
    assert!(Nationality::parse("D").is_ok());
    assert!(Nationality::parse("ZZZ").is_err());
    assert!(Money::from_decimal(1.234, Currency::JPY).is_err());
    assert!(Money::from_decimal(f64::NAN, Currency::JPY).is_err());
    assert_eq!(
        Money::from_decimal(0.1 + 0.2, Currency::JPY)
            .unwrap()
            .hundredths,
        30
    );
    assert!(Currency::parse("usd").is_err());
}

#[test]
fn party_limits() {
    assert!(Party::new(0, 0, 0).is_err());
    assert!(Party::new(0, 1, 0).is_ok());
    assert!(Party::new(21, 0, 0).is_err());
    assert!(Party::new(u32::MAX, 1, 0).is_err());
}

proptest::proptest! {
    #[test]
    fn text_parsers_never_panic(s in ".{0,80}") {
        let _ = Name::parse(&s);
        let _ = Nationality::parse(&s);
        let _ = PassportNumber::parse(&s);
        let _ = FlightNumber::parse(&s);
        let _ = AirportCode::parse(&s);
        let _ = Phone::parse(&s);
        let _ = Text::parse(&s, 100);
        let _ = Currency::parse(&s);
        let _ = parse_date(&s);
    }
}
