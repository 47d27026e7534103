//! Reading recorded scans the way every front end does: which scans an "as of" names
//! ([`selection`]) and the findings of a stored report under the `trustmap findings`
//! filters ([`FindingFilter`], [`select_findings`]). The CLI's `report`, `findings` and
//! `metrics` and the server's API call these, so both answer the same.

use crate::Error;
use crate::baseline::{Baseline, key};
use std::collections::{HashMap, HashSet};
use trustmap_core::{Finding, Severity, Timestamp};
use trustmap_store::{ScanSelection, Store, StoredReport, owner_matches};

/// The scans `as_of` names: `None`, the latest scan of each host and roots; an instant
/// (`2026-11-30`, the end of that day UTC, or RFC 3339), the latest of each finished by then;
/// anything else, a scan id. `host` keeps only scans recorded by that host (not with a scan
/// id). `what` names the argument in messages (`--as-of`, `as_of`).
pub fn selection(
    as_of: Option<&str>,
    host: Option<&str>,
    what: &str,
) -> Result<ScanSelection, Error> {
    let mut sel = ScanSelection {
        host: host.map(str::to_string),
        ..Default::default()
    };
    match as_of.map(str::trim) {
        None => {}
        Some(s) => match as_of_instant(s) {
            Some(t) => sel.as_of = Some(t),
            None if looks_like_a_date(s) => {
                return Err(Error::Request(format!(
                    "{what} {s:?}: not a valid date (use 2026-11-30 or RFC 3339)"
                )));
            }
            None => {
                if host.is_some() {
                    return Err(Error::Request(format!(
                        "host selects among the latest scans; with {what} SCAN give only the scan"
                    )));
                }
                sel.scan = Some(s.to_string());
            }
        },
    }
    Ok(sel)
}

/// `2026-11-30` (the end of that day, UTC) or an RFC 3339 instant.
fn as_of_instant(s: &str) -> Option<Timestamp> {
    if let Some(t) = Timestamp::parse(s) {
        return Some(t);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(s, &fmt).ok()?;
    Some(Timestamp::new(day.with_hms(23, 59, 59).ok()?.assume_utc()))
}

/// Starts like a date (so a typo is an error, not a scan id that does not exist).
fn looks_like_a_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

/// Waived or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waived {
    /// Only findings with a waiver in force when the scan ran.
    Yes,
    /// Only findings without one.
    No,
}

/// The `trustmap findings` filters; all given ones must hold.
#[derive(Default)]
pub struct FindingFilter {
    /// At or above this severity.
    pub severity: Option<Severity>,
    /// Only these rules (empty: all). Each must be a built-in rule or one with findings in
    /// the report (a custom Rego rule).
    pub rules: Vec<String>,
    /// Of assets owned by this team (`edge` also matches `@org/edge`).
    pub owner: Option<String>,
    /// Of assets with no owner.
    pub unowned: bool,
    /// At a path matching this glob (`*` matches across `/`).
    pub path: Option<String>,
    /// Only findings that this scan did not raise (same rule, asset and path).
    pub new_since: Option<String>,
    /// Only findings not in this baseline.
    pub baseline: Option<Baseline>,
    pub waived: Option<Waived>,
}

/// One listed finding with its asset's owners (role `owner`, as the report has them).
#[derive(Debug, Clone)]
pub struct Listed {
    pub finding: Finding,
    pub owners: Vec<String>,
}

impl Listed {
    /// The JSON contract's finding plus the asset's `owners`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut f = serde_json::to_value(&self.finding).unwrap_or_default();
        f["owners"] = serde_json::json!(self.owners);
        f
    }
}

/// The findings of `stored` that pass `f`, in the report's order (baseline marks applied).
pub fn select_findings(
    store: &Store,
    stored: &StoredReport,
    f: &FindingFilter,
) -> Result<Vec<Listed>, Error> {
    let glob = path_glob(f)?;
    let before: Option<HashSet<String>> = match &f.new_since {
        Some(id) => {
            let earlier = store
                .stored_findings(&ScanSelection {
                    scan: Some(id.clone()),
                    ..Default::default()
                })
                .map_err(|source| Error::Store {
                    context: "reading the earlier scan (new since)",
                    source,
                })?;
            Some(earlier.report.findings.iter().map(key).collect())
        }
        None => None,
    };
    let report = &stored.report;
    for r in &f.rules {
        if !crate::waivers::known_rule(r) && !report.findings.iter().any(|x| &x.rule == r) {
            return Err(unknown_rule(r));
        }
    }
    let owner_map: HashMap<&str, Vec<String>> = report
        .assets
        .iter()
        .map(|x| {
            (
                x.id.as_str(),
                x.owners
                    .iter()
                    .filter(|o| o.role == "owner")
                    .map(|o| o.name.clone())
                    .collect(),
            )
        })
        .collect();
    let mut findings: Vec<Finding> = report.findings.clone();
    if let Some(b) = &f.baseline {
        b.mark(&mut findings);
    }
    Ok(findings
        .into_iter()
        .filter(|x| f.severity.is_none_or(|s| x.severity >= s))
        .filter(|x| f.rules.is_empty() || f.rules.contains(&x.rule))
        .filter(|x| {
            glob.as_ref()
                .is_none_or(|g| x.path.as_deref().is_some_and(|p| g.is_match(p)))
        })
        .filter(|x| match f.waived {
            None => true,
            Some(Waived::Yes) => x.waiver.is_some(),
            Some(Waived::No) => x.waiver.is_none(),
        })
        .filter(|x| f.baseline.is_none() || !x.baselined)
        .filter(|x| before.as_ref().is_none_or(|b| !b.contains(&key(x))))
        .map(|x| {
            let owners = owner_map.get(x.asset.as_str()).cloned().unwrap_or_default();
            Listed { finding: x, owners }
        })
        .filter(|l| match (&f.owner, f.unowned) {
            (Some(team), _) => l.owners.iter().any(|o| owner_matches(team, o)),
            (None, true) => l.owners.is_empty(),
            (None, false) => true,
        })
        .collect())
}

/// A page of the current findings (the latest scan of each host and roots) that pass `f`:
/// what [`select_findings`] lists of the merged report, in the same order, with the same
/// owners, read from the store's columns so that only the `limit` findings returned have their
/// JSON parsed. `new_since` and `baseline` are not read here (the caller uses
/// [`select_findings`] for them). Returns (scans, findings in all, findings matching, the
/// first `limit` of those).
pub fn select_current_findings(
    store: &Store,
    f: &FindingFilter,
    limit: usize,
) -> Result<(Vec<String>, usize, usize, Vec<Listed>), Error> {
    let glob = path_glob(f)?;
    let current = store.current_findings().map_err(|source| Error::Store {
        context: "reading the current findings",
        source,
    })?;
    for r in &f.rules {
        if !crate::waivers::known_rule(r) && !current.findings.iter().any(|x| &x.rule == r) {
            return Err(unknown_rule(r));
        }
    }
    let total = current.findings.len();
    // Owners are read for every asset only when a filter needs them; else for the page.
    let by_owner = f.owner.is_some() || f.unowned;
    let owners = if by_owner {
        let mut rids: Vec<i64> = current
            .findings
            .iter()
            .filter_map(|x| x.asset_rid)
            .collect();
        rids.sort_unstable();
        rids.dedup();
        store.owner_names(&rids).map_err(|source| Error::Store {
            context: "reading owners",
            source,
        })?
    } else {
        HashMap::new()
    };
    let none: Vec<String> = Vec::new();
    let owners_of = |x: &trustmap_store::CurrentFinding| -> &Vec<String> {
        x.asset_rid.and_then(|r| owners.get(&r)).unwrap_or(&none)
    };
    let mut matched: Vec<(Severity, &trustmap_store::CurrentFinding)> = current
        .findings
        .iter()
        .filter_map(|x| Some((Severity::parse(&x.severity)?, x)))
        .filter(|(s, _)| f.severity.is_none_or(|min| *s >= min))
        .filter(|(_, x)| f.rules.is_empty() || f.rules.contains(&x.rule))
        .filter(|(_, x)| {
            glob.as_ref()
                .is_none_or(|g| x.path.as_deref().is_some_and(|p| g.is_match(p)))
        })
        .filter(|(_, x)| match f.waived {
            None => true,
            Some(Waived::Yes) => x.status == "waived",
            Some(Waived::No) => x.status != "waived",
        })
        .filter(|(_, x)| match (&f.owner, f.unowned) {
            (Some(team), _) => owners_of(x).iter().any(|o| owner_matches(team, o)),
            (None, true) => owners_of(x).is_empty(),
            (None, false) => true,
        })
        .collect();
    // `trustmap_core::policy::sort_findings`'s order.
    matched.sort_by(|(sa, a), (sb, b)| {
        sb.cmp(sa)
            .then(trustmap_core::policy::rank(&a.rule).cmp(&trustmap_core::policy::rank(&b.rule)))
            .then(a.rule.cmp(&b.rule))
            .then(a.path.cmp(&b.path))
            .then(a.line.cmp(&b.line))
            .then(a.asset.cmp(&b.asset))
            // The order they were stored in, as a rebuilt report has ties.
            .then(a.rid.cmp(&b.rid))
    });
    let count = matched.len();
    let page: Vec<&trustmap_store::CurrentFinding> =
        matched.iter().take(limit).map(|(_, x)| *x).collect();
    let rids: Vec<i64> = page.iter().map(|x| x.rid).collect();
    let bodies = store.finding_bodies(&rids).map_err(|source| Error::Store {
        context: "reading findings",
        source,
    })?;
    let page_owners = if by_owner {
        owners
    } else {
        let mut a: Vec<i64> = page.iter().filter_map(|x| x.asset_rid).collect();
        a.sort_unstable();
        a.dedup();
        store.owner_names(&a).map_err(|source| Error::Store {
            context: "reading owners",
            source,
        })?
    };
    let mut listed = Vec::with_capacity(page.len());
    for x in page {
        let Some(body) = bodies.get(&x.rid) else {
            continue;
        };
        let mut finding = body.clone();
        finding.path = x.path.clone();
        let owners = x
            .asset_rid
            .and_then(|r| page_owners.get(&r))
            .cloned()
            .unwrap_or_default();
        listed.push(Listed { finding, owners });
    }
    Ok((current.scans, total, count, listed))
}

fn path_glob(f: &FindingFilter) -> Result<Option<globset::GlobMatcher>, Error> {
    f.path
        .as_deref()
        .map(|g| {
            globset::GlobBuilder::new(g)
                .literal_separator(false)
                .build()
                .map(|g| g.compile_matcher())
                .map_err(|e| Error::Request(format!("path {g:?}: {e}")))
        })
        .transpose()
}

fn unknown_rule(r: &str) -> Error {
    let near = crate::waivers::near(r, crate::waivers::builtin_ids());
    if near.is_empty() {
        Error::UnknownRule(format!("unknown rule {r:?} (see `trustmap rules`)"))
    } else {
        Error::UnknownRule(format!(
            "unknown rule {r:?}; did you mean {}?",
            near.join(" or ")
        ))
    }
}

/// The findings of one asset in a report (the server's asset page).
pub fn findings_of<'a>(report: &'a trustmap_core::Report, asset: &str) -> Vec<&'a Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.asset == asset)
        .collect()
}

/// The two scans a diff compares: `from` and `to` as given; `to` alone, the scan before it
/// of the same host and roots; neither, the latest scan and the one before it of its roots.
pub fn diff_pair(
    store: &Store,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(String, String), Error> {
    let store_err = |source| Error::Store {
        context: "reading the scan history",
        source,
    };
    match (from, to) {
        (Some(f), Some(t)) => Ok((f.to_string(), t.to_string())),
        (None, Some(t)) => match store.previous_scan(t).map_err(store_err)? {
            Some(f) => Ok((f, t.to_string())),
            None => Err(Error::Request(format!(
                "scan {t} is the first scan of its roots; give the scan to compare it with (from)"
            ))),
        },
        (None, None) => store.last_two_scans().map_err(store_err)?.ok_or_else(|| {
            Error::Request(
                "need two scans of the same roots to compare (see `trustmap scans`), or give from and to"
                    .into(),
            )
        }),
        (Some(_), None) => Err(Error::Request("from needs to".into())),
    }
}

/// A window: a whole number and a unit, `h` hours, `d` days, `w` weeks, `m` months of 30
/// days, `y` years of 365 days (`assets --expiring`, the API's `expiring`). A bare number is
/// refused (days or months?), as is a window too large for a date.
pub fn parse_window(s: &str) -> Result<time::Duration, String> {
    const USE: &str = "use a number and a unit: 12h, 30d, 2w, 6m (30-day months), 1y (365 days)";
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    if num.is_empty() {
        return Err(format!("bad window {s:?}: {USE}"));
    }
    let hours_per: i64 = match unit {
        "h" => 1,
        "d" => 24,
        "w" => 7 * 24,
        "m" => 30 * 24,
        "y" => 365 * 24,
        "" => {
            return Err(format!(
                "window {s:?} has no unit: did you mean {num}d? ({USE})"
            ));
        }
        _ => return Err(format!("bad window {s:?}: unknown unit {unit:?}; {USE}")),
    };
    // Beyond 10,000 years no certificate date can fall inside; the cap keeps the
    // arithmetic (and the date it reaches) in range.
    const MAX_HOURS: i64 = 10_000 * 365 * 24;
    num.parse::<i64>()
        .ok()
        .and_then(|n| n.checked_mul(hours_per))
        .filter(|h| *h <= MAX_HOURS)
        .map(time::Duration::hours)
        .ok_or_else(|| format!("window {s:?} is too long: at most 10000y"))
}

/// The end of an expiry window from `now` (`assets --expiring`).
pub fn expiring_before(
    now: time::OffsetDateTime,
    window: time::Duration,
) -> Result<Timestamp, Error> {
    now.checked_add(window).map(Timestamp::from).ok_or_else(|| {
        Error::Request(format!(
            "expiring {window}: from {} that is past year 9999",
            trustmap_core::rfc3339(now)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse() {
        assert_eq!(parse_window("30d").unwrap(), time::Duration::days(30));
        assert_eq!(parse_window("12h").unwrap(), time::Duration::hours(12));
        assert_eq!(parse_window("2w").unwrap(), time::Duration::days(14));
        assert_eq!(parse_window("6m").unwrap(), time::Duration::days(180));
        assert_eq!(parse_window("1y").unwrap(), time::Duration::days(365));
        assert_eq!(
            parse_window("10000y").unwrap(),
            time::Duration::days(3_650_000)
        );
        let e = parse_window("7").unwrap_err();
        assert!(e.contains("did you mean 7d?"), "{e}");
        for bad in ["soon", "d", "-3d", "3x", "3 d", ""] {
            assert!(parse_window(bad).is_err(), "{bad}");
        }
        for huge in [
            "99999999d",
            "10001y",
            "999999999999999999d",
            "99999999999999999999999h",
        ] {
            let e = parse_window(huge).unwrap_err();
            assert!(e.contains("too long"), "{huge}: {e}");
        }
    }

    #[test]
    fn as_of_is_a_date_an_instant_or_a_scan() {
        let s = selection(Some("2026-11-30"), None, "--as-of").unwrap();
        assert_eq!(s.as_of.unwrap().to_string(), "2026-11-30T23:59:59Z");
        let s = selection(Some("scan_0123"), None, "--as-of").unwrap();
        assert_eq!(s.scan.as_deref(), Some("scan_0123"));
        let e = selection(Some("2026-13-45"), None, "--as-of").unwrap_err();
        assert!(e.to_string().contains("not a valid date"), "{e}");
        assert!(selection(Some("scan_1"), Some("h"), "as_of").is_err());
    }
}
