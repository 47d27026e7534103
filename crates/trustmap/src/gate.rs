//! CI gates: `trustmap baseline` records today's findings, `trustmap scan --baseline FILE`
//! marks the findings found in it as baselined so `--fail-on` counts only new ones.
//!
//! A finding's key is rule + asset id + path: the asset id is derived from the material, so
//! it survives scans and machines; the line is left out because it drifts with edits.

use crate::inventory::DbArg;
use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use trustmap_core::{Finding, Report, Severity};

/// Version of the baseline file format.
const VERSION: u64 = 1;

/// Default baseline file name.
pub const DEFAULT_FILE: &str = "trustmap-baseline.json";

/// What to scan: the scan options that `baseline` and `pqc` share with `scan`.
#[derive(clap::Args)]
pub struct ScanInput {
    /// Files or directories to scan.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Do not record this scan in the inventory store.
    #[arg(long)]
    pub no_store: bool,
    #[command(flatten)]
    pub db: DbArg,
    /// Skip files excluded by .gitignore/.ignore (default: scan everything but .git/).
    #[arg(long)]
    pub respect_gitignore: bool,
    /// Follow symbolic links (loops are reported, not followed forever).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Extra secret rules: a gitleaks-format TOML file (repeatable).
    #[arg(long, value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', default_value_t = 0)]
    pub threads: usize,
    /// Policy file (default: trustmap.toml in the scanned directory, when there is one).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Custom rules in Rego: a `.rego` file, or a directory searched for them (repeatable).
    #[arg(long, value_name = "FILE|DIR")]
    pub rego: Vec<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

impl ScanInput {
    /// Scans the paths as `trustmap scan` does, and records the scan unless `--no-store`.
    pub fn scan(&self) -> Result<(Report, time::OffsetDateTime)> {
        let args = crate::ScanArgs {
            paths: self.paths.clone(),
            format: crate::Format::Json,
            output: None,
            no_store: self.no_store,
            db: self.db.clone(),
            respect_gitignore: self.respect_gitignore,
            follow_symlinks: self.follow_symlinks,
            rules: self.rules.clone(),
            threads: self.threads,
            fail_on: None,
            baseline: None,
            policy: self.policy.clone(),
            rego: self.rego.clone(),
            quiet: self.quiet,
        };
        let (report, started) = crate::collect(&args)?;
        if !self.no_store {
            crate::inventory::record(&self.db, &report, &self.paths, self.quiet)?;
        }
        Ok((report, started))
    }
}

#[derive(clap::Args)]
pub struct BaselineArgs {
    #[command(flatten)]
    pub input: ScanInput,
    /// Baseline file to write.
    #[arg(long, short, value_name = "FILE", default_value = DEFAULT_FILE)]
    pub output: PathBuf,
}

/// The stable key of a finding: rule, asset id and path (not the line).
pub fn key(f: &Finding) -> String {
    format!("{}:{}:{}", f.rule, f.asset, f.path.as_deref().unwrap_or(""))
}

/// The baseline file: versioned, entries sorted by key, one per key.
#[derive(Serialize)]
pub struct BaselineFile<'a> {
    pub trustmap_baseline: u64,
    pub tool: String,
    pub findings: Vec<Entry<'a>>,
}

/// One known finding; rule, severity, asset and path are for humans, `key` is what counts.
#[derive(Serialize)]
pub struct Entry<'a> {
    pub key: String,
    pub rule: &'a str,
    pub severity: Severity,
    pub asset: &'a str,
    pub path: Option<&'a str>,
}

pub fn file(findings: &[Finding]) -> BaselineFile<'_> {
    let mut entries: Vec<Entry<'_>> = findings
        .iter()
        .map(|f| Entry {
            key: key(f),
            rule: &f.rule,
            severity: f.severity,
            asset: &f.asset,
            path: f.path.as_deref(),
        })
        .collect();
    entries.sort_by(|a, b| a.key.cmp(&b.key));
    entries.dedup_by(|a, b| a.key == b.key);
    BaselineFile {
        trustmap_baseline: VERSION,
        tool: format!("trustmap {}", env!("CARGO_PKG_VERSION")),
        findings: entries,
    }
}

/// `trustmap baseline`: scan, write the findings as a baseline.
pub fn baseline(args: BaselineArgs) -> Result<i32> {
    let (report, _) = args.input.scan()?;
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
    println!(
        "wrote {}: {n} findings{detail}; `trustmap scan {} --baseline {}` now fails only on new ones",
        args.output.display(),
        args.input
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" "),
        args.output.display()
    );
    Ok(0)
}

/// A loaded baseline: the set of finding keys.
pub struct Baseline {
    keys: BTreeSet<String>,
}

impl Baseline {
    /// Reads a baseline file; a missing, unreadable or malformed file is an error naming it.
    pub fn load(path: &Path) -> Result<Baseline> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading baseline {}", path.display()))?;
        Baseline::parse(&text).with_context(|| {
            format!(
                "baseline {}: not a trustmap baseline (write one with `trustmap baseline`)",
                path.display()
            )
        })
    }

    fn parse(text: &str) -> Result<Baseline> {
        let doc: Value = serde_json::from_str(text)?;
        match doc.get("trustmap_baseline").and_then(Value::as_u64) {
            Some(VERSION) => {}
            Some(v) => bail!("format version {v} is not supported (this trustmap reads {VERSION})"),
            None => bail!("no \"trustmap_baseline\" version field"),
        }
        let entries = doc
            .get("findings")
            .and_then(Value::as_array)
            .context("no \"findings\" array")?;
        let mut keys = BTreeSet::new();
        for (i, e) in entries.iter().enumerate() {
            let k = e
                .get("key")
                .and_then(Value::as_str)
                .with_context(|| format!("findings[{i}]: no \"key\" string"))?;
            keys.insert(k.to_string());
        }
        Ok(Baseline { keys })
    }

    /// Marks the findings in the baseline; returns how many are new.
    pub fn mark(&self, findings: &mut [Finding]) -> usize {
        let mut new = 0;
        for f in findings {
            f.baselined = self.keys.contains(&key(f));
            new += usize::from(!f.baselined);
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn finding(rule: &str, asset: &str, path: &str, line: u64) -> Finding {
        serde_json::from_value(json!({
            "rule": rule, "severity": "high", "asset": asset, "path": path, "line": line,
            "message": "",
        }))
        .unwrap()
    }

    #[test]
    fn round_trip_ignores_lines_and_sorts() {
        let old = vec![
            finding("key-weak", "key_b", "b.pem", 1),
            finding("key-unprotected", "key_a", "a.pem", 1),
            finding("key-unprotected", "key_a", "a.pem", 9),
        ];
        let doc = file(&old);
        let keys: Vec<&str> = doc.findings.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            ["key-unprotected:key_a:a.pem", "key-weak:key_b:b.pem"]
        );
        let b = Baseline::parse(&serde_json::to_string(&doc).unwrap()).unwrap();
        let mut now = vec![
            finding("key-unprotected", "key_a", "a.pem", 40),
            finding("key-unprotected", "key_a", "moved/a.pem", 1),
            finding("key-unprotected", "key_c", "c.pem", 1),
        ];
        assert_eq!(b.mark(&mut now), 2);
        assert!(now[0].baselined && !now[1].baselined && !now[2].baselined);
    }

    #[test]
    fn malformed_baselines_are_errors() {
        for text in [
            "",
            "[]",
            "{}",
            r#"{"trustmap_baseline": 2, "findings": []}"#,
            r#"{"trustmap_baseline": 1}"#,
            r#"{"trustmap_baseline": 1, "findings": [{"rule": "x"}]}"#,
        ] {
            assert!(Baseline::parse(text).is_err(), "{text}");
        }
    }
}
