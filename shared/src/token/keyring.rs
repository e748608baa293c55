//! An issuer's signing keys with rotation: a directory of PKCS#8 files.
//!
//! Layout: `<dir>/key-<created unix s>.pk8` (mode 0600) for every key ever used, and
//! `<dir>/key-<created>.retired` holding the unix time the key was retired. The newest
//! key that is not retired signs. A retired key stays in the published JWKS, with
//! `exp` = its retirement time (no token may be issued under it later), until every
//! token it could have signed has expired (`retired_at + max token validity`). So a
//! rotation never invalidates a passenger's QR, and a gate refreshing its trust list
//! keeps verifying old tokens until they expire.
//!
//! Rotation is a file operation, so an operator command can rotate while the service
//! runs; the service picks the change up with [`KeyRing::reload`].

use super::keys::{Jwks, KeyError, Kid, SigningKey};
use std::path::{Path, PathBuf};

/// One key of the ring.
#[derive(Debug)]
struct RingKey {
    key: SigningKey,
    created: i64,
    retired_at: Option<i64>,
}

/// An issuer's key directory.
#[derive(Debug)]
pub struct KeyRing {
    dir: PathBuf,
    issuer: String,
    keys: Vec<RingKey>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_owned(),
        source,
    }
}

impl KeyRing {
    /// Open the ring in `dir` for `issuer`, generating the first key at `now` if the
    /// directory holds none.
    pub fn open(dir: &Path, issuer: &str, now: i64) -> Result<KeyRing, KeyError> {
        let mut ring = KeyRing {
            dir: dir.to_owned(),
            issuer: issuer.to_owned(),
            keys: Vec::new(),
        };
        ring.reload()?;
        if ring.current_index().is_none() {
            ring.add_key(now)?;
        }
        Ok(ring)
    }

    /// Re-read the directory (after a rotation by another process).
    pub fn reload(&mut self) -> Result<(), KeyError> {
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let mut keys = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io(&self.dir))? {
            let path = entry.map_err(io(&self.dir))?.path();
            let Some(created) = parse_name(&path, "pk8") else {
                continue;
            };
            let key = SigningKey::load_or_generate(&path)?;
            let retired_path = path.with_extension("retired");
            let retired_at = match std::fs::read_to_string(&retired_path) {
                Ok(s) => Some(s.trim().parse::<i64>().map_err(|_| {
                    KeyError::BadKey(format!("{}: not a unix time", retired_path.display()))
                })?),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(io(&retired_path)(e)),
            };
            keys.push(RingKey {
                key,
                created,
                retired_at,
            });
        }
        keys.sort_by_key(|k| k.created);
        self.keys = keys;
        Ok(())
    }

    fn current_index(&self) -> Option<usize> {
        self.keys.iter().rposition(|k| k.retired_at.is_none())
    }

    fn add_key(&mut self, now: i64) -> Result<Kid, KeyError> {
        // Never reuse a file name: a key created in the same second goes one later.
        let mut created = now;
        while self.keys.iter().any(|k| k.created == created) {
            created += 1;
        }
        let path = self.dir.join(format!("key-{created}.pk8"));
        let key = SigningKey::load_or_generate(&path)?;
        let kid = key.kid();
        self.keys.push(RingKey {
            key,
            created,
            retired_at: None,
        });
        self.keys.sort_by_key(|k| k.created);
        Ok(kid)
    }

    /// The issuer id the keys sign for.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The key that signs new tokens.
    pub fn current(&self) -> &SigningKey {
        // `open` guarantees a current key and `rotate` adds one before retiring.
        let i = self
            .current_index()
            .unwrap_or(self.keys.len().saturating_sub(1));
        &self.keys[i].key
    }

    /// Retire the current key at `now` and start signing with a new one. Returns the
    /// new key id.
    pub fn rotate(&mut self, now: i64) -> Result<Kid, KeyError> {
        let old = self.current_index();
        let kid = self.add_key(now)?;
        if let Some(i) = old {
            let created = self.keys[i].created;
            let path = self.dir.join(format!("key-{created}.retired"));
            std::fs::write(&path, now.to_string()).map_err(io(&path))?;
            self.keys[i].retired_at = Some(now);
        }
        Ok(kid)
    }

    /// The JWKS to publish at `now`: the current key, and each retired key (with `exp`
    /// = its retirement) while tokens it signed may still be valid.
    pub fn jwks(&self, now: i64, max_token_secs: i64) -> Jwks {
        let keys = self
            .keys
            .iter()
            .filter(|k| {
                k.retired_at
                    .is_none_or(|r| r.saturating_add(max_token_secs) > now)
            })
            .map(|k| {
                let mut jwk = k.key.jwk();
                jwk.iss = Some(self.issuer.clone());
                jwk.exp = k.retired_at;
                jwk
            })
            .collect();
        Jwks { keys }
    }

    /// Every key id in the ring, oldest first.
    pub fn kids(&self) -> Vec<Kid> {
        self.keys.iter().map(|k| k.key.kid()).collect()
    }
}

fn parse_name(path: &Path, ext: &str) -> Option<i64> {
    if path.extension()? != ext {
        return None;
    }
    path.file_stem()?
        .to_str()?
        .strip_prefix("key-")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::TrustList;

    #[test]
    fn a_new_ring_generates_one_private_key() {
        let dir = tempfile::tempdir().unwrap();
        let ring = KeyRing::open(dir.path(), "mobile-api", 1_000).unwrap();
        let jwks = ring.jwks(1_000, 86_400);
        assert_eq!(jwks.keys.len(), 1);
        assert_eq!(jwks.keys[0].iss.as_deref(), Some("mobile-api"));
        assert_eq!(jwks.keys[0].exp, None);
        let again = KeyRing::open(dir.path(), "mobile-api", 2_000).unwrap();
        assert_eq!(again.current().kid(), ring.current().kid());
        use std::os::unix::fs::MetadataExt;
        let mode = std::fs::metadata(dir.path().join("key-1000.pk8"))
            .unwrap()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn rotation_keeps_the_old_key_published_until_its_tokens_expire() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = KeyRing::open(dir.path(), "kiosk:T1", 1_000).unwrap();
        let old = ring.current().kid();
        let new = ring.rotate(5_000).unwrap();
        assert_ne!(old, new);
        assert_eq!(ring.current().kid(), new);
        let jwks = ring.jwks(5_001, 100);
        assert_eq!(jwks.keys.len(), 2);
        let old_jwk = jwks.keys.iter().find(|k| k.kid == old.to_base64()).unwrap();
        assert_eq!(old_jwk.exp, Some(5_000));
        // The trust list built from it accepts both kids.
        let mut trust = TrustList::new();
        assert_eq!(trust.add_jwks(&jwks).unwrap(), 2);
        // After retirement + max validity the old key is no longer published.
        assert_eq!(ring.jwks(5_101, 100).keys.len(), 1);
        // Another process sees the same state.
        let other = KeyRing::open(dir.path(), "kiosk:T1", 6_000).unwrap();
        assert_eq!(other.current().kid(), new);
        assert_eq!(other.kids(), vec![old, new]);
    }
}
