//! `egate`: the operator binary. `egate` (or `egate up`) runs mobile-api, gate-service
//! and the kiosk in one process on embedded defaults; the other subcommands are the
//! operator's tools (one service alone, key rotation, officers, trust list export,
//! online backups, purges).

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand, ValueEnum};
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio::net::TcpListener;
use tokio::sync::watch;

mod device;
mod officer;
mod trust_root;
mod up;

/// The E-Gate declaration system, operator's command.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run mobile-api, gate-service and the kiosk in one process (the default).
    Up,
    /// Run one service alone.
    Run {
        /// Which service.
        service: Service,
    },
    /// Rotate an issuer's signing key, publishing before signing: the new key is
    /// published at once and signs from `now + lead`, when the old one retires. The lead
    /// is `EGATE_KEY_PUBLISH_LEAD_SECS`, by default 2 × the gate refresh
    /// (`EGATE_GATE_REFRESH_SECS`) + the issuer's key reload (`EGATE_KEY_RELOAD_SECS`):
    /// 180 s. The old public key stays in the trust list until its tokens have expired.
    RotateKey {
        /// Which issuer.
        issuer: IssuerName,
    },
    /// Manage the officer accounts of the console (add, list, disable, reset-password).
    #[command(subcommand)]
    Officer(officer::OfficerCmd),
    /// Manage the credentials of the E-Gate devices and kiosk terminals (add, list,
    /// revoke).
    #[command(subcommand)]
    Device(device::DeviceCmd),
    /// Print an issuer's key set (JWKS), or `trust-list sign <issuer>`: sign it with the
    /// root key into the list the issuer serves (docs/trust.md).
    #[command(args_conflicts_with_subcommands = true)]
    TrustList {
        /// Sign instead of printing.
        #[command(subcommand)]
        action: Option<TrustListCmd>,
        /// Which issuer (to print its JWKS).
        issuer: Option<IssuerName>,
    },
    /// The operator root key that signs the trust lists (`init`, `public`).
    #[command(subcommand)]
    RootKey(RootKeyCmd),
    /// Back up every database with SQLite's online backup API (safe while running).
    Backup {
        /// Directory to write the copies into (created).
        dest: PathBuf,
    },
    /// Put the gate's database from a backup directory (from `egate backup`) in place.
    /// Stop the services first. The current file is kept beside, renamed
    /// `*.replaced-<time>`. A restored gate sends tokens issued before the restore to
    /// the red lane until it has pulled every issuer's revocations again (they carry the
    /// uses it lost).
    Restore {
        /// The backup directory.
        from: PathBuf,
        /// Also restore mobile-api's and the kiosk's databases. Their revocation feeds
        /// then lose what was added after the backup (uses, supersessions), which the
        /// gates cannot learn again: only when those databases are lost.
        #[arg(long)]
        with_issuers: bool,
    },
    /// Erase now the personal data whose retention period is over.
    Purge,
}

#[derive(Debug, Subcommand)]
enum TrustListCmd {
    /// Sign the issuer's current key set with the root key (version + 1).
    Sign {
        /// Which issuer.
        issuer: IssuerName,
    },
}

#[derive(Debug, Subcommand)]
enum RootKeyCmd {
    /// Create the root key (`EGATE_ROOT_KEY_FILE` or `$EGATE_DATA_DIR/root.key`, 0600).
    Init,
    /// Print the root public key (base64url), what gates hold as `EGATE_GATE_ROOT_KEY`.
    Public,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Service {
    MobileApi,
    Gate,
    Kiosk,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum IssuerName {
    MobileApi,
    Kiosk,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::telemetry::init();
    let cli = Cli::parse();
    match cli.cmd.unwrap_or(Cmd::Up) {
        Cmd::Up => up::run(shutdown_signal()).await,
        Cmd::Run { service } => run_one(service).await,
        Cmd::RotateKey { issuer } => rotate_key(issuer),
        Cmd::Officer(cmd) => officer::run(cmd).await,
        Cmd::Device(cmd) => device::run(cmd).await,
        Cmd::RootKey(RootKeyCmd::Init) => {
            let path = trust_root::root_key_path();
            let root = trust_root::init(&path)?;
            println!(
                "root key created at {} (keep it offline); public key {}",
                path.display(),
                shared::token::signed_list::RootPublicKey::of(&root).to_base64url()
            );
            Ok(())
        }
        Cmd::RootKey(RootKeyCmd::Public) => {
            let path = trust_root::root_key_path();
            let root = trust_root::load_if_present(&path)?
                .with_context(|| format!("no root key at {}", path.display()))?;
            println!(
                "{}",
                shared::token::signed_list::RootPublicKey::of(&root).to_base64url()
            );
            Ok(())
        }
        Cmd::TrustList {
            action: Some(TrustListCmd::Sign { issuer }),
            ..
        } => {
            let path = trust_root::root_key_path();
            let root = trust_root::load_if_present(&path)?
                .with_context(|| format!("no root key at {}", path.display()))?;
            let (dir, id, publish) = key_dir(issuer)?;
            let version = trust_root::sign(&root, &dir, &id, publish, now())?;
            println!("{id}: trust list signed, version {version}");
            Ok(())
        }
        Cmd::TrustList { issuer, .. } => {
            let issuer = issuer.context("name an issuer: trust-list mobile-api|kiosk")?;
            let (dir, id, max) = key_dir(issuer)?;
            let ring = shared::token::KeyRing::open(&dir, &id, now())?;
            println!("{}", serde_json::to_string_pretty(&ring.jwks(now(), max))?);
            Ok(())
        }
        Cmd::Backup { dest } => backup(&dest),
        Cmd::Restore { from, with_issuers } => restore(&from, with_issuers),
        Cmd::Purge => purge().await,
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The key directory, issuer id and how long a retired key stays published, as the
/// issuer's own configuration answers them.
fn key_dir(issuer: IssuerName) -> anyhow::Result<(PathBuf, String, i64)> {
    Ok(match issuer {
        IssuerName::MobileApi => {
            let c = mobile_api::Config::from_env()?;
            let publish = c.token_validity.key_publish_secs();
            (c.key_dir(), c.issuer_id().to_owned(), publish)
        }
        IssuerName::Kiosk => {
            let c = kiosk::Config::from_env()?;
            let publish = c.token_validity.key_publish_secs();
            (c.key_dir(), c.issuer_id(), publish)
        }
    })
}

/// How long a rotated-in key is published before it signs: `EGATE_KEY_PUBLISH_LEAD_SECS`,
/// else long enough for the issuer to reload its keys and every gate to refresh its
/// trust list ([`shared::token::default_publish_lead`]) with the intervals the
/// environment gives the services.
fn publish_lead(issuer: IssuerName) -> anyhow::Result<i64> {
    if let Some(v) = std::env::var("EGATE_KEY_PUBLISH_LEAD_SECS")
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        return v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=30 * 86_400).contains(n))
            .with_context(|| {
                format!("EGATE_KEY_PUBLISH_LEAD_SECS={v:?}: expected seconds, 0 to 2592000")
            });
    }
    let refresh = gate_service::Config::from_env()?.refresh_secs;
    let reload = match issuer {
        IssuerName::MobileApi => mobile_api::Config::from_env()?.key_reload_interval,
        IssuerName::Kiosk => kiosk::Config::from_env()?.key_reload_every,
    };
    Ok(shared::token::default_publish_lead(
        i64::try_from(refresh).unwrap_or(i64::MAX),
        i64::try_from(reload.as_secs()).unwrap_or(i64::MAX),
    ))
}

fn rotate_key(issuer: IssuerName) -> anyhow::Result<()> {
    let (dir, id, _) = key_dir(issuer)?;
    let lead = publish_lead(issuer)?;
    let at = now();
    let mut ring = shared::token::KeyRing::open(&dir, &id, at)?;
    let old = ring.signing_key(at).kid();
    let (new, activates) = ring.rotate(at, lead)?;
    println!(
        "{id}: new signing key {new}, published now, signs from {activates} (in {lead} s); \
         {old} retires then (still published until its tokens expire)"
    );
    // Gates take the new key only from a signed list: re-sign when the root key is here.
    if let Some(root) = trust_root::load_if_present(&trust_root::root_key_path())? {
        let (_, _, publish) = key_dir(issuer)?;
        let version = trust_root::sign(&root, &dir, &id, publish, at)?;
        println!("{id}: trust list re-signed, version {version}");
    } else {
        println!(
            "{id}: no root key here: sign the new list with `egate trust-list sign` \
             where the root key is kept"
        );
    }
    Ok(())
}

/// Every database file of the system, by name.
fn databases() -> anyhow::Result<Vec<(&'static str, PathBuf)>> {
    let m = mobile_api::Config::from_env()?;
    let g = gate_service::Config::from_env()?;
    let k = kiosk::Config::from_env()?;
    Ok(vec![
        ("mobile-api.db", m.db_path()),
        ("gate.db", g.db_path()),
        ("kiosk.db", k.db_path()),
    ])
}

fn backup(dest: &Path) -> anyhow::Result<()> {
    let mut n = 0;
    let mobile_on_postgres = mobile_api::Config::from_env()?.database_url.is_some();
    for (name, src) in databases()? {
        if name == "mobile-api.db" && mobile_on_postgres {
            println!(
                "mobile-api: its store is in PostgreSQL (EGATE_DATABASE_URL): back it up with \
                 PostgreSQL's own tools (base backups, WAL archiving; docs/storage.md)"
            );
            continue;
        }
        if !src.exists() {
            println!("{name}: not present, skipped");
            continue;
        }
        let out = dest.join(name);
        if out.exists() {
            bail!(
                "{} already exists; choose an empty directory",
                out.display()
            );
        }
        if name == "gate.db" {
            // The gate's copy is marked, so that a gate started on it knows what it lost.
            gate_service::db::backup(&src, &out, now())
        } else {
            shared::db::backup_file(&src, &out)
        }
        .with_context(|| format!("failed to back up {}", src.display()))?;
        println!(
            "{name}: backed up to {} (integrity_check ok)",
            out.display()
        );
        n += 1;
    }
    println!("{n} database(s) backed up");
    Ok(())
}

fn restore(from: &Path, with_issuers: bool) -> anyhow::Result<()> {
    let dbs = databases()?;
    // Check every copy before touching anything.
    let mut found = Vec::new();
    for (name, target) in dbs {
        if name != "gate.db" && !with_issuers {
            continue;
        }
        let src = from.join(name);
        if !src.exists() {
            println!("{name}: not in the backup, left as it is");
            continue;
        }
        let c =
            rusqlite::Connection::open_with_flags(&src, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .with_context(|| format!("failed to open {}", src.display()))?;
        let ok: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if ok != "ok" {
            bail!(
                "{}: integrity_check failed ({ok}); nothing restored",
                src.display()
            );
        }
        found.push((name, src, target));
    }
    if found.is_empty() {
        bail!(
            "{} holds no database of this system to restore",
            from.display()
        );
    }
    if with_issuers {
        println!(
            "warning: restoring the issuers' databases rolls their revocation feeds back to the backup; \
             uses and supersessions recorded after it are lost to every gate"
        );
    }
    let stamp = now();
    for (name, src, target) in found {
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // The current file and its WAL go aside together: a WAL left beside the
        // restored file would be replayed into it.
        for suffix in ["", "-wal", "-shm"] {
            let cur = PathBuf::from(format!("{}{suffix}", target.display()));
            if cur.exists() {
                let aside = PathBuf::from(format!("{}{suffix}.replaced-{stamp}", target.display()));
                std::fs::rename(&cur, &aside)
                    .with_context(|| format!("failed to move {} aside", cur.display()))?;
            }
        }
        // Copied under a temporary name, synced, then renamed: a failure half way
        // leaves no truncated database under the real name.
        let tmp = PathBuf::from(format!("{}.restoring", target.display()));
        std::fs::copy(&src, &tmp)
            .with_context(|| format!("failed to copy {} to {}", src.display(), tmp.display()))?;
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        }
        if name != "gate.db" {
            // A restored issuer's feed restarts its sequences below the gates' marks: a
            // new epoch makes every gate read it again from the start.
            let c = rusqlite::Connection::open(&tmp)
                .with_context(|| format!("failed to open {}", tmp.display()))?;
            if shared::issuer::store::renew_feed_epoch(&c)? {
                println!("{name}: its revocation feed has a new epoch (gates read it again)");
            }
        }
        std::fs::File::open(&tmp).and_then(|f| f.sync_all())?;
        std::fs::rename(&tmp, &target)
            .with_context(|| format!("failed to move {} into place", tmp.display()))?;
        if let Some(dir) = target.parent() {
            std::fs::File::open(dir).and_then(|d| d.sync_all())?;
        }
        println!(
            "{name}: restored from {} (the previous file kept as *.replaced-{stamp})",
            src.display()
        );
    }
    Ok(())
}

/// The purge alone: each service's stores are opened without its background tasks
/// (whose start-up purge would otherwise erase the data first and leave this command
/// counting nothing), purged once, and closed.
async fn purge() -> anyhow::Result<()> {
    let mut mc = mobile_api::Config::from_env()?;
    mc.background_tasks = false;
    let m = mobile_api::build(mc).await?;
    let erased = mobile_api::purge_expired(&m, time::OffsetDateTime::now_utc())
        .await
        .map_err(|e| anyhow::anyhow!("mobile-api purge failed: {e:?}"))?;
    m.stop_background().await;
    m.db.close();
    let mut gc = gate_service::Config::from_env()?;
    gc.background_tasks = false;
    let g = gate_service::build(gc).await?;
    let cases = gate_service::purge_expired(&g, now()).await?;
    g.db.close();
    println!("erased personal data of {erased} declaration(s) and {cases} case(s)");
    Ok(())
}

async fn run_one(service: Service) -> anyhow::Result<()> {
    match service {
        Service::MobileApi => {
            let config = mobile_api::Config::from_env()?;
            let listener = bind(config.addr).await?;
            let internal = bind(config.internal_addr).await?;
            println!(
                "mobile-api on http://{}; internal (gates only) on http://{}",
                listener.local_addr()?,
                internal.local_addr()?
            );
            let state = mobile_api::build(config).await?;
            Ok(
                mobile_api::serve_with_internal(listener, Some(internal), state, shutdown_signal())
                    .await?,
            )
        }
        Service::Gate => {
            let config = gate_service::Config::from_env()?;
            let listeners = gate_service::Listeners {
                device: bind(config.addr).await?,
                console: bind(config.console_addr).await?,
            };
            println!(
                "gate-service on http://{} (scan API); officer console on http://{}/console/",
                listeners.device.local_addr()?,
                listeners.console.local_addr()?
            );
            let state = gate_service::build(config).await?;
            Ok(gate_service::serve(listeners, state, shutdown_signal()).await?)
        }
        Service::Kiosk => {
            let config = kiosk::Config::from_env()?;
            let listener = bind(config.addr).await?;
            let internal = bind(config.internal_addr).await?;
            println!(
                "kiosk on http://{}; internal (gates only) on http://{}",
                listener.local_addr()?,
                internal.local_addr()?
            );
            let state = kiosk::build(config).await?;
            Ok(
                kiosk::serve_with_internal(listener, Some(internal), state, shutdown_signal())
                    .await?,
            )
        }
    }
}

async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("failed to bind {addr}"))
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    shared::web::shutdown_signal().await;
}

/// A shutdown future for each of several servers, fired together.
fn fan_out(rx: &watch::Receiver<bool>) -> impl Future<Output = ()> + Send + 'static {
    let mut rx = rx.clone();
    async move {
        let _ = rx.wait_for(|stop| *stop).await;
    }
}
