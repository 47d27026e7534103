//! Custom rules in Rego (`scan --rego FILE|DIR`), evaluated in-process with regorus.
//!
//! Each `.rego` file is its own policy. For every asset the input is
//! `{"asset": <asset as in the JSON contract>, "relations": [relations touching it]}` and
//! `data.trustmap.custom.findings` (a set or array of `{"id", "severity", "message"}`) becomes
//! findings on that asset.

use crate::Error;
use std::path::{Path, PathBuf};
use trustmap_core::{Asset, Finding, Relation, Severity};

type Result<T> = std::result::Result<T, Error>;

fn rego_err(msg: String) -> Error {
    Error::Rego(msg)
}

const QUERY: &str = "data.trustmap.custom.findings";

/// The loaded rule files, one engine each.
pub struct CustomRules {
    engines: Vec<(String, regorus::Engine)>,
}

/// The `.rego` files named by `--rego`: files as given, directories searched (sorted).
pub fn files(args: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in args {
        if p.is_dir() {
            let mut found = Vec::new();
            collect_dir(p, &mut found)?;
            found.sort();
            out.extend(found);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(Error::NoSuchPath(p.clone()));
        }
    }
    Ok(out)
}

fn collect_dir(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::read("Rego directory", dir, e))?;
    for e in entries {
        let path = e.map_err(|e| Error::read("Rego directory", dir, e))?.path();
        if path.is_dir() {
            collect_dir(&path, out)?;
        } else if path.extension().is_some_and(|x| x == "rego") {
            out.push(path);
        }
    }
    Ok(())
}

impl CustomRules {
    /// Read and parse every file; a file that does not parse is an error naming it (regorus
    /// reports `file:line:col`).
    pub fn load(args: &[PathBuf]) -> Result<Option<CustomRules>> {
        if args.is_empty() {
            return Ok(None);
        }
        let mut engines = Vec::new();
        for file in files(args)? {
            let name = file.display().to_string();
            let text =
                std::fs::read_to_string(&file).map_err(|e| Error::read("Rego file", &file, e))?;
            let mut engine = regorus::Engine::new();
            engine
                .add_policy(name.clone(), text)
                .map_err(|e| rego_err(format!("Rego file {name} does not parse:\n{e}")))?;
            engines.push((name, engine));
        }
        Ok(Some(CustomRules { engines }))
    }

    /// Findings from every rule file for every asset.
    pub fn evaluate(&mut self, assets: &[Asset], relations: &[Relation]) -> Result<Vec<Finding>> {
        let mut out = Vec::new();
        for a in assets {
            let touching: Vec<&Relation> = relations
                .iter()
                .filter(|r| r.from == a.id || r.to == a.id)
                .collect();
            let input = serde_json::json!({ "asset": a, "relations": touching });
            let input = regorus::Value::from_json_str(&input.to_string())
                .map_err(|e| rego_err(format!("Rego input for {}: {e}", a.id)))?;
            for (name, engine) in &mut self.engines {
                engine.set_input(input.clone());
                let value = engine
                    .eval_rule(QUERY.to_string())
                    .map_err(|e| rego_err(format!("Rego file {name}: evaluating {QUERY}: {e}")))?;
                if value == regorus::Value::Undefined {
                    continue;
                }
                let json = value
                    .to_json_str()
                    .map_err(|e| rego_err(format!("Rego file {name}: {QUERY}: {e}")))?;
                let json: serde_json::Value = serde_json::from_str(&json)
                    .map_err(|e| rego_err(format!("Rego file {name}: {QUERY}: {e}")))?;
                let items = match json {
                    serde_json::Value::Array(items) => items,
                    other => {
                        return Err(rego_err(format!(
                            "Rego file {name}: {QUERY} must be a set or array of objects, got {other}"
                        )));
                    }
                };
                for item in items {
                    out.push(finding(name, a, &item)?);
                }
            }
        }
        Ok(out)
    }
}

/// Whether `id` appears as a string literal (`"id"`) in one of the `.rego` files named by
/// `args`, after checking that every file parses; and the ids the files spell out as
/// `"id": "..."`, for a "did you mean". A rule that computes its id (e.g. with `sprintf`)
/// is not seen, so it cannot be waived.
pub fn mentions_id(args: &[PathBuf], id: &str) -> Result<(bool, Vec<String>)> {
    CustomRules::load(args)?;
    let quoted = format!("\"{id}\"");
    let mut found = false;
    let mut ids = Vec::new();
    for file in files(args)? {
        let text =
            std::fs::read_to_string(&file).map_err(|e| Error::read("Rego file", &file, e))?;
        found |= text.contains(&quoted);
        for literal in literal_ids(&text) {
            if !ids.contains(&literal) {
                ids.push(literal);
            }
        }
    }
    Ok((found, ids))
}

/// The values of `"id": "..."` pairs in Rego text.
fn literal_ids(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("\"id\"") {
        rest = &rest[i + 4..];
        let Some(after) = rest.trim_start().strip_prefix(':') else {
            continue;
        };
        let Some(value) = after.trim_start().strip_prefix('"') else {
            continue;
        };
        if let Some(end) = value.find('"') {
            out.push(value[..end].to_string());
        }
    }
    out
}

fn finding(file: &str, a: &Asset, item: &serde_json::Value) -> Result<Finding> {
    let field = |k: &str| item.get(k).and_then(|v| v.as_str());
    let id = field("id").filter(|s| !s.is_empty()).ok_or_else(|| {
        rego_err(format!(
            "Rego file {file}: a finding has no string \"id\": {item}"
        ))
    })?;
    let severity = field("severity").unwrap_or("");
    let severity = Severity::parse(severity).ok_or_else(|| {
        rego_err(format!(
            "Rego rule {id} (in {file}): invalid severity {severity:?}: use info, low, medium, \
             high or critical"
        ))
    })?;
    let message = field("message").unwrap_or(id);
    let first = a.occurrences.first();
    Ok(Finding {
        rule: id.to_string(),
        severity,
        asset: a.id.clone(),
        path: first.map(|o| o.path.clone()),
        line: first.and_then(|o| o.line),
        message: message.to_string(),
        frameworks: Vec::new(),
        evidence: Default::default(),
        waiver: None,
        baselined: false,
    })
}

/// Findings in the same order as the policy engine's (one definition, in trustmap-core).
pub fn sort(findings: &mut [Finding]) {
    trustmap_core::policy::sort_findings(findings);
}

#[cfg(test)]
mod tests {
    use super::literal_ids;

    #[test]
    fn literal_ids_are_read_from_id_pairs() {
        let text = r#"f := {"id": "org-a", "severity": "high"}
            g := {"id" :"org-b"}
            h := {"id": sprintf("x-%d", [1])}
            "ident": "no""#;
        assert_eq!(literal_ids(text), ["org-a", "org-b"]);
    }
}
