//! Findings kept per scan, so they can be listed, filtered and exported later without a
//! rescan (`trustmap findings`, `trustmap report`).
//!
//! Like assets and places, a finding is stored once and each scan keeps a bitmap of the ones
//! it raised (`scan_sets`, [`sets::FINDINGS`]): a finding is identified by the SHA-256 of its
//! JSON (rule, severity, asset, place, message, evidence, waiver and baseline marks), so the
//! same finding raised by every daily scan is one row. One whose message or marks change (a
//! certificate's "expires in 12 days", a waiver granted) is a new row from that scan on.
//! Alongside, each scan keeps what the other tables do not hold of its report
//! (`scan_reports`): the scan's header (policy, duration, exclusions), its roots as given
//! and as made canonical, and its errors.

use crate::db::{Db, Val};
use crate::error::Error;
use crate::sets;
use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use trustmap_core::{Finding, Report, ScanError, ScanInfo};

/// The schema version that keeps findings and reports (migration 10).
pub(crate) const SINCE_VERSION: i64 = 10;

/// What `scan_reports` keeps of a scan, as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ScanExtras {
    pub info: ScanInfo,
    /// (as given, canonical) per root.
    pub roots: Vec<(String, String)>,
}

/// The hash that identifies a finding's row: SHA-256 of its JSON.
fn finding_hash(body: &str) -> String {
    hex::encode(Sha256::digest(body.as_bytes()))
}

/// Writes the report's findings (new ones as rows, all of them as the scan's set), its
/// header, roots and errors. Returns the scan's findings digest: SHA-256 over the sorted
/// finding hashes, which the scan's `scan-finished` audit event carries so `audit verify`
/// can vouch for the stored findings.
pub(crate) fn write(
    db: &mut Db,
    seq: i64,
    report: &Report,
    roots: Vec<(String, String)>,
    asset_rids: &HashMap<&str, i64>,
) -> Result<String, Error> {
    // An inventory opened at an older schema (tests of migrations) lacks migration 15's
    // columns; the migration fills them in.
    let marks = crate::schema::current_version(db)? >= 15;
    let mut bodies: Vec<(String, String, &Finding)> = Vec::with_capacity(report.findings.len());
    let mut seen = std::collections::HashSet::with_capacity(report.findings.len());
    for f in &report.findings {
        let body = serde_json::to_string(f).map_err(|e| Error::other(e.to_string()))?;
        let hash = finding_hash(&body);
        if seen.insert(hash.clone()) {
            bodies.push((hash, body, f));
        }
    }
    let hashes: Vec<String> = bodies.iter().map(|(h, _, _)| h.clone()).collect();
    let mut rid_of: HashMap<String, i64> = db
        .query_in(
            "SELECT hash, rid FROM findings WHERE hash IN ({in})",
            &hashes,
        )?
        .iter()
        .map(|r| (r.text(0), r.int(1)))
        .collect();
    let mut next = db
        .query_one("SELECT MAX(rid) FROM findings", &[])?
        .and_then(|r| r.opt_int(0))
        .unwrap_or(0)
        + 1;
    let mut rows = Vec::new();
    for (hash, body, f) in &bodies {
        if rid_of.contains_key(hash) {
            continue;
        }
        rid_of.insert(hash.clone(), next);
        rows.push(vec![
            Val::Int(next),
            hash.as_str().into(),
            f.rule.as_str().into(),
            f.severity.as_str().into(),
            f.asset.as_str().into(),
            Val::OptText(f.path.clone()),
            Val::OptInt(f.line.map(|l| l as i64)),
            body.as_str().into(),
        ]);
        if marks {
            rows.last_mut().expect("pushed").extend([
                f.status().into(),
                Val::OptInt(asset_rids.get(f.asset.as_str()).copied()),
            ]);
        }
        next += 1;
    }
    const COLUMNS: [&str; 10] = [
        "rid",
        "hash",
        "rule",
        "severity",
        "asset",
        "path",
        "line",
        "body",
        "status",
        "asset_rid",
    ];
    db.insert_rows("findings", &COLUMNS[..if marks { 10 } else { 8 }], &rows)?;
    let mut set = RoaringBitmap::new();
    for h in &hashes {
        set.insert(sets::member(rid_of[h])?);
    }
    sets::save(db, seq, sets::FINDINGS, &set)?;
    let extras = ScanExtras {
        info: report.scan.clone(),
        roots,
    };
    db.exec(
        "INSERT INTO scan_reports (scan_seq, info, errors) VALUES (?, ?, ?)",
        &[
            Val::Int(seq),
            Val::Text(serde_json::to_string(&extras).map_err(|e| Error::other(e.to_string()))?),
            Val::Text(
                serde_json::to_string(&report.errors).map_err(|e| Error::other(e.to_string()))?,
            ),
        ],
    )?;
    Ok(digest(hashes))
}

/// SHA-256 over the sorted finding hashes, newline-separated (hex).
pub(crate) fn digest(mut hashes: Vec<String>) -> String {
    hashes.sort();
    let mut h = Sha256::new();
    for x in &hashes {
        h.update(x.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// The findings of scan `seq`, in the order they were first stored, with their hashes; `None`
/// when the scan was recorded before findings were kept (schema version 10).
pub(crate) fn load(db: &mut Db, seq: i64) -> Result<Option<Vec<(String, Finding)>>, Error> {
    if !has_report(db, seq)? {
        return Ok(None);
    }
    let set = sets::load(db, seq, sets::FINDINGS)?;
    let rids: Vec<i64> = set.iter().map(i64::from).collect();
    let mut out = Vec::with_capacity(rids.len());
    for r in db.query_in_ints(
        "SELECT rid, hash, body FROM findings WHERE rid IN ({in})",
        &rids,
    )? {
        let f: Finding = serde_json::from_str(&r.text(2))
            .map_err(|e| Error::corrupt(format!("finding {}: {e}", r.int(0))))?;
        out.push((r.int(0), r.text(1), f));
    }
    out.sort_by_key(|(rid, _, _)| *rid);
    Ok(Some(out.into_iter().map(|(_, h, f)| (h, f)).collect()))
}

/// Whether the findings stored for scan `seq` are those its `scan-finished` event vouched
/// for (`digest`): every row's body still hashes to its hash, and the scan's set of hashes
/// still has the digest. `None` when they are, or when neither side has any (a scan recorded
/// before findings were kept); otherwise what is wrong.
pub(crate) fn vouch(db: &mut Db, seq: i64, digest: Option<&str>) -> Result<Option<String>, Error> {
    let kept = has_report(db, seq)?;
    let Some(digest) = digest else {
        return Ok(kept.then(|| {
            "its findings are stored but its scan-finished event does not vouch for them".into()
        }));
    };
    if !kept {
        return Ok(Some(
            "its scan-finished event vouches for findings that are no longer stored".into(),
        ));
    }
    let set = sets::load(db, seq, sets::FINDINGS)?;
    let rids: Vec<i64> = set.iter().map(i64::from).collect();
    let mut hashes = Vec::with_capacity(rids.len());
    for r in db.query_in_ints(
        "SELECT rid, hash, body FROM findings WHERE rid IN ({in})",
        &rids,
    )? {
        let hash = r.text(1);
        if finding_hash(&r.text(2)) != hash {
            return Ok(Some(format!(
                "stored finding {} was edited after the scan (its body no longer has its hash)",
                r.int(0)
            )));
        }
        hashes.push(hash);
    }
    if hashes.len() != rids.len() {
        return Ok(Some(format!(
            "{} of its findings are missing",
            rids.len() - hashes.len()
        )));
    }
    Ok((self::digest(hashes) != digest).then(|| {
        "its stored findings differ from those its scan-finished event vouched for".into()
    }))
}

/// Whether scan `seq` has its report kept (recorded at schema version 10 or later).
pub(crate) fn has_report(db: &mut Db, seq: i64) -> Result<bool, Error> {
    Ok(db
        .query_one(
            "SELECT scan_seq FROM scan_reports WHERE scan_seq = ?",
            &[Val::Int(seq)],
        )?
        .is_some())
}

/// Scan `seq`'s header, roots and errors, when kept.
pub(crate) fn extras(db: &mut Db, seq: i64) -> Result<Option<(ScanExtras, Vec<ScanError>)>, Error> {
    let Some(r) = db.query_one(
        "SELECT info, errors FROM scan_reports WHERE scan_seq = ?",
        &[Val::Int(seq)],
    )?
    else {
        return Ok(None);
    };
    let extras: ScanExtras = serde_json::from_str(&r.text(0))
        .map_err(|e| Error::corrupt(format!("scan report {seq}: {e}")))?;
    let errors: Vec<ScanError> = serde_json::from_str(&r.text(1))
        .map_err(|e| Error::corrupt(format!("scan errors {seq}: {e}")))?;
    Ok(Some((extras, errors)))
}

impl crate::Store {
    /// The findings on asset `id` that the latest scan of some host and roots raised (the
    /// current findings, as `trustmap findings` lists them without `--as-of`), severest
    /// first. One indexed lookup (`findings_asset`, migration 12), then the current scans'
    /// sets.
    pub fn asset_findings(&self, id: &str) -> Result<Vec<Finding>, Error> {
        let mut db = self.conn()?;
        let current = sets::current(&mut db, sets::FINDINGS)?
            .into_iter()
            .fold(RoaringBitmap::new(), |acc, (_, set)| acc | set);
        let mut out = Vec::new();
        for r in db.query(
            "SELECT rid, body FROM findings WHERE asset = ? ORDER BY rid",
            &[Val::from(id)],
        )? {
            if !current.contains(sets::member(r.int(0))?) {
                continue;
            }
            let f: Finding = serde_json::from_str(&r.text(1))
                .map_err(|e| Error::corrupt(format!("finding {}: {e}", r.int(0))))?;
            out.push(f);
        }
        out.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(&b.rule)));
        Ok(out)
    }
}
