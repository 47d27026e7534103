//! Helpers for tests (the `test-support` feature): raw SQL, old schema versions, the bulk
//! path on small scans, index names, and fresh PostgreSQL schemas. Not part of the API.

use crate::Store;
use crate::db::Backend;
use crate::error::Error;
use std::sync::atomic::Ordering;

impl Store {
    /// Opens the store migrating only up to `version`: for tests of migrations.
    pub fn open_at_version(target: &str, version: i64) -> Result<Store, Error> {
        Self::open_to(target, version, true)
    }

    /// Sets the bulk-load threshold: for tests of the bulk path on small scans.
    pub fn set_bulk_load_threshold(&self, assets: usize) {
        self.bulk_load.store(assets, Ordering::Relaxed);
    }

    /// [`Store::impact`] always walked, never read from the kept counts: what the kept
    /// answer must equal.
    pub fn impact_walked(
        &self,
        id: &str,
        limit: usize,
        include_gone: bool,
    ) -> Result<crate::Impact, Error> {
        self.impact_with(id, limit, include_gone, false)
    }

    /// Keeps the blast radius of every asset with at least `n` dependants (recorded from now
    /// on, in this process; 0: the default, `MIN_KEPT`), so small test estates use the kept
    /// path.
    pub fn set_reach_min_kept(n: usize) {
        crate::reach::set_min_kept(n);
    }

    /// Names of the indexes on the inventory's tables.
    pub fn index_names(&self) -> Result<Vec<String>, Error> {
        let sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname"
            }
        };
        Ok(self
            .conn()?
            .query(sql, &[])?
            .iter()
            .map(|r| r.text(0))
            .collect())
    }

    /// Runs one raw query and returns its rows as text (NULL as an empty string).
    pub fn query_raw(&self, sql: &str) -> Result<Vec<Vec<String>>, Error> {
        Ok(self
            .conn()?
            .query(sql, &[])?
            .into_iter()
            .map(|r| r.0.into_iter().map(|c| c.into_text()).collect())
            .collect())
    }

    /// Runs raw SQL (tampering with the audit log, building old databases).
    pub fn execute_raw(&self, sql: &str) -> Result<(), Error> {
        self.conn()?.batch(sql)
    }
}

/// A fresh, empty PostgreSQL schema on `url`, and a URL that uses it.
pub fn fresh_pg_schema(url: &str, name: &str) -> Result<String, Error> {
    let mut client = crate::pg_tls::connect(url)?;
    client.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name};"
    ))?;
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{sep}options=-csearch_path%3D{name}"))
}

/// Drops a schema made by [`fresh_pg_schema`].
pub fn drop_pg_schema(url: &str, name: &str) -> Result<(), Error> {
    let mut client = crate::pg_tls::connect(url)?;
    client.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))?;
    Ok(())
}
