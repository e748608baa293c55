//! The issuer role, written once for every service that signs declaration QRs
//! (mobile-api, the kiosk): what a token says, how long it lives, where issuances and
//! the revocation feed are kept, and the endpoints gates pull from.
//!
//! - [`policy`]: the token policy: grace after the arrival date, longest validity, and
//!   the time zone the arrival date is counted in (from the rules profile);
//! - [`claims`]: the claims of a token, assembled from a validated declaration;
//! - [`signing`]: [`Issuer`], the key ring and passport-binding key that sign them;
//! - [`store`]: [`IssuerStore`], the issued tokens and the revocation feed (SQLite or
//!   PostgreSQL, one interface);
//! - [`pg`]: the same tables on PostgreSQL, with feed positions assigned at commit;
//! - [`feed_wait`]: long polling of the feed (a gate's request held until a new entry
//!   is committed);
//! - [`presentations`]: which gate case may read which declaration, and the audit of
//!   every read;
//! - [`routes`]: the issuer endpoints, public (`GET /v1/trust-list`,
//!   `GET /v1/revocations`) and internal (`POST /v1/internal/uses`,
//!   `POST /v1/internal/presentations`), with their OpenAPI docs;
//! - [`schemas`]: the OpenAPI shapes those endpoints document.
//!
//! Decisions fixed here:
//! - a service keeps only what differs: its forms, its declaration store, its UI. It
//!   mounts [`routes::router`] and writes its declaration rows in the same transaction
//!   as [`store`]'s token rows (the store's functions take a connection for that).
//! - the issuer id (`iss`) and key directory are the service's configuration; the
//!   policy's figures are configuration too (`EGATE_TOKEN_*`) except the time zone,
//!   which is the rules profile's: the rules are data, and so is the country's clock.
//! - a retired key is published for the longest validity after its retirement: no
//!   token it signed can outlive that (see [`policy::Validity::key_publish_secs`]).
//! - the wire types gates and issuers exchange (use and presentation reports, feed
//!   entries) stay in [`crate::feed`], the per-purpose keys in [`crate::service_keys`]:
//!   the gate reads them too, without being an issuer.

pub mod claims;
pub mod feed_wait;
pub mod pg;
pub mod policy;
pub mod presentations;
pub mod routes;
pub mod schemas;
pub mod signing;
pub mod store;
#[cfg(test)]
mod store_tests;

pub use claims::TokenRequest;
pub use policy::{TokenPolicy, Validity, ValidityError};
pub use routes::{IssuerEndpoints, IssuerError};
pub use signing::{IssueError, Issued, Issuer};
pub use store::IssuerStore;
