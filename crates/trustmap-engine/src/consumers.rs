//! Resolving what consumers name (`trustmap_discover::config`) to the scan's assets, after
//! the walk: each reference becomes `uses` relations to the assets in the file it names, and
//! says how it was resolved (`Reference::resolution`), so `config-reference-missing` can be
//! raised and `impact` can walk from a key to the services that load it.
//!
//! A reference is tried, in order, as: the same host's file by its absolute path under a
//! scanned root (`path`); relative to the configuration's directory or to the root
//! (`relative`); a directory holding material (`directory`: HAProxy loads every file in a
//! `crt` directory); the only scanned file whose path ends the same way, the most trailing
//! components matching (`suffix`; several equally good: `ambiguous`, none chosen). What is
//! left is `no-material` (the file exists but holds nothing trustmap recognises), `missing`
//! (under a scanned root and not there), or `outside` (not under a scanned root: not judged).
//!
//! Kubernetes objects name Secrets (`namespace/name`), resolved by `Secrets`: the places of
//! material inside Secret manifests say which Secret holds them.
//!
//! Terraform reads every `.tf` file of a directory as one module: a `certificate_arn` naming
//! a resource address (`aws_acm_certificate.api`) defined in another file resolves, after
//! the files, to the Terraform consumer of that address in the same directory (`module`: the
//! files and assets it resolved to; `dynamic` when it loads none, an ACM-issued
//! certificate), `ambiguous` when several define it, `missing` when none does
//! (`config-reference-missing`: `terraform plan` fails), `not-in-scan` when the scan's root is
//! the configuration file alone. At most [`MAX_MODULE_RESOURCES`] resources are indexed per
//! directory; references into a larger one are `not-resolved`, with one error.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

use trustmap_core::{Asset, AssetKind, Relation, RelationType, ScanError};

use crate::pipeline::ScanRoot;

/// References resolved per scan; the rest are left unresolved, with one error.
pub const MAX_REFERENCES: usize = 100_000;
/// Scanned files sharing a referenced file's name that are compared by suffix.
const MAX_SUFFIX_CANDIDATES: usize = 256;
/// Files a `directory` reference may resolve to.
const MAX_DIRECTORY_FILES: usize = 1024;
/// Terraform resources (consumers) indexed per module directory.
pub const MAX_MODULE_RESOURCES: usize = 4096;

/// A Terraform reference to a resource address, resolved against the module after the files.
fn is_address(software: &str, r: &trustmap_core::Reference) -> bool {
    software == "terraform" && r.directive == "certificate_arn"
}

/// The directory of a place's path (its Terraform module).
fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Resolves every consumer's references in place and returns the `uses` relations.
pub fn resolve(
    assets: &mut [Asset],
    roots: &[ScanRoot],
    errors: &mut Vec<ScanError>,
) -> Vec<Relation> {
    if !assets.iter().any(|a| a.kind == AssetKind::Consumer) {
        return Vec::new();
    }
    let index = Index::new(assets, roots);
    let secrets = Secrets::new(assets);
    let mut relations = Vec::new();
    let mut budget = MAX_REFERENCES;
    let mut over = 0usize;
    // (asset, reference) of the Terraform addresses, resolved after every file.
    let mut addresses: Vec<(usize, usize)> = Vec::new();
    for (ai, a) in assets.iter_mut().enumerate() {
        let (Some(c), Some(place)) = (a.consumer.as_mut(), a.occurrences.first()) else {
            continue;
        };
        let config = index.absolute(place);
        let root = index.root_of(place);
        let kubernetes = c.software == "kubernetes";
        let token_secret = c.attributes.get("token_secret").cloned();
        // A ServiceAccount's `secrets` are filled by the cluster's token controller: one that
        // is not in the scan is not missing.
        let account = c.attributes.get("kind").map(String::as_str) == Some("ServiceAccount");
        for (ri, r) in c.references.iter_mut().enumerate() {
            if budget == 0 {
                over += 1;
                r.resolution = "not-resolved".into();
                continue;
            }
            budget -= 1;
            if is_address(&c.software, r) {
                addresses.push((ai, ri));
                continue;
            }
            let (resolution, files, ids) = if kubernetes {
                match secrets.resolve(&r.value, &place.path, token_secret.as_deref()) {
                    ("missing", f, i) if account => ("not-in-scan", f, i),
                    found => found,
                }
            } else {
                index.resolve(&r.value, config.as_deref(), root)
            };
            if resolution == "outside" {
                errors.push(ScanError {
                    path: place.path.clone(),
                    error: format!(
                        "line {}: {} {} is outside the scanned roots: not checked (scan its directory too)",
                        r.line.unwrap_or(0),
                        r.directive,
                        r.value
                    ),
                });
            }
            r.resolution = resolution.into();
            r.files = files;
            for id in ids {
                relations.push(Relation {
                    from: a.id.clone(),
                    to: id,
                    kind: RelationType::Uses,
                });
            }
        }
    }
    if over > 0 {
        errors.push(ScanError {
            path: String::new(),
            error: format!(
                "more than {MAX_REFERENCES} configuration references in one scan: {over} were not resolved"
            ),
        });
    }
    if !addresses.is_empty() {
        resolve_addresses(assets, &addresses, &index, &mut relations, errors);
    }
    relations.sort();
    relations.dedup();
    relations
}

/// Resolves Terraform resource addresses against the consumers of the same module
/// directory (see the module's documentation), adding `uses` relations.
fn resolve_addresses(
    assets: &mut [Asset],
    addresses: &[(usize, usize)],
    index: &Index<'_>,
    relations: &mut Vec<Relation>,
    errors: &mut Vec<ScanError>,
) {
    type Module = (String, Option<String>);
    // (directory, root) -> address -> the consumers defining it.
    let mut modules: HashMap<Module, HashMap<String, Vec<usize>>> = HashMap::new();
    let mut too_large: BTreeMap<Module, String> = BTreeMap::new();
    for (i, a) in assets.iter().enumerate() {
        let (Some(c), Some(place)) = (&a.consumer, a.occurrences.first()) else {
            continue;
        };
        if c.software != "terraform" {
            continue;
        }
        let key = (dir_of(&place.path).to_string(), place.root.clone());
        let m = modules.entry(key.clone()).or_default();
        if m.len() >= MAX_MODULE_RESOURCES && !m.contains_key(&c.name) {
            too_large.entry(key).or_insert_with(|| place.path.clone());
            continue;
        }
        m.entry(c.name.clone()).or_default().push(i);
    }
    for (key, path) in &too_large {
        errors.push(ScanError {
            path: path.clone(),
            error: format!(
                "Terraform module {}/ defines more than {MAX_MODULE_RESOURCES} resources: references into it are not resolved",
                key.0
            ),
        });
    }
    let mut used: HashMap<&str, Vec<String>> = HashMap::new();
    for r in relations.iter() {
        used.entry(r.from.as_str()).or_default().push(r.to.clone());
    }
    let mut found = Vec::with_capacity(addresses.len());
    for &(ai, ri) in addresses {
        let a = &assets[ai];
        let place = a.occurrences.first().expect("a consumer with a place");
        let c = a.consumer.as_ref().expect("a consumer");
        let value = &c.references[ri].value;
        let key = (dir_of(&place.path).to_string(), place.root.clone());
        let alone = index
            .root_of(place)
            .is_some_and(|r| index.file_roots.contains(&r.canonical));
        let got: (&'static str, Vec<String>, Vec<String>) = if alone {
            ("not-in-scan", Vec::new(), Vec::new())
        } else if too_large.contains_key(&key) {
            ("not-resolved", Vec::new(), Vec::new())
        } else {
            match modules
                .get(&key)
                .and_then(|m| m.get(value))
                .map(Vec::as_slice)
            {
                None | Some([]) => ("missing", Vec::new(), Vec::new()),
                Some([t]) => {
                    let target = &assets[*t];
                    let tc = target.consumer.as_ref().expect("a consumer");
                    let files: Vec<String> = tc
                        .references
                        .iter()
                        .flat_map(|r| r.files.iter().cloned())
                        .collect();
                    let ids = used.get(target.id.as_str()).cloned().unwrap_or_default();
                    let how = if ids.is_empty()
                        && tc.references.iter().all(|r| r.resolution == "dynamic")
                    {
                        "dynamic"
                    } else {
                        "module"
                    };
                    (how, files, ids)
                }
                Some(several) => (
                    "ambiguous",
                    several
                        .iter()
                        .filter_map(|t| assets[*t].occurrences.first().map(|o| o.path.clone()))
                        .collect(),
                    Vec::new(),
                ),
            }
        };
        found.push(got);
    }
    for (&(ai, ri), (resolution, files, ids)) in addresses.iter().zip(found) {
        let a = &mut assets[ai];
        let from = a.id.clone();
        let r = &mut a.consumer.as_mut().expect("a consumer").references[ri];
        r.resolution = resolution.into();
        r.files = files;
        for id in ids {
            relations.push(Relation {
                from: from.clone(),
                to: id,
                kind: RelationType::Uses,
            });
        }
    }
}

/// The scan's material by absolute path.
struct Index<'r> {
    roots: &'r [ScanRoot],
    /// Absolute path -> (the place as the report names it, asset ids there).
    files: BTreeMap<String, (String, Vec<String>)>,
    /// File name -> absolute paths.
    by_name: HashMap<String, Vec<String>>,
    /// Whether each root (canonical) is a single file.
    file_roots: HashSet<String>,
}

impl<'r> Index<'r> {
    fn new(assets: &[Asset], roots: &'r [ScanRoot]) -> Index<'r> {
        let file_roots = roots
            .iter()
            .filter(|r| Path::new(&r.canonical).is_file())
            .map(|r| r.canonical.clone())
            .collect();
        let mut index = Index {
            roots,
            files: BTreeMap::new(),
            by_name: HashMap::new(),
            file_roots,
        };
        for a in assets {
            if matches!(a.kind, AssetKind::Consumer | AssetKind::Endpoint) {
                continue;
            }
            for o in &a.occurrences {
                let Some(abs) = index.absolute(o) else {
                    continue;
                };
                let entry = index
                    .files
                    .entry(abs.clone())
                    .or_insert_with(|| (o.path.clone(), Vec::new()));
                if !entry.1.contains(&a.id) {
                    entry.1.push(a.id.clone());
                }
            }
        }
        for abs in index.files.keys() {
            let name = abs.rsplit('/').next().unwrap_or(abs).to_string();
            index.by_name.entry(name).or_default().push(abs.clone());
        }
        index
    }

    /// The root a place is under.
    fn root_of(&self, o: &trustmap_core::Occurrence) -> Option<&'r ScanRoot> {
        match &o.root {
            Some(given) => self.roots.iter().find(|r| &r.given == given),
            None if self.roots.len() == 1 => self.roots.first(),
            None => None,
        }
    }

    /// A place's absolute path on the scanning host.
    fn absolute(&self, o: &trustmap_core::Occurrence) -> Option<String> {
        let root = self.root_of(o)?;
        if self.file_roots.contains(&root.canonical) {
            return Some(root.canonical.clone());
        }
        // With several roots, report paths start with the root as given.
        let rel = if self.roots.len() > 1 {
            let given = root.given.trim_end_matches('/');
            o.path
                .strip_prefix(given)
                .map(|p| p.trim_start_matches('/'))
                .unwrap_or(&o.path)
        } else {
            o.path.as_str()
        };
        Some(join(&root.canonical, rel))
    }

    /// How `value` resolves for a configuration at `config` (absolute) under `root`:
    /// (resolution, places, asset ids).
    fn resolve(
        &self,
        value: &str,
        config: Option<&str>,
        root: Option<&ScanRoot>,
    ) -> (&'static str, Vec<String>, Vec<String>) {
        if value.contains('$') || value.starts_with("data:") || value.is_empty() {
            return ("dynamic", Vec::new(), Vec::new());
        }
        let mut tries: Vec<(&'static str, String)> = Vec::new();
        if value.starts_with('/') {
            tries.push(("path", normalise(value)));
        } else {
            if let Some(dir) = config.and_then(|c| c.rsplit_once('/')).map(|(d, _)| d) {
                tries.push(("relative", join(dir, value)));
            }
            if let Some(r) = root {
                tries.push(("relative", join(&r.canonical, value)));
            }
        }
        for (how, abs) in &tries {
            if let Some((place, ids)) = self.files.get(abs) {
                return (how, vec![place.clone()], ids.clone());
            }
        }
        for (_, abs) in &tries {
            let prefix = format!("{}/", abs.trim_end_matches('/'));
            let under: Vec<(&String, &(String, Vec<String>))> = self
                .files
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .take(MAX_DIRECTORY_FILES)
                .collect();
            if !under.is_empty() {
                let places = under.iter().map(|(_, (p, _))| p.clone()).collect();
                let ids = under.iter().flat_map(|(_, (_, ids))| ids.clone()).collect();
                return ("directory", places, ids);
            }
        }
        if let Some(found) = self.suffix(value) {
            return found;
        }
        // Not found: is it under a scanned root (then it should be there)?
        let inside = tries.iter().find(|(_, abs)| {
            self.roots.iter().any(|r| {
                !self.file_roots.contains(&r.canonical)
                    && (abs == &r.canonical
                        || abs.starts_with(&format!("{}/", r.canonical.trim_end_matches('/'))))
            })
        });
        match inside {
            // A stat only, never a read: the file may be anything.
            Some((_, abs)) if std::fs::symlink_metadata(abs).is_ok() => {
                ("no-material", Vec::new(), Vec::new())
            }
            Some(_) => ("missing", Vec::new(), Vec::new()),
            None => ("outside", Vec::new(), Vec::new()),
        }
    }

    /// The scanned files whose paths end like `value`, the most trailing components
    /// matching: one is `suffix`, several are `ambiguous`.
    fn suffix(&self, value: &str) -> Option<(&'static str, Vec<String>, Vec<String>)> {
        let want: Vec<&str> = value
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        let name = *want.last()?;
        let candidates = self.by_name.get(name)?;
        // A name thousands of files share (`tls.crt` in every copy of a chart) is not scored
        // file by file for every reference: past the bound it is ambiguous, as it would be.
        if candidates.len() > MAX_SUFFIX_CANDIDATES {
            return Some(("ambiguous", Vec::new(), Vec::new()));
        }
        let score = |abs: &str| {
            abs.rsplit('/')
                .zip(want.iter().rev())
                .take_while(|(a, b)| a == *b)
                .count()
        };
        let best = candidates.iter().map(|c| score(c)).max()?;
        let top: Vec<&String> = candidates.iter().filter(|c| score(c) == best).collect();
        let places: Vec<String> = top.iter().map(|abs| self.files[*abs].0.clone()).collect();
        if top.len() == 1 {
            Some(("suffix", places, self.files[top[0]].1.clone()))
        } else {
            Some(("ambiguous", places, Vec::new()))
        }
    }
}

/// The Kubernetes Secrets of the scan, by `namespace/name`: the places inside them (each
/// place's route starts `Secret namespace/name`, `trustmap_discover::scan`) and the Secrets
/// cert-manager `Certificate`s of the scan will create.
struct Secrets {
    /// `namespace/name` -> place path -> asset ids in that Secret there.
    by_name: HashMap<String, BTreeMap<String, Vec<String>>>,
    /// Namespaces with at least one Secret holding material in the scan.
    namespaces: HashSet<String>,
    /// `namespace/name` of the Secrets a Certificate of the scan names.
    certificates: HashSet<String>,
}

impl Secrets {
    fn new(assets: &[Asset]) -> Secrets {
        let mut s = Secrets {
            by_name: HashMap::new(),
            namespaces: HashSet::new(),
            certificates: HashSet::new(),
        };
        for a in assets {
            if let Some(c) = &a.consumer {
                if c.software == "kubernetes"
                    && c.attributes.get("kind").map(String::as_str) == Some("Certificate")
                {
                    s.certificates
                        .extend(c.references.iter().map(|r| r.value.clone()));
                }
                continue;
            }
            for o in &a.occurrences {
                let Some(rest) = o
                    .container
                    .as_deref()
                    .and_then(|c| c.strip_prefix("Secret "))
                else {
                    continue;
                };
                let Some(qualified) = rest.split(' ').next().filter(|q| q.contains('/')) else {
                    continue;
                };
                if let Some((ns, _)) = qualified.split_once('/') {
                    s.namespaces.insert(ns.to_string());
                }
                let ids = s
                    .by_name
                    .entry(qualified.to_string())
                    .or_default()
                    .entry(o.path.clone())
                    .or_default();
                if !ids.contains(&a.id) {
                    ids.push(a.id.clone());
                }
            }
        }
        s
    }

    /// How `qualified` (`namespace/name`) resolves for a manifest at `manifest` (its place):
    /// `secret` (a Secret of the scan: its material; several manifests defining it, the one
    /// sharing the most leading directories with the manifest, else `ambiguous`),
    /// `certificate` (a cert-manager Certificate of the scan creates it), `no-material` (a
    /// ServiceAccount token Secret: the controller fills it), `missing` (other Secrets of its
    /// namespace are in the scan, this one is not) or `not-in-scan` (no Secret of its
    /// namespace is: kept elsewhere, not judged).
    fn resolve(
        &self,
        qualified: &str,
        manifest: &str,
        token_secret: Option<&str>,
    ) -> (&'static str, Vec<String>, Vec<String>) {
        if let Some(places) = self.by_name.get(qualified) {
            let shared = |p: &str| {
                p.split('/')
                    .zip(manifest.split('/'))
                    .take_while(|(a, b)| a == b)
                    .count()
            };
            let best = places.keys().map(|p| shared(p)).max().unwrap_or(0);
            let top: Vec<(&String, &Vec<String>)> =
                places.iter().filter(|(p, _)| shared(p) == best).collect();
            let files: Vec<String> = top.iter().map(|(p, _)| (*p).clone()).collect();
            if top.len() == 1 {
                return ("secret", files, top[0].1.clone());
            }
            return ("ambiguous", files, Vec::new());
        }
        if self.certificates.contains(qualified) {
            return ("certificate", Vec::new(), Vec::new());
        }
        if token_secret == Some(qualified) {
            return ("no-material", Vec::new(), Vec::new());
        }
        let ns = qualified.split_once('/').map(|(n, _)| n).unwrap_or("");
        if self.namespaces.contains(ns) {
            ("missing", Vec::new(), Vec::new())
        } else {
            ("not-in-scan", Vec::new(), Vec::new())
        }
    }
}

/// `base` joined with the relative `rel`, `.` and `..` resolved lexically.
fn join(base: &str, rel: &str) -> String {
    normalise(&format!("{}/{rel}", base.trim_end_matches('/')))
}

/// An absolute path with `.`, `..` and repeated `/` resolved lexically (no file system).
fn normalise(p: &str) -> String {
    let mut out = PathBuf::from("/");
    for c in Path::new(p).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(x) => out.push(x),
            _ => {}
        }
    }
    out.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use trustmap_core::{ConsumerInfo, Occurrence, Reference};

    fn asset(id: &str, kind: AssetKind, path: &str, container: Option<&str>) -> Asset {
        Asset {
            id: id.into(),
            kind,
            fingerprint: format!("sha256:{id}"),
            occurrences: vec![Occurrence {
                path: path.into(),
                line: Some(1),
                offset: None,
                container: container.map(str::to_string),
                root: None,
            }],
            certificate: None,
            key: None,
            secret: None,
            keystore: None,
            consumer: None,
            endpoint: None,
            owners: vec![],
        }
    }

    fn consumer(id: &str, software: &str, path: &str, refs: &[&str], kind: &str) -> Asset {
        let mut a = asset(id, AssetKind::Consumer, path, None);
        a.consumer = Some(ConsumerInfo {
            software: software.into(),
            name: id.into(),
            references: refs
                .iter()
                .map(|v| Reference {
                    directive: "d".into(),
                    value: v.to_string(),
                    ..Default::default()
                })
                .collect(),
            attributes: [("kind".to_string(), kind.to_string())].into(),
        });
        a
    }

    fn resolutions(a: &Asset) -> Vec<(String, usize)> {
        a.consumer
            .as_ref()
            .unwrap()
            .references
            .iter()
            .map(|r| (r.resolution.clone(), r.files.len()))
            .collect()
    }

    fn root() -> Vec<ScanRoot> {
        vec![ScanRoot {
            given: "/nonexistent-trustmap-root".into(),
            canonical: "/nonexistent-trustmap-root".into(),
        }]
    }

    #[test]
    fn more_files_of_one_name_than_the_suffix_bound_make_a_reference_ambiguous() {
        for (n, want) in [
            (1, ("suffix", 1)),
            (2, ("ambiguous", 2)),
            (MAX_SUFFIX_CANDIDATES, ("ambiguous", MAX_SUFFIX_CANDIDATES)),
            // Past the bound: ambiguous without scoring (and without listing) the files.
            (MAX_SUFFIX_CANDIDATES + 1, ("ambiguous", 0)),
        ] {
            let mut assets: Vec<Asset> = (0..n)
                .map(|i| {
                    asset(
                        &format!("c{i}"),
                        AssetKind::Certificate,
                        &format!("d{i}/tls.crt"),
                        None,
                    )
                })
                .collect();
            assets.push(consumer(
                "srv",
                "nginx",
                "etc/nginx.conf",
                &["/srv/elsewhere/tls.crt"],
                "",
            ));
            let mut errors = Vec::new();
            let uses = resolve(&mut assets, &root(), &mut errors);
            let got = resolutions(assets.last().unwrap());
            assert_eq!(got, [(want.0.to_string(), want.1)], "{n} files");
            assert_eq!(uses.len(), usize::from(n == 1), "{n} files");
        }
    }

    #[test]
    fn kubernetes_references_resolve_by_namespace_and_name() {
        let mut assets = vec![
            asset(
                "crt",
                AssetKind::Certificate,
                "k8s/prod/secret.yaml",
                Some("Secret shop/tls data.tls.crt, base64"),
            ),
            asset(
                "key",
                AssetKind::PrivateKey,
                "k8s/prod/secret.yaml",
                Some("Secret shop/tls data.tls.key, base64"),
            ),
            // The same Secret in a staging overlay: the manifest's own tree wins.
            asset(
                "stg",
                AssetKind::Certificate,
                "k8s/staging/secret.yaml",
                Some("Secret shop/tls data.tls.crt, base64"),
            ),
            // A ConfigMap of the same name is not a Secret.
            asset(
                "cm",
                AssetKind::Certificate,
                "k8s/prod/cm.yaml",
                Some("ConfigMap shop/ca data.ca.crt"),
            ),
            consumer(
                "cert",
                "kubernetes",
                "k8s/prod/cert.yaml",
                &["shop/api-tls"],
                "Certificate",
            ),
            consumer(
                "ing",
                "kubernetes",
                "k8s/prod/ingress.yaml",
                &[
                    "shop/tls",
                    "shop/api-tls",
                    "shop/gone",
                    "other/x",
                    "shop/ca",
                ],
                "Ingress",
            ),
            consumer(
                "top",
                "kubernetes",
                "ingress.yaml",
                &["shop/tls"],
                "Ingress",
            ),
            // A ServiceAccount's token Secret, created by the cluster: never missing.
            consumer(
                "sa",
                "kubernetes",
                "k8s/prod/sa.yaml",
                &["shop/sa-token"],
                "ServiceAccount",
            ),
        ];
        let mut errors = Vec::new();
        let uses = resolve(&mut assets, &root(), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let r = |s: &str, n: usize| (s.to_string(), n);
        assert_eq!(
            resolutions(&assets[5]),
            [
                r("secret", 1),
                r("certificate", 0),
                r("missing", 0),
                r("not-in-scan", 0),
                r("missing", 0)
            ]
        );
        assert_eq!(resolutions(&assets[4]), [r("certificate", 0)]);
        // From the top of the tree both copies are as near: ambiguous, both listed.
        assert_eq!(resolutions(&assets[6]), [r("ambiguous", 2)]);
        assert_eq!(resolutions(&assets[7]), [r("not-in-scan", 0)]);
        let edges: Vec<(&str, &str)> = uses
            .iter()
            .map(|u| (u.from.as_str(), u.to.as_str()))
            .collect();
        assert_eq!(edges, [("ing", "crt"), ("ing", "key")]);
    }

    /// A Terraform resource in `path` with references (directive, value).
    fn tf(id: &str, path: &str, name: &str, refs: &[(&str, &str)]) -> Asset {
        let mut a = asset(id, AssetKind::Consumer, path, None);
        a.consumer = Some(ConsumerInfo {
            software: "terraform".into(),
            name: name.into(),
            references: refs
                .iter()
                .map(|(d, v)| Reference {
                    directive: d.to_string(),
                    value: v.to_string(),
                    ..Default::default()
                })
                .collect(),
            attributes: Default::default(),
        });
        a
    }

    #[test]
    fn terraform_addresses_resolve_across_the_files_of_a_module() {
        let arn = |v: &'static str| [("certificate_arn", v)];
        let mut assets = vec![
            asset("cert", AssetKind::Certificate, "tf/certs/api.crt", None),
            // certs.tf defines the certificate from its file; main.tf's listener names it.
            tf(
                "acm",
                "tf/certs.tf",
                "aws_acm_certificate.api",
                &[("file", "certs/api.crt")],
            ),
            tf(
                "lis",
                "tf/main.tf",
                "aws_lb_listener.https",
                &arn("aws_acm_certificate.api"),
            ),
            // Issued by ACM (no file): dynamic.
            tf(
                "acm2",
                "tf/certs.tf",
                "aws_acm_certificate.web",
                &[("issued by ACM", "")],
            ),
            tf(
                "lis2",
                "tf/main.tf",
                "aws_lb_listener.web",
                &arn("aws_acm_certificate.web"),
            ),
            // Defined nowhere: missing. Another directory is another module: missing too.
            tf(
                "lis3",
                "tf/main.tf",
                "aws_lb_listener.gone",
                &arn("aws_acm_certificate.gone"),
            ),
            tf(
                "lis4",
                "other/main.tf",
                "aws_lb_listener.x",
                &arn("aws_acm_certificate.api"),
            ),
            // Defined twice: ambiguous, none chosen.
            tf(
                "d1",
                "tf/a.tf",
                "aws_acm_certificate.twice",
                &[("issued by ACM", "")],
            ),
            tf(
                "d2",
                "tf/b.tf",
                "aws_acm_certificate.twice",
                &[("issued by ACM", "")],
            ),
            tf(
                "lis5",
                "tf/main.tf",
                "aws_lb_listener.t",
                &arn("aws_acm_certificate.twice"),
            ),
        ];
        let mut errors = Vec::new();
        let rels = resolve(&mut assets, &root(), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let by = |id: &str| resolutions(assets.iter().find(|a| a.id == id).unwrap());
        assert_eq!(by("acm"), [("relative".to_string(), 1)]);
        assert_eq!(by("lis"), [("module".to_string(), 1)]);
        assert_eq!(by("lis2"), [("dynamic".to_string(), 0)]);
        assert_eq!(by("lis3"), [("missing".to_string(), 0)]);
        assert_eq!(by("lis4"), [("missing".to_string(), 0)]);
        assert_eq!(by("lis5"), [("ambiguous".to_string(), 2)]);
        let uses: Vec<(&str, &str)> = rels
            .iter()
            .map(|r| (r.from.as_str(), r.to.as_str()))
            .collect();
        assert_eq!(uses, [("acm", "cert"), ("lis", "cert")]);
    }

    #[test]
    fn a_module_with_more_resources_than_the_bound_is_not_resolved_into() {
        let mut assets: Vec<Asset> = (0..=MAX_MODULE_RESOURCES)
            .map(|i| {
                tf(
                    &format!("r{i}"),
                    &format!("big/f{}.tf", i % 300),
                    &format!("aws_acm_certificate.c{i}"),
                    &[("issued by ACM", "")],
                )
            })
            .collect();
        assets.push(tf(
            "lis",
            "big/main.tf",
            "aws_lb_listener.https",
            &[("certificate_arn", "aws_acm_certificate.c0")],
        ));
        // Within the bound, across 300 files, it resolves.
        let mut small: Vec<Asset> = assets[..300].to_vec();
        small.push(assets.last().unwrap().clone());
        let mut errors = Vec::new();
        resolve(&mut small, &root(), &mut errors);
        assert_eq!(
            resolutions(small.last().unwrap()),
            [("dynamic".to_string(), 0)]
        );
        let mut errors = Vec::new();
        resolve(&mut assets, &root(), &mut errors);
        assert_eq!(
            resolutions(assets.last().unwrap()),
            [("not-resolved".to_string(), 0)]
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].error.contains("more than 4096 resources"),
            "{errors:?}"
        );
    }

    #[test]
    fn paths_are_joined_and_normalised_lexically() {
        assert_eq!(
            join("/srv/etc/nginx", "../ssl/./a.crt"),
            "/srv/etc/ssl/a.crt"
        );
        assert_eq!(normalise("/a//b/../../../c"), "/c");
        assert_eq!(join("/", "a"), "/a");
    }
}
