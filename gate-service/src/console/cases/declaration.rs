//! The declaration as an officer reads the paper form: passenger, trip, party, the
//! answers to the form's questions, the items. From the issuer's full record when it
//! answers, else from the token's summary (party, answers, items; no identity). The
//! issuer's JSON stays available behind a disclosure.

use super::issuer::FullDeclaration;
use super::view::category_name;
use crate::case_record::CaseSummary;
use crate::console::page::PageCtx;
use shared::domain::{Answers, ItemInput, Party};

/// One answered question.
#[derive(Debug, Clone)]
pub struct AnswerView {
    /// The question as the passenger read it.
    pub question: String,
    /// Yes / No (with the number of packages).
    pub answer: String,
    /// Whether the answer is "yes" (highlighted).
    pub yes: bool,
}

/// One declared item.
#[derive(Debug, Clone)]
pub struct ItemView {
    /// 1-based line number.
    pub no: usize,
    /// Category name.
    pub category: String,
    /// The passenger's description (the token carries none).
    pub description: String,
    /// Units.
    pub quantity: String,
    /// Size of one unit (`700 ml`, `50 g`), or empty.
    pub size: String,
    /// Value of the line, grouped digits.
    pub value: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Whether it is for a child under 6.
    pub for_child: bool,
}

/// The readable declaration.
#[derive(Debug, Clone, Default)]
pub struct DeclarationView {
    /// The issuer's revision when it comes from the issuer (else from the token's
    /// summary).
    pub issuer_revision: Option<u32>,
    /// Whether the issuer erased it (retention): only the summary is left.
    pub erased: bool,
    /// Passenger: label, value (empty from the summary: see the passport).
    pub passenger: Vec<(String, String)>,
    /// Trip: label, value.
    pub trip: Vec<(String, String)>,
    /// Party by age band: label, count.
    pub party: Vec<(String, String)>,
    /// The form's questions and answers.
    pub answers: Vec<AnswerView>,
    /// The items.
    pub items: Vec<ItemView>,
    /// The issuer's record as received, for the disclosure.
    pub raw: Option<String>,
}

impl DeclarationView {
    /// The view of a case's declaration: the issuer's when found, else the summary's;
    /// `None` when the case has neither (the token did not verify).
    pub fn build(
        ctx: &PageCtx,
        full: &FullDeclaration,
        summary: Option<&CaseSummary>,
    ) -> Option<DeclarationView> {
        let (found, raw) = match full {
            FullDeclaration::Found(d, raw) => (Some(d), Some(raw.clone())),
            _ => (None, None),
        };
        match (found.and_then(|d| d.declaration.as_ref()), summary) {
            (Some(d), _) => {
                let p = &d.passenger;
                let t = &d.trip;
                Some(DeclarationView {
                    issuer_revision: found.map(|f| f.revision),
                    erased: false,
                    passenger: vec![
                        (ctx.t("console-id-surname"), p.surname.clone()),
                        (ctx.t("console-id-given-names"), p.given_names.clone()),
                        (ctx.t("console-id-nationality"), p.nationality.clone()),
                        (ctx.t("console-id-birth-date"), p.birth_date.clone()),
                        (ctx.t("console-id-sex"), p.sex.clone()),
                        (
                            ctx.t("console-id-document-number"),
                            p.passport_number.clone(),
                        ),
                        (ctx.t("console-id-expiry-date"), p.passport_expiry.clone()),
                    ],
                    trip: vec![
                        (ctx.t("console-flight"), t.flight.clone()),
                        (ctx.t("console-trip-origin"), t.origin.clone()),
                        (ctx.t("console-case-arrival"), t.arrival_date.clone()),
                        (ctx.t("console-trip-address"), t.address_in_japan.clone()),
                        (ctx.t("console-trip-phone"), t.phone.clone()),
                        (ctx.t("console-trip-occupation"), t.occupation.clone()),
                    ],
                    party: party_rows(ctx, &d.party),
                    answers: answer_rows(ctx, &d.answers),
                    items: item_rows(ctx, &d.items),
                    raw,
                })
            }
            (None, Some(s)) => Some(DeclarationView {
                issuer_revision: None,
                erased: found.is_some_and(|d| d.erased_at.is_some() || d.declaration.is_none()),
                passenger: Vec::new(),
                trip: vec![
                    (ctx.t("console-flight"), s.flight.clone()),
                    (ctx.t("console-case-arrival"), s.arrival_date.clone()),
                ],
                party: party_rows(ctx, &s.party),
                answers: answer_rows(ctx, &s.answers),
                items: item_rows(ctx, &s.items),
                raw,
            }),
            (None, None) => None,
        }
    }
}

fn party_rows(ctx: &PageCtx, p: &Party) -> Vec<(String, String)> {
    vec![
        (ctx.t("console-party-adults"), p.aged_20_plus.to_string()),
        (ctx.t("console-party-youths"), p.aged_6_to_19.to_string()),
        (ctx.t("console-party-children"), p.under_6.to_string()),
    ]
}

/// The seven questions in the words the passenger answered them (the kiosk's).
fn answer_rows(ctx: &PageCtx, a: &Answers) -> Vec<AnswerView> {
    let yes_no = |yes: bool| ctx.t(if yes { "console-yes" } else { "console-no" });
    let mut rows: Vec<AnswerView> = [
        ("kiosk-q-prohibited", a.prohibited),
        ("kiosk-q-over-allowance", a.over_allowance),
        ("kiosk-q-commercial", a.commercial),
        ("kiosk-q-for-others", a.for_others),
        ("kiosk-q-means-of-payment", a.means_of_payment_over_limit),
        ("kiosk-q-precious-metal", a.precious_metal_over_1kg),
    ]
    .into_iter()
    .map(|(key, yes)| AnswerView {
        question: ctx.t(key),
        answer: yes_no(yes),
        yes,
    })
    .collect();
    let packages = a.unaccompanied_packages;
    rows.push(AnswerView {
        question: ctx.t("kiosk-q-unaccompanied"),
        answer: if packages == 0 {
            yes_no(false)
        } else {
            ctx.t1("console-answer-packages", "packages", &packages.to_string())
        },
        yes: packages > 0,
    });
    rows
}

fn item_rows(ctx: &PageCtx, items: &[ItemInput]) -> Vec<ItemView> {
    items
        .iter()
        .enumerate()
        .map(|(i, it)| ItemView {
            no: i + 1,
            category: category_name(ctx.lang, &it.category),
            description: it.description.clone().unwrap_or_default(),
            quantity: it.quantity.to_string(),
            size: match (it.volume_ml, it.weight_g) {
                (Some(v), _) => format!("{v} ml"),
                (_, Some(w)) => format!("{w} g"),
                _ => String::new(),
            },
            value: amount(it.value.amount),
            currency: it.value.currency.clone(),
            for_child: it.for_child,
        })
        .collect()
}

/// `25000` → `25,000`; `12.5` → `12.50`.
fn amount(a: f64) -> String {
    let whole = a.trunc().max(0.0) as u64;
    let grouped = shared::rules::group_thousands(whole);
    if a.fract() == 0.0 {
        grouped
    } else {
        format!(
            "{grouped}.{:02}",
            ((a.fract() * 100.0).round() as u64).min(99)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::amount;

    #[test]
    fn amounts_read_as_written_on_a_form() {
        assert_eq!(amount(25_000.0), "25,000");
        assert_eq!(amount(12.5), "12.50");
        assert_eq!(amount(0.0), "0");
    }
}
