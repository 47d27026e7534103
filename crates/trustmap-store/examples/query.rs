//! Query timing on an inventory already loaded (by the `ingest` example):
//! `cargo run --release -p trustmap-store --example query -- TARGET [RUNS]`
//! (TARGET: a SQLite path or a postgres:// URL). Times the filtered queries of
//! `trustmap assets` that `ingest` times (count, first 100 rows, every row), RUNS times
//! (default 3), and prints a digest of each answer so two builds can be checked to agree.

mod common;

use trustmap_store::Store;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let target = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "/tmp/trustmap-ingest.db".into());
    let runs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3);
    let store = Store::open(&target).expect("open");
    let queries = common::filters();
    for run in 1..=runs {
        println!("run {run}");
        for (label, q) in &queries {
            println!("  {}", common::time(&store, q).line(label));
        }
    }
}
