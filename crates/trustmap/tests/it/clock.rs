//! `--now` (judge as if it were another instant) and `--host` (the host a scan is recorded
//! under), through the real binary, on SQLite (and PostgreSQL when `TRUSTMAP_TEST_PG_URL` is
//! set).

use serde_json::Value;

use crate::common::{ec_cert, trustmap};

fn json(args: &[&str]) -> Value {
    let (c, out, err) = trustmap(args);
    assert_eq!(c, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
}

fn rules(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn now_judges_expiry_and_host_names_the_scan() {
    for db in crate::common::backends("c", "now") {
        let t = tempfile::tempdir().unwrap();
        ec_cert(t.path(), "web", "400");
        let dir = t.path().to_str().unwrap();
        let base = ["scan", dir, "-f", "json", "-q", "--db", &db.target];

        let today = json(&[&base[..], &["--host", "edge-01"]].concat());
        assert_eq!(today["scan"]["host"], "edge-01", "[{}]", db.name);
        assert!(!rules(&today).contains(&"cert-expired".to_string()));
        let scans = json(&["scans", "-f", "json", "--db", &db.target]);
        assert_eq!(scans[0]["host"], "edge-01", "[{}] {scans}", db.name);

        // In five years the certificate has expired; in a year minus a month it is expiring.
        let later = json(&[&base[..], &["--now", "2099-01-01"]].concat());
        assert!(rules(&later).contains(&"cert-expired".to_string()));
        assert_ne!(later["scan"]["host"], "edge-01");

        let assets = |extra: &[&str]| {
            let args = [&["assets", "-f", "json", "--db", &db.target][..], extra].concat();
            json(&args).as_array().unwrap().len()
        };
        assert_eq!(assets(&["--expired"]), 0, "[{}]", db.name);
        assert_eq!(assets(&["--expired", "--now", "2099-01-01"]), 1);
        assert_eq!(assets(&["--expiring", "30d"]), 0);
        let soon = (time::OffsetDateTime::now_utc() + time::Duration::days(390)).date();
        assert_eq!(
            assets(&["--expiring", "30d", "--now", &soon.to_string()]),
            1
        );

        let (c, _, err) = trustmap(&[&base[..], &["--now", "someday"]].concat());
        assert_eq!(c, 2);
        assert!(err.contains("bad date \"someday\""), "{err}");
    }
}
