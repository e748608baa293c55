//! An issuer's signing keys with rotation: a directory of PKCS#8 files.
//!
//! Layout: `<dir>/key-<created unix s>.pk8` (mode 0600) for every key ever used,
//! `<dir>/key-<created>.activates` holding the unix time from which the key signs
//! (absent: since its creation, as in directories written before this file existed),
//! and `<dir>/key-<created>.retired` holding the unix time the key was retired.
//!
//! **Publish before signing.** A rotation adds a key that is published at once but
//! signs only from its activation time, `rotation + publication lead`, a lead long
//! enough for the running issuer to reload its directory and for every gate to refresh
//! its trust list ([`default_publish_lead`]). The previous key retires at that same
//! instant. The key that signs is chosen by time at each signing
//! ([`KeyRing::signing_key`]): the most recently activated key whose activation has come
//! and whose retirement has not. So the moment the issuer reloads does not matter as
//! long as it falls within the lead, and a gate never sees a token under a key it has
//! not loaded.
//!
//! A retired key stays in the published JWKS, with `exp` = its retirement time (no
//! token may be issued under it later), until every token it could have signed has
//! expired (`retired_at + max token validity`). So a rotation never invalidates a
//! passenger's QR, and a gate refreshing its trust list keeps verifying old tokens until
//! they expire.
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
    /// From when the key signs (its creation when the directory says nothing).
    activates_at: i64,
    retired_at: Option<i64>,
}

impl RingKey {
    /// Whether the key signs at `now`.
    fn signs_at(&self, now: i64) -> bool {
        self.activates_at <= now && self.retired_at.is_none_or(|r| now < r)
    }
}

/// The publication lead of a rotation when none is configured: a new key must be in
/// the running issuer's JWKS (within one key reload) and then in every gate's trust list
/// (within one refresh, counted twice for a fetch that fails or straddles the reload)
/// before it signs: `2 × gate refresh + issuer key reload`.
pub fn default_publish_lead(gate_refresh_secs: i64, key_reload_secs: i64) -> i64 {
    gate_refresh_secs
        .max(0)
        .saturating_mul(2)
        .saturating_add(key_reload_secs.max(0))
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
            ring.add_key(now, None)?;
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
            let retired_at = read_time(&path.with_extension("retired"))?;
            let activates_at = read_time(&path.with_extension("activates"))?.unwrap_or(created);
            keys.push(RingKey {
                key,
                created,
                activates_at,
                retired_at,
            });
        }
        keys.sort_by_key(|k| k.created);
        self.keys = keys;
        Ok(())
    }

    /// The newest key not marked retired (the one a rotation retires).
    fn current_index(&self) -> Option<usize> {
        self.keys.iter().rposition(|k| k.retired_at.is_none())
    }

    /// The key that signs at `now`: the most recently activated one whose activation
    /// has come and whose retirement has not.
    fn signing_index(&self, now: i64) -> Option<usize> {
        self.keys
            .iter()
            .enumerate()
            .filter(|(_, k)| k.signs_at(now))
            .max_by_key(|(_, k)| (k.activates_at, k.created))
            .map(|(i, _)| i)
    }

    /// Add a key that signs from `activates_at` (`None`: from its creation, `now`).
    fn add_key(&mut self, now: i64, activates_at: Option<i64>) -> Result<Kid, KeyError> {
        // Never reuse a file name: a key created in the same second goes one later.
        let mut created = now;
        while self.keys.iter().any(|k| k.created == created) {
            created += 1;
        }
        let path = self.dir.join(format!("key-{created}.pk8"));
        // The activation is on disk before the key: a process reloading in between must
        // never take the new key for one active since its creation.
        if let Some(at) = activates_at {
            write_time(&path.with_extension("activates"), at)?;
        }
        let key = SigningKey::load_or_generate(&path)?;
        let kid = key.kid();
        self.keys.push(RingKey {
            key,
            created,
            activates_at: activates_at.unwrap_or(created),
            retired_at: None,
        });
        self.keys.sort_by_key(|k| k.created);
        Ok(kid)
    }

    /// The issuer id the keys sign for.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The key that signs a token issued at `now` (see the module documentation).
    ///
    /// When no key is in its signing window (only if the directory was seen half way
    /// through a rotation, or edited by hand), the most recently activated key signs,
    /// so that issuing goes on; a warning is logged.
    pub fn signing_key(&self, now: i64) -> &SigningKey {
        if let Some(i) = self.signing_index(now) {
            return &self.keys[i].key;
        }
        let fallback = self
            .keys
            .iter()
            .filter(|k| k.activates_at <= now)
            .max_by_key(|k| (k.activates_at, k.created))
            .or_else(|| self.keys.iter().min_by_key(|k| k.activates_at));
        // `open` guarantees at least one key.
        let k = fallback.unwrap_or(&self.keys[0]);
        tracing::warn!(
            issuer = %self.issuer,
            kid = %k.key.kid(),
            "no signing key is active now; signing with the most recently activated one"
        );
        &k.key
    }

    /// Rotate at `now` with a publication lead of `lead_secs`: add a new key, published
    /// at once and signing from `now + lead_secs`, and retire the previous key at that
    /// same instant. Returns the new key id and its activation time.
    pub fn rotate(&mut self, now: i64, lead_secs: i64) -> Result<(Kid, i64), KeyError> {
        let activates_at = now.saturating_add(lead_secs.max(0));
        let old = self.current_index();
        let kid = self.add_key(now, Some(activates_at))?;
        if let Some(i) = old {
            let created = self.keys[i].created;
            write_time(
                &self.dir.join(format!("key-{created}.retired")),
                activates_at,
            )?;
            self.keys[i].retired_at = Some(activates_at);
        }
        Ok((kid, activates_at))
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

    /// The key directory (where the signed trust list of these keys is kept too).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every key id in the ring, oldest first.
    pub fn kids(&self) -> Vec<Kid> {
        self.keys.iter().map(|k| k.key.kid()).collect()
    }
}

/// A unix time kept in a small file; `None` when the file does not exist.
fn read_time(path: &Path) -> Result<Option<i64>, KeyError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s.trim().parse::<i64>().map_err(|_| {
            KeyError::BadKey(format!("{}: not a unix time", path.display()))
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path)(e)),
    }
}

/// Write a unix time file atomically (temporary file, then rename), so that a process
/// reloading the directory never reads it half written.
fn write_time(path: &Path, at: i64) -> Result<(), KeyError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, at.to_string()).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
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
        assert_eq!(
            again.signing_key(2_000).kid(),
            ring.signing_key(1_000).kid()
        );
        use std::os::unix::fs::MetadataExt;
        let mode = std::fs::metadata(dir.path().join("key-1000.pk8"))
            .unwrap()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    /// A token signed by `ring` at `iat`, and whether a gate holding `jwks` accepts it
    /// at `now` (no clock skew).
    fn verifies(ring: &KeyRing, iat: i64, jwks: &Jwks, now: i64) -> Result<Kid, String> {
        use crate::token::{VerifyOptions, decode_and_verify, encode};
        let mut claims = crate::token::tests::green_claims();
        claims.iss = ring.issuer().to_owned();
        claims.iat = iat;
        claims.exp = iat + 1_000_000;
        let text = encode(ring.signing_key(iat), &claims).unwrap();
        let mut trust = TrustList::new();
        trust.add_jwks(jwks).unwrap();
        decode_and_verify(&text, &trust, VerifyOptions { now, skew_secs: 0 })
            .map(|v| v.kid)
            .map_err(|e| e.reason_code().to_owned())
    }

    #[test]
    fn a_rotated_in_key_is_published_at_once_and_signs_from_its_activation() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = KeyRing::open(dir.path(), "kiosk:T1", 1_000).unwrap();
        let old = ring.signing_key(1_000).kid();
        let (new, activates) = ring.rotate(5_000, 300).unwrap();
        assert_ne!(old, new);
        assert_eq!(activates, 5_300);

        // Both keys are published throughout; the old one with its retirement as exp.
        for now in [5_000, 5_299, 5_300, 9_000] {
            let jwks = ring.jwks(now, 100_000);
            assert_eq!(jwks.keys.len(), 2, "at {now}");
            let old_jwk = jwks.keys.iter().find(|k| k.kid == old.to_base64()).unwrap();
            assert_eq!(old_jwk.exp, Some(5_300));
            let new_jwk = jwks.keys.iter().find(|k| k.kid == new.to_base64()).unwrap();
            assert_eq!(new_jwk.exp, None);
        }

        // Before the activation the old key signs; from it, the new one.
        assert_eq!(ring.signing_key(5_000).kid(), old);
        assert_eq!(ring.signing_key(5_299).kid(), old);
        assert_eq!(ring.signing_key(5_300).kid(), new);
        assert_eq!(ring.signing_key(9_000).kid(), new);

        // A gate that loaded the JWKS right after the rotation accepts both, and a token
        // from the old key just before its retirement still verifies long after.
        let jwks = ring.jwks(5_000, 100_000);
        assert_eq!(verifies(&ring, 5_299, &jwks, 5_299), Ok(old));
        assert_eq!(verifies(&ring, 5_299, &jwks, 50_000), Ok(old));
        assert_eq!(verifies(&ring, 5_300, &jwks, 5_300), Ok(new));

        // Another process sees the same state, whenever it reads the directory.
        for at in [5_001, 5_300] {
            let other = KeyRing::open(dir.path(), "kiosk:T1", at).unwrap();
            assert_eq!(other.kids(), vec![old, new]);
            assert_eq!(other.signing_key(5_299).kid(), old);
            assert_eq!(other.signing_key(5_300).kid(), new);
        }
    }

    #[test]
    fn an_issuer_that_has_not_reloaded_yet_keeps_signing_with_a_key_the_gate_trusts() {
        let dir = tempfile::tempdir().unwrap();
        let mut running = KeyRing::open(dir.path(), "mobile-api", 1_000).unwrap();
        let old = running.signing_key(1_000).kid();
        // The operator rotates from another process; the service reloads later.
        let mut operator = KeyRing::open(dir.path(), "mobile-api", 2_000).unwrap();
        let (new, activates) = operator.rotate(2_000, 180).unwrap();
        let gate_jwks = operator.jwks(2_000, 100_000);
        assert_eq!(running.signing_key(2_100).kid(), old);
        assert_eq!(verifies(&running, 2_100, &gate_jwks, 2_100), Ok(old));
        // Reloaded within the lead: the switch happens at the activation, not at the
        // reload.
        running.reload().unwrap();
        assert_eq!(running.signing_key(activates - 1).kid(), old);
        assert_eq!(running.signing_key(activates).kid(), new);
        assert_eq!(
            verifies(&running, activates - 1, &gate_jwks, activates + 10),
            Ok(old)
        );
        assert_eq!(
            verifies(&running, activates, &gate_jwks, activates),
            Ok(new)
        );
    }

    #[test]
    fn a_key_directory_without_activation_files_keeps_working() {
        let dir = tempfile::tempdir().unwrap();
        // As written before activation files existed: two keys, the first retired.
        let old = SigningKey::load_or_generate(&dir.path().join("key-1000.pk8")).unwrap();
        let new = SigningKey::load_or_generate(&dir.path().join("key-5000.pk8")).unwrap();
        std::fs::write(dir.path().join("key-1000.retired"), "5000").unwrap();
        let ring = KeyRing::open(dir.path(), "mobile-api", 6_000).unwrap();
        assert_eq!(ring.kids(), vec![old.kid(), new.kid()]);
        assert_eq!(ring.signing_key(4_999).kid(), old.kid());
        assert_eq!(ring.signing_key(5_000).kid(), new.kid());
        assert_eq!(ring.signing_key(6_000).kid(), new.kid());
        // Rotating it again works the new way.
        let mut ring = ring;
        let (newer, at) = ring.rotate(7_000, 60).unwrap();
        assert_eq!(ring.signing_key(at - 1).kid(), new.kid());
        assert_eq!(ring.signing_key(at).kid(), newer);
    }

    #[test]
    fn a_second_rotation_within_the_lead_hands_over_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = KeyRing::open(dir.path(), "mobile-api", 1_000).unwrap();
        let a = ring.signing_key(1_000).kid();
        let (b, t1) = ring.rotate(2_000, 100).unwrap();
        let (c, t2) = ring.rotate(2_050, 100).unwrap();
        assert_eq!((t1, t2), (2_100, 2_150));
        assert_eq!(ring.signing_key(2_099).kid(), a);
        assert_eq!(ring.signing_key(2_100).kid(), b);
        assert_eq!(ring.signing_key(2_150).kid(), c);
        assert_eq!(ring.jwks(2_000, 10_000).keys.len(), 3);
    }

    #[test]
    fn the_default_lead_covers_a_reload_and_two_refreshes() {
        assert_eq!(default_publish_lead(60, 60), 180);
        assert_eq!(default_publish_lead(3, 2), 8);
        assert_eq!(default_publish_lead(-1, -1), 0);
    }

    #[test]
    fn a_retired_key_is_published_until_its_tokens_expire() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = KeyRing::open(dir.path(), "kiosk:T1", 1_000).unwrap();
        let (_, retired) = ring.rotate(5_000, 0).unwrap();
        assert_eq!(ring.jwks(retired + 99, 100).keys.len(), 2);
        // After retirement + max validity the old key is no longer published.
        assert_eq!(ring.jwks(retired + 100, 100).keys.len(), 1);
        let mut trust = TrustList::new();
        assert_eq!(trust.add_jwks(&ring.jwks(retired, 100)).unwrap(), 2);
    }
}
