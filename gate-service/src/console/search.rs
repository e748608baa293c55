//! Search over scans and their cases by flight, date (arrival date or local scan day),
//! declaration id and decision — never by passport data; GET, so results can be
//! bookmarked without any personal data in the URL.

use super::Cfg;
use super::auth::Officer;
use super::format::fmt_time;
use super::page::{self, PageCtx, PageResult};
use super::queue::norm_flight;
use super::store;
use crate::AppState;
use crate::error::AppError;
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

/// Search form fields.
#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    /// Flight number.
    #[serde(default)]
    pub flight: String,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub date: String,
    /// Declaration id.
    #[serde(default)]
    pub declaration_id: String,
    /// `green`, `red` or empty.
    #[serde(default)]
    pub decision: String,
}

/// One result line.
#[derive(Debug, Clone)]
pub struct SearchRow {
    /// When scanned.
    pub at: String,
    /// Gate.
    pub gate: String,
    /// `green` / `red`.
    pub decision: String,
    /// Localised decision.
    pub decision_label: String,
    /// Flight.
    pub flight: String,
    /// Declaration id.
    pub declaration_id: String,
    /// Reason codes.
    pub reasons: Vec<String>,
    /// Case id when RED.
    pub case_id: Option<i64>,
}

/// The search page.
#[derive(Template)]
#[template(path = "console/search.html")]
pub struct SearchPage {
    /// Page context.
    pub ctx: PageCtx,
    /// The query as typed.
    pub flight: String,
    /// Date as typed.
    pub date: String,
    /// Declaration id as typed.
    pub declaration_id: String,
    /// Decision filter.
    pub decision: String,
    /// Results (at most 200).
    pub rows: Vec<SearchRow>,
    /// Whether the date did not parse.
    pub bad_date: bool,
}

type Row = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<i64>,
);

/// `GET /console/search`.
pub async fn search(
    State(state): State<AppState>,
    Extension(ctx): Extension<PageCtx>,
    Extension(cfg): Cfg,
    officer: Officer,
    Query(q): Query<SearchQuery>,
) -> PageResult {
    let ctx = ctx.with_officer(&officer);
    let flight = norm_flight(&q.flight);
    let decl = q.declaration_id.trim().chars().take(64).collect::<String>();
    let decision = if q.decision == "green" || q.decision == "red" {
        q.decision.clone()
    } else {
        String::new()
    };
    let date = shared::domain::parse_date(q.date.trim());
    let bad_date = !q.date.trim().is_empty() && date.is_none();
    let (day, from, to) = match date {
        Some(d) => {
            let start =
                d.midnight().assume_utc().unix_timestamp() - i64::from(cfg.utc_offset_minutes) * 60;
            (shared::domain::format_date(d), start, start + 86_400)
        }
        None => (String::new(), 0, 0),
    };
    let (f2, d2, dec2) = (flight.clone(), decl.clone(), decision.clone());
    let rows: Vec<Row> = state
        .db
        .read(move |c| -> Result<Vec<Row>, AppError> {
            let mut st = c.prepare(
                "SELECT s.scanned_at, s.gate_id, s.decision, s.flight, s.declaration_id, s.reasons, c.id
                 FROM scans s LEFT JOIN cases c ON c.scan_id = s.id
                 WHERE (?1 = '' OR s.flight = ?1)
                   AND (?2 = '' OR s.arrival_date = ?2 OR (s.scanned_at >= ?3 AND s.scanned_at < ?4))
                   AND (?5 = '' OR s.declaration_id = ?5)
                   AND (?6 = '' OR s.decision = ?6)
                 ORDER BY s.scanned_at DESC LIMIT 200",
            )?;
            let rows = st
                .query_map(rusqlite::params![f2, day, from, to, d2, dec2], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await?;
    let rows = rows
        .into_iter()
        .map(
            |(at, gate, dec, flight, decl, reasons, case_id)| SearchRow {
                at: fmt_time(&cfg, at),
                gate,
                decision_label: ctx.t(&format!("lane-{dec}")),
                decision: dec,
                flight: flight.unwrap_or_else(|| "—".into()),
                declaration_id: decl.unwrap_or_else(|| "—".into()),
                reasons: store::reason_codes(&reasons),
                case_id,
            },
        )
        .collect();
    let page = SearchPage {
        flight: q.flight.trim().to_owned(),
        date: q.date.trim().to_owned(),
        declaration_id: decl,
        decision,
        rows,
        bad_date,
        ctx,
    };
    page::html(StatusCode::OK, &page)
}
