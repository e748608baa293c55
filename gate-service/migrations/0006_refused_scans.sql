-- Gate: refused scans and the attempts a token has had.
-- A QR refused before its token verifies (malformed, forged, unknown key, expired...)
-- opens no case and stores no scan row: it is counted here, per device, per UTC hour and
-- reason code (bounded by devices x hours x codes, purged after the retention period).
CREATE TABLE refused_scans (
    gate_id TEXT NOT NULL,
    hour INTEGER NOT NULL,                -- unix seconds at the start of the hour (UTC)
    reason TEXT NOT NULL,                 -- reason code
    count INTEGER NOT NULL CHECK (count > 0),
    PRIMARY KEY (gate_id, hour, reason)
) WITHOUT ROWID;
CREATE INDEX refused_scans_hour ON refused_scans(hour);
-- A genuine token's scans that did not spend it: misread passports (retries, per device)
-- and another person's passport (mismatches; two or more across devices flag the case).
-- Purged a day after the token's expiry, like used_tokens.
CREATE TABLE token_attempts (
    cti BLOB NOT NULL,
    gate_id TEXT NOT NULL,
    misreads INTEGER NOT NULL DEFAULT 0,
    mismatches INTEGER NOT NULL DEFAULT 0,
    last_at INTEGER NOT NULL,
    exp INTEGER NOT NULL,
    PRIMARY KEY (cti, gate_id)
) WITHOUT ROWID;
CREATE INDEX token_attempts_exp ON token_attempts(exp);
