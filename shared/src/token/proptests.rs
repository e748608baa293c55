//! Property tests: arbitrary input never panics the verifier and never verifies.

use super::tests::{cose_bytes, family_claims, opts, text_from_cose};
use super::*;
use proptest::prelude::*;
use std::sync::OnceLock;

struct Fixture {
    trust: TrustList,
    cose: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let key = SigningKey::generate().unwrap();
        let mut trust = TrustList::new();
        trust.add_key(None, key.public_key(), None);
        let cose = cose_bytes(&encode(&key, &family_claims()).unwrap());
        Fixture { trust, cose }
    })
}

const B45: &str = "[0-9A-Z $%*+./:-]{0,600}";

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_strings_never_panic_and_never_verify(s in any::<String>(), b45 in B45) {
        let f = fixture();
        prop_assert!(decode_and_verify(&s, &f.trust, opts()).is_err());
        let prefixed = format!("{PREFIX}{b45}");
        prop_assert!(decode_and_verify(&prefixed, &f.trust, opts()).is_err());
    }

    #[test]
    fn random_bytes_never_panic_and_never_verify(
        bytes in proptest::collection::vec(any::<u8>(), 0..2000),
        first in prop::sample::select(vec![0xD2u8, 0x78, 0x84, 0x00]),
    ) {
        let f = fixture();
        let text = format!("{PREFIX}{}", base45::encode(&bytes));
        prop_assert!(decode_and_verify(&text, &f.trust, opts()).is_err());
        // Also with a plausible first byte, so the deeper stages are reached.
        let mut b = bytes;
        b.insert(0, first);
        let text = format!("{PREFIX}{}", base45::encode(&b));
        prop_assert!(decode_and_verify(&text, &f.trust, opts()).is_err());
        let zipped = miniz_oxide::deflate::compress_to_vec_zlib(&b, 6);
        let text = format!("{PREFIX}{}", base45::encode(&zipped));
        prop_assert!(decode_and_verify(&text, &f.trust, opts()).is_err());
    }

    #[test]
    fn changing_any_single_byte_of_a_valid_token_is_never_accepted(
        index in any::<prop::sample::Index>(),
        delta in 1u8..=255,
    ) {
        let f = fixture();
        let mut m = f.cose.clone();
        let i = index.index(m.len());
        m[i] = m[i].wrapping_add(delta);
        prop_assert!(decode_and_verify(&text_from_cose(&m), &f.trust, opts()).is_err());
    }

    #[test]
    fn truncating_or_extending_a_valid_token_is_never_accepted(
        cut in any::<prop::sample::Index>(),
        extra in proptest::collection::vec(any::<u8>(), 1..8),
    ) {
        let f = fixture();
        let n = cut.index(f.cose.len());
        prop_assert!(decode_and_verify(&text_from_cose(&f.cose[..n]), &f.trust, opts()).is_err());
        let mut longer = f.cose.clone();
        longer.extend_from_slice(&extra);
        prop_assert!(decode_and_verify(&text_from_cose(&longer), &f.trust, opts()).is_err());
    }
}

#[test]
fn the_fixture_token_itself_verifies() {
    let f = fixture();
    assert!(decode_and_verify(&text_from_cose(&f.cose), &f.trust, opts()).is_ok());
}
