//! Shared by the store's integration tests: a store per backend (SQLite always, PostgreSQL
//! when `TRUSTMAP_TEST_PG_URL` is set, in a fresh schema), and reports built by hand.

#![allow(dead_code)] // each test binary uses a different subset

use trustmap_core::{
    Asset, AssetKind, Occurrence, Report, ScanInfo, ToolInfo, asset_id, fingerprint,
};
use trustmap_store::{ScanMeta, ScanRoot};

pub struct Target {
    pub name: &'static str,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some((url, schema)) = &self.pg
            && !std::thread::panicking()
        {
            let _ = trustmap_store::drop_pg_schema(url, schema);
        }
    }
}

/// The PostgreSQL server to test against, when there is one.
pub fn pg_url() -> Option<String> {
    std::env::var("TRUSTMAP_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// `prefix` keeps the schemas of parallel test binaries apart.
pub fn targets(prefix: &str, test: &str) -> Vec<Target> {
    let dir = tempfile::tempdir().unwrap();
    let mut v = vec![Target {
        name: "sqlite",
        url: dir.path().join("t.db").to_string_lossy().into_owned(),
        _dir: Some(dir),
        pg: None,
    }];
    if let Some(url) = pg_url() {
        let schema = format!("{prefix}_{test}_{}", std::process::id());
        v.push(Target {
            name: "postgres",
            url: trustmap_store::fresh_pg_schema(&url, &schema).unwrap(),
            _dir: None,
            pg: Some((url, schema)),
        });
    }
    v
}

pub fn occurrence(path: &str, root: Option<&str>) -> Occurrence {
    Occurrence {
        path: path.into(),
        line: Some(1),
        offset: None,
        container: None,
        root: root.map(str::to_string),
    }
}

/// A certificate asset (no facts) identified by `seed`, at these places.
pub fn cert_at(seed: &str, places: Vec<Occurrence>) -> Asset {
    let fp = fingerprint(seed.as_bytes());
    Asset {
        id: asset_id(AssetKind::Certificate, &fp),
        kind: AssetKind::Certificate,
        fingerprint: fp,
        occurrences: places,
        certificate: None,
        key: None,
        secret: None,
        keystore: None,
        consumer: None,
        endpoint: None,
        owners: vec![],
    }
}

pub fn cert(seed: &str, path: &str) -> Asset {
    cert_at(seed, vec![occurrence(path, None)])
}

pub fn report(id: &str, roots: &[&str], assets: Vec<Asset>) -> Report {
    Report {
        tool: ToolInfo {
            name: "trustmap".into(),
            version: "test".into(),
        },
        scan: ScanInfo {
            id: id.into(),
            started_at: trustmap_core::Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
            roots: roots.iter().map(|r| r.to_string()).collect(),
            host: "scanner-says".into(),
            files_scanned: 1,
            bytes_scanned: 1,
            duration_ms: 1,
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

/// Scan metadata: `roots` as (given, canonical).
pub fn meta(host: &str, roots: &[(&str, &str)], finished_at: &str) -> ScanMeta {
    ScanMeta {
        host: host.into(),
        roots: roots
            .iter()
            .map(|(g, c)| ScanRoot {
                given: g.to_string(),
                canonical: c.to_string(),
            })
            .collect(),
        finished_at: finished_at.into(),
    }
}
