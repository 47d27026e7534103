//! The flow the CLI follows: a report in the JSON contract's shape, a policy file, inputs
//! from the store and the trust store, then `evaluate_with`.

use std::collections::HashMap;
use trustmap_core::policy::{Inputs, Policy, evaluate_with};
use trustmap_core::{Report, Severity};

const REPORT: &str = r#"{
  "tool": {"name": "trustmap", "version": "0.1.0"},
  "scan": {"id": "s1", "started_at": "2026-11-23T00:00:00Z", "roots": ["."], "files_scanned": 3, "bytes_scanned": 9000, "duration_ms": 5},
  "assets": [
    {"id": "crt_leaf", "kind": "certificate", "fingerprint": "sha256:aa00000000000000000000000000000000000000000000000000000000000000",
     "occurrences": [{"path": "deploy/tls.crt", "line": 1, "container": null}],
     "certificate": {"subject": "CN=api.example.com", "issuer": "CN=Corp Issuing CA", "serial": "0a1b2c3d4e5f60718293",
       "not_before": "2026-01-10T00:00:00Z", "not_after": "2026-12-01T00:00:00Z", "sans": ["DNS:api.example.com"],
       "is_ca": false, "self_signed": false, "signature_algorithm": "sha256WithRSAEncryption",
       "signature_algorithm_oid": "1.2.840.113549.1.1.11", "signature_hash": "SHA-256",
       "public_key": {"algorithm": "RSA", "bits": 2048, "curve": null, "format": "x509", "encrypted": null, "spki_sha256": "bb"},
       "version": 3, "lints": ["x509-missing-ski"]},
     "owners": [{"name": "@org/api", "role": "owner", "source": "CODEOWNERS:3"}]},
    {"id": "crt_ca", "kind": "certificate", "fingerprint": "sha256:cc00000000000000000000000000000000000000000000000000000000000000",
     "occurrences": [{"path": "deploy/ca.crt", "line": 1, "container": null}],
     "certificate": {"subject": "CN=Corp Issuing CA", "issuer": "CN=Corp Issuing CA", "serial": "01",
       "not_before": "2020-01-01T00:00:00Z", "not_after": "2035-01-01T00:00:00Z", "sans": [],
       "is_ca": true, "self_signed": true, "signature_algorithm": "sha256WithRSAEncryption",
       "signature_algorithm_oid": "1.2.840.113549.1.1.11", "signature_hash": "SHA-256",
       "public_key": {"algorithm": "RSA", "bits": 4096, "curve": null, "format": "x509", "encrypted": null, "spki_sha256": "dd"},
       "version": 3},
     "owners": [{"name": "@org/pki", "role": "owner", "source": "explicit"}]},
    {"id": "key_leaf", "kind": "private-key", "fingerprint": "sha256:bb",
     "occurrences": [{"path": "tests/fixtures/tls.key", "line": 1, "container": null}],
     "key": {"algorithm": "RSA", "bits": 2048, "curve": null, "format": "pkcs8", "encrypted": false, "spki_sha256": "bb"}}
  ],
  "relations": [{"from": "crt_leaf", "to": "crt_ca", "type": "issued-by"}, {"from": "key_leaf", "to": "crt_leaf", "type": "key-of"}],
  "findings": [],
  "errors": []
}"#;

const POLICY: &str = r#"
[validity]
private_max_days = 365

[trust]
roots = ["sha256:cc00000000000000000000000000000000000000000000000000000000000000"]

[rules]
key-quantum-vulnerable = "off"
x509-missing-ski = "info"

[[scope]]
path = "tests/**"
severity = "info"
"#;

#[test]
fn a_report_judged_under_a_policy_file() {
    let report: Report = serde_json::from_str(REPORT).unwrap();
    let policy = Policy::from_toml_with(POLICY, "trustmap.toml", &["x509-missing-ski"]).unwrap();
    let inputs = Inputs {
        first_seen: HashMap::from([(
            "key_leaf".to_string(),
            time::macros::datetime!(2023-06-01 00:00 UTC),
        )]),
        lint_severities: HashMap::from([("x509-missing-ski".to_string(), Severity::Medium)]),
        ..Inputs::default()
    };
    let now = time::macros::datetime!(2026-11-23 00:00 UTC);
    let f = evaluate_with(&report.assets, &report.relations, &policy, now, &inputs);
    let got: Vec<(&str, Severity, &str)> = f
        .iter()
        .map(|f| (f.rule.as_str(), f.severity, f.asset.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            // 8 days left: high window.
            ("cert-expiring", Severity::High, "crt_leaf"),
            // 326 days is within the 365-day private limit: no cert-validity-too-long.
            // The CA is trusted by the policy: no chain or root findings.
            // The key sits only under tests/: every finding on it is info.
            ("key-unprotected", Severity::Info, "key_leaf"),
            ("key-rotation-overdue", Severity::Info, "key_leaf"),
            ("asset-unowned", Severity::Info, "key_leaf"),
            ("x509-missing-ski", Severity::Info, "crt_leaf"),
        ],
        "{f:#?}"
    );
    let rot = &f[2];
    assert_eq!(rot.evidence["key_kind"], "signature");
    assert_eq!(rot.evidence["age_source"], "first seen");
    // The findings slot into the report and serialise in the contract's shape.
    let mut report = report;
    report.findings = f;
    let j = serde_json::to_value(&report).unwrap();
    assert_eq!(j["findings"][0]["rule"], "cert-expiring");
    assert_eq!(j["findings"][0]["severity"], "high");
    assert_eq!(j["findings"][0]["path"], "deploy/tls.crt");
    assert_eq!(j["findings"][0]["evidence"]["window_days"], "14");
}

#[test]
fn expiry_messages_say_days_in_words() {
    let report: Report = serde_json::from_str(REPORT).unwrap();
    let policy = Policy::from_toml_with(POLICY, "trustmap.toml", &["x509-missing-ski"]).unwrap();
    // crt_leaf's notAfter is 2026-12-01T00:00:00Z.
    let message = |now| {
        evaluate_with(
            &report.assets,
            &report.relations,
            &policy,
            now,
            &Inputs::default(),
        )
        .into_iter()
        .find(|f| f.asset == "crt_leaf" && f.rule.starts_with("cert-expir"))
        .map(|f| f.message)
        .unwrap()
    };
    use time::macros::datetime;
    let cases = [
        (datetime!(2026-11-23 00:00 UTC), "(in 8 days)"),
        (datetime!(2026-11-29 12:00 UTC), "(in 1 day)"),
        (datetime!(2026-11-30 18:00 UTC), "(in less than a day)"),
        (datetime!(2026-12-01 06:00 UTC), "(less than a day ago)"),
        (datetime!(2026-12-02 06:00 UTC), "(1 day ago)"),
        (datetime!(2026-12-05 00:00 UTC), "(4 days ago)"),
    ];
    for (now, tail) in cases {
        let m = message(now);
        assert!(m.ends_with(tail), "at {now}: {m}");
    }
}

/// An expiring certificate (medium: 20 days left) used by `n` nginx servers, under `policy`.
fn expiring_used_by(n: usize, policy: Option<&str>) -> Vec<trustmap_core::Finding> {
    let mut assets = vec![serde_json::json!({"kind": "certificate",
        "certificate": {"not_before": "2025-12-13T00:00:00Z", "not_after": "2026-12-13T00:00:00Z"}})];
    let mut relations = Vec::new();
    for i in 0..n {
        assets.push(serde_json::json!({"kind": "consumer", "consumer": {
            "name": format!("server s{i}.example.com (listen 443)")}}));
        relations.push(
            serde_json::json!({"from": format!("csm_{}", i + 1), "to": "crt_0",
            "type": "uses"}),
        );
    }
    let mut s = serde_json::json!({"assets": assets, "relations": relations});
    if let Some(p) = policy {
        s["policy"] = serde_json::Value::String(p.into());
    }
    trustmap_core::policy::Scenario::from_json(&s.to_string())
        .unwrap()
        .evaluate()
        .into_iter()
        .filter(|f| f.rule == "cert-expiring")
        .collect()
}

#[test]
fn findings_carry_their_reach_and_rise_with_it() {
    let f = &expiring_used_by(0, None)[0];
    assert_eq!(f.severity, Severity::Medium);
    assert!(!f.evidence.contains_key("used_by"));

    let f = &expiring_used_by(2, None)[0];
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.evidence["used_by"], "2");
    assert!(
        f.message.ends_with(
            " (used by 2 consumers: nginx server s0.example.com (listen 443), nginx server s1.example.com (listen 443))"
        ),
        "{}",
        f.message
    );

    let f = &expiring_used_by(3, None)[0];
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.evidence["severity_before_impact"], "medium");

    let f = &expiring_used_by(10, None)[0];
    assert_eq!(f.severity, Severity::Critical);
    assert!(
        f.message.contains("used by 10 consumers: "),
        "{}",
        f.message
    );
    assert!(f.message.ends_with(", ...)"), "{}", f.message);

    // Thresholds from the policy; and off in a policy given with --policy.
    let f = &expiring_used_by(
        2,
        Some("[impact]\nraise_to_critical_at = 2\nraise_by_one_at = 1\n"),
    )[0];
    assert_eq!(f.severity, Severity::Critical);
    let f = &expiring_used_by(10, Some("[impact]\nenabled = false\n"))[0];
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.evidence["used_by"], "10");
}
