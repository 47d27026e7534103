//! Recording a scan: [`Store::begin_scan`] writes it inside a transaction on a connection of
//! its own, [`PendingScan::commit`] makes it visible; dropping the pending scan rolls it
//! back. The writing itself is in `ingest.rs`.

use crate::db::Backend;
use crate::error::Error;
use crate::pool::Conn;
use crate::scans::Diff;
use crate::{Store, ingest};
use serde::Serialize;
use std::sync::atomic::Ordering;
use trustmap_core::Report;

/// One root of a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRoot {
    /// As given to the scan, forward slashes: the form of `ScanInfo.roots` and
    /// `Occurrence.root` (a trailing `/` does not matter).
    pub given: String,
    /// Absolute, forward slashes (the path made canonical on the scanning host).
    pub canonical: String,
}

/// Where a scan came from, beyond the report itself.
#[derive(Debug, Clone)]
pub struct ScanMeta {
    /// Host name of the scanner. It wins over the report's `scan.host` (the scanner's own
    /// idea of its name) when both are set; empty means "the report's".
    pub host: String,
    /// The scanned roots. With the host they make the scan's "roots key": the scans a diff
    /// compares and a place's identity (host, canonical root, path, container).
    pub roots: Vec<ScanRoot>,
    /// RFC 3339 UTC.
    pub finished_at: String,
}

impl ScanMeta {
    /// The host recorded for a scan of `report`: [`ScanMeta::host`], else the report's.
    pub fn host_for<'a>(&'a self, report: &'a Report) -> &'a str {
        if self.host.is_empty() {
            &report.scan.host
        } else {
            &self.host
        }
    }
}

/// What recording a scan changed.
#[derive(Debug, Clone, Serialize)]
pub struct ScanRecord {
    pub id: String,
    pub seq: i64,
    /// The previous scan of the same host and roots, when there is one.
    pub previous: Option<String>,
    /// Assets never seen before in this inventory.
    pub first_seen: Vec<String>,
    /// Changes since the previous scan of the same host and roots.
    pub diff: Option<Diff>,
}

impl Store {
    /// Records a scan in one transaction.
    pub fn record_scan(&self, report: &Report, meta: &ScanMeta) -> Result<ScanRecord, Error> {
        self.begin_scan(report, meta)?.commit()
    }

    /// Writes a scan inside an open transaction on a connection of its own; nothing is
    /// visible to others, and nothing is kept, until [`PendingScan::commit`]. Dropping the
    /// pending scan rolls it back. Other writers wait meanwhile (readers do not).
    pub fn begin_scan(&self, report: &Report, meta: &ScanMeta) -> Result<PendingScan, Error> {
        self.begin_scan_as(report, meta, None)
    }

    /// [`Store::begin_scan`] of a scan pushed to the server by the token named `pushed_by`,
    /// which its `scan-started` audit event then names.
    pub fn begin_scan_as(
        &self,
        report: &Report,
        meta: &ScanMeta,
        pushed_by: Option<&str>,
    ) -> Result<PendingScan, Error> {
        let bulk_load = self.bulk_load.load(Ordering::Relaxed);
        let mut conn = self.conn()?;
        // A large first scan into an empty SQLite inventory is written through the rollback
        // journal (see `Db::rollback_journal`), which needs the only connection to the file:
        // this store's idle ones are closed first.
        let restore_wal = if self.backend() == Backend::Sqlite
            && report.assets.len() >= bulk_load
            && ingest::is_empty(&mut conn)?
        {
            self.pool.close_idle();
            conn.rollback_journal(true)?
        } else {
            false
        };
        let begun = conn.begin();
        match begun.and_then(|()| ingest::write_scan(&mut conn, report, meta, bulk_load, pushed_by))
        {
            Ok(record) => Ok(PendingScan {
                conn: Some(conn),
                record: Some(record),
                restore_wal,
            }),
            Err(e) => {
                let _ = conn.rollback();
                if restore_wal {
                    let _ = conn.rollback_journal(false);
                }
                Err(e)
            }
        }
    }
}

/// A scan written but not yet committed, holding its connection (and the write lock).
/// Dropping it rolls the transaction back.
pub struct PendingScan {
    conn: Option<Conn>,
    record: Option<ScanRecord>,
    /// Written through the rollback journal (a bulk load); back to WAL when done.
    restore_wal: bool,
}

impl PendingScan {
    /// What the scan changed, as it will be committed.
    pub fn record(&self) -> &ScanRecord {
        self.record.as_ref().expect("until committed")
    }

    pub fn commit(mut self) -> Result<ScanRecord, Error> {
        let record = self.record.take().expect("commit once");
        let db = self.conn.as_mut().expect("a connection until dropped");
        let committed = db.commit();
        if std::mem::take(&mut self.restore_wal) {
            // Best effort: once committed, the scan is recorded whatever happens next, and
            // is never reported as failed. A reader holding the file keeps it in the
            // rollback journal; the next store to open it switches it back to WAL.
            let _ = db.rollback_journal(false);
        }
        committed?;
        // Fresh planner statistics after a large scan, so the filtered queries keep using
        // their indexes (best effort: the scan is already committed). On PostgreSQL the
        // tables the counts read are vacuumed too: an index-only scan reads only index
        // pages once the visibility map says the table pages are all-visible, which after
        // a large scan waits for autovacuum otherwise.
        if record.first_seen.len() >= 10_000 {
            let _ = match db.backend() {
                // (Two requests: VACUUM refuses to run in the implicit transaction of a
                // multi-statement one.)
                Backend::Postgres => db
                    .batch("VACUUM (ANALYZE) assets, owners")
                    .and_then(|()| db.batch("ANALYZE")),
                Backend::Sqlite => db.batch("PRAGMA analysis_limit = 1000; PRAGMA optimize"),
            };
        }
        Ok(record)
    }
}

impl Drop for PendingScan {
    fn drop(&mut self) {
        let Some(db) = self.conn.as_mut() else {
            return;
        };
        if self.record.is_some() {
            let _ = db.rollback();
        }
        if self.restore_wal {
            let _ = db.rollback_journal(false);
        }
    }
}
