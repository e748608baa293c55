//! `gate-service officer …`: officer accounts are created by a command, never by a
//! default password.
//!
//! ```text
//! gate-service officer add <username> --role officer|supervisor [--name "…"] [--password-stdin]
//! gate-service officer list
//! gate-service officer disable <username>
//! gate-service officer reset-password <username> [--password-stdin]
//! ```
//!
//! The password is read from standard input (one line) when `--password-stdin` is given
//! or the input is not a terminal; otherwise a random one is generated and printed once.

use super::auth::{self, check_password_strength, hash_password, normalise_username, unix_now};
use super::store;
use crate::Config;
use anyhow::{Context as _, bail};
use rusqlite::{OptionalExtension, params};
use shared::db::Db;
use std::io::{BufRead as _, IsTerminal as _};

const USAGE: &str = "usage:
  gate-service officer add <username> --role officer|supervisor [--name \"Display Name\"] [--password-stdin]
  gate-service officer list
  gate-service officer disable <username>
  gate-service officer reset-password <username> [--password-stdin]";

/// Run an `officer …` command (`args` are the words after the program name, starting
/// with `officer`).
pub async fn run(config: Config, args: &[String]) -> anyhow::Result<()> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let args = match args.first() {
        Some(&"officer") => &args[1..],
        _ => &args[..],
    };
    let path = config.db_path();
    let db = shared::db::blocking(move || Db::open(&path, &crate::db::all_migrations()))
        .await?
        .context("failed to open the gate database")?;
    let result = match args {
        ["add", username, rest @ ..] => add(&db, username, rest).await,
        ["list"] => list(&db).await,
        ["disable", username] => disable(&db, username).await,
        ["reset-password", username, rest @ ..] => reset(&db, username, rest).await,
        _ => {
            eprintln!("{USAGE}");
            bail!("unknown officer command")
        }
    };
    db.close();
    result
}

fn flag<'a>(rest: &[&'a str], name: &str) -> Option<&'a str> {
    rest.iter()
        .position(|a| *a == name)
        .and_then(|i| rest.get(i + 1).copied())
}

/// The password from stdin, or a generated one (printed once) when none is given.
fn password(rest: &[&str]) -> anyhow::Result<(String, bool)> {
    let explicit = rest.contains(&"--password-stdin");
    let stdin = std::io::stdin();
    if explicit || !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("failed to read the password from stdin")?;
        let pw = line.trim_end_matches(['\r', '\n']).to_owned();
        if !pw.is_empty() {
            check_password_strength(&pw)?;
            return Ok((pw, false));
        }
        if explicit {
            bail!("--password-stdin given but standard input is empty");
        }
    }
    Ok((shared::web::random_token(), true))
}

async fn add(db: &Db, username: &str, rest: &[&str]) -> anyhow::Result<()> {
    let role = flag(rest, "--role").context("--role officer|supervisor is required")?;
    let name = flag(rest, "--name").unwrap_or(username);
    let (pw, generated) = password(rest)?;
    let id = auth::create_officer(db, username, name, role, &pw).await?;
    println!(
        "officer {} created (id {id}, role {role})",
        normalise_username(username)
    );
    if generated {
        println!("initial password (shown once; change it with reset-password): {pw}");
    }
    Ok(())
}

/// id, username, display name, role, disabled.
type OfficerLine = (i64, String, String, String, bool);

async fn list(db: &Db) -> anyhow::Result<()> {
    let rows = db
        .read(|c| -> anyhow::Result<Vec<OfficerLine>> {
            let mut st = c.prepare(
                "SELECT id, username, display_name, role, disabled FROM officers ORDER BY id",
            )?;
            let rows = st
                .query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await?;
    println!(
        "{:>4}  {:<20} {:<11} {:<8} name",
        "id", "username", "role", "state"
    );
    for (id, u, n, r, d) in rows {
        println!(
            "{id:>4}  {u:<20} {r:<11} {:<8} {n}",
            if d { "disabled" } else { "active" }
        );
    }
    Ok(())
}

async fn officer_id(db: &Db, username: &str) -> anyhow::Result<i64> {
    let u = normalise_username(username);
    db.read(move |c| -> anyhow::Result<Option<i64>> {
        Ok(
            c.query_row("SELECT id FROM officers WHERE username = ?1", [&u], |r| {
                r.get(0)
            })
            .optional()?,
        )
    })
    .await?
    .with_context(|| format!("no officer named {username}"))
}

async fn disable(db: &Db, username: &str) -> anyhow::Result<()> {
    let id = officer_id(db, username).await?;
    let now = unix_now();
    db.write(move |c| -> anyhow::Result<()> {
        c.execute("UPDATE officers SET disabled = 1 WHERE id = ?1", [id])?;
        c.execute("DELETE FROM sessions WHERE officer_id = ?1", [id])?;
        store::audit(
            c,
            now,
            None,
            "officer.disabled",
            None,
            &format!("officer {id}"),
        )?;
        Ok(())
    })
    .await?;
    println!("officer {username} disabled; their sessions have ended");
    Ok(())
}

async fn reset(db: &Db, username: &str, rest: &[&str]) -> anyhow::Result<()> {
    let id = officer_id(db, username).await?;
    let (pw, generated) = password(rest)?;
    let pw2 = pw.clone();
    let hash = shared::db::blocking(move || hash_password(&pw2)).await??;
    let now = unix_now();
    db.write(move |c| -> anyhow::Result<()> {
        c.execute(
            "UPDATE officers SET password_hash = ?2 WHERE id = ?1",
            params![id, hash],
        )?;
        c.execute("DELETE FROM sessions WHERE officer_id = ?1", [id])?;
        store::audit(
            c,
            now,
            None,
            "officer.password_reset",
            None,
            &format!("officer {id}"),
        )?;
        Ok(())
    })
    .await?;
    println!("password of {username} reset; their sessions have ended");
    if generated {
        println!("new password (shown once): {pw}");
    }
    Ok(())
}
