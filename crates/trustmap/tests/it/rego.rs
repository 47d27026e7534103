//! Custom rules in Rego from the command line: `scan --rego FILE|DIR` with the two examples
//! in examples/rego/, on fixtures made with openssl. Every scan runs with `--no-store`.

use crate::common::{openssl, trustmap};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn example(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/rego")
        .join(name);
    p.to_str().unwrap().to_string()
}

/// Custom findings of `rule` after scanning `dir` with `rego`.
fn fired(dir: &Path, rego: &str, rule: &str) -> Vec<Value> {
    let (code, out, err) = trustmap(&[
        "scan",
        dir.to_str().unwrap(),
        "--no-store",
        "-q",
        "--format",
        "json",
        "--rego",
        rego,
    ]);
    assert_eq!(code, 0, "{err}");
    let r: Value = serde_json::from_str(&out).expect("JSON on stdout");
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .cloned()
        .collect()
}

fn self_signed(dir: &Path, name: &str, cn: &str, days: &str) {
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
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
            "-days",
            days,
            "-subj",
            &format!("/CN={cn}"),
        ],
    );
}

fn rsa_key(dir: &Path, sub: &str, bits: &str) -> PathBuf {
    let d = dir.join(sub);
    std::fs::create_dir_all(&d).unwrap();
    openssl(
        &d,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            &format!("rsa_keygen_bits:{bits}"),
            "-out",
            "svc.key",
        ],
    );
    d
}

#[test]
fn legacy_ca_example_fires_only_on_legacy_certificates() {
    let rego = example("legacy-ca.rego");
    let pos = tempfile::tempdir().unwrap();
    self_signed(pos.path(), "old", "Legacy Corp CA", "1500");
    let hits = fired(pos.path(), &rego, "org-legacy-ca-2027");
    assert_eq!(hits.len(), 1, "{hits:?}");
    let f = &hits[0];
    assert_eq!(f["severity"], "high");
    assert_eq!(f["path"], "old.crt");
    assert!(f["asset"].as_str().unwrap().starts_with("crt_"), "{f}");
    assert_eq!(f["frameworks"], serde_json::json!([]));
    assert!(
        f["message"].as_str().unwrap().contains("before 2027"),
        "{f}"
    );

    let neg = tempfile::tempdir().unwrap();
    self_signed(neg.path(), "new", "New Corp CA", "1500");
    assert!(fired(neg.path(), &rego, "org-legacy-ca-2027").is_empty());
}

#[test]
fn payments_rsa_example_fires_only_under_payments() {
    let rego = example("payments-rsa.rego");
    let pos = tempfile::tempdir().unwrap();
    rsa_key(pos.path(), "payments/api", "2048");
    let hits = fired(pos.path(), &rego, "org-payments-rsa-3072");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["severity"], "critical");
    assert_eq!(hits[0]["path"], "payments/api/svc.key");

    let neg = tempfile::tempdir().unwrap();
    rsa_key(neg.path(), "billing", "2048");
    assert!(fired(neg.path(), &rego, "org-payments-rsa-3072").is_empty());

    // A directory of rules loads every .rego file in it.
    let dir = Path::new(&rego)
        .parent()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(fired(pos.path(), &dir, "org-payments-rsa-3072").len(), 1);
}

#[test]
fn rego_syntax_error_exits_2_naming_the_file() {
    let tree = tempfile::tempdir().unwrap();
    self_signed(tree.path(), "a", "Anything", "30");
    let rules = tempfile::tempdir().unwrap();
    let bad = rules.path().join("broken.rego");
    std::fs::write(
        &bad,
        "package trustmap.custom\n\nfindings contains f if {\n  f := \n}\n",
    )
    .unwrap();
    let (code, _, err) = trustmap(&[
        "scan",
        tree.path().to_str().unwrap(),
        "--no-store",
        "-q",
        "--rego",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("broken.rego"), "{err}");
}

#[test]
fn invalid_severity_exits_2_naming_the_rule() {
    let tree = tempfile::tempdir().unwrap();
    self_signed(tree.path(), "a", "Anything", "30");
    let rules = tempfile::tempdir().unwrap();
    let bad = rules.path().join("sev.rego");
    std::fs::write(
        &bad,
        "package trustmap.custom\n\nimport rego.v1\n\nfindings contains f if {\n  input.asset.certificate\n  f := {\"id\": \"org-bad-sev\", \"severity\": \"urgent\", \"message\": \"x\"}\n}\n",
    )
    .unwrap();
    let (code, _, err) = trustmap(&[
        "scan",
        tree.path().to_str().unwrap(),
        "--no-store",
        "-q",
        "--rego",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("org-bad-sev"), "{err}");
}

/// `trustmap scan DIR --rego FILE EXTRA...` with `rule` as the file: (exit code, stderr).
fn hostile(rule: &str, extra: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    crate::common::ec_cert(dir.path(), "svc", "300");
    let file = dir.path().join("hostile.rego");
    std::fs::write(&file, rule).unwrap();
    let mut args = vec![
        "scan",
        dir.path().to_str().unwrap(),
        "--no-store",
        "-q",
        "--rego",
        file.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (code, _, err) = trustmap(&args);
    assert!(
        err.contains("hostile.rego"),
        "the error names the file: {err}"
    );
    (code, err)
}

#[test]
fn a_rego_file_cannot_take_the_process_down() {
    // A function that calls itself: regorus recurses until the stack overflows, which would
    // abort the whole scan; it happens in the evaluator, and the scan reports it.
    let (code, err) = hostile(
        "package trustmap.custom\nimport rego.v1\n\nf(x) := y if { y := f(x + 1) }\n\n\
         findings contains {\"id\": \"r\", \"severity\": \"low\", \"message\": \"m\"} if { f(1) }\n",
        &[],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("overflowed its stack"), "{err}");
    // A rule that builds far more than it may: stopped at the findings or memory limit.
    let (code, err) = hostile(
        "package trustmap.custom\nimport rego.v1\n\n\
         findings contains {\"id\": sprintf(\"r%d\", [i]), \"severity\": \"low\", \"message\": \"m\"} \
         if { some i in numbers.range(1, 5000) }\n",
        &["--rego-max-findings", "1000"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("more than 1000 findings"), "{err}");
    let (code, err) = hostile(
        "package trustmap.custom\nimport rego.v1\n\n\
         big := [x | some x in numbers.range(1, 100000000)]\n\n\
         findings contains {\"id\": \"r\", \"severity\": \"low\", \"message\": \"m\"} if { count(big) > 0 }\n",
        &["--rego-memory", "64", "--rego-timeout", "60"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("64 MiB"), "{err}");
    // A rule that runs on and on: stopped at the time limit.
    let (code, err) = hostile(
        "package trustmap.custom\nimport rego.v1\n\n\
         n := count([x | some x in numbers.range(1, 2000000); some y in numbers.range(1, 2000000); x == y])\n\n\
         findings contains {\"id\": \"r\", \"severity\": \"low\", \"message\": \"m\"} if { n > 0 }\n",
        &["--rego-timeout", "2"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("stopped after 2 s"), "{err}");
}
