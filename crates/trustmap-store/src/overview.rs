//! The inventory's overview (what the server's `GET /api/v1/overview` and the web UI's
//! overview page draw), answered from the indexed columns and the scans' finding sets
//! without rebuilding a report: the current assets by kind and key algorithm, the open
//! findings by severity, rule and owner, the certificates expired and expiring in a window
//! (the soonest listed), and the errors of the latest scans.
//!
//! "Current" is what [`crate::Store::stored_report`] reports by default: the latest scan of
//! each set of roots. Assets are those with `live > 0` (seen by such a scan); findings the
//! union of those scans' finding sets, counted once per host when several hosts' scans raised
//! the same finding at a place (as [`crate::merge`] prefixes places with their host) and once
//! otherwise. At a million assets the report's rebuild reads every asset's facts, places and
//! relations (seconds and gigabytes); this reads three narrow columns.

use crate::current;
use crate::db::{Db, Val};
use crate::error::Error;
use crate::{SelectedScan, Store};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use trustmap_core::Timestamp;

/// The owner shown for an asset with none.
pub const UNOWNED: &str = "unowned";

/// Findings of the current scans by standing; the open ones tallied.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FindingTally {
    pub open: u64,
    pub waived: u64,
    pub baselined: u64,
    pub by_severity: BTreeMap<String, u64>,
    pub by_rule: BTreeMap<String, u64>,
    /// By the asset's first effective owner ([`UNOWNED`] for none).
    pub by_owner: BTreeMap<String, u64>,
}

/// A certificate expiring in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiring {
    pub id: String,
    pub label: String,
    pub not_after: String,
    pub owner: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    /// The latest scan of each set of roots, oldest first.
    pub scans: Vec<String>,
    pub assets: u64,
    pub by_kind: BTreeMap<String, u64>,
    /// Assets with a key (keys, certificates) by key algorithm.
    pub by_algorithm: BTreeMap<String, u64>,
    pub findings: FindingTally,
    /// Certificates whose notAfter is before `now`.
    pub expired: u64,
    /// Certificates whose notAfter is in [now, end).
    pub within: u64,
    /// The soonest of those, at most the limit asked for, by notAfter then id.
    pub expiring: Vec<Expiring>,
    /// The latest scans' errors, summed.
    pub errors: u64,
}

/// What does not depend on the instant asked about: scans, assets, findings, errors.
#[derive(Debug, Clone)]
struct Tallies {
    scans: Vec<String>,
    assets: u64,
    by_kind: BTreeMap<String, u64>,
    by_algorithm: BTreeMap<String, u64>,
    findings: FindingTally,
    errors: u64,
}

/// The last [`Tallies`] computed, under the audit log head they were computed at. Every
/// change they depend on (a scan recorded, an owner or owner rule set) appends an audit
/// event in its own transaction, so while the head is unchanged they are current, in this
/// process or any other writing to the same inventory: a million findings take a second or
/// more to tally, a head is one indexed read.
#[derive(Default)]
pub(crate) struct Memo(Mutex<Option<(i64, Arc<Tallies>)>>);

impl Store {
    /// The overview at `now` with expiry window [now, `end`), listing at most `max_listed`
    /// expiring certificates. [`Error::NoScan`] when nothing is recorded.
    pub fn overview(
        &self,
        now: Timestamp,
        end: Timestamp,
        max_listed: usize,
    ) -> Result<Overview, Error> {
        let mut db = self.conn()?;
        let head = db
            .query_one("SELECT MAX(seq) FROM audit_events", &[])?
            .and_then(|r| r.opt_int(0));
        let lock = || {
            self.overview_memo
                .0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
        };
        let kept = lock().clone().filter(|(h, _)| Some(*h) == head);
        let t = match kept {
            Some((_, t)) => t,
            None => {
                let scans = self.select_scans(&Default::default())?;
                let t = Arc::new(tallies(&mut db, &scans)?);
                if let Some(h) = head {
                    *lock() = Some((h, t.clone()));
                }
                t
            }
        };
        let (expired, within, expiring) = expiry(&mut db, now, end, max_listed)?;
        Ok(Overview {
            scans: t.scans.clone(),
            assets: t.assets,
            by_kind: t.by_kind.clone(),
            by_algorithm: t.by_algorithm.clone(),
            findings: t.findings.clone(),
            expired,
            within,
            expiring,
            errors: t.errors,
        })
    }
}

fn tallies(db: &mut Db, scans: &[SelectedScan]) -> Result<Tallies, Error> {
    let mut errors = 0u64;
    for s in scans {
        if let Some((_, e)) = crate::findings::extras(db, s.seq)? {
            errors += e.len() as u64;
        }
    }

    let (mut assets, mut by_kind, mut by_algorithm) = (0, BTreeMap::new(), BTreeMap::new());
    // Answered from the (algorithm, kind, live) index alone.
    for r in db.query(
        "SELECT kind, algorithm, COUNT(*) FROM assets WHERE live > 0 GROUP BY kind, algorithm",
        &[],
    )? {
        let n = r.int(2) as u64;
        assets += n;
        *by_kind.entry(r.text(0)).or_insert(0) += n;
        if let Some(alg) = r.opt_text(1) {
            *by_algorithm.entry(alg).or_insert(0) += n;
        }
    }

    let findings = tally_findings(db, scans)?;
    Ok(Tallies {
        scans: scans.iter().map(|s| s.id.clone()).collect(),
        assets,
        by_kind,
        by_algorithm,
        findings,
        errors,
    })
}

/// Certificates expired at `now`, expiring in [now, end), and the first `max_listed` of
/// those with their owners.
fn expiry(
    db: &mut Db,
    now: Timestamp,
    end: Timestamp,
    max_listed: usize,
) -> Result<(u64, u64, Vec<Expiring>), Error> {
    // notAfter is RFC 3339 UTC to the second, which orders as text; the (not_after, live)
    // index answers all three.
    let (now_s, end_s) = (now.to_string(), end.to_string());
    let count = |db: &mut Db, sql: &str, params: &[Val]| -> Result<u64, Error> {
        Ok(db
            .query_one(sql, params)?
            .and_then(|r| r.opt_int(0))
            .unwrap_or(0) as u64)
    };
    let expired = count(
        db,
        "SELECT COUNT(*) FROM assets WHERE not_after IS NOT NULL AND not_after < ? AND live > 0",
        &[now_s.as_str().into()],
    )?;
    let window = [now_s.as_str().into(), end_s.as_str().into()];
    let within = count(
        db,
        "SELECT COUNT(*) FROM assets
         WHERE not_after IS NOT NULL AND not_after >= ? AND not_after < ? AND live > 0",
        &window,
    )?;
    let mut params = window.to_vec();
    params.push(Val::Int(max_listed as i64));
    let listed = db.query(
        "SELECT rid, id, label, not_after FROM assets
         WHERE not_after IS NOT NULL AND not_after >= ? AND not_after < ? AND live > 0
         ORDER BY not_after, id LIMIT ?",
        &params,
    )?;
    let rids: Vec<i64> = listed.iter().map(|r| r.int(0)).collect();
    let owners = current::owner_names(db, &rids)?;
    let expiring = listed
        .iter()
        .map(|r| Expiring {
            id: r.text(1),
            label: r.text(2),
            not_after: r.text(3),
            owner: first(&owners, Some(r.int(0))),
        })
        .collect();
    Ok((expired, within, expiring))
}

/// The first effective owner of asset `rid` in `owners` ([`current::owner_names`]), or
/// [`UNOWNED`].
fn first(owners: &HashMap<i64, Vec<String>>, rid: Option<i64>) -> String {
    rid.and_then(|r| owners.get(&r))
        .and_then(|n| n.first())
        .map_or(UNOWNED, String::as_str)
        .to_string()
}

/// The findings of the latest scans `scans`, as [`crate::merge`] counts them (from
/// [`current::rows`]: a finding at a place once per host that raised it when several hosts
/// are current, else once).
fn tally_findings(db: &mut Db, scans: &[SelectedScan]) -> Result<FindingTally, Error> {
    let mut t = FindingTally::default();
    let mut open_by_asset: HashMap<Option<i64>, u64> = HashMap::new();
    for f in current::rows(db, scans)? {
        match f.status.as_str() {
            "waived" => t.waived += 1,
            "baselined" => t.baselined += 1,
            _ => {
                t.open += 1;
                *t.by_severity.entry(f.severity).or_insert(0) += 1;
                *t.by_rule.entry(f.rule).or_insert(0) += 1;
                *open_by_asset.entry(f.asset_rid).or_insert(0) += 1;
            }
        }
    }
    let rids: Vec<i64> = open_by_asset.keys().filter_map(|a| *a).collect();
    let owners = current::owner_names(db, &rids)?;
    for (asset, n) in open_by_asset {
        *t.by_owner.entry(first(&owners, asset)).or_insert(0) += n;
    }
    Ok(t)
}

/// Migration 15's backfill: every finding's asset key, and the standing of those already
/// stored (only rows whose JSON can hold a waiver or a baseline mark are read).
pub(crate) fn backfill_status(db: &mut Db) -> Result<(), Error> {
    db.exec(
        "UPDATE findings SET asset_rid = (SELECT rid FROM assets WHERE assets.id = findings.asset)",
        &[],
    )?;
    let rows = db.query(
        "SELECT rid, body FROM findings
         WHERE body LIKE '%\"waiver\":%' OR body LIKE '%\"baselined\":true%'",
        &[],
    )?;
    for r in rows {
        let f: trustmap_core::Finding = serde_json::from_str(&r.text(1))
            .map_err(|e| Error::corrupt(format!("finding {}: {e}", r.int(0))))?;
        db.exec(
            "UPDATE findings SET status = ? WHERE rid = ?",
            &[f.status().into(), Val::Int(r.int(0))],
        )?;
    }
    Ok(())
}
