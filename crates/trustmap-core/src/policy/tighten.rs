//! A policy the person running the scan did not choose (a `trustmap.toml` found in the
//! scanned tree) may tighten the built-in policy but never loosen it.
//!
//! [`Policy::tightened`] keeps every setting that is at least as strict as the base policy
//! and replaces every one that is looser by the base's, listing what it ignored: shorter
//! expiry windows, longer validity limits, smaller key sizes, more allowed hashes, longer
//! cryptoperiods, higher `[impact]` thresholds or `enabled = false`, trusted roots and
//! bundles, and exclude patterns (which would hide files
//! from the scan). `[rules]` and `[[scope]]` severities are judged per finding instead
//! ([`Policy::raise_only`]): they apply only where they raise a finding's severity, and
//! `"off"` is ignored.

use super::catalogue::rule;
use super::config::{Policy, RuleSetting};
use crate::Severity;

impl Policy {
    /// This policy with every setting looser than `base` replaced by `base`'s, and a line
    /// per ignored setting (`rules.cert-wildcard = "off"`, `expiry.high = 3 (below 14)`).
    /// The result has [`Policy::raise_only`] set.
    pub fn tightened(mut self, base: &Policy) -> (Policy, Vec<String>) {
        let mut ignored = Vec::new();

        // Expiry windows: at least the base's days and fraction for each of its windows,
        // then kept in order (a less severe window is never shorter than a more severe one).
        for (sev, base_days) in &base.expiry_windows {
            match self.expiry_windows.iter_mut().find(|(s, _)| s == sev) {
                Some((_, d)) if *d < *base_days => {
                    ignored.push(format!(
                        "expiry.{} = {d} (shorter than {base_days})",
                        sev.as_str()
                    ));
                    *d = *base_days;
                }
                Some(_) => {}
                None => {
                    ignored.push(format!(
                        "expiry.{} removed (the built-in window is {base_days})",
                        sev.as_str()
                    ));
                    self.expiry_windows.push((*sev, *base_days));
                }
            }
        }
        for (sev, base_f) in &base.expiry_fractions {
            match self.expiry_fractions.iter_mut().find(|(s, _)| s == sev) {
                Some((_, f)) if *f < *base_f => {
                    ignored.push(format!(
                        "expiry.lifetime_fraction.{} = {f} (smaller than {base_f})",
                        sev.as_str()
                    ));
                    *f = *base_f;
                }
                Some(_) => {}
                None => self.expiry_fractions.push((*sev, *base_f)),
            }
        }
        self.expiry_windows.sort_by_key(|w| std::cmp::Reverse(w.0));
        let mut longest = 0;
        for (_, d) in &mut self.expiry_windows {
            longest = (*d).max(longest);
            *d = longest;
        }
        self.expiry_fractions
            .sort_by_key(|w| std::cmp::Reverse(w.0));
        let mut largest = 0.0f64;
        for (_, f) in &mut self.expiry_fractions {
            largest = f.max(largest);
            *f = largest;
        }

        // Validity: never a longer limit than the base's.
        if self.private_max_days > base.private_max_days {
            ignored.push(format!(
                "validity.private_max_days = {} (longer than {})",
                self.private_max_days, base.private_max_days
            ));
            self.private_max_days = base.private_max_days;
        }
        let limit = self.private_max_days;
        self.validity_overrides.retain_mut(|o| match o.max_days {
            Some(d) if d > limit => {
                ignored.push(format!(
                    "validity.override {} max_days = {d} (longer than {limit})",
                    o.selector.pattern()
                ));
                o.max_days = Some(limit);
                true
            }
            Some(_) => true,
            // The CA/Browser Forum schedule allows up to 398 days.
            None if limit < 398 => {
                ignored.push(format!(
                    "validity.override {} public = true (the CA/B schedule allows more than {limit} days)",
                    o.selector.pattern()
                ));
                false
            }
            None => true,
        });

        // Key sizes: at least the base's minimum for each algorithm it names.
        for (alg, base_bits) in &base.min_key_bits {
            let bits = self.min_key_bits.entry(alg.clone()).or_insert(0);
            if *bits < *base_bits {
                ignored.push(format!("keys.min_bits.{alg} = {bits} (below {base_bits})"));
                *bits = *base_bits;
            }
        }
        // Signature hashes: only ones the base allows.
        let before = std::mem::take(&mut self.allowed_hashes);
        for h in before {
            if base.allowed_hashes.contains(&h) {
                self.allowed_hashes.push(h);
            } else {
                ignored.push(format!(
                    "signatures.allowed_hashes \"{h}\" (not allowed by default)"
                ));
            }
        }
        // Cryptoperiods: never longer than the base's.
        for (kind, base_days) in &base.rotation_days {
            match self.rotation_days.get_mut(kind) {
                Some(d) if *d > *base_days => {
                    ignored.push(format!("rotation.{kind} = {d} (longer than {base_days})"));
                    *d = *base_days;
                }
                Some(_) => {}
                None => {
                    self.rotation_days.insert(kind.clone(), *base_days);
                }
            }
        }
        // Trust decisions and excluded paths only ever loosen.
        let mut roots: Vec<&String> = self
            .trusted_roots
            .iter()
            .filter(|r| !base.trusted_roots.contains(*r))
            .collect();
        roots.sort();
        for r in roots {
            ignored.push(format!("trust.roots \"{r}\""));
        }
        self.trusted_roots = base.trusted_roots.clone();
        for b in &self.trusted_bundles {
            if !base.trusted_bundles.contains(b) {
                ignored.push(format!("trust.bundles \"{b}\""));
            }
        }
        self.trusted_bundles = base.trusted_bundles.clone();
        for e in &self.exclude {
            if !base.exclude.contains(e) {
                ignored.push(format!("exclude \"{e}\""));
            }
        }
        self.exclude = base.exclude.clone();

        // Impact thresholds: never higher than the base's, never switched off.
        if !self.impact.enabled && base.impact.enabled {
            ignored.push("impact.enabled = false".to_string());
            self.impact.enabled = true;
        }
        if self.impact.raise_by_one_at > base.impact.raise_by_one_at {
            ignored.push(format!(
                "impact.raise_by_one_at = {} (higher than {})",
                self.impact.raise_by_one_at, base.impact.raise_by_one_at
            ));
            self.impact.raise_by_one_at = base.impact.raise_by_one_at;
        }
        if self.impact.raise_to_critical_at > base.impact.raise_to_critical_at {
            ignored.push(format!(
                "impact.raise_to_critical_at = {} (higher than {})",
                self.impact.raise_to_critical_at, base.impact.raise_to_critical_at
            ));
            self.impact.raise_to_critical_at = base.impact.raise_to_critical_at;
        }

        // Rules and scopes: listed here when they can only loosen; judged per finding.
        let mut rules: Vec<(&String, &RuleSetting)> = self.rules.iter().collect();
        rules.sort_by(|a, b| a.0.cmp(b.0));
        for (id, setting) in rules {
            match setting {
                RuleSetting::Off if base.rule_setting(id) != RuleSetting::Off => {
                    ignored.push(format!("rules.{id} = \"off\""));
                }
                RuleSetting::Severity(s) if rule(id).is_some_and(|r| *s < r.severity) => {
                    ignored.push(format!(
                        "rules.{id} = \"{}\" (below its default {})",
                        s.as_str(),
                        rule(id).map_or(Severity::Info, |r| r.severity).as_str()
                    ));
                }
                _ => {}
            }
        }
        for (i, s) in self.scopes.iter().enumerate() {
            match s.setting {
                RuleSetting::Off => {
                    ignored.push(format!("scope[{i}] {} severity = \"off\"", s.path))
                }
                RuleSetting::Severity(sev) => ignored.push(format!(
                    "scope[{i}] {} severity = \"{}\" where it would lower a finding",
                    s.path,
                    sev.as_str()
                )),
                RuleSetting::On => {}
            }
        }
        self.raise_only = true;
        (self, ignored)
    }
}
