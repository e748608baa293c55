//! Step 5: the items. One row per kind of goods: category (grouped by allowance),
//! quantity, volume or weight of one unit where the category needs it, value and
//! currency. "Add a row" and "Remove" are submit buttons, so the page works without
//! JavaScript.

use super::{Opt, field_message, page, post as step_post};
use crate::WizardState;
use crate::html::{Layout, Nonce, see_other};
use crate::session::ItemRow;
use askama::Template;
use axum::extract::{Extension, Form, State};
use axum::http::HeaderMap;
use axum::response::Response;
use shared::domain::{
    Category, CategoryGroup, Declared, Item, ItemInput, MAX_ITEMS, ValidationErrors,
};
use shared::i18n::{self, Lang};
use shared::rules::RulesProfile;

/// A row as shown.
#[derive(Debug, Clone)]
pub struct RowView {
    /// Row index.
    pub index: usize,
    /// Category options grouped by allowance group: (group label, options).
    pub groups: Vec<(String, Vec<Opt>)>,
    /// Quantity as typed.
    pub quantity: String,
    /// Volume or weight as typed.
    pub size: String,
    /// Value as typed.
    pub amount: String,
    /// Currency options.
    pub currencies: Vec<Opt>,
    /// For a child under 6 (phone).
    pub for_child: bool,
}

/// The items page.
#[derive(Template)]
#[template(path = "items.html")]
pub struct ItemsPage {
    /// Layout.
    pub l: Layout,
    /// Field errors (`item-N-<field>`, `items`).
    pub errors: Vec<(String, String)>,
    /// The rows.
    pub rows: Vec<RowView>,
    /// Whether another row may be added.
    pub can_add: bool,
    /// Phone mode with children under 6 in the party: rows offer "for a child under 6".
    pub children: bool,
    /// Phone mode: the estimate of the rows as saved.
    pub estimate: Option<super::result::EstimateView>,
    /// Phone mode: the estimate script's data block.
    pub estimate_body: String,
}
crate::html::page_helpers!(ItemsPage);

impl ItemsPage {
    /// The error of field `name` of row `i`.
    pub fn row_err(&self, i: &usize, name: &str) -> String {
        self.err(&format!("item-{i}-{name}"))
    }
}

const GROUPS: [(CategoryGroup, &str); 4] = [
    (CategoryGroup::Alcohol, "kiosk-group-alcohol"),
    (CategoryGroup::Tobacco, "kiosk-group-tobacco"),
    (CategoryGroup::Perfume, "kiosk-group-perfume"),
    (CategoryGroup::OtherGoods, "kiosk-group-other-goods"),
];

/// Whether "for a child under 6" applies to `c`: only other goods have a child's
/// allowance (alcohol and tobacco have none for children, perfume is per adult).
pub fn child_applies(c: Category) -> bool {
    c.group() == CategoryGroup::OtherGoods
}

/// The i18n key of a category's name.
pub fn category_key(c: Category) -> String {
    format!("category-{}", c.code().replace('_', "-"))
}

fn row_view(i: usize, r: &ItemRow, lang: Lang, currencies: &[String]) -> RowView {
    let mut groups = vec![(
        i18n::t(lang, "kiosk-items-choose"),
        vec![Opt {
            value: String::new(),
            label: i18n::t(lang, "kiosk-items-choose"),
            selected: r.category.is_empty(),
        }],
    )];
    for (g, key) in GROUPS {
        let opts = Category::ALL
            .iter()
            .filter(|c| c.group() == g)
            .map(|c| Opt {
                value: c.code().to_owned(),
                label: i18n::t(lang, &category_key(*c)),
                selected: r.category == c.code(),
            })
            .collect();
        groups.push((i18n::t(lang, key), opts));
    }
    RowView {
        index: i,
        groups,
        quantity: r.quantity.clone(),
        size: r.size.clone(),
        amount: r.amount.clone(),
        currencies: currencies
            .iter()
            .map(|c| Opt {
                value: c.clone(),
                label: c.clone(),
                selected: r.currency == *c,
            })
            .collect(),
        for_child: r.for_child,
    }
}

/// `GET /items`.
pub async fn get(
    State(st): State<WizardState>,
    Extension(nonce): Extension<Nonce>,
    headers: HeaderMap,
) -> Response {
    let currencies = st.profile.currencies();
    let profile = st.profile.clone();
    page(&st, &headers, |s| {
        let (estimate, estimate_body) = if st.phone() {
            super::estimate::of_draft(&s.draft, &profile, s.lang)
        } else {
            (None, String::new())
        };
        let children = st.phone() && s.draft.party[2].trim().parse::<u32>().is_ok_and(|n| n > 0);
        let rows = s
            .draft
            .items
            .iter()
            .enumerate()
            .map(|(i, r)| row_view(i, r, s.lang, &currencies))
            .collect();
        Some(ItemsPage {
            l: Layout::of(&st, s, &nonce, 5, "kiosk-items-title"),
            errors: std::mem::take(&mut s.errors),
            rows,
            can_add: s.draft.items.len() < MAX_ITEMS,
            children,
            estimate,
            estimate_body,
        })
    })
}

fn is_blank(r: &ItemRow) -> bool {
    r.category.is_empty() && r.quantity.is_empty() && r.size.is_empty() && r.amount.is_empty()
}

/// Parse and validate the rows (domain constructors, then the profile's currency
/// table); errors per field.
pub(crate) fn parse(
    rows: &[ItemRow],
    profile: &RulesProfile,
    lang: Lang,
) -> Result<Vec<Item>, Vec<(String, String)>> {
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut items = Vec::new();
    if rows.len() > MAX_ITEMS {
        return Err(vec![(
            "items".into(),
            i18n::t(lang, "kiosk-error-too-many-items"),
        )]);
    }
    for (i, r) in rows.iter().enumerate() {
        let mut row_errors: Vec<(String, String)> = Vec::new();
        let bad = |name: &str, empty: bool, code: &str| {
            let field = format!("item-{i}-{name}");
            let msg = field_message(lang, &field, code, empty);
            (field, msg)
        };
        let category = Category::from_code(&r.category);
        if category.is_none() {
            row_errors.push(bad("category", r.category.is_empty(), "invalid"));
        }
        let quantity = r.quantity.trim().parse::<u32>().ok();
        if quantity.is_none() {
            row_errors.push(bad("quantity", r.quantity.trim().is_empty(), "invalid"));
        }
        let size = if r.size.trim().is_empty() {
            None
        } else {
            match r.size.trim().parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    row_errors.push(bad("size", false, "invalid"));
                    None
                }
            }
        };
        let cleaned: String = r
            .amount
            .chars()
            .filter(|c| *c != ',' && *c != ' ')
            .collect();
        let amount = cleaned.parse::<f64>().ok().filter(|a| a.is_finite());
        if amount.is_none() {
            row_errors.push(bad("amount", cleaned.is_empty(), "invalid"));
        }
        let (Some(c), Some(q), Some(a)) = (category, quantity, amount) else {
            errors.append(&mut row_errors);
            continue;
        };
        if !row_errors.is_empty() {
            errors.append(&mut row_errors);
            continue;
        }
        // Only the categories that need a size get one; a value typed for another
        // category is meaningless and is dropped rather than refused.
        let input: Result<ItemInput, _> = serde_json::from_value(serde_json::json!({
            "category": c.code(),
            "quantity": q,
            "volume_ml": if c.needs_volume() { size } else { None },
            "weight_g": if c.needs_weight() { size } else { None },
            "value": { "amount": a, "currency": r.currency.trim() },
            "for_child": r.for_child && child_applies(c),
        }));
        let Ok(input) = input else {
            row_errors.push(bad("amount", false, "invalid"));
            errors.append(&mut row_errors);
            continue;
        };
        let mut errs = ValidationErrors::default();
        match input.validate(&format!("/items/{i}"), &mut errs) {
            Some(item) if errs.is_empty() => items.push(item),
            _ => errors.extend(
                super::localise(lang, errs.errors(), |_| true)
                    .into_iter()
                    .map(|(_, f, m)| (f, m)),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let declared = Declared {
        items: items.clone(),
        ..Declared::default()
    };
    if let Err(errs) = profile.check_declared(&declared, "") {
        return Err(super::localise(lang, errs.errors(), |_| true)
            .into_iter()
            .map(|(_, f, m)| (f, m))
            .collect());
    }
    Ok(items)
}

/// `POST /items`: `action` = `add`, `remove-N`, `next`, `back` or `stay` (also the
/// phone's "Recalculate": the rows are saved and the page shows their estimate).
pub async fn post(
    State(st): State<WizardState>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let profile = st.profile.clone();
    let phone = st.phone();
    step_post(&st, &headers, form, |s, f| {
        let n = s.draft.items.len().min(MAX_ITEMS);
        s.draft.items = (0..n)
            .map(|i| {
                let g = |name: &str| f.get(&format!("item-{i}-{name}")).trim().to_owned();
                ItemRow {
                    category: g("category"),
                    quantity: g("quantity"),
                    size: g("size"),
                    amount: g("amount"),
                    currency: g("currency"),
                    for_child: phone && g("for_child") == "yes",
                }
            })
            .collect();
        let action = f.get("action");
        if let Some(i) = action
            .strip_prefix("remove-")
            .and_then(|i| i.parse::<usize>().ok())
        {
            if i < s.draft.items.len() {
                s.draft.items.remove(i);
            }
            return see_other("/items");
        }
        match action {
            "add" => {
                if s.draft.items.len() < MAX_ITEMS {
                    s.draft.items.push(ItemRow {
                        currency: "JPY".into(),
                        ..ItemRow::default()
                    });
                }
                see_other("/items")
            }
            "back" => see_other("/questions"),
            "stay" => see_other("/items"),
            _ => {
                s.draft.items.retain(|r| !is_blank(r));
                match parse(&s.draft.items, &profile, s.lang) {
                    Ok(_) => see_other("/review"),
                    Err(e) => {
                        s.errors = e;
                        see_other("/items")
                    }
                }
            }
        }
    })
}
