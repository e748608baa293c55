//! Tracing set-up shared by the binaries: `RUST_LOG`-style filter from `EGATE_LOG`
//! (default `info`), compact human output, or JSON lines with `EGATE_LOG_FORMAT=json`.
//!
//! Logging policy (docs/retention.md): never log passport data, names, tokens, keys or
//! request bodies; dotted field names with units (`scan.duration_ms`).

use tracing_subscriber::EnvFilter;

/// Install the global subscriber once; later calls are ignored (tests call it freely).
pub fn init() {
    let filter = EnvFilter::try_from_env("EGATE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("EGATE_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.compact().try_init()
    };
}
