//! Recording a scan, and diffs between scans.
//!
//! Built for a million assets: assets and places get integer keys assigned here (under the
//! write lock, so no RETURNING round trips); what is new is inserted with the backend's
//! fastest plain insert; what is known is only read back (key, state hash, places), and
//! rewritten only when its facts or inferred owners changed; which scans saw what is one
//! bitmap per scan ([`crate::sets`]); `assets.live` (how many roots' latest scan saw it) is
//! adjusted only for the assets that came or went.

use crate::db::{Cell, Db, Row, Val};
use crate::sets::{self, member};
use crate::{
    Diff, Error, Move, OwnerRow, QueryColumns, Rotation, ScanMeta, ScanRecord, audit, effective,
    facts_text, mark_effective, owner_row,
};
use roaring::RoaringBitmap;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use trustmap_core::{AssetKind, Owner, Report};

/// The data of an `asset-first-seen` event (keys in sorted order, as `json!` wrote them).
#[derive(serde::Serialize)]
struct FirstSeen<'a> {
    fingerprint: &'a str,
    kind: &'a str,
    label: String,
    owners: &'a [Owner],
    paths: Vec<&'a str>,
    scan: &'a str,
}

/// Columns of the rows inserted into `assets`, `occurrences` and `owners`, in order.
pub(crate) const ASSET_COLUMNS: &[&str] = &[
    "rid",
    "id",
    "kind",
    "fingerprint",
    "label",
    "first_seen",
    "first_scan",
    "last_seen",
    "live",
    "state",
    "not_after",
    "issuer",
    "algorithm",
];
pub(crate) const PLACE_COLUMNS: &[&str] = &[
    "rid",
    "asset_rid",
    "path",
    "container",
    "line",
    "first_seen",
];
pub(crate) const OWNER_COLUMNS: &[&str] =
    &["asset_rid", "role", "name", "source", "explicit", "set_at"];

/// First scans (into an empty inventory) with at least this many assets are bulk loads.
pub(crate) const BULK_LOAD: usize = 20_000;

/// Assets per round of lookups.
const CHUNK: usize = 5000;

/// Hash of what is rewritten when it changes: facts and inferred owners.
fn state_hash(facts: &str, owners: &BTreeSet<(String, String, String)>) -> String {
    let mut h = Sha256::new();
    h.update(facts.as_bytes());
    for (role, name, source) in owners {
        h.update([0]);
        h.update(role.as_bytes());
        h.update([0]);
        h.update(name.as_bytes());
        h.update([0]);
        h.update(source.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

pub(crate) fn owners_key(owners: &[Owner]) -> BTreeSet<(String, String, String)> {
    owners
        .iter()
        .map(|o| (o.role.clone(), o.name.clone(), o.source.clone()))
        .collect()
}

fn next_key(db: &mut Db, table: &str) -> Result<i64, Error> {
    Ok(db
        .query_one(&format!("SELECT MAX(rid) FROM {table}"), &[])?
        .and_then(|r| r.opt_int(0))
        .unwrap_or(0)
        + 1)
}

/// What is computed per asset before writing: facts text, inferred owners, state hash, and
/// for assets new to the inventory the data of their `asset-first-seen` event.
type Prepared = (
    String,
    BTreeSet<(String, String, String)>,
    String,
    Option<String>,
);

/// An asset's recorded places: (path, container) -> (place key, line).
type Places = HashMap<(String, String), (i64, Option<i64>)>;

/// [`Prepared`] for each asset of `chunk`, computed on every core.
fn prepare(
    chunk: &[&trustmap_core::Asset],
    known: &HashMap<String, (i64, String)>,
    scan_id: &str,
) -> Vec<Prepared> {
    let one = |a: &trustmap_core::Asset| {
        let facts = facts_text(a);
        let inferred = owners_key(&a.owners);
        let state = state_hash(&facts, &inferred);
        let first_seen = (!known.contains_key(&a.id)).then(|| {
            serde_json::to_string(&FirstSeen {
                fingerprint: &a.fingerprint,
                kind: a.kind.as_str(),
                label: a.label(),
                owners: &a.owners,
                paths: a.occurrences.iter().map(|o| o.path.as_str()).collect(),
                scan: scan_id,
            })
            .unwrap_or_default()
        });
        (facts, inferred, state, first_seen)
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || chunk.len() < 256 {
        return chunk.iter().map(|a| one(a)).collect();
    }
    let per = chunk.len().div_ceil(threads);
    std::thread::scope(|s| {
        let parts: Vec<_> = chunk
            .chunks(per)
            .map(|part| s.spawn(move || part.iter().map(|a| one(a)).collect::<Vec<_>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|h| h.join().expect("preparing assets does not panic"))
            .collect()
    })
}

/// What the database knows of one chunk's assets before the scan, as read: (id, key,
/// state hash) of the known ones, and their recorded places (asset key, path, container,
/// place key, line). The builder turns them into maps, off the database thread.
struct Found {
    known: Vec<Row>,
    places: Vec<Row>,
}

fn lookup(db: &mut Db, chunk: &[&trustmap_core::Asset], empty: bool) -> Result<Found, Error> {
    if empty {
        return Ok(Found {
            known: Vec::new(),
            places: Vec::new(),
        });
    }
    let ids: Vec<String> = chunk.iter().map(|a| a.id.clone()).collect();
    let known = db.query_in("SELECT id, rid, state FROM assets WHERE id IN ({in})", &ids)?;
    let known_rids: Vec<i64> = known.iter().map(|r| r.int(1)).collect();
    let places = db.query_in_ints(
        "SELECT asset_rid, path, container, rid, line FROM occurrences
         WHERE asset_rid IN ({in})",
        &known_rids,
    )?;
    Ok(Found { known, places })
}

/// The running state of a scan's ingest, handed from chunk to chunk: the next keys, what
/// the scan saw, and the audit chain.
struct Builder<'r> {
    scan_id: &'r str,
    now: &'r str,
    seq: i64,
    next_asset: i64,
    next_place: i64,
    rid_of: HashMap<&'r str, i64>,
    saw_assets: RoaringBitmap,
    saw_places: RoaringBitmap,
    new_rids: RoaringBitmap,
    first_seen: Vec<String>,
    issuers: BTreeSet<String>,
    audit: audit::AuditWriter,
}

/// One chunk's writes.
#[derive(Default)]
struct Rows<'r> {
    assets: Vec<Vec<Val>>,
    facts: Vec<Vec<Val>>,
    places: Vec<Vec<Val>>,
    owners: Vec<Vec<Val>>,
    events: Vec<Vec<Val>>,
    /// Known assets whose facts or inferred owners changed: (key, asset, facts, state).
    changed: Vec<(i64, &'r trustmap_core::Asset, String, String)>,
    line_updates: Vec<(i64, Option<i64>)>,
}

impl<'r> Builder<'r> {
    /// The rows of one chunk; no database access, so it runs beside the writes.
    fn build(
        &mut self,
        chunk: &[&'r trustmap_core::Asset],
        found: Found,
    ) -> Result<Rows<'r>, Error> {
        let known: HashMap<String, (i64, String)> = found
            .known
            .into_iter()
            .map(|r| {
                let (rid, state) = (r.int(1), r.text(2));
                (r.into_text(0), (rid, state))
            })
            .collect();
        let mut places: HashMap<i64, Places> = HashMap::new();
        for r in found.places {
            let (asset, prid, line) = (r.int(0), r.int(3), r.opt_int(4));
            let mut cells = r.0.into_iter();
            let path = cells.nth(1).map(Cell::into_text).unwrap_or_default();
            let container = cells.next().map(Cell::into_text).unwrap_or_default();
            places
                .entry(asset)
                .or_default()
                .insert((path, container), (prid, line));
        }
        let now = self.now;
        let prepared = prepare(chunk, &known, self.scan_id);
        let mut rows = Rows::default();
        for (a, (facts_text, inferred, state, first_seen_data)) in chunk.iter().zip(prepared) {
            let q = QueryColumns::of(a);
            let rid = match known.get(&a.id) {
                None => {
                    let rid = self.next_asset;
                    self.next_asset += 1;
                    self.new_rids.insert(member(rid)?);
                    if let Some(i) = &q.issuer {
                        self.issuers.insert(i.clone());
                    }
                    rows.assets.push(vec![
                        Val::Int(rid),
                        a.id.as_str().into(),
                        a.kind.as_str().into(),
                        a.fingerprint.as_str().into(),
                        Val::Text(a.label()),
                        now.into(),
                        Val::Int(self.seq),
                        now.into(),
                        Val::Int(1),
                        Val::Text(state),
                        q.not_after.into(),
                        q.issuer.into(),
                        q.algorithm.into(),
                    ]);
                    rows.facts.push(vec![Val::Int(rid), Val::Text(facts_text)]);
                    for (role, name, source) in &inferred {
                        rows.owners.push(vec![
                            Val::Int(rid),
                            role.into(),
                            name.into(),
                            source.into(),
                            Val::Int(0),
                            now.into(),
                        ]);
                    }
                    self.first_seen.push(a.id.clone());
                    self.audit.append_text(
                        now,
                        "asset-first-seen",
                        &a.id,
                        first_seen_data.unwrap_or_default(),
                    );
                    rid
                }
                Some((rid, old_state)) => {
                    if *old_state != state {
                        if let Some(i) = &q.issuer {
                            self.issuers.insert(i.clone());
                        }
                        rows.changed.push((*rid, *a, facts_text, state));
                    }
                    *rid
                }
            };
            self.rid_of.insert(a.id.as_str(), rid);
            self.saw_assets.insert(member(rid)?);
            let recorded = places.get(&rid);
            let mut this_asset = BTreeSet::new();
            for o in &a.occurrences {
                let container = o.container.as_deref().unwrap_or_default();
                if !this_asset.insert((o.path.as_str(), container)) {
                    continue;
                }
                let line = o.line.map(|l| l as i64);
                match recorded.and_then(|p| p.get(&(o.path.clone(), container.to_string()))) {
                    Some((prid, old_line)) => {
                        self.saw_places.insert(member(*prid)?);
                        if *old_line != line {
                            rows.line_updates.push((*prid, line));
                        }
                    }
                    None => {
                        let prid = self.next_place;
                        self.next_place += 1;
                        self.saw_places.insert(member(prid)?);
                        rows.places.push(vec![
                            Val::Int(prid),
                            Val::Int(rid),
                            o.path.as_str().into(),
                            container.into(),
                            line.into(),
                            now.into(),
                        ]);
                    }
                }
            }
        }
        rows.events = self.audit.take_pending();
        Ok(rows)
    }
}

/// Writes one chunk's rows; owner changes of known assets are queued in `owner_events`
/// (audited after the last chunk, once the audit chain is back from the builder).
fn write_rows(
    db: &mut Db,
    rows: &mut Rows<'_>,
    now: &str,
    scan_id: &str,
    owner_events: &mut Vec<(String, serde_json::Value)>,
    timer: &mut Timer,
) -> Result<(), Error> {
    db.insert_rows("assets", ASSET_COLUMNS, &rows.assets)?;
    timer.lap("writing assets");
    db.insert_rows("asset_facts", &["rid", "facts"], &rows.facts)?;
    timer.lap("writing facts");
    db.insert_rows("occurrences", PLACE_COLUMNS, &rows.places)?;
    timer.lap("writing places");
    for (prid, line) in rows.line_updates.drain(..) {
        db.exec(
            "UPDATE occurrences SET line = ? WHERE rid = ?",
            &[line.into(), Val::Int(prid)],
        )?;
    }
    update_changed(
        db,
        &rows.changed,
        now,
        scan_id,
        &mut rows.owners,
        owner_events,
    )?;
    timer.lap("updating changed assets");
    db.insert_rows("owners", OWNER_COLUMNS, &rows.owners)?;
    timer.lap("writing owners");
    audit::write_events(db, &rows.events)?;
    timer.lap("writing audit events");
    Ok(())
}

/// While a bulk load writes a SQLite file, asks the kernel four times a second to write
/// out what has been written so far, so the disk works beside the load instead of all at
/// the commit's fsync (the file is a few GB and the kernel would otherwise hold it all in
/// dirty pages). Only durability work moves; the commit still syncs.
fn flush_behind(path: std::path::PathBuf, loading: &std::sync::atomic::AtomicBool) {
    let Ok(file) = std::fs::File::open(&path) else {
        return;
    };
    while loading.load(std::sync::atomic::Ordering::Relaxed) {
        std::thread::sleep(std::time::Duration::from_millis(250));
        let _ = file.sync_data();
    }
}

/// Clears a flag when dropped.
struct Stop<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Wall-clock time per phase of an ingest, printed to stderr at the end when
/// `TRUSTMAP_STORE_TIMINGS` is set (how the phase numbers in BENCHMARKS.md are taken).
struct Timer {
    on: bool,
    last: std::time::Instant,
    phases: Vec<(&'static str, f64)>,
}

impl Timer {
    fn new() -> Timer {
        Timer {
            on: std::env::var_os("TRUSTMAP_STORE_TIMINGS").is_some(),
            last: std::time::Instant::now(),
            phases: Vec::new(),
        }
    }

    /// Adds the time since the previous lap to `phase`.
    fn lap(&mut self, phase: &'static str) {
        if !self.on {
            return;
        }
        let t = self.last.elapsed().as_secs_f64();
        self.last = std::time::Instant::now();
        match self.phases.iter_mut().find(|p| p.0 == phase) {
            Some(p) => p.1 += t,
            None => self.phases.push((phase, t)),
        }
    }

    fn report(&mut self, phase: &'static str) {
        self.lap(phase);
        for (p, t) in &self.phases {
            eprintln!("store: {p}: {t:.2} s");
        }
    }
}

/// Before a bulk load (a large first scan) into an empty SQLite inventory, switches to the
/// rollback journal, so the load is written once ([`Db::rollback_journal`]). Returns
/// whether it switched; the caller switches back to WAL when the transaction ends.
pub(crate) fn bulk_journal(db: &mut Db, report: &Report, bulk_load: usize) -> Result<bool, Error> {
    if db.backend() != crate::db::Backend::Sqlite || report.assets.len() < bulk_load {
        return Ok(false);
    }
    if db
        .query_one("SELECT rid FROM assets LIMIT 1", &[])?
        .is_some()
    {
        return Ok(false);
    }
    db.rollback_journal(true)
}

pub(crate) fn write_scan(
    db: &mut Db,
    report: &Report,
    meta: &ScanMeta,
    bulk_load: usize,
) -> Result<ScanRecord, Error> {
    let mut timer = Timer::new();
    let scan = &report.scan;
    if db
        .query_one(
            "SELECT seq FROM scans WHERE id = ?",
            &[scan.id.as_str().into()],
        )?
        .is_some()
    {
        return Err(Error::DuplicateScan(scan.id.clone()));
    }
    let seq = db
        .query_one("SELECT MAX(seq) FROM scans", &[])?
        .and_then(|r| r.opt_int(0))
        .unwrap_or(0)
        + 1;
    let previous = db
        .query_one(
            "SELECT id, seq, finished_at FROM scans WHERE roots_key = ? ORDER BY seq DESC LIMIT 1",
            &[meta.roots_key.as_str().into()],
        )?
        .map(|r| (r.text(0), r.int(1), r.text(2)));
    let mut counts = serde_json::Map::new();
    counts.insert("assets".into(), report.assets.len().into());
    for k in AssetKind::ALL {
        let n = report.assets.iter().filter(|a| a.kind == k).count();
        if n > 0 {
            counts.insert(k.as_str().into(), n.into());
        }
    }
    counts.insert("findings".into(), report.findings.len().into());
    counts.insert("errors".into(), report.errors.len().into());
    let counts = serde_json::Value::Object(counts);
    let roots = serde_json::to_string(&scan.roots).unwrap_or_default();
    db.exec(
        "INSERT INTO scans (id, seq, started_at, finished_at, roots, roots_key, host, tool_version,
                            files_scanned, bytes_scanned, counts)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            scan.id.as_str().into(),
            Val::Int(seq),
            scan.started_at.as_str().into(),
            meta.finished_at.as_str().into(),
            Val::Text(roots),
            meta.roots_key.as_str().into(),
            meta.host.as_str().into(),
            report.tool.version.as_str().into(),
            Val::Int(scan.files_scanned as i64),
            Val::Int(scan.bytes_scanned as i64),
            Val::Text(counts.to_string()),
        ],
    )?;
    let mut audit = audit::AuditWriter::load(db)?;
    audit.append(
        &scan.started_at,
        "scan-started",
        &scan.id,
        serde_json::json!({"roots": scan.roots, "host": meta.host}),
    );
    let now = meta.finished_at.as_str();

    // Each asset once (the scanner already deduplicates).
    let mut seen_ids = std::collections::HashSet::with_capacity(report.assets.len());
    let assets: Vec<&trustmap_core::Asset> = report
        .assets
        .iter()
        .filter(|a| seen_ids.insert(a.id.as_str()))
        .collect();

    let next_asset = next_key(db, "assets")?;
    let next_place = next_key(db, "occurrences")?;
    // An empty inventory (the first scan) has nothing to look up. A large first scan is a
    // bulk load: the query indexes are rebuilt once at the end instead of grown entry by
    // entry (nothing is looked up meanwhile, so nothing misses them).
    let empty = next_asset == 1;
    let bulk = empty && assets.len() >= bulk_load;
    if bulk {
        crate::schema::bulk_load_indexes(db, false)?;
    }
    timer.lap("starting (scan row, dropping indexes)");
    let mut builder = Some(Builder {
        scan_id: &scan.id,
        now,
        seq,
        next_asset,
        next_place,
        rid_of: HashMap::with_capacity(assets.len()),
        saw_assets: RoaringBitmap::new(),
        saw_places: RoaringBitmap::new(),
        new_rids: RoaringBitmap::new(),
        first_seen: Vec::new(),
        issuers: BTreeSet::new(),
        audit,
    });
    // A two-stage pipeline: this thread does the database work (looking up chunk k+1,
    // writing chunk k-1) while another builds chunk k's rows (serializing, hashing,
    // chaining audit events). Chunks are built in order, so keys and the audit chain are
    // assigned in report order.
    let mut owner_events = Vec::new();
    let loading = std::sync::atomic::AtomicBool::new(bulk);
    std::thread::scope(|s| -> Result<(), Error> {
        // However this scope ends (done, an error, a panic), the flusher stops, so the
        // scope's join of it returns.
        let _stop = Stop(&loading);
        if let Some(path) = db.sqlite_path().filter(|_| bulk) {
            s.spawn(|| flush_behind(path, &loading));
        }
        let mut building = None;
        // Written rows are freed by the thread that allocated them: glibc's malloc makes
        // frees from another thread several times slower.
        let mut spent: Option<Rows> = None;
        let mut chunks = assets.chunks(CHUNK);
        loop {
            let next = match chunks.next() {
                Some(chunk) => Some((chunk, lookup(db, chunk, empty)?)),
                None => None,
            };
            timer.lap("lookups");
            let built = match building.take() {
                Some(h) => {
                    let (b, rows): (Builder, Result<Rows, Error>) =
                        std::thread::ScopedJoinHandle::join(h)
                            .expect("building rows does not panic");
                    builder = Some(b);
                    Some(rows?)
                }
                None => None,
            };
            timer.lap("waiting for rows");
            if let Some((chunk, found)) = next {
                let mut b = builder.take().expect("the builder is back");
                let spent = spent.take();
                building = Some(s.spawn(move || {
                    drop(spent);
                    let rows = b.build(chunk, found);
                    (b, rows)
                }));
            }
            match built {
                Some(mut rows) => {
                    write_rows(db, &mut rows, now, &scan.id, &mut owner_events, &mut timer)?;
                    spent = Some(rows);
                }
                None if building.is_none() => break,
                None => {}
            }
        }
        Ok(())
    })?;
    let Some(Builder {
        rid_of,
        saw_assets,
        saw_places,
        new_rids,
        first_seen,
        issuers,
        mut audit,
        ..
    }) = builder
    else {
        unreachable!("the builder is back after the last chunk")
    };
    for (subject, data) in owner_events {
        audit.append(now, "owner-changed", &subject, data);
    }
    if bulk {
        crate::schema::bulk_load_indexes(db, true)?;
        timer.lap("building indexes");
    }
    db.bulk(
        "INSERT INTO issuers (name)",
        &issuers
            .into_iter()
            .map(|i| vec![Val::Text(i)])
            .collect::<Vec<_>>(),
        "ON CONFLICT DO NOTHING",
    )?;

    // Relations between assets of this report.
    let mut seen_relations = BTreeSet::new();
    let rows: Vec<Vec<Val>> = report
        .relations
        .iter()
        .filter_map(|r| {
            let (f, t) = (rid_of.get(r.from.as_str())?, rid_of.get(r.to.as_str())?);
            seen_relations.insert((*f, *t, r.kind.as_str())).then(|| {
                vec![
                    Val::Int(*f),
                    Val::Int(*t),
                    r.kind.as_str().into(),
                    now.into(),
                ]
            })
        })
        .collect();
    db.bulk(
        "INSERT INTO relations (from_rid, to_rid, type, first_seen)",
        &rows,
        "ON CONFLICT DO NOTHING",
    )?;

    sets::save(db, seq, sets::ASSETS, &saw_assets)?;
    sets::save(db, seq, sets::PLACES, &saw_places)?;

    // Live counts: +1 for what this roots' previous scan did not see (new assets were
    // inserted live), -1 for what it saw and this one did not.
    let (before_assets, before_places) = match &previous {
        Some((_, pseq, _)) => (
            sets::load(db, *pseq, sets::ASSETS)?,
            sets::load(db, *pseq, sets::PLACES)?,
        ),
        None => (RoaringBitmap::new(), RoaringBitmap::new()),
    };
    let came: Vec<Val> = (&(&saw_assets - &before_assets) - &new_rids)
        .iter()
        .map(|r| Val::Int(r.into()))
        .collect();
    db.query_in_vals(
        "UPDATE assets SET live = live + 1 WHERE rid IN ({in})",
        &[],
        &came,
    )?;
    let went: Vec<Val> = (&before_assets - &saw_assets)
        .iter()
        .map(|r| Val::Int(r.into()))
        .collect();
    if let Some((_, _, pfinished)) = &previous {
        db.query_in_vals(
            "UPDATE assets SET live = live - 1,
                 last_seen = CASE WHEN last_seen < ? THEN ? ELSE last_seen END
             WHERE rid IN ({in})",
            &[pfinished.as_str().into(), pfinished.as_str().into()],
            &went,
        )?;
    }

    let diff = match &previous {
        Some((pid, _, _)) => {
            let d = diff_sets(
                db,
                pid,
                &scan.id,
                (&before_assets, &before_places),
                (&saw_assets, &saw_places),
            )?;
            for r in &d.rotated {
                audit.append(
                    now,
                    "rotated",
                    &r.to,
                    serde_json::json!({"path": r.path, "container": r.container, "kind": r.kind,
                                       "from": r.from, "to": r.to, "scan": scan.id}),
                );
            }
            let rotated_away: BTreeSet<&str> = d.rotated.iter().map(|r| r.from.as_str()).collect();
            for g in d.gone.iter().map(String::as_str).chain(rotated_away) {
                if !seen_ids.contains(g) {
                    audit.append(
                        now,
                        "asset-gone",
                        g,
                        serde_json::json!({"previous_scan": pid, "scan": scan.id, "roots": scan.roots}),
                    );
                }
            }
            Some(d)
        }
        None => None,
    };
    audit.append(
        now,
        "scan-finished",
        &scan.id,
        serde_json::json!({
            "counts": counts,
            "first_seen": first_seen.len(),
            "gone": diff.as_ref().map_or(0, |d| d.gone.len()),
            "rotated": diff.as_ref().map_or(0, |d| d.rotated.len()),
        }),
    );
    audit.flush(db)?;
    timer.report("the rest (relations, sets, live counts, diff)");
    Ok(ScanRecord {
        id: scan.id.clone(),
        seq,
        previous: previous.map(|p| p.0),
        first_seen,
        diff,
    })
}

/// Known assets whose facts or inferred owners changed: rewrite them, replace the inferred
/// owners (queued into `owner_rows`), and queue an event for each effective owner change.
fn update_changed(
    db: &mut Db,
    changed: &[(i64, &trustmap_core::Asset, String, String)],
    now: &str,
    scan_id: &str,
    owner_rows: &mut Vec<Vec<Val>>,
    owner_events: &mut Vec<(String, serde_json::Value)>,
) -> Result<(), Error> {
    if changed.is_empty() {
        return Ok(());
    }
    let rids: Vec<i64> = changed.iter().map(|c| c.0).collect();
    let mut owners_before: BTreeMap<i64, Vec<OwnerRow>> = BTreeMap::new();
    for r in db.query_in_ints(
        "SELECT asset_rid, role, name, source, explicit FROM owners WHERE asset_rid IN ({in})
         ORDER BY asset_rid, role, explicit DESC, name",
        &rids,
    )? {
        owners_before
            .entry(r.int(0))
            .or_default()
            .push(owner_row(&r, 1));
    }
    let mut replaced = Vec::new();
    for (rid, a, facts, state) in changed {
        let q = QueryColumns::of(a);
        db.exec(
            "UPDATE assets SET label = ?, state = ?, not_after = ?, issuer = ?, algorithm = ?
             WHERE rid = ?",
            &[
                Val::Text(a.label()),
                state.as_str().into(),
                q.not_after.into(),
                q.issuer.into(),
                q.algorithm.into(),
                Val::Int(*rid),
            ],
        )?;
        db.exec(
            "UPDATE asset_facts SET facts = ? WHERE rid = ?",
            &[Val::Text(facts.clone()), Val::Int(*rid)],
        )?;
        let before = owners_before.remove(rid).unwrap_or_default();
        let old: BTreeSet<(String, String, String)> = before
            .iter()
            .filter(|o| !o.explicit)
            .map(|o| (o.role.clone(), o.name.clone(), o.source.clone()))
            .collect();
        let new = owners_key(&a.owners);
        if old == new {
            continue;
        }
        replaced.push(*rid);
        for (role, name, source) in &new {
            owner_rows.push(vec![
                Val::Int(*rid),
                role.into(),
                name.into(),
                source.into(),
                Val::Int(0),
                now.into(),
            ]);
        }
        let mut b = before.clone();
        mark_effective(&mut b);
        let mut after: Vec<OwnerRow> = before.iter().filter(|o| o.explicit).cloned().collect();
        after.extend(new.iter().map(|(role, name, source)| OwnerRow {
            role: role.clone(),
            name: name.clone(),
            source: source.clone(),
            explicit: false,
            effective: false,
        }));
        mark_effective(&mut after);
        for role in ["owner", "backup"] {
            let (from, to) = (effective(&b, role).0, effective(&after, role).0);
            if from != to {
                owner_events.push((
                    a.id.clone(),
                    serde_json::json!({"role": role, "from": from, "to": to,
                                       "source": "inferred", "scan": scan_id}),
                ));
            }
        }
    }
    db.query_in_ints(
        "DELETE FROM owners WHERE explicit = 0 AND asset_rid IN ({in})",
        &replaced,
    )?;
    Ok(())
}

/// One place a scan saw.
struct Place {
    asset_rid: i64,
    asset: String,
    kind: String,
    path: String,
    container: String,
}

fn load_places(db: &mut Db, rids: &RoaringBitmap) -> Result<Vec<Place>, Error> {
    let list: Vec<i64> = rids.iter().map(i64::from).collect();
    Ok(db
        .query_in_ints(
            "SELECT o.asset_rid, a.id, a.kind, o.path, o.container
             FROM occurrences o JOIN assets a ON a.rid = o.asset_rid WHERE o.rid IN ({in})",
            &list,
        )?
        .iter()
        .map(|r| Place {
            asset_rid: r.int(0),
            asset: r.text(1),
            kind: r.text(2),
            path: r.text(3),
            container: r.text(4),
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
    // Places (asset at path) only one of the two scans saw.
    let only_a = load_places(db, &(a_places - b_places))?;
    let only_b = load_places(db, &(b_places - a_places))?;

    // Rotations: the same (path, container, kind) lost one asset and gained another.
    type Loc = (String, String, String);
    let mut at: BTreeMap<Loc, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for p in &only_a {
        at.entry((p.path.clone(), p.container.clone(), p.kind.clone()))
            .or_default()
            .0
            .insert(p.asset.clone());
    }
    for p in &only_b {
        if let Some(e) = at.get_mut(&(p.path.clone(), p.container.clone(), p.kind.clone())) {
            e.1.insert(p.asset.clone());
        }
    }
    let mut rotated = Vec::new();
    for ((path, container, kind), (removed, added)) in at {
        let removed: Vec<&String> = removed.difference(&added).collect();
        let added: Vec<&String> = added.iter().filter(|x| !removed.contains(x)).collect();
        for (f, t) in removed.iter().zip(added.iter()) {
            rotated.push(Rotation {
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

    // Moves: seen by both scans, at a path in one that the other did not see it at.
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
            "SELECT rid, path FROM occurrences WHERE asset_rid = ?",
            &[Val::Int(rid)],
        )? {
            let prid = r.int(0) as u32;
            if a_places.contains(prid) {
                from.insert(r.text(1));
            }
            if b_places.contains(prid) {
                to.insert(r.text(1));
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
