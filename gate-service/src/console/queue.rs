//! The red-lane queue: cases newest first with flight, time, reason codes and waiting
//! time; filters by flight and status in the query string; a meta refresh that keeps
//! the query string, so the officer's filter stays.

use super::Cfg;
use super::auth::Officer;
use super::format::fmt_time;
use super::page::{self, PageCtx, PageResult};
use super::store;
use crate::AppState;
use crate::error::AppError;
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

/// Status filters offered.
const STATUSES: [&str; 5] = ["open", "waiting", "in_progress", "closed", "all"];

/// Query string of the queue.
#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    /// Flight number (any spacing or case).
    #[serde(default)]
    pub flight: String,
    /// `open` (default), `waiting`, `in_progress`, `closed`, `all`.
    #[serde(default)]
    pub status: String,
}

/// One queue line.
#[derive(Debug, Clone)]
pub struct QueueRow {
    /// Case id.
    pub id: i64,
    /// Opened at (local time).
    pub opened: String,
    /// Flight.
    pub flight: String,
    /// Reason codes.
    pub reasons: Vec<String>,
    /// Minutes waiting (open cases).
    pub waiting: String,
    /// Status code.
    pub status: String,
    /// Status label.
    pub status_label: String,
}

/// The queue page.
#[derive(Template)]
#[template(path = "console/queue.html")]
pub struct QueuePage {
    /// Page context.
    pub ctx: PageCtx,
    /// Lines.
    pub rows: Vec<QueueRow>,
    /// Flight filter as typed.
    pub flight: String,
    /// Status filter.
    pub status: String,
    /// Status options: code, label.
    pub statuses: Vec<(String, String)>,
    /// The URL the page refreshes to (same query).
    pub refresh_url: String,
    /// Refresh period, seconds.
    pub refresh_secs: u32,
}

/// Normalise a flight filter (`nh 0212` → `NH212`); free text when it is not a flight.
pub fn norm_flight(s: &str) -> String {
    let s = s.trim();
    if s.is_empty() {
        return String::new();
    }
    shared::domain::FlightNumber::parse(s)
        .map(|f| f.to_string())
        .unwrap_or_else(|_| s.to_ascii_uppercase().chars().take(10).collect())
}

/// id, opened at, status, flight, reason codes (JSON).
type QueueDbRow = (i64, i64, String, Option<String>, String);

/// `GET /console/queue`.
pub async fn queue(
    State(state): State<AppState>,
    Extension(ctx): Extension<PageCtx>,
    Extension(cfg): Cfg,
    officer: Officer,
    Query(q): Query<QueueQuery>,
) -> PageResult {
    let ctx = ctx.with_officer(&officer);
    let status = if STATUSES.contains(&q.status.as_str()) {
        q.status.clone()
    } else {
        "open".into()
    };
    let flight = norm_flight(&q.flight);
    let (f2, s2) = (flight.clone(), status.clone());
    let rows = state
        .db
        .read(move |c| -> Result<Vec<QueueDbRow>, AppError> {
            let mut st = c.prepare(
                "SELECT c.id, c.opened_at, c.status, c.flight, s.reasons
                 FROM cases c JOIN scans s ON s.id = c.scan_id
                 WHERE (?1 = '' OR c.flight = ?1)
                   AND (?2 = 'all' OR (?2 = 'open' AND c.status <> 'closed') OR c.status = ?2)
                 ORDER BY c.opened_at DESC, c.id DESC LIMIT 300",
            )?;
            let rows = st
                .query_map(rusqlite::params![f2, s2], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await?;
    let now = state.clock.unix();
    let rows = rows
        .into_iter()
        .map(|(id, opened, st, flight, reasons)| QueueRow {
            id,
            opened: fmt_time(&cfg, opened),
            flight: flight.unwrap_or_else(|| "—".into()),
            reasons: store::reason_codes(&reasons),
            waiting: if st == "closed" {
                "—".into()
            } else {
                format!("{}", (now - opened).max(0) / 60)
            },
            status_label: ctx.t(&format!("console-status-{}", st.replace('_', "-"))),
            status: st,
        })
        .collect();
    let query =
        serde_urlencoded::to_string([("flight", q.flight.trim()), ("status", status.as_str())])
            .unwrap_or_default();
    let page = QueuePage {
        rows,
        flight: q.flight.trim().to_owned(),
        statuses: STATUSES
            .iter()
            .map(|s| {
                (
                    (*s).to_owned(),
                    ctx.t(&format!("console-status-{}", s.replace('_', "-"))),
                )
            })
            .collect(),
        status,
        refresh_url: format!("/console/queue?{query}"),
        refresh_secs: cfg.refresh_secs,
        ctx,
    };
    page::html(StatusCode::OK, &page)
}
