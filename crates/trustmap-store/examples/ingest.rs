//! Ingest and query timing on a generated inventory:
//! `cargo run --release -p trustmap-store --example ingest -- N TARGET [SCANS]`
//! (TARGET: a SQLite path or a postgres:// URL; SCANS: stop after that many of the three
//! scans, skipping the queries, to time or profile one phase). Generates N assets with 3
//! places each and records three scans of them (all new; unchanged; 1% rotated, gone and
//! new), then times the filtered queries of `trustmap assets`, `diff`, `show` and
//! `audit verify`.
//!
//! It first prints a machine reference (see `machine_reference`): the shared VM this is
//! benchmarked on runs at very different speeds from day to day, so a run's numbers are only
//! comparable with another's alongside their references.

mod common;

use common::report;
use std::time::Instant;
use trustmap_store::{ScanMeta, ScanRoot, Store};

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Seconds the bundled SQLite takes to fill an in-memory table with 2M path-like strings and
/// index them: most of what a first load does, without trustmap's code or the disk. Printed
/// with every run so that a slower or faster day of the shared VM can be told apart from a
/// change in the code. (A plain integer sort was tried as the reference and did not show a
/// day on which SQLite ran 2.2x slower.)
fn machine_reference() -> f64 {
    let db = rusqlite::Connection::open_in_memory().expect("in-memory SQLite");
    let t = Instant::now();
    db.execute_batch(
        "CREATE TABLE t (x TEXT);
         WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 2000000)
         INSERT INTO t SELECT printf('svc%d/etc/tls/%d.pem', i * 7919 % 1000, i * 104729 % 1000003)
         FROM c;
         CREATE INDEX t_x ON t (x);",
    )
    .expect("SQLite reference");
    t.elapsed().as_secs_f64()
}

fn main() {
    println!(
        "machine reference: SQLite wrote and indexed 2M rows in memory in {:.2} s",
        machine_reference()
    );
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let target = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "/tmp/trustmap-ingest.db".into());
    let scans: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(3);
    let store = Store::open(&target).expect("open");
    let meta = ScanMeta {
        host: "bench".into(),
        roots: vec![ScanRoot {
            given: "/srv".into(),
            canonical: "/srv".into(),
        }],
        finished_at: "2026-11-01T00:01:00Z".into(),
    };
    for (label, id, generation) in [
        ("scan 1 (all new)", "scan_b1", 0),
        ("scan 2 (all known, unchanged)", "scan_b2", 0),
        ("scan 3 (1% rotated, 1% gone, 1% new)", "scan_b3", 2),
    ]
    .into_iter()
    .take(scans)
    {
        let r = report(id, n, generation);
        let places: usize = r.assets.iter().map(|a| a.occurrences.len()).sum();
        let t = Instant::now();
        let pending = store.begin_scan(&r, &meta).expect("record");
        let written = t.elapsed().as_secs_f64();
        pending.commit().expect("commit");
        let s = t.elapsed().as_secs_f64();
        println!(
            "  written in {written:.2} s, committed in {:.2} s",
            s - written
        );
        println!(
            "{label}: {} assets, {places} occurrences in {s:.2} s = {:.0} assets/s",
            r.assets.len(),
            r.assets.len() as f64 / s
        );
    }
    if !trustmap_store::is_postgres_url(&target)
        && let Ok(m) = std::fs::metadata(&target)
    {
        println!("database size: {:.0} MB", m.len() as f64 / 1e6);
    }
    if scans < 3 {
        return;
    }
    let queries = common::filters();
    for (label, q) in queries {
        println!("{}", common::time(&store, &q).line(label));
    }
    for (from, to) in [("scan_b1", "scan_b2"), ("scan_b2", "scan_b3")] {
        let t = Instant::now();
        let d = store.diff(from, to).expect("diff");
        println!(
            "diff {from} {to}: {} new, {} gone, {} rotated, {} moved in {:.0} ms",
            d.new.len(),
            d.gone.len(),
            d.rotated.len(),
            d.moved.len(),
            ms(t)
        );
    }
    let id = report("x", 1, 0).assets[0].id.clone();
    let t = Instant::now();
    let shown = store.show(&id).expect("show");
    println!(
        "show {id}: {} places, {} scans in {:.0} ms",
        shown.occurrences.len(),
        shown.scans.len(),
        ms(t)
    );
    let t = Instant::now();
    let v = store.verify_audit().expect("verify");
    println!("audit verify: {} events in {:.0} ms", v.events, ms(t));
}
