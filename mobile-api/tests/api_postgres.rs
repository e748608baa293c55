//! mobile-api's HTTP tests (`api.rs`) again, with the store in PostgreSQL: the same
//! suite on both backends. Needs `EGATE_TEST_DATABASE_URL` (scripts/test.sh starts a
//! server; each test makes a database of its own) and fails without it.

#[path = "api.rs"]
mod api;
