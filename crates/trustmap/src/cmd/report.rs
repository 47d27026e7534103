//! `trustmap report`, `trustmap findings` and `trustmap metrics`: the inventory's recorded
//! scans in every output format, without a rescan. A report is one scan (`--as-of SCAN`), or
//! the latest scan of each host and roots finished by an instant (`--as-of DATE`, default
//! now), merged.

use crate::args::parse_severity;
use crate::cmd::scan::{Format, gate, render};
use crate::db::DbArg;
use crate::table::{csv_field, out, table, terminal_safe};
use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use std::collections::HashSet;
use std::path::PathBuf;
use trustmap_core::{Finding, Severity, Timestamp};
use trustmap_store::{ScanSelection, Store, StoredReport, owner_matches};

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
        let mut sel = ScanSelection {
            host: self.host.clone(),
            ..Default::default()
        };
        match self.as_of.as_deref().map(str::trim) {
            None => {}
            Some(s) => match as_of_instant(s) {
                Some(t) => sel.as_of = Some(t),
                None if looks_like_a_date(s) => {
                    bail!("--as-of {s:?}: not a valid date (use 2026-11-30 or RFC 3339)")
                }
                None => {
                    if self.host.is_some() {
                        bail!(
                            "--host selects among the latest scans; with --as-of SCAN give only the scan"
                        );
                    }
                    sel.scan = Some(s.to_string());
                }
            },
        }
        Ok(sel)
    }

    /// The store and the report of the selected scans.
    pub fn load(&self) -> Result<(Store, StoredReport)> {
        let sel = self.selection()?;
        let store = self.db.open()?;
        let r = store.stored_report(&sel)?;
        Ok((store, r))
    }
}

/// `2026-11-30` (the end of that day, UTC) or an RFC 3339 instant.
fn as_of_instant(s: &str) -> Option<Timestamp> {
    if let Some(t) = Timestamp::parse(s) {
        return Some(t);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(s, &fmt).ok()?;
    Some(Timestamp::new(day.with_hms(23, 59, 59).ok()?.assume_utc()))
}

/// Starts like a date (so a typo is an error, not a scan id that does not exist).
fn looks_like_a_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

#[derive(clap::Args)]
pub struct ReportArgs {
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

/// `trustmap report`: a stored report in any format. It is judged as of its scan: the
/// findings are those the scan raised, and expiry is shown from the scan's start.
pub fn report(a: ReportArgs) -> Result<i32> {
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

/// One listed finding with its asset's owners (as the report has them).
struct Listed<'a> {
    finding: &'a Finding,
    owners: Vec<&'a str>,
}

/// `trustmap findings`.
pub fn findings(a: FindingsArgs) -> Result<i32> {
    let glob = a
        .path
        .as_deref()
        .map(|g| {
            globset::GlobBuilder::new(g)
                .literal_separator(false)
                .build()
                .map(|g| g.compile_matcher())
                .with_context(|| format!("--path {g:?}"))
        })
        .transpose()?;
    let baseline = a
        .baseline
        .as_deref()
        .map(trustmap_engine::baseline::Baseline::load)
        .transpose()?;
    let (store, stored) = a.from.load()?;
    let before: Option<HashSet<String>> = match &a.new_since {
        Some(id) => {
            let earlier = store.stored_report(&ScanSelection {
                scan: Some(id.clone()),
                ..Default::default()
            })?;
            Some(
                earlier
                    .report
                    .findings
                    .iter()
                    .map(trustmap_engine::baseline::key)
                    .collect(),
            )
        }
        None => None,
    };
    let report = &stored.report;
    // A rule is a built-in one (policy rule or X.509 lint) or one the report has findings of
    // (a custom Rego rule).
    for r in &a.rule {
        if !trustmap_engine::waivers::known_rule(r) && !report.findings.iter().any(|f| &f.rule == r)
        {
            let near = trustmap_engine::waivers::near(r, trustmap_engine::waivers::builtin_ids());
            if near.is_empty() {
                bail!("unknown rule {r:?} (see `trustmap rules`)");
            }
            bail!("unknown rule {r:?}; did you mean {}?", near.join(" or "));
        }
    }
    let owner_map: std::collections::HashMap<&str, Vec<&str>> = report
        .assets
        .iter()
        .map(|x| {
            (
                x.id.as_str(),
                x.owners
                    .iter()
                    .filter(|o| o.role == "owner")
                    .map(|o| o.name.as_str())
                    .collect(),
            )
        })
        .collect();
    let mut findings: Vec<Finding> = report.findings.clone();
    if let Some(b) = &baseline {
        b.mark(&mut findings);
    }
    let owners_of =
        |f: &Finding| -> Vec<&str> { owner_map.get(f.asset.as_str()).cloned().unwrap_or_default() };
    let listed: Vec<Listed> = findings
        .iter()
        .filter(|f| a.severity.is_none_or(|s| f.severity >= s))
        .filter(|f| a.rule.is_empty() || a.rule.contains(&f.rule))
        .filter(|f| {
            glob.as_ref()
                .is_none_or(|g| f.path.as_deref().is_some_and(|p| g.is_match(p)))
        })
        .filter(|f| match a.waived {
            None => true,
            Some(Waived::Yes) => f.waiver.is_some(),
            Some(Waived::No) => f.waiver.is_none(),
        })
        .filter(|f| baseline.is_none() || !f.baselined)
        .filter(|f| {
            before
                .as_ref()
                .is_none_or(|b| !b.contains(&trustmap_engine::baseline::key(f)))
        })
        .map(|f| Listed {
            finding: f,
            owners: owners_of(f),
        })
        .filter(|l| match (&a.owner, a.unowned) {
            (Some(team), _) => l.owners.iter().any(|o| owner_matches(team, o)),
            (None, true) => l.owners.is_empty(),
            (None, false) => true,
        })
        .collect();
    match a.format {
        FindingsFormat::Json => {
            // The JSON contract's finding, plus the asset's owners.
            let mut v = Vec::with_capacity(listed.len());
            for l in &listed {
                let mut f = serde_json::to_value(l.finding)?;
                f["owners"] = serde_json::json!(l.owners);
                v.push(f);
            }
            out(&(serde_json::to_string_pretty(&v)? + "\n"))?
        }
        FindingsFormat::Csv => {
            let mut s = String::from(
                "severity,rule,asset,path,line,owners,status,message,waived_by,waiver_reason,waiver_until,frameworks\n",
            );
            for l in &listed {
                let f = l.finding;
                let cells = [
                    f.severity.as_str().to_string(),
                    f.rule.clone(),
                    f.asset.clone(),
                    f.path.clone().unwrap_or_default(),
                    f.line.map(|n| n.to_string()).unwrap_or_default(),
                    l.owners.join(";"),
                    status(f).to_string(),
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
                    let f = l.finding;
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
                        status(f).to_string(),
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
    let shown: Vec<Finding> = listed.iter().map(|l| l.finding.clone()).collect();
    Ok(gate(&shown, a.fail_on))
}

fn status(f: &Finding) -> &'static str {
    if f.waiver.is_some() {
        "waived"
    } else if f.baselined {
        "baselined"
    } else {
        "open"
    }
}
