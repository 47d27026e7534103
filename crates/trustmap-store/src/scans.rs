//! Scans as history: the list of scans, which scan came before which over the same host and
//! roots, and what changed between two scans ([`Store::diff`]).

use crate::assets::PlaceRef;
use crate::db::{Db, Val};
use crate::error::{Entity, Error};
use crate::{Store, sets};
use roaring::RoaringBitmap;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One recorded scan.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ScanRow {
    pub id: String,
    pub seq: i64,
    pub started_at: String,
    pub finished_at: String,
    /// The roots as given to the scan.
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

/// One place whose asset was replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rotation {
    /// The host that scanned the place.
    pub host: String,
    /// The scan root the place is under (canonical).
    pub root: String,
    pub path: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub container: String,
    pub kind: String,
    /// The asset that was there.
    pub from: String,
    /// The asset that replaced it.
    pub to: String,
}

impl Rotation {
    /// The place, as `host:path`.
    pub fn place(&self) -> PlaceRef {
        PlaceRef {
            host: self.host.clone(),
            root: self.root.clone(),
            path: self.path.clone(),
        }
    }
}

/// One asset seen at other places.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Move {
    pub id: String,
    /// Where the older scan saw it.
    pub from: Vec<PlaceRef>,
    /// Where the newer scan saw it.
    pub to: Vec<PlaceRef>,
}

/// "The same roots": the key scans of one host over one set of roots share, so each scan
/// is compared with the previous one of the same roots on the same host (`/data` on host1
/// and `/data` on host2 are different roots). `roots` are canonical (absolute, forward
/// slashes); their order does not matter.
pub fn roots_key<S: AsRef<str>>(host: &str, roots: &[S]) -> String {
    let mut sorted: Vec<&str> = roots.iter().map(AsRef::as_ref).collect();
    sorted.sort_unstable();
    sorted.dedup();
    serde_json::to_string(&(host, sorted)).expect("strings serialize")
}

fn scan_row(r: &crate::db::Row) -> ScanRow {
    ScanRow {
        id: r.text(0),
        seq: r.int(1),
        started_at: r.text(2),
        finished_at: r.text(3),
        roots: serde_json::from_str(&r.text(4)).unwrap_or_default(),
        host: r.text(5),
        counts: serde_json::from_str(&r.text(6)).unwrap_or_default(),
    }
}

impl Store {
    /// Every scan, oldest first.
    pub fn scans(&self) -> Result<Vec<ScanRow>, Error> {
        let rows = self.conn()?.query(
            "SELECT id, seq, started_at, finished_at, roots, host, counts FROM scans ORDER BY seq",
            &[],
        )?;
        Ok(rows.iter().map(scan_row).collect())
    }

    /// One scan, by id ([`Error::NotFound`] when there is none).
    pub fn scan(&self, id: &str) -> Result<ScanRow, Error> {
        self.conn()?
            .query_one(
                "SELECT id, seq, started_at, finished_at, roots, host, counts FROM scans WHERE id = ?",
                &[id.into()],
            )?
            .map(|r| scan_row(&r))
            .ok_or_else(|| Error::not_found(crate::Entity::Scan, id))
    }

    /// The latest scan and the one before it over the same host and roots.
    pub fn last_two_scans(&self) -> Result<Option<(String, String)>, Error> {
        let mut db = self.conn()?;
        let Some(last) = db.query_one(
            "SELECT id, seq, roots_key FROM scans ORDER BY seq DESC LIMIT 1",
            &[],
        )?
        else {
            return Ok(None);
        };
        let prev = db.query_one(
            "SELECT id FROM scans WHERE roots_key = ? AND seq < ? ORDER BY seq DESC LIMIT 1",
            &[Val::Text(last.text(2)), Val::Int(last.int(1))],
        )?;
        Ok(prev.map(|p| (p.text(0), last.text(0))))
    }

    /// The latest two scans by `host` of these roots (canonical, see [`roots_key`]).
    pub fn last_two_scans_of<S: AsRef<str>>(
        &self,
        host: &str,
        roots: &[S],
    ) -> Result<Option<(String, String)>, Error> {
        let rows = self.conn()?.query(
            "SELECT id FROM scans WHERE roots_key = ? ORDER BY seq DESC LIMIT 2",
            &[Val::Text(roots_key(host, roots))],
        )?;
        Ok((rows.len() == 2).then(|| (rows[1].text(0), rows[0].text(0))))
    }

    /// The scan before `id` over the same host and roots.
    pub fn previous_scan(&self, id: &str) -> Result<Option<String>, Error> {
        let mut db = self.conn()?;
        let Some(r) = db.query_one(
            "SELECT seq, roots_key FROM scans WHERE id = ?",
            &[id.into()],
        )?
        else {
            return Err(Error::not_found(Entity::Scan, id));
        };
        Ok(db
            .query_one(
                "SELECT id FROM scans WHERE roots_key = ? AND seq < ? ORDER BY seq DESC LIMIT 1",
                &[Val::Text(r.text(1)), Val::Int(r.int(0))],
            )?
            .map(|p| p.text(0)))
    }

    /// What changed between two scans.
    pub fn diff(&self, from: &str, to: &str) -> Result<Diff, Error> {
        let mut db = self.conn()?;
        let a = scan_seq(&mut db, from)?;
        let b = scan_seq(&mut db, to)?;
        let (a_assets, a_places) = (
            sets::load(&mut db, a, sets::ASSETS)?,
            sets::load(&mut db, a, sets::PLACES)?,
        );
        let (b_assets, b_places) = (
            sets::load(&mut db, b, sets::ASSETS)?,
            sets::load(&mut db, b, sets::PLACES)?,
        );
        diff_sets(
            &mut db,
            from,
            to,
            (&a_assets, &a_places),
            (&b_assets, &b_places),
        )
    }
}

fn scan_seq(db: &mut Db, id: &str) -> Result<i64, Error> {
    db.query_one("SELECT seq FROM scans WHERE id = ?", &[id.into()])?
        .map(|r| r.int(0))
        .ok_or_else(|| Error::not_found(Entity::Scan, id))
}

/// One place a scan saw.
struct Place {
    asset_rid: i64,
    asset: String,
    kind: String,
    host: String,
    root: String,
    path: String,
    container: String,
}

fn load_places(db: &mut Db, rids: &RoaringBitmap) -> Result<Vec<Place>, Error> {
    let list: Vec<i64> = rids.iter().map(i64::from).collect();
    Ok(db
        .query_in_ints(
            "SELECT o.asset_rid, a.id, a.kind, o.host, o.root, o.path, o.container
             FROM occurrences o JOIN assets a ON a.rid = o.asset_rid WHERE o.rid IN ({in})",
            &list,
        )?
        .iter()
        .map(|r| Place {
            asset_rid: r.int(0),
            asset: r.text(1),
            kind: r.text(2),
            host: r.text(3),
            root: r.text(4),
            path: r.text(5),
            container: r.text(6),
        })
        .collect())
}

fn ids_of(db: &mut Db, rids: &RoaringBitmap) -> Result<Vec<String>, Error> {
    let list: Vec<i64> = rids.iter().map(i64::from).collect();
    let mut ids: Vec<String> = db
        .query_in_ints("SELECT id FROM assets WHERE rid IN ({in})", &list)?
        .iter()
        .map(|r| r.text(0))
        .collect();
    ids.sort();
    Ok(ids)
}

/// What changed between two scans, from their sets: only the changes are read back.
pub(crate) fn diff_sets(
    db: &mut Db,
    from: &str,
    to: &str,
    (a_assets, a_places): (&RoaringBitmap, &RoaringBitmap),
    (b_assets, b_places): (&RoaringBitmap, &RoaringBitmap),
) -> Result<Diff, Error> {
    let new_all = ids_of(db, &(b_assets - a_assets))?;
    let gone_all = ids_of(db, &(a_assets - b_assets))?;
    // Places (asset at host, root, path) only one of the two scans saw.
    let only_a = load_places(db, &(a_places - b_places))?;
    let only_b = load_places(db, &(b_places - a_places))?;

    // Rotations: the same (host, root, path, container, kind) lost one asset and gained
    // another.
    type Loc = (String, String, String, String, String);
    let loc = |p: &Place| -> Loc {
        (
            p.host.clone(),
            p.root.clone(),
            p.path.clone(),
            p.container.clone(),
            p.kind.clone(),
        )
    };
    let mut at: BTreeMap<Loc, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for p in &only_a {
        at.entry(loc(p)).or_default().0.insert(p.asset.clone());
    }
    for p in &only_b {
        if let Some(e) = at.get_mut(&loc(p)) {
            e.1.insert(p.asset.clone());
        }
    }
    let mut rotated = Vec::new();
    for ((host, root, path, container, kind), (removed, added)) in at {
        let removed: Vec<&String> = removed.difference(&added).collect();
        let added: Vec<&String> = added.iter().filter(|x| !removed.contains(x)).collect();
        for (f, t) in removed.iter().zip(added.iter()) {
            rotated.push(Rotation {
                host: host.clone(),
                root: root.clone(),
                path: path.clone(),
                container: container.clone(),
                kind: kind.clone(),
                from: (*f).clone(),
                to: (*t).clone(),
            });
        }
    }
    let rotated_to: BTreeSet<&str> = rotated.iter().map(|r| r.to.as_str()).collect();
    let rotated_from: BTreeSet<&str> = rotated.iter().map(|r| r.from.as_str()).collect();
    let new = new_all
        .into_iter()
        .filter(|id| !rotated_to.contains(id.as_str()))
        .collect();
    let gone = gone_all
        .into_iter()
        .filter(|id| !rotated_from.contains(id.as_str()))
        .collect();

    // Moves: seen by both scans, at a place in one that the other did not see it at.
    let both = a_assets & b_assets;
    let movers: BTreeMap<String, i64> = only_a
        .iter()
        .chain(&only_b)
        .filter(|p| both.contains(p.asset_rid as u32))
        .map(|p| (p.asset.clone(), p.asset_rid))
        .collect();
    let mut moved = Vec::new();
    for (id, rid) in movers {
        let mut from = BTreeSet::new();
        let mut to = BTreeSet::new();
        for r in db.query(
            "SELECT rid, host, root, path FROM occurrences WHERE asset_rid = ?",
            &[Val::Int(rid)],
        )? {
            let prid = r.int(0) as u32;
            let place = || PlaceRef {
                host: r.text(1),
                root: r.text(2),
                path: r.text(3),
            };
            if a_places.contains(prid) {
                from.insert(place());
            }
            if b_places.contains(prid) {
                to.insert(place());
            }
        }
        if from != to {
            moved.push(Move {
                id,
                from: from.into_iter().collect(),
                to: to.into_iter().collect(),
            });
        }
    }
    Ok(Diff {
        from_scan: from.to_string(),
        to_scan: to.to_string(),
        new,
        gone,
        rotated,
        moved,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn roots_keys_name_the_host_and_ignore_order() {
        assert_eq!(
            super::roots_key("h1", &["/b", "/a", "/a"]),
            r#"["h1",["/a","/b"]]"#
        );
        assert_ne!(
            super::roots_key("h1", &["/data"]),
            super::roots_key("h2", &["/data"])
        );
    }
}
