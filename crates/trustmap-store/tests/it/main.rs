//! The store's integration tests, on SQLite always and on PostgreSQL when
//! `TRUSTMAP_TEST_PG_URL` is set.
//!
//! One test binary per crate (each module was its own binary): a clean build links one
//! executable instead of one per file.

mod backends;
mod common;
mod impact;
mod jobs;
mod overview;
mod owner_rules;
mod pg_tls;
mod places;
mod secret_keys;
mod shared;
mod stored_reports;
mod tokens;
