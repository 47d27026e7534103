//! Baselines for CI gates: a baseline file records the findings of a day, and a scan with
//! the baseline marks the findings found in it as baselined, so a gate counts only new ones.
//!
//! A finding's key is rule + asset id + path: the asset id is derived from the material, so
//! it survives scans and machines; the line is left out because it drifts with edits.

use crate::error::{Error, Invalid};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use trustmap_core::{Finding, Severity};

/// Version of the baseline file format.
const VERSION: u64 = 1;

/// Default baseline file name.
pub const DEFAULT_FILE: &str = "trustmap-baseline.json";

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

/// The baseline file of these findings.
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

/// A loaded baseline: the set of finding keys.
pub struct Baseline {
    keys: BTreeSet<String>,
}

impl Baseline {
    /// Reads a baseline file; a missing, unreadable or malformed file is an error naming it.
    pub fn load(path: &Path) -> Result<Baseline, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::read("baseline", path, e))?;
        Baseline::parse(&text).map_err(|reason| Error::Baseline {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Parses baseline text.
    pub fn parse(text: &str) -> Result<Baseline, Invalid> {
        let bad = |s: String| Invalid(s);
        let doc: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        match doc.get("trustmap_baseline").and_then(Value::as_u64) {
            Some(VERSION) => {}
            Some(v) => {
                return Err(bad(format!(
                    "format version {v} is not supported (this trustmap reads {VERSION})"
                )));
            }
            None => return Err(bad("no \"trustmap_baseline\" version field".into())),
        }
        let entries = doc
            .get("findings")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("no \"findings\" array".into()))?;
        let mut keys = BTreeSet::new();
        for (i, e) in entries.iter().enumerate() {
            let k = e
                .get("key")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(format!("findings[{i}]: no \"key\" string")))?;
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
