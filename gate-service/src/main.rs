//! The gate-service binary: `gate-service [serve]` runs the service;
//! `gate-service binding <nationality> <passport no> <birth date>` prints the passport
//! binding for a watch rule. Officer accounts are managed with `egate officer …`.

use gate_service::{Config, build, serve, shutdown_signal};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::telemetry::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = Config::from_env()?;
    match args.first().map(String::as_str) {
        None | Some("serve") => {
            let state = build(config.clone()).await?;
            let listener = tokio::net::TcpListener::bind(config.addr).await?;
            serve(listener, state, shutdown_signal()).await
        }
        Some("binding") => gate_service::cli::binding(&config, &args[1..]),
        Some("officer") => anyhow::bail!("officer accounts are managed with `egate officer …`"),
        Some(other) => anyhow::bail!("unknown command `{other}`; use serve or binding"),
    }
}
