//! Reports from the store: a recorded scan rebuilt as the `Report` it produced, or the
//! inventory as of an instant (the latest scan of each host and roots by then, merged), so
//! every exporter runs on stored data without a rescan (`trustmap report`, `trustmap
//! findings`, `trustmap metrics`, and the server next).
//!
//! What is rebuilt as it was: the scan's header, the assets it saw with their facts, the
//! places it saw them at, the relations among them, its findings (with their waiver and
//! baseline marks as judged then) and its errors. What is today's: owners (the inventory
//! keeps the current owners, inferred and explicit; a report says the owners as they are
//! now). A place's `offset` is not stored and comes back empty.

use crate::db::{Db, Val};
use crate::error::{Entity, Error};
use crate::owners::{load_owners_of, mark_effective};
use crate::{Store, findings, sets};
use std::collections::{BTreeMap, HashMap, HashSet};
use trustmap_core::{
    Asset, AssetKind, Finding, Occurrence, Owner, Relation, Report, ScanError, ScanInfo, Timestamp,
    ToolInfo,
};

/// Which scans a report covers.
#[derive(Debug, Clone, Default)]
pub struct ScanSelection {
    /// Exactly this scan (a scan id).
    pub scan: Option<String>,
    /// Otherwise the latest scan of each host and roots finished at or before this instant
    /// (now when unset).
    pub as_of: Option<Timestamp>,
    /// Only scans by this host.
    pub host: Option<String>,
}

/// One scan a report was built from.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SelectedScan {
    pub id: String,
    pub seq: i64,
    pub host: String,
    pub started_at: String,
    pub finished_at: String,
    pub roots: Vec<String>,
}

/// A stored report and the scans it came from.
#[derive(Debug, Clone)]
pub struct StoredReport {
    pub report: Report,
    pub scans: Vec<SelectedScan>,
    /// Findings marked baselined in the scans (a baseline file was given to them).
    pub baselined: usize,
}

impl Store {
    /// The scans `sel` selects, oldest first: one (`sel.scan`), or the latest of each
    /// host and roots as of `sel.as_of`. [`Error::NotFound`] when there is none.
    pub fn select_scans(&self, sel: &ScanSelection) -> Result<Vec<SelectedScan>, Error> {
        let mut db = self.conn()?;
        let row = |r: &crate::db::Row| SelectedScan {
            id: r.text(0),
            seq: r.int(1),
            host: r.text(2),
            started_at: r.text(3),
            finished_at: r.text(4),
            roots: serde_json::from_str(&r.text(5)).unwrap_or_default(),
        };
        const COLS: &str = "id, seq, host, started_at, finished_at, roots";
        if let Some(id) = &sel.scan {
            let r = db
                .query_one(
                    &format!("SELECT {COLS} FROM scans WHERE id = ?"),
                    &[id.as_str().into()],
                )?
                .ok_or_else(|| Error::not_found(Entity::Scan, id))?;
            return Ok(vec![row(&r)]);
        }
        let as_of = sel
            .as_of
            .map(|t| t.to_string())
            .unwrap_or_else(|| "9999-12-31T23:59:59Z".into());
        let mut params: Vec<Val> = vec![as_of.clone().into()];
        let mut host_filter = "";
        if let Some(h) = &sel.host {
            params.push(h.as_str().into());
            host_filter = " AND host = ?";
        }
        let out: Vec<SelectedScan> = db
            .query(
                &format!(
                    "SELECT {COLS} FROM scans WHERE seq IN (
                       SELECT MAX(seq) FROM scans WHERE finished_at <= ?{host_filter}
                       GROUP BY roots_key)
                     ORDER BY seq"
                ),
                &params,
            )?
            .iter()
            .map(row)
            .collect();
        if out.is_empty() {
            let by = sel
                .host
                .as_ref()
                .map(|h| format!(" by host {h:?}"))
                .unwrap_or_default();
            return Err(Error::NoScan(match sel.as_of {
                Some(_) => format!("{by} had finished by {as_of}"),
                None => format!("{by} is recorded"),
            }));
        }
        Ok(out)
    }

    /// The report of the scans `sel` selects; several are merged (see [`merge`]).
    pub fn stored_report(&self, sel: &ScanSelection) -> Result<StoredReport, Error> {
        self.stored(sel, false)
    }

    /// [`Store::stored_report`] for what a findings listing needs: the findings, the errors
    /// and the header as the full report has them (merged the same way), and each asset's
    /// id, kind, fingerprint and owners, but no facts, places or relations. At a million
    /// assets the full report reads three million places and every asset's facts.
    pub fn stored_findings(&self, sel: &ScanSelection) -> Result<StoredReport, Error> {
        self.stored(sel, true)
    }

    fn stored(&self, sel: &ScanSelection, light: bool) -> Result<StoredReport, Error> {
        let scans = self.select_scans(sel)?;
        let mut db = self.conn()?;
        let mut reports = Vec::with_capacity(scans.len());
        for s in &scans {
            reports.push(rebuild(&mut db, s, light)?);
        }
        let report = if reports.len() == 1 {
            reports.pop().expect("one report")
        } else {
            merge(reports, &scans)
        };
        let baselined = report.findings.iter().filter(|f| f.baselined).count();
        Ok(StoredReport {
            report,
            scans,
            baselined,
        })
    }
}

/// One typed field of an asset's stored facts.
fn fact<T: serde::de::DeserializeOwned>(
    facts: &serde_json::Value,
    k: &str,
    id: &str,
) -> Result<Option<T>, Error> {
    match facts.get(k) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| Error::corrupt(format!("{k} facts of {id}: {e}"))),
    }
}

/// Scan `s` rebuilt as its report; `light`: without the assets' facts, places and
/// relations ([`Store::stored_findings`]).
fn rebuild(db: &mut Db, s: &SelectedScan, light: bool) -> Result<Report, Error> {
    let Some((extras, errors)) = findings::extras(db, s.seq)? else {
        return Err(Error::InvalidInput(format!(
            "scan {} was recorded before trustmap kept findings and reports in the inventory \
             (schema version 10); scan again to report from the store",
            s.id
        )));
    };
    let mut findings: Vec<Finding> = findings::load(db, s.seq)?
        .unwrap_or_default()
        .into_iter()
        .map(|(_, f)| f)
        .collect();
    trustmap_core::policy::sort_findings(&mut findings);
    let given_of: HashMap<&str, &str> = extras
        .roots
        .iter()
        .map(|(g, c)| (c.as_str(), g.as_str()))
        .collect();
    let asset_set = sets::load(db, s.seq, sets::ASSETS)?;
    let place_set = if light {
        roaring::RoaringBitmap::new()
    } else {
        sets::load(db, s.seq, sets::PLACES)?
    };
    let rids: Vec<i64> = asset_set.iter().map(i64::from).collect();
    let mut assets: BTreeMap<i64, Asset> = BTreeMap::new();
    let sql = if light {
        "SELECT a.rid, a.id, a.kind, a.fingerprint, NULL FROM assets a WHERE a.rid IN ({in})"
    } else {
        "SELECT a.rid, a.id, a.kind, a.fingerprint, f.facts FROM assets a
         JOIN asset_facts f ON f.rid = a.rid WHERE a.rid IN ({in})"
    };
    for r in db.query_in_ints(sql, &rids)? {
        let kind = AssetKind::parse(&r.text(2)).ok_or_else(|| {
            Error::corrupt(format!("asset {} has kind {:?}", r.text(1), r.text(2)))
        })?;
        let facts: serde_json::Value = match r.opt_text(4) {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| Error::corrupt(format!("facts of {}: {e}", r.text(1))))?,
            None => serde_json::Value::Null,
        };
        let id = r.text(1);
        assets.insert(
            r.int(0),
            Asset {
                id: id.clone(),
                kind,
                fingerprint: r.text(3),
                occurrences: Vec::new(),
                certificate: fact(&facts, "certificate", &id)?,
                key: fact(&facts, "key", &id)?,
                secret: fact(&facts, "secret", &id)?,
                keystore: fact(&facts, "keystore", &id)?,
                consumer: fact(&facts, "consumer", &id)?,
                endpoint: fact(&facts, "endpoint", &id)?,
                owners: Vec::new(),
            },
        );
    }
    let place_rids: Vec<i64> = place_set.iter().map(i64::from).collect();
    let mut places = db.query_in_ints(
        "SELECT rid, asset_rid, path, line, container, root FROM occurrences WHERE rid IN ({in})",
        &place_rids,
    )?;
    places.sort_by_key(|r| r.int(0));
    for p in places {
        if let Some(a) = assets.get_mut(&p.int(1)) {
            let root = p.text(5);
            a.occurrences.push(Occurrence {
                path: p.text(2),
                line: p.opt_int(3).map(|l| l as u64),
                offset: None,
                container: p.opt_text(4).filter(|c| !c.is_empty()),
                root: given_of
                    .get(root.as_str())
                    .map(|g| g.to_string())
                    .or_else(|| (!root.is_empty()).then_some(root)),
            });
        }
    }
    for (rid, owners) in load_owners_of(db, &rids)? {
        let mut owners = owners;
        mark_effective(&mut owners);
        if let Some(a) = assets.get_mut(&rid) {
            a.owners = owners
                .into_iter()
                .filter(|o| o.effective)
                .map(|o| Owner {
                    name: o.name,
                    role: o.role,
                    source: o.source,
                })
                .collect();
        }
    }
    let mut relations = Vec::new();
    let relation_rids: &[i64] = if light { &[] } else { &rids };
    for r in db.query_in_ints(
        "SELECT from_rid, to_rid, type FROM relations WHERE from_rid IN ({in})",
        relation_rids,
    )? {
        let (Some(from), Some(to)) = (assets.get(&r.int(0)), assets.get(&r.int(1))) else {
            continue;
        };
        let kind = serde_json::from_value(serde_json::Value::String(r.text(2)))
            .map_err(|e| Error::corrupt(format!("relation type {:?}: {e}", r.text(2))))?;
        relations.push(Relation {
            from: from.id.clone(),
            to: to.id.clone(),
            kind,
        });
    }
    // The scanner's orders: relations as a set, assets by kind then id, places sorted.
    relations.sort();
    let mut assets: Vec<Asset> = assets.into_values().collect();
    assets.sort_by(|a, b| (a.kind, &a.id).cmp(&(b.kind, &b.id)));
    for a in &mut assets {
        a.occurrences.sort();
    }
    let tool_version = db
        .query_one(
            "SELECT tool_version FROM scans WHERE seq = ?",
            &[Val::Int(s.seq)],
        )?
        .map(|r| r.text(0))
        .unwrap_or_default();
    Ok(Report {
        tool: ToolInfo {
            name: "trustmap".into(),
            version: tool_version,
        },
        scan: extras.info,
        assets,
        relations,
        findings,
        errors,
    })
}

/// Several scans' reports as one: assets and relations once each (places of every scan),
/// findings and errors of every scan once each. With more than one host, the paths of
/// places, findings and errors name their host (`host:path`, as the inventory shows a
/// place) so two hosts' `etc/tls.crt` stay apart. The header
/// is the inventory's: id `inventory@<latest finish>`, the earliest start, every root, the
/// hosts comma-separated, files and bytes summed, the longest duration.
pub fn merge(reports: Vec<Report>, scans: &[SelectedScan]) -> Report {
    let hosts: Vec<&str> = {
        let mut h: Vec<&str> = scans.iter().map(|s| s.host.as_str()).collect();
        h.sort();
        h.dedup();
        h
    };
    let several_hosts = hosts.len() > 1;
    let latest = scans
        .iter()
        .map(|s| s.finished_at.as_str())
        .max()
        .unwrap_or_default()
        .to_string();
    let mut info = ScanInfo {
        id: format!("inventory@{latest}"),
        started_at: reports
            .iter()
            .map(|r| r.scan.started_at)
            .min()
            .unwrap_or_else(|| Timestamp::new(time::OffsetDateTime::UNIX_EPOCH)),
        roots: Vec::new(),
        host: hosts.join(","),
        files_scanned: 0,
        bytes_scanned: 0,
        duration_ms: 0,
        policy: None,
        policy_ignored: Vec::new(),
        excluded: 0,
    };
    let mut tool = None;
    let mut assets: BTreeMap<String, Asset> = BTreeMap::new();
    let mut relations = Vec::new();
    let mut rel_seen = HashSet::new();
    let mut findings = Vec::new();
    let mut finding_seen = HashSet::new();
    let mut errors: Vec<ScanError> = Vec::new();
    for r in reports {
        let host = r.scan.host.clone();
        let place = |p: &str| {
            if several_hosts {
                format!("{host}:{p}")
            } else {
                p.to_string()
            }
        };
        tool.get_or_insert(r.tool);
        for root in &r.scan.roots {
            let root = place(root);
            if !info.roots.contains(&root) {
                info.roots.push(root);
            }
        }
        info.files_scanned += r.scan.files_scanned;
        info.bytes_scanned += r.scan.bytes_scanned;
        info.duration_ms = info.duration_ms.max(r.scan.duration_ms);
        info.excluded += r.scan.excluded;
        if info.policy.is_none() {
            info.policy = r.scan.policy.clone();
        }
        for a in r.assets {
            let occurrences: Vec<Occurrence> = a
                .occurrences
                .iter()
                .map(|o| Occurrence {
                    path: place(&o.path),
                    ..o.clone()
                })
                .collect();
            let e = assets.entry(a.id.clone()).or_insert_with(|| Asset {
                occurrences: Vec::new(),
                ..a
            });
            for o in occurrences {
                if !e.occurrences.contains(&o) {
                    e.occurrences.push(o);
                }
            }
        }
        for rel in r.relations {
            if rel_seen.insert((rel.from.clone(), rel.to.clone(), rel.kind.as_str())) {
                relations.push(rel);
            }
        }
        for mut f in r.findings {
            f.path = f.path.as_deref().map(&place);
            let key = serde_json::to_string(&f).unwrap_or_default();
            if finding_seen.insert(key) {
                findings.push(f);
            }
        }
        for e in r.errors {
            errors.push(ScanError {
                path: place(&e.path),
                error: e.error,
            });
        }
    }
    trustmap_core::policy::sort_findings(&mut findings);
    relations.sort();
    let mut assets: Vec<Asset> = assets.into_values().collect();
    assets.sort_by(|a, b| (a.kind, &a.id).cmp(&(b.kind, &b.id)));
    for a in &mut assets {
        a.occurrences.sort();
    }
    Report {
        tool: tool.unwrap_or(ToolInfo {
            name: "trustmap".into(),
            version: String::new(),
        }),
        scan: info,
        assets,
        relations,
        findings,
        errors,
    }
}
