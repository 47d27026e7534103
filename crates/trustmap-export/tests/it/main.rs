//! trustmap-export's integration tests: reports built by hand (every asset kind, waived,
//! baselined, lint, Rego and endpoint findings, hostile text) through each format, every
//! CycloneDX and SARIF document validated against the official schemas in `schemas/`.
//!
//! One test binary per crate; each area is a module.

mod common;
mod cyclonedx;
mod escaping;
mod evidence;
mod sarif;
