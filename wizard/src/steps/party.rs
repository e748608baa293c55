//! Step 3: the party, counted by age band (the declarant included). Allowances are
//! summed for the party, which the page says.

use super::{page, post as step_post};
use crate::WizardState;
use crate::html::{Layout, Nonce, see_other};
use askama::Template;
use axum::extract::{Extension, Form, State};
use axum::http::HeaderMap;
use axum::response::Response;
use shared::domain::{MAX_PARTY, Party};
use shared::i18n::{self, Lang};

/// One count field.
#[derive(Debug, Clone)]
pub struct Count {
    /// Field id.
    pub id: &'static str,
    /// Label.
    pub label: String,
    /// Hint.
    pub hint: String,
    /// Value as typed.
    pub value: String,
}

/// The party page.
#[derive(Template)]
#[template(path = "party.html")]
pub struct PartyPage {
    /// Layout.
    pub l: Layout,
    /// Field errors.
    pub errors: Vec<(String, String)>,
    /// The three counts.
    pub counts: Vec<Count>,
}
crate::html::page_helpers!(PartyPage);

/// Field ids of the three age bands.
pub const BANDS: [&str; 3] = ["aged_20_plus", "aged_6_to_19", "under_6"];

/// `GET /party`.
pub async fn get(
    State(st): State<WizardState>,
    Extension(nonce): Extension<Nonce>,
    headers: HeaderMap,
) -> Response {
    page(&st, &headers, |s| {
        let lang = s.lang;
        let counts = BANDS
            .iter()
            .zip(s.draft.party.iter())
            .map(|(id, v)| {
                let key = id.replace('_', "-");
                Count {
                    id,
                    label: i18n::t(lang, &format!("kiosk-party-{key}")),
                    hint: i18n::t(lang, &format!("kiosk-party-{key}-hint")),
                    value: v.clone(),
                }
            })
            .collect();
        Some(PartyPage {
            l: Layout::of(&st, s, &nonce, 3, "kiosk-party-title"),
            errors: std::mem::take(&mut s.errors),
            counts,
        })
    })
}

/// Parse the three counts and build the party; errors per field, or on `party`.
pub(crate) fn parse(raw: &[String; 3], lang: Lang) -> Result<Party, Vec<(String, String)>> {
    let mut errors = Vec::new();
    let mut n = [0u32; 3];
    for (i, v) in raw.iter().enumerate() {
        match v.trim().parse::<u32>() {
            Ok(x) if x <= MAX_PARTY => n[i] = x,
            _ => errors.push((BANDS[i].to_owned(), i18n::t(lang, "kiosk-error-count"))),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Party::new(n[0], n[1], n[2])
        .map_err(|_| vec![("party".to_owned(), i18n::t(lang, "kiosk-error-party"))])
}

/// `POST /party`: `action` = `next`, `back` or `stay`.
pub async fn post(
    State(st): State<WizardState>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    step_post(&st, &headers, form, |s, f| {
        s.draft.party = BANDS.map(|b| f.get(b).trim().to_owned());
        match f.get("action") {
            "back" => return see_other("/trip"),
            "stay" => return see_other("/party"),
            _ => {}
        }
        match parse(&s.draft.party, s.lang) {
            Ok(_) => see_other("/questions"),
            Err(e) => {
                s.errors = e;
                see_other("/party")
            }
        }
    })
}
