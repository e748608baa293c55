//! Payments against the assessed duty of a case, and the printable receipt.
//!
//! - **One payment per form.** The payment form carries an idempotency key made when it
//!   is rendered; a form posted twice (a double click, a resent request) records one
//!   payment and both answers lead to the same receipt. A unique index on the key backs
//!   the check made in the same write.
//! - **No overpayment by accident.** The total paid on a case cannot exceed the duty of
//!   the outcome in force; only a supervisor can record more, with a reason that is kept
//!   on the payment and in the audit log.
//! - **Payments belong to the case.** They keep the outcome in force when they were
//!   taken, but are listed and counted by case: superseding the outcome keeps them, and
//!   their receipts stay readable.

use super::Cfg;
use super::auth::Officer;
use super::cases::page::record_of;
use super::format::{fmt_time, yen};
use super::outcomes::{limited, parse_yen};
use super::page::{self, PageCtx, PageResult};
use super::store;
use crate::AppState;
use crate::error::AppError;
use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rusqlite::{OptionalExtension, params};

const METHODS: [&str; 3] = ["cash", "card", "qr_payment"];

/// A new idempotency key for a payment form.
pub fn new_form_key() -> String {
    shared::web::random_token()
}

/// Whether a posted key looks like one [`new_form_key`] makes (bounded, URL-safe).
fn valid_key(key: &str) -> bool {
    (16..=128).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A payment as the form asks to record it.
struct NewPayment {
    method: String,
    reference: String,
    amount: i64,
    key: String,
    over_duty_reason: String,
}

fn read_payment(form: &super::forms::FormData) -> Result<NewPayment, AppError> {
    let mut errors = Vec::new();
    let method = form.get("method");
    if !METHODS.contains(&method.as_str()) {
        errors.push("console-method-required".to_owned());
    }
    let reference = limited(
        form.get("reference"),
        64,
        &mut errors,
        "console-reference-too-long",
    );
    let amount = parse_yen(&form.get("amount_yen")).filter(|a| *a > 0);
    if amount.is_none() {
        errors.push("console-amount-invalid".to_owned());
    }
    let key = form.get("idempotency_key");
    if !valid_key(&key) {
        errors.push("console-payment-key-invalid".to_owned());
    }
    let over_duty_reason = limited(
        form.get("over_duty_reason"),
        500,
        &mut errors,
        "console-reason-too-long",
    );
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(NewPayment {
        method,
        reference,
        amount: amount.unwrap_or_default(),
        key,
        over_duty_reason,
    })
}

/// `POST /console/cases/{id}/payment`: a payment against the "duty assessed" outcome in
/// force; then the receipt (the same receipt for the same form posted again).
pub async fn payment(
    State(state): State<AppState>,
    officer: Officer,
    Path(id): Path<i64>,
    body: Bytes,
) -> PageResult {
    let form = officer.verified_form(&body)?;
    let p = read_payment(&form)?;
    let now = state.clock.unix();
    let oid = officer.id;
    let supervisor = officer.is_supervisor();
    let pid = state
        .db
        .write(move |c| -> Result<i64, AppError> {
            // 1. This form was recorded already: its receipt, nothing new.
            if let Some((pid, case_id)) = store::payment_by_key(c, &p.key)? {
                return if case_id == id {
                    Ok(pid)
                } else {
                    Err(AppError::Conflict("console-payment-key-reused"))
                };
            }
            // 2. Only against assessed duty in force.
            let Some((outcome, kind)) = store::current_outcome_id(c, id)? else {
                return Err(AppError::Conflict("console-payment-no-duty"));
            };
            if kind != "duty_assessed" {
                return Err(AppError::Conflict("console-payment-no-duty"));
            }
            let assessed: i64 = c
                .query_row(
                    "SELECT amount_yen FROM outcomes WHERE id = ?1",
                    [outcome],
                    |r| r.get::<_, Option<i64>>(0),
                )
                .optional()?
                .flatten()
                .unwrap_or(0);
            // 3. The total paid stays within it unless a supervisor gives a reason.
            let paid = store::paid_on_case(c, id)?;
            let total = paid.saturating_add(p.amount);
            let over = total > assessed;
            if over && !supervisor {
                return Err(AppError::Conflict("console-payment-over-duty"));
            }
            if over && p.over_duty_reason.is_empty() {
                return Err(AppError::Invalid(vec![
                    "console-payment-over-reason-required".into(),
                ]));
            }
            let reason = over.then_some(p.over_duty_reason.as_str());
            // 4. One transaction: the payment and its audit lines.
            c.execute(
                "INSERT INTO payments (outcome_id, case_id, method, reference, amount_yen,
                                       officer_id, recorded_at, idempotency_key, over_duty_reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![outcome, id, p.method, p.reference, p.amount, oid, now, p.key, reason],
            )?;
            let pid = c.last_insert_rowid();
            store::audit(
                c,
                now,
                Some(oid),
                "payment.recorded",
                Some(id),
                &format!("payment {pid}: {} yen by {}", p.amount, p.method),
            )?;
            if let Some(reason) = reason {
                store::audit(
                    c,
                    now,
                    Some(oid),
                    "payment.over_duty",
                    Some(id),
                    &format!(
                        "payment {pid}: total paid {total} yen over assessed {assessed} yen: {reason}"
                    ),
                )?;
            }
            Ok(pid)
        })
        .await?;
    Ok(page::see_other(&format!("/console/payments/{pid}/receipt")))
}

/// The printable receipt.
#[derive(Template)]
#[template(path = "console/receipt.html")]
pub struct ReceiptPage {
    /// Page context.
    pub ctx: PageCtx,
    /// Receipt number (payment id).
    pub number: i64,
    /// Case id.
    pub case_id: i64,
    /// Lines: label, value.
    pub lines: Vec<(String, String)>,
    /// Amount paid.
    pub amount: String,
}

/// `GET /console/payments/{id}/receipt`.
pub async fn receipt(
    State(state): State<AppState>,
    Extension(ctx): Extension<PageCtx>,
    Extension(cfg): Cfg,
    officer: Officer,
    Path(id): Path<i64>,
) -> PageResult {
    let (p, case) = state
        .db
        .read(move |c| -> Result<_, AppError> {
            let Some((p, case_id)) = store::payment(c, id)? else {
                return Err(AppError::NotFound);
            };
            let case = store::load_case(c, case_id)?.ok_or(AppError::NotFound)?;
            Ok((p, case))
        })
        .await?;
    let ctx = ctx.with_officer(&officer);
    let identity = record_of(&case)?.identity;
    let mut lines = vec![
        (ctx.t("console-receipt-date"), fmt_time(&cfg, p.recorded_at)),
        (ctx.t("console-case-number"), case.id.to_string()),
        (
            ctx.t("console-declaration-id"),
            case.declaration_id.clone().unwrap_or_else(|| "—".into()),
        ),
        (
            ctx.t("console-flight"),
            case.flight.clone().unwrap_or_else(|| "—".into()),
        ),
    ];
    if let Some(i) = identity {
        lines.push((
            ctx.t("console-receipt-payer"),
            format!("{} {}", i.surname, i.given_names),
        ));
    }
    lines.extend([
        (
            ctx.t("console-payment-method"),
            ctx.t(&format!("console-method-{}", p.method.replace('_', "-"))),
        ),
        (
            ctx.t("console-payment-reference"),
            if p.reference.is_empty() {
                "—".into()
            } else {
                p.reference.clone()
            },
        ),
        (ctx.t("console-receipt-officer"), p.officer_name.clone()),
    ]);
    let page = ReceiptPage {
        number: p.id,
        case_id: case.id,
        lines,
        amount: yen(p.amount_yen),
        ctx,
    };
    page::html(StatusCode::OK, &page)
}
