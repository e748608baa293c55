-- Gate: presentation reports. Each case opened for a genuine token is reported to the
-- token's issuer (case id, declaration id, token id), which then lets the officer
-- console read that declaration for that case only (docs/trust.md). NULL: to report.
ALTER TABLE cases ADD COLUMN presentation_reported_at INTEGER;
-- Cases without a token, or whose identity the retention purge erased, have nothing
-- to report; the open ones from before the upgrade are reported at the next flush.
UPDATE cases SET presentation_reported_at = opened_at
 WHERE declaration_id IS NULL OR issuer IS NULL OR purged_at IS NOT NULL;
CREATE INDEX cases_presentation_unreported ON cases(issuer, id)
 WHERE presentation_reported_at IS NULL;
