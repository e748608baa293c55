//! Officer accounts, sign-in and sessions.
//!
//! - [`password`]: argon2id with the crate defaults (m = 19 MiB, t = 2, p = 1, the OWASP
//!   recommendation), PHC strings; hashing and checking run off the async runtime.
//! - [`accounts`]: creating an account (user name rules, password length).
//! - [`session`]: the signed-in officer of a request. A random 128-bit cookie value; the
//!   database keeps only its SHA-256. A new id at every sign-in (the previous session of
//!   the browser is revoked); idle and absolute expiry are checked on the server at every
//!   request; sign-out deletes it.
//! - [`throttle`]: per account and per client address (the TCP peer, never
//!   `X-Forwarded-For`): after `throttle_free_failures` failures in the window each
//!   further attempt waits a delay that doubles, and `lock_after_failures` failures lock
//!   for `lock_secs` after the last one. Refused attempts are recorded but do not count,
//!   so a lock lifts by itself after its period. Every attempt is logged (hash of the
//!   user name, never the password) and recorded in `login_attempts`.
//! - [`login`]: the sign-in page, sign-in and sign-out.

pub mod accounts;
pub mod login;
pub mod password;
pub mod session;
pub mod throttle;

pub use accounts::{AccountError, create_officer, normalise_username, unix_now};
pub use password::{MIN_PASSWORD_LEN, check_password_strength, hash_password, verify_password};
pub use session::{AUTO_REFRESH_PARAM, Officer, Supervisor};
