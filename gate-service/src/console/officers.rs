//! The supervisors' accounts page: every officer with their role and whether sign-in
//! is locked for them, and the unlock a supervisor records for a locked account
//! (audited). The throttle's lock otherwise lifts by itself after its period
//! (`console::auth::throttle`); an unlock lets a locked-out colleague back in at once.

use super::auth::Supervisor;
use super::auth::throttle::{account_wait, unlock_account};
use super::page::{self, PageCtx, PageResult};
use super::{Cfg, store};
use crate::AppState;
use crate::error::AppError;
use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rusqlite::OptionalExtension;

/// Officers listed at most (the console has tens, not thousands).
const MAX_LISTED: i64 = 500;

/// One officer's line.
#[derive(Debug, Clone)]
pub struct OfficerLine {
    /// Officer id.
    pub id: i64,
    /// Sign-in name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role label.
    pub role: String,
    /// Seconds before sign-in is allowed again (0 = not throttled).
    pub wait_secs: i64,
    /// Whether the account is disabled.
    pub disabled: bool,
}

/// The accounts page.
#[derive(Template)]
#[template(path = "console/officers.html")]
pub struct OfficersPage {
    /// Page context.
    pub ctx: PageCtx,
    /// CSRF token.
    pub csrf: String,
    /// Lines.
    pub officers: Vec<OfficerLine>,
}

/// `GET /console/accounts` (supervisors).
pub async fn officers(
    State(state): State<AppState>,
    Extension(ctx): Extension<PageCtx>,
    Extension(cfg): Cfg,
    Supervisor(sup): Supervisor,
) -> PageResult {
    let now = state.clock.unix();
    let cfg2 = (*cfg).clone();
    type Line = (i64, String, String, String, bool);
    let lines = state
        .db
        .read(move |c| -> Result<Vec<(Line, i64)>, AppError> {
            let mut st = c.prepare(
                "SELECT id, username, display_name, role, disabled FROM officers
                 ORDER BY username LIMIT ?1",
            )?;
            let rows = st
                .query_map([MAX_LISTED], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<Result<Vec<Line>, _>>()?;
            rows.into_iter()
                .map(|l| {
                    let wait = account_wait(c, &cfg2, &l.1, now)?;
                    Ok((l, wait))
                })
                .collect()
        })
        .await?;
    let ctx = ctx.with_officer(&sup);
    let officers = lines
        .into_iter()
        .map(
            |((id, username, display_name, role, disabled), wait_secs)| OfficerLine {
                id,
                username,
                display_name,
                role: ctx.role_label(&role),
                wait_secs,
                disabled,
            },
        )
        .collect();
    let page = OfficersPage {
        csrf: sup.csrf.clone(),
        officers,
        ctx,
    };
    page::html(StatusCode::OK, &page)
}

/// `POST /console/accounts/{id}/unlock` (supervisors): the account's failed sign-ins
/// stop counting; audited.
pub async fn unlock(
    State(state): State<AppState>,
    Supervisor(sup): Supervisor,
    Path(id): Path<i64>,
    body: Bytes,
) -> PageResult {
    sup.verified_form(&body)?;
    let now = state.clock.unix();
    let sid = sup.id;
    state
        .db
        .write(move |c| -> Result<(), AppError> {
            let username: String = c
                .query_row("SELECT username FROM officers WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()?
                .ok_or(AppError::NotFound)?;
            unlock_account(c, &username, sid, now)?;
            store::audit(
                c,
                now,
                Some(sid),
                "officer.unlocked",
                None,
                &format!("officer {id} ({username})"),
            )?;
            Ok(())
        })
        .await?;
    tracing::info!(
        officer.id = id,
        supervisor.id = sid,
        "console account unlocked"
    );
    Ok(page::see_other("/console/accounts"))
}
