//! Algorithm- and key-confusion test vectors, in the style of the EU DCC test data:
//! one JSON file per case under `tests/vectors/token/confusion/`, each holding the
//! input (QR text, trust list, revoked kids, verification time) and the expected
//! result of every verification step.
//!
//! The vectors are generated deterministically (fixed seeds; Ed25519 signatures are
//! deterministic) by this file. `EGATE_WRITE_VECTORS=1 cargo test -p shared
//! --test token_vectors` rewrites them and then fails on purpose (a run that wrote the
//! files has compared nothing); the normal run, without the variable, checks that the
//! committed files are exactly what the generator makes and that the verifier gives each
//! expected result. A third-party COSE library can replay the same files.

use coset::{
    CborSerializable, CoseSign1Builder, HeaderBuilder, RegisteredLabelWithPrivate,
    TaggedCborSerializable,
};
use serde_json::{Value, json};
use shared::domain::{Declared, Party};
use shared::token::{
    Claims, Jwks, Kid, SigningKey, Summary, TokenError, TrustList, VerifyOptions,
    decode_and_verify, encode,
};
use std::path::PathBuf;

const NOW: i64 = 1_790_000_000;
const STEPS: &[&str] = &[
    "decode",
    "alg",
    "kid",
    "trust",
    "signature",
    "claims",
    "issuer",
    "validity",
    "key_validity",
];

fn key(seed: u8) -> SigningKey {
    // PKCS#8 v1 for Ed25519 (RFC 8410): fixed prefix + the 32-byte seed.
    let mut der = hex::decode("302e020100300506032b657004220420").unwrap();
    der.extend_from_slice(&[seed; 32]);
    SigningKey::from_pkcs8(&der).unwrap()
}

fn claims(iss: &str, iat: i64, exp: i64) -> Claims {
    Claims {
        iss: iss.into(),
        iat,
        exp,
        cti: [7; 16],
        summary: Summary {
            declaration_id: "VEC0000001".into(),
            revision: 1,
            profile_id: "JP-2026".into(),
            arrival_date: time::macros::date!(2026 - 09 - 22),
            flight: "NH212".into(),
            binding: [0x5a; 16],
            declared: Declared {
                party: Party::SOLO_ADULT,
                ..Declared::default()
            },
        },
    }
}

/// Re-sign the payload of a valid token under arbitrary headers.
fn forge(
    signer: &SigningKey,
    payload_from: &str,
    protected: coset::Header,
    unprotected: coset::Header,
) -> String {
    let b = base45::decode(&payload_from[4..]).unwrap();
    let cose = coset::CoseSign1::from_tagged_slice(&b).unwrap();
    let signed = CoseSign1Builder::new()
        .protected(protected)
        .unprotected(unprotected)
        .payload(cose.payload.unwrap())
        .create_signature(b"", |tbs| signer.sign_raw(tbs))
        .build();
    format!("CD1:{}", base45::encode(signed.to_tagged_vec().unwrap()))
}

fn alg(id: i64) -> coset::Algorithm {
    use coset::iana::EnumI64;
    match coset::iana::Algorithm::from_i64(id) {
        Some(a) => RegisteredLabelWithPrivate::Assigned(a),
        None => RegisteredLabelWithPrivate::PrivateUse(id),
    }
}

fn jwks_of(keys: &[(&SigningKey, &str, Option<i64>)]) -> Jwks {
    Jwks {
        keys: keys
            .iter()
            .map(|(k, iss, exp)| {
                let mut j = k.jwk();
                j.iss = Some((*iss).into());
                j.exp = *exp;
                j
            })
            .collect(),
    }
}

/// The step at which each error stops verification.
fn failing_step(e: &TokenError) -> &'static str {
    use TokenError::*;
    match e {
        TooLong | BadPrefix | Base45 | Inflate | InflatedTooLarge | NotTagged | Malformed(_) => {
            "decode"
        }
        AlgNotProtected | UnsupportedAlg(_) => "alg",
        MissingKid => "kid",
        UnknownKid | RevokedKid => "trust",
        BadSignature => "signature",
        Claims(_) => "claims",
        IssuerMismatch => "issuer",
        Expired | NotYetValid => "validity",
        KeyExpired => "key_validity",
        Encode(_) => "encode",
    }
}

fn steps(failed: Option<&str>) -> Value {
    let mut m = serde_json::Map::new();
    let mut seen_fail = false;
    for s in STEPS {
        let v = if seen_fail {
            Value::Null
        } else if Some(*s) == failed {
            seen_fail = true;
            Value::Bool(false)
        } else {
            Value::Bool(true)
        };
        m.insert((*s).into(), v);
    }
    Value::Object(m)
}

fn vector(
    description: &str,
    text: &str,
    jwks: &Jwks,
    revoked: &[Kid],
    expected_error: Option<(&str, &str, &str)>,
) -> Value {
    json!({
        "description": description,
        "input": {
            "qr_text": text,
            "trust_list": jwks,
            "revoked_kids": revoked.iter().map(Kid::to_base64).collect::<Vec<_>>(),
            "verify_at": NOW,
            "skew_secs": 120,
        },
        "expected": match expected_error {
            None => json!({"result": "accepted", "steps": steps(None)}),
            Some((variant, code, step)) => json!({
                "result": "refused",
                "error": variant,
                "reason_code": code,
                "steps": steps(Some(step)),
            }),
        }
    })
}

fn generate() -> Vec<(&'static str, Value)> {
    let issuer = key(1);
    let other = key(2);
    let kid = issuer.kid().0.to_vec();
    let trusted = jwks_of(&[(&issuer, "mobile-api", None)]);
    let good = encode(&issuer, &claims("mobile-api", NOW - 3600, NOW + 86_400)).unwrap();
    let prot = |a: i64| {
        HeaderBuilder::new()
            .algorithm_label(alg(a))
            .key_id(kid.clone())
            .build()
    };
    let mut out = Vec::new();

    out.push((
        "00-valid",
        vector(
            "A valid token: every step passes.",
            &good,
            &trusted,
            &[],
            None,
        ),
    ));
    out.push((
        "01-alg-unprotected-only",
        vector(
            "alg only in the unprotected header (unsigned, so untrusted): refused before any key is used.",
            &forge(&issuer, &good, HeaderBuilder::new().key_id(kid.clone()).build(), HeaderBuilder::new().algorithm(coset::iana::Algorithm::EdDSA).build()),
            &trusted,
            &[],
            Some(("AlgNotProtected", "token.alg_mismatch", "alg")),
        ),
    ));
    out.push((
        "02-unknown-alg",
        vector(
            "An algorithm id no verifier knows (-65537, private use).",
            &forge(&issuer, &good, prot(-65537), HeaderBuilder::new().build()),
            &trusted,
            &[],
            Some(("UnsupportedAlg", "token.alg_mismatch", "alg")),
        ),
    ));
    out.push((
        "03-alg-not-matching-key",
        vector(
            "alg ES256 (-7) on a token whose kid names an Ed25519 key: the algorithm comes from the trust entry, never from the token.",
            &forge(&issuer, &good, prot(-7), HeaderBuilder::new().build()),
            &trusted,
            &[],
            Some(("UnsupportedAlg", "token.alg_mismatch", "alg")),
        ),
    ));
    out.push((
        "04-alg-ed25519-rfc9864",
        vector(
            "alg Ed25519 (-19, RFC 9864) for the same key: accepted like EdDSA (-8).",
            &forge(&issuer, &good, prot(-19), HeaderBuilder::new().build()),
            &trusted,
            &[],
            None,
        ),
    ));
    out.push((
        "05-unknown-kid",
        vector(
            "Signed by a key the gate does not trust.",
            &encode(&other, &claims("mobile-api", NOW - 3600, NOW + 86_400)).unwrap(),
            &trusted,
            &[],
            Some(("UnknownKid", "token.unknown_kid", "trust")),
        ),
    ));
    out.push((
        "06-revoked-kid",
        vector(
            "Signed by a trusted key whose kid the gate lists as revoked.",
            &good,
            &trusted,
            &[issuer.kid()],
            Some(("RevokedKid", "token.revoked_kid", "trust")),
        ),
    ));
    out.push((
        "07-kid-of-trusted-key-other-key-signed",
        vector(
            "Claims the kid of a trusted key but is signed by another key.",
            &forge(&other, &good, prot(-8), HeaderBuilder::new().build()),
            &trusted,
            &[],
            Some(("BadSignature", "token.bad_signature", "signature")),
        ),
    ));
    out.push((
        "08-key-of-another-issuer",
        vector(
            "A kiosk's key (trusted for issuer kiosk:T1) signing a token that claims to come from mobile-api.",
            &encode(&other, &claims("mobile-api", NOW - 3600, NOW + 86_400)).unwrap(),
            &jwks_of(&[(&issuer, "mobile-api", None), (&other, "kiosk:T1", None)]),
            &[],
            Some(("IssuerMismatch", "token.issuer_mismatch", "issuer")),
        ),
    ));
    out.push((
        "09-expired-key",
        vector(
            "Issued after its key's expiry (JWK exp, set when the key was rotated out).",
            &good,
            &jwks_of(&[(&issuer, "mobile-api", Some(NOW - 7200))]),
            &[],
            Some(("KeyExpired", "token.key_expired", "key_validity")),
        ),
    ));
    out.push((
        "10-token-outliving-its-key",
        vector(
            "Issued before its key was retired and still within its own validity after: accepted by policy, so that a key rotation never invalidates a passenger's QR. The retired key stays published until every token it signed has expired.",
            &good,
            &jwks_of(&[(&issuer, "mobile-api", Some(NOW - 60))]),
            &[],
            None,
        ),
    ));
    out.push((
        "11-expired-token",
        vector(
            "Past its exp by more than the skew.",
            &encode(&issuer, &claims("mobile-api", NOW - 90_000, NOW - 200)).unwrap(),
            &trusted,
            &[],
            Some(("Expired", "token.expired", "validity")),
        ),
    ));
    out.push((
        "12-untagged-cose",
        vector(
            "COSE_Sign1 without CBOR tag 18.",
            &{
                let b = base45::decode(&good[4..]).unwrap();
                let cose = coset::CoseSign1::from_tagged_slice(&b).unwrap();
                format!("CD1:{}", base45::encode(cose.to_vec().unwrap()))
            },
            &trusted,
            &[],
            Some(("NotTagged", "token.malformed", "decode")),
        ),
    ));
    out
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/token/confusion")
}

fn variant_name(e: &TokenError) -> String {
    let d = format!("{e:?}");
    d.split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn confusion_vectors_are_committed_and_give_the_expected_result_at_each_step() {
    let generated = generate();
    if std::env::var_os("EGATE_WRITE_VECTORS").is_some() {
        std::fs::create_dir_all(dir()).unwrap();
        for old in std::fs::read_dir(dir()).unwrap() {
            let old = old.unwrap().path();
            if old.extension().is_some_and(|e| e == "json") {
                std::fs::remove_file(old).unwrap();
            }
        }
        for (name, v) in &generated {
            let text = serde_json::to_string_pretty(v).unwrap() + "\n";
            std::fs::write(dir().join(format!("{name}.json")), text).unwrap();
        }
        panic!(
            "EGATE_WRITE_VECTORS: wrote {} vectors to {}; nothing was checked. Review the \
             change (git diff), then run again without EGATE_WRITE_VECTORS to check them.",
            generated.len(),
            dir().display()
        );
    }
    let mut files: Vec<_> = std::fs::read_dir(dir())
        .expect("vectors missing: run with EGATE_WRITE_VECTORS=1")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), generated.len(), "committed vector count");
    for ((name, want), path) in generated.iter().zip(&files) {
        let committed: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        assert_eq!(
            &committed, want,
            "{name}: committed file differs from the generator"
        );

        let input = &committed["input"];
        let jwks: Jwks = serde_json::from_value(input["trust_list"].clone()).unwrap();
        let mut trust = TrustList::new();
        trust.add_jwks(&jwks).unwrap();
        for k in input["revoked_kids"].as_array().unwrap() {
            trust.revoke(Kid::from_base64(k.as_str().unwrap()).unwrap());
        }
        let opts = VerifyOptions {
            now: input["verify_at"].as_i64().unwrap(),
            skew_secs: input["skew_secs"].as_i64().unwrap(),
        };
        let got = decode_and_verify(input["qr_text"].as_str().unwrap(), &trust, opts);
        let expected = &committed["expected"];
        match got {
            Ok(_) => assert_eq!(
                expected["result"], "accepted",
                "{name}: accepted but expected refusal"
            ),
            Err(e) => {
                assert_eq!(expected["result"], "refused", "{name}: refused with {e:?}");
                assert_eq!(expected["error"], variant_name(&e), "{name}");
                assert_eq!(expected["reason_code"], e.reason_code(), "{name}");
                assert_eq!(expected["steps"], steps(Some(failing_step(&e))), "{name}");
            }
        }
    }
}
