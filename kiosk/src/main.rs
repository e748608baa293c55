//! The kiosk binary: configuration from the environment, then serve until Ctrl-C/SIGTERM.

use kiosk::{Config, build, serve_with_internal, shutdown_signal};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::telemetry::init();
    let config = Config::from_env()?;
    let state = build(config.clone()).await?;
    let listener = TcpListener::bind(config.addr).await?;
    let internal = TcpListener::bind(config.internal_addr).await?;
    tracing::info!(
        addr = %listener.local_addr()?,
        internal_addr = %internal.local_addr()?,
        "kiosk listening"
    );
    serve_with_internal(listener, Some(internal), state, shutdown_signal()).await?;
    Ok(())
}
