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

/// How many directories discovery climbs at most, the scanned one included.
pub const MAX_DISCOVERY_DEPTH: usize = 64;

/// The policy file name discovery looks for.
pub const FILE_NAME: &str = "trustmap.toml";

/// The `trustmap.toml` that applies to a scanned root when no `--policy` is given: the
/// nearest one in the root's directory (a file root: its directory) or above it, up to and
/// including the repository root (the first directory holding `.git`, as git, cargo, ruff
/// and gitleaks stop there), at most [`MAX_DISCOVERY_DEPTH`] directories. Outside a git
/// repository only the root's own directory counts, so a `trustmap.toml` dropped in `/tmp`
/// or a home directory cannot steer every scan below it.
pub fn discover(root: &Path) -> Option<PathBuf> {
    let dir = if root.is_dir() {
        root.to_path_buf()
    } else {
        root.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    let own = dir.join(FILE_NAME);
    if own.is_file() {
        return Some(own);
    }
    let dir = std::fs::canonicalize(&dir).ok()?;
    let mut found = None;
    for d in dir.ancestors().take(MAX_DISCOVERY_DEPTH) {
        let f = d.join(FILE_NAME);
        if found.is_none() && f.is_file() {
            found = Some(f);
        }
        if d.join(".git").exists() {
            return found;
        }
    }
    // No repository root within reach: nothing above the scanned directory applies.
    None
}

/// The policy file of a scan: `explicit` (`--policy`, always wins), else the one
/// [`discover`] finds for the roots, which must agree (roots governed by different policy
/// files are an error: pass `--policy`), else none (the built-in defaults).
pub fn file_for(explicit: Option<&Path>, roots: &[PathBuf]) -> Result<Option<PathBuf>, Error> {
    if let Some(p) = explicit {
        return Ok(Some(p.to_path_buf()));
    }
    let mut chosen: Option<(&PathBuf, Option<PathBuf>)> = None;
    for root in roots {
        let found = discover(root);
        let key = found.as_deref().map(identity);
        match &chosen {
            None => chosen = Some((root, found)),
            Some((first, f)) if f.as_deref().map(identity) != key => {
                return Err(Error::PolicyConflict(format!(
                    "{} is governed by {} but {} by {}: pass --policy FILE to choose one",
                    first.display(),
                    f.as_deref()
                        .map_or("the built-in policy".into(), |p| p.display().to_string()),
                    root.display(),
                    found
                        .as_deref()
                        .map_or("the built-in policy".into(), |p| p.display().to_string()),
                )));
            }
            Some(_) => {}
        }
    }
    Ok(chosen.and_then(|(_, f)| f))
}

/// A file's identity for comparisons: its canonical path when it exists.
fn identity(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// How a policy file is shown (`scan.policy`, the summary): as given with `--policy`; a
/// discovered one relative to the working directory when it is under it, else absolute.
pub fn shown(file: &Path, explicit: bool) -> String {
    let s = if explicit {
        file.to_path_buf()
    } else {
        let abs = identity(file);
        std::env::current_dir()
            .ok()
            .and_then(|cwd| abs.strip_prefix(identity(&cwd)).ok().map(Path::to_path_buf))
            .unwrap_or(abs)
    };
    s.to_string_lossy().replace('\\', "/")
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
    match file_for(explicit, roots)? {
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
