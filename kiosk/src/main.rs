//! The kiosk binary: configuration from the environment, then serve until Ctrl-C/SIGTERM.

use kiosk::{Config, build, serve, shutdown_signal};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::telemetry::init();
    let config = Config::from_env()?;
    let state = build(config.clone()).await?;
    let listener = TcpListener::bind(config.addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "kiosk listening");
    serve(listener, state, shutdown_signal()).await?;
    Ok(())
}
