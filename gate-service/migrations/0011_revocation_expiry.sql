-- Gate: each revocation keeps its token's expiry (from the issuer's feed), so the purge
-- can forget entries whose token can no longer verify; entries from before (NULL) stay.
ALTER TABLE revoked_tokens ADD COLUMN exp INTEGER;
CREATE INDEX revoked_tokens_exp ON revoked_tokens (exp);
