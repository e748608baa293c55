-- Console hygiene (docs/storage.md): payments belong to their case (not only to the
-- outcome in force when they were taken, so a superseded outcome keeps them), carry the
-- payment form's idempotency key (a double submit records one payment), and a
-- supervisor's reason when they take the total paid above the assessed duty. A
-- supervisor's unlock of an account is kept as the last sign-in attempt it clears.
DROP TRIGGER payments_no_update;
ALTER TABLE payments ADD COLUMN case_id INTEGER REFERENCES cases(id);
ALTER TABLE payments ADD COLUMN idempotency_key TEXT;
ALTER TABLE payments ADD COLUMN over_duty_reason TEXT;
UPDATE payments SET case_id = (SELECT o.case_id FROM outcomes o WHERE o.id = payments.outcome_id);
CREATE TRIGGER payments_no_update BEFORE UPDATE ON payments
BEGIN SELECT RAISE(ABORT, 'payments are append-only'); END;
CREATE UNIQUE INDEX payments_idempotency ON payments(idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX payments_case ON payments(case_id, id);
CREATE TABLE account_unlocks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    officer_id INTEGER NOT NULL REFERENCES officers(id),  -- the supervisor
    at INTEGER NOT NULL,
    last_attempt_id INTEGER NOT NULL      -- failures up to this login_attempts id no longer count
);
CREATE INDEX account_unlocks_user ON account_unlocks(username, last_attempt_id);
