//! The operator root key and the signed trust lists (docs/trust.md).
//!
//! `egate root-key init` creates the root key (Ed25519 PKCS#8, mode 0600) at
//! `EGATE_ROOT_KEY_FILE` or `$EGATE_DATA_DIR/root.key`; a real deployment moves that
//! file offline and brings it back to sign. `egate root-key public` prints the public
//! key gates hold (`EGATE_GATE_ROOT_KEY`). `egate trust-list sign <issuer>` signs the
//! issuer's current key set into `<key dir>/trust-list.jws`, which the issuer serves at
//! `GET /v1/trust-list`. `egate up` and `egate rotate-key` sign too whenever the root
//! key file is present on this machine (`up` creates it on first start: the one-machine
//! setup).

use anyhow::Context as _;
use shared::token::SigningKey;
use shared::token::signed_list::{self, RootPublicKey};
use std::path::{Path, PathBuf};

/// Where the root key file is: `EGATE_ROOT_KEY_FILE`, else `$EGATE_DATA_DIR/root.key`.
pub fn root_key_path() -> PathBuf {
    if let Some(p) = std::env::var_os("EGATE_ROOT_KEY_FILE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let data = std::env::var_os("EGATE_DATA_DIR")
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from("./data"), PathBuf::from);
    data.join("root.key")
}

/// `EGATE_TRUST_LIST_VALIDITY_DAYS` (default 30) in seconds.
pub fn validity_secs() -> anyhow::Result<i64> {
    match std::env::var("EGATE_TRUST_LIST_VALIDITY_DAYS") {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .map(|d| d * 86_400)
            .with_context(|| {
                format!("EGATE_TRUST_LIST_VALIDITY_DAYS={v:?}: expected days, 1 to 3650")
            }),
        _ => Ok(signed_list::DEFAULT_LIST_VALIDITY_SECS),
    }
}

/// Create the root key; refused when one exists.
pub fn init(path: &Path) -> anyhow::Result<SigningKey> {
    anyhow::ensure!(
        !path.exists(),
        "{} exists already: a root key is created once (gates hold its public key)",
        path.display()
    );
    Ok(SigningKey::load_or_generate(path)?)
}

/// The root key when its file is present (mode 0600 checked), else `None`.
pub fn load_if_present(path: &Path) -> anyhow::Result<Option<SigningKey>> {
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(SigningKey::load_or_generate(path)?))
}

/// Sign the key set of the issuer in `dir` (id, key publication time) and say so.
pub fn sign(
    root: &SigningKey,
    dir: &Path,
    id: &str,
    publish_secs: i64,
    now: i64,
) -> anyhow::Result<i64> {
    let list = signed_list::sign_issuer_dir(root, dir, id, now, validity_secs()?, publish_secs)?;
    Ok(list.version)
}

/// Write the root public key where the gate reads it by default
/// (`$EGATE_DATA_DIR/gate/trust-root.pub`).
pub fn write_public(root: &SigningKey, path: &Path) -> anyhow::Result<RootPublicKey> {
    let pk = RootPublicKey::of(root);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, format!("{}\n", pk.to_base64url()))
        .with_context(|| format!("failed to write {}", path.display()))?;
    Ok(pk)
}
