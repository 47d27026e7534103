//! `trustmap scans`: every recorded scan.

use crate::db::DbArg;
use crate::table::{TableFormat, out, table};
use anyhow::Result;
use trustmap_core::AssetKind;

#[derive(clap::Args)]
pub struct ScansArgs {
    #[command(flatten)]
    db: DbArg,
    #[arg(long, short, value_enum, default_value_t = TableFormat::Table)]
    format: TableFormat,
}

pub fn scans(a: ScansArgs) -> Result<i32> {
    let store = a.db.open()?;
    let scans = store.scans()?;
    match a.format {
        TableFormat::Json => out(&(serde_json::to_string_pretty(&scans)? + "\n"))?,
        TableFormat::Table => {
            let rows: Vec<Vec<String>> = scans
                .iter()
                .map(|s| {
                    let c = &s.counts;
                    let counts = AssetKind::ALL
                        .iter()
                        .filter_map(|k| c[k.as_str()].as_u64().map(|n| format!("{n} {k}")))
                        .collect::<Vec<_>>()
                        .join(", ");
                    vec![
                        s.id.clone(),
                        s.started_at.clone(),
                        s.roots.join(" "),
                        s.host.clone(),
                        format!("{} assets", c["assets"].as_u64().unwrap_or(0)),
                        counts,
                    ]
                })
                .collect();
            out(&table(
                &["SCAN", "STARTED", "ROOTS", "HOST", "ASSETS", "BY KIND"],
                &rows,
            ))?;
        }
    }
    Ok(0)
}
