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

/// The largest policy file read (the commented default is about 8 KB).
pub const MAX_POLICY_BYTES: u64 = 1 << 20;

/// The largest trusted bundle read (Mozilla's whole root store is about 220 KB).
pub const MAX_BUNDLE_BYTES: u64 = 16 << 20;

/// Reads a regular file of at most `max` bytes. A FIFO, a device or a directory is refused
/// before it is opened (opening a FIFO would block), and a file that grows past `max` while
/// being read is refused too, so a policy cannot make trustmap hang or read without end.
pub fn read_bounded(what: &'static str, path: &Path, max: u64) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let bad = |msg: String| Error::read(what, path, std::io::Error::other(msg));
    let meta = std::fs::metadata(path).map_err(|e| Error::read(what, path, e))?;
    if !meta.is_file() {
        return Err(bad("not a regular file".into()));
    }
    if meta.len() > max {
        return Err(bad(format!("larger than {max} bytes")));
    }
    let file = std::fs::File::open(path).map_err(|e| Error::read(what, path, e))?;
    let mut data = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut data)
        .map_err(|e| Error::read(what, path, e))?;
    if data.len() as u64 > max {
        return Err(bad(format!("larger than {max} bytes")));
    }
    Ok(data)
}

/// Reads and validates a policy file; X.509 lint ids are valid rule ids in it.
pub fn read(file: &Path) -> Result<Policy, Error> {
    let data = read_bounded("policy file", file, MAX_POLICY_BYTES)?;
    let text = String::from_utf8(data)
        .map_err(|_| Error::read("policy file", file, std::io::Error::other("not UTF-8 text")))?;
    let lint_ids: Vec<&str> = LINTS.iter().map(|l| l.id).collect();
    Ok(Policy::from_toml_with(
        &text,
        &file.display().to_string(),
        &lint_ids,
    )?)
}

/// The policy a scan applies and where it came from.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub policy: Policy,
    /// The policy file; `None`: the built-in policy.
    pub file: Option<PathBuf>,
    /// Whether the person running the scan chose the file (`--policy`). A discovered file
    /// is applied tightened ([`Policy::tightened`]).
    pub explicit: bool,
    /// The settings of a discovered file that were ignored because they loosen the
    /// built-in policy (`scan.policy_ignored`).
    pub ignored: Vec<String>,
}

/// The policy for a scan (see [`file_for`]). A `--policy` file applies as written; a
/// `trustmap.toml` discovered in or above the scanned tree may tighten the built-in policy
/// but never loosen it: the scanned repository cannot lower the gate of the person running
/// the scan.
pub fn load(explicit: Option<&Path>, roots: &[PathBuf]) -> Result<Loaded, Error> {
    match file_for(explicit, roots)? {
        None => Ok(Loaded::default()),
        Some(file) => {
            let policy = read(&file)?;
            if explicit.is_some() {
                return Ok(Loaded {
                    policy,
                    file: Some(file),
                    explicit: true,
                    ignored: Vec::new(),
                });
            }
            let (policy, ignored) = policy.tightened(&Policy::default());
            Ok(Loaded {
                policy,
                file: Some(file),
                explicit: false,
                ignored,
            })
        }
    }
}

/// Policy engine inputs: X.509 lint severities, the system trust store, and the policy's
/// bundles. A bundle path is relative to the policy file and must stay inside the policy
/// file's directory or one of the scanned `roots` (after resolving `..` and symbolic
/// links); it is read with [`read_bounded`]. Key age (`first_seen`) comes from the store
/// later.
pub fn inputs(
    policy: &Policy,
    policy_file: Option<&Path>,
    roots: &[PathBuf],
) -> Result<Inputs, Error> {
    inputs_and_anchors(policy, policy_file, roots).map(|(i, _)| i)
}

/// [`inputs`], and the trust anchors' DER (system bundle, then the policy's bundles) for
/// sources that verify chains themselves (TLS endpoints).
pub fn inputs_and_anchors(
    policy: &Policy,
    policy_file: Option<&Path>,
    roots: &[PathBuf],
) -> Result<(Inputs, Vec<Vec<u8>>), Error> {
    let mut inputs = Inputs::default();
    let mut anchors = Vec::new();
    for l in LINTS {
        inputs.lint_severities.insert(l.id.to_string(), l.severity);
        inputs
            .lint_descriptions
            .insert(l.id.to_string(), l.description.to_string());
    }
    if let Some(bundle) = SYSTEM_BUNDLES.iter().map(Path::new).find(|p| p.is_file()) {
        // Unreadable or odd system bundles are not the user's error: skip what fails.
        if let Ok(data) = read_bounded("system bundle", bundle, MAX_BUNDLE_BYTES) {
            add_roots_der(&data, &mut inputs, true, &mut anchors);
        }
    }
    let base = policy_file
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut allowed: Vec<PathBuf> = roots
        .iter()
        .filter_map(|r| std::fs::canonicalize(r).ok())
        .collect();
    if let Ok(b) = std::fs::canonicalize(if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &base
    }) {
        allowed.push(b);
    }
    for b in &policy.trusted_bundles {
        let path = base.join(b);
        let real = std::fs::canonicalize(&path).map_err(|source| Error::Bundle {
            path: path.clone(),
            source,
        })?;
        if !allowed.iter().any(|dir| real.starts_with(dir)) {
            return Err(Error::Bundle {
                path: path.clone(),
                source: std::io::Error::other(
                    "outside the policy file's directory and the scanned roots; copy it there",
                ),
            });
        }
        let data =
            read_bounded("trusted bundle", &real, MAX_BUNDLE_BYTES).map_err(|e| match e {
                Error::Read { source, .. } => Error::Bundle {
                    path: path.clone(),
                    source,
                },
                other => other,
            })?;
        if add_roots_der(&data, &mut inputs, false, &mut anchors) == 0 {
            return Err(Error::EmptyBundle(path));
        }
    }
    Ok((inputs, anchors))
}

/// Adds every certificate of a PEM bundle as a trust anchor; returns how many.
pub fn add_roots(data: &[u8], inputs: &mut Inputs, public: bool) -> usize {
    add_roots_der(data, inputs, public, &mut Vec::new())
}

/// [`add_roots`], keeping each anchor's DER in `ders`.
fn add_roots_der(data: &[u8], inputs: &mut Inputs, public: bool, ders: &mut Vec<Vec<u8>>) -> usize {
    let mut n = 0;
    for block in trustmap_discover::pem::blocks(data).flatten() {
        if !block.label.contains("CERTIFICATE") {
            continue;
        }
        let Ok(info) = trustmap_discover::x509::parse_certificate(&block.der) else {
            continue;
        };
        let fp = fingerprint(&block.der);
        ders.push(block.der.to_vec());
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
