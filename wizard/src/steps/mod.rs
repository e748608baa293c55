//! The passenger's steps, one module per page: start (language), passport, trip, party,
//! questions, items, review, result (with the receipt, Finish and the timeout); the
//! phone's estimate and its edit of a declaration the device holds.
//!
//! Every step is POST → 303 → GET of a fixed URL: no data ever travels in a URL. A GET
//! without a live, started session redirects to `/`; a POST without one too, and a POST
//! whose CSRF field does not match the session's gets the 403 page.

use crate::WizardState;
use crate::error::WizardError as AppError;
use crate::html::{Fields, render, see_other};
use crate::session::Session;
use askama::Template;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use shared::domain::FieldError;
use shared::i18n::{self, FluentArg, Lang};

pub mod edit;
pub mod estimate;
pub mod items;
pub mod party;
pub mod passport;
pub mod questions;
pub mod result;
pub mod review;
pub mod start;
pub mod trip;

/// Render the GET page built by `f` from the started session, or redirect to `/`.
pub(crate) fn page<T: Template>(
    st: &WizardState,
    headers: &HeaderMap,
    f: impl FnOnce(&mut Session) -> Option<T>,
) -> Response {
    let Some(cookie) = st.sessions.cookie(headers) else {
        return see_other("/");
    };
    match st
        .sessions
        .with(&cookie, |s| if s.started { f(s) } else { None })
        .flatten()
    {
        Some(p) => render(&p),
        None => see_other("/"),
    }
}

/// Handle a step's POST: limits, session, CSRF, then `f` on the session.
pub(crate) fn post(
    st: &WizardState,
    headers: &HeaderMap,
    form: Vec<(String, String)>,
    f: impl FnOnce(&mut Session, &Fields) -> Response,
) -> Response {
    let fields = match Fields::new(form) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let Some(cookie) = st.sessions.cookie(headers) else {
        return see_other("/");
    };
    let r = st.sessions.with(&cookie, |s| {
        if !fields.csrf_ok(&s.csrf) {
            return Err(AppError::Forbidden);
        }
        if !s.started {
            return Ok(see_other("/"));
        }
        Ok(f(s, &fields))
    });
    match r {
        None => see_other("/"),
        Some(Ok(resp)) => resp,
        Some(Err(e)) => e.into_response(),
    }
}

/// Fallback: the 404 page.
pub async fn not_found() -> Response {
    AppError::NotFound.into_response()
}

/// A localised message for a bad field: `field` is the form field (`flight`,
/// `item-0-quantity`…), `code` the domain's error code, `empty` whether nothing was typed.
pub(crate) fn field_message(lang: Lang, field: &str, code: &str, empty: bool) -> String {
    let base = field.rsplit('-').next().unwrap_or(field);
    let key = if empty && code != "not_applicable" {
        "kiosk-error-required"
    } else {
        match (base, code) {
            ("surname" | "given_names", _) => "kiosk-error-name",
            ("nationality", _) => "kiosk-error-nationality",
            ("birth_date", _) => "kiosk-error-birth-date",
            ("passport_expiry", _) => "kiosk-error-passport-expiry",
            ("passport_number", _) => "kiosk-error-passport-number",
            ("sex", _) => "kiosk-error-sex",
            ("flight", _) => "kiosk-error-flight",
            ("origin", _) => "kiosk-error-origin",
            ("arrival_date", _) => "kiosk-error-date",
            ("address_in_japan" | "occupation", _) => "kiosk-error-text",
            ("phone", _) => "kiosk-error-phone",
            ("party", _) => "kiosk-error-party",
            ("packages", _) => "kiosk-error-packages",
            ("quantity", _) => "kiosk-error-quantity",
            ("size", "required") => "kiosk-error-size-required",
            ("size", _) => "kiosk-error-size",
            ("amount", _) => "kiosk-error-amount",
            ("currency", _) => "kiosk-error-currency",
            ("category", _) => "kiosk-error-category",
            ("items", _) => "kiosk-error-too-many-items",
            _ => "kiosk-error-invalid",
        }
    };
    i18n::t(lang, key)
}

/// The form field of a domain error pointer, and the step (1–5) it is on.
pub(crate) fn field_of_pointer(pointer: &str) -> (u8, String) {
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["passenger", f] => (1, (*f).to_owned()),
        ["trip", f] => (2, (*f).to_owned()),
        ["party"] => (3, "party".into()),
        ["answers", ..] => (4, "packages".into()),
        ["items", i, rest @ ..] => {
            let f = match rest {
                ["volume_ml"] | ["weight_g"] => "size",
                ["value", "currency"] => "currency",
                ["value", "amount"] | ["value"] => "amount",
                ["quantity"] => "quantity",
                ["category"] => "category",
                _ => "category",
            };
            (5, format!("item-{i}-{f}"))
        }
        ["items"] => (5, "items".into()),
        _ => (6, "form".into()),
    }
}

/// Localise domain field errors for the form (field id, message).
pub(crate) fn localise(
    lang: Lang,
    errors: &[FieldError],
    typed: impl Fn(&str) -> bool,
) -> Vec<(u8, String, String)> {
    errors
        .iter()
        .map(|e| {
            let (step, field) = field_of_pointer(&e.pointer);
            let msg = field_message(lang, &field, e.code, !typed(&field));
            (step, field, msg)
        })
        .collect()
}

/// A localised message with arguments.
pub(crate) fn ta(lang: Lang, key: &str, args: &[(&str, FluentArg)]) -> String {
    i18n::t_args(lang, key, args)
}

/// Where a step's "Back"/"Next" buttons lead.
pub(crate) const STEP_PATHS: [&str; 7] = [
    "/passport",
    "/trip",
    "/party",
    "/questions",
    "/items",
    "/review",
    "/result",
];

/// The path of step `n` (1-based).
pub(crate) fn step_path(n: u8) -> &'static str {
    STEP_PATHS
        .get(usize::from(n.max(1)) - 1)
        .copied()
        .unwrap_or("/")
}

/// `(value, label, selected)` option of a select.
#[derive(Debug, Clone)]
pub struct Opt {
    /// Submitted value.
    pub value: String,
    /// Shown label.
    pub label: String,
    /// Whether selected.
    pub selected: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_map_to_form_fields_on_their_step() {
        assert_eq!(field_of_pointer("/trip/flight"), (2, "flight".into()));
        assert_eq!(
            field_of_pointer("/items/3/value/currency"),
            (5, "item-3-currency".into())
        );
        assert_eq!(
            field_of_pointer("/items/0/volume_ml"),
            (5, "item-0-size".into())
        );
        assert_eq!(
            field_of_pointer("/passenger/surname"),
            (1, "surname".into())
        );
        assert_eq!(step_path(5), "/items");
    }

    #[test]
    fn messages_are_localised_with_a_required_fallback() {
        assert_eq!(
            field_message(Lang::Ja, "flight", "invalid", true),
            i18n::t(Lang::Ja, "kiosk-error-required")
        );
        assert_ne!(
            field_message(Lang::Ja, "item-0-quantity", "out_of_range", false),
            field_message(Lang::En, "item-0-quantity", "out_of_range", false)
        );
    }
}
