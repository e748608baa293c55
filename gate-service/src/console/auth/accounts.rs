//! Creating officer accounts (the `officer add` command and the first start).

use super::password::{MIN_PASSWORD_LEN, check_password_strength, hash_password};
use crate::console::store;
use rusqlite::{OptionalExtension, params};
use shared::db::{Db, DbError};

/// Why an account could not be created or changed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The user name breaks the rules.
    #[error("the user name must be 1 to 64 characters a-z, 0-9, '.', '_' or '-'")]
    BadUsername,
    /// Not `officer` or `supervisor`.
    #[error("the role must be officer or supervisor")]
    BadRole,
    /// Too short or too long.
    #[error("the password must have {MIN_PASSWORD_LEN} to 1024 characters")]
    WeakPassword,
    /// The user name is taken.
    #[error("an officer named {0} already exists")]
    Exists(String),
    /// Hashing failed.
    #[error("failed to hash the password: {0}")]
    Hash(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<shared::offload::TaskFailed> for AccountError {
    fn from(e: shared::offload::TaskFailed) -> Self {
        AccountError::Db(DbError::from(e))
    }
}

impl From<rusqlite::Error> for AccountError {
    fn from(e: rusqlite::Error) -> Self {
        AccountError::Db(e.into())
    }
}

/// Normalise a user name: trimmed, lower case.
pub fn normalise_username(u: &str) -> String {
    u.trim().to_lowercase()
}

fn valid_username(u: &str) -> bool {
    (1..=64).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// Seconds since the epoch from the system clock (CLI paths that have no `AppState`).
pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Create an officer account; returns its id. The password must have at least
/// [`MIN_PASSWORD_LEN`] characters.
pub async fn create_officer(
    db: &Db,
    username: &str,
    display_name: &str,
    role: &str,
    password: &str,
) -> Result<i64, AccountError> {
    let username = normalise_username(username);
    if !valid_username(&username) {
        return Err(AccountError::BadUsername);
    }
    if role != "officer" && role != "supervisor" {
        return Err(AccountError::BadRole);
    }
    let display_name = display_name.trim();
    let display_name = if display_name.is_empty() {
        username.clone()
    } else {
        display_name.chars().take(100).collect()
    };
    check_password_strength(password)?;
    let pw = password.to_owned();
    let hash = shared::offload::blocking(move || hash_password(&pw)).await??;
    let role = role.to_owned();
    let now = unix_now();
    db.write(move |c| -> Result<i64, AccountError> {
        let exists: Option<i64> = c
            .query_row(
                "SELECT id FROM officers WHERE username = ?1",
                [&username],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_some() {
            return Err(AccountError::Exists(username));
        }
        c.execute(
            "INSERT INTO officers (username, display_name, role, password_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![username, display_name, role, hash, now],
        )?;
        let id = c.last_insert_rowid();
        store::audit(
            c,
            now,
            None,
            "officer.created",
            None,
            &format!("officer {id} ({role})"),
        )?;
        Ok(id)
    })
    .await
}
