//! Officer accounts as the operator manages them on the host (`egate officer …`, which
//! parses the command line and reads the password): create, list, disable, set a new
//! password. Accounts are only ever made this way, never with a default password.
//! Disabling an account or setting its password ends its sessions; both are audited.

use super::auth::{
    AccountError, check_password_strength, create_officer, hash_password, normalise_username,
    unix_now,
};
use super::store;
use crate::Config;
use rusqlite::{OptionalExtension as _, params};
use shared::db::{Db, DbError};

/// Why an account operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The request breaks a rule on accounts (user name, role, password, duplicate), or
    /// hashing the password failed.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// No account has this user name.
    #[error("no officer named {0}")]
    NoSuchOfficer(String),
    /// The gate database failed.
    #[error("the gate database: {0}")]
    Db(#[from] DbError),
}

impl From<shared::offload::TaskFailed> for AdminError {
    fn from(e: shared::offload::TaskFailed) -> Self {
        AdminError::Db(DbError::from(e))
    }
}

impl From<rusqlite::Error> for AdminError {
    fn from(e: rusqlite::Error) -> Self {
        AdminError::Db(DbError::Sqlite(e))
    }
}

/// An officer account as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficerAccount {
    /// Row id.
    pub id: i64,
    /// Sign-in name (lower case).
    pub username: String,
    /// Name shown in the console.
    pub display_name: String,
    /// `officer` or `supervisor`.
    pub role: String,
    /// Whether the account may no longer sign in.
    pub disabled: bool,
}

/// Open the gate database of `config` (migrated to the latest version).
pub async fn open_db(config: &Config) -> Result<Db, AdminError> {
    let path = config.db_path();
    Ok(shared::offload::blocking(move || Db::open(&path, crate::db::MIGRATIONS)).await??)
}

/// Check a password against the account rules before using it.
pub fn check_password(password: &str) -> Result<(), AdminError> {
    Ok(check_password_strength(password)?)
}

/// A random password (for an operator who gave none; shown to them once).
pub fn generate_password() -> String {
    shared::web::random_token()
}

/// Create an account; `display_name` defaults to the user name. Returns its id.
pub async fn add(
    db: &Db,
    username: &str,
    display_name: Option<&str>,
    role: &str,
    password: &str,
) -> Result<i64, AdminError> {
    Ok(create_officer(
        db,
        username,
        display_name.unwrap_or(username),
        role,
        password,
    )
    .await?)
}

/// Every account, in order of creation.
pub async fn list(db: &Db) -> Result<Vec<OfficerAccount>, AdminError> {
    db.read(|c| -> Result<Vec<OfficerAccount>, AdminError> {
        let mut st = c.prepare(
            "SELECT id, username, display_name, role, disabled FROM officers ORDER BY id",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok(OfficerAccount {
                    id: r.get(0)?,
                    username: r.get(1)?,
                    display_name: r.get(2)?,
                    role: r.get(3)?,
                    disabled: r.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    })
    .await
}

async fn officer_id(db: &Db, username: &str) -> Result<i64, AdminError> {
    let u = normalise_username(username);
    db.read(move |c| -> Result<Option<i64>, AdminError> {
        Ok(
            c.query_row("SELECT id FROM officers WHERE username = ?1", [&u], |r| {
                r.get(0)
            })
            .optional()?,
        )
    })
    .await?
    .ok_or_else(|| AdminError::NoSuchOfficer(username.to_owned()))
}

/// Disable an account and end its sessions.
pub async fn disable(db: &Db, username: &str) -> Result<(), AdminError> {
    let id = officer_id(db, username).await?;
    let now = unix_now();
    db.write(move |c| -> Result<(), AdminError> {
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
    .await
}

/// Give an account a new password and end its sessions.
pub async fn reset_password(db: &Db, username: &str, password: &str) -> Result<(), AdminError> {
    check_password(password)?;
    let id = officer_id(db, username).await?;
    let pw = password.to_owned();
    let hash = shared::offload::blocking(move || hash_password(&pw)).await??;
    let now = unix_now();
    db.write(move |c| -> Result<(), AdminError> {
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
    .await
}
