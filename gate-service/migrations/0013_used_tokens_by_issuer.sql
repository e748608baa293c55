-- Gate: a token is spent once per issuer: one-time-use records are keyed by (issuer,
-- token id), like revoked_tokens, so a token of one issuer never counts as used because
-- another issuer's token carried the same id. A record from before the issuer was kept
-- (0004 could not find its scan) gets the empty issuer.
CREATE TABLE used_tokens_by_issuer (
    issuer TEXT NOT NULL,
    cti BLOB NOT NULL,
    scan_id TEXT NOT NULL REFERENCES scans(id),
    used_at INTEGER NOT NULL,
    exp INTEGER NOT NULL,
    reported_at INTEGER,
    PRIMARY KEY (issuer, cti)
) WITHOUT ROWID;
INSERT INTO used_tokens_by_issuer (issuer, cti, scan_id, used_at, exp, reported_at)
    SELECT coalesce(issuer, ''), cti, scan_id, used_at, exp, reported_at FROM used_tokens;
DROP TABLE used_tokens;
ALTER TABLE used_tokens_by_issuer RENAME TO used_tokens;
CREATE INDEX used_tokens_exp ON used_tokens(exp);
CREATE INDEX used_tokens_unreported ON used_tokens(issuer, used_at) WHERE reported_at IS NULL;
