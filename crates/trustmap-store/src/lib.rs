//! trustmap-store: the inventory store. It owns the database: SQLite by default (one
//! embedded file), PostgreSQL when a team shares one inventory (`postgres://` URLs, over TLS
//! as their `sslmode` says).
//!
//! What it keeps: every scan (when, which host, which roots, counts); every asset ever seen
//! with its facts, first and last seen; every place (occurrence: host, scan root, path,
//! container) with first and last seen and the scans that saw it; relations; owners
//! (inferred from each scan, set explicitly per asset or by owner rules on path globs,
//! explicit winning); waivers; and a
//! hash-chained audit log. One [`Store`] type serves both backends through the same SQL
//! (see `db.rs`); schema changes are versioned migrations (`schema.rs`).
//!
//! A [`Store`] is shared: every method takes `&self`, and it is `Send + Sync`, so a server
//! keeps one behind an `Arc` for all its threads. It hands out connections from a small
//! pool (`pool.rs`). Readers never wait for writers (SQLite in WAL mode, PostgreSQL's
//! snapshots); writers wait for each other.
//!
//! A scan is written in one transaction ([`Store::begin_scan`] then [`PendingScan::commit`]):
//! a scan that fails or is killed before the commit leaves the previous state as it was.
//!
//! Where to look: `record.rs` and `ingest.rs` (recording a scan), `assets.rs` (listings and
//! one asset), `query.rs` (filters and path globs), `scans.rs` (scan history and diffs),
//! `owners.rs`, `rules.rs` (owner rules), `waivers.rs`, `audit.rs`, `error.rs`, `pool.rs`, `pg_tls.rs`.

#![forbid(unsafe_code)]

mod assets;
mod audit;
mod current;
mod db;
mod error;
mod facts;
mod findings;
mod impact;
mod ingest;
mod jobs;
mod migrate5;
mod migrate8;
mod migrate9;
mod overview;
mod owners;
mod pg_tls;
mod pool;
mod query;
mod reach;
mod record;
mod report;
mod rules;
mod scans;
mod schema;
mod secret_key;
mod sets;
#[cfg(any(test, feature = "test-support"))]
mod test_support;
mod tokens;
mod waivers;

pub use assets::{
    AssetCursor, AssetDetail, AssetPage, AssetPlace, AssetRow, MAX_NAMED_CERTIFICATES,
    MAX_NAMES_LOOKED_UP, NamedCertificate, OccurrenceRow, PlaceRef, RelationRow,
};
pub use audit::{AuditEvent, AuditVerdict, BrokenEvent};
pub use current::{CurrentFinding, CurrentFindings};
pub use db::Backend;
pub use error::{BackendError, Entity, Error, ErrorKind};
pub use impact::{Impact, ImpactNode};
pub use jobs::{AlertRow, JobRow, MAX_LISTED_ALERTS, NewAlert};
pub use overview::{Expiring, FindingTally, Overview, UNOWNED};
pub use owners::{OwnerChange, OwnerRow, OwnerTarget, owner_matches};
pub use query::AssetQuery;
pub use reach::MIN_KEPT;
pub use record::{PendingScan, ScanMeta, ScanRecord, ScanRoot};
pub use report::{ScanSelection, SelectedScan, StoredReport, merge};
pub use rules::{MAX_OWNER_RULES, OwnerRule};
pub use scans::{Diff, Move, Rotation, ScanRow, roots_key};
pub use secret_key::SECRET_KEY_LEN;
#[cfg(any(test, feature = "test-support"))]
pub use test_support::{drop_pg_schema, fresh_pg_schema};
pub use tokens::{MAX_TOKEN_NAME, TOKEN_PREFIX, TokenRole, TokenRow, token_hash};
pub use waivers::{NewWaiver, WaiverRow};

use pool::{Conn, Pool};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

pub(crate) fn now_rfc3339() -> String {
    trustmap_core::rfc3339(time::OffsetDateTime::now_utc())
}

/// Classical public-key algorithms a large quantum computer breaks: the one list in
/// trustmap-core, which the policy engine reads too.
pub use trustmap_core::QUANTUM_VULNERABLE;

/// Connections a store keeps open at most (each thread using the store holds one while a
/// call runs; a pending scan holds one until committed or dropped).
const MAX_CONNECTIONS: usize = 16;

/// The inventory.
pub struct Store {
    pool: Arc<Pool>,
    backend: Backend,
    /// First scans with at least this many assets are bulk loads (query indexes rebuilt once
    /// at the end).
    bulk_load: AtomicUsize,
    /// The overview's tallies as of an audit log head (`overview.rs`).
    overview_memo: overview::Memo,
}

impl Store {
    /// Opens (creating when needed) the store at `target` and migrates it to the latest
    /// schema. `postgres://` and `postgresql://` URLs select PostgreSQL (honouring
    /// `sslmode` and `sslrootcert`); anything else is a SQLite file path.
    ///
    /// Opening an inventory already at the latest schema only reads: it takes no lock and
    /// waits for no writer.
    pub fn open(target: &str) -> Result<Store, Error> {
        Self::open_to(target, schema::latest_version(), true)
    }

    /// Opens the inventory at `target` only if it exists (migrating it when older): a SQLite
    /// file that is missing, or holds no trustmap schema, or a PostgreSQL database (schema)
    /// never migrated, is [`Error::NoInventory`] and nothing is created. For every use
    /// but recording a scan, so a mistyped target fails instead of answering from an empty
    /// inventory.
    pub fn open_existing(target: &str) -> Result<Store, Error> {
        Self::open_to(target, schema::latest_version(), false)
    }

    fn open_to(target: &str, version: i64, create: bool) -> Result<Store, Error> {
        if !create && !is_postgres_url(target) && !std::path::Path::new(target).is_file() {
            return Err(Error::NoInventory(redact_url(target)));
        }
        let (backend, pool) = if is_postgres_url(target) {
            // Parsed once here, so a bad URL is an error of `open`.
            pg_tls::PgTarget::parse(target)?;
            let url = target.to_string();
            let pool = Pool::new(MAX_CONNECTIONS, move |_| db::Db::open_postgres(&url));
            (Backend::Postgres, pool)
        } else {
            let path = std::path::PathBuf::from(target);
            let pool = Pool::new(MAX_CONNECTIONS, move |first| {
                db::Db::open_sqlite(&path, first)
            });
            (Backend::Sqlite, pool)
        };
        let existed = backend == Backend::Sqlite && std::path::Path::new(target).is_file();
        {
            let mut db = pool.get()?;
            // Before anything is written into an existing SQLite inventory (`open` is the
            // scan's entry point), SQLite's quick check: a damaged file is refused rather
            // than written into. Reads (`open_existing`) skip it; `audit verify` runs the
            // full integrity check. (Cost: ARCHITECTURE.md, "The store".)
            if create && existed {
                check(&mut db, false)?;
            }
            if !create && schema::current_version(&mut db)? == 0 {
                return Err(Error::NoInventory(redact_url(target)));
            }
            schema::migrate(&mut db, version)?;
        }
        Ok(Store {
            pool,
            backend,
            bulk_load: AtomicUsize::new(ingest::BULK_LOAD),
            overview_memo: Default::default(),
        })
    }

    /// A connection from the pool, back in it when dropped.
    pub(crate) fn conn(&self) -> Result<Conn, Error> {
        self.pool.get()
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn schema_version(&self) -> Result<i64, Error> {
        schema::current_version(&mut *self.conn()?)
    }

    /// SQLite's check of the database file (`full`: `PRAGMA integrity_check`, every page,
    /// index entry and constraint; else `PRAGMA quick_check`): the problems it found, empty
    /// when the file is sound. Always empty on PostgreSQL, which keeps its own checksums.
    pub fn integrity_problems(&self, full: bool) -> Result<Vec<String>, Error> {
        self.conn()?.integrity_problems(full)
    }

    /// [`Store::integrity_problems`] as an error: [`BackendError::Damaged`] when the file
    /// fails the check.
    pub fn check_integrity(&self, full: bool) -> Result<(), Error> {
        check(&mut *self.conn()?, full)
    }

    /// The schema version this build migrates to.
    pub fn latest_schema_version() -> i64 {
        schema::latest_version()
    }
}

fn check(db: &mut db::Db, full: bool) -> Result<(), Error> {
    let problems = db.integrity_problems(full)?;
    if problems.is_empty() {
        return Ok(());
    }
    Err(BackendError::Damaged {
        check: if full {
            "integrity_check"
        } else {
            "quick_check"
        },
        problems,
    }
    .into())
}

pub fn is_postgres_url(target: &str) -> bool {
    target.starts_with("postgres://") || target.starts_with("postgresql://")
}

/// `target` fit for messages: a PostgreSQL URL with its password (in the user-info or a
/// `password=` query parameter) replaced by `***`; a file path unchanged.
pub fn redact_url(target: &str) -> String {
    if !is_postgres_url(target) {
        return target.to_string();
    }
    let Some(s) = target.find("://").map(|s| s + 3) else {
        return target.to_string();
    };
    let (main, query) = match target.find('?') {
        Some(q) => (&target[..q], Some(&target[q + 1..])),
        None => (target, None),
    };
    // The user-info ends at the last `@` before the query: a password may hold `@` or `/`.
    let mut out = match main[s..].rfind('@').map(|at| s + at) {
        Some(at) => match main[s..at].find(':') {
            Some(c) => format!("{}:***{}", &main[..s + c], &main[at..]),
            None => main.to_string(),
        },
        None => main.to_string(),
    };
    if let Some(q) = query {
        let pairs: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_store_is_shared_across_threads() {
        fn shared<T: Send + Sync>() {}
        fn sent<T: Send>() {}
        shared::<super::Store>();
        sent::<super::PendingScan>();
    }

    #[test]
    fn passwords_are_hidden_in_urls() {
        use super::redact_url;
        assert_eq!(
            redact_url("postgres://u:secret@db/x"),
            "postgres://u:***@db/x"
        );
        assert_eq!(redact_url("/tmp/a:b@c.db"), "/tmp/a:b@c.db");
        // A password holding `@` or `/` is hidden whole.
        assert_eq!(
            redact_url("postgresql://u:p@ss/w0rd@db:5432/x?sslmode=require"),
            "postgresql://u:***@db:5432/x?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://db/x?user=u&password=secret&sslmode=disable"),
            "postgres://db/x?user=u&password=***&sslmode=disable"
        );
        assert_eq!(redact_url("postgres://u@db/x"), "postgres://u@db/x");
    }
}
