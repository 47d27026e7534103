//! Deduplication of what every source found into assets, and the relations between them:
//! `contains` (keystore -> entry), `key-of` (private key -> certificate or public key with the
//! same SPKI) and `issued-by` (certificate -> issuer, signature verified, across files and
//! sources); owners from the sources' hints (CODEOWNERS) are applied when it finishes.
//!
//! Fed by whoever drives the sources (the engine), one item at a time on one thread.

use crate::source::OwnerHints;
use crate::{Detail, Found, x509};
use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use trustmap_core::{
    Asset, AssetKind, Occurrence, Owner, Relation, RelationType, ScanError, asset_id,
};

/// Certificates named as a certificate's issuer whose keys are tried on its signature:
/// those whose subject key identifier matches its authority key identifier first, then the
/// rest in id order; a key tried once is not tried again (same key, same verdict).
pub const MAX_ISSUER_CANDIDATES: usize = 16;
/// `issued-by` relations kept per certificate (a cross-signed certificate has two or three
/// real issuers). The rest are counted in an error entry.
pub const MAX_ISSUERS: usize = 4;

/// Accumulates [`Found`] values from every source into deduplicated assets.
#[derive(Default)]
pub struct Inventory {
    assets: HashMap<String, Asset>,
    /// Per asset: where its places are in `occurrences` (by hash of path and line), and the
    /// first place in (path, line) order, so adding a place is O(1) however many there are.
    places: HashMap<String, Places>,
    /// Certificate DER by asset id, for signature checks.
    cert_der: HashMap<String, std::sync::Arc<[u8]>>,
    relations: BTreeSet<Relation>,
    /// Work the inventory cut short (issuer candidates, relations), as report errors.
    errors: Vec<ScanError>,
}

#[derive(Default)]
struct Places {
    /// Hash of (path, line) -> indexes of the occurrences with that hash.
    index: HashMap<u64, Vec<usize>>,
    /// The smallest (path, line) seen.
    first: Option<(String, Option<u64>)>,
}

fn place_hash(path: &str, line: Option<u64>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    path.hash(&mut h);
    line.hash(&mut h);
    h.finish()
}

impl Inventory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of distinct assets so far.
    pub fn len(&self) -> usize {
        self.assets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.assets.is_empty()
    }

    /// Adds one found item (and its children); returns its asset id.
    pub fn add(&mut self, found: Found) -> String {
        let Found {
            kind,
            fingerprint,
            detail,
            occurrence,
            children,
            link: _,
            owners,
            unlock: _,
        } = found;
        let id = asset_id(kind, &fingerprint);
        let asset = self.assets.entry(id.clone()).or_insert_with(|| Asset {
            id: id.clone(),
            kind,
            fingerprint: fingerprint.clone(),
            occurrences: Vec::new(),
            certificate: None,
            key: None,
            secret: None,
            keystore: None,
            consumer: None,
            endpoint: None,
            owners: Vec::new(),
        });
        match detail {
            Detail::Certificate(info, der) => {
                if asset.certificate.is_none() {
                    asset.certificate = Some(std::sync::Arc::unwrap_or_clone(info));
                    self.cert_der.insert(id.clone(), der);
                }
            }
            Detail::Key(info) => {
                // Facts come from the first place in (path, line) order, whatever order the
                // walker's threads delivered them in, so reports are reproducible.
                let first = self.places.get(&id).and_then(|p| p.first.as_ref());
                let first = first
                    .is_none_or(|(path, line)| (&occurrence.path, occurrence.line) < (path, *line));
                merge_key(&mut asset.key, info, first)
            }
            Detail::Secret(info) => {
                asset.secret.get_or_insert(info);
            }
            Detail::Endpoint(info) => {
                asset.endpoint.get_or_insert(*info);
            }
            Detail::Keystore(info) => match &mut asset.keystore {
                // A copy opened (by a password found later in the scan) tells more.
                Some(k) if k.locked && !info.locked => *k = info,
                Some(_) => {}
                None => asset.keystore = Some(info),
            },
            Detail::Consumer(info) => {
                asset.consumer.get_or_insert(info);
            }
        }
        add_occurrence(
            &mut asset.occurrences,
            self.places.entry(id.clone()).or_default(),
            occurrence,
        );
        for o in owners {
            if !asset.owners.contains(&o) {
                asset.owners.push(o);
            }
        }
        for child in children {
            let link = child.link;
            let child_id = self.add(child);
            if let Some(kind) = link {
                self.relations.insert(Relation {
                    from: id.clone(),
                    to: child_id,
                    kind,
                });
            }
        }
        id
    }

    /// Derives relations, applies the sources' owner hints, and returns assets sorted by kind
    /// then id, and relations. Work it cut short is dropped: prefer [`Inventory::finish_all`].
    pub fn finish(self, owner_hints: &[OwnerHints]) -> (Vec<Asset>, Vec<Relation>) {
        let (assets, relations, _) = self.finish_all(owner_hints);
        (assets, relations)
    }

    /// [`Inventory::finish`], and the errors saying what the bounds cut short
    /// ([`MAX_ISSUER_CANDIDATES`], [`MAX_ISSUERS`]), for the report's `errors`.
    pub fn finish_all(
        mut self,
        owner_hints: &[OwnerHints],
    ) -> (Vec<Asset>, Vec<Relation>, Vec<ScanError>) {
        self.adopt_public_halves();
        self.link_keys();
        self.link_issuers();
        let mut assets: Vec<Asset> = self.assets.into_values().collect();
        for a in &mut assets {
            a.occurrences.sort();
            apply_owner_hints(a, owner_hints);
        }
        assets.sort_by(|a, b| (a.kind, &a.id).cmp(&(b.kind, &b.id)));
        (assets, self.relations.into_iter().collect(), self.errors)
    }

    /// An encrypted private key whose public half is sealed (encrypted PKCS#8, OpenSSL's
    /// legacy encryption) takes its facts (algorithm, size, curve, SPKI hash, hence its
    /// `key-of` links) from the public half found beside it: a public key in `<file>.pub` or
    /// `<stem>.pub` (`id_rsa` + `id_rsa.pub`, `tls.key` + `tls.pub`), else the one leaf
    /// certificate or public key in the same file (a bundle; a lone CA certificate when it
    /// holds no leaf). Its identity stays its own
    /// bytes: the neighbour is a strong hint, not a proof. Candidates that disagree with
    /// each other or with what the key says (its label's algorithm) are not used.
    fn adopt_public_halves(&mut self) {
        let mut by_path: HashMap<&str, Vec<&str>> = HashMap::new();
        for a in self.assets.values() {
            if matches!(a.kind, AssetKind::Certificate | AssetKind::PublicKey) {
                for o in &a.occurrences {
                    by_path.entry(o.path.as_str()).or_default().push(&a.id);
                }
            }
        }
        let mut adopt: Vec<(String, trustmap_core::KeyInfo, String)> = Vec::new();
        for a in self.assets.values() {
            let Some(k) = &a.key else { continue };
            if a.kind != AssetKind::PrivateKey || k.spki_sha256.is_some() {
                continue;
            }
            let mut found: Option<(trustmap_core::KeyInfo, String)> = None;
            'places: for o in &a.occurrences {
                let path = o.path.as_str();
                let stem = path
                    .rsplit_once('.')
                    .filter(|(s, ext)| !s.ends_with('/') && !ext.contains('/'))
                    .map(|(s, _)| s);
                let mut neighbours = vec![format!("{path}.pub")];
                if let Some(stem) = stem {
                    neighbours.push(format!("{stem}.pub"));
                }
                for n in &neighbours {
                    let halves = self.public_halves(by_path.get(n.as_str()), false);
                    if let Some(h) = agreed(&halves, k) {
                        found = Some((h, n.clone()));
                        break 'places;
                    }
                }
                // A bundle's leaf; a lone self-signed CA certificate when there is no leaf.
                let mut halves = self.public_halves(by_path.get(path), true);
                if halves.is_empty() {
                    halves = self.public_halves(by_path.get(path), false);
                }
                if let Some(h) = agreed(&halves, k) {
                    found = Some((
                        h,
                        format!("{path} (the certificate or public key beside it)"),
                    ));
                    break;
                }
            }
            if let Some((h, from)) = found {
                adopt.push((a.id.clone(), h, from));
            }
        }
        for (id, h, from) in adopt {
            if let Some(k) = self.assets.get_mut(&id).and_then(|a| a.key.as_mut()) {
                k.algorithm = h.algorithm;
                k.bits = h.bits;
                k.curve = h.curve;
                k.spki_sha256 = h.spki_sha256;
                k.rsa_exponent = h.rsa_exponent;
                k.ssh_fingerprint = k.ssh_fingerprint.take().or(h.ssh_fingerprint);
                k.public_key_from = Some(from);
            }
        }
    }

    /// The public keys of the certificates and public keys `ids` (leaf certificates only
    /// when `leaf_only`, as a bundle also holds its chain's CAs).
    fn public_halves(
        &self,
        ids: Option<&Vec<&str>>,
        leaf_only: bool,
    ) -> Vec<trustmap_core::KeyInfo> {
        let mut out: Vec<trustmap_core::KeyInfo> = Vec::new();
        for id in ids.into_iter().flatten() {
            let Some(a) = self.assets.get(*id) else {
                continue;
            };
            let k = match (&a.certificate, &a.key) {
                (Some(c), _) if !(leaf_only && c.is_ca) => c.public_key.clone(),
                (None, Some(k)) => k.clone(),
                _ => continue,
            };
            if k.spki_sha256.is_some() && !out.iter().any(|o| o.spki_sha256 == k.spki_sha256) {
                out.push(k);
            }
        }
        out
    }

    fn link_keys(&mut self) {
        let mut by_spki: HashMap<&str, Vec<(&str, AssetKind)>> = HashMap::new();
        for a in self.assets.values() {
            let spki = match (&a.certificate, &a.key) {
                (Some(c), _) => c.public_key.spki_sha256.as_deref(),
                (None, Some(k)) => k.spki_sha256.as_deref(),
                _ => None,
            };
            if let Some(s) = spki {
                by_spki.entry(s).or_default().push((&a.id, a.kind));
            }
        }
        for group in by_spki.values() {
            for (priv_id, _) in group.iter().filter(|(_, k)| *k == AssetKind::PrivateKey) {
                for (other, kind) in group {
                    if matches!(kind, AssetKind::Certificate | AssetKind::PublicKey) {
                        self.relations.insert(Relation {
                            from: priv_id.to_string(),
                            to: other.to_string(),
                            kind: RelationType::KeyOf,
                        });
                    }
                }
            }
        }
    }

    /// `issued-by`: for each certificate, the certificates whose subject is its issuer name and
    /// whose key verifies its signature. Bounded: at most [`MAX_ISSUER_CANDIDATES`] distinct
    /// keys are tried per certificate (key-identifier matches first), each key once, and at
    /// most [`MAX_ISSUERS`] relations are kept; what a bound cut short is an error entry.
    fn link_issuers(&mut self) {
        struct Cert<'a> {
            id: &'a str,
            chain: x509::ChainCert<'a>,
            spki: Option<&'a str>,
            ski: Option<&'a str>,
            aki: Option<&'a str>,
            path: &'a str,
        }
        let mut ids: Vec<&String> = self.cert_der.keys().collect();
        ids.sort();
        // Each certificate is parsed once (a normalised copy, when its times need one, is
        // kept in its slot), on all cores.
        let mut slots: Vec<Option<Vec<u8>>> = vec![None; ids.len()];
        let cert_der = &self.cert_der;
        let parsed = on_cores(ids.iter().zip(slots.iter_mut()).collect(), |(id, slot)| {
            x509::ChainCert::parse(&cert_der[*id], slot)
        });
        let mut certs: Vec<Cert<'_>> = Vec::with_capacity(ids.len());
        let mut by_subject: HashMap<Vec<u8>, Vec<usize>> = HashMap::new();
        for (id, chain) in ids.into_iter().zip(parsed) {
            let Some(chain) = chain else {
                continue;
            };
            let asset = &self.assets[id];
            let info = asset.certificate.as_ref();
            by_subject
                .entry(chain.subject_raw().to_vec())
                .or_default()
                .push(certs.len());
            certs.push(Cert {
                id,
                chain,
                spki: info.and_then(|c| c.public_key.spki_sha256.as_deref()),
                ski: info.and_then(|c| c.ski.as_deref()),
                aki: info.and_then(|c| c.aki.as_deref()),
                path: asset
                    .occurrences
                    .iter()
                    .map(|o| o.path.as_str())
                    .min()
                    .unwrap_or(""),
            });
        }
        // Each certificate's issuers are found independently of the others' (signature
        // checks are most of the time: thousands in a large tree), so the certificates are
        // split across the cores and the results joined in id order.
        let link_one = |child: &Cert<'_>| -> (Vec<Relation>, usize, usize) {
            let mut relations = Vec::new();
            let Some(candidates) = by_subject.get(child.chain.issuer_raw()) else {
                return (relations, 0, 0);
            };
            // Key-identifier matches first, then the others; both in id order.
            let key_match = |c: &Cert<'_>| child.aki.is_some() && c.ski == child.aki;
            let ordered = candidates
                .iter()
                .map(|&i| &certs[i])
                .filter(|c| c.id != child.id)
                .filter(|c| key_match(c))
                .chain(
                    candidates
                        .iter()
                        .map(|&i| &certs[i])
                        .filter(|c| c.id != child.id && !key_match(c)),
                );
            let mut verdicts: HashMap<&str, bool> = HashMap::new();
            let mut tried = 0usize;
            let mut links = 0usize;
            let mut untried = 0usize;
            let mut unlinked = 0usize;
            for cand in ordered {
                let verdict = match cand.spki.and_then(|k| verdicts.get(k)) {
                    Some(v) => *v,
                    None if tried >= MAX_ISSUER_CANDIDATES => {
                        untried += 1;
                        continue;
                    }
                    None => {
                        tried += 1;
                        crate::timing::count(crate::timing::Count::SignatureChecks, 1);
                        let v = child.chain.issued_by(&cand.chain);
                        if let Some(k) = cand.spki {
                            verdicts.insert(k, v);
                        }
                        v
                    }
                };
                if !verdict {
                    continue;
                }
                if links >= MAX_ISSUERS {
                    unlinked += 1;
                    continue;
                }
                links += 1;
                relations.push(Relation {
                    from: child.id.to_string(),
                    to: cand.id.to_string(),
                    kind: RelationType::IssuedBy,
                });
            }
            (relations, untried, unlinked)
        };
        let linked = on_cores(certs.iter().collect(), link_one);
        let mut relations = Vec::new();
        let mut errors = Vec::new();
        // Per file: certificates cut short, candidates not tried, verified issuers not linked.
        let mut cut: std::collections::BTreeMap<&str, (usize, usize, usize)> =
            std::collections::BTreeMap::new();
        for (child, (links, untried, unlinked)) in certs.iter().zip(linked) {
            relations.extend(links);
            if untried > 0 || unlinked > 0 {
                let e = cut.entry(child.path).or_default();
                e.0 += 1;
                e.1 += untried;
                e.2 += unlinked;
            }
        }
        // One error per file (a bundle of a thousand look-alikes is one entry, not a
        // thousand).
        for (path, (certs, untried, unlinked)) in cut {
            let mut what = Vec::new();
            if untried > 0 {
                what.push(format!(
                    "{untried} candidate issuers (certificates named as the issuer) were not \
                     tried (at most {MAX_ISSUER_CANDIDATES} keys per certificate are)"
                ));
            }
            if unlinked > 0 {
                what.push(format!(
                    "{unlinked} verified issuers were not linked (at most {MAX_ISSUERS} \
                     issued-by relations per certificate)"
                ));
            }
            errors.push(ScanError {
                path: path.to_string(),
                error: format!(
                    "issuer linking cut short for {certs} certificates: {}",
                    what.join("; ")
                ),
            });
        }
        self.relations.extend(relations);
        self.errors.extend(errors);
    }
}

/// `f` of each of `items`, in order, the items split across the cores (one thread below 512
/// items: not worth the threads).
fn on_cores<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len() / 256)
        .max(1);
    if threads == 1 {
        return items.into_iter().map(f).collect();
    }
    let per = items.len().div_ceil(threads);
    let mut parts: Vec<Vec<T>> = Vec::with_capacity(threads);
    let mut items = items.into_iter();
    loop {
        let part: Vec<T> = items.by_ref().take(per).collect();
        if part.is_empty() {
            break;
        }
        parts.push(part);
    }
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| s.spawn(move || part.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("work on the cores does not panic"))
            .collect()
    })
}

/// The one public half of `halves` when there is exactly one and it does not contradict
/// the algorithm the private key states (`unknown` states none).
fn agreed(
    halves: &[trustmap_core::KeyInfo],
    key: &trustmap_core::KeyInfo,
) -> Option<trustmap_core::KeyInfo> {
    match halves {
        [one] if key.algorithm == "unknown" || key.algorithm == one.algorithm => Some(one.clone()),
        _ => None,
    }
}

/// One key in several places may differ by format and protection: keep the facts of the
/// first place, but an unprotected copy anywhere makes the asset unprotected.
fn merge_key(slot: &mut Option<trustmap_core::KeyInfo>, info: trustmap_core::KeyInfo, first: bool) {
    // A sealed key the second chance opened (see `unlock`) tells more: its facts replace the
    // sealed ones wherever it was first seen.
    if let Some(existing) = slot
        && existing.spki_sha256.is_none()
        && info.spki_sha256.is_some()
        && info.password_in.is_some()
    {
        *existing = info;
        return;
    }
    match slot {
        None => *slot = Some(info),
        Some(existing) if first => {
            let unprotected = existing.encrypted == Some(false) || info.encrypted == Some(false);
            let old = std::mem::replace(existing, info);
            if unprotected {
                existing.encrypted = Some(false);
                existing.encryption = None;
            }
            existing.bits = existing.bits.or(old.bits);
            existing.curve = existing.curve.take().or(old.curve);
            existing.comment = existing.comment.take().or(old.comment);
        }
        Some(existing) => {
            if existing.encrypted == Some(true) && info.encrypted == Some(false) {
                existing.encrypted = Some(false);
                existing.encryption = None;
                existing.format = info.format;
            }
            if existing.bits.is_none() {
                existing.bits = info.bits;
            }
            if existing.curve.is_none() {
                existing.curve = info.curve;
            }
            if existing.comment.is_none() {
                existing.comment = info.comment;
            }
        }
    }
}

/// Adds an occurrence unless the same place is already recorded; a more precise route
/// (with a container) replaces a vaguer one at the same path and line. O(1): `places`
/// indexes `list` by path and line.
fn add_occurrence(list: &mut Vec<Occurrence>, places: &mut Places, occ: Occurrence) {
    let h = place_hash(&occ.path, occ.line);
    let slot = places.index.entry(h).or_default();
    if let Some(&i) = slot
        .iter()
        .find(|&&i| list[i].path == occ.path && list[i].line == occ.line)
    {
        let existing = &mut list[i];
        if existing.container.is_none() && occ.container.is_some() {
            *existing = occ;
        }
        return;
    }
    slot.push(list.len());
    if places
        .first
        .as_ref()
        .is_none_or(|(p, l)| (&occ.path, occ.line) < (p, *l))
    {
        places.first = Some((occ.path.clone(), occ.line));
    }
    list.push(occ);
}

/// Owners from CODEOWNERS for each occurrence (root-qualified paths), added after the
/// owners stated in the material itself.
fn apply_owner_hints(asset: &mut Asset, hints: &[OwnerHints]) {
    let mut extra: Vec<Owner> = Vec::new();
    for occ in &asset.occurrences {
        for OwnerHints {
            prefix,
            codeowners: co,
        } in hints
        {
            let rel = if prefix.is_empty() {
                Some(occ.path.as_str())
            } else {
                occ.path
                    .strip_prefix(prefix.as_str())
                    .and_then(|p| p.strip_prefix('/'))
            };
            if let Some(rel) = rel {
                for o in co.owners_of(rel) {
                    if !asset.owners.iter().any(|e| e.name == o.name)
                        && !extra.iter().any(|e| e.name == o.name)
                    {
                        extra.push(o);
                    }
                }
            }
        }
    }
    asset.owners.extend(extra);
}
