//! How far a failure reaches, within one report: for each asset, how many consumers and
//! endpoints depend on it transitively, over the same edges `trustmap impact` walks in the
//! store (what depends on X: `issued-by`, `contains`, `uses` and `serves` into X, `key-of`
//! out of X). Findings carry it (`used_by` evidence and a message suffix) and the policy's
//! `[impact]` thresholds raise their severity with it ([`Reach::annotate`]).
//!
//! Computed from the other end: each consumer and endpoint walks what it depends on (the
//! same edges reversed), breadth first, each asset once per walk, at most [`MAX_DEPTH`]
//! levels, and all walks together at most [`MAX_WORK`] edge steps. A certificate chain is a
//! few levels deep, so this costs a few steps per consumer where walking down from every
//! asset would cost the whole tree under each root. Past the work bound the counts are too
//! low and [`Reach::cut_short`] says so (the engine makes it an `errors` entry).

use super::config::Policy;
use crate::{Asset, AssetKind, Finding, Relation, RelationType, Severity};
use std::collections::HashMap;

/// Levels walked at most from a consumer or endpoint (as `Store::impact`).
pub const MAX_DEPTH: usize = 64;
/// Edge steps of all walks together.
pub const MAX_WORK: usize = 10_000_000;
/// Names listed in a finding's message.
pub const NAMES_SHOWN: usize = 3;

/// Who depends on one asset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Users {
    pub consumers: usize,
    pub endpoints: usize,
    /// The first [`NAMES_SHOWN`] of them by name (`nginx server api (listen 443)`).
    pub names: Vec<String>,
}

impl Users {
    /// Consumers and endpoints.
    pub fn total(&self) -> usize {
        self.consumers + self.endpoints
    }

    /// `used by 3 consumers and 1 endpoint: a, b, c, ...`
    pub fn describe(&self) -> String {
        let plural = |n: usize, what: &str| {
            if n == 1 {
                format!("1 {what}")
            } else {
                format!("{n} {what}s")
            }
        };
        let mut parts = Vec::new();
        if self.consumers > 0 {
            parts.push(plural(self.consumers, "consumer"));
        }
        if self.endpoints > 0 {
            parts.push(plural(self.endpoints, "endpoint"));
        }
        let more = if self.total() > self.names.len() {
            ", ..."
        } else {
            ""
        };
        format!(
            "used by {}: {}{more}",
            parts.join(" and "),
            self.names.join(", ")
        )
    }
}

/// The reach of every asset of a report.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// Asset id -> who depends on it (assets nobody depends on are absent).
    pub by_asset: HashMap<String, Users>,
    /// Whether the report holds any consumer or endpoint at all (`asset-unused` needs one).
    pub saw_users: bool,
    /// Why the counts are incomplete, when a bound was hit.
    pub cut_short: Option<String>,
}

impl Reach {
    /// The reach of every asset in `assets` over `relations`.
    pub fn compute(assets: &[Asset], relations: &[Relation]) -> Reach {
        Reach::compute_bounded(assets, relations, MAX_WORK)
    }

    /// [`Reach::compute`] with a work bound of `max_work` edge steps (tests use small ones).
    pub fn compute_bounded(assets: &[Asset], relations: &[Relation], max_work: usize) -> Reach {
        let is_user = |a: &Asset| matches!(a.kind, AssetKind::Consumer | AssetKind::Endpoint);
        let mut reach = Reach {
            saw_users: assets.iter().any(is_user),
            ..Reach::default()
        };
        if !reach.saw_users {
            return reach;
        }
        let index: HashMap<&str, usize> = assets
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.as_str(), i))
            .collect();
        // What each asset depends on: the impact edges reversed.
        let mut deps: Vec<Vec<usize>> = vec![Vec::new(); assets.len()];
        for r in relations {
            let (Some(&from), Some(&to)) = (index.get(r.from.as_str()), index.get(r.to.as_str()))
            else {
                continue;
            };
            match r.kind {
                RelationType::IssuedBy
                | RelationType::Contains
                | RelationType::Uses
                | RelationType::Serves => deps[from].push(to),
                RelationType::KeyOf => deps[to].push(from),
            }
        }
        let mut counts: Vec<Users> = vec![Users::default(); assets.len()];
        // Visited marks: the walk number that last reached each asset.
        let mut mark: Vec<usize> = vec![usize::MAX; assets.len()];
        let mut work = 0usize;
        let mut deep = 0usize;
        'walks: for (u, user) in assets.iter().enumerate().filter(|(_, a)| is_user(a)) {
            let name = user.label();
            mark[u] = u;
            let mut frontier = vec![u];
            let mut depth = 0;
            while !frontier.is_empty() {
                if depth >= MAX_DEPTH {
                    deep += 1;
                    break;
                }
                depth += 1;
                let mut next = Vec::new();
                for x in frontier {
                    for &y in &deps[x] {
                        work += 1;
                        if work > max_work {
                            reach.cut_short = Some(format!(
                                "impact counts cut short: more than {max_work} relation steps from the scan's consumers and endpoints; findings' used-by counts are low and asset-unused is not raised"
                            ));
                            break 'walks;
                        }
                        if mark[y] == u {
                            continue;
                        }
                        mark[y] = u;
                        let c = &mut counts[y];
                        if user.kind == AssetKind::Consumer {
                            c.consumers += 1;
                        } else {
                            c.endpoints += 1;
                        }
                        // The first names in order, whatever order the walks run in.
                        if c.names.len() < NAMES_SHOWN || c.names.last().is_some_and(|l| name < *l)
                        {
                            let at = c.names.partition_point(|n| *n < name);
                            c.names.insert(at, name.clone());
                            c.names.truncate(NAMES_SHOWN);
                        }
                        next.push(y);
                    }
                }
                frontier = next;
            }
        }
        if deep > 0 && reach.cut_short.is_none() {
            reach.cut_short = Some(format!(
                "impact counts cut short: {deep} consumers or endpoints depend on chains more than {MAX_DEPTH} levels deep; what lies deeper is not counted"
            ));
        }
        for (a, c) in assets.iter().zip(counts) {
            if c.total() > 0 {
                reach.by_asset.insert(a.id.clone(), c);
            }
        }
        reach
    }

    /// Who depends on asset `id`, if anyone.
    pub fn of(&self, id: &str) -> Option<&Users> {
        self.by_asset.get(id)
    }

    /// Adds each finding's reach (evidence `used_by`, a message suffix) and raises its
    /// severity by the policy's `[impact]` thresholds. Info findings keep their severity.
    pub fn annotate(&self, findings: &mut [Finding], policy: &Policy) {
        for f in findings {
            let Some(u) = self.of(&f.asset) else { continue };
            f.evidence.insert("used_by".into(), u.total().to_string());
            f.message = format!("{} ({})", f.message, u.describe());
            let raised = policy.impact.raise(f.severity, u.total());
            if raised != f.severity {
                f.evidence
                    .insert("severity_before_impact".into(), f.severity.as_str().into());
                f.severity = raised;
            }
        }
    }
}

/// The `[impact]` section: how a finding's severity rises with the number of consumers and
/// endpoints that depend on its asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImpactPolicy {
    /// `false` (`enabled = false`, only in a `--policy` file): severities are never raised.
    pub enabled: bool,
    /// At this many or more, a finding is one step more severe (low -> medium ...).
    pub raise_by_one_at: u32,
    /// At this many or more, a finding is critical.
    pub raise_to_critical_at: u32,
}

impl Default for ImpactPolicy {
    fn default() -> Self {
        ImpactPolicy {
            enabled: true,
            raise_by_one_at: 3,
            raise_to_critical_at: 10,
        }
    }
}

impl ImpactPolicy {
    /// The severity of a finding whose asset `users` consumers and endpoints depend on.
    pub fn raise(&self, severity: Severity, users: usize) -> Severity {
        if !self.enabled || severity == Severity::Info || users == 0 {
            return severity;
        }
        if users >= self.raise_to_critical_at as usize {
            return Severity::Critical;
        }
        if users >= self.raise_by_one_at as usize {
            return match severity {
                Severity::Info => Severity::Info,
                Severity::Low => Severity::Medium,
                Severity::Medium => Severity::High,
                Severity::High | Severity::Critical => Severity::Critical,
            };
        }
        severity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConsumerInfo, Occurrence};

    fn asset(id: &str, kind: AssetKind) -> Asset {
        Asset {
            id: id.into(),
            kind,
            fingerprint: format!("sha256:{id}"),
            occurrences: vec![Occurrence {
                path: "x".into(),
                line: None,
                offset: None,
                container: None,
                root: None,
            }],
            certificate: None,
            key: None,
            secret: None,
            keystore: None,
            endpoint: None,
            consumer: (kind == AssetKind::Consumer).then(|| ConsumerInfo {
                software: "nginx".into(),
                name: format!("server {id}"),
                references: vec![],
                ..Default::default()
            }),
            owners: vec![],
        }
    }

    fn rel(from: &str, to: &str, kind: RelationType) -> Relation {
        Relation {
            from: from.into(),
            to: to.into(),
            kind,
        }
    }

    /// root <- int <- leaf <- key (key-of); consumers c0..c4 use the leaf, c5 the key.
    fn estate() -> (Vec<Asset>, Vec<Relation>) {
        let mut assets = vec![
            asset("crt_root", AssetKind::Certificate),
            asset("crt_int", AssetKind::Certificate),
            asset("crt_leaf", AssetKind::Certificate),
            asset("key_leaf", AssetKind::PrivateKey),
            asset("crt_other", AssetKind::Certificate),
        ];
        let mut rels = vec![
            rel("crt_int", "crt_root", RelationType::IssuedBy),
            rel("crt_leaf", "crt_int", RelationType::IssuedBy),
            rel("key_leaf", "crt_leaf", RelationType::KeyOf),
        ];
        for i in 0..6 {
            let id = format!("csm_{i}");
            assets.push(asset(&id, AssetKind::Consumer));
            let to = if i < 5 { "crt_leaf" } else { "key_leaf" };
            rels.push(rel(&id, to, RelationType::Uses));
        }
        (assets, rels)
    }

    #[test]
    fn consumers_count_transitively_over_the_impact_edges() {
        let (assets, rels) = estate();
        let r = Reach::compute(&assets, &rels);
        assert!(r.saw_users && r.cut_short.is_none());
        // The certificate's users depend on its chain; c5 uses only the key.
        for id in ["crt_root", "crt_int", "crt_leaf"] {
            assert_eq!(r.of(id).unwrap().consumers, 5, "{id}");
        }
        // A compromised key breaks its certificate: its users depend on the key too.
        assert_eq!(r.of("key_leaf").unwrap().consumers, 6);
        assert!(r.of("crt_other").is_none());
        assert!(r.of("csm_0").is_none());
        let u = r.of("crt_leaf").unwrap();
        assert_eq!(
            u.describe(),
            "used by 5 consumers: nginx server csm_0, nginx server csm_1, nginx server csm_2, ..."
        );
    }

    #[test]
    fn the_work_bound_cuts_the_counts_short_and_says_so() {
        let (assets, rels) = estate();
        let r = Reach::compute_bounded(&assets, &rels, 5);
        let why = r.cut_short.clone().expect("cut short");
        assert!(why.contains("more than 5 relation steps"), "{why}");
        assert!(r.of("crt_root").is_none_or(|u| u.consumers < 5));
    }

    #[test]
    fn the_depth_bound_stops_long_chains_and_says_so() {
        // c -> crt_0 -> crt_1 -> ... -> crt_99 (issued-by).
        let mut assets = vec![asset("csm_c", AssetKind::Consumer)];
        let mut rels = vec![rel("csm_c", "crt_0", RelationType::Uses)];
        for i in 0..100 {
            assets.push(asset(&format!("crt_{i}"), AssetKind::Certificate));
            if i > 0 {
                rels.push(rel(
                    &format!("crt_{}", i - 1),
                    &format!("crt_{i}"),
                    RelationType::IssuedBy,
                ));
            }
        }
        let r = Reach::compute(&assets, &rels);
        assert!(r.of(&format!("crt_{}", MAX_DEPTH - 1)).is_some());
        assert!(r.of(&format!("crt_{MAX_DEPTH}")).is_none());
        assert!(r.cut_short.unwrap().contains("64 levels deep"));
    }

    #[test]
    fn severities_rise_with_reach() {
        let p = ImpactPolicy::default();
        assert_eq!(p.raise(Severity::Medium, 2), Severity::Medium);
        assert_eq!(p.raise(Severity::Medium, 3), Severity::High);
        assert_eq!(p.raise(Severity::High, 3), Severity::Critical);
        assert_eq!(p.raise(Severity::Low, 10), Severity::Critical);
        assert_eq!(p.raise(Severity::Info, 100), Severity::Info);
        let off = ImpactPolicy {
            enabled: false,
            ..p
        };
        assert_eq!(off.raise(Severity::Low, 100), Severity::Low);
    }
}
