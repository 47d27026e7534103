//! `trustmap report`, `findings` and `metrics`: what a recorded scan said, read back from
//! the inventory without a rescan, on SQLite and on PostgreSQL (`TRUSTMAP_TEST_PG_URL`).

use serde_json::Value;
use std::path::Path;

use crate::common::{Db, backends, ec_cert, on_db, on_db_ok};

/// The JSON contract without what the store does not keep (a place's byte offset).
fn without_offsets(mut v: Value) -> Value {
    for a in v["assets"].as_array_mut().unwrap() {
        for o in a["occurrences"].as_array_mut().unwrap() {
            o.as_object_mut().unwrap().remove("offset");
        }
    }
    v
}

fn scan(db: &Db, dir: &Path) -> Value {
    let out = on_db_ok(db, 0, &["scan", dir.to_str().unwrap(), "-f", "json", "-q"]);
    serde_json::from_str(&out).unwrap()
}

fn findings(db: &Db, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["findings", "-f", "json"];
    args.extend_from_slice(extra);
    serde_json::from_str::<Value>(&on_db_ok(db, 0, &args))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn rules(list: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = list
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["rule"].as_str().unwrap(),
                f["path"].as_str().unwrap_or("")
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_recorded_scan_is_reported_and_its_findings_listed_without_a_rescan() {
    for db in backends("st", "report") {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("svc")).unwrap();
        ec_cert(&t.path().join("svc"), "web", "20"); // an unprotected key, a private root
        let first = scan(&db, t.path());
        let first_id = first["scan"]["id"].as_str().unwrap().to_string();

        // The report from the store is the scan's JSON, byte for byte but for offsets.
        let stored: Value =
            serde_json::from_str(&on_db_ok(&db, 0, &["report", "-f", "json"])).unwrap();
        assert_eq!(stored, without_offsets(first.clone()), "[{}]", db.name);
        // Every exporter runs on it.
        let sarif: Value =
            serde_json::from_str(&on_db_ok(&db, 0, &["report", "-f", "sarif"])).unwrap();
        assert_eq!(
            sarif["runs"][0]["results"].as_array().unwrap().len(),
            first["findings"].as_array().unwrap().len()
        );
        assert_eq!(
            sarif["runs"][0]["automationDetails"]["id"],
            format!("trustmap/{first_id}")
        );
        let summary = on_db_ok(&db, 0, &["report"]);
        assert!(
            summary.contains("key-unprotected        svc/web.key:1"),
            "{summary}"
        );

        // A second scan sees a new certificate, named to test the CSV formula guard.
        ec_cert(t.path(), "=cmd", "400");
        let second = scan(&db, t.path());
        let all = findings(&db, &[]);
        assert_eq!(all.len(), second["findings"].as_array().unwrap().len());
        let new = findings(&db, &["--new-since", &first_id]);
        assert!(!new.is_empty());
        assert!(
            new.iter()
                .all(|f| f["path"].as_str().unwrap().starts_with("=cmd.")),
            "only the new certificate's findings are new: {:?}",
            rules(&new)
        );
        // As of the first scan: its findings, not the second's.
        let then = findings(&db, &["--as-of", &first_id]);
        assert_eq!(rules(&then), rules(first["findings"].as_array().unwrap()));

        // Filters.
        let high = findings(&db, &["--severity", "high"]);
        assert!(!high.is_empty());
        assert!(
            high.iter()
                .all(|f| ["high", "critical"].contains(&f["severity"].as_str().unwrap()))
        );
        assert!(high.len() < all.len());
        let svc = findings(&db, &["--path", "svc/*"]);
        assert!(!svc.is_empty());
        assert!(
            svc.iter()
                .all(|f| f["path"].as_str().unwrap().starts_with("svc/"))
        );
        let unprotected = findings(&db, &["--rule", "key-unprotected"]);
        assert_eq!(
            rules(&unprotected),
            vec!["key-unprotected =cmd.key", "key-unprotected svc/web.key"]
        );
        let (c, _, err) = on_db(&db, &["findings", "--rule", "key-unprotectd"]);
        assert_eq!(c, 2);
        assert!(err.contains("did you mean key-unprotected"), "{err}");

        // Owners and waivers as the inventory has them.
        on_db_ok(
            &db,
            0,
            &["owner", "set", "--path", "svc/*", "--owner", "@acme/edge"],
        );
        scan(&db, t.path());
        let edge = findings(&db, &["--owner", "edge"]);
        assert!(!edge.is_empty());
        assert!(
            edge.iter()
                .all(|f| f["owners"] == serde_json::json!(["@acme/edge"]))
        );
        // The same findings as before, less `asset-unowned`, which the owner settled.
        let mut before = rules(&svc);
        before.retain(|r| !r.starts_with("asset-unowned"));
        assert_eq!(rules(&edge), before);
        let key = high
            .iter()
            .find(|f| f["rule"] == "key-unprotected" && f["path"] == "svc/web.key")
            .unwrap()["asset"]
            .as_str()
            .unwrap()
            .to_string();
        on_db_ok(
            &db,
            0,
            &[
                "waive",
                "key-unprotected",
                &key,
                "--reason",
                "lab",
                "--by",
                "alice",
                "--until",
                "2099-01-01",
            ],
        );
        // Before a scan applies it, the stored findings are as judged.
        assert!(findings(&db, &["--waived", "yes"]).is_empty());
        scan(&db, t.path());
        let waived = findings(&db, &["--waived", "yes"]);
        assert_eq!(
            rules(&waived),
            vec!["key-unprotected svc/web.key".to_string()]
        );
        assert_eq!(waived[0]["waiver"]["by"], "alice");
        assert!(
            findings(&db, &["--waived", "no"])
                .iter()
                .all(|f| f.get("waiver").is_none())
        );

        // Exit codes as `scan`: the gate counts unwaived findings among those listed.
        let (c, _, _) = on_db(&db, &["findings", "--fail-on", "high"]);
        assert_eq!(c, 1, "an unwaived high finding is left (=cmd.key)");
        let (c, _, _) = on_db(
            &db,
            &[
                "findings",
                "--path",
                "svc/*",
                "--rule",
                "key-unprotected",
                "--fail-on",
                "high",
            ],
        );
        assert_eq!(c, 0, "the only one listed is waived");

        // CSV: one row per finding, formula cells neutralised.
        let csv = on_db_ok(&db, 0, &["findings", "-f", "csv", "--path", "=*"]);
        let mut rd = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), findings(&db, &["--path", "=*"]).len());
        assert!(rows.iter().all(|r| r[3].starts_with("'=cmd.")), "{csv}");

        // Table: a count line naming the scan.
        let table = on_db_ok(&db, 0, &["findings", "--severity", "critical"]);
        assert!(table.contains(" findings, from scan "), "{table}");

        // Metrics from the store: one x509_cert_not_after per certificate place.
        let m = on_db_ok(&db, 0, &["metrics"]);
        let lines: Vec<&str> = m
            .lines()
            .filter(|l| l.starts_with("x509_cert_not_after{"))
            .collect();
        assert_eq!(lines.len(), 2, "{m}");
        assert!(
            lines.iter().any(|l| l.contains("filepath=\"svc/web.crt\"")),
            "{m}"
        );

        // Nothing before the first scan; a bad date is an error, not a scan id.
        let (c, _, err) = on_db(&db, &["report", "--as-of", "2001-01-01"]);
        assert_eq!(c, 2);
        assert!(
            err.contains("no scan had finished by 2001-01-01T23:59:59Z"),
            "{err}"
        );
        let (c, _, err) = on_db(&db, &["report", "--as-of", "2026-02-30"]);
        assert_eq!(c, 2);
        assert!(err.contains("not a valid date"), "{err}");
    }
}

#[test]
fn reading_commands_need_an_inventory() {
    let t = tempfile::tempdir().unwrap();
    let missing = t.path().join("nope.db");
    for cmd in [["report"].as_slice(), &["findings"], &["metrics"]] {
        let mut args = cmd.to_vec();
        args.extend(["--db", missing.to_str().unwrap()]);
        let (c, _, err) = crate::common::trustmap(&args);
        assert_eq!(c, 2, "{args:?}");
        assert!(err.contains("no inventory"), "{err}");
        assert!(!missing.exists());
    }
}
