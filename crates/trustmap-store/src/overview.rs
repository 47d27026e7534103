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

use crate::Store;
use crate::db::{Db, Val};
use crate::error::Error;
use crate::owners::{load_owners_of, mark_effective};
use crate::sets;
use std::collections::{BTreeMap, HashMap, HashSet};
use trustmap_core::Timestamp;

/// A finding's standing, kept as a column (`findings.status`, migration 15).
pub(crate) fn status_of(f: &trustmap_core::Finding) -> &'static str {
    if f.waiver.is_some() {
        "waived"
    } else if f.baselined {
        "baselined"
    } else {
        "open"
    }
}

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
        overview(&mut db, now, end, max_listed)
    }
}

fn overview(
    db: &mut Db,
    now: Timestamp,
    end: Timestamp,
    max_listed: usize,
) -> Result<Overview, Error> {
    let scans = db.query(
        "SELECT s.id, s.seq, s.host, r.errors FROM scans s
         LEFT JOIN scan_reports r ON r.scan_seq = s.seq
         WHERE s.seq IN (SELECT MAX(seq) FROM scans GROUP BY roots_key) ORDER BY s.seq",
        &[],
    )?;
    if scans.is_empty() {
        return Err(Error::NoScan(" is recorded".into()));
    }
    let mut errors = 0u64;
    for s in &scans {
        if let Some(text) = s.opt_text(3) {
            let list: Vec<serde_json::Value> = serde_json::from_str(&text)
                .map_err(|e| Error::corrupt(format!("errors of scan {}: {e}", s.text(0))))?;
            errors += list.len() as u64;
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
    let owner = first_owners(db, &rids)?;
    let expiring = listed
        .iter()
        .map(|r| Expiring {
            id: r.text(1),
            label: r.text(2),
            not_after: r.text(3),
            owner: owner
                .get(&r.int(0))
                .cloned()
                .unwrap_or_else(|| UNOWNED.to_string()),
        })
        .collect();

    let findings = tally_findings(db, &scans)?;
    Ok(Overview {
        scans: scans.iter().map(|s| s.text(0)).collect(),
        assets,
        by_kind,
        by_algorithm,
        findings,
        expired,
        within,
        expiring,
        errors,
    })
}

/// The first effective owner of each of `rids` that has one (as a report's `owners[0]`).
fn first_owners(db: &mut Db, rids: &[i64]) -> Result<HashMap<i64, String>, Error> {
    Ok(load_owners_of(db, rids)?
        .into_iter()
        .filter_map(|(rid, mut owners)| {
            mark_effective(&mut owners);
            owners
                .into_iter()
                .find(|o| o.effective)
                .map(|o| (rid, o.name))
        })
        .collect())
}

/// The findings of the latest scans `scans` (id, seq, host, ...), as [`crate::merge`] counts
/// them: a finding at a place once per host that raised it when several hosts are current,
/// else once.
fn tally_findings(db: &mut Db, scans: &[crate::db::Row]) -> Result<FindingTally, Error> {
    let hosts: Vec<String> = scans.iter().map(|s| s.text(2)).collect();
    let several_hosts = hosts.iter().collect::<HashSet<_>>().len() > 1;
    // Each finding row's raising hosts (indexes into `hosts`, deduplicated by name).
    let mut raised: HashMap<u32, Vec<u16>> = HashMap::new();
    for (i, s) in scans.iter().enumerate() {
        let host = hosts.iter().position(|h| *h == hosts[i]).unwrap_or(i) as u16;
        for rid in sets::load(db, s.int(1), sets::FINDINGS)? {
            let v = raised.entry(rid).or_default();
            if !v.contains(&host) {
                v.push(host);
            }
        }
    }
    let rids: Vec<i64> = raised.keys().map(|&r| i64::from(r)).collect();
    let rows = db.query_in_ints(
        "SELECT f.rid, f.severity, f.rule, f.status, f.path IS NOT NULL, a.rid
         FROM findings f LEFT JOIN assets a ON a.id = f.asset WHERE f.rid IN ({in})",
        &rids,
    )?;
    let mut t = FindingTally::default();
    let mut open: Vec<(String, String, Option<i64>, u64)> = Vec::new();
    for r in &rows {
        let times = if several_hosts && r.int(4) != 0 {
            raised.get(&(r.int(0) as u32)).map_or(1, |h| h.len() as u64)
        } else {
            1
        };
        match r.text(3).as_str() {
            "waived" => t.waived += times,
            "baselined" => t.baselined += times,
            _ => open.push((r.text(1), r.text(2), r.opt_int(5), times)),
        }
    }
    let mut asset_rids: Vec<i64> = open.iter().filter_map(|o| o.2).collect();
    asset_rids.sort_unstable();
    asset_rids.dedup();
    let owner = first_owners(db, &asset_rids)?;
    for (severity, rule, asset, times) in open {
        t.open += times;
        *t.by_severity.entry(severity).or_insert(0) += times;
        *t.by_rule.entry(rule).or_insert(0) += times;
        let o = asset
            .and_then(|a| owner.get(&a).cloned())
            .unwrap_or_else(|| UNOWNED.to_string());
        *t.by_owner.entry(o).or_insert(0) += times;
    }
    Ok(t)
}

/// Migration 15's backfill: the standing of every finding already stored. Only rows whose
/// JSON can hold a waiver or a baseline mark are read.
pub(crate) fn backfill_status(db: &mut Db) -> Result<(), Error> {
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
            &[status_of(&f).into(), Val::Int(r.int(0))],
        )?;
    }
    Ok(())
}
