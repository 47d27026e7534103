//! trustmap-store: the inventory store. It owns the database: SQLite by default (one
//! embedded file), PostgreSQL when a team shares one inventory (`postgres://` URLs).
//!
//! What it keeps: every scan (when, where, which host, counts); every asset ever seen with
//! its facts, first and last seen; every place (occurrence) with first and last seen and the
//! scans that saw it; relations; owners (inferred from each scan and set explicitly, explicit
//! winning); and a hash-chained audit log. One [`Store`] type serves both backends through
//! the same SQL (see `db.rs`); schema changes are versioned migrations (`schema.rs`).
//!
//! A scan is written in one transaction ([`Store::begin_scan`] then [`PendingScan::commit`]):
//! a scan that fails or is killed before the commit leaves the previous state as it was.

#![forbid(unsafe_code)]

mod audit;
mod db;
mod ingest;
mod migrate5;
mod schema;
mod sets;

pub use audit::{AuditEvent, AuditVerdict, BrokenEvent};
pub use db::Backend;

use db::{Db, Row, Val};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use trustmap_core::Report;

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("migration {version} failed: {message}")]
    Migration { version: i64, message: String },
    #[error("{0}")]
    Backend(String),
    #[error("no scan with id {0:?}")]
    UnknownScan(String),
    #[error("no asset with id {0:?}")]
    UnknownAsset(String),
    #[error("scan {0} is already recorded")]
    DuplicateScan(String),
}

pub(crate) fn now_rfc3339() -> String {
    trustmap_core::rfc3339(time::OffsetDateTime::now_utc())
}

/// Classical public-key algorithms a large quantum computer breaks (Shor).
pub const QUANTUM_VULNERABLE: &[&str] = &[
    "RSA", "EC", "ECDSA", "ECDH", "DSA", "DH", "Ed25519", "Ed448", "X25519", "X448",
];

/// Facts that are columns (and indexed) as well as inside the `facts` JSON.
pub(crate) struct QueryColumns {
    pub not_after: Option<String>,
    pub issuer: Option<String>,
    pub algorithm: Option<String>,
}

impl QueryColumns {
    pub fn of(a: &trustmap_core::Asset) -> QueryColumns {
        let cert = a.certificate.as_ref();
        QueryColumns {
            not_after: cert.map(|c| c.not_after.to_string()),
            issuer: cert.map(|c| c.issuer.clone()),
            algorithm: cert
                .map(|c| c.public_key.algorithm.clone())
                .or_else(|| a.key.as_ref().map(|k| k.algorithm.clone())),
        }
    }

    pub fn from_facts(facts: &serde_json::Value) -> QueryColumns {
        let s = |v: &serde_json::Value| v.as_str().map(str::to_string);
        let cert = &facts["certificate"];
        QueryColumns {
            not_after: s(&cert["not_after"]),
            issuer: s(&cert["issuer"]),
            algorithm: s(&cert["public_key"]["algorithm"])
                .or_else(|| s(&facts["key"]["algorithm"])),
        }
    }
}

/// Where a scan came from, beyond the report itself.
#[derive(Debug, Clone)]
pub struct ScanMeta {
    /// Host name of the scanner.
    pub host: String,
    /// Canonical identity of the scanned roots (absolute, sorted): "the same roots" for diffs.
    pub roots_key: String,
    /// RFC 3339 UTC.
    pub finished_at: String,
}

/// What recording a scan changed.
#[derive(Debug, Clone, Serialize)]
pub struct ScanRecord {
    pub id: String,
    pub seq: i64,
    /// The previous scan of the same roots, when there is one.
    pub previous: Option<String>,
    /// Assets never seen before in this inventory.
    pub first_seen: Vec<String>,
    /// Changes since the previous scan of the same roots.
    pub diff: Option<Diff>,
}

/// One recorded scan.
#[derive(Debug, Clone, Serialize)]
pub struct ScanRow {
    pub id: String,
    pub seq: i64,
    pub started_at: String,
    pub finished_at: String,
    pub roots: Vec<String>,
    pub host: String,
    pub counts: serde_json::Value,
}

/// Differences between two scans.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub from_scan: String,
    pub to_scan: String,
    /// Assets in `to` but not `from`, except those that replaced another in place (rotated).
    pub new: Vec<String>,
    /// Assets in `from` but not `to`, except those replaced in place (rotated).
    pub gone: Vec<String>,
    /// The same place now holds a different asset of the same kind.
    pub rotated: Vec<Rotation>,
    /// The same asset, seen in different places.
    pub moved: Vec<Move>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rotation {
    pub path: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub container: String,
    pub kind: String,
    /// The asset that was there.
    pub from: String,
    /// The asset that replaced it.
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Move {
    pub id: String,
    pub from: Vec<String>,
    pub to: Vec<String>,
}

/// Filters for [`Store::assets`]; all given filters must hold.
#[derive(Debug, Clone, Default)]
pub struct AssetQuery {
    pub kind: Option<String>,
    /// Certificates whose notAfter is after `now` and at or before this RFC 3339 time.
    pub expiring_before: Option<String>,
    /// Certificates whose notAfter is before `now`.
    pub expired: bool,
    /// RFC 3339 "now" for the two filters above.
    pub now: String,
    /// Effective owner (explicit, else inferred) is exactly this name.
    pub owner: Option<String>,
    /// No owner at all.
    pub unowned: bool,
    /// Issuer contains this text (case-insensitive).
    pub issuer: Option<String>,
    /// Key algorithm (case-insensitive): RSA, EC, Ed25519, ...
    pub algorithm: Option<String>,
    /// Some occurrence path matches this glob (`*` and `?`; `*` also crosses `/`).
    pub path_glob: Option<String>,
    /// Classical public-key algorithm ([`QUANTUM_VULNERABLE`]).
    pub quantum_vulnerable: bool,
    /// Also list assets that the latest scan of their roots no longer saw (gone, rotated away).
    pub include_gone: bool,
    /// At most this many rows.
    pub limit: Option<usize>,
}

/// SQL: the asset was seen by the latest scan of some set of roots.
const PRESENT: &str = "a.live > 0";

/// One owner record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerRow {
    pub role: String,
    pub name: String,
    pub source: String,
    pub explicit: bool,
    /// Whether this record is the one in effect (explicit wins over inferred).
    pub effective: bool,
}

/// One asset in a listing.
#[derive(Debug, Clone, Serialize)]
pub struct AssetRow {
    pub id: String,
    pub kind: String,
    pub label: String,
    pub fingerprint: String,
    pub not_after: Option<String>,
    pub issuer: Option<String>,
    pub algorithm: Option<String>,
    pub owner: Option<String>,
    pub owner_source: Option<String>,
    pub backup: Option<String>,
    pub backup_source: Option<String>,
    pub paths: Vec<String>,
    pub first_seen: String,
    pub last_seen: String,
    /// Seen by the latest scan of its roots; false once gone or rotated away.
    pub present: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct OccurrenceRow {
    pub path: String,
    pub line: Option<i64>,
    pub container: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    /// Scans that saw the asset at this place, oldest first.
    pub scans: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RelationRow {
    #[serde(rename = "type")]
    pub kind: String,
    /// The other asset.
    pub asset: String,
    pub label: Option<String>,
}

/// Everything known about one asset.
#[derive(Debug, Clone, Serialize)]
pub struct AssetDetail {
    #[serde(flatten)]
    pub row: AssetRow,
    pub facts: serde_json::Value,
    pub occurrences: Vec<OccurrenceRow>,
    /// Relations from this asset (it is issued by, is the key of, contains ...).
    pub relations_out: Vec<RelationRow>,
    /// Relations to this asset.
    pub relations_in: Vec<RelationRow>,
    pub owners: Vec<OwnerRow>,
    /// Where key age counts from: first seen, or the certificate's notBefore when earlier.
    pub age_since: String,
    /// Scans that saw it: (scan id, started at), oldest first.
    pub scans: Vec<(String, String)>,
}

/// What an explicit owner assignment applies to.
#[derive(Debug, Clone)]
pub enum OwnerTarget {
    Asset(String),
    PathGlob(String),
}

/// One owner change made by [`Store::set_owner`].
#[derive(Debug, Clone, Serialize)]
pub struct OwnerChange {
    pub asset: String,
    pub role: String,
    pub from: Option<String>,
    pub to: String,
}

/// The inventory.
pub struct Store {
    db: Db,
    /// First scans with at least this many assets are bulk loads (query indexes rebuilt once
    /// at the end).
    bulk_load: usize,
}

impl Store {
    /// Opens (creating when needed) the store at `target` and migrates it to the latest
    /// schema. `postgres://` and `postgresql://` URLs select PostgreSQL; anything else is a
    /// SQLite file path.
    pub fn open(target: &str) -> Result<Store, Error> {
        Self::open_at_version(target, schema::latest_version())
    }

    /// Opens the store migrating only up to `version`: for tests of migrations.
    #[doc(hidden)]
    pub fn open_at_version(target: &str, version: i64) -> Result<Store, Error> {
        let mut db = if is_postgres_url(target) {
            Db::open_postgres(target)?
        } else {
            Db::open_sqlite(std::path::Path::new(target))?
        };
        db.transaction(|db| {
            db.batch(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
            )
        })?;
        schema::migrate(&mut db, version)?;
        Ok(Store {
            db,
            bulk_load: ingest::BULK_LOAD,
        })
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    pub fn schema_version(&mut self) -> Result<i64, Error> {
        schema::current_version(&mut self.db)
    }

    /// The schema version this build migrates to.
    pub fn latest_schema_version() -> i64 {
        schema::latest_version()
    }

    /// Sets the bulk-load threshold: for tests of the bulk path on small scans.
    #[doc(hidden)]
    pub fn set_bulk_load_threshold(&mut self, assets: usize) {
        self.bulk_load = assets;
    }

    /// Names of the indexes on the inventory's tables: for tests.
    #[doc(hidden)]
    pub fn index_names(&mut self) -> Result<Vec<String>, Error> {
        let sql = match self.db.backend() {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname"
            }
        };
        Ok(self.db.query(sql, &[])?.iter().map(|r| r.text(0)).collect())
    }

    /// Runs raw SQL: for tests (tampering with the audit log, building old databases).
    #[doc(hidden)]
    pub fn execute_raw(&mut self, sql: &str) -> Result<(), Error> {
        self.db.batch(sql)
    }

    /// Records a scan in one transaction.
    pub fn record_scan(&mut self, report: &Report, meta: &ScanMeta) -> Result<ScanRecord, Error> {
        self.begin_scan(report, meta)?.commit()
    }

    /// Writes a scan inside an open transaction; nothing is visible to others, and nothing
    /// is kept, until [`PendingScan::commit`]. Dropping the pending scan rolls it back.
    pub fn begin_scan(
        &mut self,
        report: &Report,
        meta: &ScanMeta,
    ) -> Result<PendingScan<'_>, Error> {
        let restore_wal = ingest::bulk_journal(&mut self.db, report, self.bulk_load)?;
        let begun = self.db.begin();
        match begun.and_then(|()| ingest::write_scan(&mut self.db, report, meta, self.bulk_load)) {
            Ok(record) => Ok(PendingScan {
                store: self,
                record: Some(record),
                restore_wal,
            }),
            Err(e) => {
                let _ = self.db.rollback();
                if restore_wal {
                    let _ = self.db.rollback_journal(false);
                }
                Err(e)
            }
        }
    }

    /// Every scan, oldest first.
    pub fn scans(&mut self) -> Result<Vec<ScanRow>, Error> {
        let rows = self.db.query(
            "SELECT id, seq, started_at, finished_at, roots, host, counts FROM scans ORDER BY seq",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| ScanRow {
                id: r.text(0),
                seq: r.int(1),
                started_at: r.text(2),
                finished_at: r.text(3),
                roots: serde_json::from_str(&r.text(4)).unwrap_or_default(),
                host: r.text(5),
                counts: serde_json::from_str(&r.text(6)).unwrap_or_default(),
            })
            .collect())
    }

    /// The latest scan and the one before it over the same roots.
    pub fn last_two_scans(&mut self) -> Result<Option<(String, String)>, Error> {
        let Some(last) = self.db.query_one(
            "SELECT id, seq, roots_key FROM scans ORDER BY seq DESC LIMIT 1",
            &[],
        )?
        else {
            return Ok(None);
        };
        let prev = self.db.query_one(
            "SELECT id FROM scans WHERE roots_key = ? AND seq < ? ORDER BY seq DESC LIMIT 1",
            &[Val::Text(last.text(2)), Val::Int(last.int(1))],
        )?;
        Ok(prev.map(|p| (p.text(0), last.text(0))))
    }

    /// The latest two scans of the roots with this canonical key (see [`ScanMeta::roots_key`]).
    pub fn last_two_scans_of(
        &mut self,
        roots_key: &str,
    ) -> Result<Option<(String, String)>, Error> {
        let rows = self.db.query(
            "SELECT id FROM scans WHERE roots_key = ? ORDER BY seq DESC LIMIT 2",
            &[roots_key.into()],
        )?;
        Ok((rows.len() == 2).then(|| (rows[1].text(0), rows[0].text(0))))
    }

    /// The scan before `id` over the same roots.
    pub fn previous_scan(&mut self, id: &str) -> Result<Option<String>, Error> {
        let Some(r) = self.db.query_one(
            "SELECT seq, roots_key FROM scans WHERE id = ?",
            &[id.into()],
        )?
        else {
            return Err(Error::UnknownScan(id.to_string()));
        };
        Ok(self
            .db
            .query_one(
                "SELECT id FROM scans WHERE roots_key = ? AND seq < ? ORDER BY seq DESC LIMIT 1",
                &[Val::Text(r.text(1)), Val::Int(r.int(0))],
            )?
            .map(|p| p.text(0)))
    }

    /// What changed between two scans.
    pub fn diff(&mut self, from: &str, to: &str) -> Result<Diff, Error> {
        let a = scan_seq(&mut self.db, from)?;
        let b = scan_seq(&mut self.db, to)?;
        let (a_assets, a_places) = (
            sets::load(&mut self.db, a, sets::ASSETS)?,
            sets::load(&mut self.db, a, sets::PLACES)?,
        );
        let (b_assets, b_places) = (
            sets::load(&mut self.db, b, sets::ASSETS)?,
            sets::load(&mut self.db, b, sets::PLACES)?,
        );
        ingest::diff_sets(
            &mut self.db,
            from,
            to,
            (&a_assets, &a_places),
            (&b_assets, &b_places),
        )
    }

    /// Assets matching every filter in `q`, ordered by kind, then oldest first; at most
    /// `q.limit` of them.
    pub fn assets(&mut self, q: &AssetQuery) -> Result<Vec<AssetRow>, Error> {
        let (filter, params) = asset_filter(q, self.db.backend());
        let limit = q.limit.map_or(String::new(), |n| format!(" LIMIT {n}"));
        let rows = self.db.query(
            &format!(
                "SELECT a.id, a.kind, a.label, a.fingerprint, a.not_after, a.issuer, a.algorithm,
                        a.first_seen, a.last_seen, a.live, a.rid
                 FROM assets a WHERE {filter} ORDER BY a.kind, a.rid{limit}"
            ),
            &params,
        )?;
        let rids: Vec<i64> = rows.iter().map(|r| r.int(10)).collect();
        let mut paths: HashMap<i64, Vec<String>> = HashMap::new();
        for r in self.db.query_in_ints(
            "SELECT asset_rid, path FROM occurrences WHERE asset_rid IN ({in})
             ORDER BY asset_rid, path",
            &rids,
        )? {
            let v = paths.entry(r.int(0)).or_default();
            if v.last() != Some(&r.text(1)) {
                v.push(r.text(1));
            }
        }
        let mut owners: HashMap<i64, Vec<OwnerRow>> = HashMap::new();
        for r in self.db.query_in_ints(
            "SELECT asset_rid, role, name, source, explicit FROM owners WHERE asset_rid IN ({in})
             ORDER BY asset_rid, role, explicit DESC, name",
            &rids,
        )? {
            owners.entry(r.int(0)).or_default().push(owner_row(&r, 1));
        }
        // A live asset was last seen by the latest of the current scans that saw it.
        let current = sets::current(&mut self.db, sets::ASSETS)?;
        Ok(rows
            .iter()
            .map(|r| {
                let rid = r.int(10);
                let mut own = owners.remove(&rid).unwrap_or_default();
                mark_effective(&mut own);
                let mut row = asset_row(r, paths.remove(&rid).unwrap_or_default(), &own);
                if row.present
                    && let Some(at) = current
                        .iter()
                        .filter(|(_, set)| set.contains(rid as u32))
                        .map(|(at, _)| at)
                        .max()
                {
                    row.last_seen = at.clone();
                }
                row
            })
            .collect())
    }

    /// How many assets match every filter in `q` (ignoring its limit).
    pub fn count_assets(&mut self, q: &AssetQuery) -> Result<u64, Error> {
        let (filter, params) = asset_filter(q, self.db.backend());
        Ok(self
            .db
            .query_one(
                &format!("SELECT COUNT(*) FROM assets a WHERE {filter}"),
                &params,
            )?
            .map_or(0, |r| r.int(0) as u64))
    }

    /// When each of `ids` was first seen (RFC 3339); ids not in the inventory are absent.
    pub fn first_seen(&mut self, ids: &[String]) -> Result<HashMap<String, String>, Error> {
        Ok(self
            .db
            .query_in("SELECT id, first_seen FROM assets WHERE id IN ({in})", ids)?
            .iter()
            .map(|r| (r.text(0), r.text(1)))
            .collect())
    }

    /// Everything known about one asset.
    pub fn show(&mut self, id: &str) -> Result<AssetDetail, Error> {
        let Some(r) = self.db.query_one(
            "SELECT a.id, a.kind, a.label, a.fingerprint, a.not_after, a.issuer, a.algorithm,
                    a.first_seen, a.last_seen, a.live, a.rid, f.facts
             FROM assets a JOIN asset_facts f ON f.rid = a.rid WHERE a.id = ?",
            &[id.into()],
        )?
        else {
            return Err(Error::UnknownAsset(id.to_string()));
        };
        let rid = r.int(10);
        let all_assets = sets::load_all(&mut self.db, sets::ASSETS)?;
        let all_places = sets::load_all(&mut self.db, sets::PLACES)?;
        let occurrences: Vec<OccurrenceRow> = self
            .db
            .query(
                "SELECT rid, path, line, container, first_seen FROM occurrences
                 WHERE asset_rid = ? ORDER BY path, container",
                &[Val::Int(rid)],
            )?
            .iter()
            .map(|o| OccurrenceRow {
                path: o.text(1),
                line: o.opt_int(2),
                container: o.opt_text(3).filter(|c| !c.is_empty()),
                first_seen: o.text(4),
                last_seen: sets::seen_by(&all_places, o.int(0))
                    .last()
                    .map(|x| x.finished_at.clone())
                    .unwrap_or_else(|| o.text(4)),
                scans: sets::seen_by(&all_places, o.int(0))
                    .map(|x| x.id.clone())
                    .collect(),
            })
            .collect();
        let rel = |rows: Vec<Row>| {
            rows.iter()
                .map(|x| RelationRow {
                    kind: x.text(0),
                    asset: x.text(1),
                    label: x.opt_text(2),
                })
                .collect::<Vec<_>>()
        };
        let relations_out = rel(self.db.query(
            "SELECT r.type, a.id, a.label FROM relations r JOIN assets a ON a.rid = r.to_rid
             WHERE r.from_rid = ? ORDER BY r.type, a.id",
            &[Val::Int(rid)],
        )?);
        let relations_in = rel(self.db.query(
            "SELECT r.type, a.id, a.label FROM relations r JOIN assets a ON a.rid = r.from_rid
             WHERE r.to_rid = ? ORDER BY r.type, a.id",
            &[Val::Int(rid)],
        )?);
        let mut owners = load_owners(&mut self.db, rid)?;
        mark_effective(&mut owners);
        let scans = sets::seen_by(&all_assets, rid)
            .map(|x| (x.id.clone(), x.started_at.clone()))
            .collect();
        let paths = occurrences.iter().map(|o| o.path.clone()).collect();
        let facts: serde_json::Value = serde_json::from_str(&r.text(11)).unwrap_or_default();
        let mut row = asset_row(&r, paths, &owners);
        if let Some(at) = sets::seen_by(&all_assets, rid)
            .last()
            .map(|x| x.finished_at.clone())
        {
            row.last_seen = at;
        }
        // RFC 3339 UTC text in one format compares chronologically.
        let age_since = match facts["certificate"]["not_before"].as_str() {
            Some(nb) if nb < row.first_seen.as_str() => nb.to_string(),
            _ => row.first_seen.clone(),
        };
        Ok(AssetDetail {
            row,
            facts,
            age_since,
            occurrences,
            relations_out,
            relations_in,
            owners,
            scans,
        })
    }

    /// Sets the explicit owner and/or backup owner of one asset, or of every asset with a
    /// place matching a path glob. Returns the effective changes (each also an audit event).
    pub fn set_owner(
        &mut self,
        target: &OwnerTarget,
        owner: Option<&str>,
        backup: Option<&str>,
    ) -> Result<Vec<OwnerChange>, Error> {
        self.db.transaction(|db| {
            let ids: Vec<(String, i64)> = match target {
                OwnerTarget::Asset(id) => {
                    let Some(r) =
                        db.query_one("SELECT rid FROM assets WHERE id = ?", &[id.into()])?
                    else {
                        return Err(Error::UnknownAsset(id.clone()));
                    };
                    vec![(id.clone(), r.int(0))]
                }
                OwnerTarget::PathGlob(g) => {
                    let (cond, param) = path_matches("o.path", g, db.backend());
                    db.query(
                        &format!(
                            "SELECT DISTINCT a.id, a.rid FROM occurrences o
                             JOIN assets a ON a.rid = o.asset_rid WHERE {cond} ORDER BY a.id"
                        ),
                        &[param],
                    )?
                    .iter()
                    .map(|r| (r.text(0), r.int(1)))
                    .collect()
                }
            };
            let now = now_rfc3339();
            let mut audit = audit::AuditWriter::load(db)?;
            let mut changes = Vec::new();
            for (id, rid) in &ids {
                for (role, name) in [("owner", owner), ("backup", backup)] {
                    let Some(name) = name else { continue };
                    let before = effective_name(db, *rid, role)?;
                    db.exec(
                        "DELETE FROM owners WHERE asset_rid = ? AND role = ? AND explicit = 1",
                        &[Val::Int(*rid), role.into()],
                    )?;
                    db.exec(
                        "INSERT INTO owners (asset_rid, role, name, source, explicit, set_at)
                         VALUES (?, ?, ?, 'explicit', 1, ?)",
                        &[Val::Int(*rid), role.into(), name.into(), now.as_str().into()],
                    )?;
                    if before.as_deref() != Some(name) {
                        audit.append(
                            &now,
                            "owner-changed",
                            id,
                            serde_json::json!({"role": role, "from": before, "to": name, "source": "explicit"}),
                        );
                        changes.push(OwnerChange {
                            asset: id.clone(),
                            role: role.to_string(),
                            from: before,
                            to: name.to_string(),
                        });
                    }
                }
            }
            audit.flush(db)?;
            Ok(changes)
        })
    }

    /// Records a waiver (and a `waiver-granted` audit event). The asset must be in the
    /// inventory; the rule id and the date are the caller's to check.
    pub fn grant_waiver(&mut self, w: &NewWaiver) -> Result<WaiverRow, Error> {
        self.db.transaction(|db| {
            if db
                .query_one("SELECT id FROM assets WHERE id = ?", &[w.asset.as_str().into()])?
                .is_none()
            {
                return Err(Error::UnknownAsset(w.asset.clone()));
            }
            let now = now_rfc3339();
            let id = db
                .query_one(
                    "INSERT INTO waivers (rule, asset_id, reason, expires_at, granted_by, granted_at)
                     VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    &[
                        w.rule.as_str().into(),
                        w.asset.as_str().into(),
                        w.reason.as_str().into(),
                        w.until.as_str().into(),
                        w.by.as_str().into(),
                        now.as_str().into(),
                    ],
                )?
                .map(|r| r.int(0))
                .ok_or_else(|| Error::Backend("inserting the waiver returned no id".into()))?;
            let mut audit = audit::AuditWriter::load(db)?;
            audit.append(
                &now,
                "waiver-granted",
                &w.asset,
                serde_json::json!({"waiver": id, "rule": w.rule, "by": w.by, "reason": w.reason, "until": w.until}),
            );
            audit.flush(db)?;
            Ok(WaiverRow {
                id,
                rule: w.rule.clone(),
                asset: w.asset.clone(),
                reason: w.reason.clone(),
                until: w.until.clone(),
                by: w.by.clone(),
                granted_at: now,
                revoked_at: None,
                revoked_by: None,
            })
        })
    }

    /// Revokes a waiver (and records a `waiver-revoked` audit event).
    pub fn revoke_waiver(&mut self, id: i64, by: &str) -> Result<WaiverRow, Error> {
        self.db.transaction(|db| {
            let Some(mut w) = waiver_by_id(db, id)? else {
                return Err(Error::Backend(format!("no waiver with id {id}")));
            };
            if w.revoked_at.is_some() {
                return Err(Error::Backend(format!("waiver {id} is already revoked")));
            }
            let now = now_rfc3339();
            db.exec(
                "UPDATE waivers SET revoked_at = ?, revoked_by = ? WHERE id = ?",
                &[now.as_str().into(), by.into(), Val::Int(id)],
            )?;
            let mut audit = audit::AuditWriter::load(db)?;
            audit.append(
                &now,
                "waiver-revoked",
                &w.asset,
                serde_json::json!({"waiver": id, "rule": w.rule, "by": by}),
            );
            audit.flush(db)?;
            w.revoked_at = Some(now);
            w.revoked_by = Some(by.to_string());
            Ok(w)
        })
    }

    /// Every waiver ever granted (revoked and expired ones too), oldest first.
    pub fn waivers(&mut self) -> Result<Vec<WaiverRow>, Error> {
        Ok(self
            .db
            .query(&format!("{WAIVER_SELECT} ORDER BY id"), &[])?
            .iter()
            .map(waiver_row)
            .collect())
    }

    /// Checks the audit log's hash chain.
    pub fn verify_audit(&mut self) -> Result<AuditVerdict, Error> {
        audit::verify(&mut self.db)
    }

    /// The position of the audit event with this hash, if the log holds one. With an intact
    /// chain, finding an earlier head proves every event up to it is unchanged.
    pub fn audit_event_with_hash(&mut self, hash: &str) -> Result<Option<i64>, Error> {
        Ok(self
            .db
            .query_one(
                "SELECT seq FROM audit_events WHERE hash = ?",
                &[hash.to_ascii_lowercase().into()],
            )?
            .map(|r| r.int(0)))
    }

    /// Audit events at or after `since` (RFC 3339), oldest first.
    pub fn audit_events(&mut self, since: Option<&str>) -> Result<Vec<AuditEvent>, Error> {
        audit::events_since(&mut self.db, since)
    }
}

/// A waiver to record: `until` is RFC 3339 UTC.
#[derive(Debug, Clone)]
pub struct NewWaiver {
    pub rule: String,
    pub asset: String,
    pub reason: String,
    pub until: String,
    pub by: String,
}

/// A stored waiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaiverRow {
    pub id: i64,
    pub rule: String,
    pub asset: String,
    pub reason: String,
    /// RFC 3339 UTC: the waiver no longer applies from this instant.
    pub until: String,
    pub by: String,
    pub granted_at: String,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
}

const WAIVER_SELECT: &str = "SELECT id, rule, asset_id, reason, expires_at, granted_by, granted_at, revoked_at, revoked_by FROM waivers";

fn waiver_row(r: &Row) -> WaiverRow {
    WaiverRow {
        id: r.int(0),
        rule: r.text(1),
        asset: r.text(2),
        reason: r.text(3),
        until: r.text(4),
        by: r.text(5),
        granted_at: r.text(6),
        revoked_at: r.opt_text(7),
        revoked_by: r.opt_text(8),
    }
}

fn waiver_by_id(db: &mut Db, id: i64) -> Result<Option<WaiverRow>, Error> {
    Ok(db
        .query_one(&format!("{WAIVER_SELECT} WHERE id = ?"), &[Val::Int(id)])?
        .as_ref()
        .map(waiver_row))
}

/// A scan written but not yet committed. Dropping it rolls the transaction back.
pub struct PendingScan<'a> {
    store: &'a mut Store,
    record: Option<ScanRecord>,
    /// Written through the rollback journal (a bulk load); back to WAL when done.
    restore_wal: bool,
}

impl PendingScan<'_> {
    pub fn commit(mut self) -> Result<ScanRecord, Error> {
        let record = self.record.take().expect("commit once");
        let committed = self.store.db.commit();
        if std::mem::take(&mut self.restore_wal) {
            self.store.db.rollback_journal(false)?;
        }
        committed?;
        // Fresh planner statistics after a large scan, so the filtered queries keep using
        // their indexes (best effort: the scan is already committed). On PostgreSQL the
        // tables the counts read are vacuumed too: an index-only scan reads only index
        // pages once the visibility map says the table pages are all-visible, which after
        // a large scan waits for autovacuum otherwise.
        if record.first_seen.len() >= 10_000 {
            let _ = match self.store.db.backend() {
                // (Two requests: VACUUM refuses to run in the implicit transaction of a
                // multi-statement one.)
                Backend::Postgres => self
                    .store
                    .db
                    .batch("VACUUM (ANALYZE) assets, owners")
                    .and_then(|()| self.store.db.batch("ANALYZE")),
                Backend::Sqlite => self
                    .store
                    .db
                    .batch("PRAGMA analysis_limit = 1000; PRAGMA optimize"),
            };
        }
        Ok(record)
    }
}

impl Drop for PendingScan<'_> {
    fn drop(&mut self) {
        if self.record.is_some() {
            let _ = self.store.db.rollback();
        }
        if self.restore_wal {
            let _ = self.store.db.rollback_journal(false);
        }
    }
}

pub fn is_postgres_url(target: &str) -> bool {
    target.starts_with("postgres://") || target.starts_with("postgresql://")
}

fn scan_seq(db: &mut Db, id: &str) -> Result<i64, Error> {
    db.query_one("SELECT seq FROM scans WHERE id = ?", &[id.into()])?
        .map(|r| r.int(0))
        .ok_or_else(|| Error::UnknownScan(id.to_string()))
}

fn owner_row(r: &Row, at: usize) -> OwnerRow {
    OwnerRow {
        role: r.text(at),
        name: r.text(at + 1),
        source: r.text(at + 2),
        explicit: r.int(at + 3) == 1,
        effective: false,
    }
}

fn load_owners(db: &mut Db, rid: i64) -> Result<Vec<OwnerRow>, Error> {
    Ok(db
        .query(
            "SELECT role, name, source, explicit FROM owners WHERE asset_rid = ?
             ORDER BY role, explicit DESC, name",
            &[Val::Int(rid)],
        )?
        .iter()
        .map(|r| owner_row(r, 0))
        .collect())
}

/// Explicit owners of a role win; without one, every inferred owner of that role counts.
fn mark_effective(owners: &mut [OwnerRow]) {
    let explicit_roles: BTreeSet<String> = owners
        .iter()
        .filter(|o| o.explicit)
        .map(|o| o.role.clone())
        .collect();
    for o in owners.iter_mut() {
        o.effective = o.explicit || !explicit_roles.contains(&o.role);
    }
}

fn effective(owners: &[OwnerRow], role: &str) -> (Option<String>, Option<String>) {
    let eff: Vec<&OwnerRow> = owners
        .iter()
        .filter(|o| o.role == role && o.effective)
        .collect();
    if eff.is_empty() {
        return (None, None);
    }
    let names = eff.iter().map(|o| o.name.as_str()).collect::<Vec<_>>();
    let sources = eff.iter().map(|o| o.source.as_str()).collect::<Vec<_>>();
    (Some(names.join(", ")), Some(sources.join(", ")))
}

fn effective_name(db: &mut Db, rid: i64, role: &str) -> Result<Option<String>, Error> {
    let mut owners = load_owners(db, rid)?;
    mark_effective(&mut owners);
    Ok(effective(&owners, role).0)
}

fn asset_row(r: &Row, paths: Vec<String>, owners: &[OwnerRow]) -> AssetRow {
    let (owner, owner_source) = effective(owners, "owner");
    let (backup, backup_source) = effective(owners, "backup");
    AssetRow {
        id: r.text(0),
        kind: r.text(1),
        label: r.text(2),
        fingerprint: r.text(3),
        not_after: r.opt_text(4),
        issuer: r.opt_text(5),
        algorithm: r.opt_text(6),
        owner,
        owner_source,
        backup,
        backup_source,
        paths,
        first_seen: r.text(7),
        last_seen: r.text(8),
        present: r.int(9) > 0,
    }
}

/// `*` -> `%`, `?` -> `_`, with LIKE's own wildcards escaped.
pub fn glob_to_like(glob: &str) -> String {
    let mut out = String::with_capacity(glob.len());
    for ch in glob.chars() {
        match ch {
            '*' => {
                if !out.ends_with('%') {
                    out.push('%')
                }
            }
            '?' => out.push('_'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(ch);
            }
            c => out.push(c),
        }
    }
    out
}

/// SQL matching `column` against a glob (`*` also crosses `/`; case-sensitive), in a form
/// that uses the path index for a literal prefix: SQLite's GLOB, PostgreSQL's LIKE (with the
/// text_pattern_ops index of migration 3).
fn path_matches(column: &str, glob: &str, backend: Backend) -> (String, Val) {
    match backend {
        Backend::Sqlite => (format!("{column} GLOB ?"), Val::from(glob)),
        Backend::Postgres => (
            format!("{column} LIKE ? ESCAPE '\\'"),
            Val::Text(glob_to_like(glob)),
        ),
    }
}

/// SQL: the asset's key is among those `keys` (a subquery) selects, found by looking each
/// of them up rather than by scanning the assets. PostgreSQL: `= ANY(ARRAY(...))`, which
/// runs the subquery once, first, and probes the primary key with its sorted keys; given
/// `IN (...)`, its planner (costing a random read at 4 sequential ones) instead hashes a
/// scan of every asset, or for a first page walks the `(kind, rid)` index probing each
/// asset in turn: 0.5-3 s at a million assets for the thousands an owner or a path
/// prefix selects. SQLite already runs `IN (...)` that way.
fn rid_in(keys: &str, backend: Backend) -> String {
    match backend {
        Backend::Sqlite => format!("a.rid IN ({keys})"),
        Backend::Postgres => format!("a.rid = ANY(ARRAY({keys}))"),
    }
}

fn asset_filter(q: &AssetQuery, backend: Backend) -> (String, Vec<Val>) {
    let mut clauses = vec!["1 = 1".to_string()];
    let mut params = Vec::new();
    if !q.include_gone {
        clauses.push(PRESENT.to_string());
    }
    if let Some(k) = &q.kind {
        clauses.push("a.kind = ?".into());
        params.push(Val::from(k));
    }
    if let Some(before) = &q.expiring_before {
        clauses.push("a.not_after IS NOT NULL AND a.not_after >= ? AND a.not_after <= ?".into());
        params.push(Val::from(&q.now));
        params.push(Val::from(before));
    }
    if q.expired {
        clauses.push("a.not_after IS NOT NULL AND a.not_after < ?".into());
        params.push(Val::from(&q.now));
    }
    if let Some(o) = &q.owner {
        // Effective owner: the assets `o` owns explicitly, then those it owns by inference
        // that have no explicit owner (an anti-join with the few explicit owners). Both read
        // from the owners_name index alone (name, role, explicit, asset_rid).
        clauses.push(rid_in(
            "SELECT w.asset_rid FROM owners w
             WHERE w.name = ? AND w.role = 'owner' AND w.explicit = 1
             UNION ALL
             SELECT w.asset_rid FROM owners w
             WHERE w.name = ? AND w.role = 'owner' AND w.explicit <> 1
               AND NOT EXISTS (SELECT 1 FROM owners x
                 WHERE x.asset_rid = w.asset_rid AND x.role = 'owner' AND x.explicit = 1)",
            backend,
        ));
        params.push(Val::from(o));
        params.push(Val::from(o));
    }
    if q.unowned {
        clauses.push(
            "NOT EXISTS (SELECT 1 FROM owners w WHERE w.asset_rid = a.rid AND w.role = 'owner')"
                .into(),
        );
    }
    if let Some(i) = &q.issuer {
        // Matched against the distinct issuers, then found through the issuer index.
        clauses.push(
            "a.issuer IN (SELECT name FROM issuers WHERE LOWER(name) LIKE ? ESCAPE '\\')".into(),
        );
        let literal: String = i
            .to_lowercase()
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        params.push(Val::Text(format!("%{literal}%")));
    }
    if let Some(alg) = &q.algorithm {
        clauses.push("LOWER(a.algorithm) = ?".into());
        params.push(Val::Text(alg.to_lowercase()));
    }
    if let Some(g) = &q.path_glob {
        let (cond, param) = path_matches("o.path", g, backend);
        let places = format!("SELECT o.asset_rid FROM occurrences o WHERE {cond}");
        // A literal prefix is a range of the path index, usually a narrow one: look its
        // assets up. A leading wildcard reads every place anyway, and matching them to the
        // assets by hashing is then faster (PostgreSQL, `*.pem` matching all of 3M places:
        // 1.7 s against 2.7 s).
        clauses.push(if g.starts_with(['*', '?']) {
            format!("a.rid IN ({places})")
        } else {
            rid_in(&places, backend)
        });
        params.push(param);
    }
    if q.quantum_vulnerable {
        let list = QUANTUM_VULNERABLE
            .iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(", ");
        clauses.push(format!("a.algorithm IN ({list})"));
    }
    (clauses.join(" AND "), params)
}

/// The facts kept for an asset: its kind-specific sections of the JSON contract.
#[derive(Serialize)]
pub(crate) struct Facts<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate: Option<&'a trustmap_core::CertificateInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a trustmap_core::KeyInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keystore: Option<&'a trustmap_core::KeystoreInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a trustmap_core::SecretInfo>,
}

/// The facts of `a` as stored JSON text (serialized once, straight from the model).
pub(crate) fn facts_text(a: &trustmap_core::Asset) -> String {
    serde_json::to_string(&Facts {
        certificate: a.certificate.as_ref(),
        key: a.key.as_ref(),
        keystore: a.keystore.as_ref(),
        secret: a.secret.as_ref(),
    })
    .unwrap_or_else(|_| "{}".into())
}

/// For tests: a fresh, empty PostgreSQL schema on `url`, and a URL that uses it.
#[doc(hidden)]
pub fn fresh_pg_schema(url: &str, name: &str) -> Result<String, Error> {
    let mut client = postgres::Client::connect(url, postgres::NoTls)?;
    client.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name};"
    ))?;
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{sep}options=-csearch_path%3D{name}"))
}

/// For tests: drops a schema made by [`fresh_pg_schema`].
#[doc(hidden)]
pub fn drop_pg_schema(url: &str, name: &str) -> Result<(), Error> {
    let mut client = postgres::Client::connect(url, postgres::NoTls)?;
    client.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_become_like_patterns() {
        assert_eq!(glob_to_like("certs/*.pem"), "certs/%.pem");
        assert_eq!(glob_to_like("**/tls_?.crt"), "%/tls\\__.crt");
        assert_eq!(glob_to_like("100%"), "100\\%");
    }

    #[test]
    fn issuer_filter_is_a_literal_substring() {
        let q = AssetQuery {
            issuer: Some("A_B 100%".into()),
            include_gone: true,
            ..Default::default()
        };
        let (_, params) = asset_filter(&q, Backend::Sqlite);
        assert!(matches!(&params[0], Val::Text(t) if t == "%a\\_b 100\\%%"));
    }

    #[test]
    fn every_placeholder_has_its_parameter() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            for glob in ["certs/*.pem", "*.pem"] {
                let q = AssetQuery {
                    kind: Some("certificate".into()),
                    expiring_before: Some("2026-12-01T00:00:00Z".into()),
                    expired: true,
                    now: "2026-11-01T00:00:00Z".into(),
                    owner: Some("team-a".into()),
                    unowned: true,
                    issuer: Some("CA".into()),
                    algorithm: Some("RSA".into()),
                    path_glob: Some(glob.into()),
                    quantum_vulnerable: true,
                    ..Default::default()
                };
                let (sql, params) = asset_filter(&q, backend);
                assert_eq!(sql.matches('?').count(), params.len(), "{sql}");
                // PostgreSQL looks up the assets an owner or a path prefix selects.
                let lookups = sql.matches("= ANY(ARRAY(").count();
                let expected = match (backend, glob) {
                    (Backend::Sqlite, _) => 0,
                    (Backend::Postgres, "*.pem") => 1,
                    (Backend::Postgres, _) => 2,
                };
                assert_eq!(lookups, expected, "{sql}");
            }
        }
    }

    #[test]
    fn explicit_owner_wins_per_role() {
        let row = |role: &str, name: &str, explicit: bool| OwnerRow {
            role: role.into(),
            name: name.into(),
            source: if explicit { "explicit" } else { "CODEOWNERS:1" }.into(),
            explicit,
            effective: false,
        };
        let mut o = vec![
            row("owner", "team-a", false),
            row("owner", "team-b", true),
            row("backup", "team-c", false),
        ];
        mark_effective(&mut o);
        assert_eq!(effective(&o, "owner").0.as_deref(), Some("team-b"));
        assert_eq!(effective(&o, "backup").0.as_deref(), Some("team-c"));
    }
}
