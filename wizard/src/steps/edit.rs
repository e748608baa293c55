//! The phone's "Change" of a declaration the device holds: `POST /declarations/edit`
//! with `declaration_id` and `edit_token` (form fields: the edit token is never in a
//! URL) loads the stored declaration into a new wizard session, answers filled in, and
//! redirects to the review; confirming there amends it (a new QR, the old one
//! superseded) and shows the result page with the new data block.
//!
//! The form is posted by the app shell's offline page `/my`, which has no server
//! session and so no CSRF token. Instead the request must come from this origin: its
//! `Origin` header names this host (browsers send it on every form POST), or, when a
//! browser omits it or sends `Origin: null` (as it does under a `no-referrer` policy),
//! `Sec-Fetch-Site: same-origin` (a header no page can set); otherwise 403.
//! A forged cross-site post could at most open the forger's own declaration (it needs
//! its edit token), and even that is refused. The new session's cookie is
//! `SameSite=Strict` like every session's.

use crate::WizardState;
use crate::error::WizardError as AppError;
use crate::html::{Fields, see_other, set_session_cookie};
use crate::session::{Draft, ItemRow};
use crate::submit::{Amend, SubmitError};
use axum::extract::{Form, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use shared::domain::{Category, DeclarationInput};
use shared::i18n::Lang;

/// Whether the request comes from this site (see the module docs).
pub fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    // `Origin: null` is what a browser sends for a same-origin post from a page whose
    // referrer policy is `no-referrer` (this service's): then Sec-Fetch-Site decides.
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| *o != "null");
    match origin {
        Some(origin) => {
            let rest = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            matches!((rest, host), (Some(o), Some(h)) if !h.is_empty() && o.eq_ignore_ascii_case(h))
        }
        None => headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == "same-origin"),
    }
}

/// `POST /declarations/edit`.
pub async fn post(
    State(st): State<WizardState>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let fields = match Fields::new(form) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    if !same_origin(&headers) {
        return AppError::Forbidden.into_response();
    }
    let id = fields.get("declaration_id").trim();
    let edit_token = fields.get("edit_token").trim();
    if id.is_empty() || edit_token.is_empty() || id.len() > 64 || edit_token.len() > 128 {
        return AppError::NotFound.into_response();
    }
    let loaded = match st.submit.load(id, edit_token).await {
        Ok(loaded) => loaded,
        Err(SubmitError::NotFound | SubmitError::Invalid(_) | SubmitError::Conflict) => {
            return AppError::NotFound.into_response();
        }
        Err(SubmitError::Unavailable(secs)) => return crate::error::unavailable(secs),
        Err(SubmitError::Internal(e)) => {
            tracing::error!(error = %e, "failed to load a declaration to edit");
            return AppError::Internal.into_response();
        }
    };
    let lang = Lang::from_code(fields.get("lang"))
        .unwrap_or_else(|| crate::error::initial_lang(&st, &headers));
    if let Some(old) = st.sessions.cookie(&headers) {
        st.sessions.remove(&old);
    }
    let cookie = st.sessions.create(lang);
    let amend = Amend {
        declaration_id: id.to_owned(),
        edit_token: edit_token.to_owned(),
        revision: loaded.revision,
    };
    st.sessions.with(&cookie, |s| {
        s.started = true;
        s.draft = draft_of(&loaded.input);
        s.amend = Some(amend);
    });
    let mut resp = see_other("/review");
    set_session_cookie(&st, &mut resp, &cookie);
    resp
}

/// A stored declaration as the wizard's draft (the passport confirmed: it was when the
/// declaration was made).
pub fn draft_of(d: &DeclarationInput) -> Draft {
    let a = &d.answers;
    let yn = |b: bool| Some(b);
    Draft {
        mrz: String::new(),
        typed_passenger: d.passenger.clone(),
        passenger: Some(d.passenger.clone()),
        passport_confirmed: true,
        trip: d.trip.clone(),
        party: [
            d.party.aged_20_plus.to_string(),
            d.party.aged_6_to_19.to_string(),
            d.party.under_6.to_string(),
        ],
        answers: [
            yn(a.prohibited),
            yn(a.over_allowance),
            yn(a.commercial),
            yn(a.for_others),
            yn(a.means_of_payment_over_limit),
            yn(a.precious_metal_over_1kg),
            yn(a.unaccompanied_packages > 0),
        ],
        packages: if a.unaccompanied_packages > 0 {
            a.unaccompanied_packages.to_string()
        } else {
            String::new()
        },
        items: d
            .items
            .iter()
            .map(|i| {
                let size = Category::from_code(&i.category)
                    .and_then(|c| {
                        if c.needs_volume() {
                            i.volume_ml
                        } else if c.needs_weight() {
                            i.weight_g
                        } else {
                            None
                        }
                    })
                    .map(|n| n.to_string())
                    .unwrap_or_default();
                ItemRow {
                    category: i.category.clone(),
                    quantity: i.quantity.to_string(),
                    size,
                    amount: format_amount(i.value.amount),
                    currency: i.value.currency.clone(),
                    for_child: i.for_child,
                }
            })
            .collect(),
    }
}

/// An amount as a passenger would type it: no trailing ".00".
fn format_amount(a: f64) -> String {
    let s = format!("{a:.2}");
    s.strip_suffix(".00").map(str::to_owned).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_a_post_from_this_origin_may_open_a_declaration() {
        let host = ("host", "app.example:8080");
        assert!(same_origin(&headers(&[
            host,
            ("origin", "https://app.example:8080")
        ])));
        assert!(same_origin(&headers(&[
            host,
            ("origin", "http://APP.example:8080")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("origin", "https://evil.example")
        ])));
        assert!(!same_origin(&headers(&[host, ("origin", "null")])));
        assert!(same_origin(&headers(&[
            host,
            ("origin", "null"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("origin", "null"),
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(!same_origin(&headers(&[(
            "origin",
            "https://app.example:8080"
        )])));
        assert!(!same_origin(&headers(&[host])));
        assert!(same_origin(&headers(&[
            host,
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("sec-fetch-site", "cross-site")
        ])));
        // An Origin that does not match is not rescued by Sec-Fetch-Site.
        assert!(!same_origin(&headers(&[
            host,
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "same-origin"),
        ])));
    }

    #[test]
    fn a_stored_declaration_becomes_a_draft_with_its_answers() {
        let input: DeclarationInput = serde_json::from_value(serde_json::json!({
            "passenger": {"surname": "TANAKA", "given_names": "HANAKO", "nationality": "JPN",
                "birth_date": "1990-01-01", "sex": "F", "passport_number": "TK1234567",
                "passport_expiry": "2031-01-01"},
            "trip": {"flight": "NH212", "origin": "LHR", "arrival_date": "2026-12-01",
                "address_in_japan": "Tokyo", "phone": "+81 3 1234 5678", "occupation": "Teacher"},
            "party": {"aged_20_plus": 2, "aged_6_to_19": 0, "under_6": 1},
            "answers": {"prohibited": false, "over_allowance": true, "commercial": false,
                "for_others": false, "means_of_payment_over_limit": false,
                "precious_metal_over_1kg": false, "unaccompanied_packages": 2},
            "items": [{"category": "whisky", "quantity": 3, "volume_ml": 700,
                "value": {"amount": 90.5, "currency": "USD"}},
                {"category": "toys_games", "quantity": 1, "for_child": true,
                "value": {"amount": 4000.0, "currency": "JPY"}}]
        }))
        .unwrap();
        let d = draft_of(&input);
        assert!(d.passport_confirmed);
        assert_eq!(d.party, ["2".to_owned(), "0".into(), "1".into()]);
        assert_eq!(d.answers[1], Some(true));
        assert_eq!(d.answers[6], Some(true));
        assert_eq!(d.packages, "2");
        assert_eq!(d.items[0].size, "700");
        assert_eq!(d.items[0].amount, "90.50");
        assert_eq!(d.items[1].amount, "4000");
        assert!(d.items[1].for_child);
    }
}
