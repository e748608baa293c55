//! Unit tests of the token codec, keys and trust list.

use super::codec::{encode_with, text_of};
use super::*;
use crate::domain::{Answers, Category, Currency, Declared, Item, Money, Party, Text};
use ciborium::value::Value;
use coset::{
    CborSerializable as _, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable as _, iana,
};
use std::os::unix::fs::PermissionsExt as _;
use time::macros::date;

pub(super) const NOW: i64 = 1_790_000_000;

pub(super) fn opts() -> VerifyOptions {
    VerifyOptions {
        now: NOW,
        skew_secs: 300,
    }
}

fn item(
    category: Category,
    quantity: u32,
    measure: Option<u32>,
    hundredths: u64,
    cur: &str,
) -> Item {
    Item {
        category,
        description: Some(Text::parse("a thing", 100).unwrap()),
        quantity,
        volume_ml: measure.filter(|_| category.needs_volume()),
        weight_g: measure.filter(|_| category.needs_weight()),
        value: Money {
            hundredths,
            currency: Currency::parse(cur).unwrap(),
        },
        for_child: false,
    }
}

/// (a) green lane, no items, one adult.
pub(super) fn green_claims() -> Claims {
    let binding = BindingKey::from_bytes([7; 32]).bind("JPN", "TK1234567", date!(1985 - 04 - 12));
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
            binding,
            declared: Declared::default(),
        },
    }
}

/// (b) a party of 4 declaring 5 items.
pub(super) fn family_claims() -> Claims {
    let mut c = green_claims();
    c.iss = "kiosk:T2-07".into();
    let mut toy = item(Category::ToysGames, 2, None, 450_000, "JPY");
    toy.for_child = true;
    c.summary.declared = Declared {
        party: Party::new(2, 1, 1).unwrap(),
        answers: Answers {
            over_allowance: true,
            ..Answers::default()
        },
        items: vec![
            item(Category::Whisky, 4, Some(700), 18_000, "USD"),
            item(Category::Cigarettes, 400, None, 12_000, "USD"),
            item(Category::Perfume, 1, Some(50), 9_550, "EUR"),
            item(Category::WatchesJewellery, 1, None, 320_000, "USD"),
            toy,
        ],
    };
    c
}

fn trust_for(key: &SigningKey) -> TrustList {
    let mut t = TrustList::new();
    t.add_key(Some("mobile-api"), key.public_key(), None);
    t
}

fn open_trust(key: &SigningKey) -> TrustList {
    let mut t = TrustList::new();
    t.add_key(None, key.public_key(), None);
    t
}

fn no_desc(mut c: Claims) -> Claims {
    for it in &mut c.summary.declared.items {
        it.description = None;
    }
    c
}

/// The COSE bytes inside a token text.
pub(super) fn cose_bytes(text: &str) -> Vec<u8> {
    let raw = base45::decode(text.strip_prefix(PREFIX).unwrap()).unwrap();
    if raw[0] == 0x78 {
        miniz_oxide::inflate::decompress_to_vec_zlib(&raw).unwrap()
    } else {
        raw
    }
}

pub(super) fn text_from_cose(cose: &[u8]) -> String {
    text_of(cose, Some(false))
}

/// Sign an arbitrary payload with arbitrary headers.
fn sign_custom(
    key: &SigningKey,
    protected: coset::Header,
    unprotected: coset::Header,
    payload: Vec<u8>,
) -> String {
    let cose = CoseSign1Builder::new()
        .protected(protected)
        .unprotected(unprotected)
        .payload(payload)
        .create_signature(b"", |tbs| key.sign_raw(tbs))
        .build();
    text_from_cose(&cose.to_tagged_vec().unwrap())
}

fn good_payload() -> Vec<u8> {
    let key = SigningKey::generate().unwrap();
    let text = encode(&key, &green_claims()).unwrap();
    coset::CoseSign1::from_tagged_slice(&cose_bytes(&text))
        .unwrap()
        .payload
        .unwrap()
}

fn protected(key: &SigningKey, alg: Option<iana::Algorithm>) -> coset::Header {
    let b = HeaderBuilder::new().key_id(key.kid().0.to_vec());
    match alg {
        Some(a) => b.algorithm(a).build(),
        None => b.build(),
    }
}

#[test]
fn a_signed_token_round_trips_through_the_verifier() {
    let key = SigningKey::generate().unwrap();
    for claims in [green_claims(), family_claims()] {
        let text = encode(&key, &claims).unwrap();
        assert!(text.starts_with("CD1:"));
        let mut trust = trust_for(&key);
        trust.add_key(Some(&claims.iss), key.public_key(), None);
        let v = decode_and_verify(&text, &trust, opts()).unwrap();
        assert_eq!(v.kid, key.kid());
        assert_eq!(v.alg, -8);
        assert_eq!(v.claims, no_desc(claims));
    }
}

#[test]
fn compressed_and_uncompressed_tokens_both_decode() {
    let key = SigningKey::generate().unwrap();
    let mut trust = TrustList::new();
    trust.add_key(None, key.public_key(), None);
    for compress in [true, false] {
        let text = encode_with(&key, &family_claims(), -8, Some(compress)).unwrap();
        let v = decode_and_verify(&text, &trust, opts()).unwrap();
        assert_eq!(v.compressed, compress);
        assert_eq!(v.claims, no_desc(family_claims()));
    }
}

#[test]
fn a_token_signed_by_an_unknown_key_is_refused() {
    let key = SigningKey::generate().unwrap();
    let other = SigningKey::generate().unwrap();
    let text = encode(&other, &green_claims()).unwrap();
    assert_eq!(
        decode_and_verify(&text, &trust_for(&key), opts()).unwrap_err(),
        TokenError::UnknownKid
    );
}

#[test]
fn a_token_whose_kid_names_another_key_fails_the_signature() {
    let key = SigningKey::generate().unwrap();
    let forger = SigningKey::generate().unwrap();
    let mut trust = TrustList::new();
    trust.insert_raw(
        forger.kid(),
        TrustEntry {
            public_key: key.public_key(),
            alg: Alg::Ed25519,
            issuer: None,
            not_after: None,
        },
    );
    let text = encode(&forger, &green_claims()).unwrap();
    assert_eq!(
        decode_and_verify(&text, &trust, opts()).unwrap_err(),
        TokenError::BadSignature
    );
}

#[test]
fn flipping_any_bit_of_the_cose_bytes_is_refused() {
    let key = SigningKey::generate().unwrap();
    let trust = open_trust(&key);
    let cose = cose_bytes(&encode(&key, &family_claims()).unwrap());
    assert!(decode_and_verify(&text_from_cose(&cose), &trust, opts()).is_ok());
    for i in 0..cose.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut m = cose.clone();
            m[i] ^= mask;
            let r = decode_and_verify(&text_from_cose(&m), &trust, opts());
            assert!(r.is_err(), "byte {i} ^ {mask:#x} accepted");
        }
    }
}

#[test]
fn expiry_and_issue_time_respect_the_injected_clock_and_skew() {
    let key = SigningKey::generate().unwrap();
    let trust = trust_for(&key);
    let c = green_claims();
    let text = encode(&key, &c).unwrap();
    let at = |now, skew_secs| decode_and_verify(&text, &trust, VerifyOptions { now, skew_secs });
    assert!(at(c.exp, 0).is_ok());
    assert_eq!(at(c.exp + 1, 0).unwrap_err(), TokenError::Expired);
    assert!(at(c.exp + 300, 300).is_ok());
    assert_eq!(at(c.exp + 301, 300).unwrap_err(), TokenError::Expired);
    assert!(at(c.iat, 0).is_ok());
    assert_eq!(at(c.iat - 1, 0).unwrap_err(), TokenError::NotYetValid);
    assert!(at(c.iat - 300, 300).is_ok());
    assert_eq!(at(c.iat - 301, 300).unwrap_err(), TokenError::NotYetValid);
    assert!(at(i64::MAX, i64::MAX).is_ok());
    assert_eq!(at(i64::MIN, 0).unwrap_err(), TokenError::NotYetValid);
}

#[test]
fn a_token_issued_after_its_key_expired_is_refused() {
    let key = SigningKey::generate().unwrap();
    let text = encode(&key, &green_claims()).unwrap();
    let mut trust = TrustList::new();
    let no_skew = VerifyOptions {
        skew_secs: 0,
        ..opts()
    };
    trust.add_key(None, key.public_key(), Some(NOW - 1));
    assert_eq!(
        decode_and_verify(&text, &trust, no_skew).unwrap_err(),
        TokenError::KeyExpired
    );
    trust.add_key(None, key.public_key(), Some(NOW));
    assert!(decode_and_verify(&text, &trust, no_skew).is_ok());
    // The allowed clock skew applies to the key's expiry as to the token's own times.
    let skew = opts().skew_secs;
    trust.add_key(None, key.public_key(), Some(NOW - skew));
    assert!(decode_and_verify(&text, &trust, opts()).is_ok());
    trust.add_key(None, key.public_key(), Some(NOW - skew - 1));
    assert_eq!(
        decode_and_verify(&text, &trust, opts()).unwrap_err(),
        TokenError::KeyExpired
    );
}

#[test]
fn a_revoked_kid_is_refused() {
    let key = SigningKey::generate().unwrap();
    let mut trust = trust_for(&key);
    let text = encode(&key, &green_claims()).unwrap();
    trust.revoke(key.kid());
    assert!(trust.is_revoked(&key.kid()));
    assert_eq!(
        decode_and_verify(&text, &trust, opts()).unwrap_err(),
        TokenError::RevokedKid
    );
    assert!(trust.to_jwks().keys.is_empty());
}

#[test]
fn the_issuer_must_match_the_keys_issuer() {
    let key = SigningKey::generate().unwrap();
    let mut c = green_claims();
    c.iss = "kiosk:rogue".into();
    let text = encode(&key, &c).unwrap();
    assert_eq!(
        decode_and_verify(&text, &trust_for(&key), opts()).unwrap_err(),
        TokenError::IssuerMismatch
    );
    let mut any = TrustList::new();
    any.add_key(None, key.public_key(), None);
    assert!(decode_and_verify(&text, &any, opts()).is_ok());
}

#[test]
fn alg_only_in_the_unprotected_header_is_refused() {
    let key = SigningKey::generate().unwrap();
    let unprot = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .build();
    let text = sign_custom(&key, protected(&key, None), unprot, good_payload());
    let e = decode_and_verify(&text, &trust_for(&key), opts()).unwrap_err();
    assert_eq!(e, TokenError::AlgNotProtected);
    assert_eq!(e.reason_code(), "token.alg_mismatch");
}

#[test]
fn kid_only_in_the_unprotected_header_is_refused() {
    let key = SigningKey::generate().unwrap();
    let prot = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .build();
    let unprot = HeaderBuilder::new().key_id(key.kid().0.to_vec()).build();
    let text = sign_custom(&key, prot, unprot, good_payload());
    assert_eq!(
        decode_and_verify(&text, &trust_for(&key), opts()).unwrap_err(),
        TokenError::MissingKid
    );
}

#[test]
fn alg_ed25519_is_accepted_and_es256_is_refused() {
    let key = SigningKey::generate().unwrap();
    let trust = trust_for(&key);
    let text = encode_with(&key, &green_claims(), -19, None).unwrap();
    assert_eq!(decode_and_verify(&text, &trust, opts()).unwrap().alg, -19);
    let text = encode_with(&key, &green_claims(), -7, None).unwrap();
    assert_eq!(
        decode_and_verify(&text, &trust, opts()).unwrap_err(),
        TokenError::UnsupportedAlg(-7)
    );
}

#[test]
fn an_untagged_cose_sign1_is_refused() {
    let key = SigningKey::generate().unwrap();
    let cose = cose_bytes(&encode(&key, &green_claims()).unwrap());
    assert_eq!(cose[0], 0xD2);
    for compress in [false, true] {
        let text = text_of(&cose[1..], Some(compress));
        assert_eq!(
            decode_and_verify(&text, &trust_for(&key), opts()).unwrap_err(),
            TokenError::NotTagged
        );
    }
}

#[test]
fn a_zlib_bomb_is_refused_at_the_cap() {
    let zeros = vec![0u8; 1 << 20];
    let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&zeros, 10);
    let text = format!("{PREFIX}{}", base45::encode(&bomb));
    assert!(text.len() <= MAX_TEXT_LEN, "bomb is {} chars", text.len());
    let e = decode_and_verify(&text, &TrustList::new(), opts()).unwrap_err();
    assert_eq!(e, TokenError::InflatedTooLarge);
    let garbage = format!("{PREFIX}{}", base45::encode([0x78, 0x9c, 1, 2, 3]));
    assert_eq!(
        decode_and_verify(&garbage, &TrustList::new(), opts()).unwrap_err(),
        TokenError::Inflate
    );
}

#[test]
fn text_over_the_cap_or_with_another_prefix_is_refused() {
    let key = SigningKey::generate().unwrap();
    let trust = trust_for(&key);
    let text = encode(&key, &green_claims()).unwrap();
    let long = format!("{text}{}", "0".repeat(MAX_TEXT_LEN));
    assert_eq!(
        decode_and_verify(&long, &trust, opts()).unwrap_err(),
        TokenError::TooLong
    );
    for bad in [
        format!("CD2:{}", &text[4..]),
        format!("HC1:{}", &text[4..]),
        text.to_lowercase(),
        format!(" {text}"),
    ] {
        assert_eq!(
            decode_and_verify(&bad, &trust, opts()).unwrap_err(),
            TokenError::BadPrefix
        );
    }
    // Not trimmed: a trailing space is Base45 data, not ignored.
    assert!(decode_and_verify(&format!("{text} "), &trust, opts()).is_err());
    assert_eq!(
        decode_and_verify("CD1:!!!", &trust, opts()).unwrap_err(),
        TokenError::Base45
    );
}

#[test]
fn a_signed_but_invalid_summary_is_a_claims_error() {
    let key = SigningKey::generate().unwrap();
    let trust = trust_for(&key);
    let payload = good_payload();
    let Value::Map(mut claims) = Value::from_slice(&payload).unwrap() else {
        panic!()
    };
    fn summary_of(claims: &mut [(Value, Value)]) -> &mut Vec<(Value, Value)> {
        match &mut claims[4].1 {
            Value::Map(m) => m,
            _ => panic!(),
        }
    }
    fn int(n: i64) -> Value {
        Value::Integer(n.into())
    }
    type Mutation = Box<dyn Fn(&mut Vec<(Value, Value)>)>;
    let cases: Vec<(Mutation, &str)> = vec![
        (Box::new(|c| c[0].1 = int(5)), "iss"),
        (Box::new(|c| c[1].1 = int(-5)), "exp"),
        (Box::new(|c| c[3].1 = Value::Bytes(vec![1; 15])), "cti"),
        (Box::new(|c| drop(c.remove(2))), "iat"),
        (Box::new(|c| c.push((int(99), int(1)))), "payload"),
        (
            Box::new(move |c| {
                summary_of(c).push((int(9), Value::Array(vec![int(0), int(0), int(0)])))
            }),
            "summary.party",
        ),
        (
            Box::new(move |c| {
                summary_of(c).push((int(9), Value::Array(vec![int(30), int(0), int(0)])))
            }),
            "summary.party",
        ),
        (
            Box::new(move |c| summary_of(c)[4].1 = Value::Text("nh 212".into())),
            "summary.flight",
        ),
        (
            Box::new(move |c| summary_of(c)[0].1 = Value::Text("a b".into())),
            "summary.declaration_id",
        ),
        (
            Box::new(move |c| summary_of(c).push((int(7), int(64)))),
            "summary.answers",
        ),
        (
            Box::new(move |c| {
                let s = summary_of(c);
                s.push((int(8), int(1000)));
            }),
            "summary.unaccompanied",
        ),
        (
            Box::new(move |c| {
                // Whisky without its volume.
                let item = Value::Array(vec![int(1), int(1), int(100), Value::Text("USD".into())]);
                summary_of(c).push((int(10), Value::Array(vec![item])));
            }),
            "summary.items",
        ),
        (
            Box::new(move |c| {
                // Quantity 0.
                let item = Value::Array(vec![int(40), int(0), int(100), Value::Text("USD".into())]);
                summary_of(c).push((int(10), Value::Array(vec![item])));
            }),
            "summary.items",
        ),
        (
            Box::new(move |c| {
                let item = Value::Array(vec![int(40), int(1), int(100), Value::Text("usd".into())]);
                summary_of(c).push((int(10), Value::Array(vec![item])));
            }),
            "summary.items",
        ),
    ];
    for (mutate, name) in cases {
        let mut c = claims.clone();
        mutate(&mut c);
        let text = sign_custom(
            &key,
            protected(&key, Some(iana::Algorithm::EdDSA)),
            coset::Header::default(),
            Value::Map(c).to_vec().unwrap(),
        );
        assert_eq!(
            decode_and_verify(&text, &trust, opts()).unwrap_err(),
            TokenError::Claims(name)
        );
    }
    // The unmodified payload signed the same way verifies.
    claims.truncate(5);
    let text = sign_custom(
        &key,
        protected(&key, Some(iana::Algorithm::EdDSA)),
        coset::Header::default(),
        Value::Map(claims).to_vec().unwrap(),
    );
    assert!(decode_and_verify(&text, &trust, opts()).is_ok());
}

#[test]
fn the_encoder_refuses_claims_the_verifier_would_refuse() {
    let key = SigningKey::generate().unwrap();
    let mut c = green_claims();
    c.summary.flight = "nh212".into();
    assert!(matches!(encode(&key, &c), Err(TokenError::Encode(_))));
    let mut c = green_claims();
    c.iat = -1;
    assert!(matches!(encode(&key, &c), Err(TokenError::Encode(_))));
    let mut c = green_claims();
    c.summary.declaration_id = "x".repeat(41);
    assert!(matches!(encode(&key, &c), Err(TokenError::Encode(_))));
}

#[test]
fn jwks_export_and_import_round_trip_and_check_the_kid() {
    let a = SigningKey::generate().unwrap();
    let b = SigningKey::generate().unwrap();
    let mut t = TrustList::new();
    t.add_key(Some("mobile-api"), a.public_key(), Some(NOW + 100));
    t.add_key(None, b.public_key(), None);
    let json = serde_json::to_string(&t.to_jwks()).unwrap();
    let jwks: Jwks = serde_json::from_str(&json).unwrap();
    let mut t2 = TrustList::new();
    assert_eq!(t2.add_jwks(&jwks).unwrap(), 2);
    assert_eq!(t2.kids(), t.kids());
    assert_eq!(t2.get(&a.kid()), t.get(&a.kid()));
    assert_eq!(t2.to_jwks(), t.to_jwks());

    let jwk = a.jwk();
    assert_eq!(
        (
            jwk.kty.as_str(),
            jwk.crv.as_str(),
            jwk.alg.as_str(),
            jwk.use_.as_str()
        ),
        ("OKP", "Ed25519", "EdDSA", "sig")
    );
    assert_eq!(Kid::from_base64(&jwk.kid).unwrap(), a.kid());
    assert_eq!(a.kid().to_string(), jwk.kid);
    let v: serde_json::Value = serde_json::to_value(&jwk).unwrap();
    assert_eq!(v["use"], "sig");
    assert!(v.get("iss").is_none() && v.get("exp").is_none());

    let mut wrong_kid = a.jwk();
    wrong_kid.kid = b.kid().to_base64();
    let mut t3 = TrustList::new();
    let mixed = Jwks {
        keys: vec![b.jwk(), wrong_kid],
    };
    assert!(matches!(t3.add_jwks(&mixed), Err(KeyError::KidMismatch(_))));
    assert_eq!(t3.len(), 0, "nothing added when one key is refused");
    let mut ec = a.jwk();
    ec.kty = "EC".into();
    ec.crv = "P-256".into();
    assert!(matches!(
        t3.add_jwks(&Jwks { keys: vec![ec] }),
        Err(KeyError::UnsupportedKey(_))
    ));
    let mut short = a.jwk();
    short.x = "AAAA".into();
    assert!(t3.add_jwks(&Jwks { keys: vec![short] }).is_err());
    assert!(Kid::from_base64("AAAA").is_err());
}

#[test]
fn key_files_are_created_private_and_group_readable_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/issuer.pk8");
    let k1 = SigningKey::load_or_generate(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let k2 = SigningKey::load_or_generate(&path).unwrap();
    assert_eq!(k1.kid(), k2.kid());
    assert_eq!(k1.pkcs8_der(), k2.pkcs8_der());
    let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
    assert_eq!(leftovers, 1, "no temporary file left behind");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(matches!(
        SigningKey::load_or_generate(&path),
        Err(KeyError::InsecurePermissions { mode: 0o644, .. })
    ));

    let bpath = dir.path().join("binding.key");
    let b1 = BindingKey::load_or_generate(&bpath).unwrap();
    assert_eq!(
        std::fs::metadata(&bpath).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(std::fs::read(&bpath).unwrap().len(), 32);
    let b2 = BindingKey::load_or_generate(&bpath).unwrap();
    let d = date!(1990 - 01 - 02);
    assert_eq!(b1.bind("JPN", "X1", d), b2.bind("JPN", "X1", d));
    std::fs::set_permissions(&bpath, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert!(matches!(
        BindingKey::load_or_generate(&bpath),
        Err(KeyError::InsecurePermissions { .. })
    ));
    assert!(SigningKey::from_pkcs8(b"not a key").is_err());
}

#[test]
fn the_binding_is_deterministic_and_depends_on_every_field() {
    let k = BindingKey::from_bytes([1; 32]);
    let d = date!(1985 - 04 - 12);
    let base = k.bind("JPN", "TK1234567", d);
    assert_eq!(base, k.bind("JPN", "TK1234567", d));
    assert_ne!(base, k.bind("USA", "TK1234567", d));
    assert_ne!(base, k.bind("JPN", "TK1234568", d));
    assert_ne!(base, k.bind("JPN", "TK1234567", date!(1985 - 04 - 13)));
    assert_ne!(
        base,
        BindingKey::from_bytes([2; 32]).bind("JPN", "TK1234567", d)
    );
    // Known answer: HMAC-SHA256(key, "JPN|TK1234567|1985-04-12")[..16].
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &[1; 32]),
        b"JPN|TK1234567|1985-04-12",
    );
    assert_eq!(&base[..], &tag.as_ref()[..16]);
    assert_eq!(format!("{k:?}"), "BindingKey(..)");
}

#[test]
fn every_reason_code_is_listed() {
    let all = [
        TokenError::TooLong,
        TokenError::BadPrefix,
        TokenError::Malformed(String::new()),
        TokenError::AlgNotProtected,
        TokenError::UnsupportedAlg(-7),
        TokenError::UnknownKid,
        TokenError::RevokedKid,
        TokenError::KeyExpired,
        TokenError::BadSignature,
        TokenError::Claims("iss"),
        TokenError::IssuerMismatch,
        TokenError::Expired,
        TokenError::NotYetValid,
        TokenError::Encode(String::new()),
    ];
    for e in all {
        assert!(TokenError::REASON_CODES.contains(&e.reason_code()), "{e:?}");
    }
}

/// One row of BENCHMARKS.md's "QR versions" table, found by words of its first cell:
/// (fewest, most) text characters and the QR version it states.
fn benchmarks_qr_row(label: &str) -> (usize, usize, i16) {
    let doc = include_str!("../../../BENCHMARKS.md");
    let table = doc
        .split("## QR versions")
        .nth(1)
        .expect("BENCHMARKS.md has a \"QR versions\" section");
    let row = table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .find(|l| l.split('|').nth(1).is_some_and(|c| c.contains(label)))
        .unwrap_or_else(|| panic!("BENCHMARKS.md's QR table has no row for {label:?}"));
    let cells: Vec<String> = row.split('|').map(|c| c.trim().replace("**", "")).collect();
    let chars = cells[2].trim_end_matches(" chars");
    let (few, most) = chars.split_once('–').unwrap_or((chars, chars));
    let number = |n: &str| -> usize {
        n.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{row}: text {n:?}"))
    };
    let version = cells[3]
        .parse()
        .unwrap_or_else(|_| panic!("{row}: version {:?}", cells[3]));
    (number(few), number(most), version)
}

/// Prints the sizes `bench/run_all.sh` reports, and checks them against what
/// BENCHMARKS.md's QR table states (text length and version at level Q).
#[test]
fn report_token_sizes() {
    let key = SigningKey::generate().unwrap();
    let trust = open_trust(&key);
    let version_of = |text: &str| {
        qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::Q)
            .map(|q| q.version())
            .unwrap()
    };
    let with_id = |id_len: usize| {
        let mut c = green_claims();
        c.summary.declaration_id = "7YP3KQ2VX9MN4RT8WB6CJ1HZDFGSA05E"
            .chars()
            .cycle()
            .take(id_len)
            .collect();
        c
    };
    for (name, claims, row) in [
        ("green, 12-char id", with_id(12), "12-char declaration id"),
        ("green, 24-char id", with_id(24), "24-char id"),
        (
            "party of 4, 5 items",
            family_claims(),
            "party of 4, 5 items",
        ),
    ] {
        let text = encode(&key, &claims).unwrap();
        let cose = cose_bytes(&text);
        let raw = text_from_cose(&cose).len();
        let zipped = text_of(&cose, Some(true)).len();
        let v = decode_and_verify(&text, &trust, opts()).unwrap();
        let version = version_of(&text);
        println!(
            "token size [{name}]: text {} chars (COSE {} bytes), zlib used: {} (plain {raw} chars, zlib {zipped} chars), QR at Q: {version:?}",
            text.len(),
            cose.len(),
            v.compressed
        );
        assert!(text.len() <= MAX_TEXT_LEN);
        assert!(!v.compressed, "{name}: zlib never helps these tokens");
        let (few, most, stated) = benchmarks_qr_row(row);
        assert!(
            (few..=most).contains(&text.len()),
            "{name}: {} chars, BENCHMARKS.md says {few}–{most}",
            text.len()
        );
        assert_eq!(
            version,
            qrcode::Version::Normal(stated),
            "{name}: BENCHMARKS.md says version {stated}"
        );
    }
    // The declaration id is the issuer's choice; each character costs 1.5 QR characters.
    for id_len in [8, 16, 17, 18, 22, 26, 36] {
        let text = encode(&key, &with_id(id_len)).unwrap();
        println!(
            "token size [green, id of {id_len} chars]: text {} chars, QR at Q: {:?}",
            text.len(),
            version_of(&text)
        );
    }
}

const VECTOR_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/token/green.json"
);

/// Regenerate the published test vector (a fresh key, so every field changes): run
/// `EGATE_WRITE_VECTORS=1 cargo test -p shared --lib token::tests::the_published_test_vector`,
/// which writes the file and then fails, so that a run with the variable set never
/// passes as a comparison; then run it again without the variable.
fn write_test_vector() {
    let key = SigningKey::generate().unwrap();
    let text = encode(&key, &green_claims()).unwrap();
    let mut trust = TrustList::new();
    trust.add_key(Some("mobile-api"), key.public_key(), None);
    let vector = serde_json::json!({
        "description": "CD1 token v1: green lane, no items, one adult. Ed25519 is deterministic, so encoding the same claims with this key gives this exact text. The key is a test key, published here and trusted nowhere.",
        "pkcs8_hex": hex::encode(key.pkcs8_der()),
        "jwks": trust.to_jwks(),
        "verify_at": NOW,
        "text": text,
        "cose_hex": hex::encode(cose_bytes(&text)),
    });
    std::fs::create_dir_all(std::path::Path::new(VECTOR_PATH).parent().unwrap()).unwrap();
    std::fs::write(
        VECTOR_PATH,
        serde_json::to_string_pretty(&vector).unwrap() + "\n",
    )
    .unwrap();
}

#[test]
fn the_published_test_vector_verifies_and_is_reproduced_exactly() {
    if std::env::var_os("EGATE_WRITE_VECTORS").is_some() {
        write_test_vector();
        panic!("wrote {VECTOR_PATH}; run again without EGATE_WRITE_VECTORS to compare");
    }
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(VECTOR_PATH).unwrap()).unwrap();
    let jwks: Jwks = serde_json::from_value(v["jwks"].clone()).unwrap();
    let mut trust = TrustList::new();
    trust.add_jwks(&jwks).unwrap();
    let text = v["text"].as_str().unwrap();
    let now = v["verify_at"].as_i64().unwrap();
    let verified = decode_and_verify(text, &trust, VerifyOptions { now, skew_secs: 0 }).unwrap();
    assert_eq!(verified.claims, green_claims());
    assert_eq!(
        hex::encode(cose_bytes(text)),
        v["cose_hex"].as_str().unwrap()
    );
    let key =
        SigningKey::from_pkcs8(&hex::decode(v["pkcs8_hex"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(encode(&key, &green_claims()).unwrap(), text);
}
