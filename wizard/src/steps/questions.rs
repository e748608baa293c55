//! Step 4: the yes/no questions of Customs Form C No. 5360, each with a plain-language
//! explanation, and the number of unaccompanied (separately shipped) packages.

use super::{page, post as step_post};
use crate::WizardState;
use crate::html::{Layout, Nonce, see_other};
use askama::Template;
use axum::extract::{Extension, Form, State};
use axum::http::HeaderMap;
use axum::response::Response;
use shared::domain::Answers;
use shared::i18n::{self, Lang};

/// The questions' codes, in form order (field `q-<code>`, keys `kiosk-q-<code>`).
pub const QUESTIONS: [&str; 7] = [
    "prohibited",
    "over-allowance",
    "commercial",
    "for-others",
    "means-of-payment",
    "precious-metal",
    "unaccompanied",
];

/// One question as shown.
#[derive(Debug, Clone)]
pub struct Question {
    /// Code.
    pub code: &'static str,
    /// The question.
    pub text: String,
    /// What it means, in plain words.
    pub help: String,
    /// Answered yes.
    pub yes: bool,
    /// Answered no.
    pub no: bool,
}

/// The questions page.
#[derive(Template)]
#[template(path = "questions.html")]
pub struct QuestionsPage {
    /// Layout.
    pub l: Layout,
    /// Field errors (`q-<code>`, `packages`).
    pub errors: Vec<(String, String)>,
    /// The questions.
    pub questions: Vec<Question>,
    /// Unaccompanied packages as typed.
    pub packages: String,
}
crate::html::page_helpers!(QuestionsPage);

/// `GET /questions`.
pub async fn get(
    State(st): State<WizardState>,
    Extension(nonce): Extension<Nonce>,
    headers: HeaderMap,
) -> Response {
    page(&st, &headers, |s| {
        let lang = s.lang;
        let questions = QUESTIONS
            .iter()
            .zip(s.draft.answers.iter())
            .map(|(code, a)| Question {
                code,
                text: i18n::t(lang, &format!("kiosk-q-{code}")),
                help: i18n::t(lang, &format!("kiosk-q-{code}-help")),
                yes: *a == Some(true),
                no: *a == Some(false),
            })
            .collect();
        Some(QuestionsPage {
            l: Layout::of(&st, s, &nonce, 4, "kiosk-questions-title"),
            errors: std::mem::take(&mut s.errors),
            questions,
            packages: s.draft.packages.clone(),
        })
    })
}

/// Turn the typed answers into [`Answers`]; errors per field.
pub(crate) fn parse(
    answers: &[Option<bool>; 7],
    packages: &str,
    lang: Lang,
) -> Result<Answers, Vec<(String, String)>> {
    let mut errors = Vec::new();
    for (code, a) in QUESTIONS.iter().zip(answers) {
        if a.is_none() {
            errors.push((format!("q-{code}"), i18n::t(lang, "kiosk-error-answer")));
        }
    }
    let mut n_packages = 0;
    if answers[6] == Some(true) {
        match packages.trim().parse::<u32>() {
            Ok(n) if (1..=999).contains(&n) => n_packages = n,
            _ => errors.push(("packages".into(), i18n::t(lang, "kiosk-error-packages"))),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let yes = |i: usize| answers[i] == Some(true);
    Ok(Answers {
        prohibited: yes(0),
        over_allowance: yes(1),
        commercial: yes(2),
        for_others: yes(3),
        means_of_payment_over_limit: yes(4),
        precious_metal_over_1kg: yes(5),
        unaccompanied_packages: n_packages,
    })
}

/// `POST /questions`: `action` = `next`, `back` or `stay`.
pub async fn post(
    State(st): State<WizardState>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    step_post(&st, &headers, form, |s, f| {
        for (i, code) in QUESTIONS.iter().enumerate() {
            s.draft.answers[i] = match f.get(&format!("q-{code}")) {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            };
        }
        s.draft.packages = f.get("packages").trim().to_owned();
        match f.get("action") {
            "back" => return see_other("/party"),
            "stay" => return see_other("/questions"),
            _ => {}
        }
        match parse(&s.draft.answers, &s.draft.packages, s.lang) {
            Ok(_) => see_other("/items"),
            Err(e) => {
                s.errors = e;
                see_other("/questions")
            }
        }
    })
}
