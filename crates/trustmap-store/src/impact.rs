//! Blast radius: everything that breaks if an asset expires, is revoked or is compromised,
//! found by walking the relations from it ([`Store::impact`]).
//!
//! What depends on an asset X: the certificates X issued (`issued-by` into X), the keystores
//! and bundles holding X (`contains` into X), the consumers that load X (`uses` into X), the
//! endpoints serving X (`serves` into X), and, when X is a key, the certificates and public
//! keys of that key (`key-of` out of X). The walk goes on from each of them, breadth first,
//! each asset once, one query per level and direction (index `relations_to` and the primary
//! key), bounded in depth and size.

use crate::error::{Entity, Error};
use crate::owners::{load_owners_of, mark_effective};
use crate::{Store, sets};
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
        let mut db = self.conn()?;
        let root = db
            .query_one(
                "SELECT rid, kind, label FROM assets WHERE id = ?",
                &[id.into()],
            )?
            .ok_or_else(|| Error::not_found(Entity::Asset, id))?;
        let root_rid = root.int(0);
        let present_set = if include_gone {
            None
        } else {
            Some(present_assets(&mut db)?)
        };
        // rid -> (depth, parent rid, relation)
        let mut seen: HashMap<i64, (usize, i64, String)> = HashMap::new();
        let mut order: Vec<i64> = Vec::new();
        let mut frontier = vec![root_rid];
        let mut depth = 0;
        let mut cut_short = false;
        while !frontier.is_empty() {
            if depth >= MAX_DEPTH {
                cut_short = true;
                break;
            }
            depth += 1;
            let mut next = Vec::new();
            let mut edges: Vec<(i64, i64, String)> = Vec::new();
            for r in db.query_in_ints(
                "SELECT from_rid, to_rid, type FROM relations
                 WHERE to_rid IN ({in}) AND type IN ('issued-by', 'contains', 'uses', 'serves')",
                &frontier,
            )? {
                edges.push((r.int(1), r.int(0), r.text(2)));
            }
            for r in db.query_in_ints(
                "SELECT from_rid, to_rid, type FROM relations
                 WHERE from_rid IN ({in}) AND type = 'key-of'",
                &frontier,
            )? {
                edges.push((r.int(0), r.int(1), r.text(2)));
            }
            edges.sort();
            for (parent, child, rel) in edges {
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
                order.push(child);
                next.push(child);
            }
            frontier = next;
        }
        // Facts of every node (kind for the counts, owners for whom to notify), then the
        // listed ones in full.
        let mut info: HashMap<i64, (String, String, String, bool)> = HashMap::new();
        let mut with_root = order.clone();
        with_root.push(root_rid);
        for r in db.query_in_ints(
            "SELECT rid, id, kind, label, live FROM assets WHERE rid IN ({in})",
            &with_root,
        )? {
            info.insert(r.int(0), (r.text(1), r.text(2), r.text(3), r.int(4) > 0));
        }
        let owners_of = load_owners_of(&mut db, &order)?;
        let mut by_kind = BTreeMap::new();
        let mut owners = BTreeMap::new();
        let mut owner_text: HashMap<i64, String> = HashMap::new();
        for rid in &order {
            if let Some((_, kind, _, _)) = info.get(rid) {
                *by_kind.entry(kind.clone()).or_insert(0) += 1;
            }
            if let Some(list) = owners_of.get(rid) {
                let mut list = list.clone();
                mark_effective(&mut list);
                let names: Vec<String> = list
                    .iter()
                    .filter(|o| o.effective && o.role == "owner")
                    .map(|o| o.name.clone())
                    .collect();
                for n in &names {
                    *owners.entry(n.clone()).or_insert(0) += 1;
                }
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
        Ok(Impact {
            id: id.to_string(),
            kind: root.text(1),
            label: root.text(2),
            nodes,
            total: order.len(),
            by_kind,
            owners,
            cut_short,
        })
    }
}

/// The assets the latest scan of some roots sees.
fn present_assets(db: &mut crate::db::Db) -> Result<roaring::RoaringBitmap, Error> {
    let mut all = roaring::RoaringBitmap::new();
    for (_, set) in sets::current(db, sets::ASSETS)? {
        all |= set;
    }
    Ok(all)
}
