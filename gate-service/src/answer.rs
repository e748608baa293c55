//! What a device is told about a scan: the lane and the passenger's messages, nothing
//! else. Selection reasons, watch-rule names, case ids, rules details and the declaration
//! are for the officer console only (they are in the case); an answer is built from an
//! allow-list of passenger-facing fields, so a new officer reason cannot leak by default.
//!
//! ```json
//! {"decision": "green" | "red" | "retry",
//!  "passenger_message": "…",
//!  "reasons": [{"code": "passport.mismatch", "message": "…"}],
//!  "retries_left": 2,          // retry only
//!  "scan_id": "…"}             // when the scan was stored (green, red on a genuine token)
//! ```

use crate::scan::{Decision, ScanOutcome};
use serde::Serialize;
use shared::i18n::{self, Lang};
use utoipa::ToSchema;

/// One passenger-facing reason.
#[derive(Debug, Serialize, ToSchema)]
pub struct PassengerReason {
    /// Stable code, e.g. `passport.mismatch`, `token.replayed`, `mrz.check_digit`,
    /// `token.arrival_date`, `declaration.items_to_declare`.
    pub code: String,
    /// The message for the gate display, in the `Accept-Language` language (ja, en,
    /// zh-Hans, zh-Hant, ko; English otherwise).
    pub message: String,
}

/// The answer of `POST /v1/scans` and `POST /v1/scans/image`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScanResponse {
    /// `green`: open the gate. `red`: send the passenger to the customs counter. `retry`:
    /// the passport did not read; ask for it again (the QR need not be scanned again,
    /// but the next request sends both).
    #[schema(value_type = String, example = "green")]
    pub decision: Decision,
    /// What the gate display shows: proceed, go to the counter, or place the passport on
    /// the reader again (neutral for a risk selection).
    pub passenger_message: String,
    /// Passenger-facing reasons only (empty for GREEN and for a risk selection).
    pub reasons: Vec<PassengerReason>,
    /// `retry` only: the reads of this QR this device still takes; when they misread
    /// too, the answer is `red`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, minimum = 1)]
    pub retries_left: Option<u32>,
    /// The stored scan's id, for the device's log (absent for `retry` and for a QR
    /// refused before it verified: those store no scan).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub scan_id: Option<String>,
}

/// The device's answer for a decided scan, in `lang`.
pub fn response_of(o: ScanOutcome, lang: Lang) -> ScanResponse {
    let passenger_message = i18n::t(
        lang,
        match o.decision {
            Decision::Green => "gate-proceed",
            Decision::Red => "gate-go-to-counter",
            Decision::Retry => "gate-place-passport-again",
        },
    );
    let reasons = o
        .reasons
        .iter()
        .filter(|r| r.passenger)
        .map(|r| PassengerReason {
            code: r.code.clone(),
            message: r.message(lang),
        })
        .collect();
    ScanResponse {
        decision: o.decision,
        passenger_message,
        reasons,
        retries_left: o.retries_left,
        scan_id: o.scan_id,
    }
}
