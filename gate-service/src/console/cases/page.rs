//! The case page: loads the case and its history, reads the full declaration from the
//! issuer, and assembles the view models the template lays out.

use super::declaration::DeclarationView;
use super::duty::{evaluate_items, items_in_force};
use super::form::{BLANK_ROWS, ItemFormRow, form_rows, with_blanks};
use super::issuer::{self, FullDeclaration};
use super::reasons::{ReasonView, reason_views};
use super::view::{
    DutyTable, OutcomeView, PaymentView, category_name, duty_table, outcome_view, payment_view,
};
use crate::AppState;
use crate::case_record::{CaseColumns, CaseIdentity, CaseRecord, CaseSummary};
use crate::console::ConsoleConfig;
use crate::console::auth::Officer;
use crate::console::format::{fmt_time, yen};
use crate::console::page::{self, PageCtx, PageResult};
use crate::console::store::{self, CaseRow};
use crate::error::AppError;
use askama::Template;
use axum::http::StatusCode;
use shared::domain::Category;

/// The case page.
#[derive(Template)]
#[template(path = "console/case.html")]
pub struct CasePage {
    /// Page context.
    pub ctx: PageCtx,
    /// CSRF token for the forms.
    pub csrf: String,
    /// Case id.
    pub id: i64,
    /// Status code (`waiting`, …).
    pub status: String,
    /// Facts about the scan and declaration: label, value.
    pub facts: Vec<(String, String)>,
    /// MRZ identity (label, value), `None` after the retention purge.
    pub identity: Option<Vec<(String, String)>>,
    /// The reasons.
    pub reasons: Vec<ReasonView>,
    /// The declaration, readable; `None` when the token did not verify.
    pub declaration: Option<DeclarationView>,
    /// Whether the issuer could be asked, and how that went.
    pub full: FullDeclaration,
    /// The estimate at the gate (`None` without an evaluation).
    pub duty: Option<DutyTable>,
    /// The recomputed estimate after the latest adjustment: when, by whom, table.
    pub adjusted: Option<(String, String, DutyTable)>,
    /// Whether the declaration summary allows line adjustments.
    pub can_adjust: bool,
    /// Adjustment form rows.
    pub rows: Vec<ItemFormRow>,
    /// Categories for the selects: code, name.
    pub categories: Vec<(String, String)>,
    /// Errors of the last adjustment post.
    pub adjust_errors: Vec<String>,
    /// Outcome history, oldest first.
    pub outcomes: Vec<OutcomeView>,
    /// The duty the outcome form proposes (current estimate).
    pub estimate: String,
    /// Whether the current outcome is "duty assessed" (payment form shown).
    pub can_pay: bool,
    /// Amount proposed for the payment.
    pub pay_amount: String,
    /// Payments.
    pub payments: Vec<PaymentView>,
    /// The payment form's idempotency key (one payment per rendered form).
    pub payment_key: String,
}

impl CasePage {
    /// Whether an outcome is recorded.
    pub fn has_outcome(&self) -> bool {
        !self.outcomes.is_empty()
    }

    /// The localised status.
    pub fn status_label(&self) -> String {
        self.ctx
            .t(&format!("console-status-{}", self.status.replace('_', "-")))
    }
}

/// A case's stored record, parsed; a record that does not parse is logged and is a 500
/// (never a page of empty cells).
pub fn record_of(case: &CaseRow) -> Result<CaseRecord, AppError> {
    CaseRecord::parse(
        case.id,
        CaseColumns {
            identity: case.identity_json.as_deref(),
            summary: case.summary_json.as_deref(),
            evaluation: case.evaluation_json.as_deref(),
            reasons: &case.reasons_json,
        },
    )
    .map_err(AppError::internal)
}

fn facts(
    ctx: &PageCtx,
    cfg: &ConsoleConfig,
    case: &CaseRow,
    summary: Option<&CaseSummary>,
) -> Vec<(String, String)> {
    let dash = |o: Option<&str>| o.unwrap_or("—").to_owned();
    vec![
        (
            ctx.t("console-case-status"),
            ctx.t(&format!("console-status-{}", case.status.replace('_', "-"))),
        ),
        (
            ctx.t("console-case-scanned"),
            fmt_time(cfg, case.scanned_at),
        ),
        (ctx.t("console-queue-opened"), fmt_time(cfg, case.opened_at)),
        (ctx.t("console-case-gate"), case.gate_id.clone()),
        (
            ctx.t("console-case-decision"),
            ctx.t(&format!("lane-{}", case.decision)),
        ),
        (
            ctx.t("console-flight"),
            dash(
                case.flight
                    .as_deref()
                    .or(summary.map(|s| s.flight.as_str())),
            ),
        ),
        (
            ctx.t("console-declaration-id"),
            dash(case.declaration_id.as_deref()),
        ),
        (
            ctx.t("console-case-revision"),
            summary.map_or_else(|| "—".into(), |s| s.revision.to_string()),
        ),
        (ctx.t("console-case-issuer"), dash(case.issuer.as_deref())),
        (
            ctx.t("console-case-profile"),
            dash(summary.map(|s| s.profile_id.as_str())),
        ),
    ]
}

fn identity_rows(ctx: &PageCtx, i: CaseIdentity) -> Vec<(String, String)> {
    vec![
        (ctx.t("console-id-surname"), i.surname),
        (ctx.t("console-id-given-names"), i.given_names),
        (ctx.t("console-id-nationality"), i.nationality),
        (ctx.t("console-id-birth-date"), i.birth_date),
        (ctx.t("console-id-sex"), i.sex),
        (ctx.t("console-id-document-number"), i.document_number),
        (ctx.t("console-id-expiry-date"), i.expiry_date),
        (ctx.t("console-id-issuing-state"), i.issuing_state),
    ]
}

/// `#2 quantity: console-adjust-row-invalid` → the key's message.
fn localise_msg(ctx: &PageCtx, m: &str) -> String {
    match m.split_once(": console-") {
        Some((head, key)) => format!("{head}: {}", ctx.t(&format!("console-{key}"))),
        None => m.to_owned(),
    }
}

/// Render the case page (also after a refused adjustment, with its rows and errors).
pub async fn render(
    state: &AppState,
    cfg: &ConsoleConfig,
    ctx: PageCtx,
    officer: &Officer,
    id: i64,
    posted: Option<(Vec<ItemFormRow>, Vec<String>)>,
    status: StatusCode,
) -> PageResult {
    // 1. The case, its outcomes, payments and latest adjustment, in one read.
    let (case, outcomes, payments, adjustment) = state
        .db
        .read(move |c| -> Result<_, AppError> {
            let case = store::load_case(c, id)?.ok_or(AppError::NotFound)?;
            Ok((
                case,
                store::outcomes_of(c, id)?,
                store::payments_of(c, id)?,
                store::latest_adjustment(c, id)?,
            ))
        })
        .await?;
    let officer_name = officer.username.clone();
    let ctx = ctx.with_officer(officer);
    let record = record_of(&case)?;
    let summary = record.summary.as_ref();
    // 2. The issuer's full declaration (never fails the page).
    let full = issuer::fetch(state, &case, &officer_name).await;

    // 3. The duty at the gate, and recomputed after the latest adjustment.
    let duty = record
        .evaluation
        .as_ref()
        .map(|e| duty_table(&ctx, &e.duty, summary.map_or(&[], |s| &s.items)));
    let items_now = summary.map(|s| items_in_force(s, adjustment.as_ref()));
    let adjusted = match (adjustment.as_ref(), summary, items_now.as_ref()) {
        (Some(a), Some(s), Some(items)) => evaluate_items(state, s, items).ok().map(|e| {
            (
                fmt_time(cfg, a.0),
                a.1.clone(),
                duty_table(&ctx, &e.duty, items),
            )
        }),
        _ => None,
    };
    let estimate_yen = adjusted
        .as_ref()
        .map(|a| a.2.total_yen)
        .or(duty.as_ref().map(|d| d.total_yen))
        .unwrap_or(0);
    let (rows, adjust_errors) = match posted {
        Some((mut rows, errs)) => {
            with_blanks(&mut rows, BLANK_ROWS);
            (rows, errs.iter().map(|e| localise_msg(&ctx, e)).collect())
        }
        None => (
            form_rows(items_now.as_deref().unwrap_or(&[]), BLANK_ROWS),
            Vec::new(),
        ),
    };

    // 4. Outcomes and payments: what is in force and what is left to pay.
    let current_row = store::current_outcome(&outcomes).cloned();
    let current = current_row.as_ref().map(|o| o.id);
    // Payments belong to the case: what was paid under a superseded outcome counts.
    let paid: i64 = payments.iter().map(|p| p.amount_yen).sum();
    let pay_amount = current_row
        .as_ref()
        .and_then(|o| o.amount_yen)
        .map(|a| (a - paid).max(0).to_string())
        .unwrap_or_default();

    let page = CasePage {
        csrf: officer.csrf.clone(),
        id: case.id,
        status: case.status.clone(),
        facts: facts(&ctx, cfg, &case, summary),
        identity: record.identity.clone().map(|i| identity_rows(&ctx, i)),
        reasons: reason_views(&ctx, &record.reasons),
        declaration: DeclarationView::build(&ctx, &full, summary),
        full,
        duty,
        adjusted,
        can_adjust: summary.is_some() && case.status != "closed",
        rows,
        categories: Category::ALL
            .iter()
            .map(|c| (c.code().to_owned(), category_name(ctx.lang, c.code())))
            .collect(),
        adjust_errors,
        outcomes: outcomes
            .iter()
            .map(|o| outcome_view(&ctx, cfg, o, current == Some(o.id)))
            .collect(),
        estimate: yen(estimate_yen as i64),
        can_pay: current_row
            .as_ref()
            .is_some_and(|o| o.kind == "duty_assessed"),
        pay_amount,
        payments: payments
            .iter()
            .map(|p| payment_view(&ctx, cfg, p))
            .collect(),
        payment_key: crate::console::payments::new_form_key(),
        ctx,
    };
    page::html(status, &page)
}
