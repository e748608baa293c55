-- Gate: revoked tokens and each issuer's revocation feed mark.
CREATE TABLE revoked_tokens (
    cti BLOB PRIMARY KEY,
    issuer TEXT NOT NULL,
    seq INTEGER NOT NULL,
    reason TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE revocation_marks (
    issuer TEXT PRIMARY KEY,
    next_since INTEGER NOT NULL
);
