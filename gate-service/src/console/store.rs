//! The console's reads and writes over the gate's `scans`/`cases` and its own tables.
//! The case record's JSON columns are parsed by `crate::case_record`.

use rusqlite::{Connection, OptionalExtension, params};

/// Append a line to the audit log (append-only: triggers refuse UPDATE and DELETE).
pub fn audit(
    c: &Connection,
    at: i64,
    officer_id: Option<i64>,
    action: &str,
    case_id: Option<i64>,
    detail: &str,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO audit_log (at, officer_id, action, case_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![at, officer_id, action, case_id, detail],
    )?;
    Ok(())
}

/// A case with the scan that opened it.
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub id: i64,
    pub opened_at: i64,
    pub status: String,
    pub flight: Option<String>,
    pub declaration_id: Option<String>,
    pub issuer: Option<String>,
    pub summary_json: Option<String>,
    pub evaluation_json: Option<String>,
    pub reasons_json: String,
    pub identity_json: Option<String>,
    pub gate_id: String,
    pub scanned_at: i64,
    pub decision: String,
}

/// Load one case.
pub fn load_case(c: &Connection, id: i64) -> rusqlite::Result<Option<CaseRow>> {
    c.query_row(
        "SELECT c.id, c.opened_at, c.status, c.flight, c.declaration_id, c.issuer, c.summary_json,
                c.evaluation_json, c.reasons_json, c.identity_json,
                s.gate_id, s.scanned_at, s.decision
         FROM cases c JOIN scans s ON s.id = c.scan_id WHERE c.id = ?1",
        [id],
        |r| {
            Ok(CaseRow {
                id: r.get(0)?,
                opened_at: r.get(1)?,
                status: r.get(2)?,
                flight: r.get(3)?,
                declaration_id: r.get(4)?,
                issuer: r.get(5)?,
                summary_json: r.get(6)?,
                evaluation_json: r.get(7)?,
                reasons_json: r.get(8)?,
                identity_json: r.get(9)?,
                gate_id: r.get(10)?,
                scanned_at: r.get(11)?,
                decision: r.get(12)?,
            })
        },
    )
    .optional()
}

/// One recorded outcome.
#[derive(Debug, Clone)]
pub struct OutcomeRow {
    pub id: i64,
    pub kind: String,
    pub amount_yen: Option<i64>,
    pub amount_source: Option<String>,
    pub amount_reason: Option<String>,
    pub note: String,
    pub officer_name: String,
    pub recorded_at: i64,
    pub supersedes_id: Option<i64>,
    pub supersede_reason: Option<String>,
}

/// Every outcome of a case, oldest first.
pub fn outcomes_of(c: &Connection, case_id: i64) -> rusqlite::Result<Vec<OutcomeRow>> {
    let mut st = c.prepare(
        "SELECT o.id, o.kind, o.amount_yen, o.amount_source, o.amount_reason, o.note,
                f.display_name, o.recorded_at, o.supersedes_id, o.supersede_reason
         FROM outcomes o JOIN officers f ON f.id = o.officer_id
         WHERE o.case_id = ?1 ORDER BY o.id",
    )?;
    let rows = st.query_map([case_id], |r| {
        Ok(OutcomeRow {
            id: r.get(0)?,
            kind: r.get(1)?,
            amount_yen: r.get(2)?,
            amount_source: r.get(3)?,
            amount_reason: r.get(4)?,
            note: r.get(5)?,
            officer_name: r.get(6)?,
            recorded_at: r.get(7)?,
            supersedes_id: r.get(8)?,
            supersede_reason: r.get(9)?,
        })
    })?;
    rows.collect()
}

/// The outcome in force: the one no other outcome supersedes.
pub fn current_outcome(list: &[OutcomeRow]) -> Option<&OutcomeRow> {
    list.iter()
        .rev()
        .find(|o| !list.iter().any(|n| n.supersedes_id == Some(o.id)))
}

/// The id of the outcome in force for a case (inside a write transaction).
pub fn current_outcome_id(c: &Connection, case_id: i64) -> rusqlite::Result<Option<(i64, String)>> {
    c.query_row(
        "SELECT o.id, o.kind FROM outcomes o WHERE o.case_id = ?1
           AND NOT EXISTS (SELECT 1 FROM outcomes n WHERE n.supersedes_id = o.id)
         ORDER BY o.id DESC LIMIT 1",
        [case_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// One payment record.
#[derive(Debug, Clone)]
pub struct PaymentRow {
    pub id: i64,
    pub outcome_id: i64,
    pub method: String,
    pub reference: String,
    pub amount_yen: i64,
    pub officer_name: String,
    pub recorded_at: i64,
}

fn payment_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PaymentRow> {
    Ok(PaymentRow {
        id: r.get(0)?,
        outcome_id: r.get(1)?,
        method: r.get(2)?,
        reference: r.get(3)?,
        amount_yen: r.get(4)?,
        officer_name: r.get(5)?,
        recorded_at: r.get(6)?,
    })
}

const PAYMENT_COLS: &str =
    "p.id, p.outcome_id, p.method, p.reference, p.amount_yen, f.display_name, p.recorded_at";

/// Every payment of a case, oldest first. Payments reference their case, so a superseded
/// outcome keeps the payments taken under it.
pub fn payments_of(c: &Connection, case_id: i64) -> rusqlite::Result<Vec<PaymentRow>> {
    let sql = format!(
        "SELECT {PAYMENT_COLS} FROM payments p
         JOIN officers f ON f.id = p.officer_id WHERE p.case_id = ?1 ORDER BY p.id"
    );
    let mut st = c.prepare(&sql)?;
    let rows = st.query_map([case_id], payment_from_row)?;
    rows.collect()
}

/// One payment and its case id.
pub fn payment(c: &Connection, id: i64) -> rusqlite::Result<Option<(PaymentRow, i64)>> {
    let sql = format!(
        "SELECT {PAYMENT_COLS}, p.case_id FROM payments p
         JOIN officers f ON f.id = p.officer_id WHERE p.id = ?1"
    );
    c.query_row(&sql, [id], |r| Ok((payment_from_row(r)?, r.get(7)?)))
        .optional()
}

/// The total paid on a case, yen.
pub fn paid_on_case(c: &Connection, case_id: i64) -> rusqlite::Result<i64> {
    c.query_row(
        "SELECT coalesce(sum(amount_yen), 0) FROM payments WHERE case_id = ?1",
        [case_id],
        |r| r.get(0),
    )
}

/// The payment recorded under an idempotency key, with its case id.
pub fn payment_by_key(c: &Connection, key: &str) -> rusqlite::Result<Option<(i64, i64)>> {
    c.query_row(
        "SELECT id, case_id FROM payments WHERE idempotency_key = ?1",
        [key],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// The latest line adjustment of a case: when, by whom, the items (JSON).
pub fn latest_adjustment(
    c: &Connection,
    case_id: i64,
) -> rusqlite::Result<Option<super::cases::duty::Adjustment>> {
    c.query_row(
        "SELECT a.at, f.display_name, a.items_json FROM case_adjustments a
         JOIN officers f ON f.id = a.officer_id WHERE a.case_id = ?1 ORDER BY a.id DESC LIMIT 1",
        [case_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()
}

/// Reason codes of a scan (`scans.reasons`, a JSON array of codes).
pub fn reason_codes(json: &str) -> Vec<String> {
    serde_json::from_str::<Vec<serde_json::Value>>(json)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| match v {
            serde_json::Value::String(s) => Some(s),
            serde_json::Value::Object(m) => {
                m.get("code").and_then(|c| c.as_str()).map(str::to_owned)
            }
            _ => None,
        })
        .collect()
}
