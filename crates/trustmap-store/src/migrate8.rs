//! Migration 8's data work: places learn their host and scan root, and scans' roots keys
//! learn their host. Runs in the migration's transaction: all or nothing.
//!
//! Each place gets the host of the first scan that saw it and, when that scan had exactly
//! one root, that root (the canonical roots are what the old roots keys held). A place first
//! seen by a scan of several roots keeps an empty root: which of them it was under was not
//! recorded. Places that several hosts' scans shared (one row before this migration) stay
//! with the first host; the next scan of another host records its own place there, which
//! that one diff shows as a move.

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
    let scans = db.query("SELECT seq, host, roots_key FROM scans ORDER BY seq", &[])?;
    let mut assigned = RoaringBitmap::new();
    let mut groups: BTreeMap<(String, String), RoaringBitmap> = BTreeMap::new();
    for r in &scans {
        let (seq, host) = (r.int(0), r.text(1));
        let roots = old_roots(&r.text(2));
        db.exec(
            "UPDATE scans SET roots_key = ? WHERE seq = ?",
            &[Val::Text(roots_key(&host, &roots)), Val::Int(seq)],
        )?;
        let fresh = &sets::load(db, seq, sets::PLACES)? - &assigned;
        if fresh.is_empty() {
            continue;
        }
        assigned |= &fresh;
        let root = match roots.as_slice() {
            [one] => one.clone(),
            _ => String::new(),
        };
        *groups.entry((host, root)).or_default() |= fresh;
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

#[cfg(test)]
mod tests {
    #[test]
    fn old_keys_name_their_roots() {
        assert_eq!(super::old_roots(r#"["/srv"]"#), vec!["/srv"]);
        assert_eq!(super::old_roots(r#"["/a","/b"]"#).len(), 2);
        assert_eq!(super::old_roots("/plain"), vec!["/plain"]);
    }
}
