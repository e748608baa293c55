use super::*;
use time::macros::{date, datetime};

#[test]
fn the_arrival_date_window_is_yesterday_to_tomorrow_in_the_profiles_time_zone() {
    let jp = rules::RulesProfile::jp_2026();
    // 16:30 UTC on 1 November is 01:30 on 2 November in Japan.
    let now = datetime!(2026-11-01 16:30 UTC);
    for (day, ok) in [
        (date!(2026 - 10 - 31), false),
        (date!(2026 - 11 - 01), true),
        (date!(2026 - 11 - 02), true),
        (date!(2026 - 11 - 03), true),
        (date!(2026 - 11 - 04), false),
    ] {
        assert_eq!(arrival_date_current(&jp, now, day), ok, "{day}");
    }
}
