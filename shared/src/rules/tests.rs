//! Real customs scenarios with hand-computed figures (JP-2026 unless stated).

use super::*;
use crate::domain::{Answers, Currency, Item, Money, Party, Text};

fn party(adults: u32, teens: u32, under6: u32) -> Party {
    Party {
        aged_20_plus: adults,
        aged_6_to_19: teens,
        under_6: under6,
    }
}

fn bottle(cat: Category, n: u32, ml: u32, yen: u64) -> Item {
    Item {
        category: cat,
        description: None,
        quantity: n,
        volume_ml: Some(ml),
        weight_g: None,
        value: Money::yen(yen),
        for_child: false,
    }
}

fn goods(cat: Category, desc: &str, n: u32, yen: u64) -> Item {
    Item {
        category: cat,
        description: (!desc.is_empty()).then(|| Text::parse(desc, 100).unwrap()),
        quantity: n,
        volume_ml: None,
        weight_g: None,
        value: Money::yen(yen),
        for_child: false,
    }
}

fn units(cat: Category, n: u32) -> Item {
    Item {
        category: cat,
        description: None,
        quantity: n,
        volume_ml: None,
        weight_g: None,
        value: Money::yen(1000),
        for_child: false,
    }
}

fn decl(p: Party, items: Vec<Item>) -> Declared {
    Declared {
        party: p,
        answers: Answers::default(),
        items,
    }
}

fn eval(d: &Declared) -> Evaluation {
    evaluate(RulesProfile::jp_2026_ref(), d)
}

fn codes(e: &Evaluation) -> Vec<&str> {
    e.reasons.iter().map(|r| r.code.as_str()).collect()
}

#[test]
fn the_embedded_profile_is_valid_and_carries_its_source() {
    let p = RulesProfile::jp_2026();
    assert_eq!(p.id, "JP-2026");
    assert_eq!(p.as_of, "2026-11-01");
    assert!(p.source.contains("7104") && p.source.contains("7105") && p.source.contains("7305"));
    assert_eq!(p.alcohol.allowance_ml_per_adult, 2280);
    assert_eq!(p.other_goods.allowance_yen_per_person, 200_000);
    assert_eq!(p.currencies()[0], "JPY");
    assert!(p.currencies().contains(&"USD".to_owned()));
}

#[test]
fn nothing_to_declare_is_green_with_no_reasons() {
    let e = eval(&Declared::default());
    assert_eq!(e.lane, Lane::Green);
    assert!(e.reasons.is_empty());
    assert_eq!(e.duty.total_yen, 0);
    assert_eq!(e.profile_id, "JP-2026");
}

#[test]
fn three_bottles_of_whisky_for_one_adult_are_free() {
    let e = eval(&decl(
        Party::SOLO_ADULT,
        vec![bottle(Category::Whisky, 3, 750, 15_000)],
    ));
    assert_eq!(e.lane, Lane::Green, "{:?}", e.reasons);
    assert_eq!(e.duty.lines[0].quantity_free, 2250);
    assert_eq!(e.duty.total_yen, 0);
}

#[test]
fn a_fourth_bottle_of_whisky_is_taxed_at_800_yen_per_litre() {
    // 4 × 750 = 3,000 ml; 3,000 − 2,280 = 720 ml; 0.72 L × ¥800 = ¥576; total → ¥500.
    let e = eval(&decl(
        Party::SOLO_ADULT,
        vec![bottle(Category::Whisky, 4, 750, 20_000)],
    ));
    assert_eq!(e.lane, Lane::Red);
    assert_eq!(
        codes(&e),
        [
            "allowance.alcohol_exceeded",
            "answer.over_allowance_inconsistent"
        ]
    );
    assert_eq!(e.reasons[0].args["declared_ml"], "3000");
    assert_eq!(e.reasons[0].args["allowed_ml"], "2280");
    let l = &e.duty.lines[0];
    assert_eq!((l.quantity_free, l.quantity_dutiable), (2280, 720));
    assert_eq!(
        l.treatment,
        Treatment::Dutiable {
            rate: "¥800/L".into(),
            base: "0.720 L".into(),
            duty_yen: 576
        }
    );
    assert_eq!(e.duty.total_yen, 500);
    assert!(e.reasons[0].message(Lang::Ja).contains("3000"));
}

#[test]
fn the_allowance_goes_to_the_dearest_spirit_first() {
    // 2 wine (1,500 ml at ¥200/L) + 2 whisky (1,400 ml at ¥800/L): whisky free first,
    // 880 ml of wine free, 620 ml of wine dutiable: 0.62 × 200 = ¥124.
    let e = eval(&decl(
        Party::SOLO_ADULT,
        vec![
            bottle(Category::Wine, 2, 750, 6000),
            bottle(Category::Whisky, 2, 700, 9000),
        ],
    ));
    assert_eq!(e.duty.lines[1].quantity_dutiable, 0);
    assert_eq!(e.duty.lines[0].quantity_dutiable, 620);
    assert_eq!(e.duty.lines[0].duty_yen(), 124);
}

#[test]
fn two_adults_share_their_alcohol_allowances() {
    // 5 × 750 = 3,750 ml ≤ 2 × 2,280 = 4,560 ml.
    let e = eval(&decl(
        party(2, 0, 0),
        vec![bottle(Category::Whisky, 5, 750, 25_000)],
    ));
    assert_eq!(e.lane, Lane::Green, "{:?}", e.reasons);
}

#[test]
fn a_nineteen_year_old_alone_has_no_alcohol_allowance() {
    let e = eval(&decl(
        party(0, 1, 0),
        vec![bottle(Category::Wine, 1, 750, 3000)],
    ));
    assert_eq!(e.lane, Lane::Red);
    assert_eq!(
        codes(&e),
        [
            "allowance.age_restricted",
            "answer.over_allowance_inconsistent"
        ]
    );
    // 0.75 L × ¥200 = ¥150.
    assert_eq!(e.duty.lines[0].duty_yen(), 150);
    assert_eq!(e.duty.total_yen, 100);
}

#[test]
fn cigarettes_and_cigars_count_as_fractions_of_one_allowance() {
    // 200/200 + 10/50 = 1.2 allowances. Cigars (no simplified rate) take 0.2 first,
    // 160 cigarettes are free, 40 × ¥15 = ¥600.
    let e = eval(&decl(
        Party::SOLO_ADULT,
        vec![
            units(Category::Cigarettes, 200),
            units(Category::Cigars, 10),
        ],
    ));
    assert_eq!(e.lane, Lane::Red);
    assert_eq!(e.reasons[0].code, "allowance.tobacco_exceeded");
    assert_eq!(e.reasons[0].args["declared_percent"], "120");
    assert_eq!(e.reasons[0].args["allowed_percent"], "100");
    assert_eq!(e.duty.lines[1].quantity_free, 10);
    assert_eq!(
        (
            e.duty.lines[0].quantity_free,
            e.duty.lines[0].quantity_dutiable
        ),
        (160, 40)
    );
    assert_eq!(e.duty.lines[0].duty_yen(), 600);
    assert_eq!(e.duty.total_yen, 600);
}

#[test]
fn mixed_tobacco_within_one_allowance_is_free() {
    // 100/200 + 100/200 heated sticks = 1.0.
    let e = eval(&decl(
        Party::SOLO_ADULT,
        vec![
            units(Category::Cigarettes, 100),
            units(Category::HeatedTobaccoSticks, 100),
        ],
    ));
    assert_eq!(e.lane, Lane::Green, "{:?}", e.reasons);
}

#[test]
fn cigars_over_the_allowance_go_to_the_officer() {
    let e = eval(&decl(Party::SOLO_ADULT, vec![units(Category::Cigars, 60)]));
    assert_eq!(
        e.duty.lines[0].treatment,
        Treatment::OfficerAssesses {
            why: "no_simplified_rate".into()
        }
    );
    assert!(e.duty.officer_assessment_needed);
}

#[test]
fn perfume_over_two_ounces_is_taxed_pro_rata() {
    // 2 × 50 ml for ¥20,000: 44 ml over 56 → ¥8,800 dutiable → customs ¥5,280 → 15 % = ¥792.
    let e = eval(&decl(
        Party::SOLO_ADULT,
        vec![bottle(Category::Perfume, 2, 50, 20_000)],
    ));
    assert_eq!(codes(&e)[0], "allowance.perfume_exceeded");
    let l = &e.duty.lines[0];
    assert_eq!(
        (l.quantity_free, l.quantity_dutiable, l.value_dutiable_yen),
        (56, 44, 8800)
    );
    assert_eq!(l.duty_yen(), 792);
    // Eau de toilette is other goods, not perfume.
    let e = eval(&decl(
        Party::SOLO_ADULT,
        vec![bottle(Category::EauDeToilette, 2, 100, 12_000)],
    ));
    assert_eq!(e.lane, Lane::Green);
}

#[test]
fn a_kind_totalling_ten_thousand_yen_or_less_is_free_and_not_counted() {
    // Three ties at ¥3,000 (¥9,000) are free and not counted; a ¥200,000 bag then fits.
    let e = eval(&decl(
        Party::SOLO_ADULT,
        vec![
            goods(Category::Clothing, "Silk tie", 3, 9000),
            goods(Category::BagsAccessories, "Handbag", 1, 200_000),
        ],
    ));
    assert_eq!(e.lane, Lane::Green, "{:?}", e.reasons);
    assert_eq!(
        e.duty.lines[0].treatment,
        Treatment::Free {
            why: "per_kind_under_threshold".into()
        }
    );
    assert_eq!(e.duty.allowance_used_yen, 200_000);
    // Same description written differently is still one kind: ¥6,000 + ¥6,000 > ¥10,000.
    let e = eval(&decl(
        Party::SOLO_ADULT,
        vec![
            goods(Category::Clothing, "Silk tie", 2, 6000),
            goods(Category::Clothing, " silk TIE ", 2, 6000),
            goods(Category::BagsAccessories, "Handbag", 1, 195_000),
        ],
    ));
    assert_eq!(e.lane, Lane::Red);
}

#[test]
fn a_single_article_over_200000_yen_is_taxed_on_its_full_value() {
    // A ¥250,000 watch: customs value ¥150,000 > ¥100,000 → the officer assesses it.
    let e = eval(&decl(
        Party::SOLO_ADULT,
        vec![goods(Category::WatchesJewellery, "Watch", 1, 250_000)],
    ));
    assert_eq!(e.lane, Lane::Red);
    assert_eq!(
        codes(&e),
        [
            "allowance.single_article_over_limit",
            "answer.over_allowance_inconsistent"
        ]
    );
    let l = &e.duty.lines[0];
    assert_eq!((l.quantity_free, l.value_dutiable_yen), (0, 250_000));
    assert_eq!(
        l.treatment,
        Treatment::OfficerAssesses {
            why: "customs_value_over_ceiling".into()
        }
    );
    assert_eq!(e.duty.allowance_used_yen, 0);
    assert!(e.duty.officer_assessment_needed);
    assert!(
        e.reasons[0].message(Lang::En).contains("¥250,000"),
        "{}",
        e.reasons[0].message(Lang::En)
    );
}

#[test]
fn the_free_articles_are_chosen_exactly_not_largest_first() {
    // ¥120,000 + ¥100,000 + ¥100,000. Largest first frees ¥120,000 (duty on ¥200,000:
    // ¥18,000); the optimum frees the two ¥100,000 articles: duty on ¥120,000 =
    // ¥72,000 customs value × 15 % = ¥10,800.
    let e = eval(&decl(
        Party::SOLO_ADULT,
        vec![
            goods(Category::Electronics, "Camera", 1, 120_000),
            goods(Category::BagsAccessories, "Bag", 1, 100_000),
            goods(Category::Clothing, "Coat", 1, 100_000),
        ],
    ));
    assert_eq!(e.lane, Lane::Red);
    assert_eq!(e.reasons[0].code, "allowance.other_goods_exceeded");
    assert_eq!(e.reasons[0].args["counted_yen"], "320000");
    assert_eq!(e.duty.lines[0].quantity_dutiable, 1);
    assert_eq!(e.duty.lines[1].quantity_dutiable, 0);
    assert_eq!(e.duty.lines[2].quantity_dutiable, 0);
    assert_eq!(
        e.duty.lines[0].treatment,
        Treatment::Dutiable {
            rate: "15% of customs value".into(),
            base: "¥72,000 customs value".into(),
            duty_yen: 10_800
        }
    );
    assert_eq!(e.duty.total_yen, 10_800);
    assert_eq!(e.duty.allowance_used_yen, 200_000);
}

#[test]
fn a_line_of_several_articles_is_split_article_by_article() {
    // 5 shirts at ¥50,000 (¥250,000): 4 free, 1 dutiable: ¥30,000 customs × 15 % = ¥4,500.
    let e = eval(&decl(
        Party::SOLO_ADULT,
        vec![goods(Category::Clothing, "Shirt", 5, 250_000)],
    ));
    let l = &e.duty.lines[0];
    assert_eq!(
        (l.quantity_free, l.quantity_dutiable, l.value_dutiable_yen),
        (4, 1, 50_000)
    );
    assert_eq!(l.duty_yen(), 4500);
}

#[test]
fn an_under_six_allowance_covers_only_the_childs_own_articles() {
    // One adult and a toddler. A ¥180,000 pram for the child and a ¥190,000 camera:
    // the pram uses the child's allowance, the camera the adult's → all free.
    let mut pram = goods(Category::ToysGames, "Pram", 1, 180_000);
    pram.for_child = true;
    let camera = goods(Category::Electronics, "Camera", 1, 190_000);
    let e = eval(&decl(party(1, 0, 1), vec![pram.clone(), camera.clone()]));
    assert_eq!(e.lane, Lane::Green, "{:?}", e.reasons);
    assert_eq!(e.duty.allowance_total_yen, 400_000);
    // Two adult articles cannot use the child's allowance.
    let e = eval(&decl(
        party(1, 0, 1),
        vec![
            camera.clone(),
            goods(Category::Clothing, "Coat", 1, 190_000),
        ],
    ));
    assert_eq!(e.lane, Lane::Red);
    // The child's articles may also use the adult's allowance: 3 child items of ¥150,000,
    // child pool takes one, the adult pool one, the third is dutiable.
    let mut kid = goods(Category::ToysGames, "Toy car", 3, 450_000);
    kid.for_child = true;
    let e = eval(&decl(party(1, 0, 1), vec![kid]));
    assert_eq!(e.duty.lines[0].quantity_free, 2);
    assert_eq!(e.duty.allowance_used_yen, 300_000);
}

#[test]
fn the_child_pool_enumeration_finds_the_exact_split() {
    // Child articles ¥120,000, ¥90,000, ¥90,001; an adult article ¥110,000; one adult
    // and one toddler (two pools of ¥200,000). Maximal child-pool placements:
    //  {120,000} → general best of {90,000, 90,001, 110,000} ≤ 200,000 is 200,000 → 320,000;
    //  {90,000, 90,001} → general best of {120,000, 110,000} is 120,000 → 300,001.
    // Filling the child pool as full as possible (180,001) would be wrong.
    let mk = |v: u64, child: bool| {
        let mut i = goods(Category::OtherGoods, &format!("thing {v} {child}"), 1, v);
        i.for_child = child;
        i
    };
    let d = decl(
        party(1, 0, 1),
        vec![
            mk(120_000, true),
            mk(90_000, true),
            mk(90_001, true),
            mk(110_000, false),
        ],
    );
    let e = eval(&d);
    assert_eq!(e.duty.allowance_used_yen, 120_000 + 90_000 + 110_000);
}

#[test]
fn us_dollars_convert_at_the_profile_rate_rounded_down() {
    let p = RulesProfile::jp_2026();
    let usd = Currency::parse("USD").unwrap();
    // $80.50 × 152.40 = ¥12,268.2 → ¥12,268.
    assert_eq!(
        p.to_yen(&Money {
            hundredths: 8050,
            currency: usd
        }),
        Some(12_268)
    );
    assert_eq!(p.to_yen(&Money::yen(5000)), Some(5000));
    assert_eq!(
        p.to_yen(&Money {
            hundredths: 100,
            currency: Currency::parse("XAU").unwrap()
        }),
        None
    );
    // $1,400 of electronics = ¥213,360: over the allowance.
    let mut item = goods(Category::Electronics, "Laptop", 1, 0);
    item.value = Money {
        hundredths: 140_000,
        currency: usd,
    };
    let e = evaluate(&p, &decl(Party::SOLO_ADULT, vec![item]));
    assert_eq!(e.duty.lines[0].value_yen, 213_360);
    assert_eq!(e.reasons[0].code, "allowance.single_article_over_limit");
}

#[test]
fn an_unknown_currency_goes_to_the_officer() {
    let mut item = goods(Category::Clothing, "Coat", 1, 0);
    item.value = Money {
        hundredths: 10_000,
        currency: Currency::parse("XYZ").unwrap(),
    };
    let d = decl(Party::SOLO_ADULT, vec![item]);
    let e = eval(&d);
    assert_eq!(e.lane, Lane::Red);
    assert_eq!(e.reasons[0].code, "rules.unknown_currency");
    assert_eq!(e.reasons[0].args["currency"], "XYZ");
    assert_eq!(
        e.duty.lines[0].treatment,
        Treatment::OfficerAssesses {
            why: "unknown_currency".into()
        }
    );
    let errs = RulesProfile::jp_2026()
        .check_declared(&d, "/declared")
        .unwrap_err();
    assert_eq!(errs.errors()[0].pointer, "/declared/items/0/value/currency");
    assert_eq!(errs.errors()[0].code, "unknown_currency");
}

#[test]
fn every_yes_answer_routes_red_with_its_code() {
    type SetAnswer = fn(&mut Answers);
    let cases: [(SetAnswer, &str); 7] = [
        (|a| a.prohibited = true, "answer.prohibited"),
        (|a| a.over_allowance = true, "answer.over_allowance"),
        (|a| a.commercial = true, "answer.commercial"),
        (|a| a.for_others = true, "answer.for_others"),
        (
            |a| a.means_of_payment_over_limit = true,
            "answer.means_of_payment",
        ),
        (
            |a| a.precious_metal_over_1kg = true,
            "answer.precious_metal",
        ),
        (|a| a.unaccompanied_packages = 2, "answer.unaccompanied"),
    ];
    for (set, code) in cases {
        let mut d = Declared::default();
        set(&mut d.answers);
        let e = eval(&d);
        assert_eq!(e.lane, Lane::Red, "{code}");
        assert_eq!(codes(&e), [code]);
        for lang in Lang::ALL {
            assert_ne!(
                e.reasons[0].message(lang),
                code,
                "{code} has no {lang} message"
            );
        }
    }
}

#[test]
fn answering_yes_to_over_allowance_is_consistent() {
    let mut d = decl(
        Party::SOLO_ADULT,
        vec![bottle(Category::Whisky, 4, 750, 20_000)],
    );
    d.answers.over_allowance = true;
    assert_eq!(
        codes(&eval(&d)),
        ["answer.over_allowance", "allowance.alcohol_exceeded"]
    );
}

#[test]
fn every_rules_reason_has_a_message_in_every_language() {
    for code in [
        "allowance.alcohol_exceeded",
        "allowance.tobacco_exceeded",
        "allowance.perfume_exceeded",
        "allowance.other_goods_exceeded",
        "allowance.single_article_over_limit",
        "allowance.age_restricted",
        "answer.over_allowance_inconsistent",
        "rules.unknown_currency",
        "rules.incomplete_item",
    ] {
        for lang in Lang::ALL {
            assert!(
                crate::i18n::has_key(lang, &Reason::new(code).message_key()),
                "{code} {lang}"
            );
        }
    }
    assert_eq!(
        Reason::new("no.such_code").message(Lang::Ja),
        "no.such_code"
    );
}

const ALT_PROFILE_CHANGES: [(&str, &str); 2] = [
    ("id = \"JP-2026\"", "id = \"TEST-1\""),
    (
        "allowance_ml_per_adult = 2280",
        "allowance_ml_per_adult = 3040",
    ),
];

#[test]
fn a_profile_from_another_file_changes_the_result() {
    let mut src = include_str!("../../profiles/jp-2026.toml").to_owned();
    for (from, to) in ALT_PROFILE_CHANGES {
        assert!(src.contains(from));
        src = src.replace(from, to);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.toml");
    std::fs::write(&path, src).unwrap();
    let p = RulesProfile::load(&path).unwrap();
    let d = decl(
        Party::SOLO_ADULT,
        vec![bottle(Category::Whisky, 4, 750, 20_000)],
    );
    assert_eq!(eval(&d).lane, Lane::Red);
    let e = evaluate(&p, &d);
    assert_eq!(e.lane, Lane::Green);
    assert_eq!(e.profile_id, "TEST-1");
}

#[test]
fn the_profile_says_in_which_time_zone_arrival_dates_are_counted() {
    let p = RulesProfile::jp_2026();
    assert_eq!(p.utc_offset(), time::UtcOffset::from_hms(9, 0, 0).unwrap());
    let base = include_str!("../../profiles/jp-2026.toml");
    let west = RulesProfile::from_toml_str(&base.replacen("+09:00", "-03:30", 1)).unwrap();
    assert_eq!(
        west.utc_offset(),
        time::UtcOffset::from_hms(-3, -30, 0).unwrap()
    );
}

#[test]
fn invalid_profiles_are_refused() {
    let base = include_str!("../../profiles/jp-2026.toml");
    assert!(matches!(
        RulesProfile::from_toml_str("id = "),
        Err(RulesError::Toml(_))
    ));
    for (from, to) in [
        ("whisky = 800\n", ""),
        ("customs_value_factor = 0.6", "customs_value_factor = 0.0"),
        ("rate_percent = 15.0", "rate_percent = -1.0"),
        ("as_of = \"2026-11-01\"", "as_of = \"1 Nov 2026\""),
        ("USD = 152.40", "usd = 152.40"),
        ("USD = 152.40", "USD = 0.0"),
        ("cigars = 50", "cigars = 0"),
        (
            "total_rounded_down_to_yen = 100",
            "total_rounded_down_to_yen = 0",
        ),
        (
            "allowance_ml_per_adult = 2280",
            "allowance_ml_per_adult = -1",
        ),
        ("[perfume]", "surprise = 1\n[perfume]"),
        ("utc_offset = \"+09:00\"", "utc_offset = \"JST\""),
        ("utc_offset = \"+09:00\"", "utc_offset = \"09:00\""),
        ("utc_offset = \"+09:00\"\n", ""),
    ] {
        assert!(base.contains(from), "{from}");
        let r = RulesProfile::from_toml_str(&base.replacen(from, to, 1));
        assert!(r.is_err(), "accepted with {from:?} → {to:?}");
    }
    assert!(matches!(
        RulesProfile::load(std::path::Path::new("/nonexistent/profile.toml")),
        Err(RulesError::Io { .. })
    ));
}

#[test]
fn the_evaluation_serialises_for_the_api() {
    let e = eval(&decl(
        Party::SOLO_ADULT,
        vec![bottle(Category::Whisky, 4, 750, 20_000)],
    ));
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["lane"], "red");
    assert_eq!(v["duty"]["lines"][0]["treatment"]["kind"], "dutiable");
    assert_eq!(v["duty"]["lines"][0]["category"], "whisky");
    assert_eq!(v["reasons"][0]["args"]["allowed_ml"], "2280");
    serde_json::to_string(&RulesProfile::jp_2026()).unwrap();
}

#[test]
fn twenty_items_within_allowance_take_the_fast_path() {
    let items: Vec<Item> = (0..20)
        .map(|i| {
            goods(
                Category::ALL[17 + i % 8],
                &format!("item {}", i % 8),
                1,
                9_500,
            )
        })
        .collect();
    let d = decl(Party::SOLO_ADULT, items.clone());
    let e = eval(&d);
    assert_eq!(e.lane, Lane::Green);
    assert!(e.reasons.is_empty(), "{:?}", codes(&e));
    // The fast path: all ¥190,000 fit the ¥200,000 allowance, so every article of every
    // line is free within the allowance and the whole counted value is used.
    assert_eq!(e.duty.lines.len(), 20);
    for l in &e.duty.lines {
        assert_eq!(
            l.treatment,
            Treatment::Free {
                why: "within_allowance".into()
            },
            "{l:?}"
        );
        assert_eq!(
            (l.quantity_free, l.quantity_dutiable, l.value_dutiable_yen),
            (l.quantity_total, 0, 0),
            "{l:?}"
        );
    }
    assert_eq!(e.duty.total_yen, 0);
    assert!(!e.duty.officer_assessment_needed);
    assert_eq!(e.duty.allowance_used_yen, 190_000);
    assert_eq!(e.duty.allowance_total_yen, 200_000);

    // One article of ¥10,500 more (¥200,500 in all) no longer fits: the allowance is
    // allotted article by article and one article is dutiable.
    let mut over = items;
    over.push(goods(Category::ALL[17], "item 0", 1, 10_500));
    let mut d = decl(Party::SOLO_ADULT, over);
    d.answers.over_allowance = true;
    let e = eval(&d);
    assert_eq!(e.lane, Lane::Red);
    assert_eq!(
        codes(&e),
        ["answer.over_allowance", "allowance.other_goods_exceeded"]
    );
    let dutiable: u64 = e.duty.lines.iter().map(|l| l.quantity_dutiable).sum();
    assert_eq!(dutiable, 1);
    // The most that fits: the ¥10,500 article and nineteen of ¥9,500.
    assert_eq!(e.duty.allowance_used_yen, 191_000);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn item() -> impl Strategy<Value = Item> {
        (
            0usize..Category::ALL.len(),
            0u32..300,
            proptest::option::of(0u32..3000),
            proptest::option::of(0u32..500),
            0u64..60_000_000,
            0usize..4,
            any::<bool>(),
            0usize..3,
        )
            .prop_map(
                |(c, quantity, volume_ml, weight_g, hundredths, cur, for_child, desc)| Item {
                    category: Category::ALL[c],
                    description: ["", "a", "b"][desc]
                        .parse::<String>()
                        .ok()
                        .and_then(|s| Text::parse(&s, 100).ok()),
                    quantity,
                    volume_ml,
                    weight_g,
                    value: Money {
                        hundredths,
                        currency: Currency::parse(["JPY", "USD", "KRW", "ZZZ"][cur]).unwrap(),
                    },
                    for_child,
                },
            )
    }

    proptest! {
        #[test]
        fn evaluation_never_panics_and_lines_add_up(
            items in proptest::collection::vec(item(), 0..12),
            a in 0u32..4, b in 0u32..3, c in 0u32..3,
            yes in any::<bool>(),
        ) {
            let mut d = decl(party(a, b, c), items);
            d.answers.commercial = yes;
            let e = eval(&d);
            prop_assert_eq!(e.duty.lines.len(), d.items.len());
            for (n, l) in e.duty.lines.iter().enumerate() {
                prop_assert_eq!(l.item, n);
                prop_assert_eq!(l.quantity_free + l.quantity_dutiable, l.quantity_total);
                prop_assert!(l.value_dutiable_yen <= l.value_yen || l.value_yen == 0);
                let is_free = matches!(l.treatment, Treatment::Free { .. });
                prop_assert_eq!(is_free, l.quantity_dutiable == 0 && !matches!(l.treatment, Treatment::OfficerAssesses { .. }));
            }
            prop_assert!(e.duty.allowance_used_yen <= e.duty.allowance_total_yen);
            prop_assert_eq!(e.lane == Lane::Red, !e.reasons.is_empty());
            for r in &e.reasons {
                prop_assert_ne!(r.message(Lang::Ko), r.code.clone());
            }
        }
    }
}

mod extremes {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn absurd_parties_and_amounts_never_panic(
            raw in proptest::collection::vec(
                (0usize..Category::ALL.len(), any::<u32>(), any::<Option<u32>>(), any::<Option<u32>>(),
                 prop_oneof![any::<u64>(), 0u64..100_000_000], 0usize..3, any::<bool>()),
                0..8),
            a in prop_oneof![Just(u32::MAX), 0u32..25], b in any::<u32>(), c in prop_oneof![Just(0u32), any::<u32>(), 0u32..3],
        ) {
            let items = raw.into_iter().map(|(cat, quantity, volume_ml, weight_g, hundredths, cur, for_child)| Item {
                category: Category::ALL[cat],
                description: None,
                quantity: quantity % 1000,
                volume_ml,
                weight_g,
                value: Money { hundredths, currency: Currency::parse(["JPY", "USD", "KRW"][cur]).unwrap() },
                for_child,
            }).collect();
            let e = eval(&decl(party(a, b, c), items));
            for l in &e.duty.lines {
                prop_assert_eq!(l.quantity_free + l.quantity_dutiable, l.quantity_total);
            }
        }
    }
}
