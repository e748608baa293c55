//! The phone's duty estimate on the items and review pages: computed on the server at
//! every view (so "Recalculate", a plain submit, works without JavaScript), and kept
//! live by a small nonce'd script that posts the rows to `POST /v1/estimate` (the API's
//! own estimate: the same rules, the same reason texts) as the passenger types.
//!
//! The script gets what it needs in one JSON data block ([`script_data`]): the request
//! body so far (party, answers, items), which categories take ml or g, and the labels
//! it shows, in the page's language.

use super::result::{EstimateView, estimate_view};
use crate::session::Draft;
use shared::domain::{Answers, Category, ItemInput, Party};
use shared::i18n::{self, Lang};
use shared::rules::{RulesProfile, evaluate};

/// The estimate of the draft as it stands (`None` while the party or the goods do not
/// yet parse), and the script's data block.
pub fn of_draft(d: &Draft, profile: &RulesProfile, lang: Lang) -> (Option<EstimateView>, String) {
    let party = super::party::parse(&d.party, lang).unwrap_or_default();
    // Unanswered questions count as "no" for a preview; the review refuses them.
    let answers = super::questions::parse(&d.answers, &d.packages, lang).unwrap_or_default();
    let items = super::items::parse(&d.items, profile, lang).ok();
    let view = items.as_ref().and_then(|items| {
        let input: Vec<ItemInput> = items.iter().map(ItemInput::from).collect();
        let declared = shared::domain::validate_declared(
            &party,
            &answers,
            &input,
            "",
            &mut Default::default(),
        )?;
        profile
            .check_declared(&declared, "")
            .is_ok()
            .then(|| estimate_view(&evaluate(profile, &declared), lang))
    });
    let items: Vec<ItemInput> = items
        .map(|v| v.iter().map(ItemInput::from).collect())
        .unwrap_or_default();
    (view, script_data(&party, &answers, &items, lang))
}

/// The estimate script's data block (JSON, escaped for a `<script>` element).
pub fn script_data(party: &Party, answers: &Answers, items: &[ItemInput], lang: Lang) -> String {
    let t = |k: &str| i18n::t(lang, k);
    let categories: serde_json::Map<String, serde_json::Value> = Category::ALL
        .iter()
        .map(|c| {
            (
                c.code().to_owned(),
                t(&super::items::category_key(*c)).into(),
            )
        })
        .collect();
    let treatments: serde_json::Map<String, serde_json::Value> = [
        "within_allowance",
        "per_kind_under_threshold",
        "customs_value_over_ceiling",
        "no_simplified_rate",
        "unknown_currency",
        "incomplete_item",
    ]
    .iter()
    .map(|w| {
        (
            (*w).to_owned(),
            t(&format!("treatment-{}", w.replace('_', "-"))).into(),
        )
    })
    .collect();
    let v = serde_json::json!({
        "lang": lang.code(),
        "body": { "party": party, "answers": answers, "items": items },
        "needs_volume": Category::ALL.iter().filter(|c| c.needs_volume()).map(|c| c.code()).collect::<Vec<_>>(),
        "needs_weight": Category::ALL.iter().filter(|c| c.needs_weight()).map(|c| c.code()).collect::<Vec<_>>(),
        "child_ok": Category::ALL.iter().filter(|c| super::items::child_applies(**c)).map(|c| c.code()).collect::<Vec<_>>(),
        "labels": {
            "categories": categories,
            "treatments": treatments,
            "units": {
                "ml": t("kiosk-unit-ml"),
                "units": t("kiosk-unit-units"),
                "grams": t("kiosk-unit-grams"),
                "articles": t("kiosk-unit-articles"),
            },
            "green": t("kiosk-result-green"),
            "red": t("kiosk-result-red"),
            "duty_line": i18n::t_args(lang, "kiosk-result-duty-line", &[("yen", "{yen}".into())]),
            "duty_total": i18n::t_args(lang, "kiosk-result-duty-total", &[("yen", "{yen}".into())]),
            "no_items": t("kiosk-result-no-items"),
            "incomplete": t("kiosk-estimate-incomplete"),
        }
    });
    super::result::escape_json(&v)
}
