//! Deduplication of what every source found into assets, and the relations between them:
//! `contains` (keystore -> entry), `key-of` (private key -> certificate or public key with the
//! same SPKI) and `issued-by` (certificate -> issuer, signature verified, across files and
//! sources); owners from the sources' hints (CODEOWNERS) are applied when it finishes.
//!
//! Fed by whoever drives the sources (the engine), one item at a time on one thread.

use crate::source::OwnerHints;
use crate::{Detail, Found, x509};
use std::collections::{BTreeSet, HashMap};
use trustmap_core::{Asset, AssetKind, Occurrence, Owner, Relation, RelationType, asset_id};

/// Accumulates [`Found`] values from every source into deduplicated assets.
#[derive(Default)]
pub struct Inventory {
    assets: HashMap<String, Asset>,
    /// Certificate DER by asset id, for signature checks.
    cert_der: HashMap<String, Vec<u8>>,
    relations: BTreeSet<Relation>,
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
            owners: Vec::new(),
        });
        match detail {
            Detail::Certificate(info, der) => {
                if asset.certificate.is_none() {
                    asset.certificate = Some(*info);
                    self.cert_der.insert(id.clone(), der);
                }
            }
            Detail::Key(info) => {
                // Facts come from the first place in (path, line) order, whatever order the
                // walker's threads delivered them in, so reports are reproducible.
                let first = asset
                    .occurrences
                    .iter()
                    .all(|o| (&occurrence.path, occurrence.line) < (&o.path, o.line));
                merge_key(&mut asset.key, info, first)
            }
            Detail::Secret(info) => {
                asset.secret.get_or_insert(info);
            }
            Detail::Keystore(info) => match &mut asset.keystore {
                // A copy opened (by a password found later in the scan) tells more.
                Some(k) if k.locked && !info.locked => *k = info,
                Some(_) => {}
                None => asset.keystore = Some(info),
            },
        }
        add_occurrence(&mut asset.occurrences, occurrence);
        for o in owners {
            if !asset.owners.contains(&o) {
                asset.owners.push(o);
            }
        }
        for child in children {
            let child_id = self.add(child);
            self.relations.insert(Relation {
                from: id.clone(),
                to: child_id,
                kind: RelationType::Contains,
            });
        }
        id
    }

    /// Derives relations, applies the sources' owner hints, and returns assets sorted by kind
    /// then id, and relations.
    pub fn finish(mut self, owner_hints: &[OwnerHints]) -> (Vec<Asset>, Vec<Relation>) {
        self.adopt_public_halves();
        self.link_keys();
        self.link_issuers();
        let mut assets: Vec<Asset> = self.assets.into_values().collect();
        for a in &mut assets {
            a.occurrences.sort();
            apply_owner_hints(a, owner_hints);
        }
        assets.sort_by(|a, b| (a.kind, &a.id).cmp(&(b.kind, &b.id)));
        (assets, self.relations.into_iter().collect())
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

    fn link_issuers(&mut self) {
        // Index certificates by raw subject name; verify only name matches.
        let mut names: HashMap<&str, (Vec<u8>, Vec<u8>)> = HashMap::new();
        let mut by_subject: HashMap<Vec<u8>, Vec<&str>> = HashMap::new();
        for (id, der) in &self.cert_der {
            if let Some((subject, issuer)) = x509::names(der) {
                by_subject.entry(subject.clone()).or_default().push(id);
                names.insert(id, (subject, issuer));
            }
        }
        for (id, (_, issuer)) in &names {
            let Some(candidates) = by_subject.get(issuer) else {
                continue;
            };
            for cand in candidates {
                if cand == id {
                    continue; // self-signed: no relation to itself
                }
                if x509::verify_issued_by(&self.cert_der[*id], &self.cert_der[*cand]) {
                    self.relations.insert(Relation {
                        from: id.to_string(),
                        to: cand.to_string(),
                        kind: RelationType::IssuedBy,
                    });
                }
            }
        }
    }
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
/// (with a container) replaces a vaguer one at the same path and line.
fn add_occurrence(list: &mut Vec<Occurrence>, occ: Occurrence) {
    if let Some(existing) = list
        .iter_mut()
        .find(|o| o.path == occ.path && o.line == occ.line)
    {
        if existing.container.is_none() && occ.container.is_some() {
            *existing = occ;
        }
        return;
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
