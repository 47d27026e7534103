//! `trustmap scan --format cyclonedx|sarif` end to end: the real binary over trees made with
//! openssl, every document validated against the official schemas (copies in
//! `crates/trustmap-export/schemas/`), and SARIF fingerprints that do not change with the
//! directory, the host or the scan.

use crate::common::{generated_token, openssl};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn schemas() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../trustmap-export/schemas")
}

fn load(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(schemas().join(name)).unwrap()).unwrap()
}

/// The CycloneDX schema's references, from the local copies: no network.
struct Local;

impl jsonschema::Retrieve for Local {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        match uri.as_str().rsplit('/').next().unwrap_or_default() {
            n @ ("spdx.schema.json" | "jsf-0.82.schema.json") => Ok(load(n)),
            _ => Err(format!("no local copy of {uri}").into()),
        }
    }
}

fn valid(schema: &'static str, text: &str) -> Value {
    static CDX: OnceLock<jsonschema::Validator> = OnceLock::new();
    static SARIF: OnceLock<jsonschema::Validator> = OnceLock::new();
    let cell = if schema.starts_with("bom") {
        &CDX
    } else {
        &SARIF
    };
    let v = cell.get_or_init(|| {
        jsonschema::options()
            .with_retriever(Local)
            .should_validate_formats(true)
            .build(&load(schema))
            .unwrap()
    });
    let doc: Value = serde_json::from_str(text).expect("JSON output");
    let errors: Vec<String> = v
        .iter_errors(&doc)
        .take(10)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not valid against {schema}:\n{}",
        errors.join("\n")
    );
    doc
}

/// `trustmap scan ROOT --format FORMAT --no-store EXTRA...` run in `cwd`: stdout.
fn scan(cwd: &Path, root: &str, format: &str, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_trustmap"))
        .current_dir(cwd)
        .args(["scan", root, "--format", format, "--no-store"])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A small estate: an RSA 3072 CA, an EC P-256 leaf it signed with its key, an encrypted RSA
/// key, an Ed25519 key, a GitHub token in a .env file. Returns the token.
fn estate(d: &Path) -> String {
    std::fs::create_dir_all(d.join("pki")).unwrap();
    std::fs::create_dir_all(d.join("tls")).unwrap();
    let pki = d.join("pki");
    openssl(
        &pki,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:3072",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "3650",
            "-subj",
            "/CN=Export Test CA",
        ],
    );
    let tls = d.join("tls");
    openssl(
        &tls,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "shop.key",
            "-out",
            "shop.csr",
            "-subj",
            "/CN=shop.example.test",
        ],
    );
    openssl(
        &tls,
        &[
            "x509",
            "-req",
            "-in",
            "shop.csr",
            "-CA",
            "../pki/ca.crt",
            "-CAkey",
            "../pki/ca.key",
            "-CAcreateserial",
            "-out",
            "shop.crt",
            "-days",
            "90",
            "-sha256",
        ],
    );
    std::fs::remove_file(tls.join("shop.csr")).unwrap();
    let _ = std::fs::remove_file(pki.join("ca.srl"));
    openssl(
        &tls,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-aes-256-cbc",
            "-pass",
            "pass:export-test",
            "-out",
            "old.key",
        ],
    );
    openssl(
        &tls,
        &["genpkey", "-algorithm", "ed25519", "-out", "sign.key"],
    );
    let token = format!("ghp_{}", generated_token(36));
    std::fs::write(d.join(".env"), format!("APP=1\nGITHUB_TOKEN={token}\n")).unwrap();
    token
}

fn component<'a>(doc: &'a Value, bom_ref: &str) -> &'a Value {
    doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["bom-ref"] == bom_ref)
        .unwrap_or_else(|| panic!("no component {bom_ref}"))
}

#[test]
fn a_real_tree_as_a_valid_cbom() {
    let dir = tempfile::tempdir().unwrap();
    let token = estate(dir.path());
    let text = scan(dir.path(), ".", "cyclonedx", &[]);
    assert!(
        !text.contains(&token) && !text.contains("ghp_"),
        "a secret in the CBOM"
    );
    let doc = valid("bom-1.6.schema.json", &text);
    let report: Value =
        serde_json::from_str(&scan(dir.path(), ".", "json", &[])).expect("the JSON report");
    let id_of = |path: &str, kind: &str| -> String {
        report["assets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["kind"] == kind && a["occurrences"][0]["path"] == path)
            .unwrap_or_else(|| panic!("{kind} at {path}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // every asset is a component under its id (a secret's id is keyed by the inventory, and
    // each --no-store run has a key of its own: the secret is looked up by place below)
    for a in report["assets"].as_array().unwrap() {
        if a["kind"] == "secret" {
            continue;
        }
        let c = component(&doc, a["id"].as_str().unwrap());
        assert_eq!(
            c["evidence"]["occurrences"].as_array().unwrap().len(),
            a["occurrences"].as_array().unwrap().len()
        );
    }
    // the leaf: DER hash, signed by the CA's RSA 3072 key with SHA-256, an EC P-256 key
    let leaf_id = id_of("tls/shop.crt", "certificate");
    let leaf = component(&doc, &leaf_id);
    let der = report["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == leaf_id.as_str())
        .unwrap()["fingerprint"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    assert_eq!(leaf["hashes"][0]["content"], der.as_str());
    let cp = &leaf["cryptoProperties"]["certificateProperties"];
    assert_eq!(
        cp["signatureAlgorithmRef"],
        "algorithm/RSA-PKCS1-1.5-SHA-256-3072"
    );
    let sig = &component(&doc, "algorithm/RSA-PKCS1-1.5-SHA-256-3072")["cryptoProperties"];
    assert_eq!(sig["algorithmProperties"]["classicalSecurityLevel"], 128);
    assert_eq!(sig["algorithmProperties"]["nistQuantumSecurityLevel"], 0);
    let pk = component(&doc, cp["subjectPublicKeyRef"].as_str().unwrap());
    assert_eq!(
        pk["cryptoProperties"]["relatedCryptoMaterialProperties"]["algorithmRef"],
        "algorithm/ECDSA-P-256"
    );
    // keys reference their algorithm; the encrypted one says how it is protected
    let key = component(&doc, &id_of("tls/shop.key", "private-key"));
    assert_eq!(
        key["cryptoProperties"]["relatedCryptoMaterialProperties"]["algorithmRef"],
        "algorithm/ECDSA-P-256"
    );
    let old = &component(&doc, &id_of("tls/old.key", "private-key"))["cryptoProperties"]["relatedCryptoMaterialProperties"];
    assert!(
        old["securedBy"]["mechanism"]
            .as_str()
            .unwrap()
            .contains("AES-256")
    );
    let ed = component(&doc, &id_of("tls/sign.key", "private-key"));
    assert_eq!(
        ed["cryptoProperties"]["relatedCryptoMaterialProperties"]["algorithmRef"],
        "algorithm/Ed25519"
    );
    // the token: a related crypto material of type token, at its line
    let sec = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["evidence"]["occurrences"][0]["location"] == ".env")
        .expect("the token is a component");
    assert!(sec["bom-ref"].as_str().unwrap().starts_with("sec_"));
    assert_eq!(sec["name"], "GitHub github-pat-classic");
    assert_eq!(
        sec["cryptoProperties"]["relatedCryptoMaterialProperties"]["type"],
        "token"
    );
    assert_eq!(sec["evidence"]["occurrences"][0]["line"], 2);
}

/// (ruleId, primaryLocationLineHash, uri) of every result, sorted.
fn alerts(doc: &Value) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap().to_string(),
                r["partialFingerprints"]["primaryLocationLineHash"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn sarif_fingerprints_survive_another_root_host_and_scan() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let repo_a = a.path().join("checkout");
    let repo_b = b.path().join("elsewhere/deeper/repo");
    std::fs::create_dir_all(&repo_a).unwrap();
    estate(&repo_a);
    std::fs::create_dir_all(repo_b.parent().unwrap()).unwrap();
    let st = Command::new("cp")
        .args(["-a", repo_a.to_str().unwrap(), repo_b.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(st.success());

    let one = valid(
        "sarif-schema-2.1.0.json",
        &scan(
            a.path(),
            repo_a.to_str().unwrap(),
            "sarif",
            &["--host", "ci-1"],
        ),
    );
    let two = valid(
        "sarif-schema-2.1.0.json",
        &scan(
            b.path(),
            repo_b.to_str().unwrap(),
            "sarif",
            &["--host", "laptop"],
        ),
    );
    // from inside the checkout, as the GitHub workflow runs it
    let three = valid("sarif-schema-2.1.0.json", &scan(&repo_b, ".", "sarif", &[]));
    let first = alerts(&one);
    assert!(
        first
            .iter()
            .any(|(r, _, u)| r == "secret-plaintext" && u == ".env"),
        "{first:?}"
    );
    assert!(
        first
            .iter()
            .any(|(r, _, u)| r == "key-unprotected" && u == "tls/shop.key")
    );
    assert_eq!(first, alerts(&two));
    assert_eq!(first, alerts(&three));
    // the scans differ, the alerts do not
    assert_ne!(
        one["runs"][0]["automationDetails"]["id"],
        two["runs"][0]["automationDetails"]["id"]
    );
    // a subdirectory scanned from the checkout keeps repository-relative paths, and the
    // findings both scans raise (without the CA, the chain is incomplete) are the same alerts
    let sub = alerts(&valid(
        "sarif-schema-2.1.0.json",
        &scan(&repo_b, "tls", "sarif", &[]),
    ));
    assert!(sub.iter().all(|(_, _, u)| u.starts_with("tls/")), "{sub:?}");
    let mut shared = 0;
    for (rule, fp, uri) in &sub {
        if let Some(full) = first.iter().find(|(r, _, u)| r == rule && u == uri) {
            assert_eq!(&full.1, fp, "{rule} {uri}");
            shared += 1;
        }
    }
    assert!(shared >= 5, "{sub:?}");
}

#[test]
fn a_hostile_subject_is_escaped_in_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    openssl(
        dir.path(),
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
            "3650",
            "-utf8",
            "-subj",
            "/CN=evil\u{1b}[31m\u{7}<script>alert(1)<\\/script>\u{202e}",
        ],
    );
    for (format, schema) in [
        ("cyclonedx", "bom-1.6.schema.json"),
        ("sarif", "sarif-schema-2.1.0.json"),
    ] {
        let text = scan(dir.path(), ".", format, &[]);
        assert!(
            !text.contains('<') && !text.contains('>'),
            "{format}: raw markup"
        );
        assert!(
            text.chars().all(|c| c == '\n' || !c.is_control()) && !text.contains('\u{202e}'),
            "{format}: raw control characters"
        );
        let doc = valid(schema, &text);
        if format == "cyclonedx" {
            let cert = doc["components"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["cryptoProperties"]["assetType"] == "certificate")
                .unwrap();
            let subject = cert["cryptoProperties"]["certificateProperties"]["subjectName"]
                .as_str()
                .unwrap();
            assert!(subject.contains("\u{1b}[31m\u{7}") && subject.contains("script"));
            assert!(cert["name"].as_str().unwrap().contains("<script>"));
        } else {
            let messages: Vec<&str> = doc["runs"][0]["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["message"]["text"].as_str().unwrap())
                .collect();
            assert!(
                messages
                    .iter()
                    .any(|m| m.contains("evil\\u{1b}[31m\\u{7}<script>")),
                "{messages:?}"
            );
        }
    }
}
