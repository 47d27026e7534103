//! Ingest and query timing on a generated inventory:
//! `cargo run --release -p trustmap-store --example ingest -- N TARGET`
//! (TARGET: a SQLite path or a postgres:// URL). Generates N certificates with 3 places
//! each, records them as one scan, records a second scan of the same inventory (every asset
//! already known), and times the filtered queries of `trustmap assets`.

use std::time::Instant;
use trustmap_core::{
    Asset, AssetKind, CertificateInfo, KeyInfo, Occurrence, Owner, Report, ScanInfo, ToolInfo,
    asset_id, fingerprint,
};
use trustmap_store::{AssetQuery, ScanMeta, Store};

fn report(id: &str, n: usize) -> Report {
    let assets = (0..n)
        .map(|i| {
            let fp = fingerprint(format!("cert {i}").as_bytes());
            let day = 1 + i % 28;
            let month = 1 + (i / 3) % 12;
            Asset {
                id: asset_id(AssetKind::Certificate, &fp),
                kind: AssetKind::Certificate,
                fingerprint: fp,
                occurrences: (0..3)
                    .map(|j| Occurrence {
                        path: format!("svc{}/env{j}/tls/cert{i}.pem", i % 1000),
                        line: Some(1),
                        offset: Some(0),
                        container: None,
                    })
                    .collect(),
                certificate: Some(CertificateInfo {
                    subject: format!("CN=host{i}.example.com"),
                    issuer: format!("CN=Issuing CA {}", i % 20),
                    serial: format!("{i:x}"),
                    not_before: "2026-01-01T00:00:00Z".into(),
                    not_after: format!("{}-{month:02}-{day:02}T00:00:00Z", 2026 + i % 3),
                    sans: vec![format!("DNS:host{i}.example.com")],
                    signature_algorithm: "sha256WithRSAEncryption".into(),
                    signature_algorithm_oid: "1.2.840.113549.1.1.11".into(),
                    signature_hash: Some("SHA-256".into()),
                    public_key: KeyInfo {
                        algorithm: if i % 4 == 0 { "ML-DSA-65" } else { "RSA" }.into(),
                        bits: Some(2048),
                        ..Default::default()
                    },
                    version: 3,
                    ..Default::default()
                }),
                key: None,
                secret: None,
                keystore: None,
                owners: vec![Owner {
                    name: format!("team-{}", i % 50),
                    role: "owner".into(),
                    source: "CODEOWNERS:1".into(),
                }],
            }
        })
        .collect();
    Report {
        tool: ToolInfo {
            name: "trustmap".into(),
            version: "bench".into(),
        },
        scan: ScanInfo {
            id: id.into(),
            started_at: "2026-11-01T00:00:00Z".into(),
            roots: vec!["/srv".into()],
            files_scanned: n as u64,
            bytes_scanned: 0,
            duration_ms: 0,
        },
        assets,
        relations: vec![],
        findings: vec![],
        errors: vec![],
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let target = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "/tmp/trustmap-ingest.db".into());
    let mut store = Store::open(&target).expect("open");
    let meta = ScanMeta {
        host: "bench".into(),
        roots_key: "[\"/srv\"]".into(),
        finished_at: "2026-11-01T00:01:00Z".into(),
    };
    for (label, id) in [
        ("first scan (all new)", "scan_b1"),
        ("second scan (all known)", "scan_b2"),
    ] {
        let r = report(id, n);
        let t = Instant::now();
        store.record_scan(&r, &meta).expect("record");
        let s = t.elapsed().as_secs_f64();
        println!(
            "{label}: {n} assets, {} occurrences in {s:.2} s = {:.0} assets/s",
            3 * n,
            n as f64 / s
        );
    }
    let now = "2026-11-01T00:00:00Z".to_string();
    let queries: Vec<(&str, AssetQuery)> = vec![
        (
            "--expiring 30d",
            AssetQuery {
                expiring_before: Some("2026-12-01T00:00:00Z".into()),
                now: now.clone(),
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
                now: now.clone(),
                ..Default::default()
            },
        ),
        (
            "--quantum-vulnerable --kind certificate",
            AssetQuery {
                quantum_vulnerable: true,
                kind: Some("certificate".into()),
                ..Default::default()
            },
        ),
    ];
    for (label, q) in queries {
        let t = Instant::now();
        let rows = store.assets(&q).expect("query");
        println!(
            "assets {label}: {} rows in {:.0} ms",
            rows.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    let t = Instant::now();
    let d = store.diff("scan_b1", "scan_b2").expect("diff");
    println!(
        "diff: {} new, {} gone in {:.0} ms",
        d.new.len(),
        d.gone.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let v = store.verify_audit().expect("verify");
    println!(
        "audit verify: {} events in {:.0} ms",
        v.events,
        t.elapsed().as_secs_f64() * 1e3
    );
}
