//! What the `ingest` and `query` examples share: the filters of `trustmap assets` they time.

use sha2::{Digest, Sha256};
use std::time::Instant;
use trustmap_core::model::AssetKind;
use trustmap_core::timestamp::Timestamp;
use trustmap_store::{AssetQuery, AssetRow, Store};

/// The trustmap binary's allocator (see its Cargo.toml), so the numbers are the binary's.
/// (With glibc's, freeing a large answer also left the next query 0.2-0.4 s of merging
/// free chunks to do.)
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The five filters, as (the `trustmap assets` options, the query), on the generated
/// estate with "now" at 2026-11-01.
pub fn filters() -> Vec<(&'static str, AssetQuery)> {
    let now = Timestamp::parse("2026-11-01T00:00:00Z").expect("a valid instant");
    vec![
        (
            "--expiring 30d",
            AssetQuery {
                expiring_before: Timestamp::parse("2026-12-01T00:00:00Z"),
                now,
                ..Default::default()
            },
        ),
        (
            "--owner team-7",
            AssetQuery {
                owner: Some("team-7".into()),
                ..Default::default()
            },
        ),
        (
            "--path 'svc7/*'",
            AssetQuery {
                path_glob: Some("svc7/*".into()),
                ..Default::default()
            },
        ),
        (
            "--issuer 'CA 3' --expired",
            AssetQuery {
                issuer: Some("CA 3".into()),
                expired: true,
                now,
                ..Default::default()
            },
        ),
        (
            "--quantum-vulnerable --kind certificate",
            AssetQuery {
                quantum_vulnerable: true,
                kind: Some(AssetKind::Certificate),
                ..Default::default()
            },
        ),
    ]
}

/// One filter timed three ways: its count, its first page of 100, and every row.
pub struct Timed {
    pub count: u64,
    pub count_ms: f64,
    pub page: Vec<AssetRow>,
    pub page_ms: f64,
    pub all: Vec<AssetRow>,
    pub all_ms: f64,
}

impl Timed {
    /// The timings, and a digest of the first page and of every row (so two builds or two
    /// backends can be checked to give the same answers).
    pub fn line(&self, label: &str) -> String {
        format!(
            "assets {label}: count {} in {:.0} ms; first 100 rows in {:.0} ms; all rows in {:.0} ms; digest {} / {}",
            self.count,
            self.count_ms,
            self.page_ms,
            self.all_ms,
            digest(&self.page),
            digest(&self.all)
        )
    }
}

/// The first 12 hex digits of a hash of every field of `rows`, in order.
fn digest(rows: &[AssetRow]) -> String {
    let mut h = Sha256::new();
    for r in rows {
        h.update(format!("{r:?}\n").as_bytes());
    }
    hex::encode(h.finalize())[..12].to_string()
}

pub fn time(store: &Store, q: &AssetQuery) -> Timed {
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
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
    Timed {
        count,
        count_ms,
        page,
        page_ms,
        all,
        all_ms,
    }
}
