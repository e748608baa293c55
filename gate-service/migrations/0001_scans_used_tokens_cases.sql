-- Gate: scans, one-time use of tokens, red-lane cases.
CREATE TABLE scans (
    id TEXT PRIMARY KEY,
    gate_id TEXT NOT NULL,
    scanned_at INTEGER NOT NULL,          -- unix seconds
    decision TEXT NOT NULL CHECK (decision IN ('green','red')),
    reasons TEXT NOT NULL,                -- JSON array of reason codes
    declaration_id TEXT,
    revision INTEGER,
    issuer TEXT,
    kid TEXT,                             -- standard base64
    cti BLOB,
    flight TEXT,
    arrival_date TEXT,
    profile_id TEXT,
    duration_us INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX scans_scanned_at ON scans(scanned_at DESC);
CREATE TABLE used_tokens (
    cti BLOB PRIMARY KEY,
    scan_id TEXT NOT NULL REFERENCES scans(id),
    used_at INTEGER NOT NULL,
    exp INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX used_tokens_exp ON used_tokens(exp);
CREATE TABLE cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scan_id TEXT NOT NULL UNIQUE REFERENCES scans(id),
    opened_at INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting','in_progress','closed')),
    flight TEXT,
    declaration_id TEXT,
    issuer TEXT,
    summary_json TEXT,
    evaluation_json TEXT,
    reasons_json TEXT NOT NULL,
    identity_json TEXT,                   -- PII, officer only, NULL after the retention purge
    purged_at INTEGER
);
CREATE INDEX cases_status_opened ON cases(status, opened_at DESC);
CREATE INDEX cases_opened ON cases(opened_at) WHERE identity_json IS NOT NULL;
