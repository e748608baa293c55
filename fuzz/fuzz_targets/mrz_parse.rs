//! `parse_td3` on arbitrary text: never panics; what it accepts round-trips through
//! `build_td3` to a parse of the same passport.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(init: egate_fuzz::write_seeds_if_asked(), |data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let today = time::macros::date!(2026 - 11 - 26);
    if let Ok(td3) = shared::mrz::parse_td3(text, today) {
        let again = shared::mrz::parse_td3(&shared::mrz::build_td3(&td3), today)
            .expect("a built MRZ parses");
        assert_eq!(again, td3);
    }
});
