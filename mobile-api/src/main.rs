//! `mobile-api` alone: `cargo run -p mobile-api` (data in `./data`, port 8080).

use mobile_api::{Config, build, serve, shutdown_signal};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::telemetry::init();
    let config = Config::from_env()?;
    let state = build(config.clone()).await?;
    let listener = TcpListener::bind(config.addr).await?;
    serve(listener, state, shutdown_signal()).await?;
    Ok(())
}
