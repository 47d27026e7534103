//! `Store::impact` timing on a generated estate:
//! `cargo run --release -p trustmap-store --example impact -- N CONSUMERS TARGET [--reuse] [--check]`
//! (TARGET: a SQLite path or a postgres:// URL; `--reuse`: the estate is already there).
//!
//! The estate has N assets: one root CA, 101 intermediates it issued, leaves issued by the
//! intermediates in turn, one private key per leaf (`key-of`), and CONSUMERS nginx servers,
//! consumer `i` using leaf `i` and its key; every asset has an owner (50 teams). The impact
//! of the root is then everything but the keys: the intermediates, every leaf and every
//! consumer. It is timed five times (first page of 50 nodes, counts per kind, owners), and
//! once for a leaf; then an owner is set on the leaf (timed) and, with `--check`, the
//! answer compared with the whole walk. `TRUSTMAP_STORE_TIMINGS=1` prints the recording's
//! phases (the kept blast radius is `blast radius (reach)`).

// The binary's allocator; the shared filters and estate are not used here.
mod common;

use std::time::Instant;
use trustmap_core::{
    Asset, AssetKind, CertificateInfo, ConsumerInfo, KeyInfo, Occurrence, Owner, Reference,
    Relation, RelationType, Report, ScanInfo, Timestamp, ToolInfo, asset_id, fingerprint,
};
use trustmap_store::{ScanMeta, ScanRoot, Store};

const INTERMEDIATES: usize = 101;

fn place(path: String) -> Vec<Occurrence> {
    vec![Occurrence {
        path,
        line: Some(1),
        offset: Some(0),
        container: None,
        root: None,
    }]
}

fn owner(i: usize) -> Vec<Owner> {
    vec![Owner {
        name: format!("team-{}", i % 50),
        role: "owner".into(),
        source: "CODEOWNERS:1".into(),
    }]
}

fn cert(name: &str, issuer: &str, is_ca: bool, i: usize) -> Asset {
    let fp = fingerprint(format!("certificate {name}").as_bytes());
    Asset {
        id: asset_id(AssetKind::Certificate, &fp),
        kind: AssetKind::Certificate,
        fingerprint: fp,
        occurrences: place(format!("pki/{}/{name}.crt", i % 1000)),
        certificate: Some(CertificateInfo {
            subject: format!("CN={name}"),
            subject_cn: Some(name.into()),
            issuer: format!("CN={issuer}"),
            serial: format!("{i:x}"),
            not_before: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
            not_after: Timestamp::parse("2027-01-01T00:00:00Z").unwrap(),
            is_ca,
            signature_algorithm: "ecdsa-with-SHA256".into(),
            signature_hash: Some("SHA-256".into()),
            public_key: KeyInfo {
                algorithm: "EC".into(),
                bits: Some(256),
                curve: Some("P-256".into()),
                ..Default::default()
            },
            version: 3,
            ..Default::default()
        }),
        key: None,
        secret: None,
        keystore: None,
        consumer: None,
        endpoint: None,
        owners: owner(i),
    }
}

/// The estate: (report, id of the root, id of leaf 0).
fn estate(n: usize, consumers: usize) -> (Report, String, String) {
    let leaves = (n - 1 - INTERMEDIATES - consumers) / 2;
    let mut assets = Vec::with_capacity(n);
    let mut relations = Vec::with_capacity(INTERMEDIATES + 2 * leaves + 2 * consumers);
    let root = cert("Bench Root CA", "Bench Root CA", true, 0);
    let root_id = root.id.clone();
    assets.push(root);
    let mut ints = Vec::new();
    for j in 0..INTERMEDIATES {
        let c = cert(&format!("Bench Issuing CA {j}"), "Bench Root CA", true, j);
        relations.push(Relation {
            from: c.id.clone(),
            to: root_id.clone(),
            kind: RelationType::IssuedBy,
        });
        ints.push(c.id.clone());
        assets.push(c);
    }
    let mut leaf_ids = Vec::with_capacity(leaves);
    let mut key_ids = Vec::with_capacity(leaves);
    for i in 0..leaves {
        let j = i % INTERMEDIATES;
        let c = cert(
            &format!("host{i}.example.com"),
            &format!("Bench Issuing CA {j}"),
            false,
            i,
        );
        relations.push(Relation {
            from: c.id.clone(),
            to: ints[j].clone(),
            kind: RelationType::IssuedBy,
        });
        let kfp = fingerprint(format!("private-key {i}").as_bytes());
        let k = Asset {
            id: asset_id(AssetKind::PrivateKey, &kfp),
            kind: AssetKind::PrivateKey,
            fingerprint: kfp,
            occurrences: place(format!("pki/{}/host{i}.key", i % 1000)),
            certificate: None,
            key: Some(KeyInfo {
                algorithm: "EC".into(),
                bits: Some(256),
                curve: Some("P-256".into()),
                format: Some("pkcs8".into()),
                encrypted: Some(false),
                spki_sha256: Some(format!("{i:064x}")),
                ..Default::default()
            }),
            secret: None,
            keystore: None,
            consumer: None,
            endpoint: None,
            owners: owner(i),
        };
        relations.push(Relation {
            from: k.id.clone(),
            to: c.id.clone(),
            kind: RelationType::KeyOf,
        });
        leaf_ids.push(c.id.clone());
        key_ids.push(k.id.clone());
        assets.push(c);
        assets.push(k);
    }
    for i in 0..consumers {
        let leaf = i % leaves;
        let name = format!("server host{leaf}.example.com (listen 443) #{i}");
        let fp = fingerprint(format!("consumer\nnginx\nnginx/{i}.conf\n{name}").as_bytes());
        let c = Asset {
            id: asset_id(AssetKind::Consumer, &fp),
            kind: AssetKind::Consumer,
            fingerprint: fp,
            occurrences: place(format!("nginx/sites/{i}.conf")),
            certificate: None,
            key: None,
            secret: None,
            keystore: None,
            endpoint: None,
            consumer: Some(ConsumerInfo {
                software: "nginx".into(),
                name,
                references: vec![Reference {
                    directive: "ssl_certificate".into(),
                    value: format!("/srv/pki/{}/host{leaf}.example.com.crt", leaf % 1000),
                    line: Some(5),
                    resolution: "path".into(),
                    files: vec![format!("pki/{}/host{leaf}.example.com.crt", leaf % 1000)],
                }],
                ..Default::default()
            }),
            owners: owner(i),
        };
        for to in [&leaf_ids[leaf], &key_ids[leaf]] {
            relations.push(Relation {
                from: c.id.clone(),
                to: to.clone(),
                kind: RelationType::Uses,
            });
        }
        assets.push(c);
    }
    relations.sort();
    let leaf0 = leaf_ids[0].clone();
    let report = Report {
        tool: ToolInfo {
            name: "trustmap".into(),
            version: "bench".into(),
        },
        scan: ScanInfo {
            id: "scan_impact".into(),
            started_at: Timestamp::parse("2026-11-01T00:00:00Z").unwrap(),
            roots: vec!["/srv".into()],
            host: "bench".into(),
            files_scanned: assets.len() as u64,
            bytes_scanned: 0,
            duration_ms: 0,
            policy: None,
            policy_ignored: vec![],
            excluded: 0,
        },
        assets,
        relations,
        findings: vec![],
        errors: vec![],
    };
    (report, root_id, leaf0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let consumers: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let target = args
        .get(3)
        .cloned()
        .unwrap_or_else(|| "/tmp/trustmap-impact.db".into());
    let reuse = args.iter().any(|a| a == "--reuse");
    let (report, root, leaf) = estate(n, consumers);
    let store = Store::open(&target).expect("open");
    if !reuse {
        let meta = ScanMeta {
            host: "bench".into(),
            roots: vec![ScanRoot {
                given: "/srv".into(),
                canonical: "/srv".into(),
            }],
            finished_at: "2026-11-01T00:01:00Z".into(),
        };
        let t = Instant::now();
        store
            .begin_scan(&report, &meta)
            .expect("record")
            .commit()
            .expect("commit");
        println!(
            "recorded {} assets, {} relations in {:.1} s",
            report.assets.len(),
            report.relations.len(),
            t.elapsed().as_secs_f64()
        );
    }
    drop(report);
    let runs = [
        ("root", &root),
        ("root", &root),
        ("root", &root),
        ("root", &root),
        ("root", &root),
        ("leaf 0", &leaf),
    ];
    for (what, id) in runs {
        let t = Instant::now();
        let i = store.impact(id, 50, false).expect("impact");
        let ms = t.elapsed().as_secs_f64() * 1e3;
        println!(
            "impact of the {what} ({id}): {} nodes listed of {} ({:?}), {} owners, cut short {} in {ms:.0} ms",
            i.nodes.len(),
            i.total,
            i.by_kind,
            i.owners.len(),
            i.cut_short
        );
    }
    // An owner change moves the kept owner counts in its transaction; then the kept
    // answer is compared with the whole walk (`--check`: seconds).
    let t = Instant::now();
    store
        .set_owner(
            &trustmap_store::OwnerTarget::Asset(leaf.clone()),
            Some("team-bench"),
            None,
        )
        .expect("owner set");
    println!(
        "owner set on leaf 0 in {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    if args.iter().any(|a| a == "--check") {
        let t = Instant::now();
        let walked = store.impact_walked(&root, 50, false).expect("walk");
        let kept = store.impact(&root, 50, false).expect("impact");
        let json = |i: &trustmap_store::Impact| serde_json::to_string(i).expect("json");
        assert_eq!(json(&kept), json(&walked), "the kept answer is the walk's");
        println!(
            "the whole walk ({:.1} s) gives the same answer, {} owners incl. team-bench: {:?}",
            t.elapsed().as_secs_f64(),
            kept.owners.len(),
            kept.owners.get("team-bench")
        );
    }
}
