//! Step 2: the trip — flight, airport of embarkation, arrival date (today in Japan by
//! default; at a kiosk never in the future, as it stands in the arrival hall; on a
//! phone from yesterday to the token policy's longest validity ahead, as the API
//! accepts), address and phone in Japan, occupation.

use super::{field_message, page, post as step_post};
use crate::WizardState;
use crate::html::{Layout, Nonce, see_other};
use askama::Template;
use axum::extract::{Extension, Form, State};
use axum::http::HeaderMap;
use axum::response::Response;
use shared::domain::{TripInput, ValidationErrors, format_date, parse_date};
use shared::i18n;

/// One text field of the page.
#[derive(Debug, Clone)]
pub struct TextField {
    /// Field id and name.
    pub id: &'static str,
    /// Label.
    pub label: String,
    /// Hint under the label.
    pub hint: String,
    /// Value as typed.
    pub value: String,
    /// `type` attribute.
    pub kind: &'static str,
    /// `inputmode` attribute.
    pub inputmode: &'static str,
}

/// The trip page.
#[derive(Template)]
#[template(path = "trip.html")]
pub struct TripPage {
    /// Layout.
    pub l: Layout,
    /// Field errors.
    pub errors: Vec<(String, String)>,
    /// The fields.
    pub fields: Vec<TextField>,
    /// Latest arrival date (`max` of the date input): today at a kiosk.
    pub today: String,
    /// Earliest arrival date (`min` of the date input, phone only).
    pub earliest: String,
}
crate::html::page_helpers!(TripPage);

/// (id, type, inputmode) of each field, in page order.
const FIELDS: [(&str, &str, &str); 6] = [
    ("flight", "text", "text"),
    ("origin", "text", "text"),
    ("arrival_date", "date", "numeric"),
    ("address_in_japan", "text", "text"),
    ("phone", "tel", "tel"),
    ("occupation", "text", "text"),
];

fn get_field<'a>(t: &'a TripInput, id: &str) -> &'a str {
    match id {
        "flight" => &t.flight,
        "origin" => &t.origin,
        "arrival_date" => &t.arrival_date,
        "address_in_japan" => &t.address_in_japan,
        "phone" => &t.phone,
        "occupation" => &t.occupation,
        _ => "",
    }
}

/// `GET /trip`.
pub async fn get(
    State(st): State<WizardState>,
    Extension(nonce): Extension<Nonce>,
    headers: HeaderMap,
) -> Response {
    let today_date = st.today();
    let today = format_date(today_date);
    let (earliest, latest) = window(&st, today_date);
    page(&st, &headers, |s| {
        if s.draft.trip.arrival_date.is_empty() {
            s.draft.trip.arrival_date = today.clone();
        }
        let lang = s.lang;
        let phone = st.phone();
        let fields = FIELDS
            .iter()
            .map(|(id, kind, inputmode)| {
                let key = id.replace('_', "-");
                TextField {
                    id,
                    label: i18n::t(lang, &format!("kiosk-trip-{key}")),
                    hint: if phone && *id == "arrival_date" {
                        i18n::t(lang, "kiosk-phone-arrival-date-hint")
                    } else {
                        i18n::t(lang, &format!("kiosk-trip-{key}-hint"))
                    },
                    value: get_field(&s.draft.trip, id).to_owned(),
                    kind,
                    inputmode,
                }
            })
            .collect();
        Some(TripPage {
            l: Layout::of(&st, s, &nonce, 2, "kiosk-trip-title"),
            errors: std::mem::take(&mut s.errors),
            fields,
            today: format_date(latest),
            earliest: if st.phone() {
                format_date(earliest)
            } else {
                String::new()
            },
        })
    })
}

/// `POST /trip`: `action` = `next`, `back` or `stay`.
pub async fn post(
    State(st): State<WizardState>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let today = st.today();
    let window = window(&st, today);
    step_post(&st, &headers, form, |s, f| {
        let t = TripInput {
            flight: f.get("flight").trim().to_owned(),
            origin: f.get("origin").trim().to_owned(),
            arrival_date: f.get("arrival_date").trim().to_owned(),
            address_in_japan: f.get("address_in_japan").trim().to_owned(),
            phone: f.get("phone").trim().to_owned(),
            occupation: f.get("occupation").trim().to_owned(),
        };
        s.draft.trip = t.clone();
        match f.get("action") {
            "back" => return see_other("/passport"),
            "stay" => return see_other("/trip"),
            _ => {}
        }
        let errors = check(&t, window, s.lang);
        if errors.is_empty() {
            see_other("/party")
        } else {
            s.errors = errors;
            see_other("/trip")
        }
    })
}

/// The arrival dates a passenger may declare, earliest and latest: at a kiosk
/// yesterday or today in Japan; on a phone from yesterday to the token policy's longest
/// validity ahead (the window `POST /v1/declarations` accepts).
pub(crate) fn window(st: &WizardState, today: time::Date) -> (time::Date, time::Date) {
    let earliest = today.previous_day().unwrap_or(today);
    let latest = if st.phone() {
        today
            .checked_add(st.policy.validity().max())
            .unwrap_or(today)
    } else {
        today
    };
    (earliest, latest)
}

/// Validate the trip with the domain constructors, plus the date window
/// ([`window`]).
pub(crate) fn check(
    t: &TripInput,
    (earliest, latest): (time::Date, time::Date),
    lang: shared::i18n::Lang,
) -> Vec<(String, String)> {
    let mut errs = ValidationErrors::default();
    t.validate("/trip", &mut errs);
    let mut out: Vec<(String, String)> = errs
        .errors()
        .iter()
        .map(|e| {
            let (_, field) = super::field_of_pointer(&e.pointer);
            let empty = get_field(t, &field).is_empty();
            let msg = field_message(lang, &field, e.code, empty);
            (field, msg)
        })
        .collect();
    if let Some(d) = parse_date(&t.arrival_date) {
        // A window reaching past today is the phone's: its messages name that window.
        let ahead = latest > earliest.next_day().unwrap_or(earliest);
        if d > latest {
            let msg = if ahead {
                i18n::t_args(
                    lang,
                    "kiosk-error-arrival-too-far",
                    &[("date", format_date(latest).into())],
                )
            } else {
                i18n::t(lang, "kiosk-error-arrival-future")
            };
            out.push(("arrival_date".into(), msg));
        } else if d < earliest {
            let key = if ahead {
                "kiosk-error-arrival-too-early"
            } else {
                "kiosk-error-arrival-past"
            };
            out.push(("arrival_date".into(), i18n::t(lang, key)));
        }
    }
    out
}
