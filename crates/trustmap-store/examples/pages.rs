//! Cursor pages at any depth, on an inventory already loaded (by the `ingest` example):
//! `cargo run --release -p trustmap-store --example pages -- TARGET [RUNS]`. Times the first
//! page of 100 assets, and pages of 100 after a cursor at 10%, 50% and 99% of each kind's
//! rows (`Store::assets_page`, what `GET /api/v1/assets?cursor=` runs).

use std::time::Instant;
use trustmap_store::{AssetCursor, AssetQuery, Store};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let target = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "/tmp/trustmap-ingest.db".into());
    let runs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3);
    let store = Store::open_existing(&target).expect("open");
    let q = AssetQuery {
        limit: Some(100),
        ..Default::default()
    };
    let rows = store
        .query_raw("SELECT kind, MIN(rid), MAX(rid) FROM assets GROUP BY kind ORDER BY kind")
        .expect("kinds");
    for run in 1..=runs {
        let t = Instant::now();
        let first = store.assets_page(&q, None).expect("first page");
        println!(
            "run {run}: first page: {} rows in {:.1} ms",
            first.rows.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
        for r in &rows {
            let (lo, hi): (i64, i64) = (r[1].parse().unwrap(), r[2].parse().unwrap());
            for pct in [10, 50, 99] {
                let c = AssetCursor {
                    kind: r[0].clone(),
                    rid: lo + (hi - lo) * pct / 100,
                };
                let t = Instant::now();
                let page = store.assets_page(&q, Some(&c)).expect("page");
                println!(
                    "run {run}: {} at {pct}%: {} rows in {:.1} ms",
                    r[0],
                    page.rows.len(),
                    t.elapsed().as_secs_f64() * 1e3
                );
            }
        }
    }
}
