//! Which policy applies to a scan, and the inputs the policy engine needs from outside the
//! inventory: trust roots (the system bundle and the policy's bundles) and the X.509 lints'
//! severities and descriptions.

use crate::Error;
use std::path::{Path, PathBuf};
use trustmap_core::fingerprint;
use trustmap_core::policy::{Inputs, Policy};
use trustmap_discover::lint::LINTS;

/// Where the system's trusted roots live (Debian/Ubuntu, Fedora/RHEL, Alpine, macOS exports).
pub const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

/// The policy file of a scan: `explicit`, else `trustmap.toml` in the (single) scanned
/// directory, else none (the built-in defaults).
pub fn file_for(explicit: Option<&Path>, roots: &[PathBuf]) -> Option<PathBuf> {
    match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => match roots {
            [root] if root.is_dir() && root.join("trustmap.toml").is_file() => {
                Some(root.join("trustmap.toml"))
            }
            _ => None,
        },
    }
}

/// Reads and validates a policy file; X.509 lint ids are valid rule ids in it.
pub fn read(file: &Path) -> Result<Policy, Error> {
    let text = std::fs::read_to_string(file).map_err(|e| Error::read("policy file", file, e))?;
    let lint_ids: Vec<&str> = LINTS.iter().map(|l| l.id).collect();
    Ok(Policy::from_toml_with(
        &text,
        &file.display().to_string(),
        &lint_ids,
    )?)
}

/// The policy for a scan and the file it came from (see [`file_for`]).
pub fn load(
    explicit: Option<&Path>,
    roots: &[PathBuf],
) -> Result<(Policy, Option<PathBuf>), Error> {
    match file_for(explicit, roots) {
        None => Ok((Policy::default(), None)),
        Some(file) => Ok((read(&file)?, Some(file))),
    }
}

/// Policy engine inputs: X.509 lint severities, the system trust store, and the policy's
/// bundles (relative to the policy file). Key age (`first_seen`) comes from the store later.
pub fn inputs(policy: &Policy, policy_file: Option<&Path>) -> Result<Inputs, Error> {
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
        let data = std::fs::read(&path).map_err(|source| Error::Bundle {
            path: path.clone(),
            source,
        })?;
        if add_roots(&data, &mut inputs, false) == 0 {
            return Err(Error::EmptyBundle(path));
        }
    }
    Ok(inputs)
}

/// Adds every certificate of a PEM bundle as a trust anchor; returns how many.
pub fn add_roots(data: &[u8], inputs: &mut Inputs, public: bool) -> usize {
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
