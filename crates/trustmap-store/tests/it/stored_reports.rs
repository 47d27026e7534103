//! Reports and findings kept per scan (migration 10): a recorded scan comes back as the
//! report it produced, findings are stored once across scans, "as of" picks the scans that
//! had finished by then, several hosts merge without mixing their places.

use std::collections::BTreeMap;
use trustmap_core::{
    Finding, Relation, RelationType, Report, ScanError, Severity, Timestamp, Waiver,
};
use trustmap_store::{ScanSelection, Store};

use crate::common::{cert_at, meta, occurrence, report, targets};

fn finding(rule: &str, severity: Severity, asset: &str, path: &str, message: &str) -> Finding {
    Finding {
        rule: rule.into(),
        severity,
        asset: asset.into(),
        path: Some(path.into()),
        line: Some(3),
        message: message.into(),
        frameworks: vec!["PCI-DSS-4.0:4.2.1".into()],
        evidence: BTreeMap::from([("not_after".into(), "2026-02-01T00:00:00Z".into())]),
        waiver: None,
        baselined: false,
    }
}

/// A scan of /srv: two certificates, one issued by the other, three findings (one waived),
/// one error, a policy.
fn first(id: &str) -> Report {
    let a = cert_at("a", vec![occurrence("a.crt", Some("/srv"))]);
    let b = cert_at(
        "b",
        vec![
            occurrence("b.crt", Some("/srv")),
            occurrence("copy/b.crt", Some("/srv")),
        ],
    );
    let mut assets = vec![a.clone(), b.clone()];
    // In the scanner's order: kind, then id.
    assets.sort_by(|x, y| (x.kind, &x.id).cmp(&(y.kind, &y.id)));
    let mut r = report(id, &["/srv"], assets);
    r.scan.policy = Some("trustmap.toml".into());
    r.scan.policy_ignored = vec!["rules.cert-wildcard = \"off\"".into()];
    r.scan.host = "hostA".into();
    r.relations = vec![Relation {
        from: a.id.clone(),
        to: b.id.clone(),
        kind: RelationType::IssuedBy,
    }];
    let mut waived = finding(
        "cert-self-signed-leaf",
        Severity::Medium,
        &b.id,
        "b.crt",
        "self-signed",
    );
    waived.waiver = Some(Waiver {
        by: "alice".into(),
        reason: "lab CA".into(),
        until: Timestamp::parse("2027-01-01T00:00:00Z").unwrap(),
    });
    r.findings = vec![
        finding(
            "cert-expired",
            Severity::Critical,
            &a.id,
            "a.crt",
            "expired 3 days ago",
        ),
        finding(
            "cert-expiring",
            Severity::High,
            &b.id,
            "b.crt",
            "expires in 12 days",
        ),
        waived,
    ];
    trustmap_core::policy::sort_findings(&mut r.findings);
    r.errors = vec![ScanError {
        path: "bad.p12".into(),
        error: "truncated PKCS#12".into(),
    }];
    r
}

fn by_scan(id: &str) -> ScanSelection {
    ScanSelection {
        scan: Some(id.into()),
        ..Default::default()
    }
}

#[test]
fn a_recorded_scan_comes_back_as_the_report_it_produced() {
    for t in targets("rep", "roundtrip") {
        let s = Store::open(&t.url).unwrap();
        let r1 = first("scan_1");
        s.record_scan(
            &r1,
            &meta("hostA", &[("/srv", "/srv")], "2026-01-01T00:00:05Z"),
        )
        .unwrap();
        let got = s.stored_report(&by_scan("scan_1")).unwrap();
        assert_eq!(got.scans.len(), 1);
        assert_eq!(got.report, r1, "{}", t.name);
        assert_eq!(got.baselined, 0);

        // The next scan repeats the expired finding, changes the expiring one's message,
        // drops the waived one and sees a third certificate.
        let mut r2 = first("scan_2");
        r2.scan.started_at = Timestamp::parse("2026-01-02T00:00:00Z").unwrap();
        r2.assets
            .push(cert_at("c", vec![occurrence("c.crt", Some("/srv"))]));
        r2.findings.retain(|f| f.waiver.is_none());
        r2.findings[1].message = "expires in 11 days".into();
        r2.findings[1].baselined = true;
        r2.errors.clear();
        s.record_scan(
            &r2,
            &meta("hostA", &[("/srv", "/srv")], "2026-01-02T00:00:05Z"),
        )
        .unwrap();
        // Findings are rows once each: 3 from the first scan, 1 changed in the second.
        let rows = s.query_raw("SELECT COUNT(*) FROM findings").unwrap();
        assert_eq!(rows[0][0], "4", "{}", t.name);
        let got2 = s.stored_report(&by_scan("scan_2")).unwrap();
        assert_eq!(got2.report.findings, r2.findings);
        assert_eq!(got2.report.assets.len(), 3);
        assert!(got2.report.errors.is_empty());
        assert_eq!(got2.baselined, 1);
        // The first scan is unchanged by the second.
        assert_eq!(s.stored_report(&by_scan("scan_1")).unwrap().report, r1);

        // As of an instant: the latest scan finished by then.
        let as_of = |t: &str| ScanSelection {
            as_of: Timestamp::parse(t),
            ..Default::default()
        };
        let mid = s.stored_report(&as_of("2026-01-01T12:00:00Z")).unwrap();
        assert_eq!(mid.scans[0].id, "scan_1");
        assert_eq!(
            s.stored_report(&as_of("2026-01-03T00:00:00Z"))
                .unwrap()
                .scans[0]
                .id,
            "scan_2"
        );
        assert_eq!(
            s.stored_report(&Default::default()).unwrap().scans[0].id,
            "scan_2"
        );
        let before = s.stored_report(&as_of("2025-12-31T00:00:00Z")).unwrap_err();
        assert_eq!(before.kind(), trustmap_store::ErrorKind::NotFound);
        assert_eq!(
            s.stored_report(&by_scan("scan_9")).unwrap_err().kind(),
            trustmap_store::ErrorKind::NotFound
        );

        // The scan-finished event vouches for the stored findings.
        let events = s.audit_events(None).unwrap();
        let fin: Vec<_> = events
            .iter()
            .filter(|e| e.kind == "scan-finished")
            .collect();
        assert_eq!(fin.len(), 2);
        assert_eq!(fin[0].data["findings_sha256"].as_str().unwrap().len(), 64);
        assert_ne!(
            fin[0].data["findings_sha256"],
            fin[1].data["findings_sha256"]
        );
    }
}

#[test]
fn two_hosts_merge_without_mixing_their_places() {
    for t in targets("rep", "merge") {
        let s = Store::open(&t.url).unwrap();
        let mut a = first("scan_a");
        a.scan.host = "hostA".into();
        s.record_scan(
            &a,
            &meta("hostA", &[("/srv", "/srv")], "2026-01-01T00:00:05Z"),
        )
        .unwrap();
        let mut b = first("scan_b");
        b.scan.host = "hostB".into();
        let a_id = cert_at("a", vec![]).id;
        b.assets.retain(|x| x.id == a_id);
        b.relations.clear();
        b.findings.retain(|f| f.rule == "cert-expired");
        s.record_scan(
            &b,
            &meta("hostB", &[("/srv", "/srv")], "2026-01-01T00:00:06Z"),
        )
        .unwrap();
        let m = s.stored_report(&Default::default()).unwrap();
        assert_eq!(m.scans.len(), 2);
        assert_eq!(m.report.scan.host, "hostA,hostB");
        assert_eq!(m.report.scan.id, "inventory@2026-01-01T00:00:06Z");
        assert_eq!(m.report.assets.len(), 2, "one asset per identity");
        let cert_a = m.report.assets.iter().find(|x| x.id == a_id).unwrap();
        let paths: Vec<&str> = cert_a.occurrences.iter().map(|o| o.path.as_str()).collect();
        assert_eq!(paths, vec!["hostA:a.crt", "hostB:a.crt"]);
        let expired: Vec<&str> = m
            .report
            .findings
            .iter()
            .filter(|f| f.rule == "cert-expired")
            .map(|f| f.path.as_deref().unwrap())
            .collect();
        assert_eq!(expired, vec!["hostA:a.crt", "hostB:a.crt"]);
        assert_eq!(m.report.errors[0].path, "hostA:bad.p12");
        // One host only.
        let only_b = s
            .stored_report(&ScanSelection {
                host: Some("hostB".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(only_b.report.scan.id, "scan_b");
        assert_eq!(only_b.report.findings.len(), 1);
    }
}

#[test]
fn a_scan_recorded_before_reports_were_kept_says_so() {
    for t in targets("rep", "old") {
        let s = Store::open(&t.url).unwrap();
        s.record_scan(
            &first("scan_1"),
            &meta("hostA", &[("/srv", "/srv")], "2026-01-01T00:00:05Z"),
        )
        .unwrap();
        // What a scan recorded by an older trustmap looks like after migration 10.
        s.execute_raw("DELETE FROM scan_reports").unwrap();
        s.execute_raw("DELETE FROM scan_sets WHERE what = 'findings'")
            .unwrap();
        let e = s.stored_report(&by_scan("scan_1")).unwrap_err();
        assert_eq!(e.kind(), trustmap_store::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("scan again"), "{e}");
    }
}

#[test]
fn migration_10_adds_the_tables_to_an_inventory_of_version_9() {
    for t in targets("rep", "mig10") {
        {
            let s = Store::open_at_version(&t.url, 9).unwrap();
            assert_eq!(s.schema_version().unwrap(), 9);
        }
        let s = Store::open(&t.url).unwrap();
        assert_eq!(s.schema_version().unwrap(), Store::latest_schema_version());
        assert_eq!(
            s.query_raw("SELECT COUNT(*) FROM findings").unwrap()[0][0],
            "0"
        );
        assert_eq!(
            s.query_raw("SELECT COUNT(*) FROM scan_reports").unwrap()[0][0],
            "0"
        );
    }
}

#[test]
fn audit_verify_vouches_for_the_stored_findings() {
    for t in targets("rep", "vouch") {
        let s = Store::open(&t.url).unwrap();
        s.record_scan(
            &first("scan_1"),
            &meta("hostA", &[("/srv", "/srv")], "2026-01-01T00:00:05Z"),
        )
        .unwrap();
        let v = s.verify_audit().unwrap();
        assert!(v.intact(), "{:?}", v.unvouched);
        // A finding's severity lowered in place is caught...
        s.execute_raw(
            "UPDATE findings SET body = REPLACE(body, '\"critical\"', '\"low\"') WHERE rule = 'cert-expired'",
        )
        .unwrap();
        let v = s.verify_audit().unwrap();
        assert_eq!(v.unvouched.len(), 1, "{:?}", v.unvouched);
        assert!(
            v.unvouched[0].contains("was edited after the scan"),
            "{:?}",
            v.unvouched
        );
        // ...and so is one removed with its hash recomputed.
        s.execute_raw("DELETE FROM findings WHERE rule = 'cert-expired'")
            .unwrap();
        let v = s.verify_audit().unwrap();
        assert!(
            v.unvouched[0].contains("1 of its findings are missing"),
            "{:?}",
            v.unvouched
        );
    }
}

#[test]
fn the_light_report_holds_the_same_findings_errors_and_owners() {
    for t in targets("rep", "light") {
        let s = Store::open(&t.url).unwrap();
        let mut a = first("scan_la");
        a.scan.host = "hostA".into();
        a.assets[0].owners = vec![trustmap_core::Owner {
            name: "@acme/edge".into(),
            role: "owner".into(),
            source: "CODEOWNERS:1".into(),
        }];
        s.record_scan(
            &a,
            &meta("hostA", &[("/srv", "/srv")], "2026-01-01T00:00:05Z"),
        )
        .unwrap();
        let mut b = first("scan_lb");
        b.scan.host = "hostB".into();
        s.record_scan(
            &b,
            &meta("hostB", &[("/srv", "/srv")], "2026-01-01T00:00:06Z"),
        )
        .unwrap();
        for sel in [ScanSelection::default(), by_scan("scan_la")] {
            let full = s.stored_report(&sel).unwrap();
            let light = s.stored_findings(&sel).unwrap();
            assert!(!full.report.findings.is_empty());
            assert_eq!(light.report.findings, full.report.findings, "{}", t.name);
            assert_eq!(light.report.errors, full.report.errors);
            assert_eq!(light.report.scan, full.report.scan);
            assert_eq!(light.baselined, full.baselined);
            let ids_owners = |r: &Report| -> Vec<(String, Vec<String>)> {
                r.assets
                    .iter()
                    .map(|x| {
                        (
                            x.id.clone(),
                            x.owners.iter().map(|o| o.name.clone()).collect(),
                        )
                    })
                    .collect()
            };
            assert_eq!(ids_owners(&light.report), ids_owners(&full.report));
            // Nothing else is read.
            assert!(light.report.relations.is_empty() && !full.report.relations.is_empty());
            assert!(
                light
                    .report
                    .assets
                    .iter()
                    .all(|x| x.occurrences.is_empty() && x.certificate.is_none())
            );
        }
    }
}
