//! End-to-end journeys (issue 7): the real services on port 0, fresh data directories,
//! whole passenger journeys across mobile-api, the kiosk and the gate.

mod app;
mod issuers;

pub use egate_tests::{System, Traveller, codes};
