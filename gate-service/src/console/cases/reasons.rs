//! The reasons of a case as the officer reads them: localised in the page language
//! when a message exists, else the English text the gate stored, else the code; with
//! their details (the rules that fired, the risk rule) as lines.

use crate::case_record::{Audience, CaseReason};
use crate::console::page::PageCtx;
use serde_json::Value;
use shared::i18n::Lang;
use std::collections::BTreeMap;

/// One reason row.
#[derive(Debug, Clone)]
pub struct ReasonView {
    /// Stable code.
    pub code: String,
    /// Localised audience.
    pub audience: String,
    /// Localised message.
    pub message: String,
    /// Detail lines.
    pub detail: Vec<String>,
}

/// The rows of a case's reasons.
pub fn reason_views(ctx: &PageCtx, reasons: &[CaseReason]) -> Vec<ReasonView> {
    reasons
        .iter()
        .map(|r| {
            let args = r.detail.as_ref().map(string_args).unwrap_or_default();
            let audience = match r.audience {
                Audience::Officer => ctx.t("console-audience-officer"),
                Audience::Passenger => ctx.t("console-audience-passenger"),
            };
            ReasonView {
                code: r.code.clone(),
                audience,
                message: localised_reason(ctx.lang, &r.code, args, &r.message_en),
                detail: r
                    .detail
                    .as_ref()
                    .map(|d| detail_lines(ctx.lang, d))
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// The string-valued fields of a JSON object (reason arguments).
fn string_args(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k.clone(), s.clone())),
                    Value::Number(n) => Some((k.clone(), n.to_string())),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A reason in the page language when a message exists for it, else the English text
/// the gate stored, else the code.
fn localised_reason(
    lang: Lang,
    code: &str,
    args: BTreeMap<String, String>,
    english: &str,
) -> String {
    let reason = shared::rules::Reason {
        code: code.to_owned(),
        args,
    };
    if shared::i18n::has_key(lang, &reason.message_key()) {
        reason.message(lang)
    } else if !english.is_empty() {
        english.to_owned()
    } else {
        code.to_owned()
    }
}

/// A reason's detail as lines for people: the rules that fired (code and message), or
/// `key: value` pairs (the risk rule and why).
fn detail_lines(lang: Lang, v: &Value) -> Vec<String> {
    match v {
        Value::Null => Vec::new(),
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().flat_map(|e| detail_lines(lang, e)).collect(),
        Value::Object(m) => match m.get("code").and_then(|c| c.as_str()) {
            Some(code) => {
                let args = m.get("args").map(string_args).unwrap_or_default();
                let english = m.get("message").and_then(|s| s.as_str()).unwrap_or("");
                vec![format!(
                    "{code}: {}",
                    localised_reason(lang, code, args, english)
                )]
            }
            None => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{k}: {s}"),
                    other => format!("{k}: {other}"),
                })
                .collect(),
        },
        other => vec![other.to_string()],
    }
}
