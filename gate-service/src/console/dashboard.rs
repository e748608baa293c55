//! The supervisors' dashboard: scans per hour green vs red over the last 24 hours,
//! selection reasons, the average handling time (case opened → first outcome) and the
//! refused scans per device per hour (QR codes refused before they verified, which open
//! no case),
//! drawn as SVG bar charts on the server (no script, no CDN). The numbers are
//! aggregated by SQL, so a busy day costs the same memory as a quiet one.

use super::Cfg;
use super::auth::Supervisor;
use super::page::{self, PageCtx, PageResult};
use crate::AppState;
use crate::error::AppError;
use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;

/// One bar of a chart (SVG user units).
#[derive(Debug, Clone)]
pub struct Bar {
    /// Left.
    pub x: i64,
    /// Top.
    pub y: i64,
    /// Width.
    pub w: i64,
    /// Height.
    pub h: i64,
    /// CSS class (colour).
    pub class: &'static str,
    /// Tooltip (`<title>`).
    pub title: String,
}

/// A text label of a chart.
#[derive(Debug, Clone)]
pub struct Label {
    /// Anchor x.
    pub x: i64,
    /// Baseline y.
    pub y: i64,
    /// Text.
    pub text: String,
}

/// A bar chart.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    /// Total width.
    pub width: i64,
    /// Total height.
    pub height: i64,
    /// Bars.
    pub bars: Vec<Bar>,
    /// Labels.
    pub labels: Vec<Label>,
    /// Accessible summary.
    pub summary: String,
}

/// The dashboard page.
#[derive(Template)]
#[template(path = "console/dashboard.html")]
pub struct DashboardPage {
    /// Page context.
    pub ctx: PageCtx,
    /// Scans per hour.
    pub scans: Chart,
    /// Reasons.
    pub reasons: Chart,
    /// Handling time per hour.
    pub handling: Chart,
    /// Totals: green, red.
    pub totals: (i64, i64),
    /// Average handling time, minutes (or "—").
    pub avg_handling: String,
    /// Refused scans (QR refused before its token verified: no case) per device per
    /// hour, newest first.
    pub refused: Vec<RefusedLine>,
}

/// One line of the refused-scan table.
#[derive(Debug, Clone)]
pub struct RefusedLine {
    /// The hour's start (local time).
    pub hour: String,
    /// The device.
    pub gate_id: String,
    /// Refused scans in the hour.
    pub count: i64,
    /// `code ×n` for each reason, most frequent first.
    pub reasons: String,
}

/// Lines of the refused-scan table at most (devices × 24 hours).
const MAX_REFUSED_LINES: usize = 240;

impl DashboardPage {
    /// The three charts with their headings and element ids.
    pub fn charts(&self) -> Vec<(String, &Chart, &'static str)> {
        vec![
            (self.ctx.t("console-dash-scans"), &self.scans, "chart-scans"),
            (
                self.ctx.t("console-dash-reasons"),
                &self.reasons,
                "chart-reasons",
            ),
            (
                self.ctx.t("console-dash-handling"),
                &self.handling,
                "chart-handling",
            ),
        ]
    }
}

/// Reason codes charted at most.
const MAX_REASONS: i64 = 12;

/// A day of activity, aggregated by SQL.
struct DayAggregates {
    /// Local hour number (unix hours), red or not, scans.
    scans: Vec<(i64, bool, i64)>,
    /// Reason code and the red scans that carry it, most frequent first.
    reasons: Vec<(String, i64)>,
    /// Local hour number of the first outcome, cases, total seconds handling them.
    handled: Vec<(i64, i64, i64)>,
}

/// The dashboard's numbers for the day after `since` (`offset`: seconds east of UTC),
/// each query grouped so that its result is bounded (≤ 48, 12 and 25 rows).
fn day_aggregates(
    c: &rusqlite::Connection,
    since: i64,
    offset: i64,
) -> rusqlite::Result<DayAggregates> {
    let mut st = c.prepare(
        "SELECT (scanned_at + ?2) / 3600 AS hour, decision = 'red' AS is_red, count(*)
         FROM scans WHERE scanned_at > ?1 GROUP BY hour, is_red",
    )?;
    let scans = st
        .query_map([since, offset], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    // `scans.reasons` is a JSON array of codes (or of objects with a `code`).
    let mut st = c.prepare(
        "SELECT code, count(*) AS n FROM (
             SELECT CASE j.type WHEN 'text' THEN j.value
                                WHEN 'object' THEN json_extract(j.value, '$.code') END AS code
             FROM scans s,
                  json_each(CASE WHEN json_valid(s.reasons) AND json_type(s.reasons) = 'array'
                                 THEN s.reasons ELSE '[]' END) j
             WHERE s.scanned_at > ?1 AND s.decision = 'red')
         WHERE code IS NOT NULL GROUP BY code ORDER BY n DESC, code LIMIT ?2",
    )?;
    let reasons = st
        .query_map(rusqlite::params![since, MAX_REASONS], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    // A case's first outcome is the one that supersedes none (one per case).
    let mut st = c.prepare(
        "SELECT (o.recorded_at + ?2) / 3600 AS hour, count(*),
                sum(max(o.recorded_at - c.opened_at, 0))
         FROM outcomes o JOIN cases c ON c.id = o.case_id
         WHERE o.supersedes_id IS NULL AND o.recorded_at > ?1 GROUP BY hour",
    )?;
    let handled = st
        .query_map([since, offset], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(DayAggregates {
        scans,
        reasons,
        handled,
    })
}

const H: i64 = 180;
const TOP: i64 = 10;
const BOTTOM: i64 = 24;

/// `GET /console/dashboard` (supervisors).
pub async fn dashboard(
    State(state): State<AppState>,
    Extension(ctx): Extension<PageCtx>,
    Extension(cfg): Cfg,
    Supervisor(officer): Supervisor,
) -> PageResult {
    let ctx = ctx.with_officer(&officer);
    let now = state.clock.unix();
    let since = now - 86_400;
    let offset = i64::from(cfg.utc_offset_minutes) * 60;
    // Everything is aggregated in SQL: a few dozen rows whatever a day's traffic.
    let day = state
        .db
        .read(move |c| day_aggregates(c, since, offset).map_err(AppError::from))
        .await?;
    let refused = state
        .db
        .read(move |c| {
            crate::attempts::refused_per_device_hour(c, since, MAX_REFUSED_LINES)
                .map_err(AppError::from)
        })
        .await?
        .into_iter()
        .map(|r| RefusedLine {
            hour: super::format::fmt_time(&cfg, r.hour),
            gate_id: r.gate_id,
            count: r.count,
            reasons: r
                .reasons
                .iter()
                .map(|(code, n)| format!("{code} ×{n}"))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    // Hour buckets ending with the current local hour.
    let this_hour = (now + offset).div_euclid(3600);
    let bucket = |hour: i64| -> Option<usize> {
        let b = 23 - (this_hour - hour);
        usize::try_from(b).ok().filter(|b| *b < 24)
    };
    let hour_label = |i: usize| format!("{:02}", (this_hour - 23 + i as i64).rem_euclid(24));
    let mut green = [0i64; 24];
    let mut red = [0i64; 24];
    for (hour, is_red, n) in &day.scans {
        if let Some(b) = bucket(*hour) {
            if *is_red {
                red[b] += n;
            } else {
                green[b] += n;
            }
        }
    }
    let totals = (green.iter().sum(), red.iter().sum());

    // Chart 1: pairs of bars per hour.
    let max = green
        .iter()
        .chain(red.iter())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let (slot, bw) = (30i64, 12i64);
    let mut scans_chart = Chart {
        width: 24 * slot + 40,
        height: H + TOP + BOTTOM,
        ..Default::default()
    };
    for i in 0..24 {
        let x0 = 40 + i as i64 * slot;
        for (k, (v, class)) in [(green[i], "bar-green"), (red[i], "bar-red")]
            .into_iter()
            .enumerate()
        {
            let h = v * H / max;
            scans_chart.bars.push(Bar {
                x: x0 + k as i64 * bw,
                y: TOP + H - h,
                w: bw - 1,
                h,
                class,
                title: format!(
                    "{}:00 {} {v}",
                    hour_label(i),
                    ctx.t(if k == 0 { "lane-green" } else { "lane-red" })
                ),
            });
        }
        if i % 3 == 0 {
            scans_chart.labels.push(Label {
                x: x0,
                y: TOP + H + 16,
                text: hour_label(i),
            });
        }
    }
    scans_chart.labels.push(Label {
        x: 0,
        y: TOP + 10,
        text: max.to_string(),
    });
    scans_chart.summary = ctx.t("console-dash-scans-summary");

    // Chart 2: horizontal bars per reason code.
    let by_count = &day.reasons;
    let rmax = by_count.first().map_or(1, |r| r.1.max(1));
    let mut reasons_chart = Chart {
        width: 720,
        height: (by_count.len() as i64).max(1) * 26 + 10,
        ..Default::default()
    };
    for (i, (code, n)) in by_count.iter().enumerate() {
        let y = 5 + i as i64 * 26;
        let w = n * 400 / rmax;
        reasons_chart.bars.push(Bar {
            x: 280,
            y,
            w: w.max(1),
            h: 20,
            class: "bar-red",
            title: format!("{code}: {n}"),
        });
        reasons_chart.labels.push(Label {
            x: 0,
            y: y + 15,
            text: code.clone(),
        });
        reasons_chart.labels.push(Label {
            x: 286 + w,
            y: y + 15,
            text: n.to_string(),
        });
    }
    reasons_chart.summary = ctx.t("console-dash-reasons-summary");

    // Chart 3: average handling minutes by the hour of the outcome.
    let mut sum = [0i64; 24];
    let mut cnt = [0i64; 24];
    for (hour, n, total_secs) in &day.handled {
        if let Some(b) = bucket(*hour) {
            sum[b] += total_secs;
            cnt[b] += n;
        }
    }
    let avg: Vec<i64> = (0..24)
        .map(|i| if cnt[i] > 0 { sum[i] / cnt[i] / 60 } else { 0 })
        .collect();
    let amax = avg.iter().copied().max().unwrap_or(0).max(1);
    let mut handling = Chart {
        width: 24 * slot + 40,
        height: H + TOP + BOTTOM,
        ..Default::default()
    };
    for (i, a) in avg.iter().enumerate() {
        let h = a * H / amax;
        let x = 40 + i as i64 * slot;
        handling.bars.push(Bar {
            x,
            y: TOP + H - h,
            w: 2 * bw - 1,
            h,
            class: "bar-blue",
            title: format!("{}:00 {a} min ({} cases)", hour_label(i), cnt[i]),
        });
        if i % 3 == 0 {
            handling.labels.push(Label {
                x,
                y: TOP + H + 16,
                text: hour_label(i),
            });
        }
    }
    handling.labels.push(Label {
        x: 0,
        y: TOP + 10,
        text: format!("{amax}"),
    });
    handling.summary = ctx.t("console-dash-handling-summary");
    let n: i64 = cnt.iter().sum();
    let avg_handling = if n > 0 {
        format!("{}", sum.iter().sum::<i64>() / n / 60)
    } else {
        "—".into()
    };
    let page = DashboardPage {
        scans: scans_chart,
        reasons: reasons_chart,
        handling,
        refused,
        totals,
        avg_handling,
        ctx,
    };
    page::html(StatusCode::OK, &page)
}
