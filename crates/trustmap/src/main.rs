//! `trustmap`: the command line. Thin glue: parse arguments, call the library crates, print.
//!
//! Exit codes: 0 clean, 1 findings at or above `--fail-on`, 2 error.

#![forbid(unsafe_code)]

mod gate;
mod inventory;
mod policy_cmd;
mod pqc;
mod rego;
mod summary;
mod waivers;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use trustmap_core::{Report, ScanInfo, Severity, ToolInfo, policy, rfc3339, sha256_hex};
use trustmap_discover::scan::Scanner;
use trustmap_discover::secrets::RuleSet;
use trustmap_discover::walk::{Progress, WalkOptions, walk};

/// See the `mimalloc` entry in Cargo.toml.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "trustmap",
    version,
    about = "Find, inventory and judge every certificate, key, keystore and secret"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan files and directories for certificates, keys, keystores and secrets, and record
    /// the scan in the inventory.
    Scan(ScanArgs),
    /// List recorded scans.
    Scans(inventory::ScansArgs),
    /// What changed between two scans: new, gone, moved and rotated assets.
    Diff(inventory::DiffArgs),
    /// Query the inventory; filters combine.
    Assets(inventory::AssetsArgs),
    /// Everything known about one asset.
    Show(inventory::ShowArgs),
    /// Explicit owners.
    #[command(subcommand)]
    Owner(inventory::OwnerCommand),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(inventory::AuditCommand),
    /// The rule catalogue and the X.509 lints; `rules show ID` explains one.
    Rules(RulesArgs),
    /// Write a commented trustmap.toml policy file.
    Init(InitArgs),
    /// Waive one rule on one asset until a date (recorded in the store and the audit log);
    /// `waive --revoke ID --by NAME` withdraws a waiver.
    Waive(waivers::WaiveArgs),
    /// List waivers: active, expired and revoked.
    Waivers(waivers::WaiversArgs),
    /// Record today's findings as a baseline, so `scan --baseline` fails only on new ones.
    Baseline(gate::BaselineArgs),
    /// Post-quantum readiness: what is quantum-vulnerable, by kind and owner, and what to
    /// migrate first.
    Pqc(pqc::PqcArgs),
}

#[derive(clap::Args)]
struct RulesArgs {
    #[command(subcommand)]
    command: Option<RulesCommand>,
    /// Output format of the list.
    #[arg(long, short, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
}

#[derive(Subcommand)]
enum RulesCommand {
    /// What a rule checks, why, which frameworks it maps to, and its examples.
    Show { id: String },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ListFormat {
    Table,
    Json,
}

#[derive(clap::Args)]
struct InitArgs {
    /// Directory to write trustmap.toml into.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Overwrite an existing trustmap.toml.
    #[arg(long)]
    force: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A readable summary: counts, then what needs attention first.
    Summary,
    /// The JSON contract (see docs/ARCHITECTURE.md).
    Json,
}

#[derive(clap::Args)]
struct ScanArgs {
    /// Files or directories to scan.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Summary)]
    format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Do not record this scan in the inventory store.
    #[arg(long)]
    no_store: bool,
    #[command(flatten)]
    db: inventory::DbArg,
    /// Skip files excluded by .gitignore/.ignore (default: scan everything but .git/).
    #[arg(long)]
    respect_gitignore: bool,
    /// Follow symbolic links (loops are reported, not followed forever).
    #[arg(long)]
    follow_symlinks: bool,
    /// Extra secret rules: a gitleaks-format TOML file (repeatable).
    #[arg(long, value_name = "FILE")]
    rules: Vec<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', default_value_t = 0)]
    threads: usize,
    /// Exit 1 when a finding at or above this severity exists.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    fail_on: Option<Severity>,
    /// Baseline file (`trustmap baseline`): findings in it are marked baselined and do not
    /// count for --fail-on.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Policy file (default: trustmap.toml in the scanned directory, when there is one).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Custom rules in Rego: a `.rego` file, or a directory searched for them (repeatable).
    /// Package `trustmap.custom` defines `findings`; see the README.
    #[arg(long, value_name = "FILE|DIR")]
    rego: Vec<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("unknown severity {s:?}: use info, low, medium, high or critical"))
}

fn main() {
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("trustmap: error: {e:#}");
            2
        }
    };
    std::process::exit(code);
}

fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Scan(args) => scan(args),
        Command::Scans(a) => inventory::scans(a),
        Command::Diff(a) => inventory::diff(a),
        Command::Assets(a) => inventory::assets(a),
        Command::Show(a) => inventory::show(a),
        Command::Owner(c) => inventory::owner(c),
        Command::Audit(c) => inventory::audit(c),
        Command::Rules(a) => {
            let text = match a.command {
                Some(RulesCommand::Show { id }) => policy_cmd::show(&id)?,
                None => policy_cmd::list(a.format == ListFormat::Json)?,
            };
            print!("{text}");
            Ok(0)
        }
        Command::Init(a) => {
            let path = policy_cmd::init(&a.dir, a.force)?;
            println!("wrote {}", path.display());
            Ok(0)
        }
        Command::Waive(a) => waivers::waive(a),
        Command::Waivers(a) => waivers::list(a),
        Command::Baseline(a) => gate::baseline(a),
        Command::Pqc(a) => pqc::pqc(a),
    }
}

fn scan(args: ScanArgs) -> Result<i32> {
    // Read before the walk, so a bad baseline file fails fast.
    let baseline = args
        .baseline
        .as_deref()
        .map(gate::Baseline::load)
        .transpose()?;
    let (mut report, started) = collect(&args)?;
    if let Some(b) = &baseline {
        b.mark(&mut report.findings);
    }
    // Active waivers mark findings as waived (still reported); expired ones are noted.
    let report = waivers::applied(&args.db, args.no_store, report)?;
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
        Format::Summary => summary::render(&report, started, baseline.is_some()),
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
    }
    if !args.no_store {
        inventory::record(&args.db, &report, &args.paths, args.quiet)?;
    }
    let failed = args.fail_on.is_some_and(|min| {
        report
            .findings
            .iter()
            .any(|f| f.severity >= min && f.waiver.is_none() && !f.baselined)
    });
    Ok(if failed { 1 } else { 0 })
}

/// The scan itself: walk, parse, judge against the policy. Shared by `scan`, `baseline` and
/// `pqc`; returns the report and when the scan started.
fn collect(args: &ScanArgs) -> Result<(Report, time::OffsetDateTime)> {
    for p in &args.paths {
        if !p.exists() {
            bail!("{}: no such file or directory", p.display());
        }
    }
    let mut rules = RuleSet::builtin();
    for file in &args.rules {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading rules file {}", file.display()))?;
        let extra = RuleSet::from_gitleaks_toml(&text, &file.display().to_string())?;
        rules.extend(extra);
    }
    // The policy is read before the walk, so a bad policy file fails fast.
    let (policy, policy_file) = policy_cmd::load(args.policy.as_deref(), &args.paths)?;
    let mut policy_inputs = policy_cmd::inputs(&policy, policy_file.as_deref())?;
    // Custom Rego rules are parsed before the walk too.
    let mut custom = rego::CustomRules::load(&args.rego)?;
    let scanner = Scanner::new(rules);
    let mut opts = WalkOptions::new(args.paths.clone());
    opts.respect_gitignore = args.respect_gitignore;
    opts.follow_symlinks = args.follow_symlinks;
    opts.threads = args.threads;

    let started = time::OffsetDateTime::now_utc();
    let clock = Instant::now();
    let progress = Progress::default();
    let show_bar = !args.quiet && std::io::stderr().is_terminal();
    let done = std::sync::atomic::AtomicBool::new(false);
    let out = std::thread::scope(|s| {
        let bar = show_bar.then(|| {
            let progress = &progress;
            let done = &done;
            s.spawn(move || progress_bar(progress, done))
        });
        let out = walk(&opts, &scanner, &progress);
        done.store(true, Ordering::Relaxed);
        if let Some(b) = bar {
            let _ = b.join();
        }
        out
    });
    let duration_ms = clock.elapsed().as_millis() as u64;
    if !args.no_store {
        // Key age for key-rotation-overdue comes from the inventory's history.
        let ids: Vec<String> = out.assets.iter().map(|a| a.id.clone()).collect();
        policy_inputs.first_seen = inventory::first_seen(&args.db, &ids);
    }
    let mut findings = policy::evaluate_with(
        &out.assets,
        &out.relations,
        &policy,
        started,
        &policy_inputs,
    );
    if let Some(custom) = &mut custom {
        findings.extend(custom.evaluate(&out.assets, &out.relations)?);
        rego::sort(&mut findings);
    }
    let roots: Vec<String> = args
        .paths
        .iter()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect();
    let id = format!(
        "scan_{}",
        &sha256_hex(
            format!(
                "{}{:?}{}",
                started.unix_timestamp_nanos(),
                roots,
                std::process::id()
            )
            .as_bytes()
        )[..16]
    );
    let report = Report {
        tool: ToolInfo {
            name: "trustmap".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        scan: ScanInfo {
            id,
            started_at: rfc3339(started),
            roots,
            host: inventory::hostname(),
            files_scanned: out.files_scanned,
            bytes_scanned: out.bytes_scanned,
            duration_ms,
        },
        assets: out.assets,
        relations: out.relations,
        findings,
        errors: out.errors,
    };
    Ok((report, started))
}

fn progress_bar(progress: &Progress, done: &std::sync::atomic::AtomicBool) {
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
            bar.set_message(format!(
                "{files} files, {} scanned, {found} assets",
                summary::human_bytes(bytes)
            ));
            bar.tick();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.finish_and_clear();
}
