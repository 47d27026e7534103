//! What real use broke (issue 13), through the engine's API: explicit owners from the store
//! in every scan, a key's age from its oldest evidence, waivers that could never apply.

use std::path::Path;
use time::{Duration, OffsetDateTime};
use trustmap_core::{AssetKind, Finding, Report};
use trustmap_engine::{Error, Progress, ScanRequest, scan, waivers};
use trustmap_store::{NewWaiver, OwnerTarget, Store};

/// A self-signed certificate made `age_days` ago (valid a year more) and its key, as
/// `name.crt` and `name.key` in `dir`.
fn old_cert(dir: &Path, name: &str, age_days: i64) {
    let mut params = rcgen::CertificateParams::new(vec![format!("{name}.example.test")]).unwrap();
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(age_days);
    params.not_after = now + Duration::days(365);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(format!("{name}.crt")), cert.pem()).unwrap();
    std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
}

fn run(root: &Path, store: &Store) -> Report {
    scan(
        ScanRequest::new(vec![root.to_path_buf()]),
        Some(store),
        &Progress::default(),
    )
    .unwrap()
    .report
}

fn id_of(r: &Report, kind: AssetKind, path: &str) -> String {
    r.assets
        .iter()
        .find(|a| a.kind == kind && a.occurrences.iter().any(|o| o.path == path))
        .unwrap_or_else(|| panic!("no {kind} at {path}"))
        .id
        .clone()
}

fn finding<'a>(r: &'a Report, rule: &str, asset: &str) -> Option<&'a Finding> {
    r.findings
        .iter()
        .find(|f| f.rule == rule && f.asset == asset)
}

fn sqlite() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("i.db").to_str().unwrap()).unwrap();
    (dir, store)
}

#[test]
fn a_key_ages_from_its_oldest_evidence_in_every_scan() {
    let (_d, store) = sqlite();
    let tree = tempfile::tempdir().unwrap();
    // 1,200 days: past the 1,095-day signature cryptoperiod of the default policy.
    old_cert(tree.path(), "ledger", 1200);
    for scan_no in 1..=3 {
        let r = run(tree.path(), &store);
        let key = id_of(&r, AssetKind::PrivateKey, "ledger.key");
        let f = finding(&r, "key-rotation-overdue", &key)
            .unwrap_or_else(|| panic!("scan {scan_no}: key-rotation-overdue is gone"));
        assert_eq!(
            f.evidence["age_source"], "notBefore of its certificate",
            "scan {scan_no}: {f:?}"
        );
        assert!(
            f.evidence["age_days"].parse::<i64>().unwrap() >= 1199,
            "scan {scan_no}: {f:?}"
        );
    }
}

#[test]
fn explicit_owners_from_the_store_judge_and_show_in_every_scan() {
    let (_d, store) = sqlite();
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path();
    old_cert(&root.join("services/legacy"), "old", 10);
    old_cert(&root.join("services/edge"), "edge", 10);
    std::fs::write(root.join("CODEOWNERS"), "/services/edge/ @acme/platform\n").unwrap();

    let r = run(root, &store);
    let legacy = id_of(&r, AssetKind::Certificate, "services/legacy/old.crt");
    let edge = id_of(&r, AssetKind::Certificate, "services/edge/edge.crt");
    assert!(finding(&r, "asset-unowned", &legacy).is_some());
    assert_eq!(
        r.assets.iter().find(|a| a.id == edge).unwrap().owners[0].name,
        "@acme/platform"
    );

    store
        .set_owner(
            &OwnerTarget::PathGlob("services/legacy/*".into()),
            Some("@acme/legacy"),
            None,
        )
        .unwrap();
    store
        .set_owner(
            &OwnerTarget::Asset(edge.clone()),
            Some("@acme/edge"),
            Some("@acme/sre"),
        )
        .unwrap();

    for scan_no in 2..=3 {
        let r = run(root, &store);
        let owners = |id: &str| {
            let a = r.assets.iter().find(|a| a.id == id).unwrap();
            a.owners
                .iter()
                .map(|o| format!("{} {} {}", o.role, o.name, o.source))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            owners(&legacy),
            ["owner @acme/legacy rule:1"],
            "scan {scan_no}"
        );
        assert!(
            finding(&r, "asset-unowned", &legacy).is_none(),
            "scan {scan_no}"
        );
        // Explicit wins over CODEOWNERS for its role.
        assert_eq!(
            owners(&edge),
            ["owner @acme/edge explicit", "backup @acme/sre explicit"],
            "scan {scan_no}"
        );
        // The store keeps explicit owners explicit and the inferred one inferred.
        let rows: Vec<(String, String, bool)> = store
            .show(&edge)
            .unwrap()
            .owners
            .into_iter()
            .map(|o| (o.name, o.source, o.explicit))
            .collect();
        assert_eq!(rows.len(), 3, "scan {scan_no}: {rows:?}");
        assert!(
            rows.iter()
                .all(|(_, source, explicit)| *explicit == (source == "explicit")),
            "scan {scan_no}: {rows:?}"
        );
    }
}

#[test]
fn waivers_that_could_never_apply_are_refused() {
    let (_d, store) = sqlite();
    let tree = tempfile::tempdir().unwrap();
    old_cert(tree.path(), "svc", 10);
    let r = run(tree.path(), &store);
    let key = id_of(&r, AssetKind::PrivateKey, "svc.key");
    let waiver = |rule: &str| NewWaiver {
        rule: rule.into(),
        asset: key.clone(),
        reason: "test".into(),
        until: "2099-01-01T00:00:00Z".into(),
        by: "alice".into(),
    };

    // A certificate rule, and a certificate lint, on a private key.
    for rule in ["cert-expired", "x509-serial-zero"] {
        let err = waivers::grant(&store, &waiver(rule), &[]).unwrap_err();
        assert!(matches!(err, Error::NotApplicable(_)), "{rule}: {err}");
        assert!(err.to_string().contains("certificate"), "{err}");
    }
    assert!(store.waivers().unwrap().is_empty());

    // The same waiver twice: the second is a conflict naming the first.
    let (first, custom) = waivers::grant(&store, &waiver("key-unprotected"), &[]).unwrap();
    assert!(!custom);
    let err = waivers::grant(&store, &waiver("key-unprotected"), &[]).unwrap_err();
    let Error::Store { source, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        matches!(source, trustmap_store::Error::Conflict(_)),
        "{source}"
    );
    assert!(
        source.to_string().contains(&format!("waiver {}", first.id)),
        "{source}"
    );
    assert_eq!(store.waivers().unwrap().len(), 1);

    // Revoked, it may be granted again.
    store.revoke_waiver(first.id, "alice").unwrap();
    waivers::grant(&store, &waiver("key-unprotected"), &[]).unwrap();
}
