//! Waivers: `trustmap waive` records an exception for one rule on one asset until a date,
//! `trustmap waivers` lists them, and a scan that uses the store marks the findings an
//! active waiver covers as waived (still reported; `--fail-on` ignores them). An expired
//! waiver no longer applies, and the finding says so in its evidence.
//!
//! The rule must be a built-in one (policy rule or X.509 lint, as `trustmap rules` lists
//! them) or a custom Rego rule: for those, `waive --rego FILE|DIR` names the rule files (as
//! given to `scan --rego`) and the id must appear in them as a string literal, so a typo
//! cannot record a waiver that never applies. An unknown id is refused with the nearest
//! known ids as suggestions.
//!
//! Test hook: `TRUSTMAP_TEST_NOW` (RFC 3339 or `YYYY-MM-DD`) replaces the clock used to
//! decide whether a waiver is still active, so tests can see one expire.

use crate::inventory::{DbArg, TableFormat, out, table};
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use time::OffsetDateTime;
use trustmap_core::{Finding, Report, Waiver, rfc3339};
use trustmap_store::{NewWaiver, WaiverRow};

#[derive(clap::Args)]
pub struct WaiveArgs {
    #[command(flatten)]
    db: DbArg,
    /// Rule id, as `trustmap rules` lists it (e.g. key-unprotected), or the id of a custom
    /// Rego rule together with --rego.
    #[arg(required_unless_present = "revoke", requires_all = ["asset", "reason", "until", "by"])]
    rule: Option<String>,
    /// Asset id from the inventory, e.g. key_0123456789abcdef.
    asset: Option<String>,
    /// Why the finding is accepted for now.
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
    /// Last day of the waiver: 2026-12-31 (through the end of that day, UTC) or RFC 3339.
    #[arg(long, value_name = "DATE")]
    until: Option<String>,
    /// Who grants it (recorded in the audit log).
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
    /// Revoke waiver ID instead (see `trustmap waivers`).
    #[arg(long, value_name = "ID", conflicts_with_all = ["rule", "asset", "reason", "until"])]
    revoke: Option<i64>,
    /// Custom rules in Rego (a `.rego` file or a directory, as given to `scan --rego`;
    /// repeatable): RULE may then be the id of one of their findings.
    #[arg(long, value_name = "FILE|DIR", conflicts_with = "revoke")]
    rego: Vec<PathBuf>,
}

#[derive(clap::Args)]
pub struct WaiversArgs {
    #[command(flatten)]
    db: DbArg,
    #[arg(long, short, value_enum, default_value_t = TableFormat::Table)]
    format: TableFormat,
}

/// The clock waivers are judged by: now, or `TRUSTMAP_TEST_NOW` in tests.
fn now() -> Result<OffsetDateTime> {
    match std::env::var("TRUSTMAP_TEST_NOW") {
        Ok(s) if !s.is_empty() => {
            let t = parse_until(&s).context("TRUSTMAP_TEST_NOW")?;
            Ok(OffsetDateTime::parse(
                &t,
                &time::format_description::well_known::Rfc3339,
            )?)
        }
        _ => Ok(OffsetDateTime::now_utc()),
    }
}

/// `2026-12-31` (the end of that day, UTC) or RFC 3339, as RFC 3339 UTC text.
fn parse_until(s: &str) -> Result<String> {
    let rfc = time::format_description::well_known::Rfc3339;
    if let Ok(t) = OffsetDateTime::parse(s, &rfc) {
        return Ok(rfc3339(t.to_offset(time::UtcOffset::UTC)));
    }
    let day = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s, &day)
        .ok()
        .with_context(|| format!("bad date {s:?}: use 2026-12-31 or 2026-12-31T12:00:00Z"))?;
    Ok(rfc3339(d.with_hms(23, 59, 59)?.assume_utc()))
}

fn known_rule(id: &str) -> bool {
    builtin_ids().any(|b| b == id)
}

/// The built-in rule ids: policy rules, then X.509 lints.
fn builtin_ids() -> impl Iterator<Item = &'static str> {
    trustmap_core::policy::RULES
        .iter()
        .map(|r| r.id.as_str())
        .chain(trustmap_discover::lint::LINTS.iter().map(|l| l.id))
}

/// Candidates within two edits of `id`, nearest first.
fn near<'a>(id: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<(usize, &str)> = candidates
        .map(|c| (strsim::levenshtein(id, c), c))
        .filter(|(d, _)| *d <= 2)
        .collect();
    v.sort();
    v.into_iter().map(|(_, c)| c).collect()
}

/// Checks that `rule` can be waived: built in, or found in the `--rego` files. Returns
/// whether it is a custom rule.
fn check_rule(rule: &str, rego: &[PathBuf]) -> Result<bool> {
    if known_rule(rule) {
        return Ok(false);
    }
    let builtin_near = near(rule, builtin_ids());
    if rego.is_empty() {
        let hint = match builtin_near.first() {
            Some(n) => format!("did you mean {n}? "),
            None => String::new(),
        };
        bail!(
            "unknown rule {rule:?}: {hint}`trustmap rules` lists the built-in rule ids; for a \
             custom Rego rule, also pass its rules with --rego FILE|DIR"
        );
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
    bail!("unknown rule {rule:?}: not a built-in rule and not in the --rego files ({hint})")
}

pub fn waive(a: WaiveArgs) -> Result<i32> {
    let by = a.by.clone().unwrap_or_default();
    if let Some(id) = a.revoke {
        if by.trim().is_empty() {
            bail!("--revoke needs --by NAME");
        }
        let w = a.db.open()?.revoke_waiver(id, &by)?;
        eprintln!(
            "revoked waiver {} ({} on {}) by {by}",
            w.id, w.rule, w.asset
        );
        return Ok(0);
    }
    let (Some(rule), Some(asset), Some(reason), Some(until)) = (a.rule, a.asset, a.reason, a.until)
    else {
        bail!("usage: trustmap waive RULE ASSET_ID --reason TEXT --until DATE --by NAME");
    };
    let custom = check_rule(&rule, &a.rego)?;
    if reason.trim().is_empty() || by.trim().is_empty() {
        bail!("--reason and --by must not be empty");
    }
    let until = parse_until(&until)?;
    let now = now()?;
    if until <= rfc3339(now) {
        bail!("--until {until} is not in the future");
    }
    let w = a.db.open()?.grant_waiver(&NewWaiver {
        rule,
        asset,
        reason,
        until,
        by,
    })?;
    println!(
        "waiver {}: {} on {} waived by {} until {}",
        w.id, w.rule, w.asset, w.by, w.until
    );
    if custom {
        eprintln!(
            "note: {} is a custom Rego rule; the waiver applies to its findings in scans run \
             with --rego",
            w.rule
        );
    }
    Ok(0)
}

fn status(w: &WaiverRow, now: &str) -> &'static str {
    if w.revoked_at.is_some() {
        "revoked"
    } else if w.until.as_str() > now {
        "active"
    } else {
        "expired"
    }
}

pub fn list(a: WaiversArgs) -> Result<i32> {
    let rows = a.db.open()?.waivers()?;
    let now = rfc3339(now()?);
    match a.format {
        TableFormat::Json => {
            let v: Vec<serde_json::Value> = rows
                .iter()
                .map(|w| {
                    let mut v = serde_json::to_value(w).unwrap_or_default();
                    v["status"] = status(w, &now).into();
                    v
                })
                .collect();
            out(&(serde_json::to_string_pretty(&v)? + "\n"))?;
        }
        TableFormat::Table => {
            let trows: Vec<Vec<String>> = rows
                .iter()
                .map(|w| {
                    vec![
                        w.id.to_string(),
                        w.rule.clone(),
                        w.asset.clone(),
                        w.by.clone(),
                        w.until.clone(),
                        status(w, &now).to_string(),
                        w.reason.clone(),
                    ]
                })
                .collect();
            out(&table(
                &["ID", "RULE", "ASSET", "BY", "UNTIL", "STATUS", "REASON"],
                &trows,
            ))?;
            if rows.is_empty() {
                eprintln!("no waivers");
            }
        }
    }
    Ok(0)
}

/// The report with waivers applied, when the scan uses the store (`--no-store`: as is).
pub fn applied(db: &DbArg, no_store: bool, mut report: Report) -> Result<Report> {
    if !no_store {
        apply(db, &mut report.findings)?;
    }
    Ok(report)
}

/// Marks the findings an active waiver covers; notes an expired one in the evidence
/// (`waiver_expired`, `waiver_expired_by`) so the finding is raised again visibly.
pub fn apply(db: &DbArg, findings: &mut [Finding]) -> Result<()> {
    let rows = db.open()?.waivers()?;
    if rows.is_empty() {
        return Ok(());
    }
    let now = rfc3339(now()?);
    for f in findings.iter_mut() {
        let matching = rows
            .iter()
            .filter(|w| w.revoked_at.is_none() && w.rule == f.rule && w.asset == f.asset);
        // The waiver that lasts longest decides.
        let Some(w) = matching.max_by(|a, b| a.until.cmp(&b.until)) else {
            continue;
        };
        if w.until > now {
            f.waiver = Some(Waiver {
                by: w.by.clone(),
                reason: w.reason.clone(),
                until: w.until.clone(),
            });
        } else {
            f.evidence.insert("waiver_expired".into(), w.until.clone());
            f.evidence.insert("waiver_expired_by".into(), w.by.clone());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_to_utc() {
        assert_eq!(parse_until("2026-12-31").unwrap(), "2026-12-31T23:59:59Z");
        assert_eq!(
            parse_until("2026-12-31T12:00:00+02:00").unwrap(),
            "2026-12-31T10:00:00Z"
        );
        assert!(parse_until("next week").is_err());
        assert!(parse_until("2026-13-01").is_err());
    }

    #[test]
    fn rules_and_lints_are_known() {
        assert!(known_rule("key-unprotected"));
        assert!(known_rule("x509-serial-zero"));
        assert!(!known_rule("no-such-rule"));
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
