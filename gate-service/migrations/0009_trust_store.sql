-- Gate: the last good signed trust list of each issuer (docs/trust.md), as received
-- (the root key's JWS), so that a gate restarted with its issuers down still decides.
-- The feed cursors are in revocation_marks (0002).
CREATE TABLE trust_lists (
    issuer TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    envelope TEXT NOT NULL,
    stored_at INTEGER NOT NULL
);
