//! `egate officer …`: officer accounts of the console, on the gate's database
//! (`gate_service::console::admin` does the work; this module owns the command line and
//! the password prompt).
//!
//! A password is read from standard input (one line) when `--password-stdin` is given or
//! the input is not a terminal; otherwise a random one is generated and printed once.

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand, ValueEnum};
use gate_service::console::admin;
use std::io::{BufRead as _, IsTerminal as _};

#[derive(Subcommand, Debug)]
pub enum OfficerCmd {
    /// Create an account. The password comes from standard input, or is generated and
    /// printed once.
    Add {
        /// Sign-in name: 1 to 64 characters a-z, 0-9, '.', '_' or '-'.
        username: String,
        /// What the account may do.
        #[arg(long, value_enum)]
        role: Role,
        /// Name shown in the console (default: the user name).
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// List the accounts.
    List,
    /// Disable an account; its sessions end.
    Disable {
        /// The account's user name.
        username: String,
    },
    /// Give an account a new password (from standard input, or generated and printed
    /// once); its sessions end.
    ResetPassword {
        /// The account's user name.
        username: String,
        #[command(flatten)]
        password: PasswordArgs,
    },
}

#[derive(Args, Debug)]
pub struct PasswordArgs {
    /// Read the password from standard input (one line) even on a terminal.
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Role {
    /// Works cases at the counter.
    Officer,
    /// Also supersedes outcomes and sees the dashboard.
    Supervisor,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Supervisor => "supervisor",
        }
    }
}

/// Run an officer command on the gate's database.
pub async fn run(cmd: OfficerCmd) -> anyhow::Result<()> {
    let config = gate_service::Config::from_env()?;
    let db = admin::open_db(&config)
        .await
        .context("failed to open the gate database")?;
    let result = run_on(&db, cmd).await;
    db.close();
    result
}

async fn run_on(db: &shared::db::Db, cmd: OfficerCmd) -> anyhow::Result<()> {
    match cmd {
        OfficerCmd::Add {
            username,
            role,
            name,
            password,
        } => {
            let (pw, generated) = password.read()?;
            let id = admin::add(db, &username, name.as_deref(), role.as_str(), &pw).await?;
            println!(
                "officer {} created (id {id}, role {})",
                gate_service::console::auth::normalise_username(&username),
                role.as_str()
            );
            if generated {
                println!("initial password (shown once; change it with reset-password): {pw}");
            }
        }
        OfficerCmd::List => {
            println!(
                "{:>4}  {:<20} {:<11} {:<8} name",
                "id", "username", "role", "state"
            );
            for a in admin::list(db).await? {
                println!(
                    "{:>4}  {:<20} {:<11} {:<8} {}",
                    a.id,
                    a.username,
                    a.role,
                    if a.disabled { "disabled" } else { "active" },
                    a.display_name
                );
            }
        }
        OfficerCmd::Disable { username } => {
            admin::disable(db, &username).await?;
            println!("officer {username} disabled; their sessions have ended");
        }
        OfficerCmd::ResetPassword { username, password } => {
            let (pw, generated) = password.read()?;
            admin::reset_password(db, &username, &pw).await?;
            println!("password of {username} reset; their sessions have ended");
            if generated {
                println!("new password (shown once): {pw}");
            }
        }
    }
    Ok(())
}

impl PasswordArgs {
    /// The password from standard input, or a generated one (and `true`) when none is
    /// given.
    fn read(&self) -> anyhow::Result<(String, bool)> {
        let stdin = std::io::stdin();
        if self.password_stdin || !stdin.is_terminal() {
            let mut line = String::new();
            stdin
                .lock()
                .read_line(&mut line)
                .context("failed to read the password from stdin")?;
            let pw = line.trim_end_matches(['\r', '\n']).to_owned();
            if !pw.is_empty() {
                admin::check_password(&pw)?;
                return Ok((pw, false));
            }
            if self.password_stdin {
                bail!("--password-stdin given but standard input is empty");
            }
        }
        Ok((admin::generate_password(), true))
    }
}
