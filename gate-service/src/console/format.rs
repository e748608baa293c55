//! How the console writes times and amounts.

use super::ConsoleConfig;

/// Unix seconds as local `YYYY-MM-DD HH:MM` (offset from the console settings).
pub fn fmt_time(cfg: &ConsoleConfig, unix: i64) -> String {
    let offset = time::UtcOffset::from_whole_seconds(cfg.utc_offset_minutes * 60)
        .unwrap_or(time::UtcOffset::UTC);
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => {
            let t = t.to_offset(offset);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        }
        Err(_) => "-".into(),
    }
}

/// `¥1,234`.
pub fn yen(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    format!(
        "{sign}¥{}",
        shared::rules::group_thousands(n.unsigned_abs())
    )
}
