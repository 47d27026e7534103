//! Query timing on an inventory already loaded (by the `ingest` example):
//! `cargo run --release -p trustmap-store --example query -- TARGET [RUNS]`
//! (TARGET: a SQLite path or a postgres:// URL). Times the filtered queries of
//! `trustmap assets` that `ingest` times (count, first 100 rows, every row), RUNS times
//! (default 3), and prints a digest of each answer so two builds can be checked to agree.

mod common;

use sha2::{Digest, Sha256};
use std::time::Instant;
use trustmap_store::{AssetQuery, AssetRow, Store};

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// The first 12 hex digits of a hash of every field of `rows`, in order.
fn digest(rows: &[AssetRow]) -> String {
    let mut h = Sha256::new();
    for r in rows {
        h.update(format!("{r:?}\n").as_bytes());
    }
    hex::encode(h.finalize())[..12].to_string()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let target = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "/tmp/trustmap-ingest.db".into());
    let runs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3);
    let mut store = Store::open(&target).expect("open");
    let queries = common::filters();
    for run in 1..=runs {
        println!("run {run}");
        for (label, q) in &queries {
            let t = Instant::now();
            let count = store.count_assets(q).expect("count");
            let count_ms = ms(t);
            let t = Instant::now();
            let page = store
                .assets(&AssetQuery {
                    limit: Some(100),
                    ..q.clone()
                })
                .expect("query");
            let page_ms = ms(t);
            let t = Instant::now();
            let all = store.assets(q).expect("query");
            let all_ms = ms(t);
            assert_eq!(all.len() as u64, count);
            assert_eq!(page.len(), all.len().min(100));
            let digests = (digest(&page), digest(&all));
            println!(
                "  assets {label}: count {count} in {count_ms:.0} ms; first 100 rows in {page_ms:.0} ms; all rows in {all_ms:.0} ms; digest {} / {}",
                digests.0, digests.1
            );
        }
    }
}
