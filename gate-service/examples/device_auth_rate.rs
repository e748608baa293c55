//! Benchmark: what the scan API's device authentication costs, measured in isolation on
//! the same machine as the scan benchmark (bench/gate_scan.sh prints both and their ratio).
//!
//! `cargo run --release -p gate-service --example device_auth_rate -- <seconds> <tasks>`
//! builds a gate on a temporary directory with 64 registered devices and runs
//! [`gate_service::devices::identify`] (the per-request indexed read the extractor
//! does: SHA-256 of the key, one read on the blocking pool) from `<tasks>` concurrent
//! tasks on a 2-worker runtime for `<seconds>`, and prints `device_auth_per_s=<n>`.
//! The share of the scan throughput authentication takes is then
//! `scans_per_s / device_auth_per_s` (both measured on all cores of the same box).

use gate_service::devices::{self, DeviceKind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let secs: u64 = args.first().map_or(Ok(3), |s| s.parse())?;
    let tasks: usize = args.get(1).map_or(Ok(32), |s| s.parse())?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let dir = tempfile::tempdir()?;
        let mut config = gate_service::Config::for_tests(dir.path());
        config.background_tasks = false;
        let state = gate_service::build(config).await?;
        let now = state.clock.unix();
        let mut keys = Vec::new();
        for i in 0..64 {
            keys.push(devices::add(&state.db, &format!("B-{i:02}"), DeviceKind::Gate, now).await?);
        }
        let keys = Arc::new(keys);
        let done = Arc::new(AtomicU64::new(0));
        let until = Instant::now() + Duration::from_secs(secs);
        let mut set = tokio::task::JoinSet::new();
        for t in 0..tasks {
            let (state, keys, done) = (state.clone(), keys.clone(), done.clone());
            set.spawn(async move {
                let mut i = t;
                while Instant::now() < until {
                    let key = &keys[i % keys.len()];
                    let found = devices::identify(&state, key).await;
                    assert!(matches!(found, Ok(Some(_))), "a registered key is accepted");
                    done.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            });
        }
        while set.join_next().await.is_some() {}
        let n = done.load(Ordering::Relaxed);
        println!("device_auth_per_s={}", n / secs.max(1));
        state.db.close();
        Ok::<_, anyhow::Error>(())
    })
}
