//! Policy glue for the CLI: which policy file applies, the inputs the engine needs from
//! outside the inventory (trust stores, X.509 lint severities), and the `rules` and `init`
//! commands.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use trustmap_core::fingerprint;
use trustmap_core::policy::{self, Inputs, Policy};
use trustmap_discover::lint::LINTS;

/// Where the system's trusted roots live (Debian/Ubuntu, Fedora/RHEL, Alpine, macOS exports).
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

/// The policy for a scan: `--policy FILE`, else `trustmap.toml` in the (single) scanned root,
/// else the built-in defaults. Returns the policy and the file it came from.
pub fn load(explicit: Option<&Path>, roots: &[PathBuf]) -> Result<(Policy, Option<PathBuf>)> {
    let file = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => match roots {
            [root] if root.is_dir() && root.join("trustmap.toml").is_file() => {
                Some(root.join("trustmap.toml"))
            }
            _ => None,
        },
    };
    let Some(file) = file else {
        return Ok((Policy::default(), None));
    };
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("reading policy file {}", file.display()))?;
    let lint_ids: Vec<&str> = LINTS.iter().map(|l| l.id).collect();
    let policy = Policy::from_toml_with(&text, &file.display().to_string(), &lint_ids)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((policy, Some(file)))
}

/// Engine inputs: X.509 lint severities, the system trust store, and the policy's bundles
/// (relative to the policy file).
pub fn inputs(policy: &Policy, policy_file: Option<&Path>) -> Result<Inputs> {
    let mut inputs = Inputs::default();
    for l in LINTS {
        inputs.lint_severities.insert(l.id.to_string(), l.severity);
        inputs
            .lint_descriptions
            .insert(l.id.to_string(), l.description.to_string());
    }
    if let Some(bundle) = SYSTEM_BUNDLES.iter().map(Path::new).find(|p| p.is_file()) {
        // Unreadable or odd system bundles are not the user's error: skip what fails.
        if let Ok(data) = std::fs::read(bundle) {
            add_roots(&data, &mut inputs, true);
        }
    }
    let base = policy_file
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    for b in &policy.trusted_bundles {
        let path = base.join(b);
        let data = std::fs::read(&path).with_context(|| {
            format!(
                "reading trusted bundle {} named by the policy",
                path.display()
            )
        })?;
        if add_roots(&data, &mut inputs, false) == 0 {
            bail!("trusted bundle {} holds no certificate", path.display());
        }
    }
    Ok(inputs)
}

/// Adds every certificate of a PEM bundle as a trust anchor; returns how many.
fn add_roots(data: &[u8], inputs: &mut Inputs, public: bool) -> usize {
    let mut n = 0;
    for block in trustmap_discover::pem::blocks(data).flatten() {
        if !block.label.contains("CERTIFICATE") {
            continue;
        }
        let Ok(info) = trustmap_discover::x509::parse_certificate(&block.der) else {
            continue;
        };
        let fp = fingerprint(&block.der);
        inputs.trusted_roots.insert(fp.clone());
        if public {
            inputs.public_roots.insert(fp);
        }
        inputs.anchor_names.insert(info.subject.clone(), public);
        if let Some(ski) = info.ski {
            inputs.anchor_names.insert(ski, public);
        }
        n += 1;
    }
    n
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
