-- Gate: registered devices (E-Gates and kiosk terminals), each with its own credential.
-- Only the SHA-256 of a device's key is kept (the key is printed once when the device is
-- added); the unique index on it is the per-request lookup of the scan API.
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('gate', 'kiosk')),
    key_hash BLOB NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    last_seen_at INTEGER
) WITHOUT ROWID;
