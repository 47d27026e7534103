//! Writing a scan into the inventory ([`write_scan`], inside the transaction
//! [`crate::Store::begin_scan`] opened).
//!
//! Built for a million assets: assets and places get integer keys assigned here (under the
//! write lock, so no RETURNING round trips); what is new is inserted with the backend's
//! fastest plain insert; what is known is only read back (key, state hash, places), and
//! rewritten only when its facts or inferred owners changed; which scans saw what is one
//! bitmap per scan ([`crate::sets`]); `assets.live` (how many roots' latest scan saw it) is
//! adjusted only for the assets that came or went.
//!
//! A place is identified by (host, canonical root, path, container): the scan's host, the
//! root the place was found under ([`crate::ScanRoot`]), and the place itself.

use crate::db::{Cell, Db, Row, Val};
use crate::error::Error;
use crate::facts::{QueryColumns, facts_text};
use crate::owners::{OwnerRow, effective, mark_effective, owner_row};
use crate::record::{ScanMeta, ScanRecord};
use crate::scans::{Diff, diff_sets, roots_key};
use crate::sets::{self, member};
use crate::{audit, schema};
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
    "host",
    "root",
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

/// The inferred owners of a report's asset: its owners but the explicit ones, which the
/// engine copied from this store into the report (they stay as [`crate::Store::set_owner`]
/// set them).
pub(crate) fn owners_key(owners: &[Owner]) -> BTreeSet<(String, String, String)> {
    owners
        .iter()
        .filter(|o| {
            o.source != crate::owners::EXPLICIT && crate::rules::source_rule(&o.source).is_none()
        })
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

/// An asset's recorded places on this scan's host: (root, path, container) -> (place key,
/// line).
type Places = HashMap<(String, String, String), (i64, Option<i64>)>;

/// A scan's roots as its places name them: each given root's canonical form.
struct Roots {
    by_given: HashMap<String, String>,
    /// For places that name no root: the scan's only root, else empty.
    only: String,
}

/// A root without its trailing `/` (but `/` stays `/`), as the scanner names roots.
fn trim_root(s: &str) -> &str {
    match s.trim_end_matches('/') {
        "" if !s.is_empty() => "/",
        t => t,
    }
}

impl Roots {
    fn of(meta: &ScanMeta) -> Roots {
        let by_given = meta
            .roots
            .iter()
            .map(|r| {
                (
                    trim_root(&r.given).to_string(),
                    trim_root(&r.canonical).to_string(),
                )
            })
            .collect();
        let only = match meta.roots.as_slice() {
            [one] => trim_root(&one.canonical).to_string(),
            _ => String::new(),
        };
        Roots { by_given, only }
    }

    /// The canonical root of a place found under `given` (a root the scan does not list
    /// stands for itself).
    fn canonical<'a>(&'a self, given: Option<&'a str>) -> &'a str {
        match given {
            None => &self.only,
            Some(g) => {
                let g = trim_root(g);
                self.by_given.get(g).map_or(g, String::as_str)
            }
        }
    }

    /// The canonical roots, for the scan's roots key.
    fn all(&self) -> Vec<&str> {
        self.by_given.values().map(String::as_str).collect()
    }
}

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
        "SELECT asset_rid, path, container, rid, line, host, root FROM occurrences
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
    /// The scan's host and roots: with a path and container, a place's identity.
    host: &'r str,
    roots: &'r Roots,
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
            let host = cells.nth(2).map(Cell::into_text).unwrap_or_default();
            // Places on other hosts are other places.
            if host != self.host {
                continue;
            }
            let root = cells.next().map(Cell::into_text).unwrap_or_default();
            places
                .entry(asset)
                .or_default()
                .insert((root, path, container), (prid, line));
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
                let root = self.roots.canonical(o.root.as_deref());
                if !this_asset.insert((root, o.path.as_str(), container)) {
                    continue;
                }
                let line = o.line.map(|l| l as i64);
                let key = || (root.to_string(), o.path.clone(), container.to_string());
                match recorded.and_then(|p| p.get(&key())) {
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
                            self.host.into(),
                            root.into(),
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
    let Some(file) = kept_open(&path) else {
        return;
    };
    while loading.load(std::sync::atomic::Ordering::Relaxed) {
        std::thread::sleep(std::time::Duration::from_millis(250));
        let _ = file.sync_data();
    }
}

/// A handle on `path` that stays open until the process ends.
///
/// Closing any descriptor of a file drops every POSIX advisory lock the process holds on
/// it, SQLite's included (sqlite.org/howtocorrupt.html, 2.2). A handle opened and closed
/// here during a bulk load released the loader's write lock mid-transaction: another
/// process then took the rollback journal for a hot one, rolled it back and deleted it,
/// and the loader's commit failed with "disk I/O error: File being deleted does not
/// exist" after its pages were written. So the handle is never closed (one per database
/// file per process).
fn kept_open(path: &std::path::Path) -> Option<std::sync::Arc<std::fs::File>> {
    type Handles = Vec<(std::path::PathBuf, std::sync::Arc<std::fs::File>)>;
    static HANDLES: std::sync::Mutex<Handles> = std::sync::Mutex::new(Vec::new());
    let mut handles = HANDLES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, f)) = handles.iter().find(|(p, _)| p == path) {
        return Some(std::sync::Arc::clone(f));
    }
    let file = std::sync::Arc::new(std::fs::File::open(path).ok()?);
    handles.push((path.to_path_buf(), std::sync::Arc::clone(&file)));
    Some(file)
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

/// Whether the inventory holds no asset yet (a large first scan is then a bulk load).
pub(crate) fn is_empty(db: &mut Db) -> Result<bool, Error> {
    Ok(db
        .query_one("SELECT rid FROM assets LIMIT 1", &[])?
        .is_none())
}

/// The previous scan of the same host and roots: (id, seq, finished at).
type Previous = (String, i64, String);

/// Writes `report` as scan `seq` inside the open transaction: the scan row, the assets and
/// places in chunks, relations, the scan's sets, live counts, the diff against the previous
/// scan of the same host and roots, and the audit events, in that order.
pub(crate) fn write_scan(
    db: &mut Db,
    report: &Report,
    meta: &ScanMeta,
    bulk_load: usize,
    pushed_by: Option<&str>,
) -> Result<ScanRecord, Error> {
    let mut timer = Timer::new();
    let scan = &report.scan;
    let host = meta.host_for(report);
    let roots = Roots::of(meta);
    let key = roots_key(host, &roots.all());
    refuse_duplicate(db, &scan.id)?;
    let seq = next_seq(db)?;
    let previous = previous_scan(db, &key)?;
    let counts = scan_counts(report);
    insert_scan_row(db, report, meta, seq, &key, host, &counts)?;
    let mut audit = audit::AuditWriter::load(db)?;
    audit.append(
        &scan.started_at.to_string(),
        "scan-started",
        &scan.id,
        match pushed_by {
            // Pushed to the server: the token that pushed it.
            Some(by) => serde_json::json!({"roots": scan.roots, "host": host, "pushed_by": by}),
            None => serde_json::json!({"roots": scan.roots, "host": host}),
        },
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
        schema::bulk_load_indexes(db, false)?;
    }
    timer.lap("starting (scan row, dropping indexes)");
    let builder = Builder {
        scan_id: &scan.id,
        now,
        host,
        roots: &roots,
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
    };
    let (builder, owner_events) =
        write_assets(db, builder, &assets, empty, bulk, &scan.id, &mut timer)?;
    let Builder {
        rid_of,
        saw_assets,
        saw_places,
        new_rids,
        first_seen,
        issuers,
        mut audit,
        ..
    } = builder;
    for (subject, data) in owner_events {
        audit.append(now, "owner-changed", &subject, data);
    }
    if bulk {
        schema::bulk_load_indexes(db, true)?;
        timer.lap("building indexes");
    }
    write_issuers(db, issuers)?;
    write_relations(db, report, &rid_of, now)?;
    crate::rules::apply_to_scan(db, &assets, &rid_of, host, now, &mut audit)?;
    sets::save(db, seq, sets::ASSETS, &saw_assets)?;
    sets::save(db, seq, sets::PLACES, &saw_places)?;
    // An inventory opened at an older version (tests of migrations) has no findings table.
    let findings_digest = if schema::current_version(db)? >= crate::findings::SINCE_VERSION {
        Some(crate::findings::write(
            db,
            seq,
            report,
            meta.roots
                .iter()
                .map(|r| (r.given.clone(), r.canonical.clone()))
                .collect(),
            &rid_of,
        )?)
    } else {
        None
    };
    let before = update_live_counts(db, previous.as_ref(), &saw_assets, &new_rids)?;
    timer.lap("relations, rules, sets, live counts");
    // What depends on what, and what is present, changed: the kept blast radius follows.
    crate::reach::rebuild(db)?;
    timer.lap("blast radius (reach)");
    let diff = match &previous {
        Some((pid, _, _)) => {
            let d = diff_sets(
                db,
                pid,
                &scan.id,
                (&before.0, &before.1),
                (&saw_assets, &saw_places),
            )?;
            audit_changes(&mut audit, &d, pid, report, host, &seen_ids, now);
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
            "findings_sha256": findings_digest,
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

/// A scan id is recorded once.
fn refuse_duplicate(db: &mut Db, id: &str) -> Result<(), Error> {
    if db
        .query_one("SELECT seq FROM scans WHERE id = ?", &[id.into()])?
        .is_some()
    {
        return Err(Error::Conflict(format!("scan {id} is already recorded")));
    }
    Ok(())
}

/// The next scan sequence number (under the write lock, so scans are numbered in order).
fn next_seq(db: &mut Db) -> Result<i64, Error> {
    Ok(db
        .query_one("SELECT MAX(seq) FROM scans", &[])?
        .and_then(|r| r.opt_int(0))
        .unwrap_or(0)
        + 1)
}

fn previous_scan(db: &mut Db, roots_key: &str) -> Result<Option<Previous>, Error> {
    Ok(db
        .query_one(
            "SELECT id, seq, finished_at FROM scans WHERE roots_key = ? ORDER BY seq DESC LIMIT 1",
            &[roots_key.into()],
        )?
        .map(|r| (r.text(0), r.int(1), r.text(2))))
}

/// The scan's counts: assets, per kind, findings, errors.
fn scan_counts(report: &Report) -> serde_json::Value {
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
    serde_json::Value::Object(counts)
}

fn insert_scan_row(
    db: &mut Db,
    report: &Report,
    meta: &ScanMeta,
    seq: i64,
    roots_key: &str,
    host: &str,
    counts: &serde_json::Value,
) -> Result<(), Error> {
    let scan = &report.scan;
    let roots = serde_json::to_string(&scan.roots).unwrap_or_default();
    db.exec(
        "INSERT INTO scans (id, seq, started_at, finished_at, roots, roots_key, host, tool_version,
                            files_scanned, bytes_scanned, counts)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            scan.id.as_str().into(),
            Val::Int(seq),
            Val::Text(scan.started_at.to_string()),
            meta.finished_at.as_str().into(),
            Val::Text(roots),
            roots_key.into(),
            host.into(),
            report.tool.version.as_str().into(),
            Val::Int(scan.files_scanned as i64),
            Val::Int(scan.bytes_scanned as i64),
            Val::Text(counts.to_string()),
        ],
    )?;
    Ok(())
}

/// The assets, their facts, places and owners, chunk by chunk, in a two-stage pipeline:
/// this thread does the database work (looking up chunk k+1, writing chunk k-1) while
/// another builds chunk k's rows (serializing, hashing, chaining audit events). Chunks are
/// built in order, so keys and the audit chain are assigned in report order. Returns the
/// builder (what the scan saw) and the owner changes of known assets, to audit.
fn write_assets<'r>(
    db: &mut Db,
    builder: Builder<'r>,
    assets: &[&'r trustmap_core::Asset],
    empty: bool,
    bulk: bool,
    scan_id: &str,
    timer: &mut Timer,
) -> Result<(Builder<'r>, Vec<(String, serde_json::Value)>), Error> {
    let now = builder.now;
    let mut builder = Some(builder);
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
                    write_rows(db, &mut rows, now, scan_id, &mut owner_events, timer)?;
                    spent = Some(rows);
                }
                None if building.is_none() => break,
                None => {}
            }
        }
        Ok(())
    })?;
    let builder = builder.expect("the builder is back after the last chunk");
    Ok((builder, owner_events))
}

/// Issuers not seen before (the `--issuer` filter matches against these).
fn write_issuers(db: &mut Db, issuers: BTreeSet<String>) -> Result<(), Error> {
    db.bulk(
        "INSERT INTO issuers (name)",
        &issuers
            .into_iter()
            .map(|i| vec![Val::Text(i)])
            .collect::<Vec<_>>(),
        "ON CONFLICT DO NOTHING",
    )?;
    Ok(())
}

/// Relations between assets of this report.
fn write_relations(
    db: &mut Db,
    report: &Report,
    rid_of: &HashMap<&str, i64>,
    now: &str,
) -> Result<(), Error> {
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
    Ok(())
}

/// Live counts: +1 for what this roots' previous scan did not see (new assets were inserted
/// live), -1 for what it saw and this one did not. Returns the previous scan's sets
/// (assets, places), empty without one.
fn update_live_counts(
    db: &mut Db,
    previous: Option<&Previous>,
    saw_assets: &RoaringBitmap,
    new_rids: &RoaringBitmap,
) -> Result<(RoaringBitmap, RoaringBitmap), Error> {
    let (before_assets, before_places) = match previous {
        Some((_, pseq, _)) => (
            sets::load(db, *pseq, sets::ASSETS)?,
            sets::load(db, *pseq, sets::PLACES)?,
        ),
        None => (RoaringBitmap::new(), RoaringBitmap::new()),
    };
    let came: Vec<Val> = (&(saw_assets - &before_assets) - new_rids)
        .iter()
        .map(|r| Val::Int(r.into()))
        .collect();
    db.query_in_vals(
        "UPDATE assets SET live = live + 1 WHERE rid IN ({in})",
        &[],
        &came,
    )?;
    let went: Vec<Val> = (&before_assets - saw_assets)
        .iter()
        .map(|r| Val::Int(r.into()))
        .collect();
    if let Some((_, _, pfinished)) = previous {
        db.query_in_vals(
            "UPDATE assets SET live = live - 1,
                 last_seen = CASE WHEN last_seen < ? THEN ? ELSE last_seen END
             WHERE rid IN ({in})",
            &[pfinished.as_str().into(), pfinished.as_str().into()],
            &went,
        )?;
    }
    Ok((before_assets, before_places))
}

/// Audit events for a diff against the previous scan: each rotation, and each asset gone
/// (or rotated away) that this report does not hold elsewhere.
fn audit_changes(
    audit: &mut audit::AuditWriter,
    d: &Diff,
    previous_id: &str,
    report: &Report,
    host: &str,
    seen_ids: &std::collections::HashSet<&str>,
    now: &str,
) {
    let scan = &report.scan;
    for r in &d.rotated {
        audit.append(
            now,
            "rotated",
            &r.to,
            serde_json::json!({"host": r.host, "root": r.root, "path": r.path,
                               "container": r.container, "kind": r.kind,
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
                serde_json::json!({"previous_scan": previous_id, "scan": scan.id,
                                   "host": host, "roots": scan.roots}),
            );
        }
    }
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
