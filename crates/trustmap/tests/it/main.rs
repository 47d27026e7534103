//! The CLI's integration tests: the real `trustmap` binary over trees generated at test time.
//!
//! One test binary per crate (each module was its own binary): a clean build links one
//! executable instead of one per file.

mod clock;
mod common;
mod consumers;
mod consumers_more;
mod estate;
mod export;
mod formats;
mod gate;
mod hostile_store;
mod html;
mod keystore_passwords;
mod parsing;
mod policy;
mod readme;
mod real_use;
mod rego;
mod scan;
mod serve;
mod starttls;
mod store;
mod stored;
mod tls;
mod ui;
mod waiver;
