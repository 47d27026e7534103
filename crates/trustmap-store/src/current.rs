//! The current findings (those of the latest scan of each set of roots, as the merged report
//! holds them) read from the `findings` columns, so a listing can filter, sort and count a
//! million of them and parse the JSON of only the page it returns (`trustmap_engine::query::
//! select_current_findings`, the server's `/api/v1/findings`).

use crate::db::Db;
use crate::error::Error;
use crate::sets;
use crate::{SelectedScan, Store};
use std::collections::{HashMap, HashSet};
use trustmap_core::Finding;

/// One current finding as the merged report lists it, from the columns.
#[derive(Debug, Clone)]
pub struct CurrentFinding {
    /// The row (`findings.rid`).
    pub rid: i64,
    pub severity: String,
    pub rule: String,
    /// As the merged report shows it: `host:path` when several hosts are current.
    pub path: Option<String>,
    pub line: Option<u64>,
    pub asset: String,
    pub asset_rid: Option<i64>,
    /// `open`, `waived` or `baselined`.
    pub status: String,
}

/// The current findings and the scans they come from.
#[derive(Debug, Clone)]
pub struct CurrentFindings {
    /// The latest scan of each set of roots, oldest first.
    pub scans: Vec<String>,
    pub findings: Vec<CurrentFinding>,
}

impl Store {
    /// Every current finding, from the columns (see the module docs): a finding at a place
    /// raised by several hosts' scans once per host with the host in its path, as
    /// [`crate::merge`] reports it. [`Error::NoScan`] when nothing is recorded.
    pub fn current_findings(&self) -> Result<CurrentFindings, Error> {
        let scans = self.select_scans(&Default::default())?;
        let findings = rows(&mut *self.conn()?, &scans)?;
        Ok(CurrentFindings {
            scans: scans.into_iter().map(|s| s.id).collect(),
            findings,
        })
    }

    /// The stored findings of rows `rids`, parsed.
    pub fn finding_bodies(&self, rids: &[i64]) -> Result<HashMap<i64, Finding>, Error> {
        let mut db = self.conn()?;
        let mut out = HashMap::with_capacity(rids.len());
        for r in db.query_in_ints("SELECT rid, body FROM findings WHERE rid IN ({in})", rids)? {
            let f: Finding = serde_json::from_str(&r.text(1))
                .map_err(|e| Error::corrupt(format!("finding {}: {e}", r.int(0))))?;
            out.insert(r.int(0), f);
        }
        Ok(out)
    }

    /// The effective owners of role `owner` of each of assets `rids` that has one, in the
    /// order a report lists them (explicit ones win; by name).
    pub fn owner_names(&self, rids: &[i64]) -> Result<HashMap<i64, Vec<String>>, Error> {
        owner_names(&mut *self.conn()?, rids)
    }
}

/// The current findings of `scans` (the latest of each set of roots), as
/// [`Store::current_findings`] lists them.
pub(crate) fn rows(db: &mut Db, scans: &[SelectedScan]) -> Result<Vec<CurrentFinding>, Error> {
    let mut hosts: Vec<&str> = scans.iter().map(|s| s.host.as_str()).collect();
    hosts.sort_unstable();
    hosts.dedup();
    let several_hosts = hosts.len() > 1;
    let mut union = roaring::RoaringBitmap::new();
    // With several hosts: each row's raising hosts (indexes into `hosts`).
    let mut raised: HashMap<u32, Vec<usize>> = HashMap::new();
    for s in scans {
        let set = sets::load(db, s.seq, sets::FINDINGS)?;
        if several_hosts {
            let host = hosts.binary_search(&s.host.as_str()).unwrap_or(0);
            for rid in &set {
                let v = raised.entry(rid).or_default();
                if !v.contains(&host) {
                    v.push(host);
                }
            }
        }
        union |= set;
    }
    const COLS: &str = "rid, severity, rule, path, line, asset, asset_rid, status";
    let total = db
        .query_one("SELECT COUNT(*) FROM findings", &[])?
        .and_then(|r| r.opt_int(0))
        .unwrap_or(0) as u64;
    // Above a quarter of the table, one pass over it beats lists of keys.
    let rows = if union.len() * 4 > total {
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
    let mut findings = Vec::with_capacity(rows.len());
    for r in rows {
        let f = CurrentFinding {
            rid: r.int(0),
            severity: r.text(1),
            rule: r.text(2),
            path: r.opt_text(3),
            line: r.opt_int(4).map(|l| l as u64),
            asset: r.text(5),
            asset_rid: r.opt_int(6),
            status: r.text(7),
        };
        match (&f.path, several_hosts) {
            (Some(p), true) => {
                for &h in raised.get(&(f.rid as u32)).into_iter().flatten() {
                    let mut g = f.clone();
                    g.path = Some(format!("{}:{p}", hosts[h]));
                    findings.push(g);
                }
            }
            _ => findings.push(f),
        }
    }
    Ok(findings)
}

/// Above this many assets, owners are read by one pass over the owners table rather than
/// by lists of keys.
const SCAN_ALL_OWNERS: usize = 20_000;

/// [`Store::owner_names`] on a connection. Only role `owner` rows are read, each asset's
/// ordered explicit first then by name: an asset's effective owners are its explicit ones
/// when it has any, else all its inferred ones (`owners::mark_effective`'s rule, for one
/// role).
pub(crate) fn owner_names(db: &mut Db, rids: &[i64]) -> Result<HashMap<i64, Vec<String>>, Error> {
    let mut rows = if rids.len() > SCAN_ALL_OWNERS {
        let wanted: HashSet<i64> = rids.iter().copied().collect();
        let mut rows = db.query(
            "SELECT asset_rid, name, explicit FROM owners WHERE role = 'owner'",
            &[],
        )?;
        rows.retain(|r| wanted.contains(&r.int(0)));
        rows
    } else {
        db.query_in_ints(
            "SELECT asset_rid, name, explicit FROM owners
             WHERE role = 'owner' AND asset_rid IN ({in})",
            rids,
        )?
    };
    // (asset, not explicit, name): each asset's explicit owners first, then by name.
    let mut owners: Vec<(i64, bool, String)> = rows
        .drain(..)
        .map(|r| (r.int(0), r.int(2) != 1, r.into_text(1)))
        .collect();
    owners.sort_unstable();
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    let mut explicit_of: HashMap<i64, bool> = HashMap::new();
    for (rid, inferred, name) in owners {
        // The first row of an asset says whether it has an explicit owner.
        let has_explicit = *explicit_of.entry(rid).or_insert(!inferred);
        if !inferred || !has_explicit {
            out.entry(rid).or_default().push(name);
        }
    }
    Ok(out)
}
