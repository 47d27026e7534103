//! Waivers: an exception for one rule on one asset until a date, recorded in the store. A
//! scan that uses the store marks the findings an active waiver covers as waived (still
//! reported; gates ignore them). An expired waiver no longer applies, and the finding says so
//! in its evidence. "Active" is judged at the request's clock ([`crate::Clock::now`]).
//!
//! The rule must be a built-in one (policy rule or X.509 lint) or a custom Rego rule whose
//! files spell its id as a string literal, so a typo cannot record a waiver that never
//! applies; an unknown id is refused with the nearest known ids as suggestions.

use crate::Error;
use crate::record::{self, StoreHandle};
use std::path::PathBuf;
use time::OffsetDateTime;
use trustmap_core::{AssetKind, Finding, Timestamp, Waiver, rfc3339};
use trustmap_store::{NewWaiver, WaiverRow};

/// Where a waiver stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Expired,
    Revoked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Expired => "expired",
            Status::Revoked => "revoked",
        }
    }
}

/// The status of `w` at `now`.
pub fn status(w: &WaiverRow, now: OffsetDateTime) -> Status {
    if w.revoked_at.is_some() {
        Status::Revoked
    } else if w.until > rfc3339(now) {
        Status::Active
    } else {
        Status::Expired
    }
}

/// How applying waivers changed the findings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Findings an active waiver covers.
    pub waived: usize,
    /// Findings whose waiver has expired (raised again).
    pub expired: usize,
}

/// Marks the findings an active waiver in `rows` covers at `now`; notes an expired one in
/// the evidence (`waiver_expired`, `waiver_expired_by`) so the finding is raised again
/// visibly. Revoked waivers are ignored; of several, the one that lasts longest decides.
pub fn apply(findings: &mut [Finding], rows: &[WaiverRow], now: OffsetDateTime) -> Applied {
    let mut applied = Applied::default();
    if rows.is_empty() {
        return applied;
    }
    let now = Timestamp::from(now);
    // A stored `until` that does not parse never waives anything (it counts as expired).
    let until = |w: &WaiverRow| Timestamp::parse(&w.until).unwrap_or_default();
    for f in findings.iter_mut() {
        let matching = rows
            .iter()
            .filter(|w| w.revoked_at.is_none() && w.rule == f.rule && w.asset == f.asset);
        let Some(w) = matching.max_by_key(|w| until(w)) else {
            continue;
        };
        if until(w) > now {
            f.waiver = Some(Waiver {
                by: w.by.clone(),
                reason: w.reason.clone(),
                until: until(w),
            });
            applied.waived += 1;
        } else {
            f.evidence.insert("waiver_expired".into(), w.until.clone());
            f.evidence.insert("waiver_expired_by".into(), w.by.clone());
            applied.expired += 1;
        }
    }
    applied
}

/// Whether `id` is a built-in rule id.
pub fn known_rule(id: &str) -> bool {
    builtin_ids().any(|b| b == id)
}

/// The built-in rule ids: policy rules, then X.509 lints.
pub fn builtin_ids() -> impl Iterator<Item = &'static str> {
    trustmap_core::policy::RULES
        .iter()
        .map(|r| r.id.as_str())
        .chain(trustmap_discover::lint::LINTS.iter().map(|l| l.id))
}

/// Candidates within two edits of `id`, nearest first.
pub fn near<'a>(id: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<(usize, &str)> = candidates
        .map(|c| (strsim::levenshtein(id, c), c))
        .filter(|(d, _)| *d <= 2)
        .collect();
    v.sort();
    v.into_iter().map(|(_, c)| c).collect()
}

/// The kinds of asset `rule` can raise findings on: a catalogue rule's kinds; an X.509
/// lint's, certificates; `None` for a custom rule (any kind).
pub fn rule_kinds(rule: &str) -> Option<&'static [AssetKind]> {
    if let Some(r) = trustmap_core::policy::rule(rule) {
        return Some(r.kinds);
    }
    trustmap_discover::lint::LINTS
        .iter()
        .any(|l| l.id == rule)
        .then_some(&[AssetKind::Certificate][..])
}

/// Grants a waiver, refusing one that could never apply: a rule unknown (see
/// [`check_rule`]; `rego` as given to a scan), a rule that never looks at the asset's kind
/// ([`Error::NotApplicable`]), or a second waiver in force of the same rule on the same
/// asset (the store's [`trustmap_store::Error::Conflict`]). Returns the waiver and whether
/// its rule is a custom one.
pub fn grant(
    store: StoreHandle<'_>,
    w: &NewWaiver,
    rego: &[PathBuf],
) -> Result<(WaiverRow, bool), Error> {
    let custom = check_rule(&w.rule, rego)?;
    if let Some(kinds) = rule_kinds(&w.rule) {
        let kind = record::asset_kind(store, &w.asset)?;
        if !kinds.contains(&kind) {
            let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            return Err(Error::NotApplicable(format!(
                "{} is a {kind}, and {} applies only to {}: a waiver of it there could never \
                 apply",
                w.asset,
                w.rule,
                names.join(", ")
            )));
        }
    }
    Ok((record::grant_waiver(store, w)?, custom))
}

/// Checks that `rule` can be waived: built in, or found in the `rego` files (as given to a
/// scan's Rego option). Returns whether it is a custom rule.
pub fn check_rule(rule: &str, rego: &[PathBuf]) -> Result<bool, Error> {
    if known_rule(rule) {
        return Ok(false);
    }
    let builtin_near = near(rule, builtin_ids());
    if rego.is_empty() {
        let hint = match builtin_near.first() {
            Some(n) => format!("did you mean {n}? "),
            None => String::new(),
        };
        return Err(Error::UnknownRule(format!(
            "unknown rule {rule:?}: {hint}`trustmap rules` lists the built-in rule ids; for a \
             custom Rego rule, also pass its rules with --rego FILE|DIR"
        )));
    }
    let (found, ids) = crate::rego::mentions_id(rego, rule)?;
    if found {
        return Ok(true);
    }
    let mut suggest = near(rule, ids.iter().map(String::as_str));
    suggest.extend(builtin_near);
    let hint = match (suggest.first(), ids.is_empty()) {
        (Some(n), _) => format!("did you mean {n}?"),
        (None, false) => format!("their ids: {}", ids.join(", ")),
        (None, true) => "they spell out no \"id\": \"...\" literal".to_string(),
    };
    Err(Error::UnknownRule(format!(
        "unknown rule {rule:?}: not a built-in rule and not in the --rego files ({hint})"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_and_lints_are_known() {
        assert!(known_rule("key-unprotected"));
        assert!(known_rule("x509-serial-zero"));
        assert!(!known_rule("no-such-rule"));
    }

    #[test]
    fn rules_know_the_kinds_they_apply_to() {
        assert_eq!(
            rule_kinds("cert-expired"),
            Some(&[AssetKind::Certificate][..])
        );
        assert!(
            rule_kinds("secret-plaintext")
                .unwrap()
                .contains(&AssetKind::Secret)
        );
        assert!(
            !rule_kinds("secret-plaintext")
                .unwrap()
                .contains(&AssetKind::Certificate)
        );
        assert_eq!(
            rule_kinds("x509-serial-zero"),
            Some(&[AssetKind::Certificate][..])
        );
        assert_eq!(rule_kinds("org-legacy-ca-2027"), None);
    }

    #[test]
    fn typos_of_builtin_ids_are_near() {
        assert_eq!(near("key-unprotcted", builtin_ids()), ["key-unprotected"]);
        assert!(near("org-payments-rsa-3072", builtin_ids()).is_empty());
        let err = check_rule("key-unprotcted", &[]).unwrap_err().to_string();
        assert!(err.contains("did you mean key-unprotected?"), "{err}");
        let err = check_rule("org-legacy-ca-2027", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--rego FILE|DIR") && !err.contains("did you mean"),
            "{err}"
        );
    }
}
