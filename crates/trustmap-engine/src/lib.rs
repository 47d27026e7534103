//! trustmap-engine: the pipeline every front end calls (the CLI today, the server next).
//!
//! It owns the way from sources to a recorded, judged scan: it runs [`Source`]s (file trees,
//! archives, and whatever implements the trait) into one inventory (deduplication,
//! relations, owners), judges it (built-in rules and X.509 lints with trust roots from the
//! system bundle and the policy's bundles, custom Rego rules, a baseline, the store's
//! waivers) and records it in the store, with one clock ([`Clock`]: the system clock read
//! once per request, or the instant the caller gives) and one store handle lent by the
//! caller. It returns values ([`ScanOutcome`], the [`pqc`] plan) and never prints; errors
//! are typed ([`Error`]).
//!
//! ```no_run
//! use trustmap_engine::{Progress, ScanRequest, scan};
//! let store = trustmap_store::Store::open("inventory.db")?;
//! let req = ScanRequest::new(vec!["/etc/ssl".into()]);
//! let outcome = scan(req, Some(&store), &Progress::default())?;
//! println!("{} assets", outcome.report.assets.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules: [`pipeline`] (request -> outcome), [`policy`] (which policy file, trust roots,
//! lint inputs), [`own`] (trustmap's own files in a scanned tree), [`rego`], [`baseline`], [`waivers`], [`pqc`], [`clock`], [`query`]
//! (recorded scans and their findings, as `trustmap findings` and the API read them), and
//! [`record`], the only module that writes to the store.

#![forbid(unsafe_code)]

pub mod baseline;
pub mod clock;
pub mod consumers;
mod error;
pub mod own;
pub mod pipeline;
pub mod policy;
pub mod pqc;
pub mod query;
pub mod record;
pub mod rego;
pub mod waivers;

pub use clock::Clock;
pub use error::{Error, Invalid};
pub use pipeline::{
    KeystorePasswords, Scan, ScanOptions, ScanOutcome, ScanRequest, ScanRoot, local_host_name, scan,
};
pub use trustmap_discover::source::{Progress, Source};
