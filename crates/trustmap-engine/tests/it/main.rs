//! The engine's integration tests: the pipeline as a library.
//!
//! One test binary per crate (each module was its own binary): a clean build links one
//! executable instead of one per file.

mod pipeline;
mod real_use;
