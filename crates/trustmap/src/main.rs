//! `trustmap`: the command line. Glue only: parse arguments, show progress, call
//! `trustmap-engine` (the scan pipeline) and `trustmap-store` (the inventory's queries),
//! print, and map the outcome to an exit code.
//!
//! Exit codes: 0 clean, 1 findings at or above `--fail-on`, 2 error.

#![forbid(unsafe_code)]

// First: its `errln!` and `outln!` are used by the modules after it.
#[macro_use]
mod table;
mod args;
mod cmd;
mod db;
mod summary;

use clap::{Parser, Subcommand, ValueEnum};
use cmd::*;
use std::path::PathBuf;

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
    Scan(scan::ScanArgs),
    /// List recorded scans.
    Scans(scans::ScansArgs),
    /// What changed between two scans: new, gone, moved and rotated assets.
    Diff(diff::DiffArgs),
    /// Query the inventory; filters combine.
    Assets(assets::AssetsArgs),
    /// Everything known about one asset.
    Show(show::ShowArgs),
    /// Everything that breaks if an asset fails (expires, is revoked or compromised): the
    /// certificates it issued, keystores holding it, consumers loading it, endpoints serving
    /// it, transitively, with the owners to notify.
    Impact(impact::ImpactArgs),
    /// List the findings of the recorded scans; filters combine. Exit codes as `scan`.
    Findings(report::FindingsArgs),
    /// A recorded scan (or the inventory as of a date) in any output format, without a rescan.
    Report(report::ReportArgs),
    /// Prometheus metrics of the inventory: certificate expiry (x509-certificate-exporter's
    /// names and labels), findings, assets, scan health.
    Metrics(report::MetricsArgs),
    /// Explicit owners.
    #[command(subcommand)]
    Owner(owner::OwnerCommand),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
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
    Baseline(baseline::BaselineArgs),
    /// Post-quantum readiness: what is quantum-vulnerable, by kind and owner, and what to
    /// migrate first.
    Pqc(pqc::PqcArgs),
    /// Serve the HTTP API (/api/v1) over the inventory: scans, assets, findings, owners,
    /// waivers, audit, reports, metrics, and pushes from remote scanners.
    Serve(serve::ServeArgs),
    /// API tokens for `serve`: create (printed once), list, revoke.
    #[command(subcommand)]
    Token(serve::TokenCommand),
}

#[derive(clap::Args)]
struct RulesArgs {
    #[command(subcommand)]
    command: Option<RulesCommand>,
    /// Output format of the list.
    #[arg(long, short, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
    /// List the secret detection rules instead (`rules show ID` explains one).
    #[arg(long)]
    secrets: bool,
}

#[derive(Subcommand)]
enum RulesCommand {
    /// What a rule checks, why, which frameworks it maps to, and its examples; for a secret
    /// rule, what it detects and how a match is confirmed.
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

fn main() {
    // This binary is also the sandboxed evaluator of Rego files (trustmap_engine::rego).
    let mut args = std::env::args_os().skip(1);
    if args
        .next()
        .is_some_and(|a| a == trustmap_engine::rego::CHILD_ARG)
    {
        let file = std::path::PathBuf::from(args.next().unwrap_or_default());
        std::process::exit(trustmap_engine::rego::child_main(&file));
    }
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => {
            errln!("trustmap: error: {e:#}");
            2
        }
    };
    std::process::exit(code);
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Scan(a) => scan::scan(a),
        Command::Scans(a) => scans::scans(a),
        Command::Diff(a) => diff::diff(a),
        Command::Assets(a) => assets::assets(a),
        Command::Show(a) => show::show(a),
        Command::Findings(a) => report::findings(a),
        Command::Impact(a) => impact::impact(a),
        Command::Report(a) => report::report(a),
        Command::Metrics(a) => report::metrics(a),
        Command::Owner(c) => owner::owner(c),
        Command::Audit(c) => audit::audit(c),
        Command::Rules(a) => {
            let text = match a.command {
                Some(RulesCommand::Show { id }) => rules::show(&id)?,
                None if a.secrets => rules::list_secrets(a.format == ListFormat::Json)?,
                None => rules::list(a.format == ListFormat::Json)?,
            };
            table::out(&text)?;
            Ok(0)
        }
        Command::Init(a) => {
            let path = rules::init(&a.dir, a.force)?;
            outln!("wrote {}", path.display())?;
            Ok(0)
        }
        Command::Waive(a) => waivers::waive(a),
        Command::Waivers(a) => waivers::list(a),
        Command::Baseline(a) => baseline::baseline(a),
        Command::Pqc(a) => pqc::pqc(a),
        Command::Serve(a) => serve::serve(a),
        Command::Token(c) => serve::token(c),
    }
}
