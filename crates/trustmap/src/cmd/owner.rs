//! `trustmap owner`: explicit owners of an asset, and owner rules (`--path GLOB`) that own
//! every asset seen under a path, now and in later scans (see `trustmap_store::OwnerRule`).

use crate::db::DbArg;
use crate::table::{TableFormat, out, table};
use anyhow::{Result, bail};
use clap::Subcommand;
use trustmap_store::{OwnerChange, OwnerTarget};

#[derive(Subcommand)]
pub enum OwnerCommand {
    /// Set the explicit owner (and backup owner) of an asset, or set an owner rule for
    /// every asset seen under a path, now and in later scans.
    Set(OwnerSetArgs),
    /// List the owner rules.
    Rules(OwnerRulesArgs),
    /// Remove an owner rule (its owners leave the assets it owned).
    Unset(OwnerUnsetArgs),
}

#[derive(clap::Args)]
pub struct OwnerSetArgs {
    #[command(flatten)]
    db: DbArg,
    /// Asset id.
    #[arg(required_unless_present = "path", conflicts_with = "path")]
    asset: Option<String>,
    /// Every asset seen at a path matching this glob, now and in later scans (an owner
    /// rule; an asset's own explicit owner wins over it).
    #[arg(long, value_name = "GLOB")]
    path: Option<String>,
    /// With --path: only places on this host.
    #[arg(long, value_name = "HOST", requires = "path")]
    host: Option<String>,
    /// Owning team.
    #[arg(long, value_name = "TEAM", required_unless_present = "backup")]
    owner: Option<String>,
    /// Backup owning team.
    #[arg(long, value_name = "TEAM")]
    backup: Option<String>,
    /// Who sets the rule (recorded with it; default: $USER).
    #[arg(long, value_name = "NAME", requires = "path")]
    by: Option<String>,
}

#[derive(clap::Args)]
pub struct OwnerRulesArgs {
    #[command(flatten)]
    db: DbArg,
    #[arg(long, short, value_enum, default_value_t = TableFormat::Table)]
    format: TableFormat,
}

#[derive(clap::Args)]
pub struct OwnerUnsetArgs {
    #[command(flatten)]
    db: DbArg,
    /// The rule with this id (see `trustmap owner rules`).
    #[arg(
        long,
        value_name = "ID",
        required_unless_present = "path",
        conflicts_with = "path"
    )]
    rule: Option<i64>,
    /// The rule set for this glob (and --host).
    #[arg(long, value_name = "GLOB")]
    path: Option<String>,
    /// With --path: the rule for this host.
    #[arg(long, value_name = "HOST", requires = "path")]
    host: Option<String>,
    /// Who removes the rule (recorded in the audit log; default: $USER).
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
}

/// `--by`, else the user's login name.
fn who(by: Option<String>) -> String {
    by.or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("USERNAME").ok())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

fn print_changes(changes: &[OwnerChange]) {
    for ch in changes {
        errln!(
            "{}: {} {} -> {}",
            ch.asset,
            ch.role,
            ch.from.as_deref().unwrap_or("none"),
            ch.to.as_deref().unwrap_or("none")
        );
    }
    if changes.is_empty() {
        errln!("no change");
    }
}

pub fn owner(c: OwnerCommand) -> Result<i32> {
    match c {
        OwnerCommand::Set(a) => {
            let store = a.db.open()?;
            let changes = match (&a.asset, &a.path) {
                (Some(id), None) => store.set_owner(
                    &OwnerTarget::Asset(id.clone()),
                    a.owner.as_deref(),
                    a.backup.as_deref(),
                )?,
                (None, Some(g)) => {
                    let (rule, changes) = store.set_owner_rule(
                        g,
                        a.host.as_deref(),
                        a.owner.as_deref(),
                        a.backup.as_deref(),
                        &who(a.by),
                    )?;
                    errln!(
                        "owner rule {}: {:?}{} -> owner {}, backup {} (applies to later scans too)",
                        rule.id,
                        rule.glob,
                        rule.host
                            .as_deref()
                            .map(|h| format!(" on {h}"))
                            .unwrap_or_default(),
                        rule.owner.as_deref().unwrap_or("none"),
                        rule.backup.as_deref().unwrap_or("none"),
                    );
                    changes
                }
                _ => bail!("give an asset id or --path GLOB"),
            };
            print_changes(&changes);
            Ok(0)
        }
        OwnerCommand::Rules(a) => {
            let rules = a.db.open()?.owner_rules()?;
            match a.format {
                TableFormat::Json => out(&(serde_json::to_string_pretty(&rules)? + "\n"))?,
                TableFormat::Table => {
                    let opt = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
                    let rows: Vec<Vec<String>> = rules
                        .iter()
                        .map(|r| {
                            vec![
                                r.id.to_string(),
                                r.glob.clone(),
                                r.host.clone().unwrap_or_else(|| "*".into()),
                                opt(&r.owner),
                                opt(&r.backup),
                                r.set_at.clone(),
                                r.set_by.clone(),
                            ]
                        })
                        .collect();
                    out(&table(
                        &["ID", "PATH", "HOST", "OWNER", "BACKUP", "SET AT", "BY"],
                        &rows,
                    ))?;
                    if rules.is_empty() {
                        errln!("no owner rules (set one with `trustmap owner set --path GLOB`)");
                    }
                }
            }
            Ok(0)
        }
        OwnerCommand::Unset(a) => {
            let store = a.db.open()?;
            let id = match (a.rule, &a.path) {
                (Some(id), _) => id,
                (None, Some(g)) => {
                    let host = a.host.as_deref().unwrap_or("");
                    let Some(r) = store
                        .owner_rules()?
                        .into_iter()
                        .find(|r| r.glob == *g && r.host.as_deref().unwrap_or("") == host)
                    else {
                        bail!("no owner rule is set for {g:?} (see `trustmap owner rules`)");
                    };
                    r.id
                }
                (None, None) => bail!("give --rule ID or --path GLOB"),
            };
            let (rule, changes) = store.remove_owner_rule(id, &who(a.by))?;
            errln!("removed owner rule {} ({:?})", rule.id, rule.glob);
            print_changes(&changes);
            Ok(0)
        }
    }
}
