//! Where a scan's time goes, phase by phase, when `TRUSTMAP_SCAN_TIMINGS=1` is set (for
//! BENCHMARKS.md; off by default, and then nothing is timed: one relaxed load per call).
//!
//! Each phase adds the wall time its calls took on the thread that made them, so on a
//! multi-threaded walk the sum over phases is thread-seconds, not elapsed seconds. Nested
//! phases are subtracted by the reader: `scan` includes `parse`, `secrets` includes
//! `confirm`; the report says so.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// A phase of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Opening and reading files (walker threads).
    Read,
    /// Everything the scanner does with a file's bytes (includes the next five).
    Scan,
    /// Decoding and parsing material the markers pointed at: PEM, DER, keystores, SSH,
    /// PuTTY, JWK (inside `Scan`).
    Parse,
    /// The secret rules: keyword prefilter and confirmation (inside `Scan`).
    Secrets,
    /// Confirming keyword hits with the rules' regular expressions (inside `Secrets`).
    Confirm,
    /// Kubernetes manifests (inside `Scan`).
    Manifests,
    /// Configuration files that name key material: consumers (inside `Scan`).
    Configs,
    /// Handing results to the inventory (the collecting thread).
    Collect,
    /// Deduplication's end, issued-by signature checks, key-of, owners (`finish_all`).
    Link,
    /// Resolving consumers' references.
    Consumers,
    /// The policy's built-in rules.
    Policy,
    /// Custom rules in Rego.
    Rego,
    /// Writing the scan into the inventory.
    Record,
    /// Rendering the output (JSON, summary, exporters).
    Serialise,
}

const ALL: [Phase; 14] = [
    Phase::Read,
    Phase::Scan,
    Phase::Parse,
    Phase::Secrets,
    Phase::Confirm,
    Phase::Manifests,
    Phase::Configs,
    Phase::Collect,
    Phase::Link,
    Phase::Consumers,
    Phase::Policy,
    Phase::Rego,
    Phase::Record,
    Phase::Serialise,
];

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Read => "read",
            Phase::Scan => "scan (all of the scanner)",
            Phase::Parse => "  parse (in scan)",
            Phase::Secrets => "  secrets (in scan)",
            Phase::Confirm => "    confirm (in secrets)",
            Phase::Manifests => "  kubernetes manifests (in scan)",
            Phase::Configs => "  configurations: consumers (in scan)",
            Phase::Collect => "collect (inventory add)",
            Phase::Link => "link (finish: issued-by, key-of)",
            Phase::Consumers => "consumers (resolve)",
            Phase::Policy => "policy",
            Phase::Rego => "rego",
            Phase::Record => "record (store)",
            Phase::Serialise => "serialise (output)",
        }
    }
}

static ENABLED: LazyLock<bool> = LazyLock::new(|| {
    std::env::var_os("TRUSTMAP_SCAN_TIMINGS").is_some_and(|v| !v.is_empty() && v != "0")
});
static NANOS: [AtomicU64; 14] = [const { AtomicU64::new(0) }; 14];
static CALLS: [AtomicU64; 14] = [const { AtomicU64::new(0) }; 14];

/// Whether phases are timed in this process.
pub fn enabled() -> bool {
    *ENABLED
}

/// Times `f` as `phase` when timing is on.
#[inline]
pub fn time<T>(phase: Phase, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let t = Instant::now();
    let out = f();
    let i = phase as usize;
    NANOS[i].fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
    CALLS[i].fetch_add(1, Ordering::Relaxed);
    out
}

/// Work counted (not timed) for BENCHMARKS.md, with the phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// YAML documents handed to the parser by the manifest pass.
    YamlDocuments,
    /// Signature checks of issuer linking.
    SignatureChecks,
    /// Trigram hits of the secret keywords' prefilter checked against their keywords.
    PrefilterChecks,
}

const COUNTS: [(Count, &str); 3] = [
    (Count::YamlDocuments, "YAML documents parsed (manifests)"),
    (Count::SignatureChecks, "signature checks (issuer linking)"),
    (Count::PrefilterChecks, "keyword prefilter checks (secrets)"),
];

static COUNTED: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];

/// Adds `n` to `what` when timing is on.
#[inline]
pub fn count(what: Count, n: u64) {
    if enabled() {
        COUNTED[what as usize].fetch_add(n, Ordering::Relaxed);
    }
}

/// The phases' totals as a table (empty when timing is off).
pub fn report(elapsed: std::time::Duration) -> String {
    if !enabled() {
        return String::new();
    }
    let mut s = format!(
        "phase timings (thread-seconds; nested phases are part of their parent), elapsed {:.3} s\n",
        elapsed.as_secs_f64()
    );
    for p in ALL {
        let i = p as usize;
        let n = NANOS[i].load(Ordering::Relaxed);
        let c = CALLS[i].load(Ordering::Relaxed);
        if c == 0 {
            continue;
        }
        s.push_str(&format!(
            "  {:<36} {:>9.3} s  {:>10} calls\n",
            p.name(),
            n as f64 / 1e9,
            c
        ));
    }
    for (what, name) in COUNTS {
        s.push_str(&format!(
            "  {name:<36} {:>11}\n",
            COUNTED[what as usize].load(Ordering::Relaxed)
        ));
    }
    s
}
