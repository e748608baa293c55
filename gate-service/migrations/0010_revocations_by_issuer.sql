-- Gate: a revocation applies to its own issuer's tokens only, so one issuer's feed (or
-- whoever serves it) cannot revoke another issuer's tokens: revoked tokens are keyed by
-- (issuer, token id) instead of token id alone.
CREATE TABLE revoked_tokens_by_issuer (
    issuer TEXT NOT NULL,
    cti BLOB NOT NULL,
    seq INTEGER NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (issuer, cti)
) WITHOUT ROWID;
INSERT INTO revoked_tokens_by_issuer (issuer, cti, seq, reason)
    SELECT issuer, cti, seq, reason FROM revoked_tokens;
DROP TABLE revoked_tokens;
ALTER TABLE revoked_tokens_by_issuer RENAME TO revoked_tokens;
