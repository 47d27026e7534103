//! Places know their host and root: identity (host, canonical root, path, container),
//! liveness per place, the host filter, migration 8 carrying old inventories forward, and
//! path globs that match the same on both backends.

use crate::common::{cert, cert_at, meta, occurrence, report, targets};
use trustmap_store::{AssetQuery, Store};

const T1: &str = "2026-01-01T00:00:01Z";
const T2: &str = "2026-01-02T00:00:01Z";
const T3: &str = "2026-01-03T00:00:01Z";

fn srv(host: &str, at: &str) -> trustmap_store::ScanMeta {
    meta(host, &[("/srv", "/srv")], at)
}

#[test]
fn two_hosts_holding_one_path_are_two_places_and_each_goes_on_its_own() {
    for t in targets("places", "hosts") {
        let s = Store::open(&t.url).unwrap();
        let x = cert("x", "etc/tls.crt");
        let y = cert("y", "etc/other.crt");
        let a1 = s
            .record_scan(
                &report("scan_a1", &["/srv"], vec![x.clone(), y.clone()]),
                &srv("hostA", T1),
            )
            .unwrap();
        assert!(a1.previous.is_none());
        // hostB's scan of the same root is another history, not a rescan of hostA's.
        let b1 = s
            .record_scan(
                &report("scan_b1", &["/srv"], vec![x.clone()]),
                &srv("hostB", T1),
            )
            .unwrap();
        assert!(b1.previous.is_none(), "[{}] {b1:?}", t.name);
        assert!(b1.first_seen.is_empty());

        let shown = s.show(&x.id).unwrap();
        let places: Vec<(String, String, String)> = shown
            .occurrences
            .iter()
            .map(|o| (o.host.clone(), o.root.clone(), o.path.clone()))
            .collect();
        assert_eq!(
            places,
            vec![
                ("hostA".into(), "/srv".into(), "etc/tls.crt".into()),
                ("hostB".into(), "/srv".into(), "etc/tls.crt".into()),
            ],
            "[{}]",
            t.name
        );
        let row = &s.assets(&AssetQuery::default()).unwrap()[0];
        assert_eq!(row.id, x.id);
        assert_eq!(row.paths, vec!["hostA:etc/tls.crt", "hostB:etc/tls.crt"]);
        assert!(row.places.iter().all(|p| p.present));
        // The host is the metadata's, not the report's own idea of it.
        let scans = s.scans().unwrap();
        assert_eq!(scans[0].host, "hostA");

        // hostA loses the file: its diff says gone, and only hostB's place is present.
        let a2 = s
            .record_scan(
                &report("scan_a2", &["/srv"], vec![y.clone()]),
                &srv("hostA", T2),
            )
            .unwrap();
        assert_eq!(a2.previous.as_deref(), Some("scan_a1"));
        let d = s.diff("scan_a1", "scan_a2").unwrap();
        assert_eq!(d.gone, vec![x.id.clone()], "[{}] {d:?}", t.name);
        assert!(d.new.is_empty() && d.moved.is_empty() && d.rotated.is_empty());
        let listed = s.assets(&AssetQuery::default()).unwrap();
        let row = listed.iter().find(|r| r.id == x.id).expect("hostB has it");
        assert_eq!(row.paths[0], "hostB:etc/tls.crt", "[{}] {row:?}", t.name);
        let present: Vec<String> = row
            .places
            .iter()
            .filter(|p| p.present)
            .map(|p| p.place.to_string())
            .collect();
        assert_eq!(present, vec!["hostB:etc/tls.crt"], "[{}]", t.name);
        let shown = s.show(&x.id).unwrap();
        assert!(shown.row.present);
        let gone_place = shown
            .occurrences
            .iter()
            .find(|o| o.host == "hostA")
            .unwrap();
        assert!(!gone_place.present);
        assert_eq!(gone_place.last_seen, T1);

        // The host filter: places on that host (ever seen there).
        let on = |host: &str, glob: Option<&str>| {
            let mut ids: Vec<String> = s
                .assets(&AssetQuery {
                    host: Some(host.into()),
                    path_glob: glob.map(str::to_string),
                    ..Default::default()
                })
                .unwrap()
                .into_iter()
                .map(|r| r.id)
                .collect();
            ids.sort();
            ids
        };
        assert_eq!(on("hostB", None), vec![x.id.clone()], "[{}]", t.name);
        assert_eq!(on("hostB", Some("etc/other.crt")), Vec::<String>::new());
        assert_eq!(on("hostA", Some("etc/other.crt")), vec![y.id.clone()]);
        assert!(on("hostC", None).is_empty());

        // hostB loses it too: gone everywhere.
        s.record_scan(&report("scan_b2", &["/srv"], vec![]), &srv("hostB", T3))
            .unwrap();
        let listed = s.assets(&AssetQuery::default()).unwrap();
        assert!(listed.iter().all(|r| r.id != x.id), "[{}]", t.name);
    }
}

#[test]
fn the_same_path_under_two_roots_of_one_host_is_two_places() {
    for t in targets("places", "roots") {
        let s = Store::open(&t.url).unwrap();
        // One scan of two roots (paths carry the root's name, as the scanner writes them),
        // then each root alone.
        let both = cert_at(
            "x",
            vec![
                occurrence("hostA/etc/tls.crt", Some("hostA/")),
                occurrence("hostB/etc/tls.crt", Some("hostB")),
            ],
        );
        let roots = [("hostA/", "/t/hostA"), ("hostB", "/t/hostB")];
        s.record_scan(
            &report("scan_1", &["hostA/", "hostB"], vec![both.clone()]),
            &meta("h", &roots, T1),
        )
        .unwrap();
        let shown = s.show(&both.id).unwrap();
        let roots_seen: Vec<&str> = shown.occurrences.iter().map(|o| o.root.as_str()).collect();
        assert_eq!(roots_seen, vec!["/t/hostA", "/t/hostB"], "[{}]", t.name);

        let a = |seed: &str| cert_at(seed, vec![occurrence("etc/tls.crt", Some("hostA"))]);
        let b = |seed: &str| cert_at(seed, vec![occurrence("etc/tls.crt", Some("hostB"))]);
        s.record_scan(
            &report("scan_a", &["hostA"], vec![a("x")]),
            &meta("h", &[("hostA", "/t/hostA")], T1),
        )
        .unwrap();
        s.record_scan(
            &report("scan_b", &["hostB"], vec![b("x")]),
            &meta("h", &[("hostB", "/t/hostB")], T1),
        )
        .unwrap();
        let shown = s.show(&both.id).unwrap();
        assert_eq!(shown.occurrences.len(), 4, "[{}] {shown:#?}", t.name);
        // A rotation under hostA's root is named by that root.
        let rec = s
            .record_scan(
                &report("scan_a2", &["hostA"], vec![a("x2")]),
                &meta("h", &[("hostA", "/t/hostA")], T2),
            )
            .unwrap();
        let d = rec.diff.unwrap();
        assert_eq!(d.rotated.len(), 1, "[{}] {d:?}", t.name);
        assert_eq!(
            (d.rotated[0].host.as_str(), d.rotated[0].root.as_str()),
            ("h", "/t/hostA")
        );
        assert_eq!(d.rotated[0].place().to_string(), "h:etc/tls.crt");
        // hostB's place still holds the old one.
        let x_row = s
            .assets(&AssetQuery::default())
            .unwrap()
            .into_iter()
            .find(|r| r.id == both.id)
            .expect("still under hostB");
        let present: Vec<(&str, &str)> = x_row
            .places
            .iter()
            .filter(|p| p.present)
            .map(|p| (p.place.root.as_str(), p.place.path.as_str()))
            .collect();
        // (The two-root scan is still the latest of its roots: its places stay present.)
        assert_eq!(
            present,
            vec![
                ("/t/hostA", "hostA/etc/tls.crt"),
                ("/t/hostB", "etc/tls.crt"),
                ("/t/hostB", "hostB/etc/tls.crt"),
            ],
            "[{}]",
            t.name
        );
    }
}

#[test]
fn the_report_host_stands_in_when_the_metadata_names_none() {
    for t in targets("places", "reporthost") {
        let s = Store::open(&t.url).unwrap();
        s.record_scan(
            &report("scan_1", &["/srv"], vec![cert("x", "a.crt")]),
            &srv("", T1),
        )
        .unwrap();
        assert_eq!(s.scans().unwrap()[0].host, "scanner-says");
        let row = &s.assets(&AssetQuery::default()).unwrap()[0];
        assert_eq!(row.paths, vec!["scanner-says:a.crt"], "[{}]", t.name);
    }
}

#[test]
fn migration_8_gives_old_places_the_host_and_root_of_the_scans_that_saw_them() {
    for t in targets("places", "migrate8") {
        {
            let s = Store::open_at_version(&t.url, 4).unwrap();
            // Two hosts scanned /srv (one roots key then), a third scanned two roots.
            s.execute_raw(
                r#"INSERT INTO scans (id, seq, started_at, finished_at, roots, roots_key, host,
                       tool_version, files_scanned, bytes_scanned, counts)
                   VALUES ('scan_1', 1, '2025-01-01T00:00:00Z', '2025-01-01T00:00:05Z',
                       '["/srv"]', '["/srv"]', 'hostA', '0.0.1', 1, 1, '{"assets":1}'),
                          ('scan_2', 2, '2025-01-02T00:00:00Z', '2025-01-02T00:00:05Z',
                       '["/srv"]', '["/srv"]', 'hostB', '0.0.1', 1, 1, '{"assets":1}'),
                          ('scan_3', 3, '2025-01-03T00:00:00Z', '2025-01-03T00:00:05Z',
                       '["a","b"]', '["/a","/b"]', 'hostC', '0.0.1', 1, 1, '{"assets":2}');
                   INSERT INTO assets (id, kind, fingerprint, label, facts, first_seen, last_seen,
                       first_scan, last_scan)
                   VALUES ('crt_00000000000000aa', 'certificate', 'sha256:aa', 'a', '{}',
                       '2025-01-01T00:00:05Z', '2025-01-02T00:00:05Z', 'scan_1', 'scan_2'),
                          ('crt_00000000000000bb', 'certificate', 'sha256:bb', 'b', '{}',
                       '2025-01-03T00:00:05Z', '2025-01-03T00:00:05Z', 'scan_3', 'scan_3');
                   INSERT INTO occurrences (asset_id, path, container, line, first_seen, last_seen)
                   VALUES ('crt_00000000000000aa', 'etc/tls.crt', '', 1,
                       '2025-01-01T00:00:05Z', '2025-01-02T00:00:05Z'),
                          ('crt_00000000000000bb', 'a/b.crt', '', 1,
                       '2025-01-03T00:00:05Z', '2025-01-03T00:00:05Z'),
                          ('crt_00000000000000aa', 'b/a.crt', '', 1,
                       '2025-01-03T00:00:05Z', '2025-01-03T00:00:05Z');
                   INSERT INTO asset_scans (scan_seq, asset_id) VALUES
                       (1, 'crt_00000000000000aa'), (2, 'crt_00000000000000aa'),
                       (3, 'crt_00000000000000bb'), (3, 'crt_00000000000000aa');
                   INSERT INTO occurrence_scans (scan_seq, occurrence_id, line) VALUES
                       (1, 1, 1), (2, 1, 1), (3, 2, 1), (3, 3, 1);"#,
            )
            .unwrap();
        }
        let s = Store::open(&t.url).unwrap();
        assert_eq!(s.schema_version().unwrap(), Store::latest_schema_version());
        let a = s.show("crt_00000000000000aa").unwrap();
        let places: Vec<(&str, &str, &str)> = a
            .occurrences
            .iter()
            .map(|o| (o.host.as_str(), o.root.as_str(), o.path.as_str()))
            .collect();
        assert_eq!(
            places,
            vec![
                ("hostA", "/srv", "etc/tls.crt"),
                ("hostB", "/srv", "etc/tls.crt"),
                ("hostC", "", "b/a.crt")
            ],
            "[{}]",
            t.name
        );
        let b = s.show("crt_00000000000000bb").unwrap();
        assert_eq!(b.occurrences[0].host, "hostC");
        // Roots keys name the host now: hostB's scan no longer follows hostA's.
        assert_eq!(s.previous_scan("scan_2").unwrap(), None, "[{}]", t.name);
        // Live by the new keys: scan_1 (hostA /srv), scan_2 (hostB /srv), scan_3 all current.
        assert_eq!(
            s.query_raw("SELECT live FROM assets WHERE id = 'crt_00000000000000aa'")
                .unwrap(),
            vec![vec!["3".to_string()]],
            "[{}]",
            t.name
        );
        assert!(
            s.index_names()
                .unwrap()
                .contains(&"occurrences_host".to_string())
        );
        // hostA scanning /srv again finds its place: nothing new, gone or moved.
        let again = trustmap_core::Asset {
            id: "crt_00000000000000aa".into(),
            fingerprint: "sha256:aa".into(),
            ..cert("unused", "etc/tls.crt")
        };
        let rec = s
            .record_scan(
                &report("scan_4", &["/srv"], vec![again]),
                &srv("hostA", "2026-01-01T00:00:00Z"),
            )
            .unwrap();
        assert_eq!(rec.previous.as_deref(), Some("scan_1"), "[{}]", t.name);
        let d = rec.diff.unwrap();
        assert!(
            d.new.is_empty() && d.gone.is_empty() && d.moved.is_empty(),
            "[{}] {d:?}",
            t.name
        );
        // hostB, which shared the one old place, has a place of its own: no move either.
        let again_b = trustmap_core::Asset {
            id: "crt_00000000000000aa".into(),
            fingerprint: "sha256:aa".into(),
            ..cert("unused", "etc/tls.crt")
        };
        let rec = s
            .record_scan(
                &report("scan_5", &["/srv"], vec![again_b]),
                &srv("hostB", "2026-01-02T00:00:00Z"),
            )
            .unwrap();
        assert_eq!(rec.previous.as_deref(), Some("scan_2"), "[{}]", t.name);
        let d = rec.diff.unwrap();
        assert!(
            d.new.is_empty() && d.gone.is_empty() && d.moved.is_empty(),
            "[{}] {d:?}",
            t.name
        );
        assert!(s.verify_audit().unwrap().broken.is_none());
    }
}

/// Paths that tell the glob features apart.
const PATHS: &[&str] = &[
    "a/x.pem",
    "a/y.pem",
    "b/x.pem",
    "c/x.pem",
    "a/b/c.pem",
    "A/x.pem",
    "100%.pem",
    "100_x.pem",
    "1000.pem",
    "[x].pem",
    "x]y.pem",
    "-.pem",
    "^.pem",
    "a.b",
    "axb",
];

#[test]
fn path_globs_match_the_same_on_both_backends() {
    let globs = [
        "*",
        "a/*",
        "*.pem",
        "a/?.pem",
        "?/?.pem",
        "[ab]/x.pem",
        "[a-b]/x.pem",
        "[^a]/x.pem",
        "[^a-b]/*",
        "a*c.pem",
        "100%*",
        "100_*",
        "*%*",
        "*_*",
        "[[]x].pem",
        "x[]]y.pem",
        "[-]*",
        "[^^]*.pem",
        "a.b",
        "a?b",
        "A/*",
        "[!a]/x.pem",
        "*/*/*",
    ];
    let mut answers: Vec<Vec<Vec<String>>> = Vec::new();
    for t in targets("places", "globs") {
        let s = Store::open(&t.url).unwrap();
        let assets = PATHS.iter().map(|p| cert(p, p)).collect();
        s.record_scan(&report("scan_1", &["/srv"], assets), &srv("h", T1))
            .unwrap();
        let answer: Vec<Vec<String>> = globs
            .iter()
            .map(|g| {
                let mut paths: Vec<String> = s
                    .assets(&AssetQuery {
                        path_glob: Some(g.to_string()),
                        ..Default::default()
                    })
                    .unwrap()
                    .into_iter()
                    .map(|r| r.places[0].place.path.clone())
                    .collect();
                paths.sort();
                let n = s
                    .count_assets(&AssetQuery {
                        path_glob: Some(g.to_string()),
                        ..Default::default()
                    })
                    .unwrap();
                assert_eq!(n as usize, paths.len(), "[{}] {g}", t.name);
                paths
            })
            .collect();
        let of = |g: &str| &answer[globs.iter().position(|x| *x == g).unwrap()];
        assert_eq!(of("*").len(), PATHS.len());
        assert_eq!(of("[ab]/x.pem"), &["a/x.pem", "b/x.pem"], "[{}]", t.name);
        assert_eq!(of("[^a]/x.pem"), &["A/x.pem", "b/x.pem", "c/x.pem"]);
        assert_eq!(of("100%*"), &["100%.pem"]);
        assert_eq!(of("100_*"), &["100_x.pem"], "[{}] _ is literal", t.name);
        assert_eq!(of("a*c.pem"), &["a/b/c.pem"], "* crosses /");
        assert_eq!(of("[[]x].pem"), &["[x].pem"]);
        assert_eq!(of("x[]]y.pem"), &["x]y.pem"]);
        assert_eq!(of("a.b"), &["a.b"], ". is literal");
        assert_eq!(of("a?b"), &["a.b", "axb"]);
        assert_eq!(of("A/*"), &["A/x.pem"], "case-sensitive");
        assert_eq!(of("[!a]/x.pem"), &["a/x.pem"], "! does not negate");
        answers.push(answer);
        // A malformed glob is refused, not silently empty.
        let bad = s.assets(&AssetQuery {
            path_glob: Some("[ab".into()),
            ..Default::default()
        });
        assert!(
            matches!(bad, Err(trustmap_store::Error::InvalidInput(_))),
            "[{}]",
            t.name
        );
    }
    if answers.len() == 2 {
        for (i, g) in globs.iter().enumerate() {
            assert_eq!(
                answers[0][i], answers[1][i],
                "SQLite and PostgreSQL differ on {g}"
            );
        }
    }
}
