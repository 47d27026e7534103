//! `scan --format html` rendered in a real browser: Debian's chromium driven by playwright-core
//! (`tests/browser/check-report.js`; scripts/test installs both, and a missing browser fails
//! the test). The page must open offline (every request is logged and aborted; none may
//! happen), run without a script error, agree with the JSON report of the same tree, filter,
//! sort and open an asset's detail, and show a subject and a file name full of markup and
//! terminal escapes as text.

use crate::common::{browser_script, ec_cert, openssl, trustmap};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

const NOW: &str = "2026-12-31";
const EVIL_CN: &str = "evil<img src=x onerror=alert(1)>\u{1b}[31m";
const EVIL_O: &str = "</script><script>window.pwned=1</script>";
const EVIL_FILE: &str = "evil<img src=x onerror=alert(2)>\u{1b}[0m";

/// A tree with a certificate valid 300 days (also copied elsewhere: two places), one valid a
/// day (expired at `NOW`), one whose subject and file name are hostile, and their keys.
fn tree(d: &Path) {
    ec_cert(d, "svc", "300");
    ec_cert(d, "old", "1");
    std::fs::create_dir(d.join("copies")).unwrap();
    std::fs::copy(d.join("svc.crt"), d.join("copies/svc-copy.pem")).unwrap();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{EVIL_FILE}.key"),
            "-out",
            &format!("{EVIL_FILE}.crt"),
            "-days",
            "30",
            "-subj",
            &format!("/CN={EVIL_CN}/O={}", EVIL_O.replace('/', "\\/")),
        ],
    );
}

/// What the page shows for text with control characters (the page's `show()`).
fn shown(text: &str) -> String {
    text.replace('\u{1b}', "\\x1b")
}

/// Runs check-report.js on `html` with `args`; what it saw.
fn browse(html: &Path, args: &[&str]) -> Value {
    let mut all = vec![html.as_os_str()];
    all.extend(args.iter().map(std::ffi::OsStr::new));
    browser_script("check-report.js", &all)
}

fn count_by<'a>(items: impl Iterator<Item = &'a str>) -> Value {
    let mut m: BTreeMap<&str, u64> = BTreeMap::new();
    for k in items {
        *m.entry(k).or_default() += 1;
    }
    json!(m)
}

/// The inventory table's name for a certificate or key (the page's `nameOf`).
fn name_of(a: &Value) -> String {
    if let Some(c) = a.get("certificate").filter(|c| !c.is_null()) {
        return c["subject_cn"].as_str().unwrap().to_string();
    }
    let k = &a["key"];
    format!(
        "{} {}",
        k["algorithm"].as_str().unwrap(),
        k["curve"].as_str().unwrap()
    )
}

#[test]
fn the_html_report_renders_offline_in_chromium_and_agrees_with_the_json() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    tree(d);
    let root = d.to_str().unwrap();
    let (code, stdout, err) = trustmap(&[
        "scan",
        root,
        "--no-store",
        "-q",
        "--format",
        "json",
        "--now",
        NOW,
    ]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let out = tempfile::tempdir().unwrap();
    let html = out.path().join("report.html");
    let (code, _, err) = trustmap(&[
        "scan",
        root,
        "--no-store",
        "-q",
        "--format",
        "html",
        "--output",
        html.to_str().unwrap(),
        "--now",
        NOW,
    ]);
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    for markup in ["<img src=x", "<script>window.pwned", "\u{1b}"] {
        assert!(
            !page.contains(markup),
            "{markup:?} is in the page as markup"
        );
    }

    let assets = report["assets"].as_array().unwrap();
    let by_kind = |k: &str| assets.iter().filter(|a| a["kind"] == k).collect::<Vec<_>>();
    let certs = by_kind("certificate");
    assert_eq!(certs.len(), 3);
    let svc = certs
        .iter()
        .find(|a| a["certificate"]["subject_cn"] == "svc.example.test")
        .unwrap();
    let svc_id = svc["id"].as_str().unwrap();
    let evil: Vec<&str> = assets
        .iter()
        .filter(|a| {
            a["occurrences"][0]["path"]
                .as_str()
                .unwrap()
                .starts_with("evil<img")
        })
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(evil.len(), 2, "the hostile certificate and its key");

    let r = browse(&html, &["--filter", "ONERROR=ALERT(2)", "--detail", svc_id]);

    // Offline, no script error, nothing injected, nothing blocked that the page wanted.
    assert_eq!(r["requests"], json!([]), "the page makes no request");
    assert_eq!(r["errors"], json!([]), "no script error");
    assert_eq!(
        r["dialogs"],
        json!([]),
        "no alert from a subject or a file name"
    );
    assert_eq!(r["pwned"], Value::Null, "no script from a subject ran");
    assert_eq!(r["images"], 0, "no <img> element came from the data");
    assert_eq!(
        r["scripts"], 2,
        "the page's own data and script elements only"
    );
    assert_eq!(
        r["cspViolations"],
        json!([]),
        "the page's own script runs under its CSP"
    );
    assert!(
        r["title"]
            .as_str()
            .unwrap()
            .starts_with("trustmap report: ")
    );

    // Posture and findings agree with the JSON report of the same tree.
    let findings = report["findings"].as_array().unwrap();
    let open: Vec<&Value> = findings
        .iter()
        .filter(|f| f["waiver"].is_null() && f["baselined"] != true)
        .collect();
    let expired: Vec<&str> = certs
        .iter()
        .filter(|a| a["certificate"]["not_after"].as_str().unwrap() < NOW)
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(expired.len(), 1, "`old` was valid for a day");
    assert_eq!(r["stats"]["assets"], assets.len());
    assert_eq!(r["stats"]["certificates"], 3);
    assert_eq!(r["stats"]["expired"], 1);
    assert_eq!(r["stats"]["open findings"], open.len());
    assert_eq!(
        r["stats"]["errors"],
        report["errors"].as_array().unwrap().len()
    );
    assert_eq!(
        r["bySeverity"],
        count_by(open.iter().map(|f| f["severity"].as_str().unwrap()))
    );
    assert_eq!(
        r["byRule"],
        count_by(open.iter().map(|f| f["rule"].as_str().unwrap()))
    );
    assert!(r["byRule"]["cert-expired"].as_u64() >= Some(1));
    assert_eq!(
        r["algorithms"],
        json!({"EC P-256": 6}),
        "three certificates and three keys"
    );
    assert_eq!(r["pqc"], json!({"quantum-vulnerable": 6}));

    // The expiry chart: one mark per certificate, in the column of its expiry month.
    let marks = r["marks"].as_array().unwrap();
    assert_eq!(marks.len(), certs.len(), "{marks:?}");
    for c in &certs {
        let not_after = c["certificate"]["not_after"].as_str().unwrap();
        let column = if not_after < NOW {
            "expired"
        } else {
            &not_after[..7]
        };
        assert!(
            marks
                .iter()
                .any(|m| m["id"] == c["id"] && m["column"] == column),
            "{} expiring {not_after} in column {column}: {marks:?}",
            c["id"]
        );
    }

    // The inventory: every asset a row; the filter narrows it (case-insensitive, file names).
    let mut all: Vec<&str> = assets.iter().map(|a| a["id"].as_str().unwrap()).collect();
    all.sort();
    let mut rows: Vec<&str> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    rows.sort();
    assert_eq!(rows, all);
    let mut filtered: Vec<&str> = r["filtered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    filtered.sort();
    let mut evil_sorted = evil.clone();
    evil_sorted.sort();
    assert_eq!(filtered, evil_sorted, "{}", r["shown"]);
    assert_eq!(r["shown"], format!("2 of {} assets", assets.len()));
    assert_eq!(
        r["unfiltered"],
        assets.len(),
        "clearing the filter shows every row"
    );

    // The hostile subject and file name are text, escapes shown, in the row and the title.
    let evil_cert = evil.iter().find(|id| id.starts_with("crt_")).unwrap();
    let cells = &r["rowText"][evil_cert];
    assert_eq!(cells[2], shown(EVIL_CN));
    assert_eq!(cells[3], format!("{}.crt:1", shown(EVIL_FILE)));

    // Sorting by name: ascending (ties by id), then descending.
    let by_id: BTreeMap<&str, &Value> = assets
        .iter()
        .map(|a| (a["id"].as_str().unwrap(), a))
        .collect();
    let mut expect: Vec<(String, &str)> = by_id.iter().map(|(id, a)| (name_of(a), *id)).collect();
    expect.sort();
    let expect_ids: Vec<&str> = expect.iter().map(|e| e.1).collect();
    assert_eq!(r["sortState"], "ascending");
    assert_eq!(r["sortedByName"], json!(expect_ids));
    assert_eq!(r["sortStateDesc"], "descending");
    let desc_names: Vec<String> = r["sortedByNameDesc"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| name_of(by_id[id.as_str().unwrap()]))
        .collect();
    let mut names_desc = desc_names.clone();
    names_desc.sort_by(|a, b| b.cmp(a));
    assert_eq!(desc_names, names_desc);

    // The detail view of the copied certificate: both places, its findings, its relations.
    let det = &r["detail"];
    assert_eq!(det["hash"], format!("#asset={svc_id}"));
    assert_eq!(det["title"], "svc.example.test");
    let mut places: Vec<String> = svc["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| format!("{}:{}", o["path"].as_str().unwrap(), o["line"]))
        .collect();
    places.sort();
    assert_eq!(places, ["copies/svc-copy.pem:1", "svc.crt:1"]);
    assert_eq!(det["places"], json!(places));
    assert_eq!(det["facts"]["subject"], "CN=svc.example.test");
    let mut svc_rules: Vec<&str> = findings
        .iter()
        .filter(|f| f["asset"] == svc_id)
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    let mut det_rules: Vec<&str> = det["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    svc_rules.sort();
    det_rules.sort();
    assert_eq!(det_rules, svc_rules);
    let relations = report["relations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["from"] == svc_id || x["to"] == svc_id)
        .count();
    assert!(relations >= 1, "the certificate and its key are related");
    assert_eq!(det["relations"].as_array().unwrap().len(), relations);
    assert_eq!(r["detailClosed"], true);
}

#[test]
fn a_hostile_subject_in_the_detail_view_is_text() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    let out = tempfile::tempdir().unwrap();
    let html = out.path().join("report.html");
    let (code, stdout, err) = trustmap(&[
        "scan",
        dir.path().to_str().unwrap(),
        "--no-store",
        "-q",
        "--format",
        "json",
        "--now",
        NOW,
    ]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let evil = report["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["certificate"]["subject_cn"]
                .as_str()
                .is_some_and(|cn| cn.starts_with("evil"))
        })
        .unwrap();
    let (code, _, err) = trustmap(&[
        "scan",
        dir.path().to_str().unwrap(),
        "--no-store",
        "-q",
        "--format",
        "html",
        "-o",
        html.to_str().unwrap(),
        "--now",
        NOW,
    ]);
    assert_eq!(code, 0, "{err}");
    let r = browse(&html, &["--detail", evil["id"].as_str().unwrap()]);
    assert_eq!(r["dialogs"], json!([]));
    assert_eq!(r["pwned"], Value::Null);
    assert_eq!(r["images"], 0);
    assert_eq!(r["errors"], json!([]));
    let det = &r["detail"];
    assert_eq!(det["title"], shown(EVIL_CN));
    assert_eq!(
        det["facts"]["subject"],
        shown(evil["certificate"]["subject"].as_str().unwrap()),
        "the organisation's </script><script> is shown, not run"
    );
    assert!(
        det["facts"]["subject"]
            .as_str()
            .unwrap()
            .contains("window.pwned=1")
    );
    assert_eq!(det["places"][0], format!("{}.crt:1", shown(EVIL_FILE)));
}
