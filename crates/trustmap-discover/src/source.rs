//! Sources: where material comes from. A source knows how to reach its material (a file
//! tree, an archive in memory; later a TLS endpoint, a cluster, an image) and hands what it
//! finds to a [`Sink`]; it does not deduplicate, relate or judge. Whoever drives the scan
//! (the engine) owns the sink, so every source feeds the same [`crate::inventory::Inventory`].
//!
//! A source yields three things, all located:
//!
//! - [`Found`] material with its place (path, line, container): bytes the [`Scanner`]
//!   parsed, or facts a source parsed itself (a certificate served by an endpoint, read from
//!   an API). The driver sets [`trustmap_core::Occurrence::root`] to the source's
//!   [`Source::name`], so a source need not;
//! - errors ([`ScanError`]): a place that could not be read or parsed; the scan goes on;
//! - owner hints ([`OwnerHints`]): CODEOWNERS rules for the source's paths.
//!
//! A new kind of source is a new implementation of [`Source`], not an edit of the walker:
//!
//! ```
//! use trustmap_core::{AssetKind, Occurrence, ScanError};
//! use trustmap_discover::source::{Progress, Sink, Source};
//! use trustmap_discover::scan::Scanner;
//! use trustmap_discover::{Detail, Found, secrets::RuleSet};
//!
//! /// Material held in memory, e.g. fetched from an API.
//! struct Memory(Vec<(String, Vec<u8>)>);
//!
//! impl Source for Memory {
//!     fn name(&self) -> &str {
//!         "memory:"
//!     }
//!     fn run(&self, scanner: &Scanner, progress: &Progress, sink: &mut dyn Sink) {
//!         for (path, bytes) in &self.0 {
//!             progress.add_file(bytes.len() as u64);
//!             let r = scanner.scan_file(path, bytes);
//!             r.found.into_iter().for_each(|f| sink.found(f));
//!             for error in r.errors {
//!                 sink.error(ScanError { path: path.clone(), error });
//!             }
//!         }
//!     }
//! }
//!
//! struct Collect(Vec<Found>);
//! impl Sink for Collect {
//!     fn found(&mut self, f: Found) { self.0.push(f) }
//!     fn error(&mut self, _: ScanError) {}
//! }
//!
//! let src = Memory(vec![("a.env".into(), b"nothing here\n".to_vec())]);
//! let mut sink = Collect(Vec::new());
//! src.run(&Scanner::new(RuleSet::builtin()), &Progress::default(), &mut sink);
//! assert!(sink.0.is_empty());
//! ```

use crate::Found;
use crate::owners::CodeOwners;
use crate::scan::Scanner;
use std::sync::atomic::{AtomicU64, Ordering};
use trustmap_core::ScanError;

/// Live counters, readable from another thread for a progress bar.
#[derive(Debug, Default)]
pub struct Progress {
    /// Files (or other units of input) read.
    pub files: AtomicU64,
    /// Bytes read.
    pub bytes: AtomicU64,
    /// Distinct assets so far (kept by the driver).
    pub found: AtomicU64,
    /// Files and directories skipped because an exclude pattern matched them (a directory
    /// counts once, not its contents).
    pub excluded: AtomicU64,
    /// TLS endpoints done (handshake and probes, or failed), counted apart from files.
    pub endpoints: AtomicU64,
    /// TLS endpoints the scan names (counted when the TLS source starts).
    pub endpoints_total: AtomicU64,
}

impl Progress {
    /// Counts one file of `bytes` bytes.
    pub fn add_file(&self, bytes: u64) {
        self.files.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts one TLS endpoint done, `bytes` read from it.
    pub fn add_endpoint(&self, bytes: u64) {
        self.endpoints.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// Ownership rules a source knows for its own paths.
#[derive(Debug)]
pub struct OwnerHints {
    /// The rules apply to occurrence paths under this prefix (`""`: every path of the scan;
    /// else `prefix/...`, the prefix removed before matching).
    pub prefix: String,
    pub codeowners: CodeOwners,
}

/// Where a source puts what it yields. Called on one thread: a parallel source funnels
/// its workers' results to the thread that called [`Source::run`].
pub trait Sink {
    /// Material found at a place.
    fn found(&mut self, found: Found);
    /// A place that could not be read or parsed.
    fn error(&mut self, error: ScanError);
    /// Ownership rules for the source's paths.
    fn owners(&mut self, hints: OwnerHints) {
        let _ = hints;
    }
}

/// A place material comes from.
pub trait Source: Send + Sync {
    /// The root name every occurrence of this source carries (`Occurrence.root`): a
    /// directory or file with forward slashes, later `tls://host:port`, a cluster, an image.
    fn name(&self) -> &str;

    /// The root as the user gave it, for the report's `scan.roots`.
    fn given(&self) -> String {
        self.name().to_string()
    }

    /// A stable identity of the root across runs (an absolute path for files), so scans of
    /// "the same roots" can be compared.
    fn canonical(&self) -> String {
        self.name().to_string()
    }

    /// Reads the source, scanning bytes with `scanner`, counting into `progress`, and
    /// handing everything found to `sink`. Failures are errors in the sink, not panics.
    fn run(&self, scanner: &Scanner, progress: &Progress, sink: &mut dyn Sink);
}

/// Runs every source into one sink, setting each found item's root to its source's name.
pub fn run_all(
    sources: &[Box<dyn Source>],
    scanner: &Scanner,
    progress: &Progress,
    sink: &mut dyn Sink,
) {
    struct Rooted<'a> {
        root: &'a str,
        inner: &'a mut dyn Sink,
    }
    impl Sink for Rooted<'_> {
        fn found(&mut self, mut found: Found) {
            found.set_root(self.root);
            self.inner.found(found);
        }
        fn error(&mut self, error: ScanError) {
            self.inner.error(error);
        }
        fn owners(&mut self, hints: OwnerHints) {
            self.inner.owners(hints);
        }
    }
    for s in sources {
        let mut rooted = Rooted {
            root: s.name(),
            inner: &mut *sink,
        };
        s.run(scanner, progress, &mut rooted);
    }
}

/// An archive (ZIP/JAR, tar, gzip) or any other blob held in memory: an image layer, a
/// download, stdin. The scanner recognises archives by their magic and scans each member;
/// places are `name` and the member's route.
pub struct Archive {
    name: String,
    data: Vec<u8>,
}

impl Archive {
    /// A blob named `name` (its occurrences' path and root).
    pub fn new(name: impl Into<String>, data: Vec<u8>) -> Self {
        Archive {
            name: name.into(),
            data,
        }
    }
}

impl Source for Archive {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(&self, scanner: &Scanner, progress: &Progress, sink: &mut dyn Sink) {
        progress.add_file(self.data.len() as u64);
        let r = scanner.scan_file(&self.name, &self.data);
        for error in r.errors {
            sink.error(ScanError {
                path: self.name.clone(),
                error,
            });
        }
        for f in r.found {
            sink.found(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::RuleSet;

    #[derive(Default)]
    struct Collect(Vec<Found>, Vec<ScanError>);
    impl Sink for Collect {
        fn found(&mut self, f: Found) {
            self.0.push(f);
        }
        fn error(&mut self, e: ScanError) {
            self.1.push(e);
        }
    }

    #[test]
    fn an_archive_in_memory_yields_its_members_under_its_name() {
        let cert = rcgen::generate_simple_self_signed(vec!["a.example.test".into()]).unwrap();
        let pem = cert.cert.pem();
        let mut zip = Vec::new();
        {
            let mut w = zip::ZipWriter::new(std::io::Cursor::new(&mut zip));
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            w.start_file("conf/tls.crt", opts).unwrap();
            std::io::Write::write_all(&mut w, pem.as_bytes()).unwrap();
            w.finish().unwrap();
        }
        let sources: Vec<Box<dyn Source>> = vec![Box::new(Archive::new("app.jar", zip))];
        let progress = Progress::default();
        let mut sink = Collect::default();
        run_all(
            &sources,
            &Scanner::new(RuleSet::builtin()),
            &progress,
            &mut sink,
        );
        assert_eq!(sink.0.len(), 1, "{:?}", sink.1);
        let occ = &sink.0[0].occurrence;
        assert_eq!(occ.path, "app.jar");
        assert_eq!(occ.root.as_deref(), Some("app.jar"));
        assert!(occ.container.as_deref().unwrap().contains("conf/tls.crt"));
        assert_eq!(progress.files.load(Ordering::Relaxed), 1);
    }
}
