//! `scan --format csv|prometheus`, each read back by a program that consumes it: the `csv`
//! crate's reader, and Prometheus's own Python client parser (`prometheus_client`, which
//! scripts/test installs). A certificate whose subject holds an escape sequence, markup,
//! quotes and a formula goes through each.

use crate::common::{ec_cert, openssl, trustmap};
use std::path::Path;
use std::process::Command;

/// `evil.crt`/`evil.key`: a subject with an ESC sequence, a script tag, quotes, a comma and
/// a spreadsheet formula.
fn evil(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "evil.key",
            "-out",
            "evil.crt",
            "-days",
            "30",
            "-subj",
            "/CN=a\u{1b}[31mred<script>x<\\/script>,\"q\"/O==HYPERLINK(1)",
        ],
    );
}

fn scan(dir: &Path, format: &str, extra: &[&str]) -> String {
    let mut args = vec!["scan", dir.to_str().unwrap(), "--no-store", "-f", format];
    args.extend_from_slice(extra);
    let (code, out, err) = trustmap(&args);
    assert_eq!(code, 0, "{err}");
    out
}

#[test]
fn csv_has_a_row_per_asset_and_finding_and_is_safe_to_open() {
    let dir = tempfile::tempdir().unwrap();
    evil(dir.path());
    ec_cert(dir.path(), "svc", "300");
    let report: serde_json::Value = serde_json::from_str(&scan(dir.path(), "json", &[])).unwrap();
    let out = scan(dir.path(), "csv", &[]);
    assert!(!out.contains('\u{1b}'), "no raw escape sequence");
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(header, trustmap_export::csv::COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let count = |kind: &str| rows.iter().filter(|r| &r[0] == kind).count();
    assert_eq!(count("asset"), report["assets"].as_array().unwrap().len());
    assert_eq!(
        count("finding"),
        report["findings"].as_array().unwrap().len()
    );
    let cert = rows
        .iter()
        .find(|r| &r[0] == "asset" && &r[4] == "evil.crt")
        .unwrap();
    assert_eq!(&cert[3], "a\\x1b[31mred<script>x</script>,\"q\"");
    assert_eq!(&cert[2], "certificate");
    assert_eq!(&cert[8], "EC");
    // The issuer starts with CN=, not a formula; O==HYPERLINK(1) inside it is inert.
    assert!(cert[13].starts_with("CN=a\\x1b"), "{}", &cert[13]);
    // Every finding row names its rule, severity and status.
    for r in rows.iter().filter(|r| &r[0] == "finding") {
        assert!(!r[16].is_empty() && !r[17].is_empty(), "{r:?}");
        assert_eq!(&r[18], "open");
    }
    // A cell that would start a formula is neutralised.
    for r in &rows {
        for c in r.iter() {
            assert!(!c.starts_with(['=', '+', '-', '@']), "{c:?} in {r:?}");
        }
    }
}

#[test]
fn prometheus_metrics_parse_and_match_the_x509_exporters_labels() {
    let dir = tempfile::tempdir().unwrap();
    evil(dir.path());
    ec_cert(dir.path(), "svc", "300");
    std::fs::write(
        dir.path().join("broken.pem"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n",
    )
    .unwrap();
    // Judged in 2030, both certificates have expired.
    let out = scan(dir.path(), "prometheus", &["--now", "2030-01-01"]);
    let serial = Command::new("openssl")
        .args(["x509", "-noout", "-serial", "-in"])
        .arg(dir.path().join("svc.crt"))
        .output()
        .unwrap();
    let serial = String::from_utf8_lossy(&serial.stdout)
        .trim()
        .trim_start_matches("serial=")
        .to_string();
    let script = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        out.append({"family": fam.name, "type": fam.type, "name": s.name, "labels": s.labels, "value": s.value})
print(json.dumps(out))
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 (scripts/test installs prometheus-client)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(out.as_bytes())
        .unwrap();
    let parsed = child.wait_with_output().unwrap();
    assert!(
        parsed.status.success(),
        "the Prometheus parser rejected the output: {}\n{out}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let samples: Vec<serde_json::Value> = serde_json::from_slice(&parsed.stdout).unwrap();
    let of = |name: &str| -> Vec<&serde_json::Value> {
        samples.iter().filter(|s| s["name"] == name).collect()
    };
    let svc = of("x509_cert_not_after")
        .into_iter()
        .find(|s| s["labels"]["subject_CN"] == "svc.example.test")
        .expect("a series for svc.crt");
    // The exporter's label schema, all present.
    for label in [
        "filename",
        "filepath",
        "embedded_kind",
        "embedded_key",
        "secret_namespace",
        "secret_name",
        "secret_key",
        "serial_number",
        "issuer_C",
        "issuer_ST",
        "issuer_L",
        "issuer_O",
        "issuer_OU",
        "issuer_CN",
        "subject_C",
        "subject_ST",
        "subject_L",
        "subject_O",
        "subject_OU",
        "subject_CN",
        "discriminator",
    ] {
        assert!(svc["labels"].get(label).is_some(), "{label} missing: {svc}");
    }
    assert_eq!(svc["labels"]["filename"], "svc.crt");
    let decimal = trustmap_export::prometheus::decimal(&serial.to_lowercase());
    assert_eq!(svc["labels"]["serial_number"], decimal.as_str());
    assert!(decimal.len() > 20 && decimal.bytes().all(|b| b.is_ascii_digit()));
    // The scan's instant decides expiry: both certificates are expired in 2030.
    let expired: Vec<f64> = of("x509_cert_expired")
        .iter()
        .map(|s| s["value"].as_f64().unwrap())
        .collect();
    assert_eq!(expired, [1.0, 1.0]);
    assert!(
        of("x509_cert_expires_in_seconds")
            .iter()
            .all(|s| s["value"].as_f64().unwrap() < 0.0)
    );
    // The escape sequence survives parsing only as text.
    let evil = of("x509_cert_not_after")
        .into_iter()
        .find(|s| s["labels"]["filename"] == "evil.crt")
        .unwrap();
    assert_eq!(
        evil["labels"]["subject_CN"],
        "a\\x1b[31mred<script>x</script>,\"q\""
    );
    assert_eq!(evil["labels"]["subject_O"], "=HYPERLINK(1)");
    // The broken file is an error series; the good certificates are 0.
    let errors: Vec<(String, f64)> = of("x509_cert_error")
        .iter()
        .map(|s| {
            (
                s["labels"]["filename"].as_str().unwrap().to_string(),
                s["value"].as_f64().unwrap(),
            )
        })
        .collect();
    assert!(errors.contains(&("broken.pem".into(), 1.0)), "{errors:?}");
    assert!(errors.contains(&("svc.crt".into(), 0.0)), "{errors:?}");
    // trustmap's own series.
    assert!(
        of("trustmap_findings")
            .iter()
            .any(|s| s["labels"]["rule"] == "cert-expired" && s["labels"]["status"] == "open")
    );
    let certs: f64 = of("trustmap_assets")
        .iter()
        .filter(|s| s["labels"]["kind"] == "certificate")
        .map(|s| s["value"].as_f64().unwrap())
        .sum();
    assert_eq!(certs, 2.0);
    assert_eq!(of("trustmap_scan_errors")[0]["value"], 1.0);
}
