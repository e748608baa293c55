-- Gate: use reports to issuers; gate_meta (backup and restore marks).
ALTER TABLE used_tokens ADD COLUMN issuer TEXT;
ALTER TABLE used_tokens ADD COLUMN reported_at INTEGER;
UPDATE used_tokens SET issuer = (SELECT s.issuer FROM scans s WHERE s.id = used_tokens.scan_id);
CREATE INDEX used_tokens_unreported ON used_tokens(issuer, used_at) WHERE reported_at IS NULL;
CREATE TABLE gate_meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
