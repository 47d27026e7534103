//! Blast radius: everything that breaks if an asset expires, is revoked or is compromised,
//! found by walking the relations from it ([`Store::impact`]).
//!
//! What depends on an asset X: the certificates X issued (`issued-by` into X), the keystores
//! and bundles holding X (`contains` into X), the consumers that load X (`uses` into X), the
//! endpoints serving X (`serves` into X), and, when X is a key, the certificates and public
//! keys of that key (`key-of` out of X). The walk goes on from each of them, breadth first,
//! each asset once, one query per level and direction (index `relations_to` and the primary
//! key), bounded in depth and size.
//!
//! An asset with many dependants has its counts and owners kept (`crate::reach`, written
//! when a scan is recorded): then only the first page is walked, breadth first, its parents
//! taken in ascending order chunk by chunk so that it stops once the page is full and lists
//! exactly what the whole walk would list first.

use crate::db::{Db, Row};
use crate::error::{Entity, Error};
use crate::owners::{load_owners_of, mark_effective};
use crate::{Store, reach, sets};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Levels walked at most (a chain is rarely longer than 5; a cycle stops at the first visit).
pub const MAX_DEPTH: usize = 64;
/// Assets visited at most; past it the answer says it is cut short.
pub const MAX_NODES: usize = 2_000_000;

/// One asset that breaks, and how.
#[derive(Debug, Clone, Serialize)]
pub struct ImpactNode {
    pub id: String,
    pub kind: String,
    pub label: String,
    /// Steps from the asset asked about (1: directly).
    pub depth: usize,
    /// The asset it depends on in the walk, and through which relation (`issued-by`,
    /// `contains`, `uses`, `serves`, `key-of`).
    pub via: String,
    pub relation: String,
    /// Effective owners (explicit, else inferred), comma-separated.
    pub owner: Option<String>,
    /// Present in the latest scan of its roots.
    pub present: bool,
}

/// The answer of [`Store::impact`].
#[derive(Debug, Clone, Serialize)]
pub struct Impact {
    pub id: String,
    pub kind: String,
    pub label: String,
    /// Every asset that breaks, nearest first (the first `limit` of them).
    pub nodes: Vec<ImpactNode>,
    /// How many break in all, per kind (all of them, not only those listed).
    pub total: usize,
    pub by_kind: BTreeMap<String, usize>,
    /// Owners to notify: every effective owner of an asset that breaks (listed or not),
    /// with how many of their assets break.
    pub owners: BTreeMap<String, usize>,
    /// The walk stopped at [`MAX_NODES`] or [`MAX_DEPTH`].
    pub cut_short: bool,
}

impl Store {
    /// Everything that breaks if asset `id` fails, nearest first; `limit` caps the listed
    /// nodes (counts and owners cover all). Gone assets are left out unless `include_gone`.
    pub fn impact(&self, id: &str, limit: usize, include_gone: bool) -> Result<Impact, Error> {
        self.impact_with(id, limit, include_gone, true)
    }

    /// [`Store::impact`]; `use_kept`: read the kept counts when there are (else always walk).
    pub(crate) fn impact_with(
        &self,
        id: &str,
        limit: usize,
        include_gone: bool,
        use_kept: bool,
    ) -> Result<Impact, Error> {
        let mut conn = self.conn()?;
        let db: &mut Db = &mut conn;
        if matches!(db, Db::Sqlite(_)) {
            return walk(db, id, limit, include_gone, use_kept);
        }
        // PostgreSQL's statistics say a to_rid has a few rows, so for a chunk of thousands
        // it would hash-join a scan of all relations and assets (0.3 s a chunk, a minute for
        // a root CA); every step here is an index lookup, so the walk says so for its own
        // read-only transaction (ended whatever happens, so the pool gets it back clean).
        db.batch(
            "BEGIN READ ONLY; SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off;
             SET LOCAL enable_mergejoin = off",
        )?;
        let out = walk(db, id, limit, include_gone, use_kept);
        let end = db.batch("ROLLBACK");
        let out = out?;
        end?;
        Ok(out)
    }
}

/// [`Store::impact`] on one connection.
fn walk(
    db: &mut Db,
    id: &str,
    limit: usize,
    include_gone: bool,
    use_kept: bool,
) -> Result<Impact, Error> {
    let root = db
        .query_one(
            "SELECT rid, kind, label FROM assets WHERE id = ?",
            &[id.into()],
        )?
        .ok_or_else(|| Error::not_found(Entity::Asset, id))?;
    let root_rid = root.int(0);
    // Kept counts are of the present assets (the default walk).
    let kept = if use_kept && !include_gone {
        reach::kept(db, root_rid)?
    } else {
        None
    };
    // With the counts kept, the walk stops once the page is full.
    let stop_at = kept.as_ref().map(|_| limit);
    let full = |order: &Vec<i64>| stop_at.is_some_and(|l| order.len() >= l);
    let present_set = if include_gone {
        None
    } else {
        Some(present_assets(db)?)
    };
    // Into the frontier by relations_to. SQLite's planner, told by ANALYZE that a
    // to_rid has hundreds of rows on average (an issuing CA has thousands), would rather
    // scan the whole primary key once per chunk of a large frontier (seconds each):
    // the index is named for it (PostgreSQL is told in `Store::impact`).
    let into_sql = if matches!(db, Db::Sqlite(_)) {
        "SELECT r.from_rid, r.to_rid, r.type, a.kind FROM relations r INDEXED BY relations_to
             JOIN assets a ON a.rid = r.from_rid
             WHERE r.to_rid IN ({in}) AND r.type IN ('issued-by', 'contains', 'uses', 'serves')"
    } else {
        "SELECT r.from_rid, r.to_rid, r.type, a.kind FROM relations r
             JOIN assets a ON a.rid = r.from_rid
             WHERE r.to_rid IN ({in}) AND r.type IN ('issued-by', 'contains', 'uses', 'serves')"
    };
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    // rid -> (depth, parent rid, relation)
    let mut seen: HashMap<i64, (usize, i64, String)> = HashMap::new();
    let mut order: Vec<i64> = Vec::new();
    let mut frontier = vec![root_rid];
    let mut depth = 0;
    let mut cut_short = false;
    while !frontier.is_empty() && !full(&order) {
        if depth >= MAX_DEPTH {
            cut_short = true;
            break;
        }
        depth += 1;
        let mut next = Vec::new();
        // The whole level at once; or, to stop at the page, its parents in ascending order,
        // a growing chunk at a time: the edges are taken in (parent, child) order either
        // way, so the nodes come in the same order.
        if stop_at.is_some() {
            frontier.sort_unstable();
        }
        let mut start = 0;
        let mut chunk = 64;
        while start < frontier.len() && !full(&order) {
            let end = if stop_at.is_some() {
                (start + chunk).min(frontier.len())
            } else {
                frontier.len()
            };
            let parents = &frontier[start..end];
            start = end;
            chunk *= 2;
            // (parent, child, relation, child's kind)
            let mut edges: Vec<(i64, i64, String, String)> = Vec::new();
            for r in query_ids(db, into_sql, parents)? {
                edges.push((r.int(1), r.int(0), r.text(2), r.text(3)));
            }
            for r in query_ids(
                db,
                "SELECT r.from_rid, r.to_rid, r.type, a.kind FROM relations r
                     JOIN assets a ON a.rid = r.to_rid
                     WHERE r.from_rid IN ({in}) AND r.type = 'key-of'",
                parents,
            )? {
                edges.push((r.int(0), r.int(1), r.text(2), r.text(3)));
            }
            edges.sort();
            for (parent, child, rel, kind) in edges {
                if child == root_rid || seen.contains_key(&child) {
                    continue;
                }
                if let Some(p) = &present_set
                    && !p.contains(child as u32)
                {
                    continue;
                }
                if seen.len() >= MAX_NODES {
                    cut_short = true;
                    break;
                }
                seen.insert(child, (depth, parent, rel));
                *by_kind.entry(kind).or_insert(0) += 1;
                order.push(child);
                next.push(child);
                if full(&order) {
                    break;
                }
            }
        }
        frontier = next;
    }
    // Facts of the listed nodes, their parents and the root only; the kinds for the
    // counts came with the edges.
    let listed: Vec<i64> = order.iter().take(limit).copied().collect();
    let mut wanted: Vec<i64> = listed.clone();
    wanted.extend(listed.iter().filter_map(|rid| seen.get(rid).map(|s| s.1)));
    wanted.push(root_rid);
    wanted.sort_unstable();
    wanted.dedup();
    let mut info: HashMap<i64, (String, String, String, bool)> = HashMap::new();
    for r in db.query_in_ints(
        "SELECT rid, id, kind, label, live FROM assets WHERE rid IN ({in})",
        &wanted,
    )? {
        info.insert(r.int(0), (r.text(1), r.text(2), r.text(3), r.int(4) > 0));
    }
    // Owners to notify: counted in SQL over every node (explicit owners win over
    // inferred ones, as `mark_effective`), one name per asset; listed nodes' in full.
    let mut owners: BTreeMap<String, usize> = BTreeMap::new();
    let counted: &[i64] = if kept.is_some() { &[] } else { &order };
    for r in query_ids(
        db,
        "SELECT o.name, COUNT(*) FROM owners o
             WHERE o.asset_rid IN ({in}) AND o.role = 'owner'
               AND (o.explicit = 1 OR NOT EXISTS (SELECT 1 FROM owners e
                    WHERE e.asset_rid = o.asset_rid AND e.role = 'owner' AND e.explicit = 1))
             GROUP BY o.name",
        counted,
    )? {
        *owners.entry(r.text(0)).or_insert(0) += r.int(1) as usize;
    }
    let owners_of = load_owners_of(db, &listed)?;
    let mut owner_text: HashMap<i64, String> = HashMap::new();
    for rid in &listed {
        if let Some(list) = owners_of.get(rid) {
            let mut list = list.clone();
            mark_effective(&mut list);
            let names: Vec<String> = list
                .iter()
                .filter(|o| o.effective && o.role == "owner")
                .map(|o| o.name.clone())
                .collect();
            if !names.is_empty() {
                owner_text.insert(*rid, names.join(", "));
            }
        }
    }
    let nodes = order
        .iter()
        .take(limit)
        .filter_map(|rid| {
            let (id, kind, label, present) = info.get(rid)?.clone();
            let (depth, parent, relation) = seen.get(rid)?.clone();
            Some(ImpactNode {
                id,
                kind,
                label,
                depth,
                via: info.get(&parent).map(|p| p.0.clone()).unwrap_or_default(),
                relation,
                owner: owner_text.get(rid).cloned(),
                present,
            })
        })
        .collect();
    let (total, by_kind, owners) = match kept {
        Some((total, by_kind, owners)) => (total, by_kind, owners),
        None => (order.len(), by_kind, owners),
    };
    Ok(Impact {
        id: id.to_string(),
        kind: root.text(1),
        label: root.text(2),
        nodes,
        total,
        by_kind,
        owners,
        cut_short,
    })
}

/// Runs `sql`, whose `IN ({in})` takes `ids`: on SQLite in chunks of parameters
/// (`query_in_ints`); on PostgreSQL as one array parameter per 100,000 ids, since a list of
/// thousands of parameters costs it about 15 ms to plan, each chunk again.
fn query_ids(db: &mut Db, sql: &str, ids: &[i64]) -> Result<Vec<Row>, Error> {
    if matches!(db, Db::Sqlite(_)) {
        return db.query_in_ints(sql, ids);
    }
    let sql = sql.replace("IN ({in})", "= ANY(CAST(CAST(? AS TEXT) AS BIGINT[]))");
    let mut out = Vec::new();
    for chunk in ids.chunks(100_000) {
        let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
        let list = format!("{{{}}}", list.join(","));
        out.extend(db.query(&sql, &[list.into()])?);
    }
    Ok(out)
}

/// The assets the latest scan of some roots sees.
fn present_assets(db: &mut Db) -> Result<roaring::RoaringBitmap, Error> {
    let mut all = roaring::RoaringBitmap::new();
    for (_, set) in sets::current(db, sets::ASSETS)? {
        all |= set;
    }
    Ok(all)
}
