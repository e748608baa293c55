//! The case page: what the scan knew, the identity read at the gate, the reasons, the
//! full declaration from the issuer when reachable, the duty estimate line by line, the
//! officer's line adjustments with the recomputed duty, the outcome history and payments.

use super::auth::Officer;
use super::page::{self, Cfg, ConsoleError, FormData, PageCtx, PageResult, fmt_time, yen};
use super::store::{self, CaseReason, CaseRow, DutyView, EvalView, IdentityView, SummaryView};
use super::{ConsoleConfig, outcomes};
use crate::AppState;
use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rusqlite::params;
use shared::domain::{Category, ItemInput, ValidationErrors};
use shared::i18n::Lang;
use std::time::Duration;

/// A row of a duty table.
#[derive(Debug, Clone)]
pub struct DutyRow {
    /// 1-based item number.
    pub no: usize,
    /// Category name.
    pub category: String,
    /// Quantity as declared (`2 × 750 ml`).
    pub quantity: String,
    /// Value in yen.
    pub value: String,
    /// Free / dutiable / officer assesses.
    pub treatment: String,
    /// Rate and base when dutiable.
    pub rate: String,
    /// Duty on the line.
    pub duty: String,
}

/// A duty table with its total.
#[derive(Debug, Clone, Default)]
pub struct DutyTable {
    /// Lines.
    pub rows: Vec<DutyRow>,
    /// Total duty.
    pub total: String,
    /// Total, whole yen.
    pub total_yen: u64,
    /// Whether an officer must assess some line.
    pub assessment_needed: bool,
    /// `¥used of ¥total` of the other-goods allowance.
    pub allowance: String,
}

/// One editable item line of the adjustment form.
#[derive(Debug, Clone, Default)]
pub struct ItemFormRow {
    /// Row index in the form.
    pub idx: usize,
    /// Category code (empty for a blank row).
    pub category: String,
    /// Units.
    pub quantity: String,
    /// ml per unit.
    pub volume_ml: String,
    /// g per unit.
    pub weight_g: String,
    /// Value of the line.
    pub amount: String,
    /// Currency code.
    pub currency: String,
    /// For a child under 6.
    pub for_child: bool,
}

/// The full declaration fetched from its issuer.
#[derive(Debug, Clone)]
pub enum FullDeclaration {
    /// The issuer has no URL in the configuration (or the case has no declaration id).
    NotAvailable,
    /// The issuer did not answer 200 within 2 s.
    Unreachable,
    /// Flattened fields: path and value.
    Fields(Vec<(String, String)>),
}

/// An outcome in the history.
#[derive(Debug, Clone)]
pub struct OutcomeView {
    /// Outcome id.
    pub id: i64,
    /// Localised kind.
    pub kind: String,
    /// Amount and how it was set, when duty was assessed.
    pub amount: String,
    /// Officer's note.
    pub note: String,
    /// Who recorded it.
    pub officer: String,
    /// When.
    pub at: String,
    /// The outcome it supersedes and why.
    pub supersedes: Option<(i64, String)>,
    /// Whether this is the outcome in force.
    pub current: bool,
}

/// A payment in the list.
#[derive(Debug, Clone)]
pub struct PaymentView {
    /// Payment id (receipt link).
    pub id: i64,
    /// Localised method.
    pub method: String,
    /// Amount.
    pub amount: String,
    /// When.
    pub at: String,
}

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
    /// Party and answers: label, value.
    pub declared: Vec<(String, String)>,
    /// MRZ identity (label, value), `None` after the retention purge.
    pub identity: Option<Vec<(String, String)>>,
    /// Reasons: code, audience, message, detail lines (rules that fired, risk rule).
    pub reasons: Vec<(String, String, String, Vec<String>)>,
    /// The estimate at the gate.
    pub duty: DutyTable,
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
    /// From the issuer.
    pub full: FullDeclaration,
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

/// The localised name of a category code.
pub fn category_name(lang: Lang, code: &str) -> String {
    shared::i18n::t(lang, &format!("category-{}", code.replace('_', "-")))
}

/// A duty table from an evaluation and the items it judged.
pub fn duty_table(ctx: &PageCtx, eval: &DutyView, items: &[ItemInput]) -> DutyTable {
    let rows = eval
        .lines
        .iter()
        .map(|l| {
            let item = items.get(l.item);
            let quantity = match item {
                Some(i) => match (i.volume_ml, i.weight_g) {
                    (Some(v), _) => format!("{} × {v} ml", i.quantity),
                    (_, Some(w)) => format!("{} × {w} g", i.quantity),
                    _ => i.quantity.to_string(),
                },
                None => l.quantity_total.to_string(),
            };
            let t = &l.treatment;
            let (treatment, rate) = match t.kind.as_str() {
                "dutiable" => (
                    ctx.t("treatment-dutiable"),
                    format!(
                        "{} × {}",
                        t.rate.clone().unwrap_or_default(),
                        t.base.clone().unwrap_or_default()
                    ),
                ),
                _ => (
                    ctx.t(&format!(
                        "treatment-{}",
                        t.why.clone().unwrap_or_default().replace('_', "-")
                    )),
                    String::new(),
                ),
            };
            DutyRow {
                no: l.item + 1,
                category: category_name(ctx.lang, &l.category),
                quantity,
                value: yen(l.value_yen as i64),
                treatment,
                rate,
                duty: yen(t.duty_yen.unwrap_or(0) as i64),
            }
        })
        .collect();
    DutyTable {
        rows,
        total: yen(eval.total_yen as i64),
        total_yen: eval.total_yen,
        assessment_needed: eval.officer_assessment_needed,
        allowance: format!(
            "{} / {}",
            yen(eval.allowance_used_yen as i64),
            yen(eval.allowance_total_yen as i64)
        ),
    }
}

/// Evaluate `items` for the party and answers of `summary` under the active profile.
pub fn evaluate_items(
    state: &AppState,
    summary: &SummaryView,
    items: &[ItemInput],
) -> Result<EvalView, Vec<String>> {
    let party = summary.party.unwrap_or_default();
    let answers = summary.answers.unwrap_or_default();
    let mut errs = ValidationErrors::default();
    let declared = shared::domain::validate_declared(&party, &answers, items, "", &mut errs);
    let declared = match declared {
        Some(d) if errs.is_empty() => d,
        _ => return Err(field_messages(&errs)),
    };
    if let Err(e) = state.profile.check_declared(&declared, "") {
        return Err(field_messages(&e));
    }
    let eval = shared::rules::evaluate(&state.profile, &declared);
    serde_json::to_value(&eval)
        .and_then(serde_json::from_value)
        .map_err(|e| vec![e.to_string()])
}

fn field_messages(errs: &ValidationErrors) -> Vec<String> {
    errs.0
        .iter()
        .map(|e| {
            // `/items/3/quantity` → `line 4 quantity`.
            let mut parts = e.pointer.trim_start_matches('/').split('/');
            let label = match (
                parts.next(),
                parts.next().and_then(|n| n.parse::<usize>().ok()),
            ) {
                (Some("items"), Some(n)) => {
                    let rest: Vec<&str> = parts.collect();
                    format!("#{} {}", n + 1, rest.join("."))
                }
                _ => e.pointer.clone(),
            };
            format!("{label}: {}", e.detail)
        })
        .collect()
}

/// The items in force for a case: the latest adjustment, else the summary's.
pub fn items_in_force(
    summary: &SummaryView,
    adjustment: Option<&(i64, String, String)>,
) -> Vec<ItemInput> {
    adjustment
        .and_then(|(_, _, json)| serde_json::from_str(json).ok())
        .unwrap_or_else(|| summary.items.clone())
}

/// The duty estimate in force: recomputed from the latest adjustment, else the gate's.
pub fn estimate_in_force(
    state: &AppState,
    summary: &SummaryView,
    eval: &EvalView,
    adjustment: Option<&(i64, String, String)>,
) -> u64 {
    match adjustment {
        Some(a) => evaluate_items(state, summary, &items_in_force(summary, Some(a)))
            .map(|e| e.duty.total_yen)
            .unwrap_or(eval.duty.total_yen),
        None => eval.duty.total_yen,
    }
}

fn form_rows(items: &[ItemInput], blanks: usize) -> Vec<ItemFormRow> {
    let mut rows: Vec<ItemFormRow> = items
        .iter()
        .enumerate()
        .map(|(idx, i)| ItemFormRow {
            idx,
            category: i.category.clone(),
            quantity: i.quantity.to_string(),
            volume_ml: i.volume_ml.map(|v| v.to_string()).unwrap_or_default(),
            weight_g: i.weight_g.map(|v| v.to_string()).unwrap_or_default(),
            amount: format_amount(i.value.amount),
            currency: i.value.currency.clone(),
            for_child: i.for_child,
        })
        .collect();
    let n = rows.len();
    rows.extend((n..n + blanks).map(|idx| ItemFormRow {
        idx,
        currency: "JPY".into(),
        ..ItemFormRow::default()
    }));
    rows
}

fn format_amount(a: f64) -> String {
    if a.fract() == 0.0 {
        format!("{a:.0}")
    } else {
        format!("{a:.2}")
    }
}

/// Read the adjustment form: rows `c{i}`, `q{i}`, `v{i}`, `w{i}`, `a{i}`, `cur{i}`,
/// `k{i}` (for a child), `x{i}` (remove). Blank and removed rows are skipped.
fn parse_rows(form: &FormData) -> (Vec<ItemFormRow>, Vec<ItemInput>, Vec<String>) {
    let n: usize = form
        .get("n")
        .parse()
        .unwrap_or(0)
        .min(shared::domain::MAX_ITEMS + 10);
    let mut rows = Vec::new();
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for i in 0..n {
        let row = ItemFormRow {
            idx: i,
            category: form.get(&format!("c{i}")),
            quantity: form.get(&format!("q{i}")),
            volume_ml: form.get(&format!("v{i}")),
            weight_g: form.get(&format!("w{i}")),
            amount: form.get(&format!("a{i}")).replace(',', ""),
            currency: form.get(&format!("cur{i}")).to_ascii_uppercase(),
            for_child: form.has(&format!("k{i}")),
        };
        if row.category.is_empty() || form.has(&format!("x{i}")) {
            continue;
        }
        let num = |s: &str| -> Option<Option<u32>> {
            if s.is_empty() {
                Some(None)
            } else {
                s.parse::<u32>().ok().map(Some)
            }
        };
        let quantity = row.quantity.parse::<u32>().ok();
        let (vol, wt) = (num(&row.volume_ml), num(&row.weight_g));
        let amount = row
            .amount
            .parse::<f64>()
            .ok()
            .filter(|a| a.is_finite() && *a >= 0.0);
        match (quantity, vol, wt, amount) {
            (Some(q), Some(v), Some(w), Some(a)) => {
                // `MoneyInput` is not re-exported by `shared::domain`: build the wire
                // shape through serde, as a client would send it.
                let json = serde_json::json!({
                    "category": row.category, "quantity": q, "volume_ml": v, "weight_g": w,
                    "value": {"amount": a, "currency": row.currency}, "for_child": row.for_child,
                });
                match serde_json::from_value::<ItemInput>(json) {
                    Ok(item) => items.push(item),
                    Err(_) => errors.push(format!("#{}: {}", i + 1, "console-adjust-row-invalid")),
                }
            }
            _ => errors.push(format!("#{}: {}", i + 1, "console-adjust-row-invalid")),
        }
        rows.push(ItemFormRow {
            idx: rows.len(),
            ..row
        });
    }
    (rows, items, errors)
}

/// Flatten a JSON document into `path: value` lines (the issuer's declaration).
fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    if out.len() > 200 {
        return;
    }
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, v, out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                flatten(&format!("{prefix}[{}]", i + 1), v, out);
            }
        }
        serde_json::Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        serde_json::Value::Null => out.push((prefix.to_owned(), "—".into())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

/// GET the full declaration from its issuer (2 s budget); never fails the page.
async fn fetch_full(state: &AppState, case: &CaseRow) -> FullDeclaration {
    let (Some(issuer), Some(decl)) = (case.issuer.as_deref(), case.declaration_id.as_deref())
    else {
        return FullDeclaration::NotAvailable;
    };
    let Some(base) = state
        .issuers
        .iter()
        .find(|i| i.id == issuer)
        .and_then(|i| i.base_url.clone())
    else {
        return FullDeclaration::NotAvailable;
    };
    if !decl
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return FullDeclaration::NotAvailable;
    }
    // The gate's one HTTP client for issuers (connection pool, TLS set up once).
    let url = format!("{base}/v1/internal/declarations/{decl}");
    let resp = state
        .trust
        .http()
        .get(&url)
        .timeout(Duration::from_secs(2))
        .bearer_auth(&*state.gate_api_key)
        .send()
        .await;
    match resp {
        Ok(r) if r.status() == reqwest::StatusCode::OK => match r.json::<serde_json::Value>().await
        {
            Ok(v) => {
                let mut out = Vec::new();
                flatten("", &v, &mut out);
                FullDeclaration::Fields(out)
            }
            Err(_) => FullDeclaration::Unreachable,
        },
        Ok(r) => {
            tracing::info!(
                issuer.status = r.status().as_u16(),
                "issuer did not return the declaration"
            );
            FullDeclaration::Unreachable
        }
        Err(_) => {
            tracing::info!("issuer unreachable for the full declaration");
            FullDeclaration::Unreachable
        }
    }
}

/// Render the case page (also after a refused adjustment, with its rows and errors).
pub async fn render_case(
    state: &AppState,
    cfg: &ConsoleConfig,
    ctx: PageCtx,
    officer: &Officer,
    id: i64,
    posted: Option<(Vec<ItemFormRow>, Vec<String>)>,
    status: StatusCode,
) -> PageResult {
    let (case, outcomes, payments, adjustment) = state
        .db
        .read(move |c| -> Result<_, ConsoleError> {
            let Some(case) = store::load_case(c, id)? else {
                return Err(ConsoleError::NotFound);
            };
            Ok((
                case,
                store::outcomes_of(c, id)?,
                store::payments_of(c, id)?,
                store::latest_adjustment(c, id)?,
            ))
        })
        .await?;
    let ctx = ctx.with_officer(officer);
    let summary: SummaryView = store::parse_or_default(case.summary_json.as_deref(), "summary");
    let eval: EvalView = store::parse_or_default(case.evaluation_json.as_deref(), "evaluation");
    let reasons: Vec<CaseReason> = store::parse_or_default(Some(&case.reasons_json), "reasons");
    let identity: Option<IdentityView> = case
        .identity_json
        .as_deref()
        .map(|j| store::parse_or_default(Some(j), "identity"));
    let full = fetch_full(state, &case).await;

    let dash = |o: &Option<String>| o.clone().unwrap_or_else(|| "—".into());
    let facts = vec![
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
            dash(&case.flight.clone().or(summary.flight.clone())),
        ),
        (ctx.t("console-case-arrival"), dash(&summary.arrival_date)),
        (ctx.t("console-declaration-id"), dash(&case.declaration_id)),
        (
            ctx.t("console-case-revision"),
            summary
                .revision
                .map(|r| r.to_string())
                .unwrap_or_else(|| "—".into()),
        ),
        (ctx.t("console-case-issuer"), dash(&case.issuer)),
        (ctx.t("console-case-profile"), dash(&summary.profile_id)),
    ];
    let yes_no = |b: bool| ctx.t(if b { "console-yes" } else { "console-no" });
    let mut declared = Vec::new();
    if let Some(p) = summary.party {
        declared.push((
            ctx.t("console-case-party"),
            format!("{} / {} / {}", p.aged_20_plus, p.aged_6_to_19, p.under_6),
        ));
    }
    if let Some(a) = summary.answers {
        for (key, v) in [
            ("console-answer-prohibited", yes_no(a.prohibited)),
            ("console-answer-over-allowance", yes_no(a.over_allowance)),
            ("console-answer-commercial", yes_no(a.commercial)),
            ("console-answer-for-others", yes_no(a.for_others)),
            (
                "console-answer-means-of-payment",
                yes_no(a.means_of_payment_over_limit),
            ),
            (
                "console-answer-precious-metal",
                yes_no(a.precious_metal_over_1kg),
            ),
            (
                "console-answer-unaccompanied",
                a.unaccompanied_packages.to_string(),
            ),
        ] {
            declared.push((ctx.t(key), v));
        }
    }
    let identity = identity.map(|i| {
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
    });
    let reasons = reasons
        .into_iter()
        .map(|r| {
            let args = string_args(&r.detail);
            let msg = localised_reason(ctx.lang, &r.code, args, &r.message_en);
            let audience = ctx.t(&format!(
                "console-audience-{}",
                if r.audience == "officer" {
                    "officer"
                } else {
                    "passenger"
                }
            ));
            (r.code, audience, msg, detail_lines(ctx.lang, &r.detail))
        })
        .collect();
    let duty = duty_table(&ctx, &eval.duty, &summary.items);
    let items_now = items_in_force(&summary, adjustment.as_ref());
    let adjusted = adjustment.as_ref().and_then(|a| {
        evaluate_items(state, &summary, &items_now).ok().map(|e| {
            (
                fmt_time(cfg, a.0),
                a.1.clone(),
                duty_table(&ctx, &e.duty, &items_now),
            )
        })
    });
    let estimate_yen = adjusted.as_ref().map_or(duty.total_yen, |a| a.2.total_yen);
    let can_adjust = case.summary_json.is_some() && case.status != "closed";
    let (rows, adjust_errors) = match posted {
        Some((mut rows, errs)) => {
            let n = rows.len();
            rows.extend((n..n + 3).map(|idx| ItemFormRow {
                idx,
                currency: "JPY".into(),
                ..Default::default()
            }));
            (rows, errs.iter().map(|e| localise_msg(&ctx, e)).collect())
        }
        None => (form_rows(&items_now, 3), Vec::new()),
    };
    let current = store::current_outcome(&outcomes).map(|o| o.id);
    let current_row = store::current_outcome(&outcomes).cloned();
    let outcome_views = outcomes
        .iter()
        .map(|o| outcomes::outcome_view(&ctx, cfg, o, current == Some(o.id)))
        .collect();
    let can_pay = current_row
        .as_ref()
        .is_some_and(|o| o.kind == "duty_assessed");
    let paid: i64 = payments
        .iter()
        .filter(|p| Some(p.outcome_id) == current)
        .map(|p| p.amount_yen)
        .sum();
    let pay_amount = current_row
        .as_ref()
        .and_then(|o| o.amount_yen)
        .map(|a| (a - paid).max(0).to_string())
        .unwrap_or_default();
    let payments = payments
        .iter()
        .map(|p| PaymentView {
            id: p.id,
            method: ctx.t(&format!("console-method-{}", p.method.replace('_', "-"))),
            amount: yen(p.amount_yen),
            at: fmt_time(cfg, p.recorded_at),
        })
        .collect();
    let categories = Category::ALL
        .iter()
        .map(|c| (c.code().to_owned(), category_name(ctx.lang, c.code())))
        .collect();
    let page = CasePage {
        csrf: officer.csrf.clone(),
        id: case.id,
        status: case.status.clone(),
        facts,
        declared,
        identity,
        reasons,
        duty,
        adjusted,
        can_adjust,
        rows,
        categories,
        adjust_errors,
        full,
        outcomes: outcome_views,
        estimate: yen(estimate_yen as i64),
        can_pay,
        pay_amount,
        payments,
        ctx,
    };
    page::html(status, &page)
}

/// The string-valued fields of a JSON object (reason arguments).
fn string_args(v: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| match v {
                    serde_json::Value::String(s) => Some((k.clone(), s.clone())),
                    serde_json::Value::Number(n) => Some((k.clone(), n.to_string())),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A reason in the page language when a message exists for it, else the English text
/// the gate stored, else the code.
fn localised_reason(
    lang: Lang,
    code: &str,
    args: std::collections::BTreeMap<String, String>,
    english: &str,
) -> String {
    let reason = shared::rules::Reason {
        code: code.to_owned(),
        args,
    };
    if shared::i18n::has_key(lang, &reason.message_key()) {
        reason.message(lang)
    } else if !english.is_empty() {
        english.to_owned()
    } else {
        code.to_owned()
    }
}

/// A reason's detail as lines for people: the rules that fired (code and message), or
/// `key: value` pairs (the risk rule and why).
fn detail_lines(lang: Lang, v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Null => Vec::new(),
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a.iter().flat_map(|e| detail_lines(lang, e)).collect(),
        serde_json::Value::Object(m) => match m.get("code").and_then(|c| c.as_str()) {
            Some(code) => {
                let args = m.get("args").map(string_args).unwrap_or_default();
                let english = m.get("message").and_then(|s| s.as_str()).unwrap_or("");
                vec![format!(
                    "{code}: {}",
                    localised_reason(lang, code, args, english)
                )]
            }
            None => m
                .iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => format!("{k}: {s}"),
                    other => format!("{k}: {other}"),
                })
                .collect(),
        },
        other => vec![other.to_string()],
    }
}

fn localise_msg(ctx: &PageCtx, m: &str) -> String {
    match m.split_once(": console-") {
        Some((head, key)) => format!("{head}: {}", ctx.t(&format!("console-{key}"))),
        None => m.to_owned(),
    }
}

/// `GET /console/cases/{id}`.
pub async fn case_page(
    State(state): State<AppState>,
    Extension(ctx): Extension<PageCtx>,
    Extension(cfg): Cfg,
    officer: Officer,
    Path(id): Path<i64>,
) -> PageResult {
    render_case(&state, &cfg, ctx, &officer, id, None, StatusCode::OK).await
}

/// Mark a waiting case as in progress (inside a write).
pub fn mark_in_progress(c: &rusqlite::Connection, id: i64) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE cases SET status = 'in_progress' WHERE id = ?1 AND status = 'waiting'",
        [id],
    )?;
    Ok(())
}

/// `POST /console/cases/{id}/take`: the officer starts handling the case.
pub async fn take(
    State(state): State<AppState>,
    officer: Officer,
    Path(id): Path<i64>,
    body: Bytes,
) -> PageResult {
    page::verified_form(&officer, &body)?;
    let now = state.clock.unix();
    let oid = officer.id;
    state
        .db
        .write(move |c| -> Result<(), ConsoleError> {
            if store::load_case(c, id)?.is_none() {
                return Err(ConsoleError::NotFound);
            }
            mark_in_progress(c, id)?;
            store::audit(c, now, Some(oid), "case.taken", Some(id), "")?;
            Ok(())
        })
        .await?;
    Ok(page::see_other(&format!("/console/cases/{id}")))
}

/// `POST /console/cases/{id}/adjust`: the officer's line edits; the duty is recomputed
/// with the active rules profile and the adjustment recorded.
pub async fn adjust(
    State(state): State<AppState>,
    Extension(ctx): Extension<PageCtx>,
    Extension(cfg): Cfg,
    officer: Officer,
    Path(id): Path<i64>,
    body: Bytes,
) -> PageResult {
    let form = page::verified_form(&officer, &body)?;
    let case = state
        .db
        .read(move |c| store::load_case(c, id).map_err(ConsoleError::from))
        .await?
        .ok_or(ConsoleError::NotFound)?;
    if case.summary_json.is_none() {
        return Err(ConsoleError::Conflict("console-adjust-no-summary"));
    }
    if case.status == "closed" {
        return Err(ConsoleError::Conflict("console-adjust-closed"));
    }
    let summary: SummaryView = store::parse_or_default(case.summary_json.as_deref(), "summary");
    let (rows, items, mut errors) = parse_rows(&form);
    let eval = if errors.is_empty() {
        evaluate_items(&state, &summary, &items)
    } else {
        Err(Vec::new())
    };
    let eval = match eval {
        Ok(e) => e,
        Err(more) => {
            errors.extend(more);
            return render_case(
                &state,
                &cfg,
                ctx,
                &officer,
                id,
                Some((rows, errors)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let items_json = serde_json::to_string(&items).map_err(ConsoleError::internal)?;
    let now = state.clock.unix();
    let oid = officer.id;
    let total = eval.duty.total_yen;
    state
        .db
        .write(move |c| -> Result<(), ConsoleError> {
            c.execute(
                "INSERT INTO case_adjustments (case_id, officer_id, at, items_json) VALUES (?1, ?2, ?3, ?4)",
                params![id, oid, now, items_json],
            )?;
            mark_in_progress(c, id)?;
            store::audit(c, now, Some(oid), "case.adjusted", Some(id), &format!("recomputed duty {total} yen"))?;
            Ok(())
        })
        .await?;
    Ok(page::see_other(&format!("/console/cases/{id}#duty")))
}
