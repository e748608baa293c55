//! Raw single-core Ed25519 verification rate (ring), the yardstick of the scan benchmark:
//! `cargo run --release -p gate-service --example verify_rate -- [seconds]`.

use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    let secs: f64 = std::env::args().nth(1).map_or(Ok(3.0), |s| s.parse())?;
    let key = shared::token::SigningKey::generate()?;
    let msg = vec![0x5au8; 300]; // about the size of a token's Sig_structure
    let sig = key.sign_raw(&msg);
    let pk = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key.public_key());
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut n = 0u64;
    while Instant::now() < until {
        for _ in 0..100 {
            pk.verify(&msg, &sig)
                .map_err(|_| anyhow::anyhow!("verify failed"))?;
        }
        n += 100;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    println!("{rate:.0}");
    Ok(())
}
