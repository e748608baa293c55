//! Step 1: the passport. The passenger (or a passport reader acting as a keyboard)
//! types or pastes the two MRZ lines; the wizard reads them with check digits and shows
//! the fields for confirmation. A check-digit error is shown next to the field it
//! guards. On a phone the fields of the photo page may be typed instead (`p-<field>`).

use super::{field_message, page, post as step_post, ta};
use crate::WizardState;
use crate::html::{Layout, Nonce, see_other};
use crate::session::Session;
use askama::Template;
use axum::extract::{Extension, Form, State};
use axum::http::HeaderMap;
use axum::response::Response;
use shared::domain::{PassengerInput, ValidationErrors, format_date};
use shared::i18n::{self, Lang};
use shared::mrz::{MrzError, Td3, parse_td3};

/// One field read from the MRZ.
#[derive(Debug, Clone)]
pub struct Shown {
    /// Form field id.
    pub id: &'static str,
    /// Label key.
    pub label: String,
    /// Value read (empty before a successful read).
    pub value: String,
}

/// The passport page.
#[derive(Template)]
#[template(path = "passport.html")]
pub struct PassportPage {
    /// Layout.
    pub l: Layout,
    /// Field errors (field id, message).
    pub errors: Vec<(String, String)>,
    /// The MRZ as typed.
    pub mrz: String,
    /// The fields read from it.
    pub fields: Vec<Shown>,
    /// Whether the MRZ was read successfully (shows "Continue").
    pub read_ok: bool,
    /// Phone mode: the photo page's fields, typed (`p-<field>`).
    pub typed: Vec<Typed>,
}

/// A photo-page field typed on a phone.
#[derive(Debug, Clone)]
pub struct Typed {
    /// Form field name (`p-surname`, …).
    pub id: String,
    /// Label.
    pub label: String,
    /// Value as typed.
    pub value: String,
    /// `text`, `date` or `sex` (a select).
    pub kind: &'static str,
}

impl PassportPage {
    /// The sex options (code, label, selected) of the typed form.
    pub fn sexes(&self, value: &str) -> Vec<(&'static str, String, bool)> {
        ["F", "M", "X"]
            .iter()
            .map(|c| {
                let label = i18n::t(
                    self.l.lang,
                    &format!("kiosk-sex-{}", c.to_ascii_lowercase()),
                );
                (*c, label, value == *c)
            })
            .collect()
    }
}

fn typed_value<'a>(p: &'a PassengerInput, id: &str) -> &'a str {
    match id {
        "surname" => &p.surname,
        "given_names" => &p.given_names,
        "nationality" => &p.nationality,
        "birth_date" => &p.birth_date,
        "sex" => &p.sex,
        "passport_number" => &p.passport_number,
        "passport_expiry" => &p.passport_expiry,
        _ => "",
    }
}
crate::html::page_helpers!(PassportPage);

const SHOWN: [(&str, &str); 7] = [
    ("surname", "kiosk-passport-surname"),
    ("given_names", "kiosk-passport-given-names"),
    ("nationality", "kiosk-passport-nationality"),
    ("birth_date", "kiosk-passport-birth-date"),
    ("sex", "kiosk-passport-sex"),
    ("passport_number", "kiosk-passport-number"),
    ("passport_expiry", "kiosk-passport-expiry"),
];

fn value_of(p: &PassengerInput, id: &str, lang: Lang) -> String {
    match id {
        "surname" => p.surname.clone(),
        "given_names" => p.given_names.clone(),
        "nationality" => p.nationality.clone(),
        "birth_date" => p.birth_date.clone(),
        "sex" => i18n::t(lang, &format!("kiosk-sex-{}", p.sex.to_ascii_lowercase())),
        "passport_number" => p.passport_number.clone(),
        "passport_expiry" => p.passport_expiry.clone(),
        _ => String::new(),
    }
}

/// `GET /passport`.
pub async fn get(
    State(st): State<WizardState>,
    Extension(nonce): Extension<Nonce>,
    headers: HeaderMap,
) -> Response {
    page(&st, &headers, |s| {
        let lang = s.lang;
        let fields = SHOWN
            .iter()
            .map(|(id, key)| Shown {
                id,
                label: i18n::t(lang, key),
                value: s
                    .draft
                    .passenger
                    .as_ref()
                    .map(|p| value_of(p, id, lang))
                    .unwrap_or_default(),
            })
            .collect();
        let shown_typed = if s.draft.typed_passenger.surname.is_empty() {
            s.draft.passenger.clone().unwrap_or_default()
        } else {
            s.draft.typed_passenger.clone()
        };
        let typed = if st.phone() {
            SHOWN
                .iter()
                .map(|(id, key)| Typed {
                    id: format!("p-{id}"),
                    label: i18n::t(lang, key),
                    value: typed_value(&shown_typed, id).to_owned(),
                    kind: match *id {
                        "birth_date" | "passport_expiry" => "date",
                        "sex" => "sex",
                        _ => "text",
                    },
                })
                .collect()
        } else {
            Vec::new()
        };
        Some(PassportPage {
            l: Layout::of(&st, s, &nonce, 1, "kiosk-passport-title"),
            errors: std::mem::take(&mut s.errors),
            mrz: s.draft.mrz.clone(),
            fields,
            read_ok: s.draft.passenger.is_some() && !s.draft.mrz.is_empty(),
            typed,
        })
    })
}

/// `POST /passport`: `action` = `read` (default), `next`, `stay`, or on a phone
/// `typed` (the photo page's fields).
pub async fn post(
    State(st): State<WizardState>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let today = st.today();
    let phone = st.phone();
    step_post(&st, &headers, form, |s, f| {
        let action = f.get("action");
        if phone && action == "typed" {
            return typed(s, f, today);
        }
        let typed = normalise(f.get("mrz"));
        if action == "stay" {
            if typed != s.draft.mrz {
                s.draft.mrz = typed;
                s.draft.passenger = None;
            }
            return see_other("/passport");
        }
        let previous = s.draft.passenger.take();
        s.draft.mrz = typed.clone();
        match read(s, &typed, today) {
            Some(p) => {
                let confirmed = action == "next" && previous.as_ref() == Some(&p);
                s.draft.passenger = Some(p);
                s.draft.passport_confirmed = confirmed;
                if confirmed {
                    see_other("/trip")
                } else {
                    see_other("/passport")
                }
            }
            None => see_other("/passport"),
        }
    })
}

/// The photo page's fields typed on a phone: validated with the domain constructors
/// (the API's), the passport not expired; then on to the trip.
fn typed(s: &mut Session, f: &crate::html::Fields, today: time::Date) -> Response {
    let g = |id: &str| f.get(&format!("p-{id}")).trim().to_owned();
    let upper = |id: &str| g(id).to_uppercase();
    let input = PassengerInput {
        surname: upper("surname"),
        given_names: upper("given_names"),
        nationality: upper("nationality"),
        birth_date: g("birth_date"),
        sex: upper("sex"),
        passport_number: upper("passport_number"),
        passport_expiry: g("passport_expiry"),
    };
    s.draft.typed_passenger = input.clone();
    let lang = s.lang;
    let mut errs = ValidationErrors::default();
    input.validate("/passenger", &mut errs);
    let mut errors: Vec<(String, String)> = errs
        .errors()
        .iter()
        .map(|e| {
            let (_, field) = super::field_of_pointer(&e.pointer);
            let empty = typed_value(&input, &field).is_empty();
            let msg = field_message(lang, &field, e.code, empty);
            (format!("p-{field}"), msg)
        })
        .collect();
    if let Some(expiry) = shared::domain::parse_date(&input.passport_expiry)
        && expiry < today
    {
        errors.push((
            "p-passport_expiry".into(),
            i18n::t(lang, "kiosk-error-passport-expired"),
        ));
    }
    if !errors.is_empty() {
        s.errors = errors;
        return see_other("/passport");
    }
    s.draft.mrz.clear();
    s.draft.passenger = Some(input);
    s.draft.passport_confirmed = true;
    see_other("/trip")
}

/// Upper-case what was typed and drop blank lines and surrounding spaces.
fn normalise(input: &str) -> String {
    input
        .lines()
        .map(|l| l.trim().to_ascii_uppercase())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Read the MRZ and validate the identity; on failure record the errors in the session.
fn read(s: &mut Session, mrz: &str, today: time::Date) -> Option<PassengerInput> {
    let lang = s.lang;
    let td3 = match parse_td3(mrz, today) {
        Ok(t) => t,
        Err(e) => {
            s.errors = vec![(field_for(&e).to_owned(), mrz_message(lang, &e))];
            return None;
        }
    };
    let input = passenger_input(&td3);
    let mut errs = ValidationErrors::default();
    input.validate("/passenger", &mut errs);
    let mut errors: Vec<(String, String)> = errs
        .errors()
        .iter()
        .map(|e| {
            let (_, field) = super::field_of_pointer(&e.pointer);
            let msg = field_message(lang, &field, e.code, false);
            (field, msg)
        })
        .collect();
    if td3.is_expired(today) {
        errors.push((
            "passport_expiry".into(),
            i18n::t(lang, "kiosk-error-passport-expired"),
        ));
    }
    if errors.is_empty() {
        Some(input)
    } else {
        s.errors = errors;
        None
    }
}

fn passenger_input(t: &Td3) -> PassengerInput {
    PassengerInput {
        surname: t.surname.clone(),
        given_names: t.given_names.clone(),
        nationality: t.nationality.clone(),
        birth_date: format_date(t.birth_date),
        sex: t.sex.code().to_owned(),
        passport_number: t.document_number.clone(),
        passport_expiry: format_date(t.expiry_date),
    }
}

/// The shown field an MRZ error belongs to.
fn field_for(e: &MrzError) -> &'static str {
    match e.field_name() {
        "document_number" => "passport_number",
        "expiry_date" => "passport_expiry",
        f @ ("birth_date" | "sex" | "nationality" | "surname" | "given_names") => f,
        _ => "mrz",
    }
}

/// The MRZ error in plain words.
fn mrz_message(lang: Lang, e: &MrzError) -> String {
    match e {
        MrzError::Length { line, found } => ta(
            lang,
            "kiosk-error-mrz-length",
            &[("line", (*line).into()), ("found", (*found).into())],
        ),
        MrzError::LineCount(_) => i18n::t(lang, "kiosk-error-mrz-lines"),
        MrzError::Charset { line, column } => ta(
            lang,
            "kiosk-error-mrz-charset",
            &[("line", (*line).into()), ("column", (*column).into())],
        ),
        MrzError::NotPassport => i18n::t(lang, "kiosk-error-mrz-not-passport"),
        MrzError::Field { .. } => i18n::t(lang, "kiosk-error-mrz-field"),
        MrzError::CheckDigit { .. } => i18n::t(lang, "kiosk-error-mrz-check-digit"),
    }
}
