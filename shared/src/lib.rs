//! The E-Gate shared core: everything the three services (mobile-api, gate-service,
//! kiosk) must agree on lives here once.
//!
//! - [`domain`]: the declaration model with validating constructors;
//! - [`rules`]: the rules engine and the data-driven rules profile (JP-2026 by default);
//! - [`token`]: the signed QR token (`CD1:` + Base45 + zlib + COSE_Sign1/CWT), keys, JWKS,
//!   passport binding;
//! - [`qr`]: QR rendering (PNG, SVG) and decoding (camera images);
//! - [`mrz`]: ICAO Doc 9303 TD3 machine-readable zone;
//! - [`issuer`]: the issuer role of mobile-api and the kiosk: token policy, claims,
//!   signing, issued tokens and revocation feed, the issuer endpoints;
//! - [`feed`]: what gates and issuers exchange: use reports, feed entries, the gate API key;
//! - [`db`]: SQLite with the design's pragmas, embedded ordered migrations, group commit,
//!   online backups;
//! - [`offload`]: blocking work (SQLite, signing, QR, images, argon2) off the async runtime;
//! - [`i18n`]: Fluent messages in ja, en, zh-Hans, zh-Hant, ko;
//! - [`telemetry`]: tracing set-up;
//! - [`tls`]: HTTPS on a listener (`EGATE_TLS_CERT`, `EGATE_TLS_KEY`) and `serve`;
//! - [`clock`]: injectable time;
//! - [`secret_file`]: key and secret files created 0600, refused when too open;
//! - [`web`]: problem+json, JSON extraction with pointers, security headers.

pub mod clock;
pub mod db;
pub mod domain;
pub mod feed;
pub mod i18n;
pub mod issuer;
pub mod metrics;
pub mod mrz;
pub mod offload;
pub mod pg;
pub mod qr;
pub mod rules;
pub mod secret_file;
pub mod service_keys;
pub mod telemetry;
pub mod tls;
pub mod token;
pub mod web;
