//! `--db`: where the inventory lives, opening it, and hiding passwords in its URL.

use anyhow::{Context, Result};
use trustmap_store::Store;

pub use trustmap_store::redact_url;

/// Where the inventory lives.
#[derive(clap::Args, Clone, Debug)]
pub struct DbArg {
    /// Inventory database: a SQLite file path, or a postgres:// URL. Only `scan` and
    /// `serve` create it; other commands fail when it does not exist
    /// [default: $XDG_DATA_HOME/trustmap/inventory.db, i.e. ~/.local/share/trustmap/inventory.db]
    // hide_env_values: `--help` would otherwise print $TRUSTMAP_DB, password and all.
    #[arg(
        long,
        env = "TRUSTMAP_DB",
        hide_env_values = true,
        value_name = "PATH|URL"
    )]
    pub db: Option<String>,
}

impl DbArg {
    pub fn target(&self) -> Result<String> {
        if let Some(t) = &self.db {
            return Ok(t.clone());
        }
        let dir = dirs::data_dir()
            .context("no data directory (set XDG_DATA_HOME or HOME, or pass --db)")?;
        Ok(dir
            .join("trustmap")
            .join("inventory.db")
            .to_string_lossy()
            .into_owned())
    }

    /// The target for messages, password hidden.
    pub fn shown(&self) -> String {
        self.target().map(|t| redact_url(&t)).unwrap_or_default()
    }

    /// Opens the inventory, which must exist (every command but `scan`).
    pub fn open(&self) -> Result<Store> {
        let target = self.target()?;
        Store::open_existing(&target).map_err(|e| match e {
            // Its message names the target already.
            e @ trustmap_store::Error::NoInventory(_) => e.into(),
            e => {
                anyhow::Error::new(e).context(format!("opening inventory {}", redact_url(&target)))
            }
        })
    }

    /// Opens the inventory, creating it when it does not exist (`scan`).
    pub fn open_or_create(&self) -> Result<Store> {
        let target = self.target()?;
        Store::open(&target).with_context(|| format!("opening inventory {}", redact_url(&target)))
    }

    /// Opens the inventory if it exists; `None` when there is none at the target
    /// (`baseline` and `pqc`, which need no inventory).
    pub fn open_if_exists(&self) -> Result<Option<Store>> {
        let target = self.target()?;
        match Store::open_existing(&target) {
            Ok(s) => Ok(Some(s)),
            Err(trustmap_store::Error::NoInventory(_)) => Ok(None),
            Err(e) => Err(e).with_context(|| format!("opening inventory {}", redact_url(&target))),
        }
    }
}
