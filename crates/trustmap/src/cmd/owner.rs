//! `trustmap owner set`: explicit owners of an asset or of every asset under a path.

use crate::db::DbArg;
use anyhow::{Result, bail};
use clap::Subcommand;
use trustmap_store::{AssetQuery, OwnerTarget};

#[derive(Subcommand)]
pub enum OwnerCommand {
    /// Set the explicit owner (and backup owner) of an asset or of every asset under a path.
    Set(OwnerSetArgs),
}

#[derive(clap::Args)]
pub struct OwnerSetArgs {
    #[command(flatten)]
    db: DbArg,
    /// Asset id.
    #[arg(required_unless_present = "path", conflicts_with = "path")]
    asset: Option<String>,
    /// Every asset seen at a path matching this glob.
    #[arg(long, value_name = "GLOB")]
    path: Option<String>,
    /// Owning team.
    #[arg(long, value_name = "TEAM", required_unless_present = "backup")]
    owner: Option<String>,
    /// Backup owning team.
    #[arg(long, value_name = "TEAM")]
    backup: Option<String>,
}

pub fn owner(c: OwnerCommand) -> Result<i32> {
    match c {
        OwnerCommand::Set(a) => {
            let target = match (&a.asset, &a.path) {
                (Some(id), None) => OwnerTarget::Asset(id.clone()),
                (None, Some(g)) => OwnerTarget::PathGlob(g.clone()),
                _ => bail!("give an asset id or --path GLOB"),
            };
            let store = a.db.open()?;
            let changes = store.set_owner(&target, a.owner.as_deref(), a.backup.as_deref())?;
            if let OwnerTarget::PathGlob(g) = &target
                && changes.is_empty()
                && store
                    .assets(&AssetQuery {
                        path_glob: Some(g.clone()),
                        ..Default::default()
                    })?
                    .is_empty()
            {
                bail!("no asset is seen at a path matching {g:?}");
            }
            for ch in &changes {
                eprintln!(
                    "{}: {} {} -> {}",
                    ch.asset,
                    ch.role,
                    ch.from.as_deref().unwrap_or("none"),
                    ch.to
                );
            }
            if changes.is_empty() {
                eprintln!("no change");
            }
            Ok(0)
        }
    }
}
