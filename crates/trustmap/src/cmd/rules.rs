//! `trustmap rules` (the catalogue and the X.509 lints, or one explained) and `trustmap init`
//! (a commented policy file).

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use trustmap_core::policy;
use trustmap_discover::lint::LINTS;

/// `trustmap rules`: the catalogue and the X.509 lints.
pub fn list(json: bool) -> Result<String> {
    if json {
        let lints: Vec<_> = LINTS
            .iter()
            .map(|l| {
                serde_json::json!({
                    "id": l.id, "severity": l.severity, "description": l.description,
                    "citation": l.citation,
                })
            })
            .collect();
        let v = serde_json::json!({ "rules": policy::RULES, "x509_lints": lints });
        return Ok(serde_json::to_string_pretty(&v)? + "\n");
    }
    let mut s = format!("{} rules\n", policy::RULES.len());
    for r in policy::RULES {
        s.push_str(&format!(
            "  {:<26} {:<8} {}\n",
            r.id,
            r.severity.as_str(),
            r.description
        ));
    }
    s.push_str(&format!("\n{} X.509 lints\n", LINTS.len()));
    for l in LINTS {
        s.push_str(&format!(
            "  {:<38} {:<8} {}\n",
            l.id,
            l.severity.as_str(),
            l.description
        ));
    }
    s.push_str("\nExplain one: trustmap rules show ID\n");
    Ok(s)
}

/// `trustmap rules show ID`.
pub fn show(id: &str) -> Result<String> {
    if let Some(r) = policy::rule(id) {
        return Ok(r.explain());
    }
    if let Some(l) = LINTS.iter().find(|l| l.id == id) {
        return Ok(format!(
            "{} ({})\n{}\n\ncitation: {}\n",
            l.id,
            l.severity.as_str(),
            l.description,
            l.citation
        ));
    }
    let near: Vec<&str> = policy::RULES
        .iter()
        .map(|r| r.id.as_str())
        .chain(LINTS.iter().map(|l| l.id))
        .filter(|r| r.contains(id) || id.contains(*r))
        .collect();
    if near.is_empty() {
        bail!("no rule {id:?}; `trustmap rules` lists them")
    }
    bail!("no rule {id:?}; did you mean {}?", near.join(", "))
}

/// `trustmap init [DIR]`: writes the commented default `trustmap.toml`.
pub fn init(dir: &Path, force: bool) -> Result<PathBuf> {
    let path = dir.join("trustmap.toml");
    if path.exists() && !force {
        bail!("{} exists; --force to overwrite", path.display());
    }
    std::fs::write(&path, policy::default_policy_toml())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
