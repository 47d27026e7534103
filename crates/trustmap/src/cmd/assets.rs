//! `trustmap assets`: query the inventory; filters combine.

use crate::args::NowArg;
use crate::db::DbArg;
use crate::table::{csv_field, out, table};
use anyhow::Result;
use clap::ValueEnum;
use trustmap_core::AssetKind;
use trustmap_store::AssetQuery;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
    Csv,
}

#[derive(clap::Args)]
pub struct AssetsArgs {
    #[command(flatten)]
    db: DbArg,
    /// What kind of asset.
    #[arg(long, value_enum, value_name = "KIND")]
    kind: Option<AssetKind>,
    /// Certificates that expire within this window: 12h, 30d, 2w, 6m (30-day months), 1y.
    #[arg(long, value_name = "WINDOW", value_parser = parse_window)]
    expiring: Option<time::Duration>,
    /// Certificates that have expired.
    #[arg(long)]
    expired: bool,
    /// Owned by this team (explicit owner, else inferred).
    #[arg(long, value_name = "TEAM")]
    owner: Option<String>,
    /// No owner at all.
    #[arg(long, conflicts_with = "owner")]
    unowned: bool,
    /// Issuer contains this text (case-insensitive).
    #[arg(long, value_name = "TEXT")]
    issuer: Option<String>,
    /// Key algorithm: RSA, EC, Ed25519, ...
    #[arg(long, value_name = "ALG")]
    algorithm: Option<String>,
    /// Seen at a path matching this glob (`*` matches across `/`).
    #[arg(long, value_name = "GLOB")]
    path: Option<String>,
    /// Seen on this host (as `scan` recorded it: the host name, or `scan --host NAME`).
    #[arg(long, value_name = "NAME")]
    host: Option<String>,
    /// Classical public-key algorithms (RSA, EC, DSA, Ed25519, ...) that a quantum computer breaks.
    #[arg(long)]
    quantum_vulnerable: bool,
    /// Also list assets the latest scan of their roots no longer saw (gone or rotated away).
    #[arg(long)]
    include_gone: bool,
    /// At most N assets (by kind, oldest first): a first page of a large inventory.
    #[arg(long, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=i64::MAX as u64))]
    limit: Option<usize>,
    /// Print only how many assets match.
    #[arg(long, conflicts_with = "limit")]
    count: bool,
    #[arg(long, short, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
    /// With --expiring and --expired: as of this instant instead of now.
    #[command(flatten)]
    now: NowArg,
}

fn parse_window(s: &str) -> Result<time::Duration, String> {
    trustmap_engine::query::parse_window(s)
}

pub fn assets(a: AssetsArgs) -> Result<i32> {
    let now = a.now.instant();
    let q = AssetQuery {
        kind: a.kind,
        expiring_before: a
            .expiring
            .map(|w| trustmap_engine::query::expiring_before(now, w))
            .transpose()?,
        expired: a.expired,
        now: now.into(),
        owner: a.owner.clone(),
        unowned: a.unowned,
        issuer: a.issuer.clone(),
        algorithm: a.algorithm.clone(),
        path_glob: a.path.clone(),
        host: a.host.clone(),
        quantum_vulnerable: a.quantum_vulnerable,
        include_gone: a.include_gone,
        limit: a.limit,
    };
    let store = a.db.open()?;
    if a.count {
        let n = store.count_assets(&q)?;
        match a.format {
            ListFormat::Json => out(&format!("{{\"count\": {n}}}\n"))?,
            _ => out(&format!("{n}\n"))?,
        }
        return Ok(0);
    }
    let rows = store.assets(&q)?;
    match a.format {
        ListFormat::Json => out(&(serde_json::to_string_pretty(&rows)? + "\n"))?,
        ListFormat::Csv => {
            let mut s = String::from(
                "id,kind,label,not_after,algorithm,issuer,owner,owner_source,backup,backup_source,paths,first_seen,last_seen,present\n",
            );
            for r in &rows {
                let cells = [
                    r.id.clone(),
                    r.kind.clone(),
                    r.label.clone(),
                    r.not_after.clone().unwrap_or_default(),
                    r.algorithm.clone().unwrap_or_default(),
                    r.issuer.clone().unwrap_or_default(),
                    r.owner.clone().unwrap_or_default(),
                    r.owner_source.clone().unwrap_or_default(),
                    r.backup.clone().unwrap_or_default(),
                    r.backup_source.clone().unwrap_or_default(),
                    r.paths.join(";"),
                    r.first_seen.clone(),
                    r.last_seen.clone(),
                    r.present.to_string(),
                ];
                s.push_str(
                    &cells
                        .iter()
                        .map(|c| csv_field(c))
                        .collect::<Vec<_>>()
                        .join(","),
                );
                s.push('\n');
            }
            out(&s)?;
        }
        ListFormat::Table => {
            let trows: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    // The first place, and how many more: present ones only, unless the
                    // asset is gone from all of them.
                    let mut path = r.paths.first().cloned().unwrap_or_default();
                    let places = if r.present {
                        r.places.iter().filter(|p| p.present).count()
                    } else {
                        r.places.len()
                    };
                    if places > 1 {
                        path.push_str(&format!(" (+{})", places - 1));
                    }
                    vec![
                        r.id.clone(),
                        r.kind.clone(),
                        r.label.clone(),
                        r.not_after.clone().unwrap_or_else(|| "-".into()),
                        r.owner.clone().unwrap_or_else(|| "unowned".into()),
                        if r.present {
                            path
                        } else {
                            format!("{path} [gone]")
                        },
                    ]
                })
                .collect();
            out(&table(
                &["ID", "KIND", "LABEL", "NOT AFTER", "OWNER", "PATH"],
                &trows,
            ))?;
            if rows.is_empty() {
                errln!("no assets match");
            }
        }
    }
    Ok(0)
}
