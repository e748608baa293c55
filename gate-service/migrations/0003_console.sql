-- Officer console: officers, sessions, sign-in attempts, outcomes, payments, adjustments,
-- audit log (times are unix seconds; outcomes, payments, adjustments and the log are
-- append-only).
CREATE TABLE officers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('officer','supervisor')),
    password_hash TEXT NOT NULL,          -- argon2id PHC string
    created_at INTEGER NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,             -- SHA-256 (hex) of the cookie value
    officer_id INTEGER NOT NULL REFERENCES officers(id),
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,          -- absolute limit
    revoked INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX sessions_officer ON sessions(officer_id);
CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    at INTEGER NOT NULL,
    success INTEGER NOT NULL,
    throttled INTEGER NOT NULL DEFAULT 0  -- refused before the password was checked
);
CREATE INDEX login_attempts_user ON login_attempts(username, at);
CREATE INDEX login_attempts_ip ON login_attempts(client_ip, at);
CREATE TABLE outcomes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    kind TEXT NOT NULL CHECK (kind IN ('cleared','duty_assessed','goods_retained','referred')),
    amount_yen INTEGER CHECK (amount_yen IS NULL OR amount_yen >= 0),
    amount_source TEXT CHECK (amount_source IS NULL OR amount_source IN ('estimate','entered')),
    amount_reason TEXT,
    note TEXT NOT NULL DEFAULT '',
    officer_id INTEGER NOT NULL REFERENCES officers(id),
    recorded_at INTEGER NOT NULL,
    supersedes_id INTEGER REFERENCES outcomes(id),
    supersede_reason TEXT,
    CHECK ((supersedes_id IS NULL) = (supersede_reason IS NULL))
);
-- One first outcome per case; each outcome superseded at most once (a linear history).
CREATE UNIQUE INDEX outcomes_first ON outcomes(case_id) WHERE supersedes_id IS NULL;
CREATE UNIQUE INDEX outcomes_chain ON outcomes(supersedes_id) WHERE supersedes_id IS NOT NULL;
CREATE TABLE payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    outcome_id INTEGER NOT NULL REFERENCES outcomes(id),
    method TEXT NOT NULL CHECK (method IN ('cash','card','qr_payment')),
    reference TEXT NOT NULL DEFAULT '',
    amount_yen INTEGER NOT NULL CHECK (amount_yen > 0),
    officer_id INTEGER NOT NULL REFERENCES officers(id),
    recorded_at INTEGER NOT NULL
);
CREATE INDEX payments_outcome ON payments(outcome_id);
CREATE TABLE case_adjustments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    officer_id INTEGER NOT NULL REFERENCES officers(id),
    at INTEGER NOT NULL,
    items_json TEXT NOT NULL
);
CREATE INDEX case_adjustments_case ON case_adjustments(case_id, id);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    officer_id INTEGER,
    action TEXT NOT NULL,
    case_id INTEGER,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_case ON audit_log(case_id);
CREATE TRIGGER outcomes_no_update BEFORE UPDATE ON outcomes
BEGIN SELECT RAISE(ABORT, 'outcomes are append-only'); END;
CREATE TRIGGER outcomes_no_delete BEFORE DELETE ON outcomes
BEGIN SELECT RAISE(ABORT, 'outcomes are append-only'); END;
CREATE TRIGGER payments_no_update BEFORE UPDATE ON payments
BEGIN SELECT RAISE(ABORT, 'payments are append-only'); END;
CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments
BEGIN SELECT RAISE(ABORT, 'payments are append-only'); END;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER case_adjustments_no_update BEFORE UPDATE ON case_adjustments
BEGIN SELECT RAISE(ABORT, 'adjustments are append-only'); END;
CREATE TRIGGER case_adjustments_no_delete BEFORE DELETE ON case_adjustments
BEGIN SELECT RAISE(ABORT, 'adjustments are append-only'); END;
