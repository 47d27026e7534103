//! `trustmap waive` records an exception for one rule on one asset until a date;
//! `trustmap waivers` lists them with their status at `--now` (default: now). Which rules can
//! be waived, and how a scan applies waivers: `trustmap_engine::waivers`.

use crate::args::NowArg;
use crate::db::DbArg;
use crate::table::{TableFormat, out, table};
use anyhow::{Result, bail};
use std::path::PathBuf;
use trustmap_core::rfc3339;
use trustmap_engine::clock::parse_until;
use trustmap_engine::waivers::{check_rule, grant, status};
use trustmap_store::NewWaiver;

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
    #[command(flatten)]
    now: NowArg,
}

pub fn waive(a: WaiveArgs) -> Result<i32> {
    let by = a.by.clone().unwrap_or_default();
    if let Some(id) = a.revoke {
        if by.trim().is_empty() {
            bail!("--revoke needs --by NAME");
        }
        let w = a.db.open()?.revoke_waiver(id, &by)?;
        errln!(
            "revoked waiver {} ({} on {}) by {by}",
            w.id,
            w.rule,
            w.asset
        );
        return Ok(0);
    }
    let (Some(rule), Some(asset), Some(reason), Some(until)) = (a.rule, a.asset, a.reason, a.until)
    else {
        bail!("usage: trustmap waive RULE ASSET_ID --reason TEXT --until DATE --by NAME");
    };
    check_rule(&rule, &a.rego)?;
    if reason.trim().is_empty() || by.trim().is_empty() {
        bail!("--reason and --by must not be empty");
    }
    let until = parse_until(&until)?;
    let now = trustmap_engine::Clock::start(None).now;
    if until <= rfc3339(now) {
        bail!("--until {until} is not in the future");
    }
    let store = a.db.open()?;
    let w = NewWaiver {
        rule,
        asset,
        reason,
        until,
        by,
    };
    let (w, custom) = grant(&store, &w, &a.rego)?;
    crate::outln!(
        "waiver {}: {} on {} waived by {} until {}",
        w.id,
        w.rule,
        w.asset,
        w.by,
        w.until
    )?;
    if custom {
        errln!(
            "note: {} is a custom Rego rule; the waiver applies to its findings in scans run \
             with --rego",
            w.rule
        );
    }
    Ok(0)
}

pub fn list(a: WaiversArgs) -> Result<i32> {
    let rows = a.db.open()?.waivers()?;
    let now = a.now.instant();
    match a.format {
        TableFormat::Json => {
            let v: Vec<serde_json::Value> = rows
                .iter()
                .map(|w| {
                    let mut v = serde_json::to_value(w).unwrap_or_default();
                    v["status"] = status(w, now).as_str().into();
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
                        status(w, now).as_str().to_string(),
                        w.reason.clone(),
                    ]
                })
                .collect();
            out(&table(
                &["ID", "RULE", "ASSET", "BY", "UNTIL", "STATUS", "REASON"],
                &trows,
            ))?;
            if rows.is_empty() {
                errln!("no waivers");
            }
        }
    }
    Ok(0)
}
