//! `trustmap scan`, and the scan that `baseline` and `pqc` run: the engine's pipeline with a
//! progress bar, the report printed, the scan recorded.

use crate::args::{ScanInput, parse_severity};
use crate::summary;
use anyhow::{Context, Result};
use clap::ValueEnum;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use trustmap_core::Severity;
use trustmap_engine::{Progress, Scan, ScanOutcome};
use trustmap_store::Store;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable summary: counts, then what needs attention first.
    Summary,
    /// The JSON contract (see docs/ARCHITECTURE.md).
    Json,
    /// CycloneDX 1.6 with cryptographic assets (a CBOM).
    Cyclonedx,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// Assets and findings, one row each, for spreadsheets.
    Csv,
    /// One self-contained HTML report that opens offline.
    Html,
    /// Prometheus metrics (x509-certificate-exporter's names and labels, and trustmap's own).
    Prometheus,
}

impl Format {
    /// The exporter behind a format, for those that are not the CLI's own.
    pub fn exporter(self) -> Option<trustmap_export::Format> {
        use trustmap_export::Format as E;
        match self {
            Format::Summary | Format::Json => None,
            Format::Cyclonedx => Some(E::CycloneDx),
            Format::Sarif => Some(E::Sarif),
            Format::Csv => Some(E::Csv),
            Format::Html => Some(E::Html),
            Format::Prometheus => Some(E::Prometheus),
        }
    }
}

#[derive(clap::Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: ScanInput,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Summary)]
    pub format: Format,
    /// Summary: list every finding and error (low and info ones too), with no cap.
    #[arg(long)]
    pub all: bool,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a finding at or above this severity exists.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// Baseline file (`trustmap baseline`): findings in it are marked baselined and do not
    /// count for --fail-on.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Send the scan to a trustmap server (`trustmap serve`) instead of a local inventory:
    /// its base URL, https://HOST:PORT. Needs a scanner token (--token-file or
    /// TRUSTMAP_TOKEN); retried with backoff; prints one line, not the report.
    #[arg(long, value_name = "URL", conflicts_with_all = ["no_store", "output", "format", "all"])]
    pub push: Option<String>,
    /// With --push: a file holding the scanner token (else $TRUSTMAP_TOKEN).
    #[arg(long, value_name = "FILE", requires = "push")]
    pub token_file: Option<PathBuf>,
    /// With --push: trust the server's certificate through these CA certificates (PEM)
    /// instead of the web PKI roots (a server with a certificate from a private CA).
    #[arg(long, value_name = "FILE", requires = "push")]
    pub ca_file: Option<PathBuf>,
}

/// `trustmap scan`.
pub fn scan(args: ScanArgs) -> Result<i32> {
    let started = Instant::now();
    let mut req = args.input.request()?;
    req.options.baseline = args.baseline.clone();
    req.options.writes.extend(args.output.clone());
    if let Some(url) = &args.push {
        return push(&args, url, req);
    }
    let (mut outcome, store) = run(&args.input, req, true)?;
    let report = &outcome.report;
    let text =
        trustmap_discover::timing::time(trustmap_discover::timing::Phase::Serialise, || {
            render(
                report,
                args.format,
                outcome.clock.now,
                outcome.baselined,
                args.all,
            )
        })?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => crate::table::out(&text)?,
    }
    let code = gate(&report.findings, args.fail_on);
    if let Some(store) = store {
        record(&args.input, &mut outcome, &store)?;
    }
    // TRUSTMAP_SCAN_TIMINGS=1: where the time went, on stderr (see BENCHMARKS.md).
    eprint!("{}", trustmap_discover::timing::report(started.elapsed()));
    Ok(code)
}

/// A report in `format` (shared by `scan` and `report`): `now` is the instant it was
/// judged at, `baselined` whether a baseline marked its findings.
pub fn render(
    report: &trustmap_core::Report,
    format: Format,
    now: time::OffsetDateTime,
    baselined: bool,
    all: bool,
) -> Result<String> {
    Ok(match (format, format.exporter()) {
        (_, Some(f)) => trustmap_export::export(
            report,
            f,
            &trustmap_export::Context {
                now,
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
        ),
        (Format::Json, _) => serde_json::to_string_pretty(report)? + "\n",
        _ => summary::render(report, now, baselined, all),
    })
}

/// The exit code of a report under `--fail-on`: 1 when an unwaived, unbaselined finding is
/// at or above the severity.
pub fn gate(findings: &[trustmap_core::Finding], fail_on: Option<Severity>) -> i32 {
    let failed = fail_on.is_some_and(|min| {
        findings
            .iter()
            .any(|f| f.severity >= min && f.waiver.is_none() && !f.baselined)
    });
    if failed { 1 } else { 0 }
}

/// Prepares the scan (bad inputs fail before the walk), opens the store once unless
/// `--no-store`, and runs the pipeline with a progress bar. The scan is not recorded yet.
/// `create`: create the store when there is none (`scan`); otherwise (`baseline`, `pqc`) a
/// missing store means a scan without one, said on stderr.
pub fn run(
    input: &ScanInput,
    req: trustmap_engine::ScanRequest,
    create: bool,
) -> Result<(ScanOutcome, Option<Store>)> {
    let prepared = Scan::prepare(req)?;
    let store = if input.no_store {
        None
    } else if create {
        Some(input.db.open_or_create()?)
    } else {
        let store = input.db.open_if_exists()?;
        if store.is_none() && !input.quiet {
            errln!(
                "note: no inventory at {}: this scan is not recorded and no waivers apply \
                 (`trustmap scan` creates the inventory)",
                input.db.shown()
            );
        }
        store
    };
    let outcome = drive(input, prepared, store.as_ref())?;
    Ok((outcome, store))
}

/// Runs a prepared scan with a progress bar.
fn drive(input: &ScanInput, prepared: Scan, store: Option<&Store>) -> Result<ScanOutcome> {
    let progress = Progress::default();
    let show_bar = !input.quiet && std::io::stderr().is_terminal();
    let done = AtomicBool::new(false);
    let outcome = std::thread::scope(|s| {
        let bar = show_bar.then(|| s.spawn(|| progress_bar(&progress, &done)));
        let out = prepared.run(store, &progress);
        done.store(true, Ordering::Relaxed);
        if let Some(b) = bar {
            let _ = b.join();
        }
        out
    });
    let outcome = outcome.map_err(|e| match e {
        e @ trustmap_engine::Error::Store { .. } => {
            anyhow::Error::new(e).context(format!("inventory {}", input.db.shown()))
        }
        e => e.into(),
    })?;
    Ok(outcome)
}

/// `scan --push URL`: scans without a local inventory (secrets fingerprinted by digest,
/// which the server keys; see `trustmap_server::push`) and sends the scan to the server.
fn push(args: &ScanArgs, url: &str, req: trustmap_engine::ScanRequest) -> Result<i32> {
    let token = match &args.token_file {
        Some(f) => std::fs::read_to_string(f)
            .with_context(|| format!("reading the token file {}", f.display()))?
            .trim()
            .to_string(),
        None => std::env::var("TRUSTMAP_TOKEN").unwrap_or_default(),
    };
    if token.is_empty() {
        anyhow::bail!("--push needs a scanner token: --token-file FILE or TRUSTMAP_TOKEN");
    }
    // Read before scanning: a wrong CA file fails at once, not after the walk.
    let ca = match &args.ca_file {
        Some(f) => {
            Some(std::fs::read(f).with_context(|| format!("reading the CA file {}", f.display()))?)
        }
        None => None,
    };
    let roots = trustmap_server::push::roots_from_pem(ca.as_deref()).with_context(|| {
        format!(
            "--ca-file {}",
            args.ca_file.as_deref().unwrap_or(Path::new("")).display()
        )
    })?;
    let prepared = Scan::prepare(req)?.with_secret_digests();
    let outcome = drive(&args.input, prepared, None)?;
    let code = gate(&outcome.report.findings, args.fail_on);
    let assets = outcome.report.assets.len();
    let findings = outcome.report.findings.len();
    let payload = trustmap_server::push::Push {
        version: trustmap_server::push::PUSH_VERSION,
        roots: outcome
            .roots
            .iter()
            .map(|r| trustmap_server::push::PushRoot {
                given: r.given.clone(),
                canonical: r.canonical.clone(),
            })
            .collect(),
        finished_at: trustmap_core::rfc3339(time::OffsetDateTime::now_utc()),
        secrets: trustmap_server::push::SECRET_DIGESTS.to_string(),
        report: outcome.report,
    };
    let pushed = trustmap_server::push::send(url, &token, &payload, retry_policy(), roots)
        .with_context(|| format!("pushing to {url}"))?;
    errln!(
        "{} {} to {url} as host {}: {assets} assets, {findings} findings",
        if pushed.recorded {
            "pushed"
        } else {
            "already recorded:"
        },
        pushed.scan.id,
        pushed.scan.host
    );
    Ok(code)
}

/// Five attempts, from 1 s apart (`TRUSTMAP_PUSH_RETRY_MS` sets the first delay, for tests).
fn retry_policy() -> trustmap_server::push::Retry {
    let mut r = trustmap_server::push::Retry::default();
    if let Some(ms) = std::env::var("TRUSTMAP_PUSH_RETRY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        r.first_delay = Duration::from_millis(ms);
    }
    r
}

/// Records the scan in the store and says so on stderr (unless `--quiet`).
pub fn record(input: &ScanInput, outcome: &mut ScanOutcome, store: &Store) -> Result<()> {
    let target = input.db.shown();
    let rec = outcome
        .record(store)
        .with_context(|| format!("inventory {target}"))?;
    if !input.quiet {
        let mut msg = format!(
            "recorded {} in {target}: {} first seen",
            rec.id,
            rec.first_seen.len()
        );
        if let Some(d) = &rec.diff {
            msg.push_str(&format!(
                "; since {}: {} new, {} gone, {} rotated, {} moved",
                d.from_scan,
                d.new.len(),
                d.gone.len(),
                d.rotated.len(),
                d.moved.len()
            ));
        }
        // After the report: its reader may have closed the stream already (`2>&1 | head`),
        // and the scan is recorded either way, so a closed stderr is no failure (`eprintln!`
        // would panic).
        let _ = writeln!(std::io::stderr(), "{msg}");
    }
    Ok(())
}

/// Scans as `trustmap scan` does and records the scan unless `--no-store`: for `baseline`
/// and `pqc`.
pub fn run_and_record(input: &ScanInput) -> Result<ScanOutcome> {
    run_and_record_request(input, input.request()?)
}

/// [`run_and_record`] with a request the caller adjusted.
pub fn run_and_record_request(
    input: &ScanInput,
    req: trustmap_engine::ScanRequest,
) -> Result<ScanOutcome> {
    let (mut outcome, store) = run(input, req, false)?;
    if let Some(store) = store {
        record(input, &mut outcome, &store)?;
    }
    Ok(outcome)
}

fn progress_bar(progress: &Progress, done: &AtomicBool) {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    // Only show the bar for scans that take a while.
    let start = Instant::now();
    while !done.load(Ordering::Relaxed) {
        if start.elapsed() > Duration::from_millis(300) {
            let files = progress.files.load(Ordering::Relaxed);
            let bytes = progress.bytes.load(Ordering::Relaxed);
            let found = progress.found.load(Ordering::Relaxed);
            let total = progress.endpoints_total.load(Ordering::Relaxed);
            // Endpoints are named only in a scan that has them.
            let endpoints = match total {
                0 => String::new(),
                n => format!(
                    "{} of {n} endpoints, ",
                    progress.endpoints.load(Ordering::Relaxed)
                ),
            };
            bar.set_message(format!(
                "{files} files, {endpoints}{} scanned, {found} assets",
                summary::human_bytes(bytes)
            ));
            bar.tick();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.finish_and_clear();
}
