//! `trustmap rules` (the catalogue, the X.509 lints and the secret rules, or one explained)
//! and `trustmap init` (a commented policy file).

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use trustmap_core::policy;
use trustmap_discover::lint::LINTS;
use trustmap_discover::secrets::{RuleSet, SecretRule};

/// A secret rule as `rules --format json` lists it: what it finds and how a match is
/// confirmed; never its examples (sample secrets, even fake ones, stay in the rule files).
fn secret_json(r: &SecretRule) -> serde_json::Value {
    serde_json::json!({
        "id": r.id, "provider": r.provider, "description": r.description,
        "severity": r.severity, "keywords": r.keywords_as_written(), "pattern": r.regex(),
        "entropy": r.entropy, "generic": r.generic, "path": r.path_scope(),
        "validator": r.validator(), "source": r.source,
    })
}

/// `trustmap rules --secrets`: the secret rules.
pub fn list_secrets(json: bool) -> Result<String> {
    let set = RuleSet::builtin();
    if json {
        let v: Vec<_> = set.rules().iter().map(secret_json).collect();
        return Ok(serde_json::to_string_pretty(&serde_json::json!({ "secret_rules": v }))? + "\n");
    }
    let mut s = format!("{} secret rules\n", set.len());
    for r in set.rules() {
        s.push_str(&format!(
            "  {:<38} {:<8} {:<14} {}\n",
            r.id,
            r.severity.as_str(),
            r.provider,
            r.description
        ));
    }
    s.push_str("\nExplain one: trustmap rules show ID\n");
    Ok(s)
}

/// `trustmap rules show ID` for a secret rule: what it detects and how a match is
/// confirmed, never a sample secret.
fn explain_secret(r: &SecretRule) -> String {
    let mut s = format!(
        "{} ({})\n{}\n\nsecret rule of {}, from {}; a match is a secret asset (shown only as \
         its first characters and length) with a secret-plaintext finding\n",
        r.id,
        r.severity.as_str(),
        r.description,
        r.provider,
        r.source
    );
    s.push_str(&format!(
        "\nfound by: the keywords {} ({}), then the pattern\n  {}\n",
        r.keywords_as_written().join(", "),
        if r.exact_keywords {
            "case must match"
        } else {
            "any case"
        },
        r.regex()
    ));
    s.push_str(&format!(
        "applies to: {}\n",
        r.path_scope()
            .map_or("every text file".to_string(), |p| format!(
                "files whose path matches {p}"
            ))
    ));
    let mut checks = Vec::new();
    if let Some(e) = r.entropy {
        checks.push(format!(
            "Shannon entropy of at least {e} bits per character"
        ));
    }
    checks.push("not a placeholder (${VAR}, <token>, xxxx, changeme, example values)".into());
    if r.generic {
        checks.push(
            "a plausible value for a generic assignment; yields to a provider rule on the same bytes"
                .into(),
        );
    }
    if r.allow_lists() > 0 {
        checks.push(format!(
            "not dropped by the rule's {} allow-list(s)",
            r.allow_lists()
        ));
    }
    if let Some(v) = r.validator() {
        checks.push(format!("validated offline: {v}"));
    }
    s.push_str(&format!("confirmed by: {}\n", checks.join("; ")));
    s.push_str("not checked with the provider: trustmap never sends a secret anywhere\n");
    s
}

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
        let secrets: Vec<_> = RuleSet::builtin().rules().iter().map(secret_json).collect();
        let v = serde_json::json!({
            "rules": policy::RULES, "x509_lints": lints, "secret_rules": secrets,
        });
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
    s.push_str(&format!(
        "\n{} secret rules: trustmap rules --secrets\n",
        RuleSet::builtin().len()
    ));
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
    let secrets = RuleSet::builtin();
    if let Some(r) = secrets.rule(id) {
        return Ok(explain_secret(r));
    }
    let near: Vec<&str> = policy::RULES
        .iter()
        .map(|r| r.id.as_str())
        .chain(LINTS.iter().map(|l| l.id))
        .chain(secrets.rules().iter().map(|r| r.id.as_str()))
        .filter(|r| r.contains(id) || id.contains(*r))
        .collect();
    if near.is_empty() {
        bail!("no rule {id:?}; `trustmap rules` and `trustmap rules --secrets` list them")
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
