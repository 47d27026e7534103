//! `Store::overview` (the server's `/api/v1/overview`), answered from columns and finding
//! sets, against the same tallies taken from the merged report `stored_report` rebuilds: two
//! hosts, a rescan that drops an asset, waived and baselined findings, inferred and explicit
//! owners, an expiry list cut at its limit.

use std::collections::BTreeMap;
use trustmap_core::{Asset, AssetKind, Finding, Owner, Report, Severity, Timestamp, Waiver};
use trustmap_store::{OwnerTarget, Store, UNOWNED};

use crate::common::{cert_at, meta, occurrence, report, targets};

const NOW: &str = "2026-12-03T00:00:00Z";

/// A certificate `seed` at `path` under /srv, expiring at `not_after`, with an RSA or
/// ML-DSA key.
fn cert(seed: &str, path: &str, not_after: &str, alg: &str) -> Asset {
    let mut a = cert_at(seed, vec![occurrence(path, Some("/srv"))]);
    a.certificate = Some(
        serde_json::from_value(serde_json::json!({
            "subject": format!("CN={seed}"), "issuer": "CN=ca", "serial": "01",
            "not_before": "2026-01-01T00:00:00Z", "not_after": not_after, "sans": [],
            "is_ca": false, "self_signed": false, "signature_algorithm": "sha256WithRSAEncryption",
            "signature_algorithm_oid": "1.2.840.113549.1.1.11", "version": 3,
            "public_key": {"algorithm": alg, "bits": 2048}
        }))
        .unwrap(),
    );
    a
}

fn finding(rule: &str, severity: Severity, asset: &Asset, path: Option<&str>) -> Finding {
    Finding {
        rule: rule.into(),
        severity,
        asset: asset.id.clone(),
        path: path.map(str::to_string),
        line: None,
        message: format!("{rule} on {}", asset.id),
        frameworks: vec![],
        evidence: BTreeMap::new(),
        waiver: None,
        baselined: false,
    }
}

/// The tallies the server took from the merged report before `Store::overview` existed: the
/// oracle.
fn from_report(r: &Report, now: &str, end: &str, max: usize) -> serde_json::Value {
    let owner_of = |id: &str| -> String {
        r.assets
            .iter()
            .find(|a| a.id == id)
            .and_then(|a| a.owners.iter().find(|o| o.role == "owner"))
            .map_or(UNOWNED.to_string(), |o| o.name.clone())
    };
    let mut by_kind = BTreeMap::<String, u64>::new();
    let mut by_alg = BTreeMap::<String, u64>::new();
    for a in &r.assets {
        *by_kind.entry(a.kind.as_str().into()).or_default() += 1;
        let k = a
            .certificate
            .as_ref()
            .map(|c| &c.public_key)
            .or(a.key.as_ref());
        if let Some(k) = k {
            *by_alg.entry(k.algorithm.clone()).or_default() += 1;
        }
    }
    let (mut open, mut waived, mut baselined) = (0u64, 0u64, 0u64);
    let (mut sev, mut rule, mut own) = (
        BTreeMap::<String, u64>::new(),
        BTreeMap::<String, u64>::new(),
        BTreeMap::<String, u64>::new(),
    );
    for f in &r.findings {
        if f.waiver.is_some() {
            waived += 1;
        } else if f.baselined {
            baselined += 1;
        } else {
            open += 1;
            *sev.entry(f.severity.as_str().into()).or_default() += 1;
            *rule.entry(f.rule.clone()).or_default() += 1;
            *own.entry(owner_of(&f.asset)).or_default() += 1;
        }
    }
    let mut expiring: Vec<(String, String, String)> = r
        .assets
        .iter()
        .filter_map(|a| {
            let t = a.certificate.as_ref()?.not_after.to_string();
            (t.as_str() >= now && t.as_str() < end).then(|| (t, a.id.clone(), owner_of(&a.id)))
        })
        .collect();
    expiring.sort();
    let within = expiring.len();
    expiring.truncate(max);
    let expired = r
        .assets
        .iter()
        .filter(|a| {
            a.certificate
                .as_ref()
                .is_some_and(|c| c.not_after.to_string().as_str() < now)
        })
        .count();
    serde_json::json!({
        "assets": r.assets.len(), "by_kind": by_kind, "by_algorithm": by_alg,
        "open": open, "waived": waived, "baselined": baselined,
        "by_severity": sev, "by_rule": rule, "by_owner": own,
        "expired": expired, "within": within, "expiring": expiring,
        "errors": r.errors.len(),
    })
}

fn from_store(s: &Store, now: &str, end: &str, max: usize) -> serde_json::Value {
    let o = s
        .overview(
            Timestamp::parse(now).unwrap(),
            Timestamp::parse(end).unwrap(),
            max,
        )
        .unwrap();
    let f = &o.findings;
    serde_json::json!({
        "assets": o.assets, "by_kind": o.by_kind, "by_algorithm": o.by_algorithm,
        "open": f.open, "waived": f.waived, "baselined": f.baselined,
        "by_severity": f.by_severity, "by_rule": f.by_rule, "by_owner": f.by_owner,
        "expired": o.expired, "within": o.within,
        "expiring": o.expiring.iter().map(|e| (&e.not_after, &e.id, &e.owner)).collect::<Vec<_>>(),
        "errors": o.errors,
    })
}

#[test]
fn the_overview_from_columns_equals_the_tallies_of_the_merged_report() {
    for t in targets("ovw", "equal") {
        let s = Store::open(&t.url).unwrap();
        let end = "2027-03-03T00:00:00Z";
        assert!(
            matches!(
                s.overview(
                    Timestamp::parse(NOW).unwrap(),
                    Timestamp::parse(end).unwrap(),
                    10
                ),
                Err(trustmap_store::Error::NoScan(_))
            ),
            "{}: an empty inventory has no overview",
            t.name
        );
        let soon = cert("soon", "soon.crt", "2026-12-10T00:00:00Z", "RSA");
        let mut later = cert("later", "later.crt", "2027-01-20T00:00:00Z", "RSA");
        // A backup (which sorts first) is not the owner counted.
        later.owners = vec![
            Owner {
                name: "@acme/edge".into(),
                role: "owner".into(),
                source: "CODEOWNERS:3".into(),
            },
            Owner {
                name: "@acme/aaa-backup".into(),
                role: "backup".into(),
                source: "CODEOWNERS:3".into(),
            },
        ];
        let expired = cert("old", "old.crt", "2026-11-01T00:00:00Z", "RSA");
        let far = cert("far", "far.crt", "2028-01-01T00:00:00Z", "ML-DSA-65");
        let same_day = cert("same-day", "same.crt", "2026-12-10T00:00:00Z", "ECDSA");
        let mut key = cert_at("k", vec![occurrence("k.pem", Some("/srv"))]);
        key.kind = AssetKind::PrivateKey;
        key.id = trustmap_core::asset_id(AssetKind::PrivateKey, &key.fingerprint);
        key.key = Some(
            serde_json::from_value(serde_json::json!({"algorithm": "RSA", "bits": 1024})).unwrap(),
        );
        let assets = vec![
            soon.clone(),
            later.clone(),
            expired.clone(),
            far.clone(),
            same_day.clone(),
            key.clone(),
        ];
        let mut a = report("scan_a1", &["/srv"], assets.clone());
        a.scan.host = "hostA".into();
        let mut waived = finding(
            "cert-self-signed-leaf",
            Severity::Medium,
            &later,
            Some("later.crt"),
        );
        waived.waiver = Some(Waiver {
            by: "alice".into(),
            reason: "lab".into(),
            until: Timestamp::parse("2027-06-01T00:00:00Z").unwrap(),
        });
        let mut baselined = finding("cert-weak-key", Severity::Low, &far, Some("far.crt"));
        baselined.baselined = true;
        a.findings = vec![
            finding("cert-expiring", Severity::High, &soon, Some("soon.crt")),
            finding("cert-expiring", Severity::Medium, &later, Some("later.crt")),
            finding(
                "cert-expired",
                Severity::Critical,
                &expired,
                Some("old.crt"),
            ),
            finding("asset-unowned", Severity::Low, &key, None),
            waived,
            baselined,
        ];
        a.errors = vec![trustmap_core::ScanError {
            path: "bad.p12".into(),
            error: "truncated".into(),
        }];
        s.record_scan(
            &a,
            &meta("hostA", &[("/srv", "/srv")], "2026-12-02T00:00:01Z"),
        )
        .unwrap();
        // Host B sees `soon` and the key, with the same findings (the same rows).
        let mut b = report("scan_b1", &["/srv"], vec![soon.clone(), key.clone()]);
        b.scan.host = "hostB".into();
        b.findings = vec![
            finding("cert-expiring", Severity::High, &soon, Some("soon.crt")),
            finding("asset-unowned", Severity::Low, &key, None),
        ];
        s.record_scan(
            &b,
            &meta("hostB", &[("/srv", "/srv")], "2026-12-02T00:00:02Z"),
        )
        .unwrap();

        let check = |s: &Store, max: usize| {
            let stored = s.stored_report(&Default::default()).unwrap();
            let want = from_report(&stored.report, NOW, end, max);
            let got = from_store(s, NOW, end, max);
            assert_eq!(got, want, "{}", t.name);
            got
        };
        let got = check(&s, 10);
        assert_eq!(got["assets"], 6);
        // The finding at a place raised by both hosts counts twice (hostA:soon.crt,
        // hostB:soon.crt); the unplaced one once.
        assert_eq!(got["by_rule"]["cert-expiring"], 3);
        assert_eq!(got["by_rule"]["asset-unowned"], 1);
        assert_eq!(
            (
                got["open"].clone(),
                got["waived"].clone(),
                got["baselined"].clone()
            ),
            (5.into(), 1.into(), 1.into())
        );
        assert_eq!(got["by_owner"]["@acme/edge"], 1);
        assert_eq!(got["expired"], 1);
        assert_eq!(got["within"], 3);
        assert_eq!(got["errors"], 1);
        assert_eq!(got["by_algorithm"]["ML-DSA-65"], 1);
        // Cut at two: soonest first, ties by id.
        let got = check(&s, 2);
        assert_eq!(got["expiring"].as_array().unwrap().len(), 2);

        // An explicit owner wins over the inferred one, at once (the kept tallies are
        // those of an older audit head); then host A's rescan drops `far`.
        s.set_owner(
            &OwnerTarget::Asset(later.id.clone()),
            Some("@acme/payments"),
            None,
        )
        .unwrap();
        s.set_owner(
            &OwnerTarget::Asset(soon.id.clone()),
            Some("@acme/pki"),
            None,
        )
        .unwrap();
        let got = check(&s, 10);
        assert_eq!(got["by_owner"]["@acme/payments"], 1);
        assert_eq!(got["by_owner"]["@acme/pki"], 2);
        assert_eq!(got["by_owner"].get("@acme/edge"), None);
        assert_eq!(got["by_algorithm"]["ML-DSA-65"], 1);
        let mut a2 = a.clone();
        a2.scan.id = "scan_a2".into();
        a2.assets.retain(|x| x.id != far.id);
        a2.findings.retain(|f| f.asset != far.id);
        s.record_scan(
            &a2,
            &meta("hostA", &[("/srv", "/srv")], "2026-12-02T00:00:03Z"),
        )
        .unwrap();
        let got = check(&s, 10);
        assert_eq!(got["assets"], 5);
        assert_eq!(got["baselined"], 0);
        assert_eq!(got["by_owner"]["@acme/payments"], 1);
        assert_eq!(got["by_owner"]["@acme/pki"], 2);
        assert_eq!(got["by_owner"].get("@acme/edge"), None);
        assert_eq!(got["by_algorithm"].get("ML-DSA-65"), None);
        let o = s
            .overview(
                Timestamp::parse(NOW).unwrap(),
                Timestamp::parse(end).unwrap(),
                10,
            )
            .unwrap();
        assert_eq!(o.scans, vec!["scan_b1".to_string(), "scan_a2".to_string()]);
        assert_eq!(o.expiring[0].label, soon_label(&s, &soon.id));
    }
}

/// The label the inventory keeps for asset `id`.
fn soon_label(s: &Store, id: &str) -> String {
    s.query_raw(&format!("SELECT label FROM assets WHERE id = '{id}'"))
        .unwrap()[0][0]
        .clone()
}

#[test]
fn migration_15_marks_the_findings_already_stored() {
    for t in targets("ovw", "migrate") {
        let s = Store::open(&t.url).unwrap();
        let c = cert("c", "c.crt", "2027-01-01T00:00:00Z", "RSA");
        let mut r = report("scan_1", &["/srv"], vec![c.clone()]);
        let mut w = finding("cert-self-signed-leaf", Severity::Medium, &c, Some("c.crt"));
        w.waiver = Some(Waiver {
            by: "alice".into(),
            reason: "lab".into(),
            until: Timestamp::parse("2027-06-01T00:00:00Z").unwrap(),
        });
        let mut b = finding("cert-weak-key", Severity::Low, &c, Some("c.crt"));
        b.baselined = true;
        r.findings = vec![
            finding("cert-expiring", Severity::High, &c, Some("c.crt")),
            w,
            b,
        ];
        s.record_scan(&r, &meta("h", &[("/srv", "/srv")], "2026-12-02T00:00:01Z"))
            .unwrap();
        let status = |s: &Store| {
            s.query_raw("SELECT rule, status FROM findings ORDER BY rule")
                .unwrap()
        };
        let want = vec![
            vec!["cert-expiring".to_string(), "open".into()],
            vec!["cert-self-signed-leaf".into(), "waived".into()],
            vec!["cert-weak-key".into(), "baselined".into()],
        ];
        assert_eq!(status(&s), want, "{}: written with the row", t.name);
        drop(s);
        // The same scan recorded by the previous schema (no marks, no asset keys), then
        // migration 15.
        let t14 = targets("ovw", "migrate14").remove(if t.name == "sqlite" { 0 } else { 1 });
        {
            let old = Store::open_at_version(&t14.url, 14).unwrap();
            old.record_scan(&r, &meta("h", &[("/srv", "/srv")], "2026-12-02T00:00:01Z"))
                .unwrap();
            assert!(
                old.query_raw("SELECT status FROM findings").is_err(),
                "no column yet"
            );
        }
        let s = Store::open(&t14.url).unwrap();
        let joined = s
            .query_raw(
                "SELECT COUNT(*) FROM findings f JOIN assets a ON a.rid = f.asset_rid AND a.id = f.asset",
            )
            .unwrap();
        assert_eq!(joined[0][0], "3", "{}: asset keys backfilled", t.name);
        assert_eq!(status(&s), want, "{}: backfilled", t.name);
    }
}
