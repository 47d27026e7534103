//! Reading the inventory: listings ([`Store::assets`], [`Store::count_assets`]), one asset
//! in full ([`Store::show`]), and first-seen times for the policy's key age.

use crate::db::{Row, Val};
use crate::error::{Entity, Error};
use crate::owners::{OwnerRow, effective, load_owners, mark_effective, owner_row};
use crate::query::{AssetQuery, asset_filter, place_query};
use crate::{Store, sets};
use roaring::RoaringBitmap;
use serde::Serialize;
use std::collections::HashMap;

/// Where an asset is: the host that scanned it, the scan root (canonical: absolute, forward
/// slashes) and the path as the scan reported it (relative to the root).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PlaceRef {
    pub host: String,
    pub root: String,
    pub path: String,
}

impl std::fmt::Display for PlaceRef {
    /// `host:path` (just the path when the host is unknown).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.is_empty() {
            f.write_str(&self.path)
        } else {
            write!(f, "{}:{}", self.host, self.path)
        }
    }
}

/// One place of an asset in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssetPlace {
    #[serde(flatten)]
    pub place: PlaceRef,
    /// Seen there by the latest scan of its host and roots.
    pub present: bool,
}

/// One asset in a listing.
#[derive(Debug, Clone, Serialize)]
pub struct AssetRow {
    pub id: String,
    pub kind: String,
    pub label: String,
    pub fingerprint: String,
    pub not_after: Option<String>,
    pub issuer: Option<String>,
    pub algorithm: Option<String>,
    pub owner: Option<String>,
    pub owner_source: Option<String>,
    pub backup: Option<String>,
    pub backup_source: Option<String>,
    /// Its places as `host:path`, present ones first (see [`AssetRow::places`]).
    pub paths: Vec<String>,
    /// Its places in full, present ones first.
    pub places: Vec<AssetPlace>,
    pub first_seen: String,
    pub last_seen: String,
    /// Seen by the latest scan of its roots; false once gone or rotated away.
    pub present: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct OccurrenceRow {
    /// The host that scanned it.
    pub host: String,
    /// The scan root it was found under (canonical; empty when not known, for places
    /// recorded before roots were kept by scans of several roots).
    pub root: String,
    pub path: String,
    pub line: Option<i64>,
    pub container: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    /// Seen there by the latest scan of its host and roots.
    pub present: bool,
    /// Scans that saw the asset at this place, oldest first.
    pub scans: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RelationRow {
    #[serde(rename = "type")]
    pub kind: String,
    /// The other asset.
    pub asset: String,
    pub label: Option<String>,
}

/// Everything known about one asset.
#[derive(Debug, Clone, Serialize)]
pub struct AssetDetail {
    #[serde(flatten)]
    pub row: AssetRow,
    pub facts: serde_json::Value,
    pub occurrences: Vec<OccurrenceRow>,
    /// Relations from this asset (it is issued by, is the key of, contains ...).
    pub relations_out: Vec<RelationRow>,
    /// Relations to this asset.
    pub relations_in: Vec<RelationRow>,
    pub owners: Vec<OwnerRow>,
    /// Where key age counts from: first seen, or the certificate's notBefore when earlier.
    pub age_since: String,
    /// Scans that saw it: (scan id, started at), oldest first.
    pub scans: Vec<(String, String)>,
}

/// Where a page of [`Store::assets_page`] ends: the listing's sort key of its last asset.
/// Opaque to clients (the server encodes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetCursor {
    pub kind: String,
    pub rid: i64,
}

/// One page of assets, and where the next one starts (`None`: this is the last).
#[derive(Debug, Clone)]
pub struct AssetPage {
    pub rows: Vec<AssetRow>,
    pub next: Option<AssetCursor>,
}

/// The places seen by the latest scan of each host and roots.
fn present_places(db: &mut crate::db::Db) -> Result<RoaringBitmap, Error> {
    Ok(sets::current(db, sets::PLACES)?
        .into_iter()
        .fold(RoaringBitmap::new(), |acc, (_, set)| acc | set))
}

/// Places in listing order: present first, then by host, root and path; one per
/// (host, root, path) whatever the containers.
fn sort_places(places: &mut Vec<AssetPlace>) {
    places.sort_by(|a, b| b.present.cmp(&a.present).then(a.place.cmp(&b.place)));
    places.dedup_by(|later, earlier| later.place == earlier.place);
}

/// A certificate of the inventory found by name ([`Store::certificates_named`]).
#[derive(Debug, Clone)]
pub struct NamedCertificate {
    pub id: String,
    pub certificate: trustmap_core::CertificateInfo,
    /// Its first place, `host:path`.
    pub place: String,
}

/// Names looked up by one [`Store::certificates_named`] call; past them the rest are not.
pub const MAX_NAMES_LOOKED_UP: usize = 4096;
/// Certificates one [`Store::certificates_named`] call returns at most.
pub const MAX_NAMED_CERTIFICATES: usize = 10_000;

impl Store {
    /// Certificates present in the inventory (seen by the latest scan of their roots), not
    /// expired at `now` (RFC 3339), whose stored facts name one of `names` (lowercase DNS
    /// names) as a DNS SAN or as the subject CN: the inventory side of
    /// `endpoint-serves-stale-certificate`. The facts are matched as text (`LIKE`, 64 names
    /// a query) and then parsed, so a name that only appears elsewhere in the facts is
    /// dropped by the caller's own name check. At most [`MAX_NAMES_LOOKED_UP`] names and
    /// [`MAX_NAMED_CERTIFICATES`] certificates.
    pub fn certificates_named(
        &self,
        names: &[String],
        now: &str,
    ) -> Result<Vec<NamedCertificate>, Error> {
        let mut db = self.conn()?;
        let mut out: Vec<NamedCertificate> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for chunk in names[..names.len().min(MAX_NAMES_LOOKED_UP)].chunks(64) {
            let mut params = vec![Val::Text(now.to_string())];
            let mut ors = Vec::new();
            for n in chunk {
                let n = crate::query::like_literal(&n.to_ascii_lowercase());
                ors.push("LOWER(f.facts) LIKE ? ESCAPE '\\'");
                params.push(Val::Text(format!("%\"dns:{n}\"%")));
                ors.push("LOWER(f.facts) LIKE ? ESCAPE '\\'");
                params.push(Val::Text(format!("%\"subject_cn\":\"{n}\"%")));
            }
            let left = MAX_NAMED_CERTIFICATES.saturating_sub(out.len());
            if left == 0 {
                break;
            }
            let rows = db.query(
                &format!(
                    "SELECT a.id, f.facts,
                            (SELECT o.path FROM occurrences o WHERE o.asset_rid = a.rid
                             ORDER BY o.rid LIMIT 1)
                     FROM assets a JOIN asset_facts f ON f.rid = a.rid
                     WHERE a.kind = 'certificate' AND a.live > 0 AND a.not_after > ?
                       AND ({}) ORDER BY a.rid LIMIT {left}",
                    ors.join(" OR ")
                ),
                &params,
            )?;
            for r in rows {
                let id = r.text(0);
                if !seen.insert(id.clone()) {
                    continue;
                }
                let facts: serde_json::Value = serde_json::from_str(&r.text(1))
                    .map_err(|e| Error::corrupt(format!("facts of {id}: {e}")))?;
                let Ok(certificate) = serde_json::from_value::<trustmap_core::CertificateInfo>(
                    facts["certificate"].clone(),
                ) else {
                    continue;
                };
                out.push(NamedCertificate {
                    id,
                    certificate,
                    place: r.opt_text(2).unwrap_or_default(),
                });
            }
        }
        Ok(out)
    }

    /// The WHERE clause for `q`. Without `include_gone`, a host or path filter is matched by
    /// present places only (an asset deleted on host A but still on host B is not listed
    /// under `--host A`): the matching places are read and checked against the presence
    /// sets here, since presence lives in the scans' sets rather than in a column.
    fn filter(
        &self,
        db: &mut crate::db::Db,
        q: &AssetQuery,
    ) -> Result<(String, Vec<crate::db::Val>), Error> {
        let backend = self.backend();
        let resolved = match place_query(q, backend)? {
            Some((sql, params)) if !q.include_gone => {
                let present = present_places(db)?;
                let mut assets = RoaringBitmap::new();
                for r in db.query(&sql, &params)? {
                    if present.contains(r.int(0) as u32) {
                        assets.insert(r.int(1) as u32);
                    }
                }
                Some(assets)
            }
            _ => None,
        };
        // A bare `--owner` team name, resolved to the stored names it matches.
        let owner_names = match &q.owner {
            Some(team) => crate::owners::resolve_owner(db, team)?,
            None => Vec::new(),
        };
        asset_filter(q, backend, &owner_names, resolved.as_ref())
    }

    /// Assets matching every filter in `q`, ordered by kind, then oldest first; at most
    /// `q.limit` of them.
    pub fn assets(&self, q: &AssetQuery) -> Result<Vec<AssetRow>, Error> {
        Ok(self.assets_page(q, None)?.rows)
    }

    /// One page of [`Store::assets`]: the assets after `after` (the `next` of the page
    /// before; `None`: the first page), at most `q.limit` of them. Keyset pagination on the
    /// listing's order (kind, then the internal row id): each page is at most two seeks of the
    /// `(kind, rid)` index however deep it is, and assets recorded meanwhile neither shift
    /// nor repeat rows.
    pub fn assets_page(
        &self,
        q: &AssetQuery,
        after: Option<&AssetCursor>,
    ) -> Result<AssetPage, Error> {
        let mut db = self.conn()?;
        let (filter, params) = self.filter(&mut db, q)?;
        let select = format!(
            "SELECT a.id, a.kind, a.label, a.fingerprint, a.not_after, a.issuer, a.algorithm,
                    a.first_seen, a.last_seen, a.live, a.rid
             FROM assets a WHERE {filter}"
        );
        let limit = |n: Option<usize>| n.map_or(String::new(), |n| format!(" LIMIT {n}"));
        let rows = match after {
            None => db.query(
                &format!("{select} ORDER BY a.kind, a.rid{}", limit(q.limit)),
                &params,
            )?,
            // Two index seeks rather than `(a.kind, a.rid) > (?, ?)`, which SQLite reads as
            // a range on `kind` alone (a page deep in a million certificates read every
            // certificate before it: 0.9 s against 3 ms): the rest of this kind, then the
            // kinds after it.
            Some(c) => {
                let mut p = params.clone();
                p.push(Val::Text(c.kind.clone()));
                p.push(Val::Int(c.rid));
                let mut rows = db.query(
                    &format!(
                        "{select} AND a.kind = ? AND a.rid > ? ORDER BY a.kind, a.rid{}",
                        limit(q.limit)
                    ),
                    &p,
                )?;
                let left = q.limit.map(|n| n - rows.len());
                if left != Some(0) {
                    let mut p = params;
                    p.push(Val::Text(c.kind.clone()));
                    rows.extend(db.query(
                        &format!(
                            "{select} AND a.kind > ? ORDER BY a.kind, a.rid{}",
                            limit(left)
                        ),
                        &p,
                    )?);
                }
                rows
            }
        };
        let next = match (q.limit, rows.last()) {
            (Some(n), Some(last)) if rows.len() == n => Some(AssetCursor {
                kind: last.text(1),
                rid: last.int(10),
            }),
            _ => None,
        };
        let rids: Vec<i64> = rows.iter().map(|r| r.int(10)).collect();
        let present = present_places(&mut db)?;
        let mut places: HashMap<i64, Vec<AssetPlace>> = HashMap::new();
        for r in db.query_in_ints(
            "SELECT asset_rid, rid, host, root, path FROM occurrences WHERE asset_rid IN ({in})",
            &rids,
        )? {
            places.entry(r.int(0)).or_default().push(AssetPlace {
                present: present.contains(r.int(1) as u32),
                place: PlaceRef {
                    host: r.text(2),
                    root: r.text(3),
                    path: r.text(4),
                },
            });
        }
        let mut owners: HashMap<i64, Vec<OwnerRow>> = HashMap::new();
        for r in db.query_in_ints(
            "SELECT asset_rid, role, name, source, explicit FROM owners WHERE asset_rid IN ({in})
             ORDER BY asset_rid, role, explicit DESC, name",
            &rids,
        )? {
            owners.entry(r.int(0)).or_default().push(owner_row(&r, 1));
        }
        // A live asset was last seen by the latest of the current scans that saw it.
        let current = sets::current(&mut db, sets::ASSETS)?;
        let out = rows
            .iter()
            .map(|r| {
                let rid = r.int(10);
                let mut own = owners.remove(&rid).unwrap_or_default();
                mark_effective(&mut own);
                let mut row = asset_row(r, places.remove(&rid).unwrap_or_default(), &own);
                if row.present
                    && let Some(at) = current
                        .iter()
                        .filter(|(_, set)| set.contains(rid as u32))
                        .map(|(at, _)| at)
                        .max()
                {
                    row.last_seen = at.clone();
                }
                row
            })
            .collect();
        Ok(AssetPage { rows: out, next })
    }

    /// How many assets match every filter in `q` (ignoring its limit).
    pub fn count_assets(&self, q: &AssetQuery) -> Result<u64, Error> {
        let mut db = self.conn()?;
        let (filter, params) = self.filter(&mut db, q)?;
        Ok(db
            .query_one(
                &format!("SELECT COUNT(*) FROM assets a WHERE {filter}"),
                &params,
            )?
            .map_or(0, |r| r.int(0) as u64))
    }

    /// When each of `ids` was first seen (RFC 3339); ids not in the inventory are absent.
    pub fn first_seen(&self, ids: &[String]) -> Result<HashMap<String, String>, Error> {
        Ok(self
            .conn()?
            .query_in("SELECT id, first_seen FROM assets WHERE id IN ({in})", ids)?
            .iter()
            .map(|r| (r.text(0), r.text(1)))
            .collect())
    }

    /// The kind of asset `id` ([`Error::NotFound`] when the inventory has no such asset).
    pub fn asset_kind(&self, id: &str) -> Result<trustmap_core::AssetKind, Error> {
        let row = self
            .conn()?
            .query_one("SELECT kind FROM assets WHERE id = ?", &[id.into()])?
            .ok_or_else(|| Error::not_found(Entity::Asset, id))?;
        let kind = row.text(0);
        trustmap_core::AssetKind::parse(&kind)
            .ok_or_else(|| Error::corrupt(format!("asset {id} has unknown kind {kind:?}")))
    }

    /// Everything known about one asset.
    pub fn show(&self, id: &str) -> Result<AssetDetail, Error> {
        let mut db = self.conn()?;
        let Some(r) = db.query_one(
            "SELECT a.id, a.kind, a.label, a.fingerprint, a.not_after, a.issuer, a.algorithm,
                    a.first_seen, a.last_seen, a.live, a.rid, f.facts
             FROM assets a JOIN asset_facts f ON f.rid = a.rid WHERE a.id = ?",
            &[id.into()],
        )?
        else {
            return Err(Error::not_found(Entity::Asset, id));
        };
        let rid = r.int(10);
        let all_assets = sets::load_all(&mut db, sets::ASSETS)?;
        let all_places = sets::load_all(&mut db, sets::PLACES)?;
        let present = present_places(&mut db)?;
        let occurrences: Vec<OccurrenceRow> = db
            .query(
                "SELECT rid, path, line, container, first_seen, host, root FROM occurrences
                 WHERE asset_rid = ? ORDER BY host, root, path, container",
                &[Val::Int(rid)],
            )?
            .iter()
            .map(|o| OccurrenceRow {
                host: o.text(5),
                root: o.text(6),
                path: o.text(1),
                line: o.opt_int(2),
                container: o.opt_text(3).filter(|c| !c.is_empty()),
                first_seen: o.text(4),
                last_seen: sets::seen_by(&all_places, o.int(0))
                    .last()
                    .map(|x| x.finished_at.clone())
                    .unwrap_or_else(|| o.text(4)),
                present: present.contains(o.int(0) as u32),
                scans: sets::seen_by(&all_places, o.int(0))
                    .map(|x| x.id.clone())
                    .collect(),
            })
            .collect();
        let rel = |rows: Vec<Row>| {
            rows.iter()
                .map(|x| RelationRow {
                    kind: x.text(0),
                    asset: x.text(1),
                    label: x.opt_text(2),
                })
                .collect::<Vec<_>>()
        };
        let relations_out = rel(db.query(
            "SELECT r.type, a.id, a.label FROM relations r JOIN assets a ON a.rid = r.to_rid
             WHERE r.from_rid = ? ORDER BY r.type, a.id",
            &[Val::Int(rid)],
        )?);
        let relations_in = rel(db.query(
            "SELECT r.type, a.id, a.label FROM relations r JOIN assets a ON a.rid = r.from_rid
             WHERE r.to_rid = ? ORDER BY r.type, a.id",
            &[Val::Int(rid)],
        )?);
        let mut owners = load_owners(&mut db, rid)?;
        mark_effective(&mut owners);
        let scans = sets::seen_by(&all_assets, rid)
            .map(|x| (x.id.clone(), x.started_at.clone()))
            .collect();
        let places = occurrences
            .iter()
            .map(|o| AssetPlace {
                place: PlaceRef {
                    host: o.host.clone(),
                    root: o.root.clone(),
                    path: o.path.clone(),
                },
                present: o.present,
            })
            .collect();
        let facts: serde_json::Value = serde_json::from_str(&r.text(11)).unwrap_or_default();
        let mut row = asset_row(&r, places, &owners);
        if let Some(at) = sets::seen_by(&all_assets, rid)
            .last()
            .map(|x| x.finished_at.clone())
        {
            row.last_seen = at;
        }
        // RFC 3339 UTC text in one format compares chronologically.
        let age_since = match facts["certificate"]["not_before"].as_str() {
            Some(nb) if nb < row.first_seen.as_str() => nb.to_string(),
            _ => row.first_seen.clone(),
        };
        Ok(AssetDetail {
            row,
            facts,
            age_since,
            occurrences,
            relations_out,
            relations_in,
            owners,
            scans,
        })
    }
}

/// An asset row from `id, kind, label, fingerprint, not_after, issuer, algorithm,
/// first_seen, last_seen, live` columns.
fn asset_row(r: &Row, mut places: Vec<AssetPlace>, owners: &[OwnerRow]) -> AssetRow {
    let (owner, owner_source) = effective(owners, "owner");
    let (backup, backup_source) = effective(owners, "backup");
    sort_places(&mut places);
    let mut paths: Vec<String> = places.iter().map(|p| p.place.to_string()).collect();
    // Two roots on one host can hold the same relative path: listed once.
    let mut seen = std::collections::HashSet::new();
    paths.retain(|p| seen.insert(p.clone()));
    AssetRow {
        id: r.text(0),
        kind: r.text(1),
        label: r.text(2),
        fingerprint: r.text(3),
        not_after: r.opt_text(4),
        issuer: r.opt_text(5),
        algorithm: r.opt_text(6),
        owner,
        owner_source,
        backup,
        backup_source,
        paths,
        places,
        first_seen: r.text(7),
        last_seen: r.text(8),
        present: r.int(9) > 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn present_places_come_first_once_each() {
        let p = |host: &str, path: &str, present: bool| AssetPlace {
            place: PlaceRef {
                host: host.into(),
                root: "/r".into(),
                path: path.into(),
            },
            present,
        };
        let mut v = vec![
            p("a", "x", false),
            p("b", "x", true),
            p("b", "x", true),
            p("a", "y", true),
        ];
        sort_places(&mut v);
        assert_eq!(
            v,
            vec![p("a", "y", true), p("b", "x", true), p("a", "x", false)]
        );
        assert_eq!(v[2].place.to_string(), "a:x");
    }
}
