//! `trustmap report`, `trustmap findings` and `trustmap metrics`: the inventory's recorded
//! scans in every output format, without a rescan. A report is one scan (`--as-of SCAN`), or
//! the latest scan of each host and roots finished by an instant (`--as-of DATE`, default
//! now), merged.

use crate::args::parse_severity;
use crate::cmd::scan::{Format, gate, render};
use crate::db::DbArg;
use crate::table::{csv_field, out, table, terminal_safe};
use anyhow::{Context, Result};
use clap::ValueEnum;
use std::path::PathBuf;
use trustmap_core::{Finding, Severity};
use trustmap_store::{ScanSelection, Store, StoredReport};

/// Which recorded scans to read.
#[derive(clap::Args)]
pub struct FromStore {
    #[command(flatten)]
    pub db: DbArg,
    /// A scan id (`trustmap scans`), or an instant: 2026-11-30 (the end of that day, UTC)
    /// or RFC 3339. With an instant, the latest scan of each host and roots finished by then,
    /// merged. Default: the latest scans.
    #[arg(long, value_name = "SCAN|DATE")]
    pub as_of: Option<String>,
    /// Only scans recorded by this host.
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
}

impl FromStore {
    fn selection(&self) -> Result<ScanSelection> {
        Ok(trustmap_engine::query::selection(
            self.as_of.as_deref(),
            self.host.as_deref(),
            "--as-of",
        )?)
    }

    /// The store and the report of the selected scans.
    pub fn load(&self) -> Result<(Store, StoredReport)> {
        let sel = self.selection()?;
        let store = self.db.open()?;
        let r = store.stored_report(&sel)?;
        Ok((store, r))
    }
}

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReportArgs {
    #[command(subcommand)]
    command: Option<ReportCommand>,
    #[command(flatten)]
    from: FromStore,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Summary)]
    format: Format,
    /// Summary: list every finding and error, with no cap.
    #[arg(long)]
    all: bool,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit 1 when an unwaived, unbaselined finding at or above this severity is in the report.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    fail_on: Option<Severity>,
}

#[derive(clap::Subcommand)]
pub enum ReportCommand {
    /// Audit evidence for a framework's controls: per control, the inventory and findings
    /// that bear on it, as of a scan, with the scan's time and the audit log's head.
    Evidence(EvidenceArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvidenceFormat {
    /// One static page (no script) to hand over or print.
    Html,
    Json,
}

#[derive(clap::Args)]
pub struct EvidenceArgs {
    #[command(flatten)]
    from: FromStore,
    /// pci-dss-4.0, nist-csf-2.0 or owasp-nhi.
    #[arg(long, value_name = "FRAMEWORK")]
    framework: trustmap_export::evidence::Framework,
    #[arg(long, short, value_enum, default_value_t = EvidenceFormat::Html)]
    format: EvidenceFormat,
    /// Write the evidence to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// `trustmap report evidence`: the audit log is verified first, and its head and verdict
/// are part of the evidence (a broken chain is said, not hidden: the evidence is still
/// written, exit 1).
fn evidence(a: EvidenceArgs) -> Result<i32> {
    let (store, stored) = a.from.load()?;
    let verdict = store.verify_audit()?;
    let head = verdict
        .head
        .as_ref()
        .map(|h| format!("{}:{h}", verdict.events));
    let ctx = trustmap_export::evidence::EvidenceContext {
        now: trustmap_engine::Clock::start(None).now,
        version: env!("CARGO_PKG_VERSION"),
        audit_head: head.as_deref(),
        audit_intact: Some(verdict.intact()),
    };
    let text = match a.format {
        EvidenceFormat::Html => {
            trustmap_export::evidence::evidence_html(&stored.report, a.framework, &ctx)
        }
        EvidenceFormat::Json => {
            trustmap_export::evidence::evidence_json(&stored.report, a.framework, &ctx)
        }
    };
    match &a.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => out(&text)?,
    }
    if !verdict.intact() {
        errln!(
            "trustmap: the audit log does not verify (`trustmap audit verify` says why); the evidence says so"
        );
        return Ok(1);
    }
    Ok(0)
}

/// `trustmap report`: a stored report in any format. It is judged as of its scan: the
/// findings are those the scan raised, and expiry is shown from the scan's start.
pub fn report(a: ReportArgs) -> Result<i32> {
    if let Some(ReportCommand::Evidence(e)) = a.command {
        return evidence(e);
    }
    let (_store, stored) = a.from.load()?;
    let r = &stored.report;
    let text = render(
        r,
        a.format,
        r.scan.started_at.get(),
        stored.baselined > 0,
        a.all,
    )?;
    match &a.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => out(&text)?,
    }
    Ok(gate(&r.findings, a.fail_on))
}

#[derive(clap::Args)]
pub struct MetricsArgs {
    #[command(flatten)]
    from: FromStore,
    /// Write the metrics to FILE instead of stdout (for node_exporter's textfile collector:
    /// write to a temporary name and rename).
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// `trustmap metrics`: the inventory's certificates and findings as Prometheus metrics
/// (x509-certificate-exporter's names and labels, and trustmap's own), with expiry counted
/// from now.
pub fn metrics(a: MetricsArgs) -> Result<i32> {
    let (_store, stored) = a.from.load()?;
    let text = trustmap_export::export(
        &stored.report,
        trustmap_export::Format::Prometheus,
        &trustmap_export::Context {
            now: trustmap_engine::Clock::start(None).now,
            version: env!("CARGO_PKG_VERSION").to_string(),
        },
    );
    match &a.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => out(&text)?,
    }
    Ok(0)
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FindingsFormat {
    Table,
    Json,
    Csv,
}

/// Waived or not.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Waived {
    /// Only findings with a waiver in force when the scan ran.
    Yes,
    /// Only findings without one.
    No,
}

#[derive(clap::Args)]
pub struct FindingsArgs {
    #[command(flatten)]
    from: FromStore,
    /// At or above this severity: info, low, medium, high, critical.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    severity: Option<Severity>,
    /// Only these rules (repeatable).
    #[arg(long, value_name = "RULE")]
    rule: Vec<String>,
    /// Of assets owned by this team (`edge` also matches `@org/edge`).
    #[arg(long, value_name = "TEAM")]
    owner: Option<String>,
    /// Of assets with no owner.
    #[arg(long, conflicts_with = "owner")]
    unowned: bool,
    /// At a path matching this glob (`*` matches across `/`).
    #[arg(long, value_name = "GLOB")]
    path: Option<String>,
    /// Only findings that this scan did not raise (same rule, asset and path).
    #[arg(long, value_name = "SCAN")]
    new_since: Option<String>,
    /// Only findings not in this baseline file (`trustmap baseline`).
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Only waived findings (yes) or only unwaived ones (no).
    #[arg(long, value_enum, value_name = "yes|no")]
    waived: Option<Waived>,
    #[arg(long, short, value_enum, default_value_t = FindingsFormat::Table)]
    format: FindingsFormat,
    /// Exit 1 when a listed finding at or above this severity is neither waived nor baselined.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    fail_on: Option<Severity>,
}

/// `trustmap findings`.
pub fn findings(a: FindingsArgs) -> Result<i32> {
    if let Some(g) = &a.path {
        // A bad glob fails before the store is opened.
        globset::GlobBuilder::new(g)
            .literal_separator(false)
            .build()
            .with_context(|| format!("--path {g:?}"))?;
    }
    let baseline = a
        .baseline
        .as_deref()
        .map(trustmap_engine::baseline::Baseline::load)
        .transpose()?;
    let (store, stored) = a.from.load()?;
    let filter = trustmap_engine::query::FindingFilter {
        severity: a.severity,
        rules: a.rule.clone(),
        owner: a.owner.clone(),
        unowned: a.unowned,
        path: a.path.clone(),
        new_since: a.new_since.clone(),
        baseline,
        waived: a.waived.map(|w| match w {
            Waived::Yes => trustmap_engine::query::Waived::Yes,
            Waived::No => trustmap_engine::query::Waived::No,
        }),
    };
    let listed = trustmap_engine::query::select_findings(&store, &stored, &filter)?;
    let report = &stored.report;
    match a.format {
        FindingsFormat::Json => {
            // The JSON contract's finding, plus the asset's owners.
            let v: Vec<serde_json::Value> = listed.iter().map(|l| l.to_json()).collect();
            out(&(serde_json::to_string_pretty(&v)? + "\n"))?
        }
        FindingsFormat::Csv => {
            let mut s = String::from(
                "severity,rule,asset,path,line,owners,status,message,waived_by,waiver_reason,waiver_until,frameworks\n",
            );
            for l in &listed {
                let f = &l.finding;
                let cells = [
                    f.severity.as_str().to_string(),
                    f.rule.clone(),
                    f.asset.clone(),
                    f.path.clone().unwrap_or_default(),
                    f.line.map(|n| n.to_string()).unwrap_or_default(),
                    l.owners.join(";"),
                    f.status().to_string(),
                    f.message.clone(),
                    f.waiver.as_ref().map(|w| w.by.clone()).unwrap_or_default(),
                    f.waiver
                        .as_ref()
                        .map(|w| w.reason.clone())
                        .unwrap_or_default(),
                    f.waiver
                        .as_ref()
                        .map(|w| w.until.to_string())
                        .unwrap_or_default(),
                    f.frameworks.join(";"),
                ];
                s.push_str(
                    &cells
                        .iter()
                        .map(|c| csv_field(c))
                        .collect::<Vec<_>>()
                        .join(","),
                );
                s.push('\n');
            }
            out(&s)?;
        }
        FindingsFormat::Table => {
            let rows: Vec<Vec<String>> = listed
                .iter()
                .map(|l| {
                    let f = &l.finding;
                    let place = match (&f.path, f.line) {
                        (Some(p), Some(n)) => format!("{p}:{n}"),
                        (Some(p), None) => p.clone(),
                        _ => "-".into(),
                    };
                    vec![
                        f.severity.as_str().to_string(),
                        f.rule.clone(),
                        f.asset.clone(),
                        terminal_safe(&place).into_owned(),
                        if l.owners.is_empty() {
                            "unowned".into()
                        } else {
                            terminal_safe(&l.owners.join(", ")).into_owned()
                        },
                        f.status().to_string(),
                        terminal_safe(&f.message).into_owned(),
                    ]
                })
                .collect();
            let mut s = table(
                &[
                    "SEVERITY", "RULE", "ASSET", "PLACE", "OWNER", "STATUS", "MESSAGE",
                ],
                &rows,
            );
            let scans: Vec<&str> = stored.scans.iter().map(|x| x.id.as_str()).collect();
            s.push_str(&format!(
                "{} of {} findings, from {} ({})\n",
                listed.len(),
                report.findings.len(),
                if scans.len() == 1 { "scan" } else { "scans" },
                scans.join(", ")
            ));
            out(&s)?;
        }
    }
    let shown: Vec<Finding> = listed.into_iter().map(|l| l.finding).collect();
    Ok(gate(&shown, a.fail_on))
}
