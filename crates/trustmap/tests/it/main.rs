//! The CLI's integration tests: the real `trustmap` binary over trees generated at test time.
//!
//! One test binary per crate (each module was its own binary): a clean build links one
//! executable instead of one per file.

mod alerts;
mod clock;
mod common;
mod consumers;
mod consumers_more;
mod crash;
mod deploy;
mod estate;
mod export;
mod formats;
mod gate;
mod hostile_store;
mod html;
mod keystore_passwords;
mod parsing;
mod policy;
mod push_ca;
mod readme;
mod real_use;
mod rego;
mod scan;
pub mod serve;
mod starttls;
mod store;
mod stored;
mod tls;
mod tls_probes;
mod ui;
mod waiver;
