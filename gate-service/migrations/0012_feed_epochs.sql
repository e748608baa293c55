-- Gate: each issuer's feed mark keeps the feed's epoch; a page from another epoch (the
-- issuer's database restored or recreated) makes the gate read that feed again from 0.
ALTER TABLE revocation_marks ADD COLUMN epoch TEXT;
