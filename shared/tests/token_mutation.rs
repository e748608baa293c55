//! Forged and mutated tokens (RELIABILITY.md item 1): every single-bit flip and every
//! single-byte replacement of the COSE bytes of valid tokens, re-encoded (plain and
//! zlib'd) into `CD1:` text, plus every single-character replacement of the text.
//! Well over 100,000 variants per run; none may be accepted.

use shared::domain::{Answers, Category, Currency, Declared, Item, Money, Party};
use shared::token::{
    Claims, SigningKey, Summary, TrustList, VerifyOptions, decode_and_verify, encode,
};

const NOW: i64 = 1_790_000_000;

fn tokens(key: &SigningKey) -> Vec<String> {
    let base = Summary {
        declaration_id: "MUT00000001".into(),
        revision: 2,
        profile_id: "JP-2026".into(),
        arrival_date: time::macros::date!(2026 - 09 - 22),
        flight: "JL43".into(),
        binding: [0x11; 16],
        declared: Declared {
            party: Party::SOLO_ADULT,
            answers: Answers::default(),
            items: vec![],
        },
    };
    let mut party = base.clone();
    party.declared.party = Party::new(2, 1, 1).unwrap();
    party.declared.items = vec![Item {
        category: Category::Whisky,
        description: None,
        quantity: 4,
        volume_ml: Some(750),
        weight_g: None,
        value: Money::from_decimal(120.5, Currency::parse("USD").unwrap()).unwrap(),
        for_child: false,
    }];
    [base, party]
        .into_iter()
        .map(|summary| {
            encode(
                key,
                &Claims {
                    iss: "mobile-api".into(),
                    iat: NOW - 60,
                    exp: NOW + 86_400,
                    cti: [3; 16],
                    summary,
                },
            )
            .unwrap()
        })
        .collect()
}

fn reencode(cose: &[u8], zlib: bool) -> String {
    let body = if zlib {
        miniz_oxide::deflate::compress_to_vec_zlib(cose, 6)
    } else {
        cose.to_vec()
    };
    format!("CD1:{}", base45::encode(body))
}

#[test]
fn no_single_bit_byte_or_character_mutation_of_a_valid_token_is_accepted() {
    let key = SigningKey::generate().unwrap();
    let mut trust = TrustList::new();
    trust.add_key(Some("mobile-api"), key.public_key(), None);
    let opts = VerifyOptions {
        now: NOW,
        skew_secs: 120,
    };
    let mut variants = 0u64;
    let mut accepted = 0u64;
    let mut check = |text: &str, original: &str| {
        if text == original {
            return;
        }
        variants += 1;
        if decode_and_verify(text, &trust, opts).is_ok() {
            accepted += 1;
            eprintln!("ACCEPTED mutation: {text}");
        }
    };
    for token in tokens(&key) {
        assert!(decode_and_verify(&token, &trust, opts).is_ok());
        let cose = base45::decode(&token[4..]).unwrap();
        // Re-encoding the untouched bytes (the other compression choice) is not a forgery;
        // a re-encoded copy is the same token and verifies — the gate's one-time use
        // is keyed by cti, not by text, so it is refused there as replayed.
        for i in 0..cose.len() {
            for bit in 0..8 {
                let mut m = cose.clone();
                m[i] ^= 1 << bit;
                check(&reencode(&m, false), &token);
                check(&reencode(&m, true), &token);
            }
            for v in 0..=255u8 {
                if v == cose[i] {
                    continue;
                }
                let mut m = cose.clone();
                m[i] = v;
                check(&reencode(&m, false), &token);
            }
        }
        // Text-level: replace each character with every other Base45 character.
        const B45: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
        let bytes = token.as_bytes();
        for i in 4..bytes.len() {
            for &c in B45 {
                if c == bytes[i] {
                    continue;
                }
                let mut m = bytes.to_vec();
                m[i] = c;
                check(std::str::from_utf8(&m).unwrap(), &token);
            }
        }
    }
    println!("token mutation: {variants} variants, {accepted} accepted");
    assert!(variants >= 100_000, "only {variants} variants");
    assert_eq!(accepted, 0);
}
