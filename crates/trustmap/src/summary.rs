//! The readable summary printed by `trustmap scan` by default: counts by kind, then what
//! needs attention first (findings by severity, with owner and path), then errors.

use std::fmt::Write as _;
use trustmap_core::{Asset, AssetKind, Finding, Report, Severity};

/// Findings shown per severity before "... and N more".
const SHOWN: usize = 12;
/// Ignored policy settings listed before "... and N more" (all with `--all`).
const IGNORED_SHOWN: usize = 10;

pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn plural(kind: AssetKind) -> &'static str {
    match kind {
        AssetKind::Certificate => "certificates",
        AssetKind::PrivateKey => "private keys",
        AssetKind::PublicKey => "public keys",
        AssetKind::Keystore => "keystores",
        AssetKind::Secret => "secrets",
        AssetKind::Endpoint => "endpoints",
        AssetKind::Consumer => "consumers",
    }
}

/// `n` and its noun, singular or plural: "1 place", "3 places".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `path:line`, `path`, or nothing.
fn place_of(f: &Finding) -> String {
    match (&f.path, f.line) {
        (Some(p), Some(l)) => format!("{p}:{l}"),
        (Some(p), None) => p.clone(),
        _ => String::new(),
    }
}

fn owner(a: Option<&Asset>) -> String {
    match a.and_then(|a| a.owners.first()) {
        Some(o) => o.name.clone(),
        None => "unowned".into(),
    }
}

/// `baseline`: whether the findings were compared with a `--baseline` file; `all`: list
/// every finding (low and info ones too, one by one) and every error, with no cap.
pub fn render(r: &Report, _now: time::OffsetDateTime, baseline: bool, all: bool) -> String {
    let shown = if all { usize::MAX } else { SHOWN };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "trustmap {} scanned {} files ({}) in {:.2}s: {}",
        r.tool.version,
        r.scan.files_scanned,
        human_bytes(r.scan.bytes_scanned),
        r.scan.duration_ms as f64 / 1000.0,
        r.scan.roots.join(", ")
    );
    if r.scan.excluded > 0 {
        // Visible, so an `exclude` list in a scanned tree's own trustmap.toml hides nothing
        // from whoever reads the result.
        let _ = writeln!(
            s,
            "{} excluded by --exclude or the policy's exclude patterns",
            count(r.scan.excluded as usize, "path", "paths")
        );
    }
    let _ = writeln!(
        s,
        "Policy: {}",
        r.scan
            .policy
            .as_deref()
            .unwrap_or("built-in defaults (no trustmap.toml)")
    );
    let ignored = &r.scan.policy_ignored;
    if !ignored.is_empty() {
        // A trustmap.toml found in the scanned tree cannot loosen the gate of whoever runs
        // the scan; say what it tried, and how to apply it on purpose.
        let _ = writeln!(
            s,
            "  found in or above the scanned tree, so only what tightens the built-in policy applies;\n  \
             {} ignored (pass --policy {} to apply them):",
            count(
                ignored.len(),
                "setting that would loosen it was",
                "settings that would loosen it were"
            ),
            r.scan.policy.as_deref().unwrap_or("FILE")
        );
        let ignored_shown = if all { usize::MAX } else { IGNORED_SHOWN };
        for item in ignored.iter().take(ignored_shown) {
            let _ = writeln!(s, "    {}", crate::table::terminal_safe(item));
        }
        if ignored.len() > ignored_shown {
            let _ = writeln!(
                s,
                "    ... and {} more (see scan.policy_ignored in --format json)",
                ignored.len() - ignored_shown
            );
        }
    }
    let _ = writeln!(
        s,
        "\nInventory ({}, {})",
        count(r.assets.len(), "asset", "assets"),
        count(r.relations.len(), "relation", "relations")
    );
    for kind in AssetKind::ALL {
        let of_kind: Vec<&Asset> = r.assets.iter().filter(|a| a.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        let places: usize = of_kind.iter().map(|a| a.occurrences.len()).sum();
        let _ = writeln!(
            s,
            "  {:<14} {:>6}   in {}",
            plural(kind),
            of_kind.len(),
            count(places, "place", "places")
        );
    }
    if r.findings.is_empty() {
        let _ = writeln!(s, "\nNothing needs attention.");
    } else {
        let new = if baseline {
            let n = r.findings.iter().filter(|f| !f.baselined).count();
            format!(", {n} new since the baseline")
        } else {
            String::new()
        };
        let _ = writeln!(s, "\nNeeds attention ({} findings{new})", r.findings.len());
        if baseline {
            // Which ones are new: what a reviewer of the failing CI job needs first.
            let fresh: Vec<&Finding> = r.findings.iter().filter(|f| !f.baselined).collect();
            if !fresh.is_empty() {
                let _ = writeln!(s, "  NEW SINCE THE BASELINE ({})", fresh.len());
                for f in fresh.iter().take(shown) {
                    let _ = writeln!(
                        s,
                        "    {:<8} {:<22} {}  {}",
                        f.severity.as_str(),
                        f.rule,
                        safe(&place_of(f)),
                        safe(&f.message)
                    );
                }
                if fresh.len() > shown {
                    let _ = writeln!(
                        s,
                        "    ... and {} more (--all lists every one)",
                        fresh.len() - shown
                    );
                }
            }
        }
        for sev in [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Info,
        ] {
            let of: Vec<_> = r.findings.iter().filter(|f| f.severity == sev).collect();
            if of.is_empty() {
                continue;
            }
            let _ = writeln!(s, "  {} ({})", sev.as_str().to_uppercase(), of.len());
            if sev <= Severity::Low && !all {
                // Low and info findings are many and alike: counted by rule, not listed; the
                // count says how many of them are waived or raised again.
                let mut by_rule: Vec<(&str, [usize; 3])> = Vec::new();
                for f in &of {
                    let i = match by_rule.iter().position(|(r, _)| *r == f.rule) {
                        Some(i) => i,
                        None => {
                            by_rule.push((&f.rule, [0; 3]));
                            by_rule.len() - 1
                        }
                    };
                    let n = &mut by_rule[i].1;
                    n[0] += 1;
                    n[1] += usize::from(f.waiver.is_some());
                    n[2] += usize::from(f.evidence.contains_key("waiver_expired"));
                }
                for (rule, [n, waived, expired]) in by_rule {
                    let mut notes = Vec::new();
                    if waived > 0 {
                        notes.push(format!("{waived} waived"));
                    }
                    if expired > 0 {
                        notes.push(format!("{expired} waiver expired"));
                    }
                    let notes = if notes.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", notes.join(", "))
                    };
                    let _ = writeln!(s, "    {rule:<22} {}{notes}", count(n, "asset", "assets"));
                }
                continue;
            }
            for f in of.iter().take(shown) {
                let place = place_of(f);
                let a = r.asset(&f.asset);
                let more = a.map_or(0, |a| a.occurrences.len().saturating_sub(1));
                let more = if more > 0 {
                    format!(" (+{})", count(more, "more place", "more places"))
                } else {
                    String::new()
                };
                let _ = writeln!(s, "    {:<22} {}{}", f.rule, safe(&place), more);
                let _ = writeln!(
                    s,
                    "    {:<22} {} [{}]{}",
                    "",
                    safe(&f.message),
                    safe(&owner(a)),
                    safe(&waiver_note(f))
                );
            }
            if of.len() > shown {
                let hidden_waived = of[shown..].iter().filter(|f| f.waiver.is_some()).count();
                let waived = if hidden_waived > 0 {
                    format!(", {hidden_waived} of them waived")
                } else {
                    String::new()
                };
                let _ = writeln!(
                    s,
                    "    ... and {} more (--all lists every one{waived})",
                    of.len() - shown
                );
            }
        }
    }
    if let Some(line) = crate::cmd::pqc::summary_line(r) {
        let _ = writeln!(s, "\nPost-quantum readiness: {line}");
    }
    let waived = r.findings.iter().filter(|f| f.waiver.is_some()).count();
    let expired = r
        .findings
        .iter()
        .filter(|f| f.evidence.contains_key("waiver_expired"))
        .count();
    if waived > 0 || expired > 0 {
        let _ = writeln!(
            s,
            "\nWaivers: {waived} waived (reported, not counted by --fail-on), {expired} raised again (waiver expired); see `trustmap waivers`"
        );
    }
    if r.findings.iter().any(|f| f.rule == "cert-untrusted-root") {
        let _ = writeln!(
            s,
            "\nA private root of yours? Trust it in a policy file (`trustmap init` writes one) passed\nwith --policy (a scanned tree's own trustmap.toml cannot trust roots):\n  [trust]\n  roots = [\"sha256:<fingerprint from `trustmap show ID`>\"]"
        );
    }
    if !r.errors.is_empty() {
        let _ = writeln!(
            s,
            "\nErrors ({}): these places were read but not fully understood",
            r.errors.len()
        );
        for e in r.errors.iter().take(shown) {
            let _ = writeln!(s, "  {}: {}", safe(&e.path), safe(&e.error));
        }
        if r.errors.len() > shown {
            let _ = writeln!(
                s,
                "  ... and {} more (--all lists every one)",
                r.errors.len() - shown
            );
        }
    }
    let _ = writeln!(
        s,
        "\nFull inventory: trustmap scan {} --format json",
        r.scan.roots.join(" ")
    );
    // Values are escaped where they are written; this catches any that were not.
    crate::table::terminal_safe_lines(&s).into_owned()
}

/// Text from scanned files, made safe for the terminal (control characters escaped).
fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    crate::table::terminal_safe(text)
}

/// " (waived by X until D)", " (waiver by X expired D)", or nothing.
fn waiver_note(f: &trustmap_core::Finding) -> String {
    if let Some(w) = &f.waiver {
        return format!(" (waived by {} until {})", w.by, w.until);
    }
    match (
        f.evidence.get("waiver_expired"),
        f.evidence.get("waiver_expired_by"),
    ) {
        (Some(until), Some(by)) => format!(" (waiver by {by} expired {until})"),
        (Some(until), None) => format!(" (waiver expired {until})"),
        _ => String::new(),
    }
}
