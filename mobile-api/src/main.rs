//! `mobile-api` alone: `cargo run -p mobile-api` (data in `./data`, port 8080, internal 8084).

use mobile_api::{Config, build, serve_with_internal, shutdown_signal};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::telemetry::init();
    let config = Config::from_env()?;
    let state = build(config.clone()).await?;
    let listener = TcpListener::bind(config.addr).await?;
    let internal = TcpListener::bind(config.internal_addr).await?;
    serve_with_internal(listener, Some(internal), state, shutdown_signal()).await?;
    Ok(())
}
