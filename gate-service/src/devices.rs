//! Device identity: every E-Gate and kiosk terminal has its own credential, and the scan
//! API takes the gate's id from it, never from the request body (docs/trust.md).
//!
//! Decisions:
//! - A key is 32 random bytes, base64url, after the prefix [`KEY_PREFIX`] (so a leaked
//!   key is recognisable in a log or a repository scan). It is printed once by
//!   `egate device add` and only its SHA-256 is stored: a key of that entropy needs no
//!   slow hash, and the lookup is by the digest's unique index.
//! - The lookup runs on every request (one indexed read of a `WITHOUT ROWID` table), so
//!   a device added or revoked while the gate runs (by `egate device …` in another
//!   process too) counts at the next request, with no cache to invalidate. It runs on its
//!   own read-only connection ([`KeyLookup`]), inline: a point read of a hot page takes
//!   microseconds, less than handing it to the blocking pool would. BENCHMARKS.md
//!   measures what it costs.
//! - No credential, an unknown or a revoked key: 401 with `WWW-Authenticate: Bearer`
//!   (the same answer for all three, so a caller cannot tell a revoked key from a made-up
//!   one). A kiosk's key at the scan API: 403.
//! - `last_seen_at` is written at most once a minute per device, off the request path.

use crate::AppState;
use crate::error::AppError;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use shared::db::{Db, DbError};

/// Prefix of every device key.
pub const KEY_PREFIX: &str = "egd_";
/// Length of a key: the prefix and 43 base64url characters (32 bytes).
const KEY_LEN: usize = KEY_PREFIX.len() + 43;
/// `last_seen_at` is refreshed when older than this.
const LAST_SEEN_GRANULARITY_SECS: i64 = 60;

/// What a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// An E-Gate: may call the scan API.
    Gate,
    /// A kiosk terminal in the arrival hall: may not scan.
    Kiosk,
}

impl DeviceKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Gate => "gate",
            DeviceKind::Kiosk => "kiosk",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "gate" => Some(DeviceKind::Gate),
            "kiosk" => Some(DeviceKind::Kiosk),
            _ => None,
        }
    }
}

/// A registered device, as `egate device list` shows it (never its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    /// Its id (the scans' `gate_id` for a gate).
    pub id: String,
    /// Gate or kiosk.
    pub kind: DeviceKind,
    /// When it was added (Unix seconds).
    pub created_at: i64,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
    /// When its credential was last accepted (to the minute).
    pub last_seen_at: Option<i64>,
}

/// Why a device command was refused.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The id is not 1–32 characters `A-Z a-z 0-9 - _`.
    #[error("device id `{0}` must be 1 to 32 characters A-Z, a-z, 0-9, - or _")]
    InvalidId(String),
    /// A device with this id exists (revoked or not: ids are never reused).
    #[error("device `{0}` already exists (a revoked id is not reused; choose another)")]
    Exists(String),
    /// No device with this id.
    #[error("no device `{0}`")]
    Unknown(String),
    /// The random generator failed: no key was made.
    #[error(transparent)]
    Rng(#[from] shared::web::RngError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for DeviceError {
    fn from(e: rusqlite::Error) -> Self {
        DeviceError::Db(e.into())
    }
}

/// Whether `id` is a valid device id: 1–32 characters `A-Z a-z 0-9 - _`.
pub fn valid_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// SHA-256 of a key: what is stored and looked up.
pub fn key_hash(key: &str) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

fn new_key() -> Result<String, shared::web::RngError> {
    use base64::Engine as _;
    let bytes = shared::web::random_bytes::<32>()?;
    Ok(format!(
        "{KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// Register device `id` of `kind` at `now`; returns its key (shown once, never stored).
pub async fn add(db: &Db, id: &str, kind: DeviceKind, now: i64) -> Result<String, DeviceError> {
    if !valid_id(id) {
        return Err(DeviceError::InvalidId(id.to_owned()));
    }
    let key = new_key()?;
    let hash = key_hash(&key);
    let id = id.to_owned();
    db.write(move |c| -> Result<(), DeviceError> {
        let n = c.execute(
            "INSERT INTO devices (id, kind, key_hash, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(id) DO NOTHING",
            (&id, kind.as_str(), &hash[..], now),
        )?;
        if n == 0 {
            return Err(DeviceError::Exists(id));
        }
        Ok(())
    })
    .await?;
    Ok(key)
}

/// Every device, by id.
pub async fn list(db: &Db) -> Result<Vec<DeviceRow>, DeviceError> {
    db.read(|c| -> Result<Vec<DeviceRow>, DeviceError> {
        let mut st = c.prepare(
            "SELECT id, kind, created_at, revoked_at, last_seen_at FROM devices ORDER BY id",
        )?;
        let rows = st.query_map([], |r| {
            let kind: String = r.get(1)?;
            Ok(DeviceRow {
                id: r.get(0)?,
                // The CHECK constraint allows only the two kinds.
                kind: DeviceKind::parse(&kind).unwrap_or(DeviceKind::Kiosk),
                created_at: r.get(2)?,
                revoked_at: r.get(3)?,
                last_seen_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    })
    .await
}

/// Revoke device `id` at `now`: its key is refused from the next request. Revoking a
/// revoked device keeps the first time.
pub async fn revoke(db: &Db, id: &str, now: i64) -> Result<(), DeviceError> {
    let id = id.to_owned();
    db.write(move |c| -> Result<(), DeviceError> {
        let n = c.execute(
            "UPDATE devices SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1",
            (&id, now),
        )?;
        if n == 0 {
            return Err(DeviceError::Unknown(id));
        }
        Ok(())
    })
    .await
}

/// A device whose key was accepted.
#[derive(Debug, Clone)]
pub struct Device {
    /// Its id.
    pub id: String,
    /// Its kind.
    pub kind: DeviceKind,
}

/// The scan API's key lookup: a read-only connection of its own to the gate database.
#[derive(Debug)]
pub struct KeyLookup {
    conn: std::sync::Mutex<rusqlite::Connection>,
}

/// A found device: id, kind, last seen.
type Found = (String, String, Option<i64>);

impl KeyLookup {
    /// Open the lookup on the gate database at `path` (already migrated).
    pub fn open(path: &std::path::Path) -> rusqlite::Result<KeyLookup> {
        use rusqlite::OpenFlags;
        let conn = rusqlite::Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // A reader of a WAL database waits only in rare recovery cases: briefly.
        conn.busy_timeout(std::time::Duration::from_millis(50))?;
        Ok(KeyLookup {
            conn: std::sync::Mutex::new(conn),
        })
    }

    /// The live device whose key hashes to `hash`.
    fn find(&self, hash: &[u8; 32]) -> rusqlite::Result<Option<Found>> {
        let c = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut st = c.prepare_cached(
            "SELECT id, kind, key_hash, last_seen_at FROM devices
             WHERE key_hash = ?1 AND revoked_at IS NULL",
        )?;
        let mut rows = st.query([&hash[..]])?;
        let Some(r) = rows.next()? else {
            return Ok(None);
        };
        let stored: Vec<u8> = r.get(2)?;
        // The index found it; compare the digests in constant time all the same.
        if !shared::web::ct_eq(&stored, hash) {
            return Ok(None);
        }
        Ok(Some((r.get(0)?, r.get(1)?, r.get(3)?)))
    }
}

/// The device holding `key`, unless the key is unknown or revoked.
pub async fn identify(state: &AppState, key: &str) -> Result<Option<Device>, AppError> {
    if key.len() != KEY_LEN || !key.starts_with(KEY_PREFIX) {
        return Ok(None);
    }
    let hash = key_hash(key);
    let now = state.clock.unix();
    let found = state.device_keys.find(&hash)?;
    let Some((id, kind, last_seen)) = found else {
        return Ok(None);
    };
    if last_seen.is_none_or(|t| now - t >= LAST_SEEN_GRANULARITY_SECS) {
        let (db, id) = (state.db.clone(), id.clone());
        tokio::spawn(async move {
            let _ = db
                .write(move |c| -> Result<_, DbError> {
                    Ok(c.execute(
                        "UPDATE devices SET last_seen_at = ?2 WHERE id = ?1",
                        (&id, now),
                    )?)
                })
                .await;
        });
    }
    Ok(Some(Device {
        id,
        kind: DeviceKind::parse(&kind).unwrap_or(DeviceKind::Kiosk),
    }))
}

/// The bearer key of a request, if it has one.
fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| key.trim())
        .filter(|k| !k.is_empty())
}

/// An E-Gate whose credential was accepted (`Authorization: Bearer <key>`), within its
/// scan rate; holds the gate's id.
#[derive(Debug, Clone)]
pub struct AuthenticatedGate(pub String);

impl FromRequestParts<AppState> for AuthenticatedGate {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let key = bearer(parts).ok_or(AppError::Unauthorized)?;
        let device = identify(state, key).await?.ok_or(AppError::Unauthorized)?;
        if device.kind != DeviceKind::Gate {
            return Err(AppError::DeviceForbidden);
        }
        state.scan_limits.check_rate(&device.id)?;
        Ok(AuthenticatedGate(device.id))
    }
}
