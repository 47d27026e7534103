//! Migration 8's data work: places learn their host and scan root, and scans' roots keys
//! learn their host. Runs in the migration's transaction: all or nothing.
//!
//! Each place gets the host of the first scan that saw it and, when that scan had exactly
//! one root, that root (the canonical roots are what the old roots keys held). A place first
//! seen by a scan of several roots keeps an empty root: which of them it was under was not
//! recorded. A place that scans of several hosts (or roots) shared was one row before this
//! migration: it stays with the first, and each other host and root that saw it gets a copy
//! of its own, which that host's scan sets then name instead, so no later scan sees a move.

use crate::db::{Db, Val};
use crate::error::Error;
use crate::scans::roots_key;
use crate::sets;
use roaring::RoaringBitmap;
use std::collections::{BTreeMap, HashMap};

/// The canonical roots an old roots key names: a JSON array of paths (as the CLI wrote it),
/// else the key itself as one root.
fn old_roots(key: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(key).unwrap_or_else(|_| vec![key.to_string()])
}

pub(crate) fn backfill(db: &mut Db) -> Result<(), Error> {
    let scans = db.query(
        "SELECT seq, host, roots_key, finished_at FROM scans ORDER BY seq",
        &[],
    )?;
    // Each old place's first (host, root), and the copies made for the others.
    let mut first: HashMap<u32, (String, String)> = HashMap::new();
    let mut copies: HashMap<(u32, String, String), u32> = HashMap::new();
    let mut groups: BTreeMap<(String, String), RoaringBitmap> = BTreeMap::new();
    let mut next_rid = db
        .query_one("SELECT COALESCE(MAX(rid), 0) FROM occurrences", &[])?
        .map_or(0, |r| r.int(0));
    for r in &scans {
        let (seq, host, finished) = (r.int(0), r.text(1), r.text(3));
        let roots = old_roots(&r.text(2));
        db.exec(
            "UPDATE scans SET roots_key = ? WHERE seq = ?",
            &[Val::Text(roots_key(&host, &roots)), Val::Int(seq)],
        )?;
        let root = match roots.as_slice() {
            [one] => one.clone(),
            _ => String::new(),
        };
        let key = (host.clone(), root.clone());
        let seen = sets::load(db, seq, sets::PLACES)?;
        let mut renamed = seen.clone();
        for p in &seen {
            match first.get(&p) {
                None => {
                    first.insert(p, key.clone());
                    groups.entry(key.clone()).or_default().insert(p);
                }
                Some(k) if *k == key => {}
                Some(_) => {
                    let copy = match copies.get(&(p, host.clone(), root.clone())) {
                        Some(c) => *c,
                        None => {
                            next_rid += 1;
                            let c = copy_place(db, p, next_rid, &host, &root, &finished)?;
                            copies.insert((p, host.clone(), root.clone()), c);
                            c
                        }
                    };
                    renamed.remove(p);
                    renamed.insert(copy);
                }
            }
        }
        if renamed != seen {
            db.exec(
                "UPDATE scan_sets SET members = ? WHERE scan_seq = ? AND what = ?",
                &[
                    Val::Text(sets::encode(&renamed)),
                    Val::Int(seq),
                    sets::PLACES.into(),
                ],
            )?;
        }
    }
    for ((host, root), places) in groups {
        let list: Vec<Val> = places.iter().map(|p| Val::Int(p.into())).collect();
        db.query_in_vals(
            "UPDATE occurrences SET host = ?, root = ? WHERE rid IN ({in})",
            &[Val::Text(host), Val::Text(root)],
            &list,
        )?;
    }
    // A place no scan set names (none should): the host of its asset's first scan.
    db.batch(
        "UPDATE occurrences SET host = COALESCE((SELECT s.host FROM assets a
             JOIN scans s ON s.seq = a.first_scan WHERE a.rid = occurrences.asset_rid), '')
         WHERE host = ''",
    )?;

    // Live counts by the new keys: scans of one path by two hosts were "the same roots".
    let mut live: HashMap<i64, i64> = HashMap::new();
    for (_, set) in sets::current(db, sets::ASSETS)? {
        for r in &set {
            *live.entry(r.into()).or_default() += 1;
        }
    }
    let mut changed: BTreeMap<i64, Vec<Val>> = BTreeMap::new();
    for r in db.query("SELECT rid, live FROM assets WHERE live <> 0", &[])? {
        let (rid, old) = (r.int(0), r.int(1));
        let new = live.remove(&rid).unwrap_or(0);
        if new != old {
            changed.entry(new).or_default().push(Val::Int(rid));
        }
    }
    for (rid, n) in live {
        changed.entry(n).or_default().push(Val::Int(rid));
    }
    for (n, rids) in changed {
        db.query_in_vals(
            "UPDATE assets SET live = ? WHERE rid IN ({in})",
            &[Val::Int(n)],
            &rids,
        )?;
    }

    // The host index (as in `schema::SECONDARY_INDEXES`), built once the hosts are in.
    db.batch("CREATE INDEX occurrences_host ON occurrences (host)")
}

/// A copy of place `rid` for another host and root, first seen at `at`, with row id
/// `new` (row ids are assigned by the writer, not by the database).
fn copy_place(
    db: &mut Db,
    rid: u32,
    new: i64,
    host: &str,
    root: &str,
    at: &str,
) -> Result<u32, Error> {
    let row = db.query_one(
        "INSERT INTO occurrences (rid, asset_rid, path, container, line, first_seen, host, root)
         SELECT ?, asset_rid, path, container, line, ?, ?, ? FROM occurrences WHERE rid = ?
         RETURNING rid",
        &[
            Val::Int(new),
            Val::Text(at.to_string()),
            Val::Text(host.to_string()),
            Val::Text(root.to_string()),
            Val::Int(rid.into()),
        ],
    )?;
    match row {
        Some(r) => sets::member(r.int(0)),
        None => Err(Error::corrupt(format!(
            "scan set names a missing place {rid}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn old_keys_name_their_roots() {
        assert_eq!(super::old_roots(r#"["/srv"]"#), vec!["/srv"]);
        assert_eq!(super::old_roots(r#"["/a","/b"]"#).len(), 2);
        assert_eq!(super::old_roots("/plain"), vec!["/plain"]);
    }
}
