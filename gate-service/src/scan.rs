//! The scan decision: token → arrival date → passport MRZ → one-time use → passport
//! binding → passport expiry → rules re-applied → risk selection → GREEN, RED or RETRY,
//! stored in one write (docs/flows.md).
//!
//! Decisions (each step's failure is a reason, never an error):
//! - a QR refused before its token verifies (malformed, forged, unknown key, expired…)
//!   is RED and counted in the refused-scan log, per device and hour: no scan row, no
//!   case, nothing consumed ([`crate::attempts`]);
//! - a genuine token with a misread passport (check digit, malformed MRZ) is RETRY,
//!   nothing stored but the misread; the [`MAX_READS`]-th misread of the token at the
//!   same device is RED with a case;
//! - a genuine token with another person's passport is RED `passport.mismatch` with a
//!   case, and the token is not consumed; from the second such scan (any devices) the
//!   case carries the officer-only `alert.stolen_qr`;
//! - otherwise GREEN or RED as the rules and selection say, and the token is consumed
//!   (one-time use recorded, use report queued): only the passenger it was issued for
//!   spends it.
//!
//! A GREEN scan stores no MRZ data and no name; a RED case keeps the MRZ identity for the
//! officer until the retention purge. What the device is told is in [`crate::routes`]:
//! the lane and the passenger's messages, never officer reasons or case ids.

use crate::AppState;
pub use crate::attempts::MAX_READS;
use crate::attempts::{self, Attempt, MISMATCH_ALERT_AT};
use crate::case_record::{
    Audience, CaseEvaluation, CaseIdentity, CaseReason, CaseSummary, to_json,
};
use crate::error::AppError;
use base64::Engine as _;
use rusqlite::OptionalExtension as _;
use serde::Serialize;
use serde_json::{Value, json};
use shared::i18n::Lang;
use shared::rules::{self, Lane};
use shared::token::{self, Verified, VerifyOptions};
use std::time::Instant;

mod reasons;
pub use reasons::{GateReason, message};

/// Where the QR text came from.
#[derive(Debug, Clone)]
pub enum QrInput {
    /// Text as scanned (never trimmed).
    Text(String),
    /// A camera image in which no QR code could be read.
    Unreadable,
}

/// A scan to decide.
#[derive(Debug, Clone)]
pub struct ScanInput {
    /// The QR.
    pub qr: QrInput,
    /// The two MRZ lines.
    pub mrz: String,
    /// The gate.
    pub gate_id: String,
}

/// What the gate answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The gate opens.
    Green,
    /// The red-lane counter.
    Red,
    /// Read the passport again (a misread MRZ; nothing consumed, no case).
    Retry,
}

impl Decision {
    /// `green`, `red` or `retry`.
    pub fn code(self) -> &'static str {
        match self {
            Decision::Green => "green",
            Decision::Red => "red",
            Decision::Retry => "retry",
        }
    }
}

/// A decided scan.
#[derive(Debug, Clone)]
pub struct ScanOutcome {
    /// The scan row's id; `None` when nothing was stored as a scan (RETRY, refused).
    pub scan_id: Option<String>,
    /// GREEN, RED or RETRY.
    pub decision: Decision,
    /// Every reason, passenger and officer ones.
    pub reasons: Vec<GateReason>,
    /// The red-lane case, when RED on a verified token.
    pub case_id: Option<i64>,
    /// Whether the scan recorded a first use that its issuer should hear of.
    pub use_to_report: bool,
    /// RETRY: the reads of this token this device still takes before it answers RED.
    pub retries_left: Option<u32>,
    /// Whether the token was refused before it verified (counted, no case).
    pub refused: bool,
}

/// What the token said, for the scan record.
#[derive(Debug, Clone)]
struct TokenFacts {
    cti: [u8; 16],
    exp: i64,
    declaration_id: String,
    revision: u32,
    issuer: String,
    kid: String,
    flight: String,
    arrival_date: String,
    profile_id: String,
    /// Whether the issuer takes use reports (it has a URL).
    reportable: bool,
}

/// A decided scan waiting for its write.
struct Pending {
    scan_id: String,
    gate_id: String,
    now: i64,
    reasons: Vec<GateReason>,
    token: Option<TokenFacts>,
    identity_json: Option<String>,
    case_detail: CaseDetail,
    started: Instant,
    /// The passport's MRZ did not read (its reason is in `reasons`).
    misread: bool,
    /// The passport read and is not the declaring passenger's.
    mismatch: bool,
}

/// The declaration summary and evaluation JSON of a case: serialised before the write
/// when the scan is already RED, else only if the write finds a replay or revocation
/// (GREEN scans, the common case, never pay for it).
enum CaseDetail {
    None,
    Ready(Option<String>, Option<String>),
    Deferred(Box<(Verified, rules::Evaluation)>),
}

impl CaseDetail {
    fn into_json(self) -> (Option<String>, Option<String>) {
        match self {
            CaseDetail::None => (None, None),
            CaseDetail::Ready(s, e) => (s, e),
            CaseDetail::Deferred(b) => {
                let (v, eval) = *b;
                (Some(summary_json(&v)), Some(evaluation_json(&eval)))
            }
        }
    }
}

fn summary_json(v: &Verified) -> String {
    to_json(&CaseSummary::from_token(&v.claims.summary))
}

fn evaluation_json(eval: &rules::Evaluation) -> String {
    to_json(&CaseEvaluation::from(eval))
}

fn rules_reasons(eval: &rules::Evaluation) -> Value {
    Value::Array(
        eval.reasons
            .iter()
            .map(|r| json!({ "code": r.code, "args": r.args, "message": r.message(Lang::En) }))
            .collect(),
    )
}

/// Whether a token's arrival date is yesterday, today or tomorrow in the rules profile's
/// time zone (a declaration is for one arrival; a day either side absorbs delays and
/// flights that land around midnight).
pub fn arrival_date_current(
    profile: &rules::RulesProfile,
    now: time::OffsetDateTime,
    arrival: time::Date,
) -> bool {
    let today = now.to_offset(profile.utc_offset()).date();
    let days = (arrival - today).whole_days();
    (-1..=1).contains(&days)
}

/// Decide a scan (CPU only, no await) and produce the record to write.
fn decide(state: &AppState, input: ScanInput, started: Instant) -> Pending {
    let now_dt = state.clock.now();
    let now = now_dt.unix_timestamp();
    let today = now_dt.date();
    let mut p = Pending {
        scan_id: shared::web::random_token(),
        gate_id: input.gate_id,
        now,
        reasons: Vec::new(),
        token: None,
        identity_json: None,
        case_detail: CaseDetail::None,
        started,
        misread: false,
        mismatch: false,
    };
    // 1. The token, verified (signature, issuer, expiry with skew, key expiry). A refusal
    //    here is counted, not stored as a scan: `p.token` stays `None`.
    let text = match input.qr {
        QrInput::Text(t) => t,
        QrInput::Unreadable => {
            p.reasons.push(GateReason::passenger("qr.unreadable"));
            return p;
        }
    };
    let trust = state.trust.current();
    let opts = VerifyOptions {
        now,
        skew_secs: state.config.skew_secs,
    };
    let verified = match token::decode_and_verify(&text, &trust, opts) {
        Ok(v) => v,
        Err(e) => {
            p.reasons.push(GateReason::passenger(e.reason_code()));
            return p;
        }
    };
    let summary = &verified.claims.summary;
    p.token = Some(TokenFacts {
        cti: verified.claims.cti,
        exp: verified.claims.exp,
        declaration_id: summary.declaration_id.clone(),
        revision: summary.revision,
        issuer: verified.claims.iss.clone(),
        kid: verified.kid.to_base64(),
        flight: summary.flight.clone(),
        arrival_date: shared::domain::format_date(summary.arrival_date),
        profile_id: summary.profile_id.clone(),
        reportable: state
            .issuers
            .iter()
            .any(|i| i.id == verified.claims.iss && i.internal_url.is_some()),
    });
    // A gate on a restored backup does not know the uses it lost until the issuers'
    // feeds are pulled again: a token issued before the restore waits for them.
    if state.restore.holds(verified.claims.iat) {
        p.reasons
            .push(GateReason::passenger("gate.restore_unconfirmed"));
    }
    // 2. The arrival date: this arrival, give or take a day, in the profile's time zone.
    if !arrival_date_current(&state.profile, now_dt, summary.arrival_date) {
        p.reasons.push(GateReason::passenger("token.arrival_date"));
    }
    // 3. The passport. A misread is not a decision yet: the write counts it and answers
    //    RETRY until the read limit (one-time use and revocation are checked there too).
    let eval = rules::evaluate(&state.profile, &summary.declared);
    let td3 = match shared::mrz::parse_td3(&input.mrz, today) {
        Ok(t) => t,
        Err(e) => {
            p.reasons.push(GateReason::passenger(e.reason_code()));
            p.misread = true;
            p.case_detail = CaseDetail::Deferred(Box::new((verified, eval)));
            return p;
        }
    };
    p.identity_json = Some(to_json(&CaseIdentity::from_mrz(&td3)));
    // 4. The binding: only the declaring passenger's passport spends the token.
    let binding = state
        .binding_key
        .bind(&td3.nationality, &td3.document_number, td3.birth_date);
    if !shared::web::ct_eq(&binding, &summary.binding) {
        p.reasons.push(GateReason::passenger("passport.mismatch"));
        p.mismatch = true;
    }
    // 5. The passport's validity.
    if td3.is_expired(today) {
        p.reasons.push(GateReason::passenger("passport.expired"));
    }
    // 6. The rules, as the gate's profile has them.
    if state.profile.id != summary.profile_id {
        p.reasons.push(GateReason {
            red: false,
            ..GateReason::officer(
                "rules.profile_differs",
                None,
                Some(json!({ "gate_profile": state.profile.id, "issuer_profile": summary.profile_id })),
            )
        });
    }
    if eval.lane == Lane::Red {
        p.reasons.push(GateReason {
            detail: Some(rules_reasons(&eval)),
            ..GateReason::passenger("declaration.items_to_declare")
        });
    }
    // 7. Risk selection (officer only).
    p.reasons.extend(
        state
            .selection
            .select(&verified.claims.cti, &binding, &summary.flight),
    );
    p.case_detail = if p.reasons.iter().any(|r| r.red) {
        CaseDetail::Ready(Some(summary_json(&verified)), Some(evaluation_json(&eval)))
    } else {
        CaseDetail::Deferred(Box::new((verified, eval)))
    };
    p
}

/// A refused token's write: one more in the device's hourly count, nothing else.
fn store_refused(
    conn: &rusqlite::Connection,
    p: Pending,
) -> Result<ScanOutcome, shared::db::DbError> {
    let reason = p
        .reasons
        .first()
        .map_or("token.malformed", |r| r.code.as_str());
    attempts::count_refused(conn, &p.gate_id, p.now, reason)?;
    Ok(ScanOutcome {
        scan_id: None,
        decision: Decision::Red,
        reasons: p.reasons,
        case_id: None,
        use_to_report: false,
        retries_left: None,
        refused: true,
    })
}

/// The scan's write: one-time use and revocation checked, a misread or a mismatch
/// counted, then (unless RETRY) the scan row, the used-token row (only when the token's
/// own passenger presented it) and (RED) the case, in one transaction.
fn store(conn: &rusqlite::Connection, mut p: Pending) -> Result<ScanOutcome, shared::db::DbError> {
    let Some(t) = p.token.as_ref() else {
        return store_refused(conn, p);
    };
    let mut pre = Vec::new();
    let used: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM used_tokens WHERE issuer = ?1 AND cti = ?2")?
        .query_row((&t.issuer, &t.cti[..]), |r| r.get(0))
        .optional()?;
    if used.is_some() {
        pre.push(GateReason::passenger("token.replayed"));
    }
    let revoked: Option<String> = conn
        .prepare_cached("SELECT reason FROM revoked_tokens WHERE issuer = ?1 AND cti = ?2")?
        .query_row((&t.issuer, &t.cti[..]), |r| r.get(0))
        .optional()?;
    match revoked.as_deref() {
        // Used at this or another gate, as the issuer's feed says.
        Some(shared::feed::REASON_USED) if used.is_none() => {
            pre.push(GateReason::passenger("token.replayed"));
        }
        Some(shared::feed::REASON_USED) | None => {}
        Some(_) => pre.push(GateReason::passenger("token.superseded")),
    }
    let spent = !pre.is_empty();
    if spent {
        pre.append(&mut p.reasons);
        p.reasons = pre;
    }
    if p.misread {
        let misreads = attempts::record(conn, &t.cti, &p.gate_id, p.now, t.exp, Attempt::Misread)?;
        // Read again only when the passport is all that stands between the passenger and
        // a decision: a token already RED for another reason (arrival date, restore)
        // goes to the counter now.
        let red_anyway = p
            .reasons
            .iter()
            .any(|r| r.red && !r.code.starts_with("mrz."));
        if !spent && !red_anyway && misreads < MAX_READS {
            return Ok(ScanOutcome {
                scan_id: None,
                decision: Decision::Retry,
                reasons: p.reasons,
                case_id: None,
                use_to_report: false,
                retries_left: Some(MAX_READS - misreads),
                refused: false,
            });
        }
        if let Some(r) = p.reasons.iter_mut().find(|r| r.code.starts_with("mrz.")) {
            r.detail = Some(json!({ "misreads_at_this_gate": misreads }));
        }
    }
    if p.mismatch {
        let mismatches =
            attempts::record(conn, &t.cti, &p.gate_id, p.now, t.exp, Attempt::Mismatch)?;
        if mismatches >= MISMATCH_ALERT_AT {
            p.reasons.push(GateReason::officer(
                "alert.stolen_qr",
                None,
                Some(json!({ "mismatches": mismatches })),
            ));
        }
    }
    let red = p.reasons.iter().any(|r| r.red);
    let decision = if red { Lane::Red } else { Lane::Green };
    let codes: Vec<&str> = p.reasons.iter().map(|r| r.code.as_str()).collect();
    let codes_json = serde_json::to_string(&codes).unwrap_or_else(|_| "[]".into());
    let duration_us = i64::try_from(p.started.elapsed().as_micros()).unwrap_or(i64::MAX);
    conn.prepare_cached(
        "INSERT INTO scans (id, gate_id, scanned_at, decision, reasons, declaration_id, revision,
            issuer, kid, cti, flight, arrival_date, profile_id, duration_us)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(rusqlite::params![
        p.scan_id,
        p.gate_id,
        p.now,
        decision.code(),
        codes_json,
        t.declaration_id,
        t.revision,
        t.issuer,
        t.kid,
        &t.cti[..],
        t.flight,
        t.arrival_date,
        t.profile_id,
        duration_us,
    ])?;
    // Spend only on success: the token's own passenger, read, with a token not used yet.
    let mut use_to_report = false;
    let consumes =
        !p.misread && !p.mismatch && !p.reasons.iter().any(|r| r.code == "token.replayed");
    if consumes {
        // `reported_at` NULL is the outbox of use reports; an issuer without a URL
        // cannot take reports, so its uses are born reported.
        let reported_at = (!t.reportable).then_some(p.now);
        conn.prepare_cached(
            "INSERT INTO used_tokens (cti, scan_id, used_at, exp, issuer, reported_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(rusqlite::params![
            &t.cti[..],
            p.scan_id,
            p.now,
            t.exp,
            t.issuer,
            reported_at
        ])?;
        use_to_report = t.reportable;
    }
    let mut case_id = None;
    if red {
        let reasons: Vec<CaseReason> = p
            .reasons
            .iter()
            .map(|r| CaseReason {
                code: r.code.clone(),
                audience: if r.passenger {
                    Audience::Passenger
                } else {
                    Audience::Officer
                },
                message_en: r.message(Lang::En),
                rule: r.rule.clone(),
                detail: r.detail.clone(),
            })
            .collect();
        let reasons_json = to_json(&reasons);
        let (summary_json, evaluation_json) =
            std::mem::replace(&mut p.case_detail, CaseDetail::None).into_json();
        conn.prepare_cached(
            "INSERT INTO cases (scan_id, opened_at, flight, declaration_id, issuer, summary_json,
                evaluation_json, reasons_json, identity_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(rusqlite::params![
            p.scan_id,
            p.now,
            t.flight,
            t.declaration_id,
            t.issuer,
            summary_json,
            evaluation_json,
            reasons_json,
            p.identity_json,
        ])?;
        case_id = Some(conn.last_insert_rowid());
    }
    Ok(ScanOutcome {
        scan_id: Some(p.scan_id),
        decision: if red { Decision::Red } else { Decision::Green },
        reasons: p.reasons,
        case_id,
        use_to_report,
        retries_left: None,
        refused: false,
    })
}

/// Decide and store a scan. Errors are storage failures only (5xx); every problem with
/// the QR or the passport is a RED decision.
pub async fn run_scan(state: &AppState, input: ScanInput) -> Result<ScanOutcome, AppError> {
    let started = Instant::now();
    let pending = decide(state, input, started);
    let outcome = state.db.write(move |conn| store(conn, pending)).await?;
    // A case is a presentation to report too (crate::presentations).
    if outcome.use_to_report || outcome.case_id.is_some() {
        state.reporter.wake();
    }
    state.metrics.record(&outcome, started.elapsed());
    Ok(outcome)
}

/// The cti as standard base64 (logs of revocations, tests).
pub fn cti_base64(cti: &[u8; 16]) -> String {
    base64::engine::general_purpose::STANDARD.encode(cti)
}

#[cfg(test)]
mod tests;
