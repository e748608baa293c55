//! Request and response shapes of the JSON API, with their OpenAPI schemas.
//!
//! Requests are the shared domain's wire types (`DeclarationInput`, which refuses
//! unknown fields); the `*Doc` structs here only describe them in the OpenAPI document
//! (a test checks that they list the same fields as the real types).

use serde::{Deserialize, Serialize};
use shared::domain::{Answers, DeclarationInput, ItemInput, Party};
use shared::i18n::Lang;
use shared::rules::{Evaluation, Lane};
use utoipa::ToSchema;

pub use shared::issuer::schemas::{
    FieldErrorDoc, JwkDoc, JwksDoc, ProblemDoc, RevocationOut, RevocationsOut, UseDoc,
    UseReportAckDoc, UseReportDoc,
};

use crate::store::StoredReason;

/// Lane of a declaration.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LaneOut {
    /// Nothing to declare: the gate opens.
    Green,
    /// Something to declare or check: the red-lane counter.
    Red,
}

impl From<Lane> for LaneOut {
    fn from(l: Lane) -> Self {
        match l {
            Lane::Green => LaneOut::Green,
            Lane::Red => LaneOut::Red,
        }
    }
}

impl LaneOut {
    /// From the stored code.
    pub fn from_code(code: &str) -> Self {
        if code == "green" {
            LaneOut::Green
        } else {
            LaneOut::Red
        }
    }
}

/// Why a declaration goes to the red lane.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct ReasonOut {
    /// Stable code, e.g. `allowance.alcohol_exceeded`.
    pub code: String,
    /// The reason in the request's `Accept-Language`.
    pub message: String,
}

/// Localise stored reasons.
pub fn reasons_out(reasons: &[StoredReason], lang: Lang) -> Vec<ReasonOut> {
    reasons
        .iter()
        .map(|r| ReasonOut {
            code: r.code.clone(),
            message: r.to_reason().message(lang),
        })
        .collect()
}

/// The signed QR.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QrOut {
    /// The QR text (`CD1:` + Base45); do not trim it (it may contain spaces).
    pub text: String,
    /// PNG rendering (Bearer edit token required).
    pub png_url: String,
    /// SVG rendering (Bearer edit token required).
    pub svg_url: String,
    /// When the token expires (RFC 3339).
    pub expires_at: String,
}

/// `201` answer to `POST /v1/declarations`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedOut {
    /// Declaration id.
    pub id: String,
    /// Revision (1).
    pub revision: u32,
    /// The edit token: shown once, needed as `Authorization: Bearer …` to read, edit,
    /// erase the declaration and fetch its QR. Keep it on the phone.
    pub edit_token: String,
    /// The lane the gate will most likely choose (a gate may still select for checks).
    pub lane_preview: LaneOut,
    /// Why red.
    pub reasons: Vec<ReasonOut>,
    /// Duty estimate, line by line (shape of `shared::rules::DutyEstimate`).
    #[schema(value_type = Object)]
    pub duty_estimate: serde_json::Value,
    /// Rules profile the declaration was judged under.
    pub profile_id: String,
    /// The signed QR.
    pub qr: QrOut,
}

/// A stored declaration (`GET`, `PUT`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeclarationOut {
    /// Declaration id.
    pub id: String,
    /// Current revision.
    pub revision: u32,
    /// The declaration as stored.
    #[schema(value_type = DeclarationInputDoc)]
    pub declaration: DeclarationInput,
    /// Lane preview.
    pub lane_preview: LaneOut,
    /// Why red.
    pub reasons: Vec<ReasonOut>,
    /// Duty estimate.
    #[schema(value_type = Object)]
    pub duty_estimate: serde_json::Value,
    /// Rules profile id.
    pub profile_id: String,
    /// The current signed QR (earlier ones are revoked).
    pub qr: QrOut,
}

/// Full record for the officer console (`GET /v1/internal/declarations/{id}`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InternalDeclarationOut {
    /// Declaration id.
    pub id: String,
    /// Current revision.
    pub revision: u32,
    /// The declaration; `null` once erased.
    #[schema(value_type = Option<DeclarationInputDoc>)]
    pub declaration: Option<DeclarationInput>,
    /// Lane.
    pub lane: LaneOut,
    /// Why red.
    pub reasons: Vec<ReasonOut>,
    /// Duty estimate; `null` once erased.
    #[schema(value_type = Option<Object>)]
    pub duty_estimate: Option<serde_json::Value>,
    /// Rules profile id.
    pub profile_id: String,
    /// Arrival date.
    pub arrival_date: String,
    /// Key id of the current token.
    pub kid: String,
    /// Current token id (base64).
    pub cti: String,
    /// Issue time of the current token (unix s).
    pub issued_at: i64,
    /// Expiry of the current token (unix s).
    pub exp: i64,
    /// Erasure time (unix s), if erased.
    pub erased_at: Option<i64>,
}

/// `POST /v1/estimate` body: what the rules judge, without identity.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EstimateIn {
    /// Party by age band (default one adult).
    #[serde(default)]
    #[schema(value_type = PartyDoc)]
    pub party: Party,
    /// Yes/no answers (default all no).
    #[serde(default)]
    #[schema(value_type = AnswersDoc)]
    pub answers: Answers,
    /// Items.
    #[serde(default)]
    #[schema(value_type = Vec<ItemInputDoc>)]
    pub items: Vec<ItemInput>,
}

/// `POST /v1/estimate` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EstimateOut {
    /// Rules profile id.
    pub profile_id: String,
    /// Lane preview.
    pub lane_preview: LaneOut,
    /// Why red.
    pub reasons: Vec<ReasonOut>,
    /// Duty estimate.
    #[schema(value_type = Object)]
    pub duty_estimate: serde_json::Value,
}

impl EstimateOut {
    /// From an evaluation.
    pub fn new(ev: &Evaluation, lang: Lang) -> Self {
        let stored: Vec<StoredReason> = ev.reasons.iter().map(StoredReason::from).collect();
        Self {
            profile_id: ev.profile_id.clone(),
            lane_preview: ev.lane.into(),
            reasons: reasons_out(&stored, lang),
            duty_estimate: serde_json::to_value(&ev.duty).unwrap_or_default(),
        }
    }
}

/// `GET /healthz` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HealthOut {
    /// `ok`.
    pub status: String,
    /// `ok` or `error`.
    pub db: String,
    /// Key ids in the ring (public).
    pub key_ids: Vec<String>,
}

/// Declaration body (`DeclarationInput`). Unknown fields are refused.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclarationInputDoc {
    /// Identity, as on the passport.
    pub passenger: PassengerInputDoc,
    /// Journey.
    pub trip: TripInputDoc,
    /// Party by age band, the declarant included (default one adult).
    #[serde(default)]
    #[schema(nullable = false)]
    pub party: Option<PartyDoc>,
    /// Yes/no answers.
    pub answers: AnswersDoc,
    /// Items (at most 50).
    #[serde(default)]
    pub items: Vec<ItemInputDoc>,
}

/// Passenger.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PassengerInputDoc {
    /// Surname, 1–64 letters.
    pub surname: String,
    /// Given names (may be empty).
    #[serde(default)]
    #[schema(nullable = false)]
    pub given_names: Option<String>,
    /// ISO 3166-1 alpha-3, e.g. `JPN`.
    pub nationality: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// `F`, `M` or `X`.
    pub sex: String,
    /// 1–9 characters A–Z, 0–9.
    pub passport_number: String,
    /// `YYYY-MM-DD`, not before the arrival date.
    pub passport_expiry: String,
}

/// Trip.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TripInputDoc {
    /// Flight number, e.g. `NH212`.
    pub flight: String,
    /// IATA airport of embarkation.
    pub origin: String,
    /// `YYYY-MM-DD`, from yesterday (JST) to 30 days ahead.
    pub arrival_date: String,
    /// Address in Japan.
    pub address_in_japan: String,
    /// Phone number.
    pub phone: String,
    /// Occupation.
    pub occupation: String,
}

/// Party counted by age band.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyDoc {
    /// Members aged 20 and over.
    pub aged_20_plus: u32,
    /// Members aged 6 to 19.
    pub aged_6_to_19: u32,
    /// Members under 6.
    pub under_6: u32,
}

/// Yes/no answers of Customs Form C No. 5360.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswersDoc {
    /// Prohibited or restricted articles.
    pub prohibited: bool,
    /// Goods over the duty-free allowance.
    pub over_allowance: bool,
    /// Commercial goods or samples.
    pub commercial: bool,
    /// Articles carried for someone else.
    pub for_others: bool,
    /// Means of payment over ¥1,000,000.
    pub means_of_payment_over_limit: bool,
    /// Precious metal over 1 kg.
    pub precious_metal_over_1kg: bool,
    /// Unaccompanied packages (0 = none).
    pub unaccompanied_packages: u32,
}

/// One item line.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInputDoc {
    /// Category code, e.g. `whisky`, `cigarettes`, `clothing`.
    pub category: String,
    /// Description (not in the QR).
    #[serde(default)]
    pub description: Option<String>,
    /// Units, 1–100,000.
    pub quantity: u32,
    /// Per-unit volume in ml (alcohol, perfume).
    #[serde(default)]
    pub volume_ml: Option<u32>,
    /// Per-unit weight in g (other tobacco).
    #[serde(default)]
    pub weight_g: Option<u32>,
    /// Total value of the line.
    pub value: MoneyInputDoc,
    /// For a child under 6's own use.
    #[serde(default)]
    #[schema(nullable = false)]
    pub for_child: Option<bool>,
}

/// A money amount.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoneyInputDoc {
    /// Decimal amount, at most two decimals.
    pub amount: f64,
    /// ISO 4217 code with a rate in the rules profile.
    pub currency: String,
}
