//! What a RED scan keeps for the officer, as typed records: the passport identity read
//! at the gate, the reasons, the declaration summary from the token and the duty
//! evaluation. The scan writes them (JSON columns of `cases`) and the console reads them
//! back through the same types, so a renamed field fails to parse (and is logged) instead
//! of showing up as an empty cell.
//!
//! The JSON shape is the one the gate has always written: rows stored before these types
//! existed read unchanged (see the tests).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use shared::domain::{Answers, Category, ItemInput, MoneyInput, Party};
use shared::mrz::Td3;
use shared::rules::{self, Lane};
use std::collections::BTreeMap;

/// An `Option` field that must be present (possibly `null`): serde would otherwise
/// read a missing (renamed) key as `None`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

/// The passport's identity as the gate read it (`cases.identity_json`; erased by the
/// retention purge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseIdentity {
    /// Surname, as in the MRZ.
    pub surname: String,
    /// Given names, as in the MRZ.
    pub given_names: String,
    /// ISO 3166-1 alpha-3.
    pub nationality: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// `F`, `M` or `X`.
    pub sex: String,
    /// Passport number.
    pub document_number: String,
    /// `YYYY-MM-DD`.
    pub expiry_date: String,
    /// ISO 3166-1 alpha-3 of the issuing state.
    pub issuing_state: String,
}

impl CaseIdentity {
    /// The identity of a parsed MRZ.
    pub fn from_mrz(td3: &Td3) -> Self {
        Self {
            surname: td3.surname.clone(),
            given_names: td3.given_names.clone(),
            nationality: td3.nationality.clone(),
            birth_date: shared::domain::format_date(td3.birth_date),
            sex: td3.sex.code().to_owned(),
            document_number: td3.document_number.clone(),
            expiry_date: shared::domain::format_date(td3.expiry_date),
            issuing_state: td3.issuing_state.clone(),
        }
    }
}

/// Who may see a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// The gate display may show it.
    Passenger,
    /// Risk selection and notes: the officer only.
    Officer,
}

/// One reason of the decision (`cases.reasons_json` is a list of them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseReason {
    /// Stable code (`token.replayed`, `selection.random`…).
    pub code: String,
    /// Who may see it.
    pub audience: Audience,
    /// The English message at decision time (shown when the page language has none).
    pub message_en: String,
    /// The rule that fired (selection rules).
    #[serde(deserialize_with = "present")]
    pub rule: Option<String>,
    /// Details for the officer: the rules-engine reasons (`code`, `args`, `message`)
    /// or the selection's draw and rule.
    #[serde(deserialize_with = "present")]
    pub detail: Option<Value>,
}

/// The declaration as the token summarised it (`cases.summary_json`): what the rules
/// judge, without the passenger's identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSummary {
    /// The issuer's declaration id.
    pub declaration_id: String,
    /// Its revision.
    pub revision: u32,
    /// The rules profile the issuer applied.
    pub profile_id: String,
    /// `YYYY-MM-DD`.
    pub arrival_date: String,
    /// Flight number.
    pub flight: String,
    /// Party by age band.
    pub party: Party,
    /// The yes/no answers.
    pub answers: Answers,
    /// The items, in the wire shape (the token carries no description).
    pub items: Vec<ItemInput>,
}

impl CaseSummary {
    /// The summary of a verified token.
    pub fn from_token(s: &shared::token::Summary) -> Self {
        Self {
            declaration_id: s.declaration_id.clone(),
            revision: s.revision,
            profile_id: s.profile_id.clone(),
            arrival_date: shared::domain::format_date(s.arrival_date),
            flight: s.flight.clone(),
            party: s.declared.party,
            answers: s.declared.answers,
            items: s.declared.items.iter().map(item_input).collect(),
        }
    }
}

/// An item in the wire shape of [`ItemInput`].
pub fn item_input(it: &shared::domain::Item) -> ItemInput {
    ItemInput {
        category: it.category.code().to_owned(),
        description: None,
        quantity: it.quantity,
        volume_ml: it.volume_ml,
        weight_g: it.weight_g,
        value: MoneyInput {
            amount: it.value.as_decimal(),
            currency: it.value.currency.as_str().to_owned(),
        },
        for_child: it.for_child,
    }
}

/// A rules-engine reason: code and message arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleReason {
    /// Stable code.
    pub code: String,
    /// Message arguments.
    pub args: BTreeMap<String, String>,
}

/// The rules' evaluation (`cases.evaluation_json`), the shape of
/// [`shared::rules::Evaluation`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseEvaluation {
    /// The profile applied.
    pub profile_id: String,
    /// GREEN or RED.
    pub lane: Lane,
    /// Why RED.
    pub reasons: Vec<RuleReason>,
    /// The duty estimate.
    pub duty: DutyRecord,
}

/// The duty estimate, line by line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DutyRecord {
    /// One line per item, in item order.
    pub lines: Vec<DutyLineRecord>,
    /// Total duty, whole yen (officer-assessed lines excluded).
    pub total_yen: u64,
    /// Whether an officer must assess some line.
    pub officer_assessment_needed: bool,
    /// Other goods: value exempted within the allowance.
    pub allowance_used_yen: u64,
    /// Other goods: the party's allowance.
    pub allowance_total_yen: u64,
}

/// What a line's quantities count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureRecord {
    /// Millilitres.
    Ml,
    /// Units (sticks, cigars, capsules).
    Units,
    /// Grams.
    Grams,
    /// Articles.
    Articles,
}

/// How a line is treated; `why` codes have messages `treatment-<why>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TreatmentRecord {
    /// Entirely free.
    Free {
        /// Why.
        why: String,
    },
    /// Dutiable at a simplified rate.
    Dutiable {
        /// The rate, for people.
        rate: String,
        /// The dutiable base, for people.
        base: String,
        /// Duty on the line, whole yen.
        duty_yen: u64,
    },
    /// An officer assesses it.
    OfficerAssesses {
        /// Why no simplified amount.
        why: String,
    },
}

impl TreatmentRecord {
    /// Duty on the line (0 unless dutiable).
    pub fn duty_yen(&self) -> u64 {
        match self {
            TreatmentRecord::Dutiable { duty_yen, .. } => *duty_yen,
            _ => 0,
        }
    }
}

/// One line of the estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DutyLineRecord {
    /// Index in the items.
    pub item: usize,
    /// Category.
    pub category: Category,
    /// What the quantities count.
    pub measure: MeasureRecord,
    /// Whole line.
    pub quantity_total: u64,
    /// Free part.
    pub quantity_free: u64,
    /// Dutiable part.
    pub quantity_dutiable: u64,
    /// Value in yen.
    pub value_yen: u64,
    /// Dutiable value in yen.
    pub value_dutiable_yen: u64,
    /// Treatment.
    pub treatment: TreatmentRecord,
}

impl From<&rules::Evaluation> for CaseEvaluation {
    fn from(e: &rules::Evaluation) -> Self {
        Self {
            profile_id: e.profile_id.clone(),
            lane: e.lane,
            reasons: e
                .reasons
                .iter()
                .map(|r| RuleReason {
                    code: r.code.clone(),
                    args: r.args.clone(),
                })
                .collect(),
            duty: DutyRecord {
                lines: e.duty.lines.iter().map(DutyLineRecord::from).collect(),
                total_yen: e.duty.total_yen,
                officer_assessment_needed: e.duty.officer_assessment_needed,
                allowance_used_yen: e.duty.allowance_used_yen,
                allowance_total_yen: e.duty.allowance_total_yen,
            },
        }
    }
}

impl From<&rules::DutyLine> for DutyLineRecord {
    fn from(l: &rules::DutyLine) -> Self {
        Self {
            item: l.item,
            category: l.category,
            measure: match l.measure {
                rules::Measure::Ml => MeasureRecord::Ml,
                rules::Measure::Units => MeasureRecord::Units,
                rules::Measure::Grams => MeasureRecord::Grams,
                rules::Measure::Articles => MeasureRecord::Articles,
            },
            quantity_total: l.quantity_total,
            quantity_free: l.quantity_free,
            quantity_dutiable: l.quantity_dutiable,
            value_yen: l.value_yen,
            value_dutiable_yen: l.value_dutiable_yen,
            treatment: match &l.treatment {
                rules::Treatment::Free { why } => TreatmentRecord::Free { why: why.clone() },
                rules::Treatment::Dutiable {
                    rate,
                    base,
                    duty_yen,
                } => TreatmentRecord::Dutiable {
                    rate: rate.clone(),
                    base: base.clone(),
                    duty_yen: *duty_yen,
                },
                rules::Treatment::OfficerAssesses { why } => {
                    TreatmentRecord::OfficerAssesses { why: why.clone() }
                }
            },
        }
    }
}

/// A stored record column that does not parse as its type.
#[derive(Debug, thiserror::Error)]
#[error("case {case_id}: column {column} does not parse: {source}")]
pub struct RecordError {
    /// The case.
    pub case_id: i64,
    /// The column.
    pub column: &'static str,
    /// Why.
    #[source]
    pub source: serde_json::Error,
}

/// A case's stored record, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    /// The identity; `None` after the retention purge.
    pub identity: Option<CaseIdentity>,
    /// The summary; `None` when the token did not verify.
    pub summary: Option<CaseSummary>,
    /// The evaluation; `None` when the token did not verify.
    pub evaluation: Option<CaseEvaluation>,
    /// The reasons.
    pub reasons: Vec<CaseReason>,
}

/// The stored columns of a case record, as JSON text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseColumns<'a> {
    /// `identity_json`.
    pub identity: Option<&'a str>,
    /// `summary_json`.
    pub summary: Option<&'a str>,
    /// `evaluation_json`.
    pub evaluation: Option<&'a str>,
    /// `reasons_json`.
    pub reasons: &'a str,
}

fn parse<T: serde::de::DeserializeOwned>(
    case_id: i64,
    column: &'static str,
    json: &str,
) -> Result<T, RecordError> {
    serde_json::from_str(json).map_err(|source| RecordError {
        case_id,
        column,
        source,
    })
}

impl CaseRecord {
    /// Parse a case's stored columns.
    pub fn parse(case_id: i64, cols: CaseColumns<'_>) -> Result<Self, RecordError> {
        Ok(Self {
            identity: cols
                .identity
                .map(|j| parse(case_id, "identity_json", j))
                .transpose()?,
            summary: cols
                .summary
                .map(|j| parse(case_id, "summary_json", j))
                .transpose()?,
            evaluation: cols
                .evaluation
                .map(|j| parse(case_id, "evaluation_json", j))
                .transpose()?,
            reasons: parse(case_id, "reasons_json", cols.reasons)?,
        })
    }
}

/// A record as JSON text for its column. The record types serialise infallibly (string
/// keys only), so a failure is a bug: logged, and the column gets `null`.
pub fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| {
        tracing::error!(error = %e, "a case record did not serialise");
        "null".into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Columns exactly as the gate wrote them before the typed record (untyped `json!`).
    const OLD_IDENTITY: &str = r#"{"birth_date":"1974-08-12","document_number":"L898902C3","expiry_date":"2031-04-15","given_names":"ANNA MARIA","issuing_state":"UTO","nationality":"UTO","sex":"F","surname":"ERIKSSON"}"#;
    const OLD_SUMMARY: &str = r#"{"answers":{"commercial":false,"for_others":false,"means_of_payment_over_limit":false,"over_allowance":true,"precious_metal_over_1kg":false,"prohibited":false,"unaccompanied_packages":0},"arrival_date":"2026-11-01","declaration_id":"D-1","flight":"NH212","items":[{"category":"whisky","for_child":false,"quantity":5,"value":{"amount":25000.0,"currency":"JPY"},"volume_ml":700,"weight_g":null}],"party":{"aged_20_plus":1,"aged_6_to_19":0,"under_6":0},"profile_id":"jp-2026","revision":1}"#;
    const OLD_EVALUATION: &str = r#"{"profile_id":"jp-2026","lane":"red","reasons":[{"code":"allowance.alcohol_exceeded","args":{"allowed_ml":"2280","declared_ml":"3500"}}],"duty":{"lines":[{"item":0,"category":"whisky","measure":"ml","quantity_total":3500,"quantity_free":2100,"quantity_dutiable":1400,"value_yen":25000,"value_dutiable_yen":10000,"treatment":{"kind":"dutiable","rate":"¥800/L","base":"1.400 L","duty_yen":1120}}],"total_yen":1100,"officer_assessment_needed":false,"allowance_used_yen":0,"allowance_total_yen":200000}}"#;
    const OLD_REASONS: &str = r#"[{"audience":"passenger","code":"declaration.items_to_declare","detail":[{"args":{"allowed_ml":"2280","declared_ml":"3500"},"code":"allowance.alcohol_exceeded","message":"Alcohol: 3500 ml declared, 2280 ml duty-free for your party."}],"message_en":"Please declare.","rule":null},{"audience":"officer","code":"selection.random","detail":{"draw":0.001,"input":"cti","key":"selection.key","rate":0.01},"message_en":"Selected.","rule":null}]"#;

    #[test]
    fn rows_written_by_the_untyped_code_still_read() {
        let r = CaseRecord::parse(
            7,
            CaseColumns {
                identity: Some(OLD_IDENTITY),
                summary: Some(OLD_SUMMARY),
                evaluation: Some(OLD_EVALUATION),
                reasons: OLD_REASONS,
            },
        )
        .unwrap();
        assert_eq!(r.identity.unwrap().surname, "ERIKSSON");
        let s = r.summary.unwrap();
        assert_eq!((s.flight.as_str(), s.revision), ("NH212", 1));
        assert!(s.answers.over_allowance);
        assert_eq!(s.items[0].volume_ml, Some(700));
        let e = r.evaluation.unwrap();
        assert_eq!(e.duty.total_yen, 1100);
        assert_eq!(e.duty.lines[0].treatment.duty_yen(), 1120);
        assert_eq!(r.reasons[1].audience, Audience::Officer);
        assert_eq!(r.reasons[1].rule, None);
    }

    #[test]
    fn a_renamed_key_is_an_error_not_an_empty_field() {
        let renamed = OLD_IDENTITY.replace("\"surname\"", "\"family_name\"");
        let err = CaseRecord::parse(
            7,
            CaseColumns {
                identity: Some(&renamed),
                reasons: "[]",
                ..CaseColumns::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.column, "identity_json");
        // An optional field must be present too (a missing `rule` is not `None`).
        let missing = OLD_REASONS.replace("\"rule\":null", "\"rules\":null");
        assert!(
            CaseRecord::parse(
                7,
                CaseColumns {
                    reasons: &missing,
                    ..CaseColumns::default()
                }
            )
            .is_err()
        );
    }

    #[test]
    fn what_is_written_reads_back_as_the_same_record() {
        let profile = rules::RulesProfile::jp_2026();
        let declared = shared::domain::Declared {
            party: Party::SOLO_ADULT,
            answers: Answers::default(),
            items: vec![shared::domain::Item {
                category: Category::Whisky,
                description: None,
                quantity: 5,
                volume_ml: Some(700),
                weight_g: None,
                value: shared::domain::Money::yen(25_000),
                for_child: false,
            }],
        };
        let eval = CaseEvaluation::from(&rules::evaluate(&profile, &declared));
        let back: CaseEvaluation = serde_json::from_str(&to_json(&eval)).unwrap();
        assert_eq!(back, eval);
        // The stored shape is the engine's own serialisation.
        assert_eq!(
            serde_json::to_value(&eval).unwrap(),
            serde_json::to_value(rules::evaluate(&profile, &declared)).unwrap()
        );
    }
}
