//! The red-lane queue: cases newest first with flight, time, reason codes and waiting
//! time; filters by flight and status in the query string; a meta refresh that keeps
//! the query string, so the officer's filter and page stay, and marks itself
//! (`refresh=auto`) so that it does not count as the officer's activity.
//!
//! Pages of [`PAGE_SIZE`] cases, keyset-paginated by case id (ids grow with time, so
//! "newest first" is "highest id first"): `before=<id>` gives the next older page,
//! `after=<id>` the next newer one. A page costs one bounded read whatever the queue's
//! length; a case opened while the officer pages is on the newer side, never shown
//! twice nor skipped.

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

/// Cases per page.
pub const PAGE_SIZE: i64 = 50;

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
    /// Keyset cursor: cases older than this id (the next older page).
    #[serde(default)]
    pub before: Option<i64>,
    /// Keyset cursor: cases newer than this id (the next newer page).
    #[serde(default)]
    pub after: Option<i64>,
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
    /// Cases waiting for an officer (whatever the filter).
    pub waiting_count: i64,
    /// Link to the next older page, if there is one.
    pub older_url: Option<String>,
    /// Link to the next newer page, if there is one.
    pub newer_url: Option<String>,
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

/// The filter every queue query shares (?1 flight, ?2 status).
const FILTER: &str = "(?1 = '' OR c.flight = ?1)
    AND (?2 = 'all' OR (?2 = 'open' AND c.status <> 'closed') OR c.status = ?2)";

/// One page of the queue, newest first, and whether older and newer cases exist.
struct QueuePageRows {
    rows: Vec<QueueDbRow>,
    has_older: bool,
    has_newer: bool,
    waiting: i64,
}

fn read_page(
    c: &rusqlite::Connection,
    flight: &str,
    status: &str,
    before: Option<i64>,
    after: Option<i64>,
) -> rusqlite::Result<QueuePageRows> {
    use rusqlite::params;
    // `after` walks up from the cursor (then the page is reversed); otherwise down
    // from `before` (or from the newest).
    let (cmp, order, cursor) = match (after, before) {
        (Some(a), _) => (">", "ASC", a),
        (None, Some(b)) => ("<", "DESC", b),
        (None, None) => ("<", "DESC", i64::MAX),
    };
    let sql = format!(
        "SELECT c.id, c.opened_at, c.status, c.flight, s.reasons
         FROM cases c JOIN scans s ON s.id = c.scan_id
         WHERE {FILTER} AND c.id {cmp} ?3
         ORDER BY c.id {order} LIMIT ?4"
    );
    let mut st = c.prepare(&sql)?;
    let mut rows = st
        .query_map(params![flight, status, cursor, PAGE_SIZE], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<Vec<QueueDbRow>, _>>()?;
    if after.is_some() {
        rows.reverse();
    }
    let exists = |cmp: &str, id: i64| -> rusqlite::Result<bool> {
        c.query_row(
            &format!("SELECT EXISTS (SELECT 1 FROM cases c WHERE {FILTER} AND c.id {cmp} ?3)"),
            params![flight, status, id],
            |r| r.get(0),
        )
    };
    let (has_newer, has_older) = match (rows.first(), rows.last()) {
        (Some(first), Some(last)) => (exists(">", first.0)?, exists("<", last.0)?),
        // An empty page past either end: offer the way back.
        _ => (before.is_some(), after.is_some()),
    };
    let waiting = c.query_row(
        "SELECT count(*) FROM cases WHERE status = 'waiting'",
        [],
        |r| r.get(0),
    )?;
    Ok(QueuePageRows {
        rows,
        has_older,
        has_newer,
        waiting,
    })
}

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
    let (before, after) = (q.before, q.after);
    let page_rows = state
        .db
        .read(move |c| read_page(c, &f2, &s2, before, after).map_err(AppError::from))
        .await?;
    let now = state.clock.unix();
    let url = |extra: Vec<(&str, String)>| {
        let mut pairs: Vec<(&str, String)> = vec![
            ("flight", q.flight.trim().to_owned()),
            ("status", status.clone()),
        ];
        pairs.extend(extra);
        format!(
            "/console/queue?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    };
    // Cursors: the page's last and first ids; on an empty page past either end, the
    // cursor it came from (so the way back includes that case).
    let older_url = page_rows.has_older.then(|| {
        let id = page_rows
            .rows
            .last()
            .map_or(after.unwrap_or(0).saturating_add(1), |r| r.0);
        url(vec![("before", id.to_string())])
    });
    let newer_url = page_rows.has_newer.then(|| {
        let id = page_rows
            .rows
            .first()
            .map_or(before.unwrap_or(0).saturating_sub(1), |r| r.0);
        url(vec![("after", id.to_string())])
    });
    let mut cursor = Vec::new();
    if let Some(b) = before.filter(|_| after.is_none()) {
        cursor.push(("before", b.to_string()));
    }
    if let Some(a) = after {
        cursor.push(("after", a.to_string()));
    }
    cursor.push((
        crate::console::auth::AUTO_REFRESH_PARAM.0,
        crate::console::auth::AUTO_REFRESH_PARAM.1.to_owned(),
    ));
    let refresh_url = url(cursor);
    let rows = page_rows
        .rows
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
        refresh_url,
        refresh_secs: cfg.refresh_secs,
        waiting_count: page_rows.waiting,
        older_url,
        newer_url,
        ctx,
    };
    page::html(StatusCode::OK, &page)
}
