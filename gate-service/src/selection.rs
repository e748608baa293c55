//! Risk selection, explainable: a reproducible random draw keyed on the token id, and
//! watch rules (passport bindings and flight numbers) from a file the officers edit.
//!
//! The draw is the first 8 bytes of HMAC-SHA256(selection key, cti) read as a big-endian
//! `u64` and divided by 2^64: anyone holding the key can recompute it for an audit, no
//! passenger can predict it. Watch rules hold bindings only (never a name or a passport
//! number): `gate-service binding <nationality> <passport no> <birth date>` computes one.

use crate::scan::GateReason;
use serde::Deserialize;
use serde_json::json;
use shared::domain::FlightNumber;
use shared::token::KeyError;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

/// What a new watch-rules file holds: nothing active, an example in comments.
pub const WATCHLIST_TEMPLATE: &str = r#"# Gate watch rules: each hit refers the passenger to the red lane and names its rule.
# Bindings only, never names or passport numbers. Compute a binding with
#   gate-service binding <nationality> <passport number> <birth date YYYY-MM-DD>
# The file is re-read at each refresh (EGATE_GATE_REFRESH_SECS) when it has changed.
#
# [[rule]]
# name = "flight-nh212-check"
# kind = "flight"            # "flight" or "binding"
# value = "NH212"            # a flight number, or 32 hex characters of a binding
# reason = "Targeted check of this flight, order 2026-041"
"#;

/// One watch rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchRule {
    /// The rule's name, recorded with every hit.
    pub name: String,
    /// What it matches.
    pub target: WatchTarget,
    /// Why the rule exists (for the officer).
    pub reason: String,
}

/// What a watch rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchTarget {
    /// A passport binding (16 bytes).
    Binding([u8; 16]),
    /// A flight number in canonical form.
    Flight(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WatchFile {
    #[serde(default)]
    rule: Vec<WatchRuleFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WatchRuleFile {
    name: String,
    kind: String,
    value: String,
    #[serde(default)]
    reason: String,
}

/// A watch-rules file refused (the last good rules stay in force). Rules are numbered
/// from 1 in file order.
#[derive(Debug, thiserror::Error)]
pub enum WatchlistError {
    /// The file could not be read, or others may read it.
    #[error("failed to read the watch-rules file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause (a too-open file names the `chmod` that fixes it).
        source: std::io::Error,
    },
    /// Not TOML of the expected shape.
    #[error("not a watch-rules file: {0}")]
    Toml(#[from] toml::de::Error),
    /// A rule without a name.
    #[error("rule {rule}: name is empty")]
    EmptyName {
        /// The rule's number.
        rule: usize,
    },
    /// A binding rule whose value is not 16 bytes in hex.
    #[error("rule {rule} ({name}): a binding is 32 hex characters")]
    Binding {
        /// The rule's number.
        rule: usize,
        /// The rule's name.
        name: String,
    },
    /// A flight rule whose value is not a flight number.
    #[error("rule {rule} ({name}): flight {why}")]
    Flight {
        /// The rule's number.
        rule: usize,
        /// The rule's name.
        name: String,
        /// Why the flight number is refused.
        why: &'static str,
    },
    /// A kind other than `binding` or `flight`.
    #[error("rule {rule} ({name}): kind `{kind}` is not binding or flight")]
    Kind {
        /// The rule's number.
        rule: usize,
        /// The rule's name.
        name: String,
        /// The kind as written.
        kind: String,
    },
}

/// Parse a watch-rules file.
pub fn parse_watchlist(src: &str) -> Result<Vec<WatchRule>, WatchlistError> {
    let file: WatchFile = toml::from_str(src)?;
    file.rule
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let rule = i + 1;
            if r.name.trim().is_empty() {
                return Err(WatchlistError::EmptyName { rule });
            }
            let target = match r.kind.as_str() {
                "binding" => {
                    let bytes = hex::decode(r.value.trim())
                        .ok()
                        .and_then(|b| <[u8; 16]>::try_from(b).ok());
                    match bytes {
                        Some(b) => WatchTarget::Binding(b),
                        None => return Err(WatchlistError::Binding { rule, name: r.name }),
                    }
                }
                "flight" => match FlightNumber::parse(&r.value) {
                    Ok(f) => WatchTarget::Flight(f.to_string()),
                    Err(why) => {
                        return Err(WatchlistError::Flight {
                            rule,
                            name: r.name,
                            why,
                        });
                    }
                },
                other => {
                    return Err(WatchlistError::Kind {
                        rule,
                        kind: other.to_owned(),
                        name: r.name,
                    });
                }
            };
            Ok(WatchRule {
                name: r.name,
                target,
                reason: r.reason,
            })
        })
        .collect()
}

/// The selection key, the rate and the watch rules.
pub struct Selection {
    key: ring::hmac::Key,
    rate: f64,
    path: PathBuf,
    rules: RwLock<Arc<Vec<WatchRule>>>,
    loaded_mtime: Mutex<Option<SystemTime>>,
}

impl std::fmt::Debug for Selection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Selection")
            .field("rate", &self.rate)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Selection {
    /// A selection with the raw key, the rate (0..=1) and the watch-rules file path
    /// (created with [`WATCHLIST_TEMPLATE`] if missing, then loaded).
    pub fn new(key: &[u8; 32], rate: f64, path: &Path) -> Selection {
        let s = Selection {
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key),
            rate: rate.clamp(0.0, 1.0),
            path: path.to_owned(),
            rules: RwLock::new(Arc::new(Vec::new())),
            loaded_mtime: Mutex::new(None),
        };
        if !path.exists() {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            // Watch rules can name people: readable by this user only.
            if let Err(e) = shared::secret_file::create_private(path, WATCHLIST_TEMPLATE.as_bytes())
            {
                tracing::warn!(error = %e, "failed to create the watch-rules file");
            }
        }
        s.reload_if_changed();
        s
    }

    /// The random selection rate.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// The reproducible draw for a token id, in [0, 1].
    pub fn draw(&self, cti: &[u8; 16]) -> f64 {
        let tag = ring::hmac::sign(&self.key, cti);
        let mut first = [0u8; 8];
        first.copy_from_slice(&tag.as_ref()[..8]);
        // u64 → f64 rounds to 53 bits, plenty for a rate.
        u64::from_be_bytes(first) as f64 / 18_446_744_073_709_551_616.0
    }

    /// The active watch rules.
    pub fn rules(&self) -> Arc<Vec<WatchRule>> {
        self.rules
            .read()
            .map(|r| Arc::clone(&r))
            .unwrap_or_default()
    }

    /// Re-read the watch-rules file if its modification time changed. A file that does
    /// not parse is logged and the last good rules stay.
    pub fn reload_if_changed(&self) {
        let mtime = std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok();
        let Ok(mut loaded) = self.loaded_mtime.lock() else {
            return;
        };
        if mtime.is_some() && *loaded == mtime {
            return;
        }
        let parsed = match shared::secret_file::read_private_to_string(&self.path) {
            Ok(src) => parse_watchlist(&src),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(source) => Err(WatchlistError::Read {
                path: self.path.clone(),
                source,
            }),
        };
        match parsed {
            Ok(rules) => {
                tracing::info!(watch.rules = rules.len(), "watch rules loaded");
                if let Ok(mut r) = self.rules.write() {
                    *r = Arc::new(rules);
                }
                *loaded = mtime;
            }
            Err(e) => {
                tracing::error!(path = %self.path.display(), error = %e, "watch-rules file refused; keeping the last good rules");
                *loaded = mtime;
            }
        }
    }

    /// The selection reasons (officer only) for a verified token: the random draw and
    /// every watch rule that matches the passport binding or the flight.
    pub fn select(&self, cti: &[u8; 16], binding: &[u8; 16], flight: &str) -> Vec<GateReason> {
        let mut out = Vec::new();
        let draw = self.draw(cti);
        if self.rate > 0.0 && (self.rate >= 1.0 || draw < self.rate) {
            out.push(GateReason::officer(
                "selection.random",
                Some("random".into()),
                Some(json!({ "draw": draw, "rate": self.rate, "key": "selection.key", "input": "cti" })),
            ));
        }
        for rule in self.rules().iter() {
            let (hit, code, kind) = match &rule.target {
                WatchTarget::Binding(b) => (
                    shared::web::ct_eq(b, binding),
                    "selection.watch_binding",
                    "binding",
                ),
                WatchTarget::Flight(f) => (f == flight, "selection.watch_flight", "flight"),
            };
            if hit {
                out.push(GateReason::officer(
                    code,
                    Some(rule.name.clone()),
                    Some(json!({ "rule": rule.name, "kind": kind, "reason": rule.reason })),
                ));
            }
        }
        out
    }
}

/// Load the 32-byte selection key at `path`, or generate it (mode 0600). The errors name
/// the file.
pub fn load_or_generate_key(path: &Path) -> Result<[u8; 32], KeyError> {
    use ring::rand::SecureRandom as _;
    use std::io::Write as _;
    let io = |source: std::io::Error| KeyError::Io {
        path: path.to_owned(),
        source,
    };
    let exact = |bytes: Vec<u8>| {
        <[u8; 32]>::try_from(bytes).map_err(|_| {
            KeyError::BadKey(format!(
                "the selection key {} must hold exactly 32 bytes",
                path.display()
            ))
        })
    };
    if path.exists() {
        return exact(shared::secret_file::read_private(path).map_err(io)?);
    }
    let mut key = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| KeyError::Rng)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(mut f) => {
            f.write_all(&key).map_err(io)?;
            f.sync_all().map_err(io)?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            exact(shared::secret_file::read_private(path).map_err(io)?)
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_parses_to_no_rules_and_examples_parse() {
        assert!(parse_watchlist(WATCHLIST_TEMPLATE).unwrap().is_empty());
        let rules = parse_watchlist(
            "[[rule]]\nname = \"a\"\nkind = \"flight\"\nvalue = \"nh 212\"\n\n[[rule]]\nname = \"b\"\nkind = \"binding\"\nvalue = \"00112233445566778899aabbccddeeff\"\nreason = \"x\"\n",
        )
        .unwrap();
        assert_eq!(rules[0].target, WatchTarget::Flight("NH212".into()));
        assert!(matches!(rules[1].target, WatchTarget::Binding(b) if b[15] == 0xff));
        let e = parse_watchlist(
            "[[rule]]\nname = \"a\"\nkind = \"flight\"\nvalue = \"NH212\"\n\n[[rule]]\nname = \"b\"\nkind = \"name\"\nvalue = \"SMITH\"\n",
        )
        .unwrap_err();
        assert!(matches!(e, WatchlistError::Kind { rule: 2, .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "rule 2 (b): kind `name` is not binding or flight"
        );
        assert!(
            parse_watchlist("[[rule]]\nname = \"a\"\nkind = \"binding\"\nvalue = \"abc\"\n")
                .is_err()
        );
    }

    #[test]
    fn the_draw_is_reproducible_and_keyed() {
        let dir = tempfile::tempdir().unwrap();
        let a = Selection::new(&[1; 32], 0.5, &dir.path().join("w.toml"));
        let b = Selection::new(&[2; 32], 0.5, &dir.path().join("w.toml"));
        let cti = [7u8; 16];
        assert_eq!(a.draw(&cti), a.draw(&cti));
        assert_ne!(a.draw(&cti), b.draw(&cti));
        assert!((0.0..=1.0).contains(&a.draw(&cti)));
        // About half of many tokens are selected at rate 0.5.
        let n = (0..1000u16)
            .filter(|i| {
                let mut c = [0u8; 16];
                c[..2].copy_from_slice(&i.to_be_bytes());
                !a.select(&c, &[0; 16], "NH1").is_empty()
            })
            .count();
        assert!((400..600).contains(&n), "{n}");
    }

    #[test]
    fn a_selection_key_is_created_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("gate/selection.key");
        let k1 = load_or_generate_key(&p).unwrap();
        assert_eq!(load_or_generate_key(&p).unwrap(), k1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }

    #[test]
    fn the_watchlist_is_created_0600_and_key_and_rules_are_refused_when_readable_by_others() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path().join("gate/watchlist.toml");
        let _ = Selection::new(&[1; 32], 0.0, &w);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&w), 0o600, "watch rules can name people");
        // A rule added by an operator with a too-open mode is refused, naming the fix.
        std::fs::write(
            &w,
            "[[rule]]\nname = \"a\"\nkind = \"flight\"\nvalue = \"NH1\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&w, std::fs::Permissions::from_mode(0o644)).unwrap();
        let s = Selection::new(&[1; 32], 0.0, &w);
        assert!(
            s.rules().is_empty(),
            "a group/world-readable watchlist is not loaded"
        );
        let k = dir.path().join("gate/selection.key");
        load_or_generate_key(&k).unwrap();
        std::fs::set_permissions(&k, std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = format!("{:#}", load_or_generate_key(&k).unwrap_err());
        assert!(
            e.contains("chmod 600") && e.contains("selection.key"),
            "{e}"
        );
    }
}
