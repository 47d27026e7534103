//! One store, many threads: readers never wait for a writer, and one `Arc<Store>` serves
//! concurrent callers. On SQLite always, on PostgreSQL when `TRUSTMAP_TEST_PG_URL` is set.

use crate::common::{cert, meta, report, targets};
use std::sync::Arc;
use std::time::{Duration, Instant};
use trustmap_store::{AssetQuery, OwnerTarget, Store};

fn certs(prefix: &str, n: usize) -> Vec<trustmap_core::Asset> {
    (0..n)
        .map(|i| cert(&format!("{prefix}{i}"), &format!("d/{prefix}{i}.crt")))
        .collect()
}

const T0: &str = "2026-01-01T00:00:01Z";

#[test]
fn readers_never_wait_for_a_writer() {
    for t in targets("shared", "readers") {
        let writer = Store::open(&t.url).unwrap();
        let m = meta("h1", &[("/srv", "/srv")], T0);
        writer
            .record_scan(&report("scan_1", &["/srv"], certs("a", 3)), &m)
            .unwrap();
        // The writer holds its transaction (and the write lock) open for 3 s.
        let pending = writer
            .begin_scan(&report("scan_2", &["/srv"], certs("a", 6)), &m)
            .unwrap();
        let held = Instant::now();
        let readers: Vec<_> = (0..8)
            .map(|_| {
                let url = t.url.clone();
                std::thread::spawn(move || {
                    let start = Instant::now();
                    let s = Store::open(&url).unwrap();
                    let count = s.count_assets(&AssetQuery::default()).unwrap();
                    let scans = s.scans().unwrap().len();
                    let listed = s.assets(&AssetQuery::default()).unwrap().len();
                    (start.elapsed(), count, scans, listed)
                })
            })
            .collect();
        let results: Vec<_> = readers.into_iter().map(|r| r.join().unwrap()).collect();
        let all_read = held.elapsed();
        std::thread::sleep(Duration::from_secs(3).saturating_sub(held.elapsed()));
        pending.commit().unwrap();
        for (elapsed, count, scans, listed) in results {
            assert!(
                elapsed < Duration::from_secs(1),
                "[{}] a reader took {elapsed:?} while a write was open",
                t.name
            );
            // They saw the state before the write.
            assert_eq!((count, scans, listed), (3, 1, 3), "[{}]", t.name);
        }
        assert!(
            all_read < Duration::from_secs(3),
            "[{}] {all_read:?}",
            t.name
        );
        // And the write went through.
        let s = Store::open(&t.url).unwrap();
        assert_eq!(s.count_assets(&AssetQuery::default()).unwrap(), 6);
    }
}

#[test]
fn a_store_at_the_latest_schema_opens_while_a_raw_write_transaction_is_open() {
    // SQLite only: another process's BEGIN IMMEDIATE (not through the store) holds the
    // write lock; opening the store must not need it.
    let t = &targets("shared", "raw")[0];
    drop(Store::open(&t.url).unwrap());
    let other = rusqlite::Connection::open(&t.url).unwrap();
    other
        .execute_batch("BEGIN IMMEDIATE; INSERT INTO issuers (name) VALUES ('CN=x');")
        .unwrap();
    let start = Instant::now();
    let s = Store::open(&t.url).unwrap();
    assert_eq!(s.schema_version().unwrap(), Store::latest_schema_version());
    assert_eq!(s.count_assets(&AssetQuery::default()).unwrap(), 0);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    other.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn one_store_serves_eight_threads_at_once() {
    for t in targets("shared", "arc") {
        let store = Arc::new(Store::open(&t.url).unwrap());
        store
            .record_scan(
                &report("scan_0", &["/srv"], certs("base", 20)),
                &meta("h0", &[("/srv", "/srv")], T0),
            )
            .unwrap();
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let store = Arc::clone(&store);
                std::thread::spawn(move || {
                    for round in 0..5 {
                        if i % 2 == 0 {
                            // Writers: each its own host, so each scan is its own history.
                            let host = format!("host{i}");
                            let id = format!("scan_{i}_{round}");
                            store
                                .record_scan(
                                    &report(&id, &["/srv"], certs(&format!("t{i}r{round}"), 5)),
                                    &meta(&host, &[("/srv", "/srv")], T0),
                                )
                                .unwrap();
                            store
                                .set_owner(
                                    &OwnerTarget::PathGlob(format!("d/t{i}r{round}*")),
                                    Some(&format!("team-{i}")),
                                    None,
                                )
                                .unwrap();
                        } else {
                            let n = store.count_assets(&AssetQuery::default()).unwrap();
                            assert!(n >= 20);
                            store.scans().unwrap();
                            store.verify_audit().unwrap();
                        }
                    }
                })
            })
            .collect();
        for th in threads {
            th.join().unwrap();
        }
        assert_eq!(store.scans().unwrap().len(), 1 + 4 * 5, "[{}]", t.name);
        let v = store.verify_audit().unwrap();
        assert!(v.broken.is_none(), "[{}] {v:?}", t.name);
        // Each writer's hosts scan replaced its previous one: its last round is present.
        for i in [0, 2, 4, 6] {
            let q = AssetQuery {
                owner: Some(format!("team-{i}")),
                ..Default::default()
            };
            assert_eq!(store.count_assets(&q).unwrap(), 5, "[{}]", t.name);
        }
    }
}
