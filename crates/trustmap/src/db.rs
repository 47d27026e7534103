//! `--db`: where the inventory lives, opening it, and hiding passwords in its URL.

use anyhow::{Context, Result};
use trustmap_store::Store;

/// Where the inventory lives.
#[derive(clap::Args, Clone, Debug)]
pub struct DbArg {
    /// Inventory database: a SQLite file path, or a postgres:// URL
    /// [default: $XDG_DATA_HOME/trustmap/inventory.db, i.e. ~/.local/share/trustmap/inventory.db]
    #[arg(long, env = "TRUSTMAP_DB", value_name = "PATH|URL")]
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

    pub fn open(&self) -> Result<Store> {
        let target = self.target()?;
        Store::open(&target).with_context(|| format!("opening inventory {}", redact_url(&target)))
    }
}

/// Hides a password in a database URL for messages.
pub fn redact_url(target: &str) -> String {
    if !trustmap_store::is_postgres_url(target) {
        return target.to_string();
    }
    match (target.find("://"), target.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &target[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &target[..s + 3], &creds[..c], &target[at..]),
                None => target.to_string(),
            }
        }
        _ => target.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_in_urls() {
        assert_eq!(
            redact_url("postgres://u:secret@db/x"),
            "postgres://u:***@db/x"
        );
        assert_eq!(redact_url("/tmp/a.db"), "/tmp/a.db");
    }
}
