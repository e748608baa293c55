//! The reasons a decision carries, and their messages in the passenger's language.

use serde::Serialize;
use serde_json::Value;
use shared::i18n::{self, Lang};

/// One reason of a decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateReason {
    /// Stable code (`token.expired`, `selection.random`…).
    pub code: String,
    /// Whether the passenger-facing display may show it (risk selection never).
    #[serde(skip)]
    pub passenger: bool,
    /// Whether it sends the passenger to the red lane (`rules.profile_differs` does not).
    #[serde(skip)]
    pub red: bool,
    /// The rule that fired (selection rules, rules-engine reasons).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Details for the officer (draw value, rule reasons, profile ids).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
}

impl GateReason {
    /// A RED reason the passenger may see.
    pub fn passenger(code: &str) -> GateReason {
        GateReason {
            code: code.to_owned(),
            passenger: true,
            red: true,
            rule: None,
            detail: None,
        }
    }

    /// A RED reason for the officer only (risk selection).
    pub fn officer(code: &str, rule: Option<String>, detail: Option<Value>) -> GateReason {
        GateReason {
            code: code.to_owned(),
            passenger: false,
            red: true,
            rule,
            detail,
        }
    }

    /// The localised message (a generic one for codes without a message).
    pub fn message(&self, lang: Lang) -> String {
        message(&self.code, lang)
    }
}

/// The message of a reason code in `lang`.
pub fn message(code: &str, lang: Lang) -> String {
    let key = format!("reason-{}", code.replace(['.', '_'], "-"));
    if i18n::has_key(lang, &key) || i18n::has_key(Lang::En, &key) {
        i18n::t(lang, &key)
    } else {
        i18n::t(lang, "gate-reason-other")
    }
}
