//! `scan --format html` rendered in a real browser: Debian's chromium driven by playwright-core
//! (`tests/browser/check-report.js`; scripts/test installs both). The page must open offline
//! (no request leaves the file), run without a script error, and show a subject full of
//! markup as text.

use crate::common::{ec_cert, openssl, trustmap};
use std::path::Path;
use std::process::Command;

#[test]
fn the_html_report_renders_offline_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ec_cert(d, "svc", "300");
    ec_cert(d, "old", "1");
    openssl(
        d,
        &[
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "evil.key", "-out", "evil.crt", "-days", "30", "-subj",
            "/CN=evil<img src=x onerror=alert(1)><\\/script>",
        ],
    );
    let out = tempfile::tempdir().unwrap();
    let html = out.path().join("report.html");
    let (code, _, err) = trustmap(&[
        "scan", d.to_str().unwrap(), "--no-store", "-q", "--format", "html", "--output",
        html.to_str().unwrap(), "--now", "2026-12-31",
    ]);
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(!page.contains("<img src=x"), "markup from a subject is never in the page as markup");
    let browser = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let run = Command::new("node")
        .current_dir(&browser)
        .arg("check-report.js")
        .arg(&html)
        .output()
        .expect("node (scripts/test installs chromium and playwright-core)");
    assert!(
        run.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(r["errors"], serde_json::json!([]), "no script error");
    assert_eq!(r["requests"], serde_json::json!([]), "the page opens offline");
    assert_eq!(r["injected"], 2, "only the page's own two script elements");
    assert_eq!(r["stats"]["certificates"], 3);
    // `old` was valid for one day; judged on 2026-12-31 it has expired.
    assert_eq!(r["stats"]["expired"], 1);
    assert_eq!(r["timelineBars"][0], serde_json::json!(["expired", 1]));
    let rows = r["rows"].as_array().unwrap().len();
    assert_eq!(rows, 6, "three certificates and their keys");
    assert!(
        r["names"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "evil<img src=x onerror=alert(1)></script>"),
        "the subject is shown as text: {}",
        r["names"]
    );
    assert_eq!(r["filtered"].as_array().unwrap().len(), 2, "{}", r["shown"]);
    assert_eq!(r["sortState"], "ascending");
    let sorted: Vec<&str> = r["sortedByName"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(sorted.len(), rows);
    assert!(r["detailPlaces"].as_u64().unwrap() >= 1);
    assert!(r["detailTitle"].as_str().is_some_and(|t| !t.is_empty()));
}
