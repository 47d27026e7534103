//! Shared by the export tests: the schema validators, GitHub's SARIF upload requirements as
//! checks, and a hand-built report with one asset of every kind.

use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::OnceLock;
use trustmap_core::Report;
use trustmap_export::Context;

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(schema_dir().join(name)).expect("schema file");
    serde_json::from_str(&text).expect("schema JSON")
}

/// Serves the schemas the CycloneDX schema refers to from `schemas/`: no network.
struct Local;

impl jsonschema::Retrieve for Local {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.as_str().rsplit('/').next().unwrap_or_default();
        match name {
            "spdx.schema.json" | "jsf-0.82.schema.json" => Ok(load(name)),
            _ => Err(format!("no local copy of {uri}").into()),
        }
    }
}

fn validator(name: &str) -> jsonschema::Validator {
    jsonschema::options()
        .with_retriever(Local)
        .should_validate_formats(true)
        .build(&load(name))
        .expect("the schema compiles")
}

/// Panics with every schema error when `doc` is not valid against `schema`.
fn validate(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .take(20)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} is not schema-valid:\n{}",
        errors.join("\n")
    );
}

/// Parses a CycloneDX document and validates it against the CycloneDX 1.6 schema.
pub fn valid_cyclonedx(text: &str) -> Value {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    let doc: Value = serde_json::from_str(text).expect("CycloneDX output is JSON");
    validate(
        V.get_or_init(|| validator("bom-1.6.schema.json")),
        &doc,
        "the CBOM",
    );
    doc
}

/// Parses a SARIF log, validates it against the SARIF 2.1.0 schema and checks GitHub code
/// scanning's documented upload requirements.
pub fn valid_sarif(text: &str) -> Value {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    let doc: Value = serde_json::from_str(text).expect("SARIF output is JSON");
    validate(
        V.get_or_init(|| validator("sarif-schema-2.1.0.json")),
        &doc,
        "the SARIF log",
    );
    github_ready(text, &doc);
    doc
}

/// GitHub code scanning's requirements for an uploaded SARIF file (docs: "SARIF support for
/// code scanning"; upload limits).
pub fn github_ready(text: &str, doc: &Value) {
    assert_eq!(doc["version"], "2.1.0");
    assert!(
        doc["$schema"]
            .as_str()
            .unwrap()
            .contains("sarif-schema-2.1.0")
    );
    assert!(
        trustmap_export::sarif::gzip_len(text) <= 10_000_000,
        "over 10 MB gzipped"
    );
    let runs = doc["runs"].as_array().unwrap();
    assert!(!runs.is_empty() && runs.len() <= 20);
    for run in runs {
        assert!(!run["tool"]["driver"]["name"].as_str().unwrap().is_empty());
        assert!(
            run["automationDetails"]["id"]
                .as_str()
                .is_some_and(|id| id.contains('/')),
            "runAutomationDetails.id with a category"
        );
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let mut ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "rule ids are unique within a run");
        for r in rules {
            for d in ["shortDescription", "fullDescription"] {
                let t = r[d]["text"].as_str().unwrap();
                assert!(
                    !t.is_empty() && t.chars().count() <= 1000,
                    "{d} of {}",
                    r["id"]
                );
            }
            assert!(!r["help"]["text"].as_str().unwrap().is_empty());
            assert!(!r["help"]["markdown"].as_str().unwrap().is_empty());
            let tags = r["properties"]["tags"].as_array().unwrap();
            assert!(tags.len() <= 20);
            if tags.iter().any(|t| t == "security") {
                let s: f64 = r["properties"]["security-severity"]
                    .as_str()
                    .expect("security-severity is a string")
                    .parse()
                    .unwrap();
                assert!((0.0..=10.0).contains(&s));
            }
        }
        let results = run["results"].as_array().unwrap();
        assert!(results.len() <= 25_000);
        for res in results {
            let id = res["ruleId"].as_str().unwrap();
            let i = res["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], id, "ruleIndex points at the rule");
            assert!(!res["message"]["text"].as_str().unwrap().is_empty());
            let locs = res["locations"].as_array().unwrap();
            assert!(!locs.is_empty() && locs.len() <= 10);
            let phys = &locs[0]["physicalLocation"];
            let uri = phys["artifactLocation"]["uri"].as_str().unwrap();
            assert!(
                !uri.starts_with('/') && !uri.contains("://"),
                "relative: {uri}"
            );
            assert!(phys["region"]["startLine"].as_u64().unwrap() >= 1);
            assert!(
                res["partialFingerprints"]["primaryLocationLineHash"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty())
            );
        }
    }
}

pub fn ctx() -> Context {
    Context {
        now: time::macros::datetime!(2026-12-01 00:00:00 UTC),
        version: "0.1.0".into(),
    }
}

/// A certificate asset as the JSON contract has it.
pub fn cert(
    id: &str,
    subject: &str,
    path: &str,
    key: Value,
    sig: (&str, &str, Option<&str>),
) -> Value {
    json!({
        "id": id, "kind": "certificate", "fingerprint": format!("sha256:{}{}", &id[4..], "0".repeat(48)),
        "occurrences": [{"path": path, "line": 1, "offset": 0, "container": null, "root": "/srv/a/repo"}],
        "certificate": {
            "subject": subject, "issuer": "CN=Example CA", "serial": "01ab",
            "not_before": "2026-01-01T00:00:00Z", "not_after": "2027-01-01T00:00:00Z",
            "sans": ["DNS:shop.example.test"], "is_ca": false, "self_signed": false,
            "signature_verified": null, "signature_algorithm": sig.0,
            "signature_algorithm_oid": sig.1, "signature_hash": sig.2,
            "public_key": key, "version": 3, "subject_cn": "shop.example.test"
        }
    })
}

pub fn ec_key(spki: &str) -> Value {
    json!({"algorithm": "EC", "bits": 256, "curve": "P-256", "format": "spki",
           "encrypted": null, "spki_sha256": spki})
}

pub fn rsa_key(bits: u32, spki: &str) -> Value {
    json!({"algorithm": "RSA", "bits": bits, "curve": null, "format": "spki",
           "encrypted": null, "spki_sha256": spki})
}

fn finding(
    rule: &str,
    severity: &str,
    asset: &str,
    path: Option<&str>,
    line: Option<u64>,
    message: &str,
) -> Value {
    json!({"rule": rule, "severity": severity, "asset": asset, "path": path, "line": line,
           "message": message, "frameworks": ["NIST-CSF-2.0:PR.AA-01"]})
}

/// One asset of every kind, a CA that issued the leaf, a key of the leaf, and findings of
/// every sort: built-in, raised by policy, X.509 lint, Rego, waived, baselined, endpoint.
pub fn estate() -> Value {
    let spki_leaf = "1".repeat(64);
    let spki_ca = "2".repeat(64);
    let mut ca = cert(
        "crt_ca00000000000000",
        "CN=Example CA",
        "pki/ca.crt",
        rsa_key(3072, &spki_ca),
        (
            "sha256WithRSAEncryption",
            "1.2.840.113549.1.1.11",
            Some("SHA-256"),
        ),
    );
    ca["certificate"]["self_signed"] = json!(true);
    ca["certificate"]["is_ca"] = json!(true);
    ca["certificate"]["subject_cn"] = json!("Example CA");
    let mut leaf = cert(
        "crt_1eaf000000000000",
        "CN=shop.example.test",
        "tls/shop.crt",
        ec_key(&spki_leaf),
        (
            "sha256WithRSAEncryption",
            "1.2.840.113549.1.1.11",
            Some("SHA-256"),
        ),
    );
    leaf["certificate"]["lints"] = json!(["x509-serial-low-entropy"]);
    leaf["occurrences"].as_array_mut().unwrap().push(
        json!({"path": "bundle/app.p12", "line": null, "offset": null,
                     "container": "keystore entry 'shop'", "root": "/srv/a/repo"}),
    );
    json!({
        "tool": {"name": "trustmap", "version": "0.1.0"},
        "scan": {"id": "42", "started_at": "2026-12-01T00:00:00Z", "roots": ["/srv/a/repo"],
                 "host": "build-7", "files_scanned": 9, "bytes_scanned": 9000, "duration_ms": 12,
                 "policy": null, "policy_ignored": [], "excluded": 0},
        "assets": [
            ca, leaf,
            {"id": "key_1111111111111111", "kind": "private-key", "fingerprint": format!("sha256:{spki_leaf}"),
             "occurrences": [{"path": "tls/shop.key", "line": 1, "offset": 0, "container": null, "root": "/srv/a/repo"}],
             "key": {"algorithm": "EC", "bits": 256, "curve": "P-256", "format": "pkcs8", "encrypted": false, "spki_sha256": spki_leaf}},
            {"id": "key_3333333333333333", "kind": "private-key", "fingerprint": format!("sha256:{}", "3".repeat(64)),
             "occurrences": [{"path": "tls/old.key", "line": 1, "offset": 0, "container": null, "root": "/srv/a/repo"}],
             "key": {"algorithm": "RSA", "bits": 1024, "curve": null, "format": "pkcs8-encrypted", "encrypted": true,
                     "encryption": "PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC)", "spki_sha256": "3".repeat(64)}},
            {"id": "pub_4444444444444444", "kind": "public-key", "fingerprint": format!("sha256:{}", "4".repeat(64)),
             "occurrences": [{"path": "ssh/authorized_keys", "line": 3, "offset": 120, "container": null, "root": "/srv/a/repo"}],
             "key": {"algorithm": "Ed25519", "bits": 256, "curve": null, "format": "ssh", "encrypted": null,
                     "spki_sha256": "4".repeat(64), "ssh_fingerprint": "SHA256:abc"}},
            {"id": "kst_5555555555555555", "kind": "keystore", "fingerprint": format!("sha256:{}", "5".repeat(64)),
             "occurrences": [{"path": "bundle/app.p12", "line": null, "offset": 0, "container": null, "root": "/srv/a/repo"}],
             "keystore": {"format": "pkcs12", "opened_with": "changeit", "locked": false, "entries": 1,
                          "aliases": ["shop"], "encryption": "PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC)"}},
            {"id": "sec_6666666666666666", "kind": "secret", "fingerprint": format!("sha256:{}", "6".repeat(64)),
             "occurrences": [{"path": "deploy/.env", "line": 4, "offset": 80, "container": null, "root": "/srv/a/repo"}],
             "secret": {"rule": "github-pat-classic", "provider": "GitHub", "redacted": "ghp_…(40 chars)"}},
            {"id": "ept_7777777777777777", "kind": "endpoint", "fingerprint": format!("sha256:{}", "7".repeat(64)),
             "occurrences": [{"path": "shop.example.test:443", "line": null, "container": null, "root": "tls"}],
             "endpoint": {"host": "shop.example.test", "port": 443, "sni": "shop.example.test",
                          "address": "192.0.2.7:443", "protocol": "TLSv1.2",
                          "cipher_suite": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                          "key_exchange_group": "secp256r1", "alpn": "h2", "ocsp_stapled": false,
                          "chain_length": 2, "legacy_protocols": ["TLSv1.0"],
                          "verification": {"trusted": true, "hostname_match": true, "chain_complete": true}}}
        ],
        "relations": [
            {"from": "crt_1eaf000000000000", "to": "crt_ca00000000000000", "type": "issued-by"},
            {"from": "key_1111111111111111", "to": "crt_1eaf000000000000", "type": "key-of"},
            {"from": "kst_5555555555555555", "to": "crt_1eaf000000000000", "type": "contains"},
            {"from": "ept_7777777777777777", "to": "crt_1eaf000000000000", "type": "serves"}
        ],
        "findings": [
            finding("key-unprotected", "critical", "key_1111111111111111", Some("tls/shop.key"), Some(1), "EC P-256 private key stored without a passphrase"),
            finding("key-weak", "high", "key_3333333333333333", Some("tls/old.key"), Some(1), "RSA 1024 is below the 2048-bit minimum"),
            {"rule": "secret-plaintext", "severity": "high", "asset": "sec_6666666666666666", "path": "deploy/.env", "line": 4,
             "message": "GitHub token ghp_…(40 chars) in plaintext", "frameworks": [], "baselined": true},
            finding("keystore-default-password", "high", "kst_5555555555555555", Some("bundle/app.p12"), None, "pkcs12 keystore opens with the default password"),
            {"rule": "cert-wildcard", "severity": "medium", "asset": "crt_1eaf000000000000", "path": "tls/shop.crt", "line": 1,
             "message": "waived one", "frameworks": [],
             "waiver": {"by": "alice", "reason": "appliance", "until": "2027-01-01T00:00:00Z"}},
            finding("x509-serial-low-entropy", "low", "crt_1eaf000000000000", Some("tls/shop.crt"), Some(1),
                    "shop.example.test: The serial number is shorter than 8 octets, so it cannot hold 64 bits of CSPRNG output. (x509-serial-low-entropy)"),
            finding("org-legacy-ca-2027", "high", "crt_ca00000000000000", Some("pki/ca.crt"), Some(1), "replace it before 2027"),
            finding("key-quantum-vulnerable", "critical", "crt_ca00000000000000", Some("pki/ca.crt"), Some(1), "raised by the policy"),
            finding("endpoint-weak-cipher", "high", "ept_7777777777777777", Some("shop.example.test:443"), None, "offers TLS_RSA_WITH_RC4_128_SHA")
        ],
        "errors": []
    })
}

pub fn report(v: &Value) -> Report {
    serde_json::from_value(v.clone()).expect("a report in the JSON contract")
}

/// The validators are strict: a document that breaks the schema (a bad asset type, a
/// level outside the enum) is rejected, so a passing test means something.
#[test]
fn the_validators_reject_invalid_documents() {
    let mut bom: Value = serde_json::from_str(&trustmap_export::cyclonedx::render(
        &report(&estate()),
        &ctx(),
    ))
    .unwrap();
    bom["components"][0]["cryptoProperties"]["assetType"] = json!("keystore");
    let v = validator("bom-1.6.schema.json");
    assert!(!v.is_valid(&bom));
    bom["components"][0]["cryptoProperties"]["assetType"] = json!("algorithm");
    bom["serialNumber"] = json!("urn:uuid:not-a-uuid");
    assert!(!v.is_valid(&bom));

    let mut log: Value =
        serde_json::from_str(&trustmap_export::sarif::render(&report(&estate()), &ctx())).unwrap();
    log["runs"][0]["results"][0]["level"] = json!("critical");
    assert!(!validator("sarif-schema-2.1.0.json").is_valid(&log));
}
