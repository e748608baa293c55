//! End-to-end journeys: the real services on port 0, fresh data directories,
//! whole passenger journeys across mobile-api, the kiosk and the gate.

mod app;
mod browser;
mod counter;
mod issuers;
mod kiosk;
mod kiosk_axe;
mod openapi;
mod phone_app;
mod phone_journey;
mod propagation;
mod scale_out;
mod spend;

pub use tests::{System, Traveller, codes, csrf_of, inline_svg, svg_qr_to_png};
