//! The policy engine: the rule catalogue ([`RULES`], data with examples), the policy file
//! (`trustmap.toml` -> [`Policy`]) and the evaluation of an inventory against both.
//!
//! Entry points:
//! - [`Policy::from_toml`] / [`Policy::from_toml_with`] parse and validate a policy file;
//!   [`Policy::default`] is the built-in policy and [`default_policy_toml`] its commented
//!   text for `trustmap init`.
//! - [`evaluate_with`] judges assets and relations under a policy with [`Inputs`] (history,
//!   trusted roots, X.509 lint severities).
//! - [`evaluate`] is the first API, kept for its callers: the built-in policy, no inputs.
//!
//! How the CLI wires it:
//!
//! ```text
//! let extra: Vec<&str> = trustmap_discover::lint::LINTS.iter().map(|l| l.id).collect();
//! let policy = match policy_file {            // --policy FILE, else <root>/trustmap.toml
//!     Some(p) => Policy::from_toml_with(&std::fs::read_to_string(p)?, &p.display().to_string(), &extra)?,
//!     None => Policy::default(),
//! };
//! let mut inputs = Inputs::default();
//! inputs.trusted_roots = /* SHA-256 of each cert (or SPKI) of the system store and of
//!                           policy.trusted_bundles, read relative to the policy file */;
//! inputs.public_roots = /* the system / WebPKI store, when known */;
//! inputs.anchor_names = /* subject DN and SKI hex of each trusted root -> is it public */;
//! inputs.first_seen = /* store: first seen per asset id */;
//! for l in LINTS { inputs.lint_severities.insert(l.id.into(), l.severity);
//!                  inputs.lint_descriptions.insert(l.id.into(), l.description.into()); }
//! let findings = evaluate_with(&assets, &relations, &policy, now, &inputs);
//! ```
//!
//! `trustmap init` writes [`default_policy_toml`]; `trustmap rules` lists [`RULES`] and
//! `trustmap rules show ID` prints a [`Rule`]'s fields and its [`Example`]s.

mod catalogue;
mod config;
mod engine;
mod reach;
mod tighten;

pub use crate::vocab::quantum_vulnerable;
pub use catalogue::{EXAMPLE_NOW, Example, RULES, Rule, rank, rule};
pub use config::{
    HASH_NAMES, KEY_KINDS, Policy, PolicyError, RuleSetting, Scope, Selector, ValidityOverride,
    default_fraction, default_policy_toml,
};
pub use engine::{
    Inputs, KnownCertificate, Scenario, evaluate_with, public_max_days, sort_findings, strength,
};
pub use reach::{ImpactPolicy, Reach, Users};

use crate::{Asset, Finding, Relation};
use time::OffsetDateTime;

/// Applies the built-in policy to an inventory as of `now`, with no history and no trusted
/// roots. Findings carry no evidence here, so the output keeps the contract's first shape;
/// use [`evaluate_with`] for evidence, a policy file and inputs.
pub fn evaluate(assets: &[Asset], relations: &[Relation], now: OffsetDateTime) -> Vec<Finding> {
    let mut out = evaluate_with(
        assets,
        relations,
        &Policy::default(),
        now,
        &Inputs::default(),
    );
    for f in &mut out {
        f.evidence.clear();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AssetKind, CertificateInfo, KeyInfo, Occurrence, Severity};

    fn cert(not_after: &str, hash: &str, bits: u32) -> Asset {
        Asset {
            id: "crt_1".into(),
            kind: AssetKind::Certificate,
            fingerprint: "sha256:1".into(),
            occurrences: vec![Occurrence {
                path: "a.pem".into(),
                line: Some(1),
                offset: None,
                container: None,
                root: None,
            }],
            certificate: Some(CertificateInfo {
                subject_cn: Some("svc".into()),
                not_before: crate::Timestamp::parse("2020-01-01T00:00:00Z").unwrap(),
                not_after: crate::Timestamp::parse(not_after).unwrap(),
                signature_hash: Some(hash.into()),
                signature_algorithm: "x".into(),
                public_key: KeyInfo {
                    algorithm: "RSA".into(),
                    bits: Some(bits),
                    ..KeyInfo::default()
                },
                ..CertificateInfo::default()
            }),
            key: None,
            secret: None,
            keystore: None,
            consumer: None,
            endpoint: None,
            owners: vec![],
        }
    }

    /// The expiry and strength findings (the ones these tests are about).
    fn rules_of(f: &[Finding]) -> Vec<(&str, Severity)> {
        f.iter()
            .filter(|f| {
                f.rule.starts_with("cert-expir")
                    || f.rule == "cert-weak-signature"
                    || f.rule == "key-weak"
            })
            .map(|f| (f.rule.as_str(), f.severity))
            .collect()
    }

    #[test]
    fn expiry_windows_grade_severity() {
        let now = time::macros::datetime!(2026-11-23 00:00 UTC);
        let f = evaluate(&[cert("2026-11-20T00:00:00Z", "SHA-256", 2048)], &[], now);
        assert_eq!(rules_of(&f), [("cert-expired", Severity::High)]);
        let f = evaluate(&[cert("2026-11-28T00:00:00Z", "SHA-256", 2048)], &[], now);
        assert_eq!(rules_of(&f), [("cert-expiring", Severity::Critical)]);
        let f = evaluate(&[cert("2026-12-03T00:00:00Z", "SHA-256", 2048)], &[], now);
        assert_eq!(rules_of(&f), [("cert-expiring", Severity::High)]);
        let f = evaluate(&[cert("2026-12-13T00:00:00Z", "SHA-256", 2048)], &[], now);
        assert_eq!(rules_of(&f), [("cert-expiring", Severity::Medium)]);
        let f = evaluate(&[cert("2027-06-01T00:00:00Z", "SHA-256", 2048)], &[], now);
        assert!(rules_of(&f).is_empty());
    }

    #[test]
    fn weak_signature_and_key() {
        let now = time::macros::datetime!(2026-11-23 00:00 UTC);
        let f = evaluate(&[cert("2030-01-01T00:00:00Z", "SHA-1", 1024)], &[], now);
        let ids: Vec<_> = f.iter().map(|f| f.rule.as_str()).collect();
        assert!(
            ids.contains(&"cert-weak-signature") && ids.contains(&"key-weak"),
            "{ids:?}"
        );
        let f = evaluate(&[cert("2030-01-01T00:00:00Z", "SHA-256", 3072)], &[], now);
        assert!(rules_of(&f).is_empty());
        assert!(f.iter().all(|f| f.evidence.is_empty()));
    }
}
