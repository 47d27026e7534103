//! The policy engine's integration tests: the rule catalogue, the policy file and the CLI's flow.
//!
//! One test binary per crate (each module was its own binary): a clean build links one
//! executable instead of one per file.

mod policy_catalogue;
mod policy_file;
mod policy_wiring;
