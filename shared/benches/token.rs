//! Token codec speed: the gate decodes and verifies a token on every scan. The baseline
//! is ring's raw Ed25519 verification of one 64-byte signature, measured in the same
//! run; decode + verify should stay within about 2× of it.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use ring::signature::{ED25519, UnparsedPublicKey};
use shared::domain::{Answers, Category, Currency, Declared, Item, Money, Party};
use shared::token::{
    BindingKey, Claims, SigningKey, Summary, TrustList, VerifyOptions, decode_and_verify, encode,
};
use time::macros::date;

const NOW: i64 = 1_790_000_000;

fn item(category: Category, quantity: u32, measure: Option<u32>, hundredths: u64) -> Item {
    Item {
        category,
        description: None,
        quantity,
        volume_ml: measure.filter(|_| category.needs_volume()),
        weight_g: measure.filter(|_| category.needs_weight()),
        value: Money {
            hundredths,
            currency: Currency::parse("USD").unwrap_or(Currency::JPY),
        },
        for_child: false,
    }
}

/// A party of 4 declaring 5 items.
fn claims() -> Claims {
    Claims {
        iss: "mobile-api".into(),
        iat: NOW,
        exp: NOW + 72 * 3600,
        cti: [0x5a; 16],
        summary: Summary {
            declaration_id: "d_7Yp3kQ2vX9mN4rT8wB6cJ1".into(),
            revision: 1,
            profile_id: "JP-2026".into(),
            arrival_date: date!(2026 - 11 - 26),
            flight: "NH212".into(),
            binding: BindingKey::from_bytes([7; 32]).bind(
                "JPN",
                "TK1234567",
                date!(1985 - 04 - 12),
            ),
            declared: Declared {
                party: Party::new(2, 1, 1).unwrap_or_default(),
                answers: Answers::default(),
                items: vec![
                    item(Category::Whisky, 4, Some(700), 18_000),
                    item(Category::Cigarettes, 400, None, 12_000),
                    item(Category::Perfume, 1, Some(50), 9_550),
                    item(Category::WatchesJewellery, 1, None, 320_000),
                    item(Category::ToysGames, 2, None, 4_500),
                ],
            },
        },
    }
}

fn bench(c: &mut Criterion) {
    let key = SigningKey::generate().expect("key");
    let claims = claims();
    let mut trust = TrustList::new();
    trust.add_key(Some("mobile-api"), key.public_key(), None);
    let opts = VerifyOptions {
        now: NOW,
        skew_secs: 300,
    };
    let text = encode(&key, &claims).expect("encode");
    assert!(decode_and_verify(&text, &trust, opts).is_ok());

    // Baseline message: the same size as the token's Sig_structure.
    let msg = vec![0x42u8; text.len() * 2 / 3];
    let sig = key.sign_raw(&msg);
    let pk = key.public_key();

    let mut g = c.benchmark_group("token");
    g.bench_function("sign_encode", |b| {
        b.iter(|| encode(&key, black_box(&claims)))
    });
    g.bench_function("decode_verify", |b| {
        b.iter(|| decode_and_verify(black_box(&text), &trust, opts))
    });
    g.bench_function("ring_ed25519_verify_baseline", |b| {
        b.iter(|| UnparsedPublicKey::new(&ED25519, &pk).verify(black_box(&msg), black_box(&sig)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
