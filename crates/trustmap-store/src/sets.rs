//! Which assets and places each scan saw: one compressed bitmap of integer keys per scan
//! (`scan_sets`), instead of one row per (scan, asset) and per (scan, place).
//!
//! At a million assets seen by every daily scan, per-scan rows would add four million rows
//! a day and make every diff a join over them; a bitmap of mostly contiguous keys is a few
//! kilobytes, and a diff is a set difference in memory.

use crate::Error;
use crate::db::{Db, Val};
use base64::Engine as _;
use roaring::RoaringBitmap;

/// The assets a scan saw.
pub(crate) const ASSETS: &str = "assets";
/// The places (occurrences) a scan saw.
pub(crate) const PLACES: &str = "places";
/// The findings a scan raised (`findings.rs`).
pub(crate) const FINDINGS: &str = "findings";

pub(crate) fn encode(set: &RoaringBitmap) -> String {
    let mut bytes = Vec::with_capacity(set.serialized_size());
    set.serialize_into(&mut bytes)
        .expect("writing to a Vec cannot fail");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn decode(text: &str) -> Result<RoaringBitmap, Error> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| Error::corrupt(format!("corrupt scan set: {e}")))?;
    RoaringBitmap::deserialize_from(&bytes[..])
        .map_err(|e| Error::corrupt(format!("corrupt scan set: {e}")))
}

pub(crate) fn save(db: &mut Db, seq: i64, what: &str, set: &RoaringBitmap) -> Result<(), Error> {
    db.exec(
        "INSERT INTO scan_sets (scan_seq, what, members) VALUES (?, ?, ?)",
        &[Val::Int(seq), what.into(), Val::Text(encode(set))],
    )?;
    Ok(())
}

/// The set `what` of scan `seq` (empty when the scan recorded none).
pub(crate) fn load(db: &mut Db, seq: i64, what: &str) -> Result<RoaringBitmap, Error> {
    match db.query_one(
        "SELECT members FROM scan_sets WHERE scan_seq = ? AND what = ?",
        &[Val::Int(seq), what.into()],
    )? {
        Some(r) => decode(&r.text(0)),
        None => Ok(RoaringBitmap::new()),
    }
}

/// One scan and what it saw.
pub(crate) struct ScanSet {
    pub id: String,
    pub started_at: String,
    pub finished_at: String,
    pub members: RoaringBitmap,
}

/// Every scan's set `what`, oldest first.
pub(crate) fn load_all(db: &mut Db, what: &str) -> Result<Vec<ScanSet>, Error> {
    db.query(
        "SELECT s.id, s.started_at, s.finished_at, x.members FROM scans s
         JOIN scan_sets x ON x.scan_seq = s.seq AND x.what = ? ORDER BY s.seq",
        &[what.into()],
    )?
    .iter()
    .map(|r| {
        Ok(ScanSet {
            id: r.text(0),
            started_at: r.text(1),
            finished_at: r.text(2),
            members: decode(&r.text(3))?,
        })
    })
    .collect()
}

/// The scans among `sets` that saw key `k`, oldest first.
pub(crate) fn seen_by(sets: &[ScanSet], k: i64) -> impl DoubleEndedIterator<Item = &ScanSet> {
    sets.iter().filter(move |x| x.members.contains(k as u32))
}

/// The latest scan of each set of roots and what it saw: the "current" inventory.
pub(crate) fn current(db: &mut Db, what: &str) -> Result<Vec<(String, RoaringBitmap)>, Error> {
    db.query(
        "SELECT s.finished_at, x.members FROM scans s
         JOIN scan_sets x ON x.scan_seq = s.seq AND x.what = ?
         WHERE s.seq IN (SELECT MAX(seq) FROM scans GROUP BY roots_key)",
        &[what.into()],
    )?
    .iter()
    .map(|r| Ok((r.text(0), decode(&r.text(1))?)))
    .collect()
}

/// An integer key as a bitmap member.
pub(crate) fn member(rid: i64) -> Result<u32, Error> {
    u32::try_from(rid).map_err(|_| Error::corrupt(format!("key {rid} out of range")))
}
