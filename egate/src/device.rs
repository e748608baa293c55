//! `egate device …`: the credentials of the E-Gate devices and kiosk terminals, on the
//! gate's database (`gate_service::devices` does the work; this module owns the command
//! line). A key is printed once, when the device is added; the gate keeps its SHA-256.

use anyhow::Context as _;
use clap::{Subcommand, ValueEnum};
use gate_service::console::admin;
use gate_service::devices::{self, DeviceKind};

#[derive(Subcommand, Debug)]
pub enum DeviceCmd {
    /// Register a device; its key is printed once (give it to the device, as
    /// `Authorization: Bearer <key>`).
    Add {
        /// Device id: 1 to 32 characters A-Z, a-z, 0-9, '-' or '_' (a gate's id is the
        /// `gate_id` of its scans).
        id: String,
        /// What the device is.
        #[arg(long, value_enum)]
        kind: Kind,
    },
    /// List the devices (never their keys).
    List,
    /// Revoke a device: its key is refused from the next request, without a restart.
    Revoke {
        /// The device id.
        id: String,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Kind {
    /// An E-Gate: may call the scan API.
    Gate,
    /// A kiosk terminal: may not scan.
    Kiosk,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn when(t: Option<i64>) -> String {
    t.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .map(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        })
        .unwrap_or_else(|| "-".into())
}

/// Run a device command on the gate's database.
pub async fn run(cmd: DeviceCmd) -> anyhow::Result<()> {
    let config = gate_service::Config::from_env()?;
    std::fs::create_dir_all(config.gate_dir())
        .with_context(|| format!("failed to create {}", config.gate_dir().display()))?;
    let db = admin::open_db(&config)
        .await
        .context("failed to open the gate database")?;
    let result = run_on(&db, cmd).await;
    db.close();
    result
}

async fn run_on(db: &shared::db::Db, cmd: DeviceCmd) -> anyhow::Result<()> {
    match cmd {
        DeviceCmd::Add { id, kind } => {
            let kind = match kind {
                Kind::Gate => DeviceKind::Gate,
                Kind::Kiosk => DeviceKind::Kiosk,
            };
            let key = devices::add(db, &id, kind, now()).await?;
            println!("device {id} added (kind {})", kind.as_str());
            println!("key (shown once; the gate keeps only its hash): {key}");
        }
        DeviceCmd::List => {
            println!(
                "{:<32}  {:<5}  {:<20}  {:<20}  last seen",
                "id", "kind", "created", "revoked"
            );
            for d in devices::list(db).await? {
                println!(
                    "{:<32}  {:<5}  {:<20}  {:<20}  {}",
                    d.id,
                    d.kind.as_str(),
                    when(Some(d.created_at)),
                    when(d.revoked_at),
                    when(d.last_seen_at)
                );
            }
        }
        DeviceCmd::Revoke { id } => {
            devices::revoke(db, &id, now()).await?;
            println!("device {id} revoked; its key is refused from now on");
        }
    }
    Ok(())
}
