//! The gate-service binary: `gate-service [serve]` runs the service;
//! `gate-service binding <nationality> <passport no> <birth date>` prints the passport
//! binding for a watch rule. Officer accounts are managed with `egate officer …`.

use gate_service::{Config, Listeners, build, serve, shutdown_signal};
use std::error::Error;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    shared::telemetry::init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The library's errors carry their causes in their messages.
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = Config::from_env()?;
    match args.first().map(String::as_str) {
        None | Some("serve") => {
            let state = build(config.clone()).await?;
            let listeners = Listeners::bind(&config).await?;
            Ok(serve(listeners, state, shutdown_signal()).await?)
        }
        Some("binding") => Ok(gate_service::cli::binding(&config, &args[1..])?),
        Some("officer") => Err("officer accounts are managed with `egate officer …`".into()),
        Some(other) => Err(format!("unknown command `{other}`; use serve or binding").into()),
    }
}
