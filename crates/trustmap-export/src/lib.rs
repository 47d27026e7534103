//! trustmap-export: a [`Report`] in the formats other tools read.
//!
//! Every exporter is a pure function from the model to bytes: no I/O, no clock (the instant
//! a format needs comes in as an argument), so the CLI (`scan --format F`) and the server
//! produce the same output from the same report. Text that comes from scanned files
//! (subjects, SANs, paths) can hold control characters and markup; each format escapes it
//! its own way.
//!
//! Modules: [`cyclonedx`] (CycloneDX 1.6 CBOM), [`sarif`] (SARIF 2.1.0 for code scanning),
//! [`csv`] (assets and findings for spreadsheets), [`prometheus`] (x509-certificate-exporter
//! compatible metrics and trustmap's own series), [`html`] (one self-contained report file);
//! [`evidence`] (audit evidence per framework control, JSON and HTML: [`evidence_json`],
//! [`evidence_html`]); [`algorithms`] is the CBOM's algorithm catalogue, `json` the JSON text the JSON formats share.

#![forbid(unsafe_code)]

pub mod algorithms;
pub mod csv;
pub mod cyclonedx;
pub mod evidence;
pub mod html;
mod json;
pub mod prometheus;
pub mod sarif;

pub use evidence::{EvidenceContext, Framework, evidence_html, evidence_json};
use trustmap_core::Report;

/// The formats a report can be written in (besides the CLI's own summary and JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CycloneDX 1.6 JSON with cryptographic assets (a CBOM).
    CycloneDx,
    /// SARIF 2.1.0 JSON, as GitHub code scanning accepts it.
    Sarif,
    /// Assets and findings, one row each (RFC 4180).
    Csv,
    /// One self-contained HTML file.
    Html,
    /// Prometheus text exposition format 0.0.4.
    Prometheus,
}

/// What an exporter needs besides the report.
#[derive(Debug, Clone)]
pub struct Context {
    /// The instant the report is judged at (expiry in metrics, "as of" in HTML).
    pub now: time::OffsetDateTime,
    /// trustmap's version, for tool fields.
    pub version: String,
}

/// Writes `report` in `format`.
pub fn export(report: &Report, format: Format, ctx: &Context) -> String {
    match format {
        Format::CycloneDx => cyclonedx::render(report, ctx),
        Format::Sarif => sarif::render(report, ctx),
        Format::Csv => csv::render(report, ctx),
        Format::Html => html::render(report, ctx),
        Format::Prometheus => prometheus::render(report, ctx),
    }
}
