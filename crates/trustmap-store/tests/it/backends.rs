//! The store as a library, on SQLite always and on PostgreSQL when `TRUSTMAP_TEST_PG_URL`
//! is set: transactions, migrations, the audit chain.

use trustmap_core::{Asset, AssetKind, Report, asset_id, fingerprint};
use trustmap_store::{ScanMeta, Store};

fn targets(test: &str) -> Vec<crate::common::Target> {
    crate::common::targets("lib", test)
}

fn cert(seed: &str, path: &str) -> Asset {
    crate::common::cert(seed, path)
}

fn report(id: &str, assets: Vec<Asset>) -> Report {
    crate::common::report(id, &["/srv"], assets)
}

fn meta() -> ScanMeta {
    crate::common::meta("test", &[("/srv", "/srv")], "2026-01-01T00:00:01Z")
}

#[test]
fn a_dropped_scan_transaction_leaves_nothing_behind() {
    for t in targets("dropped") {
        let s = Store::open(&t.url).unwrap();
        s.record_scan(&report("scan_1", vec![cert("a", "a.crt")]), &meta())
            .unwrap();
        {
            let pending = s
                .begin_scan(&report("scan_2", vec![cert("b", "a.crt")]), &meta())
                .unwrap();
            drop(pending);
        }
        assert_eq!(s.scans().unwrap().len(), 1, "{}", t.url);
        assert_eq!(s.assets(&Default::default()).unwrap().len(), 1);
        let v = s.verify_audit().unwrap();
        assert!(v.broken.is_none());
        // The same scan id can be recorded now, and shows the rotation.
        let rec = s
            .record_scan(&report("scan_2", vec![cert("b", "a.crt")]), &meta())
            .unwrap();
        let d = rec.diff.unwrap();
        assert_eq!(d.rotated.len(), 1);
        assert_eq!(d.rotated[0].path, "a.crt");
        // Recording a scan id twice is refused, and leaves the store as it was.
        let again = s.record_scan(&report("scan_2", vec![cert("c", "c.crt")]), &meta());
        assert!(matches!(again, Err(trustmap_store::Error::Conflict(_))));
        assert_eq!(
            again.unwrap_err().kind(),
            trustmap_store::ErrorKind::Conflict
        );
        let all = trustmap_store::AssetQuery {
            include_gone: true,
            ..Default::default()
        };
        assert_eq!(s.assets(&all).unwrap().len(), 2);
        // Only the replacement is there now.
        let now = s.assets(&Default::default()).unwrap();
        assert_eq!(now.len(), 1);
        assert_eq!(now[0].id, d.rotated[0].to);
    }
}

#[test]
fn migrations_are_idempotent_and_recorded() {
    for t in targets("idempotent") {
        for _ in 0..3 {
            let s = Store::open(&t.url).unwrap();
            assert_eq!(s.schema_version().unwrap(), Store::latest_schema_version());
        }
        let s = Store::open(&t.url).unwrap();
        s.record_scan(&report("scan_1", vec![cert("a", "a.crt")]), &meta())
            .unwrap();
        let s2 = Store::open(&t.url).unwrap();
        drop(s2);
        assert_eq!(s.scans().unwrap().len(), 1);
    }
}

#[test]
fn a_newer_schema_is_refused_not_damaged() {
    for t in targets("newer") {
        let s = Store::open(&t.url).unwrap();
        s.execute_raw(
            "INSERT INTO schema_migrations (version, name, applied_at)
             VALUES (999, 'from the future', '2030-01-01T00:00:00Z')",
        )
        .unwrap();
        drop(s);
        let err = Store::open(&t.url).err().expect("refused");
        assert!(err.to_string().contains("newer"), "{err}");
    }
}

#[test]
fn a_bulk_load_rebuilds_the_query_indexes() {
    for t in targets("bulk") {
        let s = Store::open(&t.url).unwrap();
        let indexes = s.index_names().unwrap();
        assert!(
            indexes.contains(&"occurrences_path".to_string()),
            "{indexes:?}"
        );
        s.set_bulk_load_threshold(10);
        let certs = |range: std::ops::Range<usize>| -> Vec<Asset> {
            range
                .map(|i| cert(&format!("c{i}"), &format!("d{}/c{i}.crt", i % 5)))
                .collect()
        };
        // 40 assets into an empty inventory: a bulk load.
        let rec = s
            .record_scan(&report("scan_1", certs(0..40)), &meta())
            .unwrap();
        assert_eq!(rec.first_seen.len(), 40);
        assert_eq!(
            s.index_names().unwrap(),
            indexes,
            "indexes rebuilt as they were"
        );
        // Including the unique one on asset ids.
        let duplicate = s.execute_raw(
            "INSERT INTO assets (rid, id, kind, fingerprint, label, first_seen, first_scan,
                                 last_seen, live, state)
             SELECT rid + 1000, id, kind, fingerprint, label, first_seen, first_scan,
                    last_seen, live, state FROM assets WHERE rid = 1",
        );
        assert!(duplicate.is_err(), "asset ids stay unique");
        let q = |glob: &str| trustmap_store::AssetQuery {
            path_glob: Some(glob.into()),
            kind: Some(trustmap_core::AssetKind::Certificate),
            ..Default::default()
        };
        assert_eq!(s.count_assets(&q("d3/*")).unwrap(), 8);
        // 45 into an inventory of 40: row by row, through the rebuilt indexes.
        let mut meta2 = meta();
        meta2.finished_at = "2026-11-02T00:00:00Z".into();
        let rec = s
            .record_scan(&report("scan_2", certs(0..45)), &meta2)
            .unwrap();
        assert_eq!(rec.first_seen.len(), 5);
        assert_eq!(s.count_assets(&q("d3/*")).unwrap(), 9);
        assert_eq!(s.count_assets(&q("*")).unwrap(), 45);
        let page = s
            .assets(&trustmap_store::AssetQuery {
                limit: Some(2),
                ..q("*")
            })
            .unwrap();
        assert_eq!(page.len(), 2);
        assert_eq!(page[0].first_seen, meta().finished_at);
        assert_eq!(page[0].last_seen, "2026-11-02T00:00:00Z");
    }
}

/// SQLite's journal mode, read from the file.
fn journal_mode(path: &str) -> String {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap()
}

fn certs(n: usize) -> Vec<Asset> {
    (0..n)
        .map(|i| cert(&format!("j{i}"), &format!("d/j{i}.crt")))
        .collect()
}

#[test]
fn a_bulk_load_goes_through_the_rollback_journal_and_back_to_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.db").to_string_lossy().into_owned();
    let s = Store::open(&path).unwrap();
    s.set_bulk_load_threshold(10);
    let pending = s.begin_scan(&report("scan_1", certs(40)), &meta()).unwrap();
    // Mid-load: a rollback journal, no write-ahead log growing beside it.
    assert_eq!(journal_mode(&path), "delete");
    assert!(std::path::Path::new(&format!("{path}-journal")).exists());
    pending.commit().unwrap();
    assert_eq!(journal_mode(&path), "wal");
    assert_eq!(
        s.count_assets(&trustmap_store::AssetQuery::default())
            .unwrap(),
        40
    );
    // A new database gets 16 KiB pages.
    let page_size: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    assert_eq!(page_size, 16384);

    // With another connection open the switch is refused and the load goes through WAL.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db").to_string_lossy().into_owned();
    let s = Store::open(&path).unwrap();
    let other = Store::open(&path).unwrap();
    s.set_bulk_load_threshold(10);
    let pending = s.begin_scan(&report("scan_1", certs(40)), &meta()).unwrap();
    assert!(!std::path::Path::new(&format!("{path}-journal")).exists());
    pending.commit().unwrap();
    assert_eq!(journal_mode(&path), "wal");
    assert_eq!(
        other
            .count_assets(&trustmap_store::AssetQuery::default())
            .unwrap(),
        40
    );
}

#[test]
fn a_killed_bulk_load_leaves_an_empty_store() {
    // The child: start a bulk load and die with the transaction open.
    if let Ok(path) = std::env::var("TRUSTMAP_TEST_KILLED_BULK_LOAD") {
        let s = Store::open(&path).unwrap();
        s.set_bulk_load_threshold(10);
        let _pending = s
            .begin_scan(&report("scan_1", certs(400)), &meta())
            .unwrap();
        std::process::abort();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("killed.db").to_string_lossy().into_owned();
    drop(Store::open(&path).unwrap());
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "backends::a_killed_bulk_load_leaves_an_empty_store",
            "--nocapture",
        ])
        .env("TRUSTMAP_TEST_KILLED_BULK_LOAD", &path)
        .output()
        .unwrap();
    assert!(!child.status.success(), "the child was killed");
    // It died mid-load: its rollback journal is still there (a "hot" journal).
    assert!(std::path::Path::new(&format!("{path}-journal")).exists());

    let s = Store::open(&path).unwrap();
    assert_eq!(journal_mode(&path), "wal");
    assert!(s.scans().unwrap().is_empty());
    assert_eq!(
        s.count_assets(&trustmap_store::AssetQuery::default())
            .unwrap(),
        0
    );
    assert_eq!(s.verify_audit().unwrap().events, 0);
    let rec = s
        .record_scan(&report("scan_1", certs(400)), &meta())
        .unwrap();
    assert_eq!(rec.first_seen.len(), 400);
}

/// The store's `--quantum-vulnerable` filter and the policy's `key-quantum-vulnerable` rule
/// read one list: with two RSA and two RSASSA-PSS keys, both count four (the store's own
/// list once lacked RSASSA-PSS and counted two).
#[test]
fn the_quantum_filter_and_the_policy_agree_on_rsa_pss() {
    let keys: Vec<Asset> = ["RSA", "RSA", "RSASSA-PSS", "RSASSA-PSS"]
        .iter()
        .enumerate()
        .map(|(i, alg)| {
            let fp = fingerprint(format!("key {i}").as_bytes());
            let mut a = cert(&format!("unused {i}"), &format!("k{i}.pem"));
            a.id = asset_id(AssetKind::PrivateKey, &fp);
            a.kind = AssetKind::PrivateKey;
            a.fingerprint = fp;
            a.key = Some(trustmap_core::KeyInfo {
                algorithm: alg.to_string(),
                bits: Some(3072),
                ..Default::default()
            });
            a
        })
        .collect();
    let now = time::OffsetDateTime::now_utc();
    let flagged = trustmap_core::policy::evaluate(&keys, &[], now)
        .iter()
        .filter(|f| f.rule == trustmap_core::RuleId::KeyQuantumVulnerable)
        .count();
    assert_eq!(flagged, 4);
    for t in targets("pqlist") {
        let store = Store::open(&t.url).unwrap();
        store
            .record_scan(&report("scan_pq", keys.clone()), &meta())
            .unwrap();
        let q = trustmap_store::AssetQuery {
            quantum_vulnerable: true,
            now: now.into(),
            ..Default::default()
        };
        assert_eq!(store.count_assets(&q).unwrap(), 4, "{}", t.url);
    }
}
