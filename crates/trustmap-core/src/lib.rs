//! trustmap-core: the model every other crate speaks.
//!
//! It owns the types of the JSON contract in `docs/ARCHITECTURE.md` — [`Asset`], [`Occurrence`],
//! [`Relation`], [`Finding`], [`Report`] — and the rules for identity (fingerprints and
//! asset ids). It is pure: no I/O, no async runtime, no database, no printing.

#![forbid(unsafe_code)]

pub mod model;
pub mod policy;
pub mod redact;
pub mod timestamp;
pub mod vocab;

pub use model::*;
pub use timestamp::Timestamp;
pub use vocab::{QUANTUM_VULNERABLE, RuleId, quantum_vulnerable};
