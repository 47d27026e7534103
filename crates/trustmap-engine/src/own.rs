//! trustmap's own files in a scanned tree, and what a scan does with them.
//!
//! Own files are (a) by identity, the exact files the run uses or writes: the policy file
//! (given or discovered), the `--baseline` file, the `--rego` files, the `--rules` files,
//! and what the caller says it writes (`scan --output`, the file `trustmap baseline`
//! writes); and (b) by format marker, trustmap's JSON reports (`"tool": {"name":
//! "trustmap"}` with `scan` and `findings`) and baselines (`"trustmap_baseline"`), whatever
//! their names. A name alone (`trustmap-baseline.json`) never makes a file trustmap's.
//!
//! They are still scanned like any other file: a private key, a certificate or a provider
//! token (an AWS key id, a GitHub token) in them is reported. Only the generic secret rules
//! (keyword assignments such as `password = ...`) are not applied to them, because those
//! misfire on trustmap's own vocabulary: the baseline key
//! `keystore-default-password:kst_...:path`, the policy line `keystore-default-password =
//! "critical"`. So recognising a file as trustmap's can never hide key material; at worst
//! a file shaped like a trustmap report silences the generic password rules inside it.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use trustmap_discover::Found;
use trustmap_discover::secrets::RuleSet;

/// Files larger than this are not parsed for the format marker (reports are far smaller
/// per asset; a 64 MB report describes hundreds of thousands of assets).
pub const MAX_MARKER_BYTES: u64 = 64 << 20;

/// One scanned root as the file-tree source names its places.
#[derive(Debug, Clone)]
struct Root {
    /// `Occurrence::root`: the root as given, forward slashes, no trailing slash.
    name: String,
    path: PathBuf,
    /// Prepended to paths when several roots are scanned.
    prefix: String,
    is_file: bool,
}

/// trustmap's own files among the scanned ones.
#[derive(Debug, Default)]
pub struct OwnFiles {
    /// Places (`root name`, report path) of the files the run uses or writes.
    by_identity: HashSet<(String, String)>,
    roots: Vec<Root>,
    /// Marker verdicts by place, so a file is read at most once more.
    marked: HashMap<(String, String), bool>,
    /// The generic secret rules' ids.
    generic: HashSet<String>,
}

impl OwnFiles {
    /// The own files among `roots`: `files` are the ones the run uses or writes (missing
    /// ones are skipped: the report and the baseline may not exist yet).
    pub fn new(files: &[PathBuf], roots: &[PathBuf], rules: &RuleSet) -> OwnFiles {
        let multi = roots.len() > 1;
        let roots: Vec<Root> = roots
            .iter()
            .map(|r| {
                let name = display_root(r);
                Root {
                    prefix: if multi { name.clone() } else { String::new() },
                    name,
                    path: r.clone(),
                    is_file: r.is_file(),
                }
            })
            .collect();
        let mut by_identity = HashSet::new();
        for f in files {
            let Ok(canon) = std::fs::canonicalize(f) else {
                continue;
            };
            for r in &roots {
                let Ok(root) = std::fs::canonicalize(&r.path) else {
                    continue;
                };
                let rel = if r.is_file {
                    (root == canon).then(|| canon.file_name().map(PathBuf::from))
                } else {
                    canon
                        .strip_prefix(&root)
                        .ok()
                        .map(|p| Some(p.to_path_buf()))
                };
                if let Some(Some(rel)) = rel {
                    let mut s = rel.to_string_lossy().replace('\\', "/");
                    if !r.prefix.is_empty() {
                        s = format!("{}/{s}", r.prefix);
                    }
                    by_identity.insert((r.name.clone(), s));
                }
            }
        }
        OwnFiles {
            by_identity,
            roots,
            marked: HashMap::new(),
            generic: rules
                .rules()
                .iter()
                .filter(|r| r.generic)
                .map(|r| r.id.clone())
                .collect(),
        }
    }

    /// Whether the scan keeps `found`: everything but a generic rule's secret in an own file.
    pub fn keep(&mut self, found: &Found) -> bool {
        let trustmap_discover::Detail::Secret(info) = &found.detail else {
            return true;
        };
        if !self.generic.contains(&info.rule) {
            return true;
        }
        let occ = &found.occurrence;
        let Some(root) = occ.root.clone() else {
            return true;
        };
        let place = (root, occ.path.clone());
        if self.by_identity.contains(&place) {
            return false;
        }
        if let Some(&own) = self.marked.get(&place) {
            return !own;
        }
        let own = self.fs_path(&place.0, &place.1).is_some_and(|p| marked(&p));
        self.marked.insert(place, own);
        !own
    }

    /// The file behind a place of a file-tree root.
    fn fs_path(&self, root: &str, path: &str) -> Option<PathBuf> {
        let r = self.roots.iter().find(|r| r.name == root)?;
        if r.is_file {
            return Some(r.path.clone());
        }
        let rel = if r.prefix.is_empty() {
            path
        } else {
            path.strip_prefix(&r.prefix)?.strip_prefix('/')?
        };
        Some(r.path.join(rel))
    }
}

/// Whether the file is a trustmap JSON report or baseline, by its format marker.
pub fn marked(path: &Path) -> bool {
    marked_within(path, MAX_MARKER_BYTES)
}

/// [`marked`] for files of at most `max` bytes (larger ones are not trustmap's).
pub fn marked_within(path: &Path, max: u64) -> bool {
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    if file.metadata().map_or(true, |m| m.len() > max) {
        return false;
    }
    let mut text = Vec::new();
    if file.take(max + 1).read_to_end(&mut text).is_err() || text.len() as u64 > max {
        return false;
    }
    is_trustmap_json(&text)
}

/// The top-level fields the marker needs; the rest of the document is skipped without being
/// kept, so checking a large report costs its size in time but not in memory.
#[derive(serde::Deserialize)]
struct Marker {
    tool: Option<Tool>,
    scan: Option<std::collections::BTreeMap<String, serde::de::IgnoredAny>>,
    findings: Option<Vec<serde::de::IgnoredAny>>,
    trustmap_baseline: Option<u64>,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Tool {
    Named { name: String },
    Other(serde::de::IgnoredAny),
}

/// Whether these bytes are a trustmap JSON report (`tool.name` = "trustmap", with `scan`
/// and `findings`) or a baseline (`trustmap_baseline` version, `findings`).
pub fn is_trustmap_json(text: &[u8]) -> bool {
    // Cheap refusals first: nearly every file a generic rule matches in is not JSON at all.
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    if start.is_none_or(|i| text[i] != b'{')
        || memchr::memmem::find(text, b"\"findings\"").is_none()
        || memchr::memmem::find(text, b"trustmap").is_none()
    {
        return false;
    }
    let Ok(doc) = serde_json::from_slice::<Marker>(text) else {
        return false;
    };
    let report =
        matches!(&doc.tool, Some(Tool::Named { name }) if name == "trustmap") && doc.scan.is_some();
    let baseline = doc.trustmap_baseline.is_some();
    doc.findings.is_some() && (report || baseline)
}

/// The file-tree source's name for a root (see `trustmap_discover::walk`).
fn display_root(root: &Path) -> String {
    let s = root.to_string_lossy().replace('\\', "/");
    let s = s.trim_end_matches('/');
    if s.is_empty() {
        "/".into()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::is_trustmap_json;

    #[test]
    fn reports_and_baselines_are_known_by_their_marker() {
        assert!(is_trustmap_json(
            br#"{"tool":{"name":"trustmap","version":"0.1.0"},"scan":{},"assets":[],"findings":[]}"#
        ));
        assert!(is_trustmap_json(
            br#"{"trustmap_baseline":1,"tool":"trustmap 0.1.0","findings":[]}"#
        ));
        for not in [
            &br#"{"tool":{"name":"gitleaks"},"scan":{},"findings":[]}"#[..],
            br#"{"trustmap_baseline":"1","findings":[]}"#,
            br#"{"trustmap_baseline":1}"#,
            br#"[{"trustmap_baseline":1,"findings":[]}]"#,
            b"password = hunter2hunter2",
        ] {
            assert!(!is_trustmap_json(not), "{}", String::from_utf8_lossy(not));
        }
    }

    #[test]
    fn files_over_the_marker_limit_are_not_read_as_trustmap_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("report.json");
        let doc = br#"{"tool":{"name":"trustmap"},"scan":{},"assets":[],"findings":[]}"#;
        std::fs::write(&p, doc).unwrap();
        assert!(super::marked_within(&p, doc.len() as u64));
        assert!(!super::marked_within(&p, doc.len() as u64 - 1));
    }
}
