//! Post-quantum readiness as data: which certificates and keys use a public-key algorithm
//! that a quantum computer breaks (RSA, EC, DSA, DH, EdDSA, X25519/X448), by kind and by
//! owner, against the NIST IR 8547 (initial public draft) dates, and what to migrate first:
//! CA keys and certificates, then the longest-lived. Front ends render it.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use trustmap_core::{Asset, AssetKind, KeyInfo, RelationType, Report, policy};

/// IR 8547 (ipd): 112-bit security strength deprecated after this year.
pub const DEPRECATED_AFTER: u32 = 2030;
/// IR 8547 (ipd): every quantum-vulnerable algorithm disallowed after this year.
pub const DISALLOWED_AFTER: u32 = 2035;

/// The public key an asset carries: a certificate's, or a key's own.
fn key_of(a: &Asset) -> Option<&KeyInfo> {
    match a.kind {
        AssetKind::Certificate => a.certificate.as_ref().map(|c| &c.public_key),
        AssetKind::PrivateKey | AssetKind::PublicKey => a.key.as_ref(),
        _ => None,
    }
}

/// The first owner of an asset, or "unowned".
pub fn owner(a: &Asset) -> String {
    a.owners
        .first()
        .map_or_else(|| "unowned".to_string(), |o| o.name.clone())
}

/// Counts of vulnerable / all certificates and keys; `unknown` are those whose algorithm
/// nothing tells (an encrypted key with no public half beside it): counted in `total`, never
/// as safe.
#[derive(Default, Clone, Copy)]
pub struct Share {
    pub vulnerable: usize,
    pub unknown: usize,
    pub total: usize,
}

impl Share {
    fn add(&mut self, vulnerable: Option<bool>) {
        self.total += 1;
        self.vulnerable += usize::from(vulnerable == Some(true));
        self.unknown += usize::from(vulnerable.is_none());
    }
    /// Vulnerable share in percent (0 when there is nothing).
    pub fn percent(self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            100.0 * self.vulnerable as f64 / self.total as f64
        }
    }
}

/// Whole-inventory share, the same split by kind and by owner, and how many vulnerable
/// assets are at 112-bit strength or below (deprecated after 2030 already).
#[derive(Default)]
pub struct Tally {
    pub all: Share,
    pub by_kind: BTreeMap<AssetKind, Share>,
    pub by_owner: BTreeMap<String, Share>,
    pub deprecated_2030: usize,
}

/// Whether the key is quantum-vulnerable, and whether its strength is 112 bits or less
/// (or unknown), which IR 8547 deprecates after 2030.
fn verdict(k: &KeyInfo) -> Option<bool> {
    trustmap_core::quantum_vulnerable(&k.algorithm)
        .then(|| policy::strength(k).is_none_or(|s| s <= 112))
}

/// Whether the key's algorithm is known at all ("unknown": an encrypted key whose
/// algorithm nothing tells).
pub fn algorithm_known(k: &KeyInfo) -> bool {
    !k.algorithm.is_empty() && k.algorithm != "unknown"
}

/// Counts the quantum-vulnerable certificates and keys of a report.
pub fn tally(r: &Report) -> Tally {
    let mut t = Tally::default();
    for a in &r.assets {
        let Some(k) = key_of(a) else { continue };
        let v = verdict(k);
        let vulnerable = algorithm_known(k).then_some(v.is_some());
        t.all.add(vulnerable);
        t.by_kind.entry(a.kind).or_default().add(vulnerable);
        t.by_owner.entry(owner(a)).or_default().add(vulnerable);
        t.deprecated_2030 += usize::from(v == Some(true));
    }
    t
}

/// One row of the migration plan.
pub struct Item<'a> {
    pub asset: &'a Asset,
    /// 0: CA key or certificate; 1: dated (certificate, or key of one); 2: undated key.
    pub tier: u8,
    /// When it stops being used: notAfter of the certificate (latest of the key's).
    pub until: Option<String>,
    /// When the inventory first saw it (key age), when the scan was recorded.
    pub since: Option<String>,
    pub why: String,
}

/// Quantum-vulnerable certificates and keys in migration order: CA keys and certificates
/// first (roots before intermediates), then the longest-lived by notAfter, then keys without
/// a certificate, oldest first by `first_seen` (asset id -> first seen in the inventory);
/// ties by id.
pub fn plan<'a>(r: &'a Report, first_seen: &BTreeMap<String, String>) -> Vec<Item<'a>> {
    let by_id: BTreeMap<&str, &Asset> = r.assets.iter().map(|a| (a.id.as_str(), a)).collect();
    // private key -> certificates with the same public key
    let mut certs_of: BTreeMap<&str, Vec<&Asset>> = BTreeMap::new();
    for rel in &r.relations {
        if rel.kind == RelationType::KeyOf
            && let Some(c) = by_id.get(rel.to.as_str())
            && c.certificate.is_some()
        {
            certs_of.entry(rel.from.as_str()).or_default().push(c);
        }
    }
    let mut items: Vec<(u8, bool, Item<'_>)> = Vec::new();
    for a in &r.assets {
        let Some(k) = key_of(a) else { continue };
        let Some(weak) = verdict(k) else { continue };
        let certs: Vec<&Asset> = match &a.certificate {
            Some(_) => vec![a],
            None => certs_of.get(a.id.as_str()).cloned().unwrap_or_default(),
        };
        let infos: Vec<_> = certs
            .iter()
            .filter_map(|c| c.certificate.as_ref())
            .collect();
        let ca = infos.iter().find(|c| c.is_ca);
        let until = infos.iter().map(|c| c.not_after.to_string()).max();
        let alg = match (&k.curve, k.bits) {
            (Some(c), _) => format!("{} {c}", k.algorithm),
            (None, Some(b)) if !k.algorithm.starts_with("Ed") && !k.algorithm.starts_with('X') => {
                format!("{} {b}", k.algorithm)
            }
            _ => k.algorithm.clone(),
        };
        let mut why = Vec::new();
        let (tier, root) = match ca {
            Some(c) => {
                let what = if c.self_signed {
                    "root CA"
                } else {
                    "intermediate CA"
                };
                why.push(if a.kind == AssetKind::Certificate {
                    format!("{what} certificate: what it issued moves with it")
                } else {
                    format!("private key of a {what}: what it signs moves with it")
                });
                (0, c.self_signed)
            }
            None if until.is_some() => (1, false),
            None => (2, false),
        };
        match &until {
            Some(u) => {
                let year: u32 = u.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
                why.push(if year > DISALLOWED_AFTER {
                    format!(
                        "valid until {}, past the {DISALLOWED_AFTER} disallowance",
                        &u[..10]
                    )
                } else if year > DEPRECATED_AFTER && weak {
                    format!(
                        "valid until {}, past the {DEPRECATED_AFTER} deprecation",
                        &u[..10]
                    )
                } else {
                    format!("valid until {}", u.get(..10).unwrap_or(u))
                });
            }
            None => why.push(match first_seen.get(&a.id) {
                Some(t) => format!(
                    "no certificate; in the inventory since {}",
                    t.get(..10).unwrap_or(t)
                ),
                None => "no certificate: lifetime unknown".to_string(),
            }),
        }
        why.push(if weak {
            format!(
                "{alg}: deprecated after {DEPRECATED_AFTER}, disallowed after {DISALLOWED_AFTER}"
            )
        } else {
            format!("{alg}: disallowed after {DISALLOWED_AFTER}")
        });
        items.push((
            tier,
            root,
            Item {
                asset: a,
                tier,
                until,
                since: first_seen.get(&a.id).cloned(),
                why: why.join("; "),
            },
        ));
    }
    items.sort_by(|(ta, ra, a), (tb, rb, b)| {
        ta.cmp(tb)
            .then(rb.cmp(ra))
            .then(b.until.cmp(&a.until))
            // oldest first; unknown age last
            .then((a.since.is_none(), &a.since).cmp(&(b.since.is_none(), &b.since)))
            // a CA's key before its certificate: the key is what must not leak or outlive it
            .then(
                (a.asset.kind != AssetKind::PrivateKey)
                    .cmp(&(b.asset.kind != AssetKind::PrivateKey)),
            )
            .then(a.asset.id.cmp(&b.asset.id))
    });
    items.into_iter().map(|(_, _, i)| i).collect()
}

fn share_json(s: Share) -> Value {
    json!({
        "vulnerable": s.vulnerable,
        "unknown": s.unknown,
        "total": s.total,
        "percent": (s.percent() * 10.0).round() / 10.0,
    })
}

/// The readiness report as JSON (`trustmap pqc --format json`).
pub fn to_json(r: &Report, first_seen: &BTreeMap<String, String>) -> Value {
    let t = tally(r);
    let by_kind: serde_json::Map<String, Value> = t
        .by_kind
        .iter()
        .map(|(k, s)| (k.as_str().to_string(), share_json(*s)))
        .collect();
    let by_owner: serde_json::Map<String, Value> = t
        .by_owner
        .iter()
        .map(|(o, s)| (o.clone(), share_json(*s)))
        .collect();
    let plan: Vec<Value> = plan(r, first_seen)
        .iter()
        .enumerate()
        .map(|(i, it)| {
            json!({
                "rank": i + 1,
                "id": it.asset.id,
                "kind": it.asset.kind,
                "label": it.asset.label(),
                "path": it.asset.occurrences.first().map(|o| o.path.clone()),
                "owner": owner(it.asset),
                "ca": it.tier == 0,
                "not_after": it.until,
                "first_seen": it.since,
                "why": it.why,
            })
        })
        .collect();
    json!({
        "standard": "NIST IR 8547 (initial public draft)",
        "deprecated_after": DEPRECATED_AFTER,
        "disallowed_after": DISALLOWED_AFTER,
        "quantum_vulnerable": share_json(t.all),
        "deprecated_after_2030": t.deprecated_2030,
        "by_kind": by_kind,
        "by_owner": by_owner,
        "migrate_first": plan,
    })
}
