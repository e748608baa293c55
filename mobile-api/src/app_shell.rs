//! The phone app's shell: what a passenger's phone keeps to show its QR codes without a
//! connection (docs/phone-app.md). `/my` (the "My declarations" page, filled in by
//! `app.js` from the device's storage), `/app.js`, `/app.css`, the service worker
//! `/sw.js`, the web app manifest and its icons. The declaration wizard (mounted at `/`)
//! is another crate's; its result page hands the issued declaration to `app.js` in a
//! JSON data block.
//!
//! Decisions:
//! - Assets are embedded in the binary (`include_str!`/`include_bytes!`): no file to
//!   deploy, nothing to go stale beside it. Each has a strong `ETag` (SHA-256 of its
//!   bytes) and `Cache-Control: no-cache`: the browser revalidates (a 304, a few bytes)
//!   and offline use is the service worker's business, not the HTTP cache's.
//! - The service worker carries the shell's version (a hash of every cached asset), so a
//!   changed asset changes `sw.js` and the phone replaces its cache: no manual bump.
//! - `sw.js` is served from the root, so its default scope is the whole origin and no
//!   `Service-Worker-Allowed` header is sent.
//! - Nothing here holds a secret: the edit tokens live only on the phone (app.js). So
//!   text is gzipped when the browser takes it (no BREACH-style length leak to fear).

mod assets;
mod gzip;
mod my_page;

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub use assets::shell_version;
pub use my_page::LANG_COOKIE;

/// The shell's routes, for mobile-api's public router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/my", get(my_page::get))
        .route("/manifest.webmanifest", get(my_page::manifest))
        .route("/app.js", get(assets::app_js))
        .route("/app.css", get(assets::app_css))
        .route("/sw.js", get(assets::service_worker))
        .route("/icons/{name}", get(assets::icon))
}

/// Paths the service worker caches on install (the app shell), in the order it lists
/// them; every one is served by [`router`].
pub const SHELL_PATHS: [&str; 7] = [
    "/my",
    "/app.js",
    "/app.css",
    "/manifest.webmanifest",
    "/icons/icon-192.png",
    "/icons/icon-512.png",
    "/icons/maskable-512.png",
];
