//! `decode_and_verify` on arbitrary text against a trust list of one fixed key: it
//! never panics, and anything it accepts carries exactly the claims that key signed
//! (a forgery would be accepted with other claims, or under another kid).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

struct Fixed {
    trust: shared::token::TrustList,
    claims: Vec<shared::token::Claims>,
    kid: shared::token::Kid,
}

static FIXED: OnceLock<Fixed> = OnceLock::new();

fuzz_target!(init: egate_fuzz::write_seeds_if_asked(), |data: &[u8]| {
    let f = FIXED.get_or_init(|| Fixed {
        trust: egate_fuzz::trust(),
        claims: egate_fuzz::claims(),
        kid: egate_fuzz::key().kid(),
    });
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(v) = shared::token::decode_and_verify(text, &f.trust, egate_fuzz::opts()) {
        assert_eq!(v.kid, f.kid, "accepted under another key");
        assert!(
            f.claims.contains(&v.claims),
            "accepted claims that were never signed: {:?}",
            v.claims
        );
    }
});
