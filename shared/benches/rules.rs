//! Rules engine speed: the gate re-evaluates the declaration on every scan.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use shared::domain::{Answers, Category, Declared, Item, Money, Party, Text};
use shared::rules::{RulesProfile, evaluate};

fn declaration(unit_yen: u64) -> Declared {
    let other: Vec<Category> = Category::ALL
        .iter()
        .copied()
        .filter(|c| c.group() == shared::domain::CategoryGroup::OtherGoods)
        .collect();
    let items = (0..20)
        .map(|i| Item {
            category: other[i % other.len()],
            description: Text::parse(&format!("article {i}"), 100).ok(),
            quantity: 1 + (i % 3) as u32,
            volume_ml: None,
            weight_g: None,
            value: Money::yen(unit_yen * (1 + (i % 3) as u64) + 100 * i as u64),
            for_child: false,
        })
        .collect();
    Declared {
        party: Party::SOLO_ADULT,
        answers: Answers::default(),
        items,
    }
}

fn bench(c: &mut Criterion) {
    let profile = RulesProfile::jp_2026();
    // 20 lines (1 to 3 articles each), ¥155,500 in all: the fast path.
    let within = declaration(3_500);
    // 20 lines (39 articles) worth ¥1,579,000 against ¥200,000: the exact subset-sum runs.
    let over = declaration(40_000);
    assert!(evaluate(&profile, &within).reasons.is_empty());
    assert!(!evaluate(&profile, &over).reasons.is_empty());
    c.bench_function("evaluate 20 items within allowance", |b| {
        b.iter(|| evaluate(black_box(&profile), black_box(&within)))
    });
    c.bench_function("evaluate 20 items over allowance (exact DP)", |b| {
        b.iter(|| evaluate(black_box(&profile), black_box(&over)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
