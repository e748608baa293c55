//! `egate up`: the whole system in one process.
//!
//! Binds every listener first (the issuers' public and internal ones, the gate's device
//! and console ones; so `:0` works and the gate is wired to the ports actually bound), starts the two issuers, then the gate with its trust list pointing
//! at them, creates the first supervisor account if there is none and the demo gate
//! device `demo-gate-1` on first start (each printed once), prints the URLs,
//! and on Ctrl-C/SIGTERM lets in-flight requests finish and closes the databases.

use super::{bind, fan_out};
use std::future::Future;
use tokio::sync::watch;

/// Handles of a running system (also used by tests through the binary).
pub async fn run(signal: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let m_cfg = mobile_api::Config::from_env()?;
    let k_cfg = kiosk::Config::from_env()?;
    let mut g_cfg = gate_service::Config::from_env()?;

    let m_listener = bind(m_cfg.addr).await?;
    let k_listener = bind(k_cfg.addr).await?;
    let g_listener = bind(g_cfg.addr).await?;
    let c_listener = bind(g_cfg.console_addr).await?;
    let m_internal = bind(m_cfg.internal_addr).await?;
    let k_internal = bind(k_cfg.internal_addr).await?;
    let m_addr = m_listener.local_addr()?;
    let k_addr = k_listener.local_addr()?;
    let m_i_addr = m_internal.local_addr()?;
    let k_i_addr = k_internal.local_addr()?;
    let g_addr = g_listener.local_addr()?;
    let c_addr = c_listener.local_addr()?;

    // Wire the gate's trust list to the two issuers actually running, unless the
    // operator configured issuers explicitly.
    if std::env::var_os("EGATE_GATE_ISSUERS").is_none() {
        g_cfg.issuers = gate_service::IssuerConfig::parse_list(&format!(
            "{}=http://{m_addr};internal=http://{m_i_addr},{}=http://{k_addr};internal=http://{k_i_addr}",
            m_cfg.issuer_id(),
            k_cfg.issuer_id()
        ))?;
    }

    // One machine: the root key lives here (created on first start) and signs both
    // issuers' key sets before the gate first pulls them. A real deployment keeps it
    // offline and signs with `egate trust-list sign` (docs/trust.md).
    let root_path = crate::trust_root::root_key_path();
    let root = match crate::trust_root::load_if_present(&root_path)? {
        Some(k) => k,
        None => crate::trust_root::init(&root_path)?,
    };
    let at = super::now();
    for (dir, id, publish) in [
        (
            m_cfg.key_dir(),
            m_cfg.issuer_id().to_owned(),
            m_cfg.token_validity.key_publish_secs(),
        ),
        (
            k_cfg.key_dir(),
            k_cfg.issuer_id(),
            k_cfg.token_validity.key_publish_secs(),
        ),
    ] {
        crate::trust_root::sign(&root, &dir, &id, publish, at)?;
    }
    g_cfg.root_key = Some(crate::trust_root::write_public(
        &root,
        &g_cfg.root_key_path(),
    )?);

    // The gate's per-purpose keys and their verifiers, before the issuers read the
    // verifiers (the gate holds the keys; the issuers only the verifiers).
    gate_service::ServiceKeys::load(&g_cfg)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let m_state = mobile_api::build(m_cfg).await?;
    let k_state = kiosk::build(k_cfg).await?;
    let m_stop = fan_out(&stop_rx);
    let k_stop = fan_out(&stop_rx);
    let m_task = tokio::spawn(async move {
        Ok::<_, anyhow::Error>(
            mobile_api::serve_with_internal(m_listener, Some(m_internal), m_state, m_stop).await?,
        )
    });
    let k_task = tokio::spawn(async move {
        Ok::<_, anyhow::Error>(
            kiosk::serve_with_internal(k_listener, Some(k_internal), k_state, k_stop).await?,
        )
    });

    let g_state = gate_service::build(g_cfg.clone()).await?;
    let first_password = ensure_supervisor(&g_state).await?;
    let demo_gate_key = ensure_demo_gate(&g_state).await?;
    let g_stop = fan_out(&stop_rx);
    let g_task = tokio::spawn(async move {
        let listeners = gate_service::Listeners {
            device: g_listener,
            console: c_listener,
        };
        Ok::<_, anyhow::Error>(gate_service::serve(listeners, g_state, g_stop).await?)
    });

    println!();
    println!(
        "E-Gate declaration system is running (data in {})",
        g_cfg.data_dir.display()
    );
    println!("  mobile-api    http://{m_addr}   (phone app API; OpenAPI at /openapi.json)");
    println!("  gate-service  http://{g_addr}   (device scan API /v1/scans)");
    println!("  console       http://{c_addr}/console/   (officer console)");
    println!("  kiosk         http://{k_addr}   (arrival-hall terminal)");
    println!(
        "  internal      http://{m_i_addr} (mobile-api), http://{k_i_addr} (kiosk): gate-service only"
    );
    if let Some(pw) = first_password {
        println!();
        println!("  First supervisor account created (shown once, change it):");
        println!("    username: supervisor");
        println!("    password: {pw}");
    }
    if let Some(key) = demo_gate_key {
        println!();
        println!(
            "  Demo E-Gate device created (key shown once; send it as Authorization: Bearer):"
        );
        println!("    device:   {DEMO_GATE}");
        println!("    key:      {key}");
    }
    println!();
    println!("Try first:");
    println!(
        "  open http://{k_addr}/ and declare as a passenger, or see README.md for the curl walk-through;"
    );
    println!("  sign in at http://{c_addr}/console/ to work the red-lane queue.");
    println!("Ctrl-C stops everything cleanly.");

    signal.await;
    let _ = stop_tx.send(true);
    for (name, task) in [
        ("mobile-api", m_task),
        ("kiosk", k_task),
        ("gate-service", g_task),
    ] {
        match task.await {
            Ok(Ok(())) => tracing::info!(service = name, "stopped"),
            Ok(Err(e)) => tracing::error!(service = name, error = %e, "stopped with an error"),
            Err(e) => tracing::error!(service = name, error = %e, "task failed"),
        }
    }
    Ok(())
}

/// The demo E-Gate device `egate up` creates on first start.
pub const DEMO_GATE: &str = "demo-gate-1";

/// Create the demo gate device if it was never created; its key, once.
async fn ensure_demo_gate(state: &gate_service::AppState) -> anyhow::Result<Option<String>> {
    use gate_service::devices::{self, DeviceError, DeviceKind};
    let now = state.clock.unix();
    match devices::add(&state.db, DEMO_GATE, DeviceKind::Gate, now).await {
        Ok(key) => Ok(Some(key)),
        // Created by an earlier start (revoked or not): nothing to print.
        Err(DeviceError::Exists(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Create the `supervisor` account with a random password if there are no officers.
async fn ensure_supervisor(state: &gate_service::AppState) -> anyhow::Result<Option<String>> {
    let count: i64 = state
        .db
        .read(|c| {
            c.query_row("SELECT count(*) FROM officers", [], |r| r.get(0))
                .map_err(shared::db::DbError::from)
        })
        .await?;
    if count > 0 {
        return Ok(None);
    }
    let password = shared::web::random_token();
    gate_service::console::create_officer(
        &state.db,
        "supervisor",
        "First supervisor",
        "supervisor",
        &password,
    )
    .await?;
    Ok(Some(password))
}
