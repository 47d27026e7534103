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
use crate::sets;
use std::collections::{BTreeMap, HashMap, HashSet};
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
                let t = Arc::new(tallies(&mut db)?);
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

fn tallies(db: &mut Db) -> Result<Tallies, Error> {
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

    let findings = tally_findings(db, &scans)?;
    Ok(Tallies {
        scans: scans.iter().map(|s| s.text(0)).collect(),
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
    let mut names = Names::default();
    let owner = first_owners(db, &rids, &mut names)?;
    let expiring = listed
        .iter()
        .map(|r| Expiring {
            id: r.text(1),
            label: r.text(2),
            not_after: r.text(3),
            owner: owner
                .get(&r.int(0))
                .map_or(UNOWNED, |&i| names.names[i as usize].as_str())
                .to_string(),
        })
        .collect();
    Ok((expired, within, expiring))
}

/// Owner names, each kept once (an estate has a million assets and a few hundred teams).
#[derive(Default)]
struct Names {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl Names {
    fn intern(&mut self, name: String) -> u32 {
        if let Some(&i) = self.index.get(&name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.clone());
        self.index.insert(name, i);
        i
    }
}

/// Above this many assets, their owners are read by one pass over the owners table rather
/// than by lists of keys.
const SCAN_ALL_OWNERS: usize = 20_000;

/// The first effective owner (role `owner`: an explicit one when there is one, else the
/// first inferred, by name) of each of `rids` that has one, as indexes into `names`.
fn first_owners(db: &mut Db, rids: &[i64], names: &mut Names) -> Result<HashMap<i64, u32>, Error> {
    let mut out = HashMap::with_capacity(rids.len());
    // Ordered so that each asset's first row is its answer.
    let take = |r: &crate::db::Row, names: &mut Names, out: &mut HashMap<i64, u32>| {
        let rid = r.int(0);
        out.entry(rid).or_insert_with(|| names.intern(r.text(1)));
    };
    if rids.len() > SCAN_ALL_OWNERS {
        let wanted: HashSet<i64> = rids.iter().copied().collect();
        for r in db.query(
            "SELECT asset_rid, name FROM owners WHERE role = 'owner'
             ORDER BY asset_rid, explicit DESC, name",
            &[],
        )? {
            if wanted.contains(&r.int(0)) {
                take(&r, names, &mut out);
            }
        }
    } else {
        let mut rows = db.query_in_ints(
            "SELECT asset_rid, name, explicit FROM owners
             WHERE role = 'owner' AND asset_rid IN ({in})",
            rids,
        )?;
        rows.sort_by(|a, b| {
            (a.int(0), std::cmp::Reverse(a.int(2)), a.text(1)).cmp(&(
                b.int(0),
                std::cmp::Reverse(b.int(2)),
                b.text(1),
            ))
        });
        for r in &rows {
            take(r, names, &mut out);
        }
    }
    Ok(out)
}

/// Above this share of the findings table (in quarters), the current findings are read by
/// one pass over the table and filtered by their set, rather than by lists of keys.
const SCAN_ALL_FINDINGS_QUARTERS: u64 = 1;

/// The findings of the latest scans `scans` (id, seq, host, ...), as [`crate::merge`] counts
/// them: a finding at a place once per host that raised it when several hosts are current,
/// else once.
fn tally_findings(db: &mut Db, scans: &[crate::db::Row]) -> Result<FindingTally, Error> {
    let hosts: Vec<String> = scans.iter().map(|s| s.text(2)).collect();
    let several_hosts = hosts.iter().collect::<HashSet<_>>().len() > 1;
    let mut union = roaring::RoaringBitmap::new();
    // With several hosts: each finding row's raising hosts (first index of the host's name).
    let mut raised: HashMap<u32, Vec<u16>> = HashMap::new();
    for (i, s) in scans.iter().enumerate() {
        let set = sets::load(db, s.int(1), sets::FINDINGS)?;
        if several_hosts {
            let host = hosts.iter().position(|h| *h == hosts[i]).unwrap_or(i) as u16;
            for rid in &set {
                let v = raised.entry(rid).or_default();
                if !v.contains(&host) {
                    v.push(host);
                }
            }
        }
        union |= set;
    }
    const COLS: &str = "rid, severity, rule, status, path IS NOT NULL, asset_rid";
    let total = db
        .query_one("SELECT COUNT(*) FROM findings", &[])?
        .and_then(|r| r.opt_int(0))
        .unwrap_or(0) as u64;
    let rows = if union.len() * 4 > total * SCAN_ALL_FINDINGS_QUARTERS {
        let mut rows = db.query(&format!("SELECT {COLS} FROM findings"), &[])?;
        rows.retain(|r| u32::try_from(r.int(0)).is_ok_and(|rid| union.contains(rid)));
        rows
    } else {
        let rids: Vec<i64> = union.iter().map(i64::from).collect();
        db.query_in_ints(
            &format!("SELECT {COLS} FROM findings WHERE rid IN ({{in}})"),
            &rids,
        )?
    };
    let mut t = FindingTally::default();
    // (severity, rule) of the open ones, counted; then by owner.
    let mut open: HashMap<(String, String), u64> = HashMap::new();
    let mut open_by_asset: HashMap<Option<i64>, u64> = HashMap::new();
    for r in rows {
        let times = if several_hosts && r.int(4) != 0 {
            raised.get(&(r.int(0) as u32)).map_or(1, |h| h.len() as u64)
        } else {
            1
        };
        match r.text(3).as_str() {
            "waived" => t.waived += times,
            "baselined" => t.baselined += times,
            _ => {
                *open.entry((r.text(1), r.text(2))).or_insert(0) += times;
                *open_by_asset.entry(r.opt_int(5)).or_insert(0) += times;
            }
        }
    }
    for ((severity, rule), n) in open {
        t.open += n;
        *t.by_severity.entry(severity).or_insert(0) += n;
        *t.by_rule.entry(rule).or_insert(0) += n;
    }
    let asset_rids: Vec<i64> = open_by_asset.keys().filter_map(|a| *a).collect();
    let mut names = Names::default();
    let owner = first_owners(db, &asset_rids, &mut names)?;
    for (asset, n) in open_by_asset {
        let o = asset
            .and_then(|a| owner.get(&a))
            .map_or(UNOWNED, |&i| names.names[i as usize].as_str());
        *t.by_owner.entry(o.to_string()).or_insert(0) += n;
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
