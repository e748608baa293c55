//! Step 6: the review — everything typed, with an edit link per section; "Confirm"
//! validates the whole declaration with the domain constructors and the profile, judges
//! it, signs the token and logs the issuance.

use super::{items, page, party, questions, step_path, trip};
use crate::AppState;
use crate::error::AppError;
use crate::html::{Fields, Layout, Nonce, see_other};
use crate::session::{Draft, Issued, cookie_value};
use askama::Template;
use axum::extract::{Extension, Form, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use shared::domain::{Declaration, DeclarationInput, ItemInput};
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
                Row {
                    label: name,
                    value: format!("× {}{size} — {} {}", r.quantity, r.amount, r.currency),
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
    State(st): State<AppState>,
    Extension(nonce): Extension<Nonce>,
    headers: HeaderMap,
) -> Response {
    let idle = st.config.idle.as_secs();
    page(&st, &headers, |s| {
        Some(ReviewPage {
            l: Layout::of(s, &nonce, idle, 6, "kiosk-review-title"),
            errors: std::mem::take(&mut s.errors),
            sections: sections(&s.draft, s.lang),
        })
    })
}

/// Validate the whole draft; on failure the step to go back to and its errors.
pub(crate) fn assemble(
    d: &Draft,
    profile: &RulesProfile,
    today: time::Date,
    lang: Lang,
) -> Result<Declaration, (u8, Vec<(String, String)>)> {
    let Some(passenger) = d.passenger.clone().filter(|_| d.passport_confirmed) else {
        return Err((
            1,
            vec![("mrz".into(), i18n::t(lang, "kiosk-error-passport-missing"))],
        ));
    };
    let e = trip::check(&d.trip, today, lang);
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
    let decl = input.validate().map_err(|errs| {
        let list = super::localise(lang, errs.errors(), |_| true);
        let step = list.first().map_or(6, |(s, _, _)| *s);
        (step, list.into_iter().map(|(_, f, m)| (f, m)).collect())
    })?;
    if let Err(errs) = profile.check_declared(&decl.declared, "") {
        let list = super::localise(lang, errs.errors(), |_| true);
        return Err((5, list.into_iter().map(|(_, f, m)| (f, m)).collect()));
    }
    Ok(decl)
}

/// `POST /review`: `action` = `confirm`, `back` or `stay`.
pub async fn post(
    State(st): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let fields = match Fields::new(form) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let Some(cookie) = cookie_value(&headers) else {
        return see_other("/");
    };
    let today = st.policy().today(st.clock.unix());
    let profile = st.profile.clone();
    // The early answer is boxed: a `Response` is large and this is the rare path.
    let checked = st
        .sessions
        .with(&cookie, |s| -> Result<Declaration, Box<Response>> {
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
            match assemble(&s.draft, &profile, today, s.lang) {
                Ok(decl) => Ok(decl),
                Err((step, errors)) => {
                    s.errors = errors;
                    Err(Box::new(see_other(step_path(step))))
                }
            }
        });
    let decl = match checked {
        None => return see_other("/"),
        Some(Err(resp)) => return *resp,
        Some(Ok(d)) => d,
    };
    let evaluation = evaluate(&profile, &decl.declared);
    let now = st.clock.unix();
    let token = match st.issuer.issue(&decl, &evaluation, now).await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "failed to issue a kiosk token");
            return AppError::Internal.into_response();
        }
    };
    let text = token.text.clone();
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
        declaration_id: token.declaration_id,
        evaluation,
        token: token.text,
        qr_svg: svg,
        exp: token.exp,
        flight: decl.trip.flight.to_string(),
        arrival_date: shared::domain::format_date(decl.trip.arrival_date),
    };
    match st.sessions.with(&cookie, |s| s.issued = Some(issued)) {
        Some(()) => see_other("/result"),
        None => see_other("/"),
    }
}
