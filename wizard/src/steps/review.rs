//! Step 6: the review — everything typed, with an edit link per section (on a phone
//! also the lane preview and the duty estimate, recalculated on every view and live by
//! the estimate script); "Confirm" validates the whole declaration with the domain
//! constructors and the profile, judges it and hands it to the service's
//! [`crate::Submit`] (a new declaration, or the amendment of the one being edited).

use super::{items, page, party, questions, step_path, trip};
use crate::WizardState;
use crate::error::WizardError as AppError;
use crate::html::{Fields, Layout, Nonce, see_other};
use crate::session::{Draft, Issued};
use crate::submit::{Submission, SubmitError};
use askama::Template;
use axum::extract::{Extension, Form, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use shared::domain::{Declaration, DeclarationInput, ItemInput, ValidationErrors};
use shared::i18n::{self, Lang};
use shared::rules::{RulesProfile, evaluate};

/// A labelled value.
#[derive(Debug, Clone)]
pub struct Row {
    /// Label.
    pub label: String,
    /// Value.
    pub value: String,
}

/// A section of the review with its edit link.
#[derive(Debug, Clone)]
pub struct Section {
    /// Heading.
    pub title: String,
    /// Where "Edit" leads.
    pub edit: &'static str,
    /// Rows.
    pub rows: Vec<Row>,
}

/// The review page.
#[derive(Template)]
#[template(path = "review.html")]
pub struct ReviewPage {
    /// Layout.
    pub l: Layout,
    /// Errors (only `form`).
    pub errors: Vec<(String, String)>,
    /// Sections.
    pub sections: Vec<Section>,
    /// Phone mode: the estimate of what is declared so far.
    pub estimate: Option<super::result::EstimateView>,
    /// Phone mode: the body of `POST /v1/estimate` for the live script.
    pub estimate_body: String,
    /// Phone mode: the declaration being changed (its QR will be replaced).
    pub amending: bool,
}
crate::html::page_helpers!(ReviewPage);

fn sections(d: &Draft, lang: Lang) -> Vec<Section> {
    let t = |k: &str| i18n::t(lang, k);
    let row = |k: &str, v: &str| Row {
        label: t(k),
        value: v.to_owned(),
    };
    let mut out = Vec::new();
    if let Some(p) = &d.passenger {
        out.push(Section {
            title: t("kiosk-passport-title"),
            edit: "/passport",
            rows: vec![
                row("kiosk-passport-surname", &p.surname),
                row("kiosk-passport-given-names", &p.given_names),
                row("kiosk-passport-nationality", &p.nationality),
                row("kiosk-passport-birth-date", &p.birth_date),
                row(
                    "kiosk-passport-sex",
                    &t(&format!("kiosk-sex-{}", p.sex.to_ascii_lowercase())),
                ),
                row("kiosk-passport-number", &p.passport_number),
                row("kiosk-passport-expiry", &p.passport_expiry),
            ],
        });
    }
    let tr = &d.trip;
    out.push(Section {
        title: t("kiosk-trip-title"),
        edit: "/trip",
        rows: vec![
            row("kiosk-trip-flight", &tr.flight),
            row("kiosk-trip-origin", &tr.origin),
            row("kiosk-trip-arrival-date", &tr.arrival_date),
            row("kiosk-trip-address-in-japan", &tr.address_in_japan),
            row("kiosk-trip-phone", &tr.phone),
            row("kiosk-trip-occupation", &tr.occupation),
        ],
    });
    out.push(Section {
        title: t("kiosk-party-title"),
        edit: "/party",
        rows: party::BANDS
            .iter()
            .zip(&d.party)
            .map(|(b, v)| row(&format!("kiosk-party-{}", b.replace('_', "-")), v))
            .collect(),
    });
    let mut answers: Vec<Row> = questions::QUESTIONS
        .iter()
        .zip(&d.answers)
        .map(|(q, a)| {
            let v = match a {
                Some(true) => t("kiosk-yes"),
                Some(false) => t("kiosk-no"),
                None => "—".into(),
            };
            row(&format!("kiosk-q-{q}"), &v)
        })
        .collect();
    if d.answers[6] == Some(true) {
        answers.push(row("kiosk-q-packages", &d.packages));
    }
    out.push(Section {
        title: t("kiosk-questions-title"),
        edit: "/questions",
        rows: answers,
    });
    let item_rows = if d.items.is_empty() {
        vec![Row {
            label: t("kiosk-items-none"),
            value: String::new(),
        }]
    } else {
        d.items
            .iter()
            .map(|r| {
                let name = shared::domain::Category::from_code(&r.category)
                    .map(|c| t(&items::category_key(c)))
                    .unwrap_or_default();
                let size = if r.size.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", r.size)
                };
                let child = if r.for_child {
                    format!(" · {}", t("kiosk-phone-for-child"))
                } else {
                    String::new()
                };
                Row {
                    label: name,
                    value: format!(
                        "× {}{size} — {} {}{child}",
                        r.quantity, r.amount, r.currency
                    ),
                }
            })
            .collect()
    };
    out.push(Section {
        title: t("kiosk-items-title"),
        edit: "/items",
        rows: item_rows,
    });
    out
}

/// `GET /review`.
pub async fn get(
    State(st): State<WizardState>,
    Extension(nonce): Extension<Nonce>,
    headers: HeaderMap,
) -> Response {
    let profile = st.profile.clone();
    page(&st, &headers, |s| {
        let (estimate, estimate_body) = if st.phone() {
            super::estimate::of_draft(&s.draft, &profile, s.lang)
        } else {
            (None, String::new())
        };
        Some(ReviewPage {
            l: Layout::of(&st, s, &nonce, 6, "kiosk-review-title"),
            errors: std::mem::take(&mut s.errors),
            sections: sections(&s.draft, s.lang),
            estimate,
            estimate_body,
            amending: s.amend.is_some(),
        })
    })
}

/// Clears the session's [`crate::session::Session::submitting`] when dropped.
struct Submitting<'a> {
    st: &'a WizardState,
    cookie: &'a str,
}

impl Drop for Submitting<'_> {
    fn drop(&mut self) {
        self.st.sessions.with(self.cookie, |s| s.submitting = false);
    }
}

/// Why the draft cannot be confirmed: the step to go back to and its field errors
/// (field id, localised message).
pub(crate) type Refused = (u8, Vec<(String, String)>);

/// Validate the whole draft; on failure the step to go back to and its errors.
pub(crate) fn assemble(
    d: &Draft,
    profile: &RulesProfile,
    window: (time::Date, time::Date),
    lang: Lang,
) -> Result<(DeclarationInput, Declaration), Refused> {
    let Some(passenger) = d.passenger.clone().filter(|_| d.passport_confirmed) else {
        return Err((
            1,
            vec![("mrz".into(), i18n::t(lang, "kiosk-error-passport-missing"))],
        ));
    };
    let e = trip::check(&d.trip, window, lang);
    if !e.is_empty() {
        return Err((2, e));
    }
    let party = party::parse(&d.party, lang).map_err(|e| (3, e))?;
    let answers = questions::parse(&d.answers, &d.packages, lang).map_err(|e| (4, e))?;
    let items = items::parse(&d.items, profile, lang).map_err(|e| (5, e))?;
    let input = DeclarationInput {
        passenger,
        trip: d.trip.clone(),
        party,
        answers,
        items: items.iter().map(ItemInput::from).collect(),
    };
    let decl = input.validate().map_err(|errs| refused(lang, &errs))?;
    if let Err(errs) = profile.check_declared(&decl.declared, "") {
        let list = super::localise(lang, errs.errors(), |_| true);
        return Err((5, list.into_iter().map(|(_, f, m)| (f, m)).collect()));
    }
    Ok((input, decl))
}

/// A passport typed from the photo page (no MRZ) shows its errors on the typed fields
/// (`p-<field>`), not on the MRZ read-out.
fn on_typed_passport(
    s: &crate::session::Session,
    step: u8,
    errors: Vec<(String, String)>,
) -> Vec<(String, String)> {
    if step != 1 || !s.draft.mrz.is_empty() || s.draft.passenger.is_none() {
        return errors;
    }
    errors
        .into_iter()
        .map(|(f, m)| {
            if f == "mrz" {
                (f, m)
            } else {
                (format!("p-{f}"), m)
            }
        })
        .collect()
}

/// Domain errors as the step to go back to and its localised field errors.
fn refused(lang: Lang, errs: &ValidationErrors) -> Refused {
    let list = super::localise(lang, errs.errors(), |_| true);
    let step = list.first().map_or(6, |(s, _, _)| *s);
    (step, list.into_iter().map(|(_, f, m)| (f, m)).collect())
}

/// `POST /review`: `action` = `confirm`, `back` or `stay`.
pub async fn post(
    State(st): State<WizardState>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let fields = match Fields::new(form) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let Some(cookie) = st.sessions.cookie(&headers) else {
        return see_other("/");
    };
    let window = trip::window(&st, st.today());
    let profile = st.profile.clone();
    // The early answer is boxed: a `Response` is large and this is the rare path.
    let checked = st.sessions.with(
        &cookie,
        |s| -> Result<(DeclarationInput, Declaration, _, Lang), Box<Response>> {
            if !fields.csrf_ok(&s.csrf) {
                return Err(Box::new(AppError::Forbidden.into_response()));
            }
            if !s.started {
                return Err(Box::new(see_other("/")));
            }
            if s.issued.is_some() {
                return Err(Box::new(see_other("/result")));
            }
            match fields.get("action") {
                "back" => return Err(Box::new(see_other("/items"))),
                "stay" => return Err(Box::new(see_other("/review"))),
                _ => {}
            }
            // A confirmation of this session is in flight (a double tap): its result
            // page waits for it; a second declaration would be one the device never
            // gets the edit token of.
            if s.submitting {
                return Err(Box::new(see_other("/result")));
            }
            match assemble(&s.draft, &profile, window, s.lang) {
                Ok((input, decl)) => {
                    s.submitting = true;
                    Ok((input, decl, s.amend.clone(), s.lang))
                }
                Err((step, errors)) => {
                    s.errors = on_typed_passport(s, step, errors);
                    Err(Box::new(see_other(step_path(step))))
                }
            }
        },
    );
    let (input, decl, amend, lang) = match checked {
        None => return see_other("/"),
        Some(Err(resp)) => return *resp,
        Some(Ok(d)) => d,
    };
    // Cleared however this ends (answered, failed, or the client gone mid-way).
    let _in_flight = Submitting {
        st: &st,
        cookie: &cookie,
    };
    let evaluation = evaluate(&profile, &decl.declared);
    let submission = Submission {
        input,
        declaration: decl.clone(),
        evaluation: evaluation.clone(),
        amend,
        now: st.clock.unix(),
    };
    let receipt = match st.submit.submit(submission).await {
        Ok(r) => r,
        Err(SubmitError::Invalid(errs)) => {
            // The service's own checks (the API's) refused a field: back to its step.
            let (step, errors) = refused(lang, &errs);
            st.sessions.with(&cookie, |s| {
                s.errors = on_typed_passport(s, step, errors);
            });
            return see_other(step_path(step));
        }
        Err(SubmitError::NotFound) => return AppError::NotFound.into_response(),
        Err(SubmitError::Conflict) => return AppError::Conflict.into_response(),
        Err(SubmitError::Unavailable(secs)) => return crate::error::unavailable(secs),
        Err(SubmitError::Internal(e)) => {
            tracing::error!(error = %e, "failed to issue the declaration");
            return AppError::Internal.into_response();
        }
    };
    let text = receipt.token.clone();
    let svg = match shared::offload::blocking(move || shared::qr::render_svg(&text)).await {
        Ok(Ok(svg)) => svg,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "failed to render the QR code");
            return AppError::Internal.into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, "failed to render the QR code");
            return AppError::Internal.into_response();
        }
    };
    let issued = Issued {
        declaration_id: receipt.declaration_id,
        evaluation,
        token: receipt.token,
        qr_svg: svg,
        exp: receipt.exp,
        flight: decl.trip.flight.to_string(),
        arrival_date: shared::domain::format_date(decl.trip.arrival_date),
        edit_token: receipt.edit_token,
    };
    match st.sessions.with(&cookie, |s| {
        s.issued = Some(issued);
        s.amend = None;
    }) {
        Some(()) => see_other("/result"),
        None => see_other("/"),
    }
}
