//! Migration 5's data work: carries an inventory from the version 1-4 tables (text keys,
//! one row per scan and asset) into the integer-keyed tables and per-scan bitmaps, then
//! drops the old tables. Runs in the migration's transaction: all or nothing.

use crate::db::{Db, Val};
use crate::error::Error;
use crate::ingest::{ASSET_COLUMNS, OWNER_COLUMNS};
use crate::sets::{self, member};
use roaring::RoaringBitmap;
use std::collections::HashMap;

/// The columns of `occurrences` as migration 5 made them (migration 8 added more).
const PLACE_COLUMNS: &[&str] = &[
    "rid",
    "asset_rid",
    "path",
    "container",
    "line",
    "first_seen",
];

pub(crate) fn backfill(db: &mut Db) -> Result<(), Error> {
    let seq_of: HashMap<String, i64> = db
        .query("SELECT id, seq FROM scans", &[])?
        .iter()
        .map(|r| (r.text(0), r.int(1)))
        .collect();

    // Assets, keyed in first-seen order.
    let mut rid_of: HashMap<String, i64> = HashMap::new();
    let mut asset_rows = Vec::new();
    let mut fact_rows = Vec::new();
    for (i, r) in db
        .query(
            "SELECT id, kind, fingerprint, label, facts, first_seen, last_seen, first_scan,
                    not_after, issuer, algorithm
             FROM v4_assets ORDER BY first_seen, id",
            &[],
        )?
        .iter()
        .enumerate()
    {
        let rid = i as i64 + 1;
        rid_of.insert(r.text(0), rid);
        asset_rows.push(vec![
            Val::Int(rid),
            Val::Text(r.text(0)),
            Val::Text(r.text(1)),
            Val::Text(r.text(2)),
            Val::Text(r.text(3)),
            Val::Text(r.text(5)),
            Val::Int(seq_of.get(&r.text(7)).copied().unwrap_or(0)),
            Val::Text(r.text(6)),
            Val::Int(0),
            // No state hash: the next scan rewrites facts and owners once.
            Val::Text(String::new()),
            r.opt_text(8).into(),
            r.opt_text(9).into(),
            r.opt_text(10).into(),
        ]);
        fact_rows.push(vec![Val::Int(rid), Val::Text(r.text(4))]);
    }
    db.insert_rows("assets", ASSET_COLUMNS, &asset_rows)?;
    db.insert_rows("asset_facts", &["rid", "facts"], &fact_rows)?;
    db.batch(
        "INSERT INTO issuers (name) SELECT DISTINCT issuer FROM assets WHERE issuer IS NOT NULL",
    )?;

    // Places keep their keys.
    let rid = |rid_of: &HashMap<String, i64>, id: &str| rid_of.get(id).copied().unwrap_or(0);
    let rows: Vec<Vec<Val>> = db
        .query(
            "SELECT id, asset_id, path, container, line, first_seen FROM v4_occurrences",
            &[],
        )?
        .iter()
        .map(|r| {
            vec![
                Val::Int(r.int(0)),
                Val::Int(rid(&rid_of, &r.text(1))),
                Val::Text(r.text(2)),
                Val::Text(r.text(3)),
                r.opt_int(4).into(),
                Val::Text(r.text(5)),
            ]
        })
        .collect();
    db.insert_rows("occurrences", PLACE_COLUMNS, &rows)?;

    // Per-scan rows become per-scan bitmaps.
    let mut assets_by_scan: HashMap<i64, RoaringBitmap> = HashMap::new();
    for r in db.query("SELECT scan_seq, asset_id FROM v4_asset_scans", &[])? {
        assets_by_scan
            .entry(r.int(0))
            .or_default()
            .insert(member(rid(&rid_of, &r.text(1)))?);
    }
    let mut places_by_scan: HashMap<i64, RoaringBitmap> = HashMap::new();
    for r in db.query(
        "SELECT scan_seq, occurrence_id FROM v4_occurrence_scans",
        &[],
    )? {
        places_by_scan
            .entry(r.int(0))
            .or_default()
            .insert(member(r.int(1))?);
    }
    for seq in seq_of.values() {
        let a = assets_by_scan.remove(seq).unwrap_or_default();
        let p = places_by_scan.remove(seq).unwrap_or_default();
        sets::save(db, *seq, sets::ASSETS, &a)?;
        sets::save(db, *seq, sets::PLACES, &p)?;
    }

    // Live counts from each roots' latest scan.
    let mut live: HashMap<u32, i64> = HashMap::new();
    for (_, set) in sets::current(db, sets::ASSETS)? {
        for r in &set {
            *live.entry(r).or_default() += 1;
        }
    }
    for (r, n) in live {
        db.exec(
            "UPDATE assets SET live = ? WHERE rid = ?",
            &[Val::Int(n), Val::Int(r.into())],
        )?;
    }

    let rows: Vec<Vec<Val>> = db
        .query(
            "SELECT asset_id, role, name, source, explicit, set_at FROM v4_owners",
            &[],
        )?
        .iter()
        .map(|r| {
            vec![
                Val::Int(rid(&rid_of, &r.text(0))),
                Val::Text(r.text(1)),
                Val::Text(r.text(2)),
                Val::Text(r.text(3)),
                Val::Int(r.int(4)),
                Val::Text(r.text(5)),
            ]
        })
        .collect();
    db.insert_rows("owners", OWNER_COLUMNS, &rows)?;
    let rows: Vec<Vec<Val>> = db
        .query(
            "SELECT from_id, to_id, type, first_seen FROM v4_relations",
            &[],
        )?
        .iter()
        .filter(|r| rid_of.contains_key(&r.text(0)) && rid_of.contains_key(&r.text(1)))
        .map(|r| {
            vec![
                Val::Int(rid(&rid_of, &r.text(0))),
                Val::Int(rid(&rid_of, &r.text(1))),
                Val::Text(r.text(2)),
                Val::Text(r.text(3)),
            ]
        })
        .collect();
    db.insert_rows(
        "relations",
        &["from_rid", "to_rid", "type", "first_seen"],
        &rows,
    )?;
    db.batch(
        "INSERT INTO waivers (id, rule, asset_id, reason, expires_at, granted_by, granted_at,
                              revoked_at, revoked_by)
         SELECT id, rule, asset_id, reason, expires_at, granted_by, granted_at, revoked_at,
                revoked_by FROM v4_waivers;
         DROP TABLE v4_waivers;
         DROP TABLE v4_owners;
         DROP TABLE v4_occurrence_scans;
         DROP TABLE v4_asset_scans;
         DROP TABLE v4_relations;
         DROP TABLE v4_occurrences;
         DROP TABLE v4_assets;",
    )?;
    crate::schema::secondary_indexes_but(db, true, crate::schema::ADDED_AFTER_5)?;
    if db.backend() == crate::Backend::Postgres {
        // Carried-over waiver ids: move the sequence past them.
        db.batch(
            "SELECT setval(pg_get_serial_sequence('waivers', 'id'),
                           COALESCE((SELECT MAX(id) FROM waivers), 0) + 1, false)",
        )?;
    }
    Ok(())
}
