//! The blast radius kept rather than walked (migration 13, table `reach`).
//!
//! What depends on an asset changes only when a scan is recorded: the relations are written
//! by scans, and whether an asset is present (in the latest scan of some roots, which the
//! default `impact` walks through) changes only then. So each recorded scan, inside its own
//! transaction, computes every asset's dependants bottom-up over the dependency graph (the
//! edges of [`crate::impact`]: a dependant's set is the union of its direct dependants and
//! theirs, as roaring bitmaps, so a node reached along several paths, such as a consumer
//! loading a certificate and its key, counts once: the counts are exact) and keeps, for
//! each asset with at least [`MIN_KEPT`] present dependants, the count, the count per kind,
//! the owners to notify and the dependants themselves. `Store::impact` reads the counts from
//! there and walks only the first page; smaller answers are walked as before (a walk of a
//! thousand assets is milliseconds).
//!
//! Owners change without a scan (`owner set`, owner rules, the API): those writes take an
//! [`OwnerSnapshot`] of the assets they touch and, in the same transaction, move each kept
//! row's owner counts by the difference (the kept dependants say which rows hold the
//! asset). A kept row is exact or absent: an asset on a cycle or above one, one whose
//! dependants are more than [`crate::impact::MAX_DEPTH`] levels deep or more than
//! [`crate::impact::MAX_NODES`], and every asset left when the work bound is hit, has no
//! row and is walked.

use crate::db::{Db, Val};
use crate::error::Error;
use crate::impact::{MAX_DEPTH, MAX_NODES};
use crate::{schema, sets};
use roaring::RoaringBitmap;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The migration that made the `reach` table.
pub(crate) const REACH_VERSION: i64 = 13;
/// Assets with fewer present dependants than this are walked, not kept.
pub const MIN_KEPT: usize = 1_000;
/// Work bound of one computation: members copied into dependant sets, summed. A nearly tree
/// shaped estate costs about its size times its depth (4.4M for the 1M-asset benchmark); a
/// dense graph (every certificate in every keystore) could cost its size squared. Past it
/// the remaining assets get no row and are walked.
pub(crate) const MAX_WORK: u64 = 100_000_000;

/// [`MIN_KEPT`] as the tests set it (0: not set).
static MIN_KEPT_OVERRIDE: AtomicUsize = AtomicUsize::new(0);

/// The threshold in force: a test's (`set_min_kept`, or the `TRUSTMAP_TEST_REACH_MIN`
/// environment variable for tests of the CLI, which keep every asset with 1), else
/// [`MIN_KEPT`]. Both only exist in builds with `test-support` (the test builds): a release
/// binary ignores the variable.
fn min_kept() -> usize {
    match MIN_KEPT_OVERRIDE.load(Ordering::Relaxed) {
        0 => test_min_kept().unwrap_or(MIN_KEPT),
        n => n,
    }
}

#[cfg(feature = "test-support")]
fn test_min_kept() -> Option<usize> {
    std::env::var("TRUSTMAP_TEST_REACH_MIN")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&v: &usize| v > 0)
}

#[cfg(not(feature = "test-support"))]
fn test_min_kept() -> Option<usize> {
    None
}

/// Sets the threshold for this process (tests; 0 restores the default).
#[cfg(feature = "test-support")]
pub(crate) fn set_min_kept(n: usize) {
    MIN_KEPT_OVERRIDE.store(n, Ordering::Relaxed);
}

/// Bounds of [`compute`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub min_kept: usize,
    pub max_work: u64,
}

/// What [`compute`] found: the kept assets with their dependants (by rid), and whether the
/// work bound stopped it.
#[derive(Debug, Default)]
pub(crate) struct Computed {
    pub kept: Vec<(u32, RoaringBitmap)>,
    pub work_bound_hit: bool,
}

/// Every asset's dependants over `edges` (parent -> dependant, the dependant present),
/// bottom-up; keeps those with at least `min_kept`. Self-edges mean nothing (a walk visits
/// each asset once) and are ignored; an asset on or above a cycle is never ready, so it is
/// not kept.
pub(crate) fn compute(edges: &mut Vec<(u32, u32)>, limits: Limits) -> Computed {
    edges.retain(|(p, c)| p != c);
    edges.sort_unstable();
    edges.dedup();
    // Dense indexes over the assets that have an edge.
    let mut nodes: Vec<u32> = edges.iter().flat_map(|&(p, c)| [p, c]).collect();
    nodes.sort_unstable();
    nodes.dedup();
    let index = |rid: u32| nodes.binary_search(&rid).expect("every endpoint is a node");
    let n = nodes.len();
    // Children (dependants) of each node, CSR; parents likewise.
    let mut child_start = vec![0usize; n + 1];
    let mut parent_start = vec![0usize; n + 1];
    let pairs: Vec<(usize, usize)> = edges.iter().map(|&(p, c)| (index(p), index(c))).collect();
    for &(p, c) in &pairs {
        child_start[p + 1] += 1;
        parent_start[c + 1] += 1;
    }
    for starts in [&mut child_start, &mut parent_start] {
        let mut sum = 0;
        for s in starts.iter_mut() {
            sum += *s;
            *s = sum;
        }
    }
    let children: Vec<usize> = pairs.iter().map(|&(_, c)| c).collect(); // sorted by parent
    let mut parents = vec![0usize; pairs.len()];
    let mut fill = parent_start.clone();
    for &(p, c) in &pairs {
        parents[fill[c]] = p;
        fill[c] += 1;
    }
    drop(pairs);
    let kids = |i: usize| &children[child_start[i]..child_start[i + 1]];
    let mut pending: Vec<usize> = (0..n).map(|i| kids(i).len()).collect();
    let mut uses_left: Vec<usize> = (0..n)
        .map(|i| parent_start[i + 1] - parent_start[i])
        .collect();
    let mut sets: Vec<Option<RoaringBitmap>> = vec![None; n];
    let mut height = vec![0usize; n];
    let mut bad = vec![false; n];
    let mut ready: Vec<usize> = (0..n).filter(|&i| pending[i] == 0).collect();
    let mut work: u64 = 0;
    let mut out = Computed::default();
    while let Some(x) = ready.pop() {
        let mut set = RoaringBitmap::new();
        let mut h = 0;
        let mut is_bad = out.work_bound_hit;
        for &c in kids(x) {
            if is_bad {
                break;
            }
            if bad[c] {
                is_bad = true;
                break;
            }
            let below = sets[c].as_ref();
            work += 1 + below.map_or(0, RoaringBitmap::len);
            if work > limits.max_work {
                out.work_bound_hit = true;
                is_bad = true;
                break;
            }
            set.insert(nodes[c]);
            if let Some(s) = below {
                set |= s;
            }
            h = h.max(height[c] + 1);
        }
        // The walk finds everything within MAX_DEPTH levels and says it is cut short when
        // a node sits at level MAX_DEPTH, so a kept answer needs all within MAX_DEPTH - 1.
        if h >= MAX_DEPTH || set.len() > MAX_NODES as u64 {
            is_bad = true;
        }
        for &c in kids(x) {
            uses_left[c] -= 1;
            if uses_left[c] == 0 {
                sets[c] = None;
            }
        }
        if is_bad {
            bad[x] = true;
        } else {
            height[x] = h;
            if set.len() >= limits.min_kept as u64 {
                out.kept.push((nodes[x], set.clone()));
            }
            if uses_left[x] > 0 && !set.is_empty() {
                sets[x] = Some(set);
            }
        }
        for &p in &parents[parent_start[x]..parent_start[x + 1]] {
            pending[p] -= 1;
            if pending[p] == 0 {
                ready.push(p);
            }
        }
    }
    out.kept.sort_by_key(|k| k.0);
    out
}

/// Recomputes the `reach` table from the relations and the assets present now (inside the
/// caller's transaction: a scan's, or migration 13's). A store at an older version (tests
/// of migrations) has no table and is left alone.
pub(crate) fn rebuild(db: &mut Db) -> Result<(), Error> {
    if !table_exists(db)? {
        return Ok(());
    }
    let mut present = RoaringBitmap::new();
    for (_, set) in sets::current(db, sets::ASSETS)? {
        present |= set;
    }
    let mut edges: Vec<(u32, u32)> = Vec::new();
    // (dependency, dependant): into X by issued-by/contains/uses/serves, out of a key by key-of.
    for r in db.query(
        "SELECT CASE WHEN type = 'key-of' THEN from_rid ELSE to_rid END,
                CASE WHEN type = 'key-of' THEN to_rid ELSE from_rid END
         FROM relations WHERE type IN ('issued-by', 'contains', 'uses', 'serves', 'key-of')",
        &[],
    )? {
        let (Ok(p), Ok(c)) = (sets::member(r.int(0)), sets::member(r.int(1))) else {
            continue;
        };
        if present.contains(c) {
            edges.push((p, c));
        }
    }
    drop(present);
    let computed = compute(
        &mut edges,
        Limits {
            min_kept: min_kept(),
            max_work: MAX_WORK,
        },
    );
    drop(edges);
    db.exec("DELETE FROM reach", &[])?;
    if computed.kept.is_empty() {
        return Ok(());
    }
    let mut all = RoaringBitmap::new();
    for (_, s) in &computed.kept {
        all |= s;
    }
    // Kinds and effective owners of the dependants, as one bitmap per kind and per name.
    let mut kinds: BTreeMap<String, RoaringBitmap> = BTreeMap::new();
    for r in db.query("SELECT rid, kind FROM assets", &[])? {
        if let Ok(rid) = sets::member(r.int(0))
            && all.contains(rid)
        {
            kinds.entry(r.text(1)).or_default().insert(rid);
        }
    }
    let owners = owner_sets(db, &all)?;
    let mut rows = Vec::with_capacity(computed.kept.len());
    for (rid, set) in &computed.kept {
        let by_kind: BTreeMap<&str, u64> = kinds
            .iter()
            .map(|(k, b)| (k.as_str(), set.intersection_len(b)))
            .filter(|(_, n)| *n > 0)
            .collect();
        let by_owner: BTreeMap<&str, u64> = owners
            .iter()
            .map(|(k, b)| (k.as_str(), set.intersection_len(b)))
            .filter(|(_, n)| *n > 0)
            .collect();
        rows.push(vec![
            Val::Int(i64::from(*rid)),
            Val::Int(set.len() as i64),
            Val::Text(serde_json::to_string(&by_kind).expect("a map of counts")),
            Val::Text(serde_json::to_string(&by_owner).expect("a map of counts")),
            Val::Text(sets::encode(set)),
        ]);
    }
    db.insert_rows(
        "reach",
        &["rid", "total", "kinds", "owners", "members"],
        &rows,
    )?;
    Ok(())
}

/// Whether the `reach` table exists (migration 13 builds it before its backfill runs, when
/// the version does not say so yet).
fn table_exists(db: &mut Db) -> Result<bool, Error> {
    let sql = match db.backend() {
        crate::db::Backend::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'reach'"
        }
        crate::db::Backend::Postgres => {
            "SELECT CASE WHEN to_regclass('reach') IS NULL THEN 0 ELSE 1 END"
        }
    };
    Ok(db.query_one(sql, &[])?.is_some_and(|r| r.int(0) > 0))
}

/// Effective owner names (role `owner`) of every asset in `within`, as one bitmap per name:
/// the explicit ones where an asset has any, else the inferred ones (as `mark_effective`
/// and the walk's count).
fn owner_sets(
    db: &mut Db,
    within: &RoaringBitmap,
) -> Result<BTreeMap<String, RoaringBitmap>, Error> {
    let mut per_asset: HashMap<u32, (bool, Vec<String>)> = HashMap::new();
    for r in db.query(
        "SELECT asset_rid, name, explicit FROM owners WHERE role = 'owner'",
        &[],
    )? {
        let Ok(rid) = sets::member(r.int(0)) else {
            continue;
        };
        if within.contains(rid) {
            add_owner(&mut per_asset, rid, r.text(1), r.int(2) == 1);
        }
    }
    let mut out: BTreeMap<String, RoaringBitmap> = BTreeMap::new();
    for (rid, (_, names)) in per_asset {
        for name in names {
            out.entry(name).or_default().insert(rid);
        }
    }
    Ok(out)
}

/// Adds one owner row to an asset's effective names: explicit rows replace inferred ones.
fn add_owner(
    per_asset: &mut HashMap<u32, (bool, Vec<String>)>,
    rid: u32,
    name: String,
    explicit: bool,
) {
    let e = per_asset.entry(rid).or_insert((explicit, Vec::new()));
    if explicit && !e.0 {
        *e = (true, Vec::new());
    }
    if explicit == e.0 && !e.1.contains(&name) {
        e.1.push(name);
    }
}

/// The effective owner names of some assets before an owner write, to move the kept
/// counts by the difference after it ([`OwnerSnapshot::apply`]).
pub(crate) struct OwnerSnapshot {
    rids: Vec<u32>,
    before: HashMap<u32, BTreeSet<String>>,
}

/// Effective owner names of `rids`.
fn effective_names(db: &mut Db, rids: &[u32]) -> Result<HashMap<u32, BTreeSet<String>>, Error> {
    let ids: Vec<i64> = rids.iter().map(|&r| i64::from(r)).collect();
    let mut per_asset: HashMap<u32, (bool, Vec<String>)> = HashMap::new();
    for r in db.query_in_ints(
        "SELECT asset_rid, name, explicit FROM owners WHERE role = 'owner' AND asset_rid IN ({in})",
        &ids,
    )? {
        let Ok(rid) = sets::member(r.int(0)) else {
            continue;
        };
        add_owner(&mut per_asset, rid, r.text(1), r.int(2) == 1);
    }
    Ok(per_asset
        .into_iter()
        .map(|(rid, (_, names))| (rid, names.into_iter().collect()))
        .collect())
}

impl OwnerSnapshot {
    /// Takes the snapshot; `None` when no row is kept (nothing to move).
    pub(crate) fn take(db: &mut Db, rids: &[i64]) -> Result<Option<OwnerSnapshot>, Error> {
        if schema::current_version(db)? < REACH_VERSION
            || db
                .query_one("SELECT rid FROM reach LIMIT 1", &[])?
                .is_none()
        {
            return Ok(None);
        }
        let rids: Vec<u32> = rids.iter().filter_map(|&r| sets::member(r).ok()).collect();
        let before = effective_names(db, &rids)?;
        Ok(Some(OwnerSnapshot { rids, before }))
    }

    /// After the write: moves the owner counts of every kept row holding an asset whose
    /// effective owners changed.
    pub(crate) fn apply(self, db: &mut Db) -> Result<(), Error> {
        let after = effective_names(db, &self.rids)?;
        let empty = BTreeSet::new();
        let changed: Vec<(u32, &BTreeSet<String>, &BTreeSet<String>)> = self
            .rids
            .iter()
            .map(|r| {
                (
                    *r,
                    self.before.get(r).unwrap_or(&empty),
                    after.get(r).unwrap_or(&empty),
                )
            })
            .filter(|(_, b, a)| b != a)
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        for r in db.query("SELECT rid, owners, members FROM reach", &[])? {
            let members = sets::decode(&r.text(2))?;
            let mut counts: BTreeMap<String, i64> = serde_json::from_str(&r.text(1))
                .map_err(|e| Error::corrupt(format!("corrupt reach owners: {e}")))?;
            let mut moved = false;
            for (rid, before, after) in &changed {
                if !members.contains(*rid) {
                    continue;
                }
                moved = true;
                for name in *before {
                    *counts.entry(name.clone()).or_insert(0) -= 1;
                }
                for name in *after {
                    *counts.entry(name.clone()).or_insert(0) += 1;
                }
            }
            if moved {
                counts.retain(|_, n| *n > 0);
                db.exec(
                    "UPDATE reach SET owners = ? WHERE rid = ?",
                    &[
                        Val::Text(serde_json::to_string(&counts).expect("a map of counts")),
                        Val::Int(r.int(0)),
                    ],
                )?;
            }
        }
        Ok(())
    }
}

/// The kept answer of one asset: (total, per kind, owners), when it has a row.
pub(crate) type Kept = (usize, BTreeMap<String, usize>, BTreeMap<String, usize>);

/// Reads the kept answer of asset `rid`, if any.
pub(crate) fn kept(db: &mut Db, rid: i64) -> Result<Option<Kept>, Error> {
    if schema::current_version(db)? < REACH_VERSION {
        return Ok(None);
    }
    let Some(r) = db.query_one(
        "SELECT total, kinds, owners FROM reach WHERE rid = ?",
        &[Val::Int(rid)],
    )?
    else {
        return Ok(None);
    };
    let parse = |t: String| -> Result<BTreeMap<String, usize>, Error> {
        serde_json::from_str(&t).map_err(|e| Error::corrupt(format!("corrupt reach row: {e}")))
    };
    Ok(Some((
        r.int(0) as usize,
        parse(r.text(1))?,
        parse(r.text(2))?,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(min_kept: usize) -> Limits {
        Limits {
            min_kept,
            max_work: MAX_WORK,
        }
    }

    fn kept_of(c: &Computed, rid: u32) -> Option<Vec<u32>> {
        c.kept
            .iter()
            .find(|k| k.0 == rid)
            .map(|k| k.1.iter().collect())
    }

    #[test]
    fn a_dependant_reached_along_two_paths_counts_once() {
        // key 1 -> cert 2 -> consumer 3, and key 1 -> consumer 3 directly.
        let c = compute(&mut vec![(1, 2), (2, 3), (1, 3)], limits(1));
        assert_eq!(kept_of(&c, 1), Some(vec![2, 3]));
        assert_eq!(kept_of(&c, 2), Some(vec![3]));
        assert_eq!(kept_of(&c, 3), None, "no dependants, no row");
    }

    #[test]
    fn a_cycle_and_what_is_above_it_are_not_kept_but_what_is_below_is() {
        // 1 -> 2 -> 3 -> 2 (cycle 2,3), 3 -> 4; 5 -> 1; a self-edge 4 -> 4 means nothing.
        let c = compute(
            &mut vec![(1, 2), (2, 3), (3, 2), (3, 4), (5, 1), (4, 4)],
            limits(1),
        );
        assert_eq!(kept_of(&c, 1), None);
        assert_eq!(kept_of(&c, 2), None);
        assert_eq!(kept_of(&c, 3), None);
        assert_eq!(kept_of(&c, 5), None);
        assert_eq!(c.kept.len(), 0, "4 has no dependant");
    }

    #[test]
    fn a_chain_deeper_than_the_walk_goes_is_not_kept() {
        // 0 -> 1 -> ... -> 70: node k has 70 - k levels below it.
        let mut edges: Vec<(u32, u32)> = (0..70).map(|i| (i, i + 1)).collect();
        let c = compute(&mut edges, limits(1));
        // 70 - k < MAX_DEPTH (64) is kept: k >= 7.
        assert_eq!(kept_of(&c, 7).map(|v| v.len()), Some(63));
        assert_eq!(kept_of(&c, 6), None);
        assert_eq!(kept_of(&c, 0), None);
    }

    #[test]
    fn past_the_work_bound_nothing_more_is_kept() {
        // A star: 0 -> 1..=100, and 1000 -> 0. Work: 100 for node 0, 101 for 1000.
        let mut edges: Vec<(u32, u32)> = (1..=100).map(|i| (0, i)).collect();
        edges.push((1000, 0));
        let c = compute(
            &mut edges.clone(),
            Limits {
                min_kept: 1,
                max_work: 150,
            },
        );
        assert!(c.work_bound_hit);
        assert_eq!(kept_of(&c, 0).map(|v| v.len()), Some(100));
        assert_eq!(kept_of(&c, 1000), None);
        let c = compute(&mut edges, limits(1));
        assert!(!c.work_bound_hit);
        assert_eq!(kept_of(&c, 1000).map(|v| v.len()), Some(101));
    }

    #[test]
    fn only_assets_with_enough_dependants_are_kept() {
        let mut edges: Vec<(u32, u32)> = (1..=5).map(|i| (0, i)).collect();
        edges.push((1, 10));
        let c = compute(&mut edges, limits(3));
        assert_eq!(c.kept.len(), 1);
        assert_eq!(kept_of(&c, 0), Some(vec![1, 2, 3, 4, 5, 10]));
    }
}
