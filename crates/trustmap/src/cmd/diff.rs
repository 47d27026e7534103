//! `trustmap diff`: what changed between two scans: new, gone, moved and rotated assets.

use crate::db::DbArg;
use crate::table::{TableFormat, out};
use anyhow::{Result, bail};
use std::path::PathBuf;
use trustmap_discover::source::Source;
use trustmap_discover::walk::{FileTree, WalkOptions};

#[derive(clap::Args)]
pub struct DiffArgs {
    #[command(flatten)]
    db: DbArg,
    /// Older scan id (default: the scan before --to over the same roots).
    #[arg(long, value_name = "SCAN")]
    from: Option<String>,
    /// Newer scan id (default: the latest scan).
    #[arg(long, value_name = "SCAN")]
    to: Option<String>,
    /// Compare the latest two scans of these roots (as given to `scan`).
    #[arg(long, value_name = "PATH", num_args = 1.., conflicts_with_all = ["from", "to"])]
    roots: Vec<PathBuf>,
    /// With --roots: the host that scanned them (default: this machine's host name, as
    /// `scan` records it).
    #[arg(long, value_name = "NAME", requires = "roots")]
    host: Option<String>,
    #[arg(long, short, value_enum, default_value_t = TableFormat::Table)]
    format: TableFormat,
}

pub fn diff(a: DiffArgs) -> Result<i32> {
    let store = a.db.open()?;
    let (from, to) = match (a.from, a.to) {
        (None, None) if !a.roots.is_empty() => {
            let roots = canonical_roots(&a.roots);
            let host = a.host.unwrap_or_else(trustmap_engine::local_host_name);
            match store.last_two_scans_of(&host, &roots)? {
                Some(pair) => pair,
                None => bail!(
                    "fewer than two scans of {} by host {host} (see `trustmap scans`)",
                    roots.join(" ")
                ),
            }
        }
        (from, to) => trustmap_engine::query::diff_pair(&store, from.as_deref(), to.as_deref())?,
    };
    let d = store.diff(&from, &to)?;
    match a.format {
        TableFormat::Json => out(&(serde_json::to_string_pretty(&d)? + "\n"))?,
        TableFormat::Table => {
            let mut s = format!(
                "{} -> {}: {} new, {} gone, {} rotated, {} moved\n",
                d.from_scan,
                d.to_scan,
                d.new.len(),
                d.gone.len(),
                d.rotated.len(),
                d.moved.len()
            );
            for id in &d.new {
                s.push_str(&format!("  new      {id}\n"));
            }
            for id in &d.gone {
                s.push_str(&format!("  gone     {id}\n"));
            }
            for r in &d.rotated {
                let place = if r.container.is_empty() {
                    r.place().to_string()
                } else {
                    format!("{} ({})", r.place(), r.container)
                };
                s.push_str(&format!(
                    "  rotated  {place}: {} replaced by {}\n",
                    r.from, r.to
                ));
            }
            for m in &d.moved {
                s.push_str(&format!(
                    "  moved    {}: {} -> {}\n",
                    m.id,
                    places(&m.from),
                    places(&m.to)
                ));
            }
            // Paths come from scanned trees: no control characters reach the terminal.
            out(&crate::table::terminal_safe_lines(&s))?;
        }
    }
    Ok(0)
}

/// Places as `host:path, host:path`.
fn places(p: &[trustmap_store::PlaceRef]) -> String {
    p.iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The roots as `scan` records them: made absolute the way the file-tree source does.
fn canonical_roots(paths: &[PathBuf]) -> Vec<String> {
    let opts = WalkOptions::new(Vec::new());
    paths
        .iter()
        .map(|p| FileTree::new(p.clone(), &opts).canonical())
        .collect()
}
