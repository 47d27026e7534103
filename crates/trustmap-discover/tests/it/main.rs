//! Discovery's integration tests: keys, keystores, certificates and secrets made at test time
//! with the real tools, read back through the library.
//!
//! One test binary per crate (each module was its own binary): a clean build links one
//! executable instead of one per file.

mod hostile;
mod keys;
mod keystores;
mod parsing;
mod secret_rules;
mod support;
mod tls;
mod x509_lints;
