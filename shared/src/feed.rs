//! What gates and issuers tell each other besides keys: the **use reports** a gate sends
//! to the issuer of each token it accepted once (`POST /v1/internal/uses`), the
//! **presentation reports** of the cases it opened (`POST /v1/internal/presentations`),
//! and the bearer-key helpers their per-purpose keys use ([`crate::service_keys`]).
//!
//! Why: a gate's one-time-use record lives in its own database. An issuer that hears of
//! every use puts the token in its revocation feed (reason `used`), so that a gate
//! restored from a backup, or another gate-service instance, refuses it on its next
//! revocation pull (RELIABILITY.md, item 6).

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Most uses in one report (a gate sends more in several).
pub const MAX_USES_PER_REPORT: usize = 1000;

/// Revocation reason of a token a gate reported as used.
pub const REASON_USED: &str = "used";

/// Body of `POST /v1/internal/uses`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UseReport {
    /// The gate-service instance reporting (for the issuer's log; 1 to 64 characters).
    pub gate: String,
    /// Tokens used once at that gate.
    pub uses: Vec<Use>,
}

/// One use of a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Use {
    /// Token id (CWT `cti`, 16 bytes), standard base64.
    pub cti: String,
    /// When the gate accepted it, unix seconds.
    pub used_at: i64,
}

/// Most presentations in one report.
pub const MAX_PRESENTATIONS_PER_REPORT: usize = 1000;

/// Body of `POST /v1/internal/presentations`: the cases a gate opened for genuine tokens
/// of this issuer. A presentation is what allows the officer console to read that
/// declaration for that case (docs/trust.md, "Declaration reads").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresentationReport {
    /// The gate-service instance reporting (its cases are numbered per instance).
    pub gate: String,
    /// Cases opened.
    pub presentations: Vec<Presentation>,
}

/// One case opened for a genuine token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Presentation {
    /// The gate's case id.
    pub case: i64,
    /// The declaration id in the token.
    pub declaration_id: String,
    /// The token id, standard base64.
    pub cti: String,
    /// When the case was opened, unix seconds.
    pub at: i64,
}

/// Answer of `POST /v1/internal/presentations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresentationAck {
    /// Presentations newly recorded.
    pub recorded: usize,
    /// Presentations recorded before.
    pub known: usize,
    /// Presentations naming a token this issuer did not sign for that declaration
    /// (ignored).
    pub unknown: usize,
}

/// A checked presentation: case id, declaration id, token id (base64), time.
pub type CheckedPresentation = (i64, String, String, i64);

/// Whether `s` is 1 to 64 printable ASCII characters (gate names, officer names).
pub fn is_short_printable(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
}

/// Whether `s` looks like a declaration id (1 to 64 characters `A-Z a-z 0-9 - _`).
pub fn is_declaration_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl PresentationReport {
    /// Check the report; each presentation with its token id re-encoded.
    pub fn validate(&self) -> Result<Vec<CheckedPresentation>, ReportError> {
        if self.presentations.len() > MAX_PRESENTATIONS_PER_REPORT {
            return Err(ReportError::TooMany);
        }
        if !is_short_printable(&self.gate) {
            return Err(ReportError::Gate);
        }
        self.presentations
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let cti = parse_cti(&p.cti).ok_or(ReportError::Cti(i))?;
                if p.at < 0 || p.case < 1 || !is_declaration_id(&p.declaration_id) {
                    return Err(ReportError::Presentation(i));
                }
                Ok((p.case, p.declaration_id.clone(), cti_base64(&cti), p.at))
            })
            .collect()
    }
}

/// Header naming the gate-service instance of a declaration read.
pub const HEADER_GATE: &str = "x-egate-gate";
/// Header naming the case of a declaration read (the gate's case id).
pub const HEADER_CASE: &str = "x-egate-case";
/// Header naming the officer of a declaration read (the console user name).
pub const HEADER_OFFICER: &str = "x-egate-officer";

/// One entry of an issuer's revocation feed (`GET /v1/revocations`; stored by
/// [`crate::issuer::store`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// Sequence number (increasing; pass the last one seen as `since`).
    pub seq: i64,
    /// Token id, standard base64.
    pub cti: String,
    /// `superseded`, `erased` or [`REASON_USED`].
    pub reason: String,
    /// When the issuer recorded it, unix seconds.
    pub at: i64,
    /// The revoked token's own expiry, unix seconds (absent when the issuer no longer
    /// knows the token): past it the token cannot verify, so a gate may forget the entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
}

/// Answer of `POST /v1/internal/uses`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UseReportAck {
    /// Uses newly entered in the revocation feed.
    pub recorded: usize,
    /// Uses of tokens already in the feed (reported before, superseded or erased).
    pub known: usize,
    /// Uses of tokens this issuer never issued (ignored).
    pub unknown: usize,
}

/// Why a use report is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// More than [`MAX_USES_PER_REPORT`] uses.
    #[error("a report holds at most {MAX_USES_PER_REPORT} uses")]
    TooMany,
    /// The gate name is empty, too long or not printable ASCII.
    #[error("`gate` must be 1 to 64 printable ASCII characters")]
    Gate,
    /// A `cti` is not standard base64 of 16 bytes.
    #[error("uses[{0}].cti must be standard base64 of 16 bytes")]
    Cti(usize),
    /// A `used_at` is negative.
    #[error("uses[{0}].used_at must be unix seconds, zero or greater")]
    UsedAt(usize),
    /// A presentation's case, declaration id or time is out of range.
    #[error("presentations[{0}] needs a case id of 1 or more, a declaration id and a time")]
    Presentation(usize),
}

impl ReportError {
    /// The JSON pointer of the offending field.
    pub fn pointer(&self) -> String {
        match self {
            ReportError::TooMany => "/uses".into(),
            ReportError::Gate => "/gate".into(),
            ReportError::Cti(i) => format!("/uses/{i}/cti"),
            ReportError::UsedAt(i) => format!("/uses/{i}/used_at"),
            ReportError::Presentation(i) => format!("/presentations/{i}"),
        }
    }
}

impl UseReport {
    /// Check the report and return each use's 16-byte token id with its time.
    pub fn validate(&self) -> Result<Vec<([u8; 16], i64)>, ReportError> {
        if self.uses.len() > MAX_USES_PER_REPORT {
            return Err(ReportError::TooMany);
        }
        if !is_short_printable(&self.gate) {
            return Err(ReportError::Gate);
        }
        self.uses
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let cti = parse_cti(&u.cti).ok_or(ReportError::Cti(i))?;
                if u.used_at < 0 {
                    return Err(ReportError::UsedAt(i));
                }
                Ok((cti, u.used_at))
            })
            .collect()
    }
}

/// A token id from standard base64 (the form of the revocation feed), exactly 16 bytes.
pub fn parse_cti(s: &str) -> Option<[u8; 16]> {
    if s.len() > 24 {
        return None;
    }
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .ok()?
        .try_into()
        .ok()
}

/// A token id as standard base64.
pub fn cti_base64(cti: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(cti)
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The answer to a request without the gate's key for it (or with a wrong one): 401
/// with `WWW-Authenticate: Bearer`, as a problem document.
pub fn api_key_required() -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let mut resp = crate::web::Problem::new(
        axum::http::StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Unauthorized",
        "This endpoint needs the gate's key for it as `Authorization: Bearer …`.",
    )
    .into_response();
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        axum::http::HeaderValue::from_static("Bearer"),
    );
    resp
}

/// Shortest acceptable key of the gate's (use-report, declaration-read).
pub const MIN_API_KEY_LEN: usize = 32;

/// Read a key file of the gate's, or create it: 32 random bytes as hex, mode 0600, created
/// atomically (whichever service starts first creates it; the others read it).
pub fn load_or_create_api_key(path: &Path) -> std::io::Result<String> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(mut f) => {
            let mut b = [0u8; 32];
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
                .map_err(|_| std::io::Error::other("the system random number generator failed"))?;
            let key = hex::encode(b);
            f.write_all(key.as_bytes())?;
            f.sync_all()?;
            tracing::info!(path = %path.display(), "generated a key of the gate's");
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // Another service may have created it a moment ago and still be writing.
            for _ in 0..50 {
                let key = crate::secret_file::read_private_to_string(path)?
                    .trim()
                    .to_owned();
                if key.len() >= MIN_API_KEY_LEN {
                    return Ok(key);
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} holds a key shorter than {MIN_API_KEY_LEN} characters",
                    path.display()
                ),
            ))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn report(uses: Vec<Use>) -> UseReport {
        UseReport {
            gate: "gate-1".into(),
            uses,
        }
    }

    #[test]
    fn a_report_yields_each_token_id_and_time() {
        let cti = [7u8; 16];
        let r = report(vec![Use {
            cti: cti_base64(&cti),
            used_at: 1_800_000_000,
        }]);
        assert_eq!(r.validate().unwrap(), vec![(cti, 1_800_000_000)]);
    }

    #[test]
    fn bad_reports_name_the_field() {
        let bad_cti = report(vec![
            Use {
                cti: cti_base64(&[1u8; 16]),
                used_at: 1,
            },
            Use {
                cti: cti_base64(&[1u8; 15]),
                used_at: 1,
            },
        ]);
        assert_eq!(bad_cti.validate().unwrap_err().pointer(), "/uses/1/cti");
        let negative = report(vec![Use {
            cti: cti_base64(&[1u8; 16]),
            used_at: -1,
        }]);
        assert_eq!(negative.validate().unwrap_err(), ReportError::UsedAt(0));
        let too_many = report(vec![
            Use {
                cti: cti_base64(&[1u8; 16]),
                used_at: 1
            };
            MAX_USES_PER_REPORT + 1
        ]);
        assert_eq!(too_many.validate().unwrap_err(), ReportError::TooMany);
        let mut no_gate = report(Vec::new());
        no_gate.gate = String::new();
        assert_eq!(no_gate.validate().unwrap_err(), ReportError::Gate);
        assert!(parse_cti("not base64!").is_none());
        assert!(parse_cti(&"A".repeat(400)).is_none());
    }

    #[test]
    fn the_api_key_is_created_once_with_mode_0600_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("gate-api.key");
        let a = load_or_create_api_key(&path).unwrap();
        let b = load_or_create_api_key(&path).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::write(&path, "short").unwrap();
        assert!(load_or_create_api_key(&path).is_err());
    }

    #[test]
    fn the_bearer_token_is_read_from_the_authorization_header() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }
}
