//! Fixtures shared by the fuzz targets: a fixed issuer key (so that a seed corpus of
//! valid tokens stays valid across runs), the trust list that trusts it, the valid
//! tokens and MRZs of the seed corpora, and the function that writes those corpora.

use shared::domain::{Answers, Category, Currency, Declared, Item, Money, Party};
use shared::token::{Claims, SigningKey, Summary, TrustList, VerifyOptions, encode};

/// Verification time of every fuzz run.
pub const NOW: i64 = 1_790_000_000;

/// The fixed issuer key: RFC 8410 PKCS#8 v1 prefix + a constant 32-byte seed.
pub fn key() -> SigningKey {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&[0x42; 32]);
    SigningKey::from_pkcs8(&der).expect("fixed fuzz key")
}

/// A trust list holding only [`key`], for issuer `mobile-api`.
pub fn trust() -> TrustList {
    let mut t = TrustList::new();
    t.add_key(Some("mobile-api"), key().public_key(), None);
    t
}

/// Options: [`NOW`], two minutes of skew.
pub fn opts() -> VerifyOptions {
    VerifyOptions {
        now: NOW,
        skew_secs: 120,
    }
}

/// The claims of the valid seed tokens.
pub fn claims() -> Vec<Claims> {
    let base = Summary {
        declaration_id: "FUZZ0000001".into(),
        revision: 1,
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
    party.declared.party = Party::new(2, 1, 1).expect("party");
    party.declared.items = vec![Item {
        category: Category::Whisky,
        description: None,
        quantity: 4,
        volume_ml: Some(750),
        weight_g: None,
        value: Money::from_decimal(120.5, Currency::parse("USD").expect("USD")).expect("money"),
        for_child: false,
    }];
    [base, party]
        .into_iter()
        .map(|summary| Claims {
            iss: "mobile-api".into(),
            iat: NOW - 60,
            exp: NOW + 86_400,
            cti: [3; 16],
            summary,
        })
        .collect()
}

/// The valid tokens (the seed corpus of `token_decode`).
pub fn valid_tokens() -> Vec<String> {
    let k = key();
    claims()
        .iter()
        .map(|c| encode(&k, c).expect("encode"))
        .collect()
}

/// Valid TD3 MRZs (the seed corpus of `mrz_parse`).
pub fn valid_mrzs() -> Vec<String> {
    let td3 = |surname: &str, given: &str, number: &str, optional: &str| shared::mrz::Td3 {
        document_code: "P".into(),
        issuing_state: "JPN".into(),
        surname: surname.into(),
        given_names: given.into(),
        document_number: number.into(),
        nationality: "JPN".into(),
        birth_date: time::macros::date!(1985 - 04 - 12),
        sex: shared::domain::Sex::Female,
        expiry_date: time::macros::date!(2031 - 04 - 12),
        optional_data: optional.into(),
    };
    [
        td3("TANAKA", "HANAKO", "TK1234567", ""),
        td3("ERIKSSON", "ANNA MARIA", "L898902C3", "ZE184226B"),
    ]
    .iter()
    .map(shared::mrz::build_td3)
    .collect()
}

/// Environment variable naming the directory the seed corpora are written to.
pub const SEED_DIR_VAR: &str = "EGATE_FUZZ_WRITE_SEEDS";

/// With `EGATE_FUZZ_WRITE_SEEDS=<dir>` set, writes `<dir>/token_decode/valid-N` (the valid
/// tokens) and `<dir>/mrz_parse/valid-N` (the valid MRZs). Both targets call it from their
/// libFuzzer initialisation, which runs before the corpus directories are read, so
/// `EGATE_FUZZ_WRITE_SEEDS=corpus cargo fuzz run <target> -s none -- corpus/<target>` runs
/// on a fresh seed corpus without a separate (uninstrumented) build.
pub fn write_seeds_if_asked() {
    let Some(dir) = std::env::var_os(SEED_DIR_VAR) else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    for (target, inputs) in [("token_decode", valid_tokens()), ("mrz_parse", valid_mrzs())] {
        let d = dir.join(target);
        std::fs::create_dir_all(&d).expect("create the seed corpus directory");
        for (i, input) in inputs.iter().enumerate() {
            std::fs::write(d.join(format!("valid-{i}")), input).expect("write a seed");
        }
    }
}
