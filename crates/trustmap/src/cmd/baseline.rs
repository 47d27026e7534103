//! `trustmap baseline`: scan, and write today's findings as a baseline file, so that
//! `trustmap scan --baseline FILE` fails only on new ones (see `trustmap_engine::baseline`).

use crate::args::ScanInput;
use anyhow::{Context, Result};
use std::path::PathBuf;
use trustmap_core::Severity;
use trustmap_engine::baseline::{DEFAULT_FILE, file};

#[derive(clap::Args)]
pub struct BaselineArgs {
    #[command(flatten)]
    pub input: ScanInput,
    /// Baseline file to write.
    #[arg(long, short, value_name = "FILE", default_value = DEFAULT_FILE)]
    pub output: PathBuf,
}

pub fn baseline(args: BaselineArgs) -> Result<i32> {
    let mut req = args.input.request()?;
    req.options.writes.push(args.output.clone());
    let report = crate::cmd::scan::run_and_record_request(&args.input, req)?.report;
    let doc = file(&report.findings);
    let text = serde_json::to_string_pretty(&doc)? + "\n";
    std::fs::write(&args.output, text)
        .with_context(|| format!("writing {}", args.output.display()))?;
    let n = doc.findings.len();
    let by_sev: Vec<String> = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ]
    .into_iter()
    .filter_map(|s| {
        let c = report.findings.iter().filter(|f| f.severity == s).count();
        (c > 0).then(|| format!("{c} {}", s.as_str()))
    })
    .collect();
    let detail = if by_sev.is_empty() {
        String::new()
    } else {
        format!(" ({})", by_sev.join(", "))
    };
    crate::outln!(
        "wrote {}: {n} findings{detail}; `trustmap scan {} --baseline {}` now fails only on new ones",
        args.output.display(),
        args.input
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" "),
        args.output.display()
    )?;
    Ok(0)
}
