//! Step 7: the result — GREEN ("use the E-Gate") or RED ("go to the customs counter"),
//! the reasons in plain words, the duty estimate, the QR code (inline SVG), the 80 mm
//! receipt view and "Finish", which wipes the session. Also the timeout page.

use super::{page, post as step_post, ta};
use crate::WizardState;
use crate::error::WizardError as AppError;
use crate::html::{CLEAR_SITE_DATA, Fields, Layout, Nonce, expired_cookie, render, see_other};
use crate::session::Issued;
use askama::Template;
use axum::extract::{Extension, Form, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use shared::i18n::{self, Lang};
use shared::issuer::TokenPolicy;
use shared::rules::{Evaluation, Lane, Measure, Treatment, group_thousands};

/// One duty-estimate line as shown.
#[derive(Debug, Clone)]
pub struct DutyView {
    /// Category and quantity.
    pub label: String,
    /// Free, dutiable with the amount, or assessed by an officer.
    pub detail: String,
}

/// What the result page and the receipt show.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// GREEN?
    pub green: bool,
    /// Reasons in plain words (RED).
    pub reasons: Vec<String>,
    /// Duty lines.
    pub lines: Vec<DutyView>,
    /// Total duty, e.g. "Estimated duty in total: ¥1,200".
    pub total: String,
    /// Whether an officer must assess part of it.
    pub officer_needed: bool,
    /// QR code, inline SVG.
    pub qr_svg: String,
    /// Declaration id.
    pub declaration_id: String,
    /// "Valid until …" (Japan time).
    pub valid_until: String,
    /// Flight.
    pub flight: String,
    /// Arrival date.
    pub arrival_date: String,
}

/// The lane, reasons and duty lines of an evaluation as shown (the result page, and
/// the phone's estimate on the items and review pages).
#[derive(Debug, Clone)]
pub struct EstimateView {
    /// GREEN?
    pub green: bool,
    /// Reasons in plain words (the rules' own messages, as the API gives them).
    pub reasons: Vec<String>,
    /// Duty lines.
    pub lines: Vec<DutyView>,
    /// Total duty, e.g. "Estimated duty in total: ¥1,200".
    pub total: String,
    /// Whether an officer must assess part of it.
    pub officer_needed: bool,
}

/// An evaluation as shown in `lang`.
pub fn estimate_view(e: &Evaluation, lang: Lang) -> EstimateView {
    let lines = e
        .duty
        .lines
        .iter()
        .map(|l| {
            let unit = match l.measure {
                Measure::Ml => "kiosk-unit-ml",
                Measure::Units => "kiosk-unit-units",
                Measure::Grams => "kiosk-unit-grams",
                Measure::Articles => "kiosk-unit-articles",
            };
            let label = format!(
                "{}: {} {}",
                i18n::t(lang, &super::items::category_key(l.category)),
                group_thousands(l.quantity_total),
                i18n::t(lang, unit)
            );
            let detail = match &l.treatment {
                Treatment::Free { why } | Treatment::OfficerAssesses { why } => {
                    i18n::t(lang, &format!("treatment-{}", why.replace('_', "-")))
                }
                Treatment::Dutiable { duty_yen, .. } => ta(
                    lang,
                    "kiosk-result-duty-line",
                    &[("yen", group_thousands(*duty_yen).into())],
                ),
            };
            DutyView { label, detail }
        })
        .collect();
    EstimateView {
        green: e.lane == Lane::Green,
        reasons: e.reasons.iter().map(|r| r.message(lang)).collect(),
        lines,
        total: ta(
            lang,
            "kiosk-result-duty-total",
            &[("yen", group_thousands(e.duty.total_yen).into())],
        ),
        officer_needed: e.duty.officer_assessment_needed,
    }
}

fn outcome(i: &Issued, lang: Lang, policy: &TokenPolicy) -> Outcome {
    let v = estimate_view(&i.evaluation, lang);
    let valid_until = {
        let t = policy.local(i.exp);
        format!(
            "{} {:02}:{:02}",
            shared::domain::format_date(t.date()),
            t.hour(),
            t.minute()
        )
    };
    Outcome {
        green: v.green,
        reasons: v.reasons,
        lines: v.lines,
        total: v.total,
        officer_needed: v.officer_needed,
        qr_svg: i.qr_svg.clone(),
        declaration_id: i.declaration_id.clone(),
        valid_until: ta(
            lang,
            "kiosk-result-valid-until",
            &[("time", valid_until.into())],
        ),
        flight: i.flight.clone(),
        arrival_date: i.arrival_date.clone(),
    }
}

/// The phone's data block: what the app shell keeps on the device
/// (docs/wizard.md, "The result page's data block"). Serialised for a
/// `<script type="application/json">`: `<`, `>` and `&` escaped so that no value can
/// close the element.
pub fn data_block(i: &Issued, lang: Lang) -> String {
    let v = serde_json::json!({
        "declaration_id": i.declaration_id,
        "edit_token": i.edit_token,
        "token": i.token,
        "qr_svg": i.qr_svg,
        "expires_at": i.exp,
        "arrival_date": i.arrival_date,
        "lang": lang.code(),
    });
    escape_json(&v)
}

/// JSON for a `<script type="application/json">` element: `<`, `>` and `&` as `\uXXXX`
/// escapes, so that no value can close the element or start markup.
pub fn escape_json(v: &serde_json::Value) -> String {
    v.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The result page.
#[derive(Template)]
#[template(path = "result.html")]
pub struct ResultPage {
    /// Layout.
    pub l: Layout,
    /// Always empty.
    pub errors: Vec<(String, String)>,
    /// The outcome.
    pub o: Outcome,
    /// Phone mode: the data block's JSON ([`data_block`]).
    pub data: String,
}
crate::html::page_helpers!(ResultPage);

/// The 80 mm receipt.
#[derive(Template)]
#[template(path = "print.html")]
pub struct PrintPage {
    /// Layout.
    pub l: Layout,
    /// The outcome.
    pub o: Outcome,
}

impl PrintPage {
    /// A message in the page language.
    pub fn t(&self, key: &str) -> String {
        i18n::t(self.l.lang, key)
    }
}

/// How long `GET /result` waits for a confirmation still being issued (a double tap
/// on "Confirm" is sent here while the first is in flight), in steps of 100 ms.
const IN_FLIGHT_WAIT_STEPS: u32 = 300;

/// `GET /result`.
pub async fn get(
    State(st): State<WizardState>,
    Extension(nonce): Extension<Nonce>,
    headers: HeaderMap,
) -> Response {
    if let Some(cookie) = st.sessions.cookie(&headers) {
        for _ in 0..IN_FLIGHT_WAIT_STEPS {
            let in_flight = st
                .sessions
                .with(&cookie, |s| s.submitting && s.issued.is_none());
            if in_flight != Some(true) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    page(&st, &headers, |s| {
        let issued = s.issued.as_ref()?;
        let o = outcome(issued, s.lang, &st.policy);
        let data = if st.phone() {
            data_block(issued, s.lang)
        } else {
            String::new()
        };
        Some(ResultPage {
            l: Layout::of(&st, s, &nonce, 7, "kiosk-result-title"),
            errors: Vec::new(),
            o,
            data,
        })
    })
}

/// `GET /result/print`.
pub async fn print(
    State(st): State<WizardState>,
    Extension(nonce): Extension<Nonce>,
    headers: HeaderMap,
) -> Response {
    page(&st, &headers, |s| {
        let o = outcome(s.issued.as_ref()?, s.lang, &st.policy);
        Some(PrintPage {
            l: Layout::of(&st, s, &nonce, 0, "kiosk-print-title"),
            o,
        })
    })
}

/// `POST /result`: "more time" on the result page.
pub async fn stay(
    State(st): State<WizardState>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    step_post(&st, &headers, form, |_, _| see_other("/result"))
}

/// The session cookie deleted; on a shared terminal also the browser's cache, cookies
/// and storage (a phone's storage holds the passenger's QR codes: never cleared).
fn wiped(st: &WizardState, mut resp: Response) -> Response {
    let h = resp.headers_mut();
    if !st.phone() {
        h.insert(
            HeaderName::from_static("clear-site-data"),
            HeaderValue::from_static(CLEAR_SITE_DATA),
        );
    }
    if let Ok(v) = HeaderValue::from_str(&expired_cookie(st.sessions.cookie_name())) {
        h.insert(header::SET_COOKIE, v);
    }
    resp
}

/// `POST /finish`: wipe the session, clear the browser's data (kiosk), back to the
/// start; a phone goes to its list of declarations (`/my`, the app shell's page).
pub async fn finish(
    State(st): State<WizardState>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let fields = match Fields::new(form) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    if let Some(cookie) = st.sessions.cookie(&headers) {
        if st.sessions.with(&cookie, |s| fields.csrf_ok(&s.csrf)) == Some(false) {
            return AppError::Forbidden.into_response();
        }
        st.sessions.remove(&cookie);
    }
    let to = if st.phone() {
        crate::html::see_other_root("/my")
    } else {
        see_other("/")
    };
    wiped(&st, to)
}

/// The page shown after an idle timeout.
#[derive(Template)]
#[template(path = "timeout.html")]
pub struct TimeoutPage {
    /// Layout.
    pub l: Layout,
    /// Always empty.
    pub errors: Vec<(String, String)>,
}
crate::html::page_helpers!(TimeoutPage);

/// `GET /timeout`: wipe the session (if still there) and say so.
pub async fn timeout(
    State(st): State<WizardState>,
    Extension(nonce): Extension<Nonce>,
    headers: HeaderMap,
) -> Response {
    let lang = st
        .sessions
        .cookie(&headers)
        .and_then(|c| st.sessions.remove(&c))
        .unwrap_or(Lang::Ja);
    let page = TimeoutPage {
        l: Layout::bare(&st, lang, &nonce, 0, "kiosk-timeout-title"),
        errors: Vec::new(),
    };
    wiped(&st, render(&page))
}

impl TimeoutPage {
    /// The timeout message in every language (the session, and so its language, is gone).
    pub fn all_langs(&self) -> Vec<(&'static str, String)> {
        Lang::ALL
            .iter()
            .map(|l| (l.code(), i18n::t(*l, "kiosk-timeout-message")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::escape_json;

    #[test]
    fn no_value_can_close_the_data_blocks_script_element() {
        let v = serde_json::json!({"qr_svg": "<svg></svg></script><script>alert(1)</script>&"});
        let out = escape_json(&v);
        assert!(!out.contains('<') && !out.contains('>') && !out.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, v);
    }
}
