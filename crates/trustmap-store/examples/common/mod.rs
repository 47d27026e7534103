//! What the store's examples share: the generated estate (`ingest`, `overview`) and the filters
//! of `trustmap assets` they time (`ingest`, `query`).

#![allow(dead_code)] // each example uses a different subset

use sha2::{Digest, Sha256};
use std::time::Instant;
use trustmap_core::model::AssetKind;
use trustmap_core::timestamp::Timestamp;
use trustmap_core::{
    Asset, CertificateInfo, KeyInfo, Occurrence, Owner, Report, ScanInfo, ToolInfo, asset_id,
    fingerprint,
};
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

/// Asset `i` of the generated estate: 70% certificates (a quarter of them ML-DSA), 30%
/// private keys (RSA, P-256, Ed25519); each at 3 places; 50 owning teams; 20 issuing CAs.
/// `generation` changes 1% of the assets (a rotation in place) from one scan to the next.
pub fn asset(i: usize, generation: usize) -> Asset {
    let rotated = generation > 0 && i % 100 == 7;
    let tag = if rotated {
        format!("{i} gen {generation}")
    } else {
        format!("{i}")
    };
    let is_cert = i % 10 < 7;
    let kind = if is_cert {
        AssetKind::Certificate
    } else {
        AssetKind::PrivateKey
    };
    let fp = fingerprint(format!("{} {tag}", kind.as_str()).as_bytes());
    let day = 1 + i % 28;
    let month = 1 + (i / 3) % 12;
    let key_alg = ["RSA", "EC", "Ed25519"][i % 3];
    Asset {
        id: asset_id(kind, &fp),
        kind,
        fingerprint: fp,
        occurrences: (0..3)
            .map(|j| Occurrence {
                path: format!("svc{}/env{j}/tls/asset{i}.pem", i % 1000),
                line: Some(1),
                offset: Some(0),
                container: None,
                root: None,
            })
            .collect(),
        certificate: is_cert.then(|| CertificateInfo {
            subject: format!("CN=host{i}.example.com"),
            issuer: format!("CN=Issuing CA {}", i % 20),
            serial: format!("{i:x}"),
            not_before: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
            not_after: Timestamp::parse(&format!("{}-{month:02}-{day:02}T00:00:00Z", 2026 + i % 3))
                .unwrap(),
            sans: vec![format!("DNS:host{i}.example.com")],
            signature_algorithm: "sha256WithRSAEncryption".into(),
            signature_algorithm_oid: "1.2.840.113549.1.1.11".into(),
            signature_hash: Some("SHA-256".into()),
            public_key: KeyInfo {
                algorithm: if i.is_multiple_of(4) {
                    "ML-DSA-65"
                } else {
                    "RSA"
                }
                .into(),
                bits: Some(2048),
                ..Default::default()
            },
            version: 3,
            ..Default::default()
        }),
        key: (!is_cert).then(|| KeyInfo {
            algorithm: key_alg.into(),
            bits: Some(if key_alg == "RSA" { 2048 } else { 256 }),
            format: Some("pkcs8".into()),
            encrypted: Some(false),
            spki_sha256: Some(format!("{:064x}", i)),
            ..Default::default()
        }),
        secret: None,
        keystore: None,
        consumer: None,
        endpoint: None,
        owners: vec![Owner {
            name: format!("team-{}", i % 50),
            role: "owner".into(),
            source: "CODEOWNERS:1".into(),
        }],
    }
}

pub fn report(id: &str, n: usize, generation: usize) -> Report {
    // 1% of the assets are gone from the third scan on, and as many new ones appear.
    let range = if generation >= 2 {
        n / 100..n + n / 100
    } else {
        0..n
    };
    let assets = range.map(|i| asset(i, generation)).collect();
    Report {
        tool: ToolInfo {
            name: "trustmap".into(),
            version: "bench".into(),
        },
        scan: ScanInfo {
            id: id.into(),
            started_at: trustmap_core::Timestamp::parse("2026-11-01T00:00:00Z").unwrap(),
            roots: vec!["/srv".into()],
            host: "scanner1".into(),
            files_scanned: n as u64,
            bytes_scanned: 0,
            duration_ms: 0,
            policy: None,
            policy_ignored: vec![],
            excluded: 0,
        },
        assets,
        relations: vec![],
        findings: vec![],
        errors: vec![],
    }
}
